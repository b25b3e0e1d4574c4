/* x509_cert.c: the root, CA and client certificate builders and certificate signing. */
#include <errno.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "pki/x509.h"
#include "pki/x509_int.h"

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
	    (rc = x509_int_add_ski(x)) != 0)
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
	if ((rc = x509_int_add_bc(x, 1, pathlen)) != 0 || (rc = x509_int_add_ku(x, ku, 2)) != 0 ||
	    (rc = x509_int_add_aki(x, x)) != 0)
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
	if ((rc = x509_int_add_bc(x, 1, 0)) != 0 || (rc = x509_int_add_ku(x, ku, 3)) != 0 ||
	    (rc = x509_int_add_aki(x, issuer)) != 0)
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
	if ((rc = x509_int_add_bc(x, 0, -1)) != 0 ||
	    (rc = x509_int_add_ku(x, ku_rsa, rsa ? 2 : 1)) != 0 ||
	    (rc = x509_int_add_eku(x, email)) != 0 || (rc = x509_int_add_aki(x, c->issuer)) != 0)
		goto out;
	if (email && (rc = x509_int_add_san_email(x, c->email)) != 0)
		goto out;
	if (c->crl_url != NULL && *c->crl_url && (rc = x509_int_add_crl_dp(x, c->crl_url)) != 0)
		goto out;
	if (c->ocsp_url != NULL && *c->ocsp_url &&
	    (rc = x509_int_add_aia_ocsp(x, c->ocsp_url)) != 0)
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

int
x509_placeholder_sign(X509 *x)
{
	EVP_PKEY *placeholder_key = x509_int_placeholder_key();

	if (placeholder_key == NULL)
		return -EIO;
	return x509_sign(x, placeholder_key);
}
