/* test-x509.c: keys, names, CA and client certificates, serials, CRLs and encodings. */
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/x509v3.h>

#include "pki-fixture.h"
#include "tap.h"
#include "pki/x509.h"

/* Verify leaf against root + ca, optionally with CRLs; returns the X509_V_* code. */
static int
verify(struct pki *p, X509 *leaf, X509_CRL *crl_ca, X509_CRL *crl_root)
{
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	STACK_OF(X509) *untrusted = sk_X509_new_null();
	int err;

	X509_STORE_add_cert(store, p->root);
	sk_X509_push(untrusted, p->ca);
	if (crl_ca != NULL) {
		X509_STORE_add_crl(store, crl_ca);
		X509_STORE_add_crl(store, crl_root);
		X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL);
	}
	X509_STORE_CTX_init(ctx, store, leaf, untrusted);
	X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_CLIENT);
	err = X509_verify_cert(ctx) == 1 ? X509_V_OK : X509_STORE_CTX_get_error(ctx);
	X509_STORE_CTX_free(ctx);
	sk_X509_free(untrusted);
	X509_STORE_free(store);
	return err;
}

static void
test_keys(void)
{
	enum x509_key_type t;
	EVP_PKEY *k = NULL;

	TAP_OK(x509_key_type_parse("p256", &t) == 0 && t == X509_KEY_P256, "parse p256");
	TAP_OK(x509_key_type_parse("rsa3072", &t) == 0 && t == X509_KEY_RSA3072, "parse rsa3072");
	TAP_OK(x509_key_type_parse("RSA2048", &t) == X509_E_INVALID, "key type is case-sensitive");
	TAP_OK(x509_key_type_parse("", &t) == X509_E_INVALID, "empty key type");
	TAP_OK(x509_key_type_parse(NULL, &t) == X509_E_INVALID, "NULL key type");
	TAP_STREQ(x509_key_type_name(X509_KEY_RSA2048), "rsa2048", "name of rsa2048");
	TAP_OK(x509_key_generate(X509_KEY_RSA2048, &k) == 0 && EVP_PKEY_is_a(k, "RSA") &&
		       EVP_PKEY_get_bits(k) == 2048,
	       "RSA-2048 key");
	EVP_PKEY_free(k);
	TAP_OK(x509_key_generate(X509_KEY_P256, &k) == 0 && EVP_PKEY_is_a(k, "EC") &&
		       EVP_PKEY_get_bits(k) == 256,
	       "P-256 key");
	EVP_PKEY_free(k);
	TAP_OK(x509_key_generate(X509_KEY__MAX, &k) == X509_E_INVALID, "unknown key type");
}

static int
entry_type(X509_NAME *n, int nid)
{
	int i = X509_NAME_get_index_by_NID(n, nid, -1);

	return i < 0 ? -1 : ASN1_STRING_type(X509_NAME_ENTRY_get_data(X509_NAME_get_entry(n, i)));
}

static void
test_names(void)
{
	struct x509_subject s = {.email = "taro@example.jp",
				 .cn = "Taro Yamada",
				 .ou = {"SYS01", "営業部", "第一課"},
				 .o = "令和証明書サービス株式会社",
				 .c = "JP"};
	X509_NAME *n = NULL;
	char cn[80], *line;

	TAP_OK(x509_name_build(&s, &n) == 0, "build a full subject");
	TAP_OK(X509_NAME_entry_count(n) == 7, "7 attributes");
	TAP_OK(entry_type(n, NID_organizationName) == V_ASN1_UTF8STRING, "O is UTF8String");
	TAP_OK(entry_type(n, NID_organizationalUnitName) == V_ASN1_UTF8STRING, "OU is UTF8String");
	TAP_OK(entry_type(n, NID_commonName) == V_ASN1_UTF8STRING, "CN is UTF8String");
	TAP_OK(entry_type(n, NID_countryName) == V_ASN1_PRINTABLESTRING, "C is PrintableString");
	TAP_OK(entry_type(n, NID_pkcs9_emailAddress) == V_ASN1_IA5STRING, "E is IA5String");
	TAP_OK(OBJ_obj2nid(X509_NAME_ENTRY_get_object(X509_NAME_get_entry(n, 0))) ==
			       NID_countryName &&
		       OBJ_obj2nid(X509_NAME_ENTRY_get_object(X509_NAME_get_entry(n, 6))) ==
			       NID_pkcs9_emailAddress,
	       "DER order C … E");
	TAP_OK(x509_name_cn(n, cn, sizeof(cn)) == 0 && strcmp(cn, "Taro Yamada") == 0, "CN back");
	line = x509_name_oneline(n);
	TAP_OK(line != NULL && strstr(line, "O=令和証明書サービス株式会社") != NULL &&
		       strstr(line, "CN=Taro Yamada") != NULL,
	       "one-line subject keeps UTF-8: %s", line ? line : "(null)");
	free(line);
	X509_NAME_free(n);
	n = NULL;

	static const struct {
		const char *what;
		struct x509_subject s;
	} bad[] = {
		{"control character", {.cn = "a\nb", .c = "JP"}},
		{"DEL", {.cn = "a\x7f", .c = "JP"}},
		{"lowercase country", {.cn = "a", .c = "jp"}},
		{"3-letter country", {.cn = "a", .c = "JPN"}},
		{"invalid UTF-8", {.cn = "\xff\xfe", .c = "JP"}},
		{"CN over 64 characters",
		 {.cn = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}},
		{"e-mail without @", {.cn = "a", .email = "nobody"}},
		{"e-mail with space", {.cn = "a", .email = "a b@example.jp"}},
		{"e-mail non-ASCII", {.cn = "a", .email = "山田@example.jp"}},
		{"nothing at all", {.cn = ""}},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = x509_name_build(&bad[i].s, &n);

		TAP_OK(rc == X509_E_INVALID, "refuse %s (%d)", bad[i].what, rc);
		if (rc == 0)
			X509_NAME_free(n);
		n = NULL;
	}
	s = (struct x509_subject){
		.cn = "証証証証証証証証証証証証証証証証証証証証証証証証証証証証証証証証証証証証証証"
		      "証証証証証証証証証証証証証証証証証証証証証証証証証証"};
	TAP_OK(x509_name_build(&s, &n) == 0, "64 Japanese characters fit in CN");
	X509_NAME_free(n);
	n = NULL;
	s = (struct x509_subject){
		.cn = "証証証証証証証証証証証証証証証証証証証証証証証証証証証証証証証証証証証証証証"
		      "証証証証証証証証証証証証証証証証証証証証証証証証証証明"};
	TAP_OK(x509_name_build(&s, &n) == X509_E_INVALID, "65 Japanese characters do not");
	X509_NAME_free(n);
}

static void
test_serials(void)
{
	ASN1_INTEGER *a = NULL;
	char hex[64], seen[200][40];
	int ok = 1, unique = 1;

	for (int i = 0; i < 200; i++) {
		BIGNUM *bn;

		if (x509_serial_random(&a) != 0)
			ok = 0;
		bn = ASN1_INTEGER_to_BN(a, NULL);
		if (bn == NULL || BN_is_negative(bn) || BN_num_bits(bn) != 127)
			ok = 0;
		if (x509_serial_hex(a, hex, sizeof(hex)) != 0 || strlen(hex) != 32)
			ok = 0;
		snprintf(seen[i], sizeof(seen[i]), "%s", hex);
		for (int j = 0; j < i; j++)
			if (strcmp(seen[i], seen[j]) == 0)
				unique = 0;
		BN_free(bn);
		ASN1_INTEGER_free(a);
		a = NULL;
	}
	TAP_OK(ok, "serials: positive, 127 bits, 32 hex digits");
	TAP_OK(unique, "200 serials all differ");
	TAP_OK(strspn(seen[0], "0123456789abcdef") == 32, "serial hex is lowercase");
}

/* The certificate's extensions as a builder made them. */
static void
check_client_exts(X509 *x, int rsa, const char *email, const char *what)
{
	uint32_t fl = X509_get_extension_flags(x), ku = X509_get_key_usage(x);
	uint32_t xku = X509_get_extended_key_usage(x);
	int crit = -1;
	GENERAL_NAMES *san = X509_get_ext_d2i(x, NID_subject_alt_name, &crit, NULL);

	TAP_OK((fl & EXFLAG_BCONS) && !(fl & EXFLAG_CA), "%s: CA:FALSE", what);
	TAP_OK(X509_EXTENSION_get_critical(
		       X509_get_ext(x, X509_get_ext_by_NID(x, NID_key_usage, -1))) == 1,
	       "%s: keyUsage critical", what);
	TAP_OK(ku == (rsa ? (KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT) : KU_DIGITAL_SIGNATURE),
	       "%s: keyUsage %s", what,
	       rsa ? "digitalSignature+keyEncipherment" : "digitalSignature");
	TAP_OK(xku == (email ? (XKU_SSL_CLIENT | XKU_SMIME) : XKU_SSL_CLIENT), "%s: EKU %s", what,
	       email ? "clientAuth+emailProtection" : "clientAuth");
	if (email) {
		GENERAL_NAME *g = san ? sk_GENERAL_NAME_value(san, 0) : NULL;

		TAP_OK(g != NULL && g->type == GEN_EMAIL &&
			       strcmp((const char *)ASN1_STRING_get0_data(g->d.rfc822Name),
				      email) == 0,
		       "%s: SAN rfc822Name", what);
	} else {
		TAP_OK(san == NULL, "%s: no SAN without e-mail", what);
	}
	GENERAL_NAMES_free(san);
	TAP_OK(X509_get0_subject_key_id(x) != NULL && X509_get0_authority_key_id(x) != NULL,
	       "%s: SKI and AKI", what);
}

static void
test_chain(enum x509_key_type kt)
{
	const char *tn = x509_key_type_name(kt);
	struct pki p;
	EVP_PKEY *ck = NULL;
	X509 *leaf = NULL, *plain = NULL;
	long pathlen;

	TAP_OK(pki_make(&p, kt, "Reiwa Cert Service") == 0, "%s: root and issuing CA", tn);
	TAP_OK(X509_check_issued(p.root, p.root) == X509_V_OK, "%s: root is self-issued", tn);
	TAP_OK(X509_verify(p.root, p.root_key) == 1, "%s: root self-signature", tn);
	TAP_OK(X509_verify(p.ca, p.root_key) == 1, "%s: CA signed by root", tn);
	pathlen = X509_get_pathlen(p.root);
	TAP_OK((X509_get_extension_flags(p.root) & EXFLAG_CA) && pathlen == 1,
	       "%s: root CA:TRUE pathlen 1", tn);
	TAP_OK((X509_get_extension_flags(p.ca) & EXFLAG_CA) && X509_get_pathlen(p.ca) == 0,
	       "%s: CA pathlen 0", tn);
	TAP_OK(X509_get_key_usage(p.ca) & KU_KEY_CERT_SIGN &&
		       X509_get_key_usage(p.ca) & KU_CRL_SIGN,
	       "%s: CA keyCertSign+cRLSign", tn);
	TAP_OK(ASN1_OCTET_STRING_cmp(X509_get0_authority_key_id(p.ca),
				     X509_get0_subject_key_id(p.root)) == 0,
	       "%s: CA AKI = root SKI", tn);
	TAP_OK(ASN1_OCTET_STRING_cmp(X509_get0_authority_key_id(p.root),
				     X509_get0_subject_key_id(p.root)) == 0,
	       "%s: root AKI = own SKI", tn);

	x509_key_generate(kt, &ck);
	TAP_OK(pki_client(&p, ck, "Taro Yamada", "taro@example.jp", 365, &leaf) == 0,
	       "%s: client certificate built", tn);
	TAP_OK(x509_sign(leaf, p.ca_key) == 0 && X509_verify(leaf, p.ca_key) == 1,
	       "%s: client signed by CA", tn);
	check_client_exts(leaf, kt != X509_KEY_P256, "taro@example.jp", tn);
	TAP_OK(verify(&p, leaf, NULL, NULL) == X509_V_OK, "%s: chain verifies for clientAuth", tn);
	TAP_OK(pki_client(&p, ck, "client_000001", NULL, 365, &plain) == 0 &&
		       x509_sign(plain, p.ca_key) == 0,
	       "%s: numbered client without e-mail", tn);
	check_client_exts(plain, kt != X509_KEY_P256, NULL, tn);
	X509_free(plain);
	X509_free(leaf);
	EVP_PKEY_free(ck);
	pki_free(&p);
}

static void
test_placeholder(struct pki *p)
{
	EVP_PKEY *ck = NULL;
	X509 *x = NULL, *y = NULL;
	unsigned char *der = NULL, *der2 = NULL;
	size_t len = 0, len2 = 0;
	char h1[64], h2[64];

	x509_key_generate(X509_KEY_P256, &ck);
	pki_client(p, ck, "client_000002", NULL, 30, &x);
	TAP_OK(x509_placeholder_sign(x) == 0 && x509_cert_to_der(x, &der, &len) == 0,
	       "placeholder-signed certificate serializes");
	TAP_OK(X509_verify(x, p->ca_key) != 1, "placeholder signature is not the CA's");
	TAP_OK(x509_cert_from_der(der, len, &y) == 0, "parse it back (as the signer does)");
	TAP_OK(x509_sign(y, p->ca_key) == 0 && X509_verify(y, p->ca_key) == 1, "re-sign with CA");
	x509_serial_hex(X509_get0_serialNumber(x), h1, sizeof(h1));
	x509_serial_hex(X509_get0_serialNumber(y), h2, sizeof(h2));
	TAP_OK(strcmp(h1, h2) == 0 &&
		       X509_NAME_cmp(X509_get_subject_name(x), X509_get_subject_name(y)) == 0,
	       "serial and subject unchanged");
	TAP_OK(verify(p, y, NULL, NULL) == X509_V_OK, "re-signed certificate verifies");
	TAP_OK(x509_cert_to_der(y, &der2, &len2) == 0, "re-signed certificate serializes");
	/* the worker's shortcut: x takes the CA's signature instead of parsing the answer */
	TAP_OK(x509_adopt_signature(x, der2, len2) == 0, "x adopts the CA's signature");
	unsigned char *der3 = NULL;
	size_t len3 = 0;
	TAP_OK(x509_cert_to_der(x, &der3, &len3) == 0 && len3 == len2 &&
		       memcmp(der3, der2, len2) == 0,
	       "x encodes byte for byte as the signed certificate");
	TAP_OK(X509_verify(x, p->ca_key) == 1 && verify(p, x, NULL, NULL) == X509_V_OK,
	       "x verifies under the CA and its chain");
	TAP_OK(X509_check_private_key(x, ck) == 1, "x still matches its private key");
	free(der3);
	/* a different certificate, or garbage, is refused */
	X509 *other = NULL;
	EVP_PKEY *ok2 = NULL;
	unsigned char *oder = NULL;
	size_t olen = 0;
	x509_key_generate(X509_KEY_P256, &ok2);
	pki_client(p, ok2, "client_000003", NULL, 30, &other);
	x509_sign(other, p->ca_key);
	x509_cert_to_der(other, &oder, &olen);
	X509 *z = NULL;
	pki_client(p, ck, "client_000002", NULL, 30, &z);
	x509_placeholder_sign(z);
	TAP_OK(x509_adopt_signature(z, oder, olen) == X509_E_PARSE,
	       "another certificate's DER is not adopted");
	TAP_OK(x509_adopt_signature(z, (const unsigned char *)"\x30\x03\x02\x01\x01", 5) ==
		       X509_E_PARSE,
	       "garbage is not adopted");
	TAP_OK(x509_adopt_signature(z, oder, olen - 1) == X509_E_PARSE, "a cut DER is not adopted");
	X509_free(z);
	X509_free(other);
	EVP_PKEY_free(ok2);
	free(oder);
	free(der);
	free(der2);
	X509_free(x);
	X509_free(y);
	EVP_PKEY_free(ck);
}

/* The tenant's CRL distribution point and OCSP responder (DECISIONS.md, "Extensions"). */
static void
test_urls(struct pki *p)
{
	struct x509_subject s = {.cn = "client_000003", .ou = {"demo"}, .o = "Example", .c = "JP"};
	struct x509_client c = {.email = NULL,
				.issuer = p->ca,
				.crl_url = "http://pki.example/crl/demo.7.crl",
				.ocsp_url = "https://pki.example/ocsp"};
	EVP_PKEY *ck = NULL;
	X509_NAME *n = NULL;
	X509 *x = NULL;
	CRL_DIST_POINTS *dps = NULL;
	AUTHORITY_INFO_ACCESS *aia = NULL;

	x509_key_generate(X509_KEY_P256, &ck);
	x509_name_build(&s, &n);
	c.pub = ck, c.subject = n, c.not_before = time(NULL), c.not_after = time(NULL) + 86400;
	TAP_OK(x509_build_client(&c, &x) == 0, "client with CRL DP and OCSP URLs built");
	dps = X509_get_ext_d2i(x, NID_crl_distribution_points, NULL, NULL);
	TAP_OK(dps != NULL && sk_DIST_POINT_num(dps) == 1, "one CRL distribution point");
	if (dps != NULL && sk_DIST_POINT_num(dps) == 1) {
		DIST_POINT *dp = sk_DIST_POINT_value(dps, 0);
		GENERAL_NAME *g = sk_GENERAL_NAME_value(dp->distpoint->name.fullname, 0);
		TAP_OK(g->type == GEN_URI && strcmp((const char *)ASN1_STRING_get0_data(g->d.ia5),
						    "http://pki.example/crl/demo.7.crl") == 0,
		       "CRL DP full name is the URL");
	}
	aia = X509_get_ext_d2i(x, NID_info_access, NULL, NULL);
	TAP_OK(aia != NULL && sk_ACCESS_DESCRIPTION_num(aia) == 1 &&
		       OBJ_obj2nid(sk_ACCESS_DESCRIPTION_value(aia, 0)->method) == NID_ad_OCSP &&
		       strcmp((const char *)ASN1_STRING_get0_data(
				      sk_ACCESS_DESCRIPTION_value(aia, 0)->location->d.ia5),
			      "https://pki.example/ocsp") == 0,
	       "AIA holds the OCSP URL");
	X509_free(x);
	x = NULL;
	c.crl_url = "ldap://pki.example/crl";
	TAP_OK(x509_build_client(&c, &x) == X509_E_INVALID, "non-http CRL URL refused");
	c.crl_url = NULL, c.ocsp_url = "https://pki.example/o csp";
	TAP_OK(x509_build_client(&c, &x) == X509_E_INVALID, "URL with a space refused");
	c.ocsp_url = "";
	TAP_OK(x509_build_client(&c, &x) == 0 && X509_get_ext_by_NID(x, NID_info_access, -1) < 0 &&
		       X509_get_ext_by_NID(x, NID_crl_distribution_points, -1) < 0,
	       "empty URLs: no CRL DP, no AIA");
	X509_free(x);
	sk_DIST_POINT_pop_free(dps, DIST_POINT_free);
	AUTHORITY_INFO_ACCESS_free(aia);
	X509_NAME_free(n);
	EVP_PKEY_free(ck);
}

static void
test_encodings(struct pki *p)
{
	unsigned char *der = NULL, md[32], *kder = NULL, *bad = NULL;
	size_t len = 0, klen = 0;
	char *pem = NULL, hex[65], want[65];
	X509 *x = NULL;
	EVP_PKEY *k = NULL;

	TAP_OK(x509_cert_to_der(p->ca, &der, &len) == 0, "CA to DER");
	SHA256(der, len, md);
	for (int i = 0; i < 32; i++)
		snprintf(want + 2 * i, 3, "%02x", md[i]);
	TAP_OK(x509_sha256_fingerprint(p->ca, hex) == 0 && strcmp(hex, want) == 0,
	       "fingerprint = SHA-256 of DER, lowercase hex");
	TAP_OK(x509_cert_from_der(der, len, &x) == 0 && X509_cmp(x, p->ca) == 0, "DER round trip");
	X509_free(x);
	x = NULL;
	bad = malloc(len + 1);
	memcpy(bad, der, len);
	bad[len] = 0;
	TAP_OK(x509_cert_from_der(bad, len + 1, &x) == X509_E_PARSE, "trailing byte refused");
	TAP_OK(x509_cert_from_der(der, len - 1, &x) == X509_E_PARSE, "truncated DER refused");
	TAP_OK(x509_cert_from_der(der, 0, &x) == X509_E_PARSE, "empty DER refused");
	TAP_OK(x509_cert_to_pem(p->ca, &pem, &len) == 0 &&
		       strncmp(pem, "-----BEGIN CERTIFICATE-----\n", 28) == 0 && strlen(pem) == len,
	       "CA to PEM");
	TAP_OK(x509_cert_from_pem(pem, len, &x) == 0 && X509_cmp(x, p->ca) == 0, "PEM round trip");
	X509_free(x);
	x = NULL;
	TAP_OK(x509_cert_from_pem("garbage", 7, &x) == X509_E_PARSE, "garbage PEM refused");
	TAP_OK(x509_key_to_der(p->ca_key, &kder, &klen) == 0, "key to PKCS#8 DER");
	TAP_OK(x509_key_from_der(kder, klen, &k) == 0 && EVP_PKEY_eq(k, p->ca_key) == 1,
	       "key round trip");
	EVP_PKEY_free(k);
	k = NULL;
	TAP_OK(x509_key_from_der(kder, klen - 1, &k) == X509_E_PARSE, "truncated key refused");
	free(kder);
	free(der);
	free(bad);
	free(pem);
	EVP_PKEY_free(k);
}

static void
test_times(struct pki *p)
{
	time_t nb, na, now = time(NULL);

	TAP_OK(x509_times(p->ca, &nb, &na) == 0, "read CA validity");
	TAP_OK(nb <= now - X509_BACKDATE + 2 && nb >= now - X509_BACKDATE - 5,
	       "CA notBefore backdated by %d s", X509_BACKDATE);
	TAP_OK(na - nb == (time_t)X509_CA_DAYS * 86400 + X509_BACKDATE, "CA lives %d days",
	       X509_CA_DAYS);
}

static void
test_crl(struct pki *p)
{
	EVP_PKEY *ck = NULL;
	X509 *revoked = NULL, *good = NULL;
	X509_CRL *crl = NULL, *rcrl = NULL, *back = NULL;
	X509_REVOKED *entry = NULL;
	ASN1_INTEGER *num;
	char serial[64], *pem = NULL;
	unsigned char *der = NULL;
	size_t len = 0;
	time_t now = time(NULL);
	int crit;

	x509_key_generate(X509_KEY_P256, &ck);
	pki_client(p, ck, "client_000003", NULL, 30, &revoked);
	pki_client(p, ck, "client_000004", NULL, 30, &good);
	x509_sign(revoked, p->ca_key);
	x509_sign(good, p->ca_key);
	x509_serial_hex(X509_get0_serialNumber(revoked), serial, sizeof(serial));
	for (char *c = serial; *c; c++)
		*c = (char)(*c >= 'a' ? *c - 32 : *c); /* upper case is accepted too */
	struct x509_revoked entries[] = {
		{serial, now - 3600, CRL_REASON_KEY_COMPROMISE},
		{"0a1b2c3d4e5f60718293a4b5c6d7e8f9", now - 7200, -1},
	};
	TAP_OK(x509_crl_build(p->ca, 42, now, now + 7 * 86400, entries, 2, &crl) == 0,
	       "build CRL with 2 entries");
	TAP_OK(x509_crl_sign(crl, p->ca_key) == 0 && X509_CRL_verify(crl, p->ca_key) == 1,
	       "CRL signed by CA");
	num = X509_CRL_get_ext_d2i(crl, NID_crl_number, &crit, NULL);
	TAP_OK(num != NULL && ASN1_INTEGER_get(num) == 42, "CRL number 42");
	ASN1_INTEGER_free(num);
	TAP_OK(X509_CRL_get_version(crl) == X509_CRL_VERSION_2, "CRL v2");
	TAP_OK(X509_CRL_get0_by_serial(crl, &entry,
				       (ASN1_INTEGER *)X509_get0_serialNumber(revoked)) == 1,
	       "revoked serial listed");
	TAP_OK(x509_crl_build(p->root, 1, now, now + 7 * 86400, NULL, 0, &rcrl) == 0 &&
		       x509_crl_sign(rcrl, p->root_key) == 0,
	       "empty root CRL");
	TAP_OK(verify(p, revoked, crl, rcrl) == X509_V_ERR_CERT_REVOKED,
	       "revoked certificate fails verification with CRLs");
	TAP_OK(verify(p, good, crl, rcrl) == X509_V_OK, "good certificate passes with CRLs");
	TAP_OK(x509_crl_to_der(crl, &der, &len) == 0 && x509_crl_from_der(der, len, &back) == 0 &&
		       X509_CRL_verify(back, p->ca_key) == 1,
	       "CRL DER round trip");
	TAP_OK(x509_crl_to_pem(crl, &pem, &len) == 0 &&
		       strncmp(pem, "-----BEGIN X509 CRL-----", 24) == 0,
	       "CRL to PEM");
	struct x509_revoked badser[] = {{"xyz", now, -1}};
	X509_CRL *junk = NULL;
	TAP_OK(x509_crl_build(p->ca, 1, now, now + 86400, badser, 1, &junk) == X509_E_INVALID,
	       "non-hex serial refused");
	TAP_OK(x509_crl_build(p->ca, 1, now, now, NULL, 0, &junk) == X509_E_INVALID,
	       "nextUpdate must follow thisUpdate");
	TAP_OK(x509_crl_placeholder_sign(rcrl) == 0 && X509_CRL_verify(rcrl, p->root_key) != 1,
	       "placeholder-signed CRL");
	free(der);
	free(pem);
	X509_CRL_free(crl);
	X509_CRL_free(rcrl);
	X509_CRL_free(back);
	X509_free(revoked);
	X509_free(good);
	EVP_PKEY_free(ck);
}

/* The tbs of a CRL as DER: re-encoded from the objects, or (cached) the bytes it came from. */
static int
tbs_of(X509_CRL *crl, unsigned char **out)
{
	return i2d_re_X509_CRL_tbs(crl, out);
}

/* x509_crl_build_placeholder writes the same tbs as x509_crl_build, byte for byte. */
static void
test_crl_fast(struct pki *p)
{
	static const char *serials[] = {
		"0a1b2c3d4e5f60718293a4b5c6d7e8f9",
		"FFEEDDCCBBAA99887766554433221100", /* top bit: a 0x00 first */
		"00000000000000000000000000000abc", /* leading zeros */
		"7",
		"abc", /* odd length */
		"0",
		"1234567890abcdef1234567890abcdef12345678"}; /* 40 digits */
	size_t n = 1000 + sizeof(serials) / sizeof(serials[0]);
	struct x509_revoked *e = calloc(n, sizeof(*e));
	char(*hex)[41] = calloc(n, sizeof(*hex));
	static const int reasons[] = {-1, 1, 3, 4, 5, 9, 0};
	time_t now = 1764547200; /* 2026-12-01 */
	X509_CRL *a = NULL, *b = NULL;
	unsigned char *ta = NULL, *tb = NULL, *der = NULL;
	size_t dlen = 0;
	int la, lb;

	for (size_t i = 0; i < n; i++) {
		if (i < sizeof(serials) / sizeof(serials[0])) {
			snprintf(hex[i], sizeof(hex[i]), "%s", serials[i]);
		} else {
			unsigned char r[16];
			RAND_bytes(r, sizeof(r));
			r[0] &= 0x7f;
			for (int k = 0; k < 16; k++)
				snprintf(hex[i] + 2 * k, 3, "%02x", r[k]);
		}
		e[i].serial_hex = hex[i];
		e[i].reason = reasons[i % 7];
		/* 2049 → UTCTime, 2050 and 1949 → GeneralizedTime, as ASN1_TIME_set writes them */
		e[i].revoked_at = i == 1   ? 2524607999
				  : i == 2 ? 2524608000
				  : i == 3 ? -631152001
					   : now - (time_t)i * 97;
	}
	TAP_OK(x509_crl_build(p->ca, 77, now - 60, now + 7 * 86400, e, n, &a) == 0 &&
		       x509_crl_placeholder_sign(a) == 0,
	       "%zu entries built by OpenSSL's objects", n);
	TAP_OK(x509_crl_build_placeholder(p->ca, 77, now - 60, now + 7 * 86400, e, n, &b) == 0,
	       "the same entries written by hand");
	la = a ? tbs_of(a, &ta) : -1;
	lb = b ? tbs_of(b, &tb) : -1;
	TAP_OK(la > 0 && la == lb && memcmp(ta, tb, (size_t)la) == 0,
	       "the tbs is byte for byte the same (%d and %d bytes)", la, lb);
	TAP_OK(b && x509_crl_to_der(b, &der, &dlen) == 0 && X509_CRL_verify(b, p->ca_key) != 1,
	       "placeholder-signed (not by the CA), and encodes");
	TAP_OK(b && x509_crl_sign(b, p->ca_key) == 0 && X509_CRL_verify(b, p->ca_key) == 1,
	       "and the CA can sign it");
	OPENSSL_free(ta);
	OPENSSL_free(tb);
	free(der);
	X509_CRL_free(a);
	X509_CRL_free(b);
	a = b = NULL;
	ta = tb = NULL;
	TAP_OK(x509_crl_build(p->root, 3, now - 60, now + 86400, NULL, 0, &a) == 0 &&
		       x509_crl_placeholder_sign(a) == 0 &&
		       x509_crl_build_placeholder(p->root, 3, now - 60, now + 86400, NULL, 0, &b) ==
			       0 &&
		       (la = tbs_of(a, &ta)) > 0 && la == tbs_of(b, &tb) &&
		       memcmp(ta, tb, (size_t)la) == 0,
	       "no entries: the same tbs too");
	struct x509_revoked bad[] = {{"xyz", now, -1}};
	struct x509_revoked toolong[] = {{"1234567890abcdef1234567890abcdef123456789", now, -1}};
	X509_CRL *junk = NULL;
	TAP_OK(x509_crl_build_placeholder(p->ca, 1, now, now + 86400, bad, 1, &junk) ==
			       X509_E_INVALID &&
		       x509_crl_build_placeholder(p->ca, 1, now, now + 86400, toolong, 1, &junk) ==
			       X509_E_INVALID &&
		       x509_crl_build_placeholder(p->ca, 1, now, now, NULL, 0, &junk) ==
			       X509_E_INVALID &&
		       junk == NULL,
	       "a bad serial, a 41-digit one, times out of order: refused");
	OPENSSL_free(ta);
	OPENSSL_free(tb);
	X509_CRL_free(a);
	X509_CRL_free(b);
	free(e);
	free(hex);
}

int
main(void)
{
	struct pki p;

	test_keys();
	test_names();
	test_serials();
	test_chain(X509_KEY_P256);
	test_chain(X509_KEY_RSA2048);
	if (pki_make(&p, X509_KEY_P256, "Example") != 0) {
		TAP_OK(0, "fixture");
		return tap_done();
	}
	test_placeholder(&p);
	test_urls(&p);
	test_encodings(&p);
	test_times(&p);
	test_crl(&p);
	test_crl_fast(&p);
	pki_free(&p);
	return tap_done();
}
