/* x509_key.c: key types, key generation, and private keys to and from PKCS#8 DER. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "pki/x509.h"
#include "pki/x509_int.h"

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
		k = x509_int_p256_legacy();
		break;
	default:
		return X509_E_INVALID;
	}
	if (k == NULL)
		return -EIO;
	*out = k;
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
