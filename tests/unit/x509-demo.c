/* x509-demo.c: writes a demo PKI with shomei's own code, for checks by independent tools. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "pki/p12.h"
#include "pki-fixture.h"
#include "pki/signer.h"
#include "pki/x509.h"

#define P12_PASSWORD "Ab3dEf7hJk9m"

static int
save(const char *dir, const char *name, const void *data, size_t len)
{
	char path[4096];
	FILE *f;
	int ok;

	if (dir != NULL)
		snprintf(path, sizeof(path), "%s/%s", dir, name);
	else
		snprintf(path, sizeof(path), "%s", name);
	if ((f = fopen(path, "wb")) == NULL)
		return -1;
	ok = fwrite(data, 1, len, f) == len;
	return fclose(f) == 0 && ok ? 0 : -1;
}

static int
save_cert(const char *dir, const char *name, X509 *const *certs, size_t n)
{
	char *all = NULL, *pem = NULL, *grown;
	size_t len = 0, plen;
	int rc = -1;

	for (size_t i = 0; i < n; i++) {
		if (x509_cert_to_pem(certs[i], &pem, &plen) != 0 ||
		    (grown = realloc(all, len + plen + 1)) == NULL)
			goto out;
		all = grown;
		memcpy(all + len, pem, plen + 1);
		len += plen;
		free(pem);
		pem = NULL;
	}
	rc = save(dir, name, all, len);
out:
	free(pem);
	free(all);
	return rc;
}

static int
save_p12(const char *dir, const char *name, EVP_PKEY *k, X509 *x, struct pki *p, enum p12_mode m)
{
	X509 *chain[2] = {p->ca, p->root};
	unsigned char *der = NULL;
	size_t len = 0;
	int rc = -1;

	if (p12_build(k, x, chain, 2, P12_PASSWORD, m, &der, &len) == 0)
		rc = save(dir, name, der, len);
	free(der);
	return rc;
}

/* A signed client certificate with a full Japanese subject. */
static X509 *
client_ja(struct pki *p, EVP_PKEY *k)
{
	struct x509_subject s = {.email = "hanako@example.jp",
				 .cn = "Hanako Suzuki",
				 .ou = {"SYS01", "営業部", "第一課"},
				 .o = "令和証明書サービス株式会社",
				 .c = "JP"};
	struct x509_client c = {.pub = k, .email = s.email, .issuer = p->ca};
	X509_NAME *n = NULL;
	X509 *x = NULL;

	c.not_before = time(NULL) - 60;
	c.not_after = c.not_before + 365 * 86400;
	if (x509_name_build(&s, &n) == 0) {
		c.subject = n;
		if (x509_build_client(&c, &x) == 0 && x509_sign(x, p->ca_key) != 0) {
			X509_free(x);
			x = NULL;
		}
	}
	X509_NAME_free(n);
	return x;
}

static int
save_crls(const char *dir, struct pki *p, X509 *revoked)
{
	char serial[64], *a = NULL, *b = NULL, *both = NULL;
	X509_CRL *ca_crl = NULL, *root_crl = NULL;
	time_t now = time(NULL);
	size_t la = 0, lb = 0;
	int rc = -1;

	x509_serial_hex(X509_get0_serialNumber(revoked), serial, sizeof(serial));
	struct x509_revoked e[] = {{serial, now - 60, CRL_REASON_KEY_COMPROMISE}};
	if (x509_crl_build(p->ca, 2, now - 60, now + 7 * 86400, e, 1, &ca_crl) != 0 ||
	    x509_crl_sign(ca_crl, p->ca_key) != 0 ||
	    x509_crl_build(p->root, 1, now - 60, now + 7 * 86400, NULL, 0, &root_crl) != 0 ||
	    x509_crl_sign(root_crl, p->root_key) != 0 || x509_crl_to_pem(ca_crl, &a, &la) != 0 ||
	    x509_crl_to_pem(root_crl, &b, &lb) != 0 || (both = malloc(la + lb)) == NULL)
		goto out;
	memcpy(both, a, la);
	memcpy(both + la, b, lb);
	if (save(dir, "ca-crl.pem", a, la) == 0 && save(dir, "crls.pem", both, la + lb) == 0)
		rc = 0;
out:
	free(a);
	free(b);
	free(both);
	X509_CRL_free(ca_crl);
	X509_CRL_free(root_crl);
	return rc;
}

static int
save_key(const char *dir, const char *name, EVP_PKEY *k)
{
	char path[4096];
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "wb")) == NULL)
		return -1;
	ok = PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL) == 1;
	return fclose(f) == 0 && ok ? 0 : -1;
}

/* pki DIR KEYTYPE: root, CA, clients, p12s and CRLs into DIR. */
static int
cmd_pki(const char *dir, const char *kts)
{
	enum x509_key_type kt;
	struct pki p;
	EVP_PKEY *k = NULL;
	X509 *good = NULL, *revoked = NULL, *ja = NULL;
	int rc = 1;

	if (x509_key_type_parse(kts, &kt) != 0 || pki_make(&p, kt, "Reiwa Cert Service") != 0)
		return 1;
	if (x509_key_generate(kt, &k) != 0 ||
	    pki_client(&p, k, "Taro Yamada", "taro@example.jp", 365, &good) != 0 ||
	    x509_sign(good, p.ca_key) != 0 ||
	    pki_client(&p, k, "client_000001", NULL, 365, &revoked) != 0 ||
	    x509_sign(revoked, p.ca_key) != 0 || (ja = client_ja(&p, k)) == NULL)
		goto out;
	if (save_cert(dir, "root.pem", &p.root, 1) || save_cert(dir, "ca.pem", &p.ca, 1) ||
	    save_cert(dir, "chain.pem", (X509 *[]){p.ca, p.root}, 2) ||
	    save_cert(dir, "client.pem", &good, 1) || save_cert(dir, "revoked.pem", &revoked, 1) ||
	    save_cert(dir, "ja.pem", &ja, 1) || save_key(dir, "client-key.pem", k) ||
	    save_p12(dir, "client-modern.p12", k, good, &p, P12_MODERN) ||
	    save_p12(dir, "client-compat.p12", k, ja, &p, P12_COMPAT) ||
	    save(dir, "p12.pass", P12_PASSWORD, strlen(P12_PASSWORD)) ||
	    save_crls(dir, &p, revoked))
		goto out;
	rc = 0;
out:
	X509_free(good);
	X509_free(revoked);
	X509_free(ja);
	EVP_PKEY_free(k);
	pki_free(&p);
	return rc;
}

/* sign SOCKET TENANT_ID ISSUER_PEM OUT_PEM: a client certificate signed by a running signer. */
static int
cmd_sign(const char *sock, const char *tenant, const char *issuer_pem, const char *out)
{
	struct pki p = {0};
	EVP_PKEY *k = NULL;
	X509 *x = NULL, *back = NULL;
	unsigned char *der = NULL, *signed_der = NULL;
	size_t len = 0, slen = 0;
	char reason[256];
	FILE *f;
	int rc = 1;

	if ((f = fopen(issuer_pem, "r")) == NULL)
		return 1;
	p.ca = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (p.ca == NULL || x509_key_generate(X509_KEY_P256, &k) != 0 ||
	    pki_client(&p, k, "Signer Demo", "demo@example.jp", 30, &x) != 0 ||
	    x509_placeholder_sign(x) != 0 || x509_cert_to_der(x, &der, &len) != 0)
		goto out;
	rc = signer_request(sock, SIGNER_OP_SIGN_CERT, strtoull(tenant, NULL, 10), der, len,
			    &signed_der, &slen, reason, sizeof(reason));
	if (rc != 0) {
		fprintf(stderr, "x509-demo: signer answered %d: %s\n", rc, reason);
		rc = rc == SIGNER_E_REFUSED ? 3 : 1;
		goto out;
	}
	rc = 1;
	if (x509_cert_from_der(signed_der, slen, &back) != 0 || save_cert(NULL, out, &back, 1) != 0)
		goto out;
	rc = 0;
out:
	free(der);
	free(signed_der);
	X509_free(x);
	X509_free(back);
	X509_free(p.ca);
	EVP_PKEY_free(k);
	return rc;
}

int
main(int argc, char *argv[])
{
	if (argc == 4 && strcmp(argv[1], "pki") == 0)
		return cmd_pki(argv[2], argv[3]);
	if (argc == 6 && strcmp(argv[1], "sign") == 0)
		return cmd_sign(argv[2], argv[3], argv[4], argv[5]);
	fprintf(stderr, "usage: x509-demo pki DIR rsa2048|rsa3072|p256\n"
			"       x509-demo sign SOCKET TENANT_ID ISSUER.pem OUT.pem\n");
	return 2;
}
