/* x509_codec.c: certificates and CRLs to and from DER and PEM. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "pki/x509.h"
#include "pki/x509_int.h"

/* The contents of a memory BIO as a malloc'ed NUL-terminated string. */
int
x509_int_bio_take(BIO *b, char **out, size_t *len)
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
		rc = x509_int_bio_take(b, out, len);
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
		rc = x509_int_bio_take(b, out, len);
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
