/* p12.c: PKCS#12 files for end users and administrators (modern and compat profiles). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pkcs12.h>

#include "pki/p12.h"
#include "pki/x509.h"

/* X509 common names are at most 64 characters, up to 4 bytes each in UTF-8. */
#define CN_MAX 260

static const char *const mode_names[P12_MODE__MAX] = {
	[P12_MODERN] = "modern",
	[P12_COMPAT] = "compat",
};

int
p12_mode_parse(const char *s, enum p12_mode *out)
{
	for (int i = 0; i < P12_MODE__MAX; i++)
		if (s != NULL && strcmp(s, mode_names[i]) == 0) {
			*out = (enum p12_mode)i;
			return 0;
		}
	return P12_E_INVALID;
}

const char *
p12_mode_name(enum p12_mode m)
{
	return m < P12_MODE__MAX ? mode_names[m] : "?";
}

static int
p12_encode(PKCS12 *p12, unsigned char **out, size_t *outlen)
{
	unsigned char *buf = NULL, *p;
	int n;

	if ((n = i2d_PKCS12(p12, NULL)) <= 0)
		return -EIO;
	if ((buf = malloc((size_t)n)) == NULL)
		return -ENOMEM;
	p = buf;
	if (i2d_PKCS12(p12, &p) != n) {
		free(buf);
		return -EIO;
	}
	*out = buf;
	*outlen = (size_t)n;
	return 0;
}

int
p12_build(EVP_PKEY *key, X509 *cert, X509 *const *chain, size_t nchain, const char *password,
	  enum p12_mode mode, unsigned char **out, size_t *outlen)
{
	STACK_OF(X509) *ca = NULL;
	PKCS12 *p12 = NULL;
	char cn[CN_MAX];
	int nid, rc = -ENOMEM;

	if (mode >= P12_MODE__MAX || password == NULL || X509_check_private_key(cert, key) != 1)
		return P12_E_INVALID;
	if ((rc = x509_name_cn(X509_get_subject_name(cert), cn, sizeof(cn))) != 0)
		return rc;
	rc = -ENOMEM;
	if ((ca = sk_X509_new_null()) == NULL)
		goto out;
	for (size_t i = 0; i < nchain; i++)
		if (!sk_X509_push(ca, chain[i]))
			goto out;
	nid = mode == P12_MODERN ? NID_aes_256_cbc : NID_pbe_WithSHA1And3_Key_TripleDES_CBC;
	/* mac_iter -1: no MAC yet; it is added below with the digest the mode asks for. */
	rc = -EIO;
	p12 = PKCS12_create(password, cn[0] ? cn : NULL, key, cert, ca, nid, nid, P12_ITER, -1, 0);
	if (p12 == NULL)
		goto out;
	if (!PKCS12_set_mac(p12, password, -1, NULL, 0, P12_ITER,
			    mode == P12_MODERN ? EVP_sha256() : EVP_sha1()))
		goto out;
	rc = p12_encode(p12, out, outlen);
out:
	PKCS12_free(p12);
	sk_X509_free(ca);
	return rc;
}
