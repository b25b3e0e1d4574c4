/* x509_ext.c: the certificate extensions shomei writes, shared by the builders (x509_int.h). */
#include <errno.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include "pki/x509.h"
#include "pki/x509_int.h"

/* SKI = SHA-1 of the subject public key bits (RFC 5280 4.2.1.2, method 1). */
int
x509_int_add_ski(X509 *x)
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
int
x509_int_make_akid(const X509 *issuer, AUTHORITY_KEYID **out)
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

int
x509_int_add_aki(X509 *x, const X509 *issuer)
{
	AUTHORITY_KEYID *akid = NULL;
	int rc;

	if ((rc = x509_int_make_akid(issuer, &akid)) != 0)
		return rc;
	rc = X509_add1_ext_i2d(x, NID_authority_key_identifier, akid, 0, X509V3_ADD_REPLACE) == 1
		     ? 0
		     : -EIO;
	AUTHORITY_KEYID_free(akid);
	return rc;
}

/* basicConstraints, critical; pathlen < 0 leaves it out. */
int
x509_int_add_bc(X509 *x, int ca, int pathlen)
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
int
x509_int_add_ku(X509 *x, const int *bits, size_t n)
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

int
x509_int_add_eku(X509 *x, int email)
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

int
x509_int_add_san_email(X509 *x, const char *email)
{
	GENERAL_NAMES *gens = NULL;
	GENERAL_NAME *gen = NULL;
	ASN1_IA5STRING *ia5 = NULL;
	int rc = -ENOMEM;

	if (!x509_int_email_ok(email))
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
int
x509_int_add_crl_dp(X509 *x, const char *url)
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
int
x509_int_add_aia_ocsp(X509 *x, const char *url)
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
