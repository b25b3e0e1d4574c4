/* test-signer.c: shomei-signer's server and policy in-process, spoken to through signer_request. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/ocsp.h>
#include <openssl/x509v3.h>

#include "extern.h"
#include "pki-fixture.h"
#include "pki/ocsp.h"
#include "pki/signer.h"
#include "tap.h"

#define MAX_DAYS 397
#define START_DAYS 30

static struct pki tenant, admin, stranger;
static char sockpath[108];

/* tenant 1: its CA; 0: the admin CA (and the root for CRLs); 13: broken; else none. */
static int
lookup(void *arg, enum sca_kind kind, uint64_t tenant_id, struct sca *out)
{
	struct sca ca = {.kind = kind};

	if (tenant_id == 13)
		return -EIO;
	if (kind == SCA_TENANT && tenant_id == 1) {
		ca.id = 3, ca.cert = tenant.ca, ca.key = tenant.ca_key, ca.max_days = MAX_DAYS;
		ca.start_days = START_DAYS;
	} else if (kind == SCA_TENANT && tenant_id == 2) {
		ca.id = 4, ca.cert = stranger.ca, ca.key = stranger.ca_key, ca.max_days = MAX_DAYS;
		ca.start_days = START_DAYS;
	} else if (kind == SCA_ADMIN && tenant_id == 0) {
		ca.id = 2, ca.cert = admin.ca, ca.key = admin.ca_key,
		ca.max_days = SCA_ADMIN_MAX_DAYS;
	} else if (kind == SCA_ROOT && tenant_id == 0) {
		ca.id = 1, ca.cert = admin.root, ca.key = admin.root_key;
	} else {
		return SIGNER_ST_NOCA;
	}
	sca_copy(out, &ca);
	return 0;
}

static void *
run(void *arg)
{
	server_run(arg);
	return NULL;
}

/* Serialize x with a placeholder signature and ask the signer; returns its code. */
static int
ask_cert(uint64_t tenant_id, X509 *x, X509 **signed_out, char *reason, size_t rlen)
{
	unsigned char *der = NULL, *out = NULL;
	size_t len = 0, outlen = 0;
	int rc;

	if (x509_placeholder_sign(x) != 0 || x509_cert_to_der(x, &der, &len) != 0)
		return -999;
	rc = signer_request(sockpath, SIGNER_OP_SIGN_CERT, tenant_id, der, len, &out, &outlen,
			    reason, rlen);
	if (rc == 0 && signed_out != NULL && x509_cert_from_der(out, outlen, signed_out) != 0)
		rc = -998;
	free(der);
	free(out);
	return rc;
}

static X509 *
client(struct pki *p, EVP_PKEY *key, int days)
{
	X509 *x = NULL;

	pki_client(p, key, "Taro Yamada", "taro@example.jp", days, &x);
	return x;
}

static void
test_certs(EVP_PKEY *key)
{
	char reason[256];
	X509 *x, *out = NULL;
	int rc;

	x = client(&tenant, key, 365);
	rc = ask_cert(1, x, &out, reason, sizeof(reason));
	TAP_OK(rc == 0, "good client certificate is signed (%d %s)", rc, reason);
	TAP_OK(out != NULL && X509_verify(out, tenant.ca_key) == 1, "signature is the tenant CA's");
	TAP_OK(out != NULL && X509_cmp(out, x) != 0 &&
		       ASN1_INTEGER_cmp(X509_get0_serialNumber(out), X509_get0_serialNumber(x)) ==
			       0,
	       "only the signature changed");
	X509_free(out);
	X509_free(x);

	/* CA:TRUE */
	X509_NAME *n = NULL;
	pki_name("Rogue CA", "Example", &n);
	x509_build_ca(key, n, tenant.ca, time(NULL), time(NULL) + 86400, &x);
	X509_NAME_free(n);
	rc = ask_cert(1, x, NULL, reason, sizeof(reason));
	TAP_OK(rc == SIGNER_E_REFUSED && strstr(reason, "CA:TRUE"), "CA:TRUE refused: %s", reason);
	X509_free(x);

	/* EKU serverAuth */
	x = client(&tenant, key, 365);
	EXTENDED_KEY_USAGE *eku = sk_ASN1_OBJECT_new_null();
	sk_ASN1_OBJECT_push(eku, OBJ_nid2obj(NID_server_auth));
	X509_add1_ext_i2d(x, NID_ext_key_usage, eku, 0, X509V3_ADD_REPLACE);
	sk_ASN1_OBJECT_free(eku);
	rc = ask_cert(1, x, NULL, reason, sizeof(reason));
	TAP_OK(rc == SIGNER_E_REFUSED && strstr(reason, "serverAuth"), "EKU serverAuth refused: %s",
	       reason);
	X509_free(x);

	/* keyUsage keyCertSign on an end entity */
	x = client(&tenant, key, 365);
	ASN1_BIT_STRING *ku = ASN1_BIT_STRING_new();
	ASN1_BIT_STRING_set_bit(ku, 0, 1);
	ASN1_BIT_STRING_set_bit(ku, 5, 1);
	X509_add1_ext_i2d(x, NID_key_usage, ku, 1, X509V3_ADD_REPLACE);
	ASN1_BIT_STRING_free(ku);
	rc = ask_cert(1, x, NULL, reason, sizeof(reason));
	TAP_OK(rc == SIGNER_E_REFUSED && strstr(reason, "keyCertSign"), "keyCertSign refused: %s",
	       reason);
	X509_free(x);

	/* another CA's certificate sent for tenant 1 */
	x = client(&stranger, key, 365);
	rc = ask_cert(1, x, NULL, reason, sizeof(reason));
	TAP_OK(rc == SIGNER_E_REFUSED && strstr(reason, "issuer"), "wrong issuer refused: %s",
	       reason);
	X509_free(x);

	/* same issuer name as the tenant's CA but another key (a CA impersonating it) */
	struct pki twin;
	pki_make(&twin, X509_KEY_P256, "Reiwa");
	x = client(&twin, key, 365);
	rc = ask_cert(1, x, NULL, reason, sizeof(reason));
	TAP_OK(rc == SIGNER_E_REFUSED && strstr(reason, "authorityKeyIdentifier"),
	       "same-named CA with another key refused: %s", reason);
	X509_free(x);
	pki_free(&twin);

	/* the tenant's certificate sent as tenant 0 (administrator CA) */
	x = client(&tenant, key, 365);
	rc = ask_cert(0, x, NULL, reason, sizeof(reason));
	TAP_OK(rc == SIGNER_E_REFUSED, "tenant certificate refused by the admin CA: %s", reason);
	X509_free(x);

	/* validity */
	x = client(&tenant, key, MAX_DAYS + 1);
	rc = ask_cert(1, x, NULL, reason, sizeof(reason));
	TAP_OK(rc == SIGNER_E_REFUSED && strstr(reason, "exceeds"), "validity too long refused: %s",
	       reason);
	X509_free(x);
	x = client(&tenant, key, MAX_DAYS);
	TAP_OK(ask_cert(1, x, NULL, reason, sizeof(reason)) == 0, "validity at the limit signed");
	X509_free(x);

	/* serial */
	x = client(&tenant, key, 365);
	ASN1_INTEGER *small = ASN1_INTEGER_new();
	ASN1_INTEGER_set(small, 12345);
	X509_set_serialNumber(x, small);
	ASN1_INTEGER_free(small);
	rc = ask_cert(1, x, NULL, reason, sizeof(reason));
	TAP_OK(rc == SIGNER_E_REFUSED && strstr(reason, "64 bits"), "short serial refused: %s",
	       reason);
	X509_free(x);

	/* AKI of another key */
	x = client(&tenant, key, 365);
	AUTHORITY_KEYID *akid = AUTHORITY_KEYID_new();
	akid->keyid = ASN1_OCTET_STRING_dup(X509_get0_subject_key_id(stranger.ca));
	X509_add1_ext_i2d(x, NID_authority_key_identifier, akid, 0, X509V3_ADD_REPLACE);
	AUTHORITY_KEYID_free(akid);
	rc = ask_cert(1, x, NULL, reason, sizeof(reason));
	TAP_OK(rc == SIGNER_E_REFUSED && strstr(reason, "authorityKeyIdentifier"),
	       "foreign AKI refused: %s", reason);
	X509_free(x);

	/* an extension outside the list */
	x = client(&tenant, key, 365);
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, NULL, NID_netscape_comment, "hello");
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	rc = ask_cert(1, x, NULL, reason, sizeof(reason));
	TAP_OK(rc == SIGNER_E_REFUSED && strstr(reason, "not allowed"),
	       "unknown extension refused: %s", reason);
	X509_free(x);

	/* the tenant's CRL distribution point and OCSP responder are allowed */
	{
		struct x509_subject sj = {
			.cn = "client_000001", .ou = {"demo"}, .o = "Reiwa", .c = "JP"};
		struct x509_client cc = {.pub = key,
					 .issuer = tenant.ca,
					 .crl_url = "http://localhost:8080/crl/demo.1.crl",
					 .ocsp_url = "https://localhost:8443/ocsp"};
		X509_NAME *nm = NULL;
		x509_name_build(&sj, &nm);
		cc.subject = nm, cc.not_before = time(NULL) - 60,
		cc.not_after = time(NULL) + 365 * 86400;
		x = NULL;
		x509_build_client(&cc, &x);
		rc = ask_cert(1, x, NULL, reason, sizeof(reason));
		TAP_OK(rc == 0, "CRL DP and OCSP AIA signed (%d %s)", rc, reason);
		X509_free(x);
		X509_NAME_free(nm);
	}

	/* AIA caIssuers (only OCSP is allowed) */
	x = client(&tenant, key, 365);
	ext = X509V3_EXT_conf_nid(NULL, NULL, NID_info_access, "caIssuers;URI:http://x.example/ca");
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	rc = ask_cert(1, x, NULL, reason, sizeof(reason));
	TAP_OK(rc == SIGNER_E_REFUSED && strstr(reason, "authorityInfoAccess"),
	       "AIA caIssuers refused: %s", reason);
	X509_free(x);

	/* OCSP at a non-http location */
	x = client(&tenant, key, 365);
	ext = X509V3_EXT_conf_nid(NULL, NULL, NID_info_access, "OCSP;URI:ldap://x.example/ocsp");
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	rc = ask_cert(1, x, NULL, reason, sizeof(reason));
	TAP_OK(rc == SIGNER_E_REFUSED && strstr(reason, "authorityInfoAccess"),
	       "AIA OCSP at ldap: refused: %s", reason);
	X509_free(x);

	/* CRL DP naming a directory, not a URI */
	x = client(&tenant, key, 365);
	ext = X509V3_EXT_conf_nid(NULL, NULL, NID_crl_distribution_points, "email:crl@x.example");
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	rc = ask_cert(1, x, NULL, reason, sizeof(reason));
	TAP_OK(rc == SIGNER_E_REFUSED && strstr(reason, "cRLDistributionPoints"),
	       "CRL DP without a URI refused: %s", reason);
	X509_free(x);

	/* administrator certificates are signed by shomeictl's ceremony, never through the socket
	 */
	x = client(&admin, key, 730);
	rc = ask_cert(0, x, NULL, reason, sizeof(reason));
	TAP_OK(rc == SIGNER_E_REFUSED && strstr(reason, "tenant's CA only"),
	       "no certificate is signed with the administrator CA over the socket: %s", reason);
	X509_free(x);

	/* the tenant's allowance for a validity that starts ahead */
	x = client(&tenant, key, 30);
	X509_gmtime_adj(X509_getm_notBefore(x), (long)(START_DAYS - 1) * 86400);
	X509_gmtime_adj(X509_getm_notAfter(x), (long)(START_DAYS + 29) * 86400);
	TAP_OK(ask_cert(1, x, NULL, reason, sizeof(reason)) == 0,
	       "notBefore %d days ahead, within the allowance: signed (%s)", START_DAYS - 1,
	       reason);
	X509_free(x);
	x = client(&tenant, key, 30);
	X509_gmtime_adj(X509_getm_notBefore(x), (long)(START_DAYS + 1) * 86400);
	X509_gmtime_adj(X509_getm_notAfter(x), (long)(START_DAYS + 31) * 86400);
	rc = ask_cert(1, x, NULL, reason, sizeof(reason));
	TAP_OK(rc == SIGNER_E_REFUSED && strstr(reason, "ahead"),
	       "notBefore %d days ahead, past the allowance: refused: %s", START_DAYS + 1, reason);
	X509_free(x);
}

static void
test_errors(EVP_PKEY *key)
{
	unsigned char *out = NULL;
	size_t outlen = 0;
	char reason[256];
	X509 *x;
	int rc;

	rc = signer_request(sockpath, SIGNER_OP_PING, 0, NULL, 0, &out, &outlen, reason,
			    sizeof(reason));
	TAP_OK(rc == 0 && out == NULL && outlen == 0, "PING answers");
	x = client(&tenant, key, 365);
	rc = ask_cert(99, x, NULL, reason, sizeof(reason));
	TAP_OK(rc == SIGNER_E_REFUSED && strstr(reason, "no active CA"), "unknown tenant: %s",
	       reason);
	rc = ask_cert(13, x, NULL, reason, sizeof(reason));
	TAP_OK(rc == -EAGAIN, "CA store failure: -EAGAIN (%s)", reason);
	X509_free(x);
	rc = signer_request(sockpath, SIGNER_OP_SIGN_CERT, 1, (const unsigned char *)"junk", 4,
			    &out, &outlen, reason, sizeof(reason));
	TAP_OK(rc == SIGNER_E_REFUSED && strstr(reason, "DER"), "garbage refused: %s", reason);
	rc = signer_request(sockpath, 77, 1, NULL, 0, &out, &outlen, reason, sizeof(reason));
	TAP_OK(rc == SIGNER_E_REFUSED && strstr(reason, "unknown op"), "unknown op: %s", reason);
	rc = signer_request(sockpath, SIGNER_OP_SIGN_CERT, 1, NULL, SIGNER_MAX_FRAME, &out, &outlen,
			    reason, sizeof(reason));
	TAP_OK(rc == -EMSGSIZE, "client refuses a frame over SIGNER_MAX_FRAME (%d MiB)",
	       SIGNER_MAX_FRAME >> 20);
	rc = signer_request("/nonexistent/signer.sock", SIGNER_OP_PING, 0, NULL, 0, &out, &outlen,
			    reason, sizeof(reason));
	TAP_OK(rc == -ENOENT, "no socket: -ENOENT");
}

/* store_limits stand-in: tenant 1's limits as the test sets them; 13: broken; else gone. */
static int limit_days = MAX_DAYS;

static int
limits(void *arg, uint64_t tenant_id, struct sca *ca)
{
	(void)arg;
	if (tenant_id == 13)
		return -EIO;
	if (tenant_id != 1)
		return SIGNER_ST_NOCA;
	ca->max_days = limit_days;
	ca->start_days = START_DAYS;
	return 0;
}

/* SIGN_CERT takes the tenant's limits as they are now, not as the CA lookup found them. */
static void
test_limits(struct server *s, EVP_PKEY *key)
{
	char reason[256];
	X509 *x = client(&tenant, key, 365), *y = client(&stranger, key, 10);
	int rc;

	s->limits = limits;
	limit_days = MAX_DAYS;
	rc = ask_cert(1, x, NULL, reason, sizeof(reason));
	TAP_OK(rc == 0, "365 days within the tenant's %d: signed (%d %s)", MAX_DAYS, rc, reason);
	limit_days = 30;
	rc = ask_cert(1, x, NULL, reason, sizeof(reason));
	TAP_OK(rc == SIGNER_E_REFUSED && strstr(reason, "limit of 30 days"),
	       "the limit lowered to 30: the next one is refused at once: %s", reason);
	rc = ask_cert(2, y, NULL, reason, sizeof(reason));
	TAP_OK(rc == SIGNER_E_REFUSED && strstr(reason, "no such tenant"),
	       "a CA whose tenant is gone signs nothing: %s", reason);
	s->limits = NULL;
	X509_free(x);
	X509_free(y);
}

/* A kept connection serves many requests, and comes back by itself after the signer hung up. */
static void
test_kept_connection(void)
{
	struct signer_conn c;
	unsigned char *out = NULL;
	size_t outlen = 0;
	char reason[256];
	int sv[2], first, rc;

	signer_conn_init(&c, sockpath);
	rc = signer_call(&c, SIGNER_OP_PING, 0, NULL, 0, &out, &outlen, reason, sizeof(reason));
	first = c.fd;
	TAP_OK(rc == 0 && first >= 0, "kept connection: the first call connects");
	rc = signer_call(&c, SIGNER_OP_PING, 0, NULL, 0, &out, &outlen, reason, sizeof(reason));
	TAP_OK(rc == 0 && c.fd == first, "kept connection: the second call reuses it");
	/* stand in a connection whose far end is gone, as after the signer's idle timeout */
	TAP_OK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0, "socketpair");
	close(sv[1]);
	signer_conn_close(&c);
	c.fd = sv[0];
	rc = signer_call(&c, SIGNER_OP_PING, 0, NULL, 0, &out, &outlen, reason, sizeof(reason));
	TAP_OK(rc == 0 && c.fd >= 0,
	       "kept connection: a dead one is replaced and the call answered");
	rc = signer_call(&c, SIGNER_OP_SIGN_CERT, 1, (const unsigned char *)"junk", 4, &out,
			 &outlen, reason, sizeof(reason));
	TAP_OK(rc == SIGNER_E_REFUSED && strstr(reason, "DER"),
	       "kept connection: a refusal comes through as for one-shot requests");
	signer_conn_close(&c);
	TAP_OK(c.fd == -1, "kept connection: closed");
}

/* A raw frame header announcing 2 MiB: the server hangs up without reading it. */
static void
test_oversized(void)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	unsigned char hdr[4] = {0, 0x20, 0, 0}, buf[8];
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	ssize_t n = -1;

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", sockpath);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0 &&
	    write(fd, hdr, 4) == 4)
		n = read(fd, buf, sizeof(buf));
	TAP_OK(n == 0, "server closes a connection announcing an oversized frame");
	if (fd >= 0)
		close(fd);
}

static int
ask_crl(uint64_t tenant_id, X509_CRL *crl, X509_CRL **signed_out, char *reason, size_t rlen)
{
	unsigned char *der = NULL, *out = NULL;
	size_t len = 0, outlen = 0;
	int rc;

	if (x509_crl_placeholder_sign(crl) != 0 || x509_crl_to_der(crl, &der, &len) != 0)
		return -999;
	rc = signer_request(sockpath, SIGNER_OP_SIGN_CRL, tenant_id, der, len, &out, &outlen,
			    reason, rlen);
	if (rc == 0 && signed_out != NULL && x509_crl_from_der(out, outlen, signed_out) != 0)
		rc = -998;
	free(der);
	free(out);
	return rc;
}

/* A tenant's CRL: signed only as that tenant, and only with the reasons a client CA may give. */
static void
test_tenant_crls(time_t now)
{
	static const struct {
		int reason;
		int ok;
	} cases[] = {{-1, 1}, {1, 1}, {3, 1}, {4, 1}, {5, 1}, {9, 1},
		     {2, 0},  {6, 0}, {7, 0}, {8, 0}, {10, 0}};
	X509_CRL *crl = NULL;
	char reason[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct x509_revoked e[] = {
			{"4a5b6c7d8e9f0a1b2c3d4e5f60718293", now - 60, cases[i].reason},
			{"1122334455667788", now - 30, -1}};
		x509_crl_build(tenant.ca, 20, now, now + 86400, e, 2, &crl);
		TAP_OK((ask_crl(1, crl, NULL, reason, sizeof(reason)) == 0) == cases[i].ok,
		       "tenant CRL with reason %d %s", cases[i].reason,
		       cases[i].ok ? "signed" : "refused");
		X509_CRL_free(crl);
		crl = NULL;
	}
	x509_crl_build(tenant.ca, 21, now, now + 86400, NULL, 0, &crl);
	TAP_OK(ask_crl(2, crl, NULL, reason, sizeof(reason)) == SIGNER_E_REFUSED,
	       "tenant 1's CRL refused when asked as tenant 2: %s", reason);
	X509_CRL_free(crl);
	crl = NULL;
	x509_crl_build(stranger.ca, 1, now, now + 86400, NULL, 0, &crl);
	TAP_OK(ask_crl(1, crl, NULL, reason, sizeof(reason)) == SIGNER_E_REFUSED,
	       "tenant 2's CRL refused when asked as tenant 1: %s", reason);
	X509_CRL_free(crl);
}

static void
test_crls(void)
{
	struct x509_revoked e[] = {{"4a5b6c7d8e9f0a1b2c3d4e5f60718293", time(NULL) - 60, 1}};
	X509_CRL *crl = NULL, *out = NULL;
	time_t now = time(NULL);
	char reason[256];

	x509_crl_build(tenant.ca, 7, now, now + 86400, e, 1, &crl);
	TAP_OK(ask_crl(1, crl, &out, reason, sizeof(reason)) == 0 && out != NULL &&
		       X509_CRL_verify(out, tenant.ca_key) == 1,
	       "tenant CRL signed by the tenant CA");
	X509_CRL_free(out);
	out = NULL;
	TAP_OK(ask_crl(0, crl, NULL, reason, sizeof(reason)) == SIGNER_E_REFUSED,
	       "tenant CRL refused as tenant 0: %s", reason);
	X509_CRL_free(crl);
	crl = NULL;
	x509_crl_build(admin.ca, 1, now, now + 7 * 86400, NULL, 0, &crl);
	TAP_OK(ask_crl(0, crl, &out, reason, sizeof(reason)) == 0 && out != NULL &&
		       X509_CRL_verify(out, admin.ca_key) == 1,
	       "admin CA CRL signed");
	X509_CRL_free(out);
	out = NULL;
	X509_CRL_free(crl);
	crl = NULL;
	x509_crl_build(admin.root, 1, now, now + 7 * 86400, NULL, 0, &crl);
	TAP_OK(ask_crl(0, crl, &out, reason, sizeof(reason)) == 0 && out != NULL &&
		       X509_CRL_verify(out, admin.root_key) == 1,
	       "root CRL signed through tenant 0");
	X509_CRL_free(out);
	out = NULL;
	TAP_OK(ask_crl(1, crl, NULL, reason, sizeof(reason)) == SIGNER_E_REFUSED,
	       "root CRL refused for a tenant: %s", reason);
	X509_CRL_free(crl);
	crl = NULL;
	test_tenant_crls(now);
	x509_crl_build(tenant.ca, 8, now, now + 400 * 86400, NULL, 0, &crl);
	TAP_OK(ask_crl(1, crl, NULL, reason, sizeof(reason)) == SIGNER_E_REFUSED &&
		       strstr(reason, "nextUpdate"),
	       "CRL nextUpdate too far refused: %s", reason);
	X509_CRL_free(crl);

	/* thisUpdate must be now, give or take the tolerated skew */
	static const struct {
		long off;
		int ok;
	} when[] = {{-POLICY_SKEW_SECONDS - 60, 0},
		    {-POLICY_SKEW_SECONDS + 60, 1},
		    {POLICY_SKEW_SECONDS - 60, 1},
		    {POLICY_SKEW_SECONDS + 60, 0},
		    {-86400, 0},
		    {86400 * 3, 0}};
	for (size_t i = 0; i < sizeof(when) / sizeof(when[0]); i++) {
		crl = NULL;
		x509_crl_build(tenant.ca, 9 + (long)i, now + when[i].off,
			       now + when[i].off + 7 * 86400, NULL, 0, &crl);
		int rc = ask_crl(1, crl, NULL, reason, sizeof(reason));
		TAP_OK(when[i].ok
			       ? rc == 0
			       : rc == SIGNER_E_REFUSED && strstr(reason, "thisUpdate is not now"),
		       "CRL thisUpdate %+ld s from now: %s (%s)", when[i].off,
		       when[i].ok ? "signed" : "refused", reason);
		X509_CRL_free(crl);
	}
}

/* Build a basic response about serial of issuer saying s, ask the signer as tenant_id. */
static int
ask_ocsp(uint64_t tenant_id, X509 *issuer, const char *serial, const struct ocsp_single *s,
	 OCSP_BASICRESP **signed_out, char *reason, size_t rlen)
{
	unsigned char *der = NULL, *out = NULL;
	const unsigned char *p;
	OCSP_CERTID *id = NULL;
	size_t len = 0, outlen = 0;
	int rc;

	if (ocsp_id_make(issuer, serial, &id) != 0 || ocsp_basic_build(id, s, &der, &len) != 0) {
		OCSP_CERTID_free(id);
		return -999;
	}
	rc = signer_request(sockpath, SIGNER_OP_SIGN_OCSP, tenant_id, der, len, &out, &outlen,
			    reason, rlen);
	p = out;
	if (rc == 0 && signed_out != NULL &&
	    (*signed_out = d2i_OCSP_BASICRESP(NULL, &p, (long)outlen)) == NULL)
		rc = -998;
	OCSP_CERTID_free(id);
	free(der);
	free(out);
	return rc;
}

/* 1 when bs verifies with the CA's key and names it by key hash, no certificates inside. */
static int
ocsp_signed_by(OCSP_BASICRESP *bs, X509 *ca)
{
	STACK_OF(X509) *certs = sk_X509_new_null();
	X509_STORE *st = X509_STORE_new();
	const ASN1_OCTET_STRING *kid = NULL;
	const X509_NAME *name = NULL;
	const ASN1_BIT_STRING *bits = X509_get0_pubkey_bitstr(ca);
	unsigned char md[SHA_DIGEST_LENGTH];
	int ok;

	sk_X509_push(certs, ca);
	ok = OCSP_basic_verify(bs, certs, st, OCSP_TRUSTOTHER) == 1 &&
	     OCSP_resp_get0_id(bs, &kid, &name) == 1 && kid != NULL && name == NULL &&
	     EVP_Digest(ASN1_STRING_get0_data(bits), (size_t)ASN1_STRING_length(bits), md, NULL,
			EVP_sha1(), NULL) == 1 &&
	     ASN1_STRING_length(kid) == SHA_DIGEST_LENGTH &&
	     memcmp(ASN1_STRING_get0_data(kid), md, SHA_DIGEST_LENGTH) == 0 &&
	     sk_X509_num(OCSP_resp_get0_certs(bs)) <= 0; /* -1: none at all */
	sk_X509_free(certs);
	X509_STORE_free(st);
	return ok;
}

/* SIGN_OCSP: the tenant's own CA, statuses and reasons it may give, times now, short life. */
static void
test_ocsp(void)
{
	static const char serial[] = "4a5b6c7d8e9f0a1b2c3d4e5f60718293";
	time_t now = time(NULL);
	struct ocsp_single good = {OCSP_ST_GOOD, 0, -1, now, now + 86400};
	struct ocsp_single s;
	OCSP_BASICRESP *bs = NULL;
	char reason[256];
	int rc, st, why;

	TAP_OK(ask_ocsp(1, tenant.ca, serial, &good, &bs, reason, sizeof(reason)) == 0 &&
		       bs != NULL && ocsp_signed_by(bs, tenant.ca),
	       "OCSP good signed by the tenant CA, responderID by key, no certificates");
	st = bs ? OCSP_single_get0_status(OCSP_resp_get0(bs, 0), &why, NULL, NULL, NULL) : -1;
	TAP_OK(st == V_OCSP_CERTSTATUS_GOOD, "the signed response still says good");
	OCSP_BASICRESP_free(bs);
	bs = NULL;
	s = good, s.status = OCSP_ST_UNKNOWN;
	TAP_OK(ask_ocsp(1, tenant.ca, serial, &s, NULL, reason, sizeof(reason)) == 0,
	       "OCSP unknown signed");
	static const struct {
		int reason;
		int ok;
	} reasons[] = {{-1, 1}, {0, 1}, {1, 1}, {3, 1}, {4, 1}, {5, 1},
		       {9, 1},  {2, 0}, {6, 0}, {7, 0}, {8, 0}, {10, 0}};
	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++) {
		s = good, s.status = OCSP_ST_REVOKED, s.revoked_at = now - 60;
		s.reason = reasons[i].reason;
		rc = ask_ocsp(1, tenant.ca, serial, &s, &bs, reason, sizeof(reason));
		st = bs ? OCSP_single_get0_status(OCSP_resp_get0(bs, 0), &why, NULL, NULL, NULL)
			: -1;
		TAP_OK(reasons[i].ok ? rc == 0 && st == V_OCSP_CERTSTATUS_REVOKED &&
					       why == reasons[i].reason
				     : rc == SIGNER_E_REFUSED && strstr(reason, "reason"),
		       "OCSP revoked with reason %d %s (%s)", reasons[i].reason,
		       reasons[i].ok ? "signed" : "refused", rc ? reason : "");
		OCSP_BASICRESP_free(bs);
		bs = NULL;
	}
	s = good, s.status = OCSP_ST_REVOKED, s.revoked_at = now + 3600;
	TAP_OK(ask_ocsp(1, tenant.ca, serial, &s, NULL, reason, sizeof(reason)) ==
			       SIGNER_E_REFUSED &&
		       strstr(reason, "revocationTime"),
	       "OCSP revocationTime ahead refused: %s", reason);
	TAP_OK(ask_ocsp(2, tenant.ca, serial, &good, NULL, reason, sizeof(reason)) ==
			       SIGNER_E_REFUSED &&
		       strstr(reason, "CertID"),
	       "tenant 1's certificate refused when asked as tenant 2: %s", reason);
	TAP_OK(ask_ocsp(1, stranger.ca, serial, &good, NULL, reason, sizeof(reason)) ==
		       SIGNER_E_REFUSED,
	       "another CA's certificate refused as tenant 1: %s", reason);
	TAP_OK(ask_ocsp(0, admin.ca, serial, &good, NULL, reason, sizeof(reason)) ==
		       SIGNER_E_REFUSED,
	       "OCSP as tenant 0 (administrator CA) refused: %s", reason);
	TAP_OK(ask_ocsp(99, tenant.ca, serial, &good, NULL, reason, sizeof(reason)) ==
			       SIGNER_E_REFUSED &&
		       strstr(reason, "no active CA"),
	       "OCSP for a tenant without a CA: %s", reason);
	static const struct {
		long off, life;
		int ok;
		const char *why;
	} when[] = {{-POLICY_SKEW_SECONDS - 60, 86400, 0, "thisUpdate"},
		    {-POLICY_SKEW_SECONDS + 60, 86400, 1, ""},
		    {POLICY_SKEW_SECONDS - 60, 86400, 1, ""},
		    {POLICY_SKEW_SECONDS + 60, 86400, 0, "thisUpdate"},
		    {0, POLICY_OCSP_MAX_DAYS * 86400L, 1, ""},
		    {0, POLICY_OCSP_MAX_DAYS * 86400L + 1, 0, "nextUpdate"},
		    {-86400, 86400 * 3, 0, "thisUpdate"}};
	for (size_t i = 0; i < sizeof(when) / sizeof(when[0]); i++) {
		s = good, s.this_update = now + when[i].off;
		s.next_update = s.this_update + when[i].life;
		rc = ask_ocsp(1, tenant.ca, serial, &s, NULL, reason, sizeof(reason));
		TAP_OK(when[i].ok ? rc == 0 : rc == SIGNER_E_REFUSED && strstr(reason, when[i].why),
		       "OCSP thisUpdate %+ld s, life %ld s: %s (%s)", when[i].off, when[i].life,
		       when[i].ok ? "signed" : "refused", rc ? reason : "");
	}
	rc = signer_request(sockpath, SIGNER_OP_SIGN_OCSP, 1, (const unsigned char *)"junk", 4,
			    NULL, NULL, reason, sizeof(reason));
	TAP_OK(rc == SIGNER_E_REFUSED && strstr(reason, "BasicOCSPResponse"),
	       "OCSP garbage refused: %s", reason);
}

/* Ask for a certificate from a child process running as uid; the signer's answer code. */
static int
ask_as(uid_t uid, EVP_PKEY *key)
{
	pid_t pid = fork();
	int st = 0;

	if (pid == 0) {
		char reason[256] = "";
		X509 *x = client(&tenant, key, 30);
		int rc;

		if (setgid(65534) != 0 || setuid(uid) != 0)
			_exit(90);
		rc = ask_cert(1, x, NULL, reason, sizeof(reason));
		_exit(rc == 0                                                   ? 0
		      : rc == SIGNER_E_REFUSED && strstr(reason, "may not ask") ? 1
										: 2);
	}
	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

/* Callers are known by SO_PEERCRED and each operation has its own allow-list. */
static void
test_callers(struct server *s, EVP_PKEY *key, const char *dir)
{
	struct allow saved = s->allow_cert;
	char reason[256], err[128];
	X509 *x;
	int rc;

	/* OCSP signing has its own list */
	{
		struct allow saved_ocsp = s->allow_ocsp;
		time_t now = time(NULL);
		struct ocsp_single good = {OCSP_ST_GOOD, 0, -1, now, now + 3600};

		TAP_OK(allow_parse("65534", &s->allow_ocsp, err, sizeof(err)) == 0,
		       "allow_ocsp of a uid");
		rc = ask_ocsp(1, tenant.ca, "0123456789abcdef01", &good, NULL, reason,
			      sizeof(reason));
		TAP_OK(rc == SIGNER_E_REFUSED && strstr(reason, "may not ask for op ocsp"),
		       "a caller missing from allow_ocsp is refused: %s", reason);
		s->allow_ocsp = saved_ocsp;
		rc = ask_ocsp(1, tenant.ca, "0123456789abcdef01", &good, NULL, reason,
			      sizeof(reason));
		TAP_OK(rc == 0, "and signed with the default list (the signer's own user)");
	}
	/* cert signing for uid 65534 only: this process (another uid) is refused, ping still works
	 */
	TAP_OK(allow_parse("65534", &s->allow_cert, err, sizeof(err)) == 0, "allow-list of a uid");
	x = client(&tenant, key, 30);
	rc = ask_cert(1, x, NULL, reason, sizeof(reason));
	TAP_OK(rc == SIGNER_E_REFUSED && strstr(reason, "may not ask for op cert"),
	       "a caller missing from allow_cert is refused: %s", reason);
	X509_free(x);
	{
		unsigned char *out = NULL;
		size_t outlen = 0;

		TAP_OK(signer_request(sockpath, SIGNER_OP_PING, 0, NULL, 0, &out, &outlen, reason,
				      sizeof(reason)) == 0,
		       "the same caller may ping (allow_ping = *)");
		free(out);
	}
	TAP_OK(allow_parse("no-such-user-xyz", &s->allow_cert, err, sizeof(err)) != 0 &&
		       strstr(err, "no-such-user-xyz"),
	       "an unknown user name is a configuration error: %s", err);
	TAP_OK(allow_parse("root, 65534", &s->allow_cert, err, sizeof(err)) == 0 &&
		       s->allow_cert.n == 2 && allow_has(&s->allow_cert, 0) &&
		       allow_has(&s->allow_cert, 65534) && !allow_has(&s->allow_cert, 1),
	       "names and uids, comma-separated");
	s->allow_cert = saved;
	if (geteuid() != 0) {
		TAP_OK(1, "# SKIP not root: a process of another uid cannot be made");
		return;
	}
	/* a real process under another uid, through the socket's permissions */
	chmod(dir, 0711);
	chmod(sockpath, 0666);
	TAP_OK(ask_as(65534, key) == 1, "a process running as uid 65534 is refused by peer uid");
	TAP_OK(allow_parse("65534", &s->allow_cert, err, sizeof(err)) == 0 &&
		       ask_as(65534, key) == 0,
	       "and signed for once its uid is on allow_cert");
	s->allow_cert = saved;
	chmod(sockpath, 0660);
	chmod(dir, 0700);
}

/* A frame of several MiB (a tenant CRL of 100,000 entries is 4.2 MB) arrives whole; one over
 * SIGNER_MAX_FRAME is refused by its length. */
static void
test_large_frame(void)
{
	size_t n = 5u * 1024 * 1024 + 7;
	unsigned char *big = malloc(n), *got = NULL, hdr[4] = {0x7f, 0xff, 0xff, 0xff};
	size_t len = 0;
	int sv[2];
	pid_t pid;

	for (size_t i = 0; i < n; i++)
		big[i] = (unsigned char)(i * 31 + 7);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) {
		TAP_OK(0, "socketpair");
		free(big);
		return;
	}
	if ((pid = fork()) == 0) {
		close(sv[0]);
		_exit(signer_frame_write(sv[1], big, 7, big + 7, n - 7) == 0 ? 0 : 1);
	}
	close(sv[1]);
	int rc = signer_frame_read(sv[0], &got, &len);
	int st = 0;
	waitpid(pid, &st, 0);
	TAP_OK(rc == 0 && len == n && memcmp(got, big, n) == 0 && WIFEXITED(st) &&
		       WEXITSTATUS(st) == 0,
	       "a frame of 5 MiB arrives whole");
	free(got);
	close(sv[0]);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0) {
		got = NULL;
		TAP_OK(write(sv[1], hdr, 4) == 4 &&
			       signer_frame_read(sv[0], &got, &len) == -EMSGSIZE,
		       "a frame announcing 2 GiB is refused by its length");
		free(got);
		close(sv[0]);
		close(sv[1]);
	}
	free(big);
}

int
main(void)
{
	char dir[] = "/tmp/shomei-test-signer-XXXXXX", other[600];
	struct stat sst;
	struct server s;
	pthread_t t;
	EVP_PKEY *key = NULL;
	int fd = -1;

	if (mkdtemp(dir) == NULL || pki_make(&tenant, X509_KEY_P256, "Reiwa") != 0 ||
	    pki_make(&admin, X509_KEY_P256, "shomei Administrator") != 0 ||
	    pki_make(&stranger, X509_KEY_P256, "Other") != 0 ||
	    x509_key_generate(X509_KEY_P256, &key) != 0) {
		TAP_OK(0, "fixture");
		return tap_done();
	}
	snprintf(sockpath, sizeof(sockpath), "%s/signer.sock", dir);
	TAP_OK(server_listen(sockpath, NULL, &fd) == 0, "listen on %s", sockpath);
	TAP_OK(stat(sockpath, &sst) == 0 && (sst.st_mode & 0777) == 0660, "the socket is 0660");
	TAP_OK(server_init(&s, fd, lookup, NULL) == 0, "server init");
	snprintf(other, sizeof(other), "%s/other.sock", dir);
	TAP_OK(server_listen(other, "shomei-no-such-group", &fd) == -ENOENT &&
		       access(other, F_OK) != 0,
	       "an unknown signer_socket_group is refused, no socket left");
	TAP_OK(server_listen(sockpath, NULL, &fd) == -EADDRINUSE, "a second signer is refused");
	pthread_create(&t, NULL, run, &s);
	test_errors(key);
	test_certs(key);
	test_crls();
	test_ocsp();
	test_limits(&s, key);
	test_callers(&s, key, dir);
	test_oversized();
	test_kept_connection();
	test_large_frame();
	server_stop(&s);
	pthread_join(t, NULL);
	server_done(&s);
	unlink(sockpath);
	rmdir(dir);
	EVP_PKEY_free(key);
	pki_free(&tenant);
	pki_free(&admin);
	pki_free(&stranger);
	return tap_done();
}
