/* x509.c: keys, CA and client certificates, CRLs, fingerprints and PEM/DER for shomei. */
/* EC_KEY for p256_legacy (deprecated in OpenSSL 3.0, still its fast path; see there) */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "pki/x509.h"

#define SERIAL_BYTES 16

static const char *const key_type_names[X509_KEY__MAX] = {
	[X509_KEY_RSA2048] = "rsa2048",
	[X509_KEY_RSA3072] = "rsa3072",
	[X509_KEY_P256] = "p256",
};

int
x509_key_type_parse(const char *s, enum x509_key_type *out)
{
	for (int i = 0; i < X509_KEY__MAX; i++)
		if (s != NULL && strcmp(s, key_type_names[i]) == 0) {
			*out = (enum x509_key_type)i;
			return 0;
		}
	return X509_E_INVALID;
}

const char *
x509_key_type_name(enum x509_key_type t)
{
	return t < X509_KEY__MAX ? key_type_names[t] : "?";
}

/*
 * A P-256 key held as a legacy EC_KEY. OpenSSL 3.0 encodes and decodes a provider-only key
 * through OSSL_ENCODER/OSSL_DECODER contexts, whose setup dominated building a certificate
 * (X509_set_pubkey 185 us of 216) and PKCS#8 encoding; a legacy key takes the EVP_PKEY_ASN1
 * method path (31 us). Signing and PKCS#12 use it through the same EVP calls.
 */
static EVP_PKEY *
p256_legacy(void)
{
	EC_KEY *ec = EC_KEY_new_by_curve_name(NID_X9_62_prime256v1);
	EVP_PKEY *k = NULL;

	if (ec == NULL || EC_KEY_generate_key(ec) != 1 || (k = EVP_PKEY_new()) == NULL ||
	    EVP_PKEY_assign(k, EVP_PKEY_EC, ec) != 1) {
		EVP_PKEY_free(k);
		EC_KEY_free(ec);
		return NULL;
	}
	return k;
}

int
x509_key_generate(enum x509_key_type t, EVP_PKEY **out)
{
	EVP_PKEY *k = NULL;

	switch (t) {
	case X509_KEY_RSA2048:
		k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
		break;
	case X509_KEY_RSA3072:
		k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)3072);
		break;
	case X509_KEY_P256:
		k = p256_legacy();
		break;
	default:
		return X509_E_INVALID;
	}
	if (k == NULL)
		return -EIO;
	*out = k;
	return 0;
}

/* Printable text: no C0 controls, no DEL (UTF-8 validity is checked by OpenSSL). */
static int
text_ok(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

/* An address for E= and SAN: printable ASCII without spaces, one '@' inside. */
static int
email_ok(const char *s)
{
	const char *at = strchr(s, '@');

	if (at == NULL || at == s || at[1] == '\0' || strchr(at + 1, '@') != NULL)
		return 0;
	for (; *s != '\0'; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
			return 0;
	return 1;
}

static int
add_entry(X509_NAME *n, int nid, const char *v)
{
	if (v == NULL || *v == '\0')
		return 0;
	if (!text_ok(v))
		return X509_E_INVALID;
	if (nid == NID_countryName &&
	    (strlen(v) != 2 || v[0] < 'A' || v[0] > 'Z' || v[1] < 'A' || v[1] > 'Z'))
		return X509_E_INVALID;
	if (nid == NID_pkcs9_emailAddress && !email_ok(v))
		return X509_E_INVALID;
	/* MBSTRING_UTF8 under the default "utf8only" mask: UTF8String, C Printable, E IA5. */
	if (!X509_NAME_add_entry_by_NID(n, nid, MBSTRING_UTF8, (const unsigned char *)v, -1, -1, 0))
		return X509_E_INVALID;
	return 0;
}

int
x509_name_build(const struct x509_subject *s, X509_NAME **out)
{
	X509_NAME *n = NULL;
	int rc;

	if ((n = X509_NAME_new()) == NULL)
		return -ENOMEM;
	if ((rc = add_entry(n, NID_countryName, s->c)) != 0 ||
	    (rc = add_entry(n, NID_organizationName, s->o)) != 0 ||
	    (rc = add_entry(n, NID_organizationalUnitName, s->ou[2])) != 0 ||
	    (rc = add_entry(n, NID_organizationalUnitName, s->ou[1])) != 0 ||
	    (rc = add_entry(n, NID_organizationalUnitName, s->ou[0])) != 0 ||
	    (rc = add_entry(n, NID_commonName, s->cn)) != 0 ||
	    (rc = add_entry(n, NID_pkcs9_emailAddress, s->email)) != 0)
		goto out;
	if (X509_NAME_entry_count(n) == 0) {
		rc = X509_E_INVALID;
		goto out;
	}
	*out = n;
	n = NULL;
	rc = 0;
out:
	X509_NAME_free(n);
	return rc;
}

int
x509_name_cn(const X509_NAME *name, char *buf, size_t len)
{
	unsigned char *utf8 = NULL;
	int i, n, rc = X509_E_INVALID;

	if (len == 0)
		return X509_E_INVALID;
	buf[0] = '\0';
	if ((i = X509_NAME_get_index_by_NID(name, NID_commonName, -1)) < 0)
		return 0;
	n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i)));
	if (n < 0 || (size_t)n >= len)
		goto out;
	memcpy(buf, utf8, (size_t)n);
	buf[n] = '\0';
	rc = 0;
out:
	OPENSSL_free(utf8);
	return rc;
}

/* The contents of a memory BIO as a malloc'ed NUL-terminated string. */
static int
bio_take(BIO *b, char **out, size_t *len)
{
	char *data, *s;
	long n = BIO_get_mem_data(b, &data);

	if (n < 0)
		return -EIO;
	if ((s = malloc((size_t)n + 1)) == NULL)
		return -ENOMEM;
	memcpy(s, data, (size_t)n);
	s[n] = '\0';
	*out = s;
	if (len != NULL)
		*len = (size_t)n;
	return 0;
}

char *
x509_name_oneline(const X509_NAME *name)
{
	unsigned long flags = XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB;
	char *s = NULL;
	BIO *b;

	if ((b = BIO_new(BIO_s_mem())) == NULL)
		return NULL;
	if (X509_NAME_print_ex(b, name, 0, flags) >= 0)
		bio_take(b, &s, NULL);
	BIO_free(b);
	return s;
}

int
x509_serial_random(ASN1_INTEGER **out)
{
	unsigned char buf[SERIAL_BYTES];
	ASN1_INTEGER *ai = NULL;
	BIGNUM *bn = NULL;
	int rc = -EIO;

	if (RAND_bytes(buf, sizeof(buf)) != 1)
		goto out;
	/* Positive (top bit clear) and exactly 127 bits long, so never zero and never short. */
	buf[0] = (unsigned char)((buf[0] & 0x7f) | 0x40);
	if ((bn = BN_bin2bn(buf, sizeof(buf), NULL)) == NULL ||
	    (ai = BN_to_ASN1_INTEGER(bn, NULL)) == NULL)
		goto out;
	*out = ai;
	rc = 0;
out:
	BN_free(bn);
	return rc;
}

int
x509_serial_hex(const ASN1_INTEGER *serial, char *buf, size_t len)
{
	unsigned char bin[64];
	BIGNUM *bn = NULL;
	int n, rc = X509_E_INVALID;

	if ((bn = ASN1_INTEGER_to_BN(serial, NULL)) == NULL)
		return -ENOMEM;
	if (BN_is_negative(bn) || (n = BN_num_bytes(bn)) > (int)sizeof(bin) ||
	    len < 2 * (size_t)n + 1)
		goto out;
	BN_bn2bin(bn, bin);
	for (int i = 0; i < n; i++) {
		buf[2 * i] = "0123456789abcdef"[bin[i] >> 4];
		buf[2 * i + 1] = "0123456789abcdef"[bin[i] & 15];
	}
	buf[2 * n] = '\0';
	rc = 0;
out:
	BN_free(bn);
	return rc;
}

/* Parse hex as written by x509_serial_hex (either case). */
static int
serial_from_hex(const char *hex, ASN1_INTEGER **out)
{
	BIGNUM *bn = NULL;
	size_t len = strlen(hex);
	int rc = X509_E_INVALID;

	if (len == 0 || len > 40 || strspn(hex, "0123456789abcdefABCDEF") != len)
		return X509_E_INVALID;
	if (BN_hex2bn(&bn, hex) != (int)len)
		goto out;
	if ((*out = BN_to_ASN1_INTEGER(bn, NULL)) == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	rc = 0;
out:
	BN_free(bn);
	return rc;
}

static int
set_time(X509 *x, int after, time_t t)
{
	ASN1_TIME *at = ASN1_TIME_set(NULL, t);
	int ok;

	if (at == NULL)
		return X509_E_INVALID;
	ok = after ? X509_set1_notAfter(x, at) : X509_set1_notBefore(x, at);
	ASN1_TIME_free(at);
	return ok ? 0 : -EIO;
}

/* SKI = SHA-1 of the subject public key bits (RFC 5280 4.2.1.2, method 1). */
static int
add_ski(X509 *x)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	ASN1_OCTET_STRING *oct = NULL;
	unsigned int n;
	int rc = -EIO;

	if (!X509_pubkey_digest(x, EVP_sha1(), md, &n))
		goto out;
	if ((oct = ASN1_OCTET_STRING_new()) == NULL || !ASN1_OCTET_STRING_set(oct, md, (int)n))
		goto out;
	if (X509_add1_ext_i2d(x, NID_subject_key_identifier, oct, 0, X509V3_ADD_REPLACE) != 1)
		goto out;
	rc = 0;
out:
	ASN1_OCTET_STRING_free(oct);
	return rc;
}

/*
 * The SKI extension of x, decoded from the extension list itself (not the
 * cached flags, which would go stale on a certificate still being built).
 */
static ASN1_OCTET_STRING *
get_ski(const X509 *x)
{
	return X509_get_ext_d2i(x, NID_subject_key_identifier, NULL, NULL);
}

/* An AKI holding only the issuer's SKI; *out is the caller's. */
static int
make_akid(const X509 *issuer, AUTHORITY_KEYID **out)
{
	AUTHORITY_KEYID *akid = NULL;
	ASN1_OCTET_STRING *ski;

	if ((ski = get_ski(issuer)) == NULL)
		return X509_E_INVALID;
	if ((akid = AUTHORITY_KEYID_new()) == NULL) {
		ASN1_OCTET_STRING_free(ski);
		return -ENOMEM;
	}
	akid->keyid = ski;
	*out = akid;
	return 0;
}

static int
add_aki(X509 *x, const X509 *issuer)
{
	AUTHORITY_KEYID *akid = NULL;
	int rc;

	if ((rc = make_akid(issuer, &akid)) != 0)
		return rc;
	rc = X509_add1_ext_i2d(x, NID_authority_key_identifier, akid, 0, X509V3_ADD_REPLACE) == 1
		     ? 0
		     : -EIO;
	AUTHORITY_KEYID_free(akid);
	return rc;
}

/* basicConstraints, critical; pathlen < 0 leaves it out. */
static int
add_bc(X509 *x, int ca, int pathlen)
{
	BASIC_CONSTRAINTS *bc = NULL;
	int rc = -EIO;

	if ((bc = BASIC_CONSTRAINTS_new()) == NULL)
		return -ENOMEM;
	bc->ca = ca ? 0xff : 0;
	if (ca && pathlen >= 0) {
		if ((bc->pathlen = ASN1_INTEGER_new()) == NULL ||
		    !ASN1_INTEGER_set(bc->pathlen, pathlen))
			goto out;
	}
	if (X509_add1_ext_i2d(x, NID_basic_constraints, bc, 1, X509V3_ADD_REPLACE) != 1)
		goto out;
	rc = 0;
out:
	BASIC_CONSTRAINTS_free(bc);
	return rc;
}

/* keyUsage, critical; bits are the KU bit numbers (0 digitalSignature … 6 cRLSign). */
static int
add_ku(X509 *x, const int *bits, size_t n)
{
	ASN1_BIT_STRING *ku = NULL;
	int rc = -EIO;

	if ((ku = ASN1_BIT_STRING_new()) == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (!ASN1_BIT_STRING_set_bit(ku, bits[i], 1))
			goto out;
	if (X509_add1_ext_i2d(x, NID_key_usage, ku, 1, X509V3_ADD_REPLACE) != 1)
		goto out;
	rc = 0;
out:
	ASN1_BIT_STRING_free(ku);
	return rc;
}

static int
add_eku(X509 *x, int email)
{
	EXTENDED_KEY_USAGE *eku = NULL;
	int rc = -EIO;

	if ((eku = sk_ASN1_OBJECT_new_null()) == NULL)
		return -ENOMEM;
	if (!sk_ASN1_OBJECT_push(eku, OBJ_nid2obj(NID_client_auth)) ||
	    (email && !sk_ASN1_OBJECT_push(eku, OBJ_nid2obj(NID_email_protect))))
		goto out;
	if (X509_add1_ext_i2d(x, NID_ext_key_usage, eku, 0, X509V3_ADD_REPLACE) != 1)
		goto out;
	rc = 0;
out:
	sk_ASN1_OBJECT_pop_free(eku, ASN1_OBJECT_free);
	return rc;
}

static int
add_san_email(X509 *x, const char *email)
{
	GENERAL_NAMES *gens = NULL;
	GENERAL_NAME *gen = NULL;
	ASN1_IA5STRING *ia5 = NULL;
	int rc = -ENOMEM;

	if (!email_ok(email))
		return X509_E_INVALID;
	if ((gens = GENERAL_NAMES_new()) == NULL || (gen = GENERAL_NAME_new()) == NULL ||
	    (ia5 = ASN1_IA5STRING_new()) == NULL || !ASN1_STRING_set(ia5, email, -1))
		goto out;
	GENERAL_NAME_set0_value(gen, GEN_EMAIL, ia5);
	ia5 = NULL;
	if (!sk_GENERAL_NAME_push(gens, gen))
		goto out;
	gen = NULL;
	if (X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0, X509V3_ADD_REPLACE) != 1) {
		rc = -EIO;
		goto out;
	}
	rc = 0;
out:
	ASN1_IA5STRING_free(ia5);
	GENERAL_NAME_free(gen);
	GENERAL_NAMES_free(gens);
	return rc;
}

/* An http(s) URL of printable ASCII without spaces, as a URI GeneralName; NULL if refused. */
static GENERAL_NAME *
uri_name(const char *url)
{
	GENERAL_NAME *gen = NULL;
	ASN1_IA5STRING *ia5 = NULL;

	if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)
		return NULL;
	for (const char *p = url; *p; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
			return NULL;
	if ((gen = GENERAL_NAME_new()) == NULL || (ia5 = ASN1_IA5STRING_new()) == NULL ||
	    !ASN1_STRING_set(ia5, url, -1)) {
		GENERAL_NAME_free(gen);
		ASN1_IA5STRING_free(ia5);
		return NULL;
	}
	GENERAL_NAME_set0_value(gen, GEN_URI, ia5);
	return gen;
}

/* cRLDistributionPoints with one distribution point: fullName = url. */
static int
add_crl_dp(X509 *x, const char *url)
{
	CRL_DIST_POINTS *dps = NULL;
	DIST_POINT *dp = NULL;
	GENERAL_NAME *gen = NULL;
	int rc = -ENOMEM;

	if ((gen = uri_name(url)) == NULL)
		return X509_E_INVALID;
	if ((dps = sk_DIST_POINT_new_null()) == NULL || (dp = DIST_POINT_new()) == NULL ||
	    (dp->distpoint = DIST_POINT_NAME_new()) == NULL ||
	    (dp->distpoint->name.fullname = GENERAL_NAMES_new()) == NULL)
		goto out;
	dp->distpoint->type = 0;
	if (!sk_GENERAL_NAME_push(dp->distpoint->name.fullname, gen))
		goto out;
	gen = NULL;
	if (!sk_DIST_POINT_push(dps, dp))
		goto out;
	dp = NULL;
	rc = X509_add1_ext_i2d(x, NID_crl_distribution_points, dps, 0, X509V3_ADD_REPLACE) == 1
		     ? 0
		     : -EIO;
out:
	GENERAL_NAME_free(gen);
	DIST_POINT_free(dp);
	sk_DIST_POINT_pop_free(dps, DIST_POINT_free);
	return rc;
}

/* authorityInfoAccess with one OCSP responder. */
static int
add_aia_ocsp(X509 *x, const char *url)
{
	AUTHORITY_INFO_ACCESS *aia = NULL;
	ACCESS_DESCRIPTION *ad = NULL;
	GENERAL_NAME *gen = NULL;
	int rc = -ENOMEM;

	if ((gen = uri_name(url)) == NULL)
		return X509_E_INVALID;
	if ((aia = sk_ACCESS_DESCRIPTION_new_null()) == NULL ||
	    (ad = ACCESS_DESCRIPTION_new()) == NULL)
		goto out;
	ASN1_OBJECT_free(ad->method);
	ad->method = OBJ_nid2obj(NID_ad_OCSP);
	GENERAL_NAME_free(ad->location);
	ad->location = gen;
	gen = NULL;
	if (!sk_ACCESS_DESCRIPTION_push(aia, ad))
		goto out;
	ad = NULL;
	rc = X509_add1_ext_i2d(x, NID_info_access, aia, 0, X509V3_ADD_REPLACE) == 1 ? 0 : -EIO;
out:
	GENERAL_NAME_free(gen);
	ACCESS_DESCRIPTION_free(ad);
	sk_ACCESS_DESCRIPTION_pop_free(aia, ACCESS_DESCRIPTION_free);
	return rc;
}

/* Version, serial, names, validity and key: what every certificate has. */
static int
build_base(EVP_PKEY *pub, const X509_NAME *subject, const X509_NAME *issuer, time_t nb, time_t na,
	   X509 **out)
{
	ASN1_INTEGER *serial = NULL;
	X509 *x = NULL;
	int rc;

	if (nb >= na)
		return X509_E_INVALID;
	if ((x = X509_new()) == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	if ((rc = x509_serial_random(&serial)) != 0)
		goto out;
	rc = -EIO;
	if (!X509_set_version(x, X509_VERSION_3) || !X509_set_serialNumber(x, serial) ||
	    !X509_set_subject_name(x, subject) || !X509_set_issuer_name(x, issuer) ||
	    !X509_set_pubkey(x, pub))
		goto out;
	if ((rc = set_time(x, 0, nb)) != 0 || (rc = set_time(x, 1, na)) != 0 ||
	    (rc = add_ski(x)) != 0)
		goto out;
	*out = x;
	x = NULL;
	rc = 0;
out:
	ASN1_INTEGER_free(serial);
	X509_free(x);
	return rc;
}

int
x509_build_root(EVP_PKEY *key, const X509_NAME *subject, time_t not_before, time_t not_after,
		int pathlen, X509 **out)
{
	static const int ku[] = {5, 6}; /* keyCertSign, cRLSign */
	X509 *x = NULL;
	int rc;

	if ((rc = build_base(key, subject, subject, not_before, not_after, &x)) != 0)
		goto out;
	if ((rc = add_bc(x, 1, pathlen)) != 0 || (rc = add_ku(x, ku, 2)) != 0 ||
	    (rc = add_aki(x, x)) != 0)
		goto out;
	*out = x;
	x = NULL;
	rc = 0;
out:
	X509_free(x);
	return rc;
}

int
x509_build_ca(EVP_PKEY *pub, const X509_NAME *subject, const X509 *issuer, time_t not_before,
	      time_t not_after, X509 **out)
{
	static const int ku[] = {0, 5, 6}; /* digitalSignature (OCSP), keyCertSign, cRLSign */
	X509 *x = NULL;
	int rc;

	rc = build_base(pub, subject, X509_get_subject_name(issuer), not_before, not_after, &x);
	if (rc != 0)
		goto out;
	if ((rc = add_bc(x, 1, 0)) != 0 || (rc = add_ku(x, ku, 3)) != 0 ||
	    (rc = add_aki(x, issuer)) != 0)
		goto out;
	*out = x;
	x = NULL;
	rc = 0;
out:
	X509_free(x);
	return rc;
}

int
x509_build_client(const struct x509_client *c, X509 **out)
{
	static const int ku_rsa[] = {0, 2}; /* digitalSignature, keyEncipherment */
	int email = c->email != NULL && c->email[0] != '\0';
	int rsa = EVP_PKEY_is_a(c->pub, "RSA");
	X509 *x = NULL;
	int rc;

	rc = build_base(c->pub, c->subject, X509_get_subject_name(c->issuer), c->not_before,
			c->not_after, &x);
	if (rc != 0)
		goto out;
	if ((rc = add_bc(x, 0, -1)) != 0 || (rc = add_ku(x, ku_rsa, rsa ? 2 : 1)) != 0 ||
	    (rc = add_eku(x, email)) != 0 || (rc = add_aki(x, c->issuer)) != 0)
		goto out;
	if (email && (rc = add_san_email(x, c->email)) != 0)
		goto out;
	if (c->crl_url != NULL && *c->crl_url && (rc = add_crl_dp(x, c->crl_url)) != 0)
		goto out;
	if (c->ocsp_url != NULL && *c->ocsp_url && (rc = add_aia_ocsp(x, c->ocsp_url)) != 0)
		goto out;
	*out = x;
	x = NULL;
	rc = 0;
out:
	X509_free(x);
	return rc;
}

int
x509_sign(X509 *x, EVP_PKEY *key)
{
	return X509_sign(x, key, EVP_sha256()) > 0 ? 0 : -EIO;
}

/* One P-256 key per process for placeholder signatures (the signer replaces them). */
static EVP_PKEY *placeholder_key;
static CRYPTO_ONCE placeholder_once = CRYPTO_ONCE_STATIC_INIT;

static void
placeholder_init(void)
{
	if (x509_key_generate(X509_KEY_P256, &placeholder_key) != 0)
		placeholder_key = NULL;
}

int
x509_placeholder_sign(X509 *x)
{
	if (!CRYPTO_THREAD_run_once(&placeholder_once, placeholder_init) || placeholder_key == NULL)
		return -EIO;
	return x509_sign(x, placeholder_key);
}

int
x509_adopt_signature(X509 *x, const unsigned char *der, size_t len)
{
	const unsigned char *p = der, *end = der + len, *q;
	const ASN1_BIT_STRING *csig = NULL;
	const X509_ALGOR *calg = NULL;
	X509_ALGOR *alg = NULL;
	ASN1_BIT_STRING *sig = NULL;
	unsigned char *mine = NULL;
	long n;
	int tag, cls, rc = X509_E_PARSE, mlen;

	/* Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue } */
	if (len > LONG_MAX || (ASN1_get_object(&p, &n, &tag, &cls, (long)len) & 0x80) ||
	    tag != V_ASN1_SEQUENCE || n != end - p)
		return X509_E_PARSE;
	q = p;
	if ((ASN1_get_object(&q, &n, &tag, &cls, end - p) & 0x80) || tag != V_ASN1_SEQUENCE ||
	    n > end - q)
		return X509_E_PARSE;
	p = q + n;
	if ((alg = d2i_X509_ALGOR(NULL, &p, end - p)) == NULL ||
	    (sig = d2i_ASN1_BIT_STRING(NULL, &p, end - p)) == NULL || p != end)
		goto out;
	/* OpenSSL's own apps/lib/apps.c corrupts signatures through the same casts */
	X509_get0_signature(&csig, &calg, x);
	if (X509_ALGOR_copy((X509_ALGOR *)calg, alg) != 1 ||
	    X509_ALGOR_copy((X509_ALGOR *)X509_get0_tbs_sigalg(x), alg) != 1 ||
	    ASN1_STRING_set((ASN1_BIT_STRING *)csig, ASN1_STRING_get0_data(sig),
			    ASN1_STRING_length(sig)) != 1) {
		rc = -EIO;
		goto out;
	}
	((ASN1_BIT_STRING *)csig)->flags = sig->flags;
	/* re-encode the TBS with the new algorithm, then the whole: it must be the signer's */
	if (i2d_re_X509_tbs(x, NULL) <= 0 || (mlen = i2d_X509(x, &mine)) <= 0) {
		rc = -EIO;
		goto out;
	}
	rc = (size_t)mlen == len && memcmp(mine, der, len) == 0 ? 0 : X509_E_PARSE;
out:
	OPENSSL_free(mine);
	X509_ALGOR_free(alg);
	ASN1_BIT_STRING_free(sig);
	return rc;
}

int
x509_sha256_fingerprint(const X509 *x, char hex[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (!X509_digest(x, EVP_sha256(), md, &n) || n != 32)
		return -EIO;
	for (unsigned int i = 0; i < n; i++) {
		hex[2 * i] = "0123456789abcdef"[md[i] >> 4];
		hex[2 * i + 1] = "0123456789abcdef"[md[i] & 15];
	}
	hex[64] = '\0';
	return 0;
}

static int
asn1_time_get(const ASN1_TIME *at, time_t *t)
{
	struct tm tm;

	if (at == NULL || !ASN1_TIME_to_tm(at, &tm))
		return X509_E_INVALID;
	*t = timegm(&tm);
	return 0;
}

int
x509_times(const X509 *x, time_t *not_before, time_t *not_after)
{
	time_t nb, na;

	if (asn1_time_get(X509_get0_notBefore(x), &nb) != 0 ||
	    asn1_time_get(X509_get0_notAfter(x), &na) != 0)
		return X509_E_INVALID;
	*not_before = nb;
	*not_after = na;
	return 0;
}

static int
crl_add_entry(X509_CRL *crl, const struct x509_revoked *e)
{
	X509_REVOKED *rev = NULL;
	ASN1_INTEGER *serial = NULL;
	ASN1_TIME *at = NULL;
	ASN1_ENUMERATED *reason = NULL;
	int rc;

	if ((rc = serial_from_hex(e->serial_hex, &serial)) != 0)
		goto out;
	rc = -ENOMEM;
	if ((rev = X509_REVOKED_new()) == NULL || (at = ASN1_TIME_set(NULL, e->revoked_at)) == NULL)
		goto out;
	rc = -EIO;
	if (!X509_REVOKED_set_serialNumber(rev, serial) ||
	    !X509_REVOKED_set_revocationDate(rev, at))
		goto out;
	if (e->reason >= 0) {
		if ((reason = ASN1_ENUMERATED_new()) == NULL ||
		    !ASN1_ENUMERATED_set(reason, e->reason) ||
		    X509_REVOKED_add1_ext_i2d(rev, NID_crl_reason, reason, 0, 0) != 1)
			goto out;
	}
	if (!X509_CRL_add0_revoked(crl, rev))
		goto out;
	rev = NULL;
	rc = 0;
out:
	ASN1_ENUMERATED_free(reason);
	ASN1_TIME_free(at);
	ASN1_INTEGER_free(serial);
	X509_REVOKED_free(rev);
	return rc;
}

static int
crl_set_times(X509_CRL *crl, time_t this_update, time_t next_update)
{
	ASN1_TIME *tu = NULL, *nu = NULL;
	int rc = -EIO;

	if ((tu = ASN1_TIME_set(NULL, this_update)) == NULL ||
	    (nu = ASN1_TIME_set(NULL, next_update)) == NULL) {
		rc = X509_E_INVALID;
		goto out;
	}
	if (X509_CRL_set1_lastUpdate(crl, tu) && X509_CRL_set1_nextUpdate(crl, nu))
		rc = 0;
out:
	ASN1_TIME_free(tu);
	ASN1_TIME_free(nu);
	return rc;
}

static int
crl_add_exts(X509_CRL *crl, const X509 *issuer, long long crl_number)
{
	AUTHORITY_KEYID *akid = NULL;
	ASN1_INTEGER *num = NULL;
	int rc;

	if ((rc = make_akid(issuer, &akid)) != 0)
		goto out;
	rc = -EIO;
	if ((num = ASN1_INTEGER_new()) == NULL || !ASN1_INTEGER_set_int64(num, crl_number))
		goto out;
	if (X509_CRL_add1_ext_i2d(crl, NID_crl_number, num, 0, 0) != 1 ||
	    X509_CRL_add1_ext_i2d(crl, NID_authority_key_identifier, akid, 0, 0) != 1)
		goto out;
	rc = 0;
out:
	AUTHORITY_KEYID_free(akid);
	ASN1_INTEGER_free(num);
	return rc;
}

int
x509_crl_build(const X509 *issuer, long long crl_number, time_t this_update, time_t next_update,
	       const struct x509_revoked *entries, size_t n, X509_CRL **out)
{
	X509_CRL *crl = NULL;
	int rc = -EIO;

	if (this_update >= next_update || crl_number < 0)
		return X509_E_INVALID;
	if ((crl = X509_CRL_new()) == NULL)
		return -ENOMEM;
	if (!X509_CRL_set_version(crl, X509_CRL_VERSION_2) ||
	    !X509_CRL_set_issuer_name(crl, X509_get_subject_name(issuer)))
		goto out;
	if ((rc = crl_set_times(crl, this_update, next_update)) != 0)
		goto out;
	for (size_t i = 0; i < n; i++)
		if ((rc = crl_add_entry(crl, &entries[i])) != 0)
			goto out;
	if ((rc = crl_add_exts(crl, issuer, crl_number)) != 0)
		goto out;
	rc = -EIO;
	if (!X509_CRL_sort(crl))
		goto out;
	*out = crl;
	crl = NULL;
	rc = 0;
out:
	X509_CRL_free(crl);
	return rc;
}

int
x509_crl_sign(X509_CRL *crl, EVP_PKEY *key)
{
	return X509_CRL_sign(crl, key, EVP_sha256()) > 0 ? 0 : -EIO;
}

int
x509_crl_placeholder_sign(X509_CRL *crl)
{
	EVP_PKEY *k = NULL;
	int rc;

	if ((rc = x509_key_generate(X509_KEY_P256, &k)) == 0)
		rc = x509_crl_sign(crl, k);
	EVP_PKEY_free(k);
	return rc;
}

/* i2d into a malloc'ed buffer. */
#define DER_OUT(fn, obj, out, len)                                                                 \
	do {                                                                                       \
		unsigned char *buf_ = NULL, *p_;                                                   \
		int n_ = fn(obj, NULL);                                                            \
		if (n_ <= 0)                                                                       \
			return -EIO;                                                               \
		if ((buf_ = malloc((size_t)n_)) == NULL)                                           \
			return -ENOMEM;                                                            \
		p_ = buf_;                                                                         \
		if (fn(obj, &p_) != n_) {                                                          \
			free(buf_);                                                                \
			return -EIO;                                                               \
		}                                                                                  \
		*(out) = buf_;                                                                     \
		*(len) = (size_t)n_;                                                               \
		return 0;                                                                          \
	} while (0)

int
x509_cert_to_der(const X509 *x, unsigned char **out, size_t *len)
{
	DER_OUT(i2d_X509, x, out, len);
}

int
x509_crl_to_der(const X509_CRL *crl, unsigned char **out, size_t *len)
{
	DER_OUT(i2d_X509_CRL, crl, out, len);
}

int
x509_cert_from_der(const unsigned char *der, size_t len, X509 **out)
{
	const unsigned char *p = der;
	X509 *x;

	if (len == 0 || len > 0x7fffffff)
		return X509_E_PARSE;
	if ((x = d2i_X509(NULL, &p, (long)len)) == NULL)
		return X509_E_PARSE;
	if (p != der + len) {
		X509_free(x);
		return X509_E_PARSE;
	}
	*out = x;
	return 0;
}

int
x509_crl_from_der(const unsigned char *der, size_t len, X509_CRL **out)
{
	const unsigned char *p = der;
	X509_CRL *crl;

	if (len == 0 || len > 0x7fffffff)
		return X509_E_PARSE;
	if ((crl = d2i_X509_CRL(NULL, &p, (long)len)) == NULL)
		return X509_E_PARSE;
	if (p != der + len) {
		X509_CRL_free(crl);
		return X509_E_PARSE;
	}
	*out = crl;
	return 0;
}

int
x509_cert_to_pem(const X509 *x, char **out, size_t *len)
{
	BIO *b;
	int rc = -EIO;

	if ((b = BIO_new(BIO_s_mem())) == NULL)
		return -ENOMEM;
	if (PEM_write_bio_X509(b, x))
		rc = bio_take(b, out, len);
	BIO_free(b);
	return rc;
}

int
x509_crl_to_pem(const X509_CRL *crl, char **out, size_t *len)
{
	BIO *b;
	int rc = -EIO;

	if ((b = BIO_new(BIO_s_mem())) == NULL)
		return -ENOMEM;
	if (PEM_write_bio_X509_CRL(b, (X509_CRL *)crl))
		rc = bio_take(b, out, len);
	BIO_free(b);
	return rc;
}

int
x509_cert_from_pem(const char *pem, size_t len, X509 **out)
{
	BIO *b;
	X509 *x;

	if (len > 0x7fffffff)
		return X509_E_PARSE;
	if ((b = BIO_new_mem_buf(pem, (int)len)) == NULL)
		return -ENOMEM;
	x = PEM_read_bio_X509(b, NULL, NULL, NULL);
	BIO_free(b);
	if (x == NULL)
		return X509_E_PARSE;
	*out = x;
	return 0;
}

int
x509_key_to_der(EVP_PKEY *key, unsigned char **out, size_t *len)
{
	PKCS8_PRIV_KEY_INFO *p8 = NULL;
	unsigned char *buf = NULL, *p;
	int n, rc = -EIO;

	if ((p8 = EVP_PKEY2PKCS8(key)) == NULL || (n = i2d_PKCS8_PRIV_KEY_INFO(p8, NULL)) <= 0)
		goto out;
	if ((buf = malloc((size_t)n)) == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	p = buf;
	if (i2d_PKCS8_PRIV_KEY_INFO(p8, &p) != n) {
		OPENSSL_cleanse(buf, (size_t)n);
		free(buf);
		goto out;
	}
	*out = buf;
	*len = (size_t)n;
	rc = 0;
out:
	PKCS8_PRIV_KEY_INFO_free(p8);
	return rc;
}

int
x509_key_from_der(const unsigned char *der, size_t len, EVP_PKEY **out)
{
	const unsigned char *p = der;
	PKCS8_PRIV_KEY_INFO *p8 = NULL;
	EVP_PKEY *k = NULL;
	int rc = X509_E_PARSE;

	if (len == 0 || len > 0x7fffffff)
		return X509_E_PARSE;
	if ((p8 = d2i_PKCS8_PRIV_KEY_INFO(NULL, &p, (long)len)) == NULL || p != der + len)
		goto out;
	if ((k = EVP_PKCS82PKEY(p8)) == NULL)
		goto out;
	*out = k;
	rc = 0;
out:
	PKCS8_PRIV_KEY_INFO_free(p8);
	return rc;
}
