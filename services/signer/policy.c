/* policy.c: what shomei-signer agrees to sign (DECISIONS.md, "Signer protocol"). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/ocsp.h>
#include <openssl/x509v3.h>

#include "extern.h"
#include "pki/signer.h"
#include "pki/ocsp.h"
#include "pki/x509.h"

/* Extensions a client certificate may carry; anything else is refused. */
static const int cert_exts[] = {
	NID_basic_constraints,
	NID_key_usage,
	NID_ext_key_usage,
	NID_subject_key_identifier,
	NID_authority_key_identifier,
	NID_subject_alt_name,
	NID_crl_distribution_points,
	NID_info_access,
	NID_certificate_policies,
};

/* Extensions a CRL may carry. */
static const int crl_exts[] = {NID_crl_number, NID_authority_key_identifier};

static int
refuse(char *reason, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, len, fmt, ap);
	va_end(ap);
	return SIGNER_ST_REFUSED;
}

static int
nid_in(int nid, const int *set, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (set[i] == nid)
			return 1;
	return 0;
}

/* 1 when akid's keyIdentifier equals the CA's subjectKeyIdentifier. */
static int
akid_matches(AUTHORITY_KEYID *akid, X509 *ca)
{
	const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(ca);

	return akid != NULL && akid->keyid != NULL && ski != NULL &&
	       ASN1_OCTET_STRING_cmp(akid->keyid, ski) == 0;
}

static int
check_cert_exts(X509 *x, char *reason, size_t len)
{
	uint32_t fl = X509_get_extension_flags(x);

	if (fl & EXFLAG_INVALID)
		return refuse(reason, len, "malformed or repeated extension");
	for (int i = 0; i < X509_get_ext_count(x); i++) {
		int nid = OBJ_obj2nid(X509_EXTENSION_get_object(X509_get_ext(x, i)));

		if (!nid_in(nid, cert_exts, sizeof(cert_exts) / sizeof(cert_exts[0])))
			return refuse(reason, len, "extension %s not allowed",
				      nid == NID_undef ? "(unknown)" : OBJ_nid2sn(nid));
	}
	if (!(fl & EXFLAG_BCONS))
		return refuse(reason, len, "basicConstraints missing (CA:FALSE required)");
	if (fl & EXFLAG_CA)
		return refuse(reason, len, "CA:TRUE not allowed");
	if (!(fl & EXFLAG_KUSAGE))
		return refuse(reason, len, "keyUsage missing");
	if (X509_get_key_usage(x) & (KU_KEY_CERT_SIGN | KU_CRL_SIGN))
		return refuse(reason, len, "keyUsage keyCertSign/cRLSign not allowed");
	return 0;
}

static int
check_eku(X509 *x, char *reason, size_t len)
{
	EXTENDED_KEY_USAGE *eku = X509_get_ext_d2i(x, NID_ext_key_usage, NULL, NULL);
	int client = 0, rc = 0;

	if (eku == NULL)
		return refuse(reason, len, "extendedKeyUsage missing (clientAuth required)");
	for (int i = 0; i < sk_ASN1_OBJECT_num(eku) && rc == 0; i++) {
		int nid = OBJ_obj2nid(sk_ASN1_OBJECT_value(eku, i));

		if (nid == NID_client_auth)
			client = 1;
		else if (nid != NID_email_protect)
			rc = refuse(reason, len, "extendedKeyUsage %s not allowed",
				    nid == NID_undef ? "(unknown)" : OBJ_nid2sn(nid));
	}
	if (rc == 0 && !client)
		rc = refuse(reason, len, "extendedKeyUsage clientAuth missing");
	sk_ASN1_OBJECT_pop_free(eku, ASN1_OBJECT_free);
	return rc;
}

/* subjectAltName, when present, names only e-mail addresses. */
static int
check_san(X509 *x, char *reason, size_t len)
{
	GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	int rc = 0;

	for (int i = 0; gens != NULL && i < sk_GENERAL_NAME_num(gens); i++)
		if (sk_GENERAL_NAME_value(gens, i)->type != GEN_EMAIL)
			rc = refuse(reason, len, "subjectAltName may hold only e-mail addresses");
	GENERAL_NAMES_free(gens);
	return rc;
}

/* 1 when g is an http or https URI. */
static int
uri_ok(const GENERAL_NAME *g)
{
	const unsigned char *u;
	int n;

	if (g == NULL || g->type != GEN_URI)
		return 0;
	u = ASN1_STRING_get0_data(g->d.uniformResourceIdentifier);
	n = ASN1_STRING_length(g->d.uniformResourceIdentifier);
	return (n > 7 && memcmp(u, "http://", 7) == 0) || (n > 8 && memcmp(u, "https://", 8) == 0);
}

/* 1 when there is at least one name and every one is an http(s) URI. */
static int
all_uris(GENERAL_NAMES *gens)
{
	for (int i = 0; i < sk_GENERAL_NAME_num(gens); i++)
		if (!uri_ok(sk_GENERAL_NAME_value(gens, i)))
			return 0;
	return sk_GENERAL_NAME_num(gens) > 0;
}

/* cRLDistributionPoints: full names that are http(s) URIs, no reasons, no cRLIssuer. */
static int
check_crl_dp(X509 *x, char *reason, size_t len)
{
	CRL_DIST_POINTS *dps = X509_get_ext_d2i(x, NID_crl_distribution_points, NULL, NULL);
	int rc = 0;

	for (int i = 0; dps != NULL && i < sk_DIST_POINT_num(dps) && rc == 0; i++) {
		DIST_POINT *dp = sk_DIST_POINT_value(dps, i);

		if (dp->reasons != NULL || dp->CRLissuer != NULL || dp->distpoint == NULL ||
		    dp->distpoint->type != 0 || !all_uris(dp->distpoint->name.fullname))
			rc = refuse(reason, len,
				    "cRLDistributionPoints may hold only http(s) URIs");
	}
	CRL_DIST_POINTS_free(dps);
	return rc;
}

/* authorityInfoAccess: only OCSP responders at http(s) URIs. */
static int
check_aia(X509 *x, char *reason, size_t len)
{
	AUTHORITY_INFO_ACCESS *aia = X509_get_ext_d2i(x, NID_info_access, NULL, NULL);
	int rc = 0;

	for (int i = 0; aia != NULL && i < sk_ACCESS_DESCRIPTION_num(aia) && rc == 0; i++) {
		ACCESS_DESCRIPTION *ad = sk_ACCESS_DESCRIPTION_value(aia, i);

		if (OBJ_obj2nid(ad->method) != NID_ad_OCSP || !uri_ok(ad->location))
			rc = refuse(reason, len,
				    "authorityInfoAccess may hold only OCSP http(s) URIs");
	}
	AUTHORITY_INFO_ACCESS_free(aia);
	return rc;
}

static int
check_issuer(const struct sca *ca, X509 *x, char *reason, size_t len)
{
	AUTHORITY_KEYID *akid;
	int ok;

	if (X509_NAME_cmp(X509_get_issuer_name(x), X509_get_subject_name(ca->cert)) != 0)
		return refuse(reason, len, "issuer does not match the CA for this tenant_id");
	if (X509_NAME_cmp(X509_get_subject_name(x), X509_get_subject_name(ca->cert)) == 0)
		return refuse(reason, len, "subject equals the CA's subject");
	akid = X509_get_ext_d2i(x, NID_authority_key_identifier, NULL, NULL);
	ok = akid_matches(akid, ca->cert);
	AUTHORITY_KEYID_free(akid);
	if (!ok)
		return refuse(reason, len, "authorityKeyIdentifier does not match the CA's key");
	return 0;
}

static int
check_validity(const struct sca *ca, X509 *x, time_t now, char *reason, size_t len)
{
	time_t nb, na, ca_nb, ca_na;

	if (x509_times(x, &nb, &na) != 0 || x509_times(ca->cert, &ca_nb, &ca_na) != 0)
		return refuse(reason, len, "unreadable validity");
	if (nb >= na)
		return refuse(reason, len, "notBefore is not before notAfter");
	if (na > ca_na)
		return refuse(reason, len, "notAfter is past the CA's notAfter");
	if (nb < ca_nb)
		return refuse(reason, len, "notBefore is before the CA's notBefore");
	if (nb > now + (time_t)ca->start_days * 86400 + POLICY_SKEW_SECONDS)
		return refuse(reason, len,
			      "notBefore is more than %d days ahead (the tenant's allowance)",
			      ca->start_days);
	if ((na - nb) > (time_t)ca->max_days * 86400)
		return refuse(reason, len, "validity %lld days exceeds the limit of %d days",
			      (long long)((na - nb + 86399) / 86400), ca->max_days);
	return 0;
}

static int
check_serial(X509 *x, char *reason, size_t len)
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
	int rc = 0;

	if (bn == NULL)
		return refuse(reason, len, "unreadable serial number");
	if (BN_is_negative(bn) || BN_is_zero(bn))
		rc = refuse(reason, len, "serial number must be positive");
	else if (BN_num_bits(bn) < 64)
		rc = refuse(reason, len, "serial number shorter than 64 bits");
	else if (BN_num_bytes(bn) > 20)
		rc = refuse(reason, len, "serial number longer than 20 bytes");
	BN_free(bn);
	return rc;
}

static int
check_key(const struct sca *ca, X509 *x, char *reason, size_t len)
{
	EVP_PKEY *pub = X509_get0_pubkey(x);
	char group[32];
	size_t glen;

	if (pub == NULL)
		return refuse(reason, len, "unreadable public key");
	if (EVP_PKEY_eq(pub, ca->key) == 1)
		return refuse(reason, len, "public key is the CA's own");
	if (EVP_PKEY_is_a(pub, "RSA"))
		return EVP_PKEY_get_bits(pub) >= 2048
			       ? 0
			       : refuse(reason, len, "RSA key shorter than 2048 bits");
	if (EVP_PKEY_is_a(pub, "EC") &&
	    EVP_PKEY_get_utf8_string_param(pub, "group", group, sizeof(group), &glen) == 1 &&
	    (strcmp(group, "prime256v1") == 0 || strcmp(group, "secp384r1") == 0))
		return 0;
	return refuse(reason, len, "key type not allowed (RSA >= 2048, EC P-256/P-384)");
}

int
policy_check_cert(const struct sca *ca, X509 *x, time_t now, char *reason, size_t len)
{
	int rc;

	if (ca->max_days <= 0)
		return refuse(reason, len, "this CA signs no certificates");
	if (X509_get_version(x) != X509_VERSION_3)
		return refuse(reason, len, "not an X.509 v3 certificate");
	if ((rc = check_cert_exts(x, reason, len)) != 0 || (rc = check_eku(x, reason, len)) != 0 ||
	    (rc = check_san(x, reason, len)) != 0 || (rc = check_crl_dp(x, reason, len)) != 0 ||
	    (rc = check_aia(x, reason, len)) != 0 || (rc = check_issuer(ca, x, reason, len)) != 0 ||
	    (rc = check_validity(ca, x, now, reason, len)) != 0 ||
	    (rc = check_serial(x, reason, len)) != 0 || (rc = check_key(ca, x, reason, len)) != 0)
		return rc;
	return 0;
}

/*
 * Entries: a positive serial, and no extension but a reasonCode that RFC 5280 lets a full CRL
 * of an end-entity CA carry (not cACompromise, certificateHold, removeFromCRL, aACompromise or
 * the unused 7): a tenant's CRL revokes its own client certificates, nothing else.
 */
static int
check_crl_entries(X509_CRL *crl, char *reason, size_t len)
{
	STACK_OF(X509_REVOKED) *list = X509_CRL_get_REVOKED(crl);

	for (int i = 0; list != NULL && i < sk_X509_REVOKED_num(list); i++) {
		X509_REVOKED *r = sk_X509_REVOKED_value(list, i);
		const ASN1_INTEGER *sn = X509_REVOKED_get0_serialNumber(r);
		ASN1_ENUMERATED *code;
		long v;

		if (sn == NULL || ASN1_STRING_type(sn) == V_ASN1_NEG_INTEGER)
			return refuse(reason, len, "CRL entry %d: serial not positive", i);
		for (int j = 0; j < X509_REVOKED_get_ext_count(r); j++)
			if (OBJ_obj2nid(X509_EXTENSION_get_object(X509_REVOKED_get_ext(r, j))) !=
			    NID_crl_reason)
				return refuse(reason, len, "CRL entry %d: extension not allowed",
					      i);
		code = X509_REVOKED_get_ext_d2i(r, NID_crl_reason, NULL, NULL);
		v = code != NULL ? ASN1_ENUMERATED_get(code) : 0;
		ASN1_ENUMERATED_free(code);
		if (v < 0 || v == 2 || (v > 5 && v != 9))
			return refuse(reason, len, "CRL entry %d: reason %ld not allowed", i, v);
	}
	return 0;
}

static int
check_crl_times(X509_CRL *crl, time_t now, char *reason, size_t len)
{
	const ASN1_TIME *tu = X509_CRL_get0_lastUpdate(crl), *nu = X509_CRL_get0_nextUpdate(crl);
	time_t lo = now - POLICY_SKEW_SECONDS, hi = now + POLICY_SKEW_SECONDS;
	int days, secs;

	if (tu == NULL || nu == NULL)
		return refuse(reason, len, "thisUpdate and nextUpdate are required");
	/* a CRL dated in the past could hide a revocation; one dated ahead outlives its time */
	if (X509_cmp_time(tu, &lo) < 0 || X509_cmp_time(tu, &hi) > 0)
		return refuse(reason, len,
			      "thisUpdate is not now (more than %d s from the signer's clock)",
			      POLICY_SKEW_SECONDS);
	if (!ASN1_TIME_diff(&days, &secs, tu, nu) || days < 0 || secs < 0 ||
	    (days == 0 && secs == 0))
		return refuse(reason, len, "nextUpdate is not after thisUpdate");
	if (days > POLICY_CRL_MAX_DAYS || (days == POLICY_CRL_MAX_DAYS && secs > 0))
		return refuse(reason, len, "nextUpdate more than %d days ahead",
			      POLICY_CRL_MAX_DAYS);
	return 0;
}

int
policy_check_crl(const struct sca *ca, X509_CRL *crl, time_t now, char *reason, size_t len)
{
	AUTHORITY_KEYID *akid;
	ASN1_INTEGER *num;
	int ok;

	if (X509_CRL_get_version(crl) != X509_CRL_VERSION_2)
		return refuse(reason, len, "not a v2 CRL");
	if (X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(ca->cert)) != 0)
		return refuse(reason, len, "CRL issuer does not match the CA for this tenant_id");
	for (int i = 0; i < X509_CRL_get_ext_count(crl); i++) {
		int nid = OBJ_obj2nid(X509_EXTENSION_get_object(X509_CRL_get_ext(crl, i)));

		if (!nid_in(nid, crl_exts, sizeof(crl_exts) / sizeof(crl_exts[0])))
			return refuse(reason, len, "CRL extension %s not allowed",
				      nid == NID_undef ? "(unknown)" : OBJ_nid2sn(nid));
	}
	num = X509_CRL_get_ext_d2i(crl, NID_crl_number, NULL, NULL);
	ok = num != NULL && ASN1_INTEGER_get(num) >= 0;
	ASN1_INTEGER_free(num);
	if (!ok)
		return refuse(reason, len, "CRL number missing");
	akid = X509_CRL_get_ext_d2i(crl, NID_authority_key_identifier, NULL, NULL);
	ok = akid_matches(akid, ca->cert);
	AUTHORITY_KEYID_free(akid);
	if (!ok)
		return refuse(reason, len, "authorityKeyIdentifier does not match the CA's key");
	if ((ca->kind == SCA_TENANT || ca->kind == SCA_RETIRED) &&
	    (ok = check_crl_entries(crl, reason, len)) != 0)
		return ok;
	return check_crl_times(crl, now, reason, len);
}

/* A revocation reason a tenant CA gives (the CRL entries' set); -1: none. */
static int
reason_ok(int v)
{
	return v == -1 || v == 0 || v == 1 || v == 3 || v == 4 || v == 5 || v == 9;
}

/* 1 when t is within POLICY_SKEW_SECONDS of now. */
static int
time_now(const ASN1_GENERALIZEDTIME *t, time_t now)
{
	time_t lo = now - POLICY_SKEW_SECONDS, hi = now + POLICY_SKEW_SECONDS;

	return t != NULL && X509_cmp_time(t, &lo) >= 0 && X509_cmp_time(t, &hi) <= 0;
}

/* The one SingleResponse: about a certificate of ca, a status it may give, current times. */
static int
check_ocsp_single(const struct sca *ca, OCSP_SINGLERESP *one, time_t now, char *reason, size_t len)
{
	ASN1_GENERALIZEDTIME *rev = NULL, *tu = NULL, *nu = NULL;
	ASN1_INTEGER *sn = NULL;
	int st, why = -1, days, secs;
	BIGNUM *bn;

	if (OCSP_SINGLERESP_get_ext_count(one) != 0)
		return refuse(reason, len, "OCSP single response extensions not allowed");
	if (!ocsp_id_is_issuer(OCSP_SINGLERESP_get0_id(one), ca->cert))
		return refuse(reason, len, "OCSP CertID does not name the CA for this tenant_id");
	OCSP_id_get0_info(NULL, NULL, NULL, &sn, (OCSP_CERTID *)OCSP_SINGLERESP_get0_id(one));
	bn = sn ? ASN1_INTEGER_to_BN(sn, NULL) : NULL;
	st = bn != NULL && !BN_is_negative(bn) && !BN_is_zero(bn);
	BN_free(bn);
	if (!st)
		return refuse(reason, len, "OCSP CertID serial not positive");
	st = OCSP_single_get0_status(one, &why, &rev, &tu, &nu);
	if (st != V_OCSP_CERTSTATUS_GOOD && st != V_OCSP_CERTSTATUS_REVOKED &&
	    st != V_OCSP_CERTSTATUS_UNKNOWN)
		return refuse(reason, len, "OCSP status unreadable");
	if (st == V_OCSP_CERTSTATUS_REVOKED) {
		time_t hi = now + POLICY_SKEW_SECONDS;

		if (!reason_ok(why))
			return refuse(reason, len, "OCSP revocation reason %d not allowed", why);
		if (rev == NULL || X509_cmp_time(rev, &hi) > 0)
			return refuse(reason, len, "OCSP revocationTime is in the future");
	}
	/* dated in the past it could hide a revocation; dated ahead, outlive its time */
	if (!time_now(tu, now))
		return refuse(reason, len,
			      "OCSP thisUpdate is not now (more than %d s from the signer's clock)",
			      POLICY_SKEW_SECONDS);
	if (nu == NULL || !ASN1_TIME_diff(&days, &secs, tu, nu) || days < 0 || secs < 0 ||
	    (days == 0 && secs == 0))
		return refuse(reason, len, "OCSP nextUpdate missing or not after thisUpdate");
	if (days > POLICY_OCSP_MAX_DAYS || (days == POLICY_OCSP_MAX_DAYS && secs > 0))
		return refuse(reason, len, "OCSP nextUpdate more than %d days ahead",
			      POLICY_OCSP_MAX_DAYS);
	return 0;
}

int
policy_check_ocsp(const struct sca *ca, OCSP_BASICRESP *bs, time_t now, char *reason, size_t len)
{
	if (ca->kind != SCA_TENANT && ca->kind != SCA_RETIRED)
		return refuse(reason, len, "OCSP responses are signed with a tenant's CA only");
	if (OCSP_BASICRESP_get_ext_count(bs) != 0)
		return refuse(reason, len, "OCSP response extensions not allowed");
	if (!time_now(OCSP_resp_get0_produced_at(bs), now))
		return refuse(reason, len,
			      "OCSP producedAt is not now (more than %d s from the signer's clock)",
			      POLICY_SKEW_SECONDS);
	if (OCSP_resp_count(bs) != 1)
		return refuse(reason, len, "an OCSP response must hold exactly one certificate");
	return check_ocsp_single(ca, OCSP_resp_get0(bs, 0), now, reason, len);
}
