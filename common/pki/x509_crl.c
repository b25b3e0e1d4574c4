/* x509_crl.c: building and signing CRLs. */
#include <errno.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include "pki/x509.h"
#include "pki/x509_int.h"

static int
crl_add_entry(X509_CRL *crl, const struct x509_revoked *e)
{
	X509_REVOKED *rev = NULL;
	ASN1_INTEGER *serial = NULL;
	ASN1_TIME *at = NULL;
	ASN1_ENUMERATED *reason = NULL;
	int rc;

	if ((rc = x509_int_serial_from_hex(e->serial_hex, &serial)) != 0)
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

	if ((rc = x509_int_make_akid(issuer, &akid)) != 0)
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
