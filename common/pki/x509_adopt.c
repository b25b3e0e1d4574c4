/* x509_adopt.c: the OpenSSL 3.0 workarounds of x509, each saying what it avoids and saves. */
/* EC_KEY for x509_int_p256_legacy (deprecated in OpenSSL 3.0, still its fast path; see there) */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <errno.h>
#include <limits.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/x509.h>

#include "pki/x509.h"
#include "pki/x509_int.h"

/*
 * A P-256 key held as a legacy EC_KEY. OpenSSL 3.0 encodes and decodes a provider-only key
 * through OSSL_ENCODER/OSSL_DECODER contexts, whose setup dominated building a certificate
 * (X509_set_pubkey 185 us of 216) and PKCS#8 encoding; a legacy key takes the EVP_PKEY_ASN1
 * method path (31 us). Signing and PKCS#12 use it through the same EVP calls.
 *
 * Works around: the OSSL_ENCODER/OSSL_DECODER setup for every provider key that is written
 * or read (X509_set_pubkey, PKCS#8). Saves: most of building a P-256 certificate (measured
 * again for this file: X509_set_pubkey 250 us with a provider key, 5.5 us with this one).
 * x509_key_generate makes every P-256 key here; these EC_KEY calls are x509's only deprecated
 * API, so OPENSSL_SUPPRESS_DEPRECATED is defined in this file and no other.
 */
EVP_PKEY *
x509_int_p256_legacy(void)
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

/*
 * One P-256 key per process for placeholder signatures (the signer replaces them).
 *
 * Works around: a throw-away key per certificate, which costs a key generation and, in
 * OpenSSL 3.0, a first-use export of the legacy key into the provider when it signs. Saves:
 * about 75 us per certificate sent to the signer (measured for this file: 124 us signing with
 * a fresh key, 47 us with this one). The key is never freed and never a CA's.
 */
static EVP_PKEY *placeholder_key;
static CRYPTO_ONCE placeholder_once = CRYPTO_ONCE_STATIC_INIT;

static void
placeholder_init(void)
{
	if (x509_key_generate(X509_KEY_P256, &placeholder_key) != 0)
		placeholder_key = NULL;
}

EVP_PKEY *
x509_int_placeholder_key(void)
{
	if (!CRYPTO_THREAD_run_once(&placeholder_once, placeholder_init))
		return NULL;
	return placeholder_key;
}

/*
 * Works around: parsing the certificate the signer sends back (d2i_X509), in which
 * OpenSSL 3.0 decodes the subject public key through an OSSL_DECODER context, about 150 us
 * per certificate. Saves: that parse; x already holds everything but the signature, so it
 * takes the signature and algorithm from der and must then re-encode byte for byte as der.
 */
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
