/* x509_name.c: subject names, serials, fingerprints and validity times of certificates. */
#include <errno.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "pki/x509.h"
#include "pki/x509_int.h"

#define SERIAL_BYTES 16

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
int
x509_int_email_ok(const char *s)
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
	if (nid == NID_pkcs9_emailAddress && !x509_int_email_ok(v))
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

char *
x509_name_oneline(const X509_NAME *name)
{
	unsigned long flags = XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB;
	char *s = NULL;
	BIO *b;

	if ((b = BIO_new(BIO_s_mem())) == NULL)
		return NULL;
	if (X509_NAME_print_ex(b, name, 0, flags) >= 0)
		x509_int_bio_take(b, &s, NULL);
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
int
x509_int_serial_from_hex(const char *hex, ASN1_INTEGER **out)
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
