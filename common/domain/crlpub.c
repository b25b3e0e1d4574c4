/* crlpub.c: the root and administrator CA CRLs for nginx's ssl_crl (see crlpub.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/pem.h>

#include "domain/crlpub.h"
#include "domain/lifecycle.h"
#include "core/util.h"
#include "pki/x509.h"

/* A whole CRL file is far below this (two CRLs, one entry per revoked administrator cert). */
#define FILE_MAX (4 << 20)

static const struct db_stmt st_lock = {
	"crlpub_lock",
	"SELECT pg_advisory_xact_lock(" CRLPUB_LOCK ")",
	0,
};

static const struct db_stmt st_ca = {
	"crlpub_ca",
	"SELECT id, cert_pem, key_file FROM cas WHERE active AND kind = $1"
	" ORDER BY id DESC LIMIT 1",
	1,
};

static const struct db_stmt st_bump = {
	"crlpub_bump",
	"UPDATE cas SET crl_number = crl_number + 1 WHERE id = $1::bigint RETURNING crl_number",
	1,
};

static const struct db_stmt st_revoked = {
	"crlpub_revoked",
	"SELECT serial, extract(epoch FROM revoked_at)::bigint AS revoked_at"
	" FROM admin_certificates WHERE ca_id = $1::bigint AND revoked_at IS NOT NULL ORDER BY id",
	1,
};

/* clang-format off */
/* The CRL just signed, kept for every shomei-revoke to serve (never a lower number). */
static const struct db_stmt st_store = {
	"crlpub_store",
	"INSERT INTO crls (ca_id, number, der, entries, this_update, next_update, published_at)"
	" VALUES ($1::bigint, $2::bigint, decode($3, 'hex'), $4::int, to_timestamp($5::bigint),"
	" to_timestamp($6::bigint), now())"
	" ON CONFLICT (ca_id) DO UPDATE SET number = EXCLUDED.number, der = EXCLUDED.der,"
	" entries = EXCLUDED.entries, this_update = EXCLUDED.this_update,"
	" next_update = EXCLUDED.next_update, published_at = now()"
	" WHERE crls.number < EXCLUDED.number",
	6,
};

/* How many of the CAs $1, $2 have a stored CRL valid past $3 (epoch seconds). */
static const struct db_stmt st_stored_fresh = {
	"crlpub_stored_fresh",
	"SELECT count(*) AS n FROM crls WHERE ca_id IN ($1::bigint, $2::bigint)"
	" AND next_update > to_timestamp($3::bigint)",
	3,
};

/* The tenant's issuing CAs that publish a CRL (the active one first), locked: one publisher
 * at a time per tenant. */
static const struct db_stmt st_tenant_ca = {
	"crlpub_tenant_cas",
	"SELECT c.id, c.cert_pem, c.key_file, c.active FROM cas c WHERE c.kind = 'tenant'"
	" AND c.tenant_id = $1::bigint AND " CRLPUB_SQL_LIVE("c")
	" ORDER BY c.active DESC, c.id DESC FOR UPDATE",
	1,
};

/* The stored CRL of CA $1 of tenant $2 against what it must list now. */
static const struct db_stmt st_tenant_state = {
	"crlpub_tenant_state",
	"SELECT (SELECT count(*) FROM certificates WHERE ca_id = $1::bigint"
	"  AND tenant_id = $2::bigint AND status = " LC_SQL(LC_REVOKED)
	"  AND serial IS NOT NULL) AS revoked,"
	" r.entries, extract(epoch FROM r.next_update)::bigint AS next_update"
	" FROM (SELECT 1) one LEFT JOIN crls r ON r.ca_id = $1::bigint",
	2,
};

static const struct db_stmt st_tenant_revoked = {
	"crlpub_tenant_revoked",
	"SELECT serial, extract(epoch FROM coalesce(revoked_at, updated_at))::bigint AS revoked_at,"
	" coalesce(revocation_reason, 0) AS reason FROM certificates"
	" WHERE ca_id = $1::bigint AND tenant_id = $2::bigint AND status = " LC_SQL(LC_REVOKED)
	" AND serial IS NOT NULL ORDER BY id",
	2,
};

/* Tenants of which a CA that publishes (CRLPUB_SQL_LIVE) has no stored CRL, one expiring before $1, or one that lists fewer
 * or more certificates than are revoked. */
static const struct db_stmt st_stale_tenants = {
	"crlpub_stale_tenants",
	"SELECT c.tenant_id FROM cas c LEFT JOIN crls r ON r.ca_id = c.id"
	" WHERE c.kind = 'tenant' AND " CRLPUB_SQL_LIVE("c") " AND (r.ca_id IS NULL"
	" OR r.next_update <= to_timestamp($1::bigint) OR r.entries <> (SELECT count(*)"
	"  FROM certificates x WHERE x.ca_id = c.id AND x.tenant_id = c.tenant_id"
	"  AND x.status = " LC_SQL(LC_REVOKED) " AND x.serial IS NOT NULL))"
	" ORDER BY c.tenant_id",
	1,
};
/* clang-format on */

static const char *const kinds[2] = {"root", "admin"};

/* The active CA of kind: its row (id, cert_pem, key_file) and certificate. */
static int
active_ca(struct db *db, const char *kind, PGresult **row, X509 **cert)
{
	const char *params[] = {kind};
	const char *pem;
	int rc;

	*row = NULL;
	*cert = NULL;
	if ((rc = db_exec(db, &st_ca, params, row)) != 0)
		return rc < 0 ? rc : -EIO;
	if (PQntuples(*row) != 1)
		return CRLPUB_E_NOCA;
	pem = db_get(*row, 0, "cert_pem");
	if (pem == NULL || x509_cert_from_pem(pem, strlen(pem), cert) != 0)
		return -EINVAL;
	return 0;
}

/* The revoked administrator certificates of CA ca_id (a string). */
static int
revoked(struct db *db, const char *ca_id, PGresult **res)
{
	const char *params[] = {ca_id};
	int rc = db_exec(db, &st_revoked, params, res);

	return rc < 0 ? rc : rc > 0 ? -EIO : 0;
}

static int
append(char **all, size_t *len, const char *pem, size_t plen)
{
	char *grown = realloc(*all, *len + plen + 1);

	if (grown == NULL)
		return -ENOMEM;
	memcpy(grown + *len, pem, plen + 1);
	*all = grown;
	*len += plen;
	return 0;
}

/*
 * Have sign sign crl, the CRL number info->number of CA ca_id listing n certificates, and
 * store it in crls; *out is the signed CRL.
 */
static int
sign_store(struct db *db, const char *ca_id, const struct crlpub_info *info, size_t n,
	   X509_CRL *crl, time_t now, int days, crlpub_sign_fn sign, void *arg, const char *kind,
	   const char *key_file, X509_CRL **out, char *err, size_t errlen)
{
	char num[24], cnt[24], tu[24], nu[24], *hex = NULL;
	unsigned char *der = NULL;
	PGresult *res = NULL;
	size_t len = 0;
	int rc;

	if (sign(arg, kind, key_file, crl, out) != 0) {
		snprintf(err, errlen, "%s CA: the CRL was not signed", kind);
		return CRLPUB_E_SIGN;
	}
	if ((rc = x509_crl_to_der(*out, &der, &len)) != 0 || (hex = malloc(len * 2 + 1)) == NULL) {
		snprintf(err, errlen, "%s CA: cannot encode the CRL", kind);
		rc = rc != 0 ? rc : -ENOMEM;
		goto out;
	}
	util_hex(der, len, hex);
	snprintf(num, sizeof(num), "%lld", info->number);
	snprintf(cnt, sizeof(cnt), "%zu", n);
	snprintf(tu, sizeof(tu), "%lld", (long long)(now - CRLPUB_BACKDATE));
	snprintf(nu, sizeof(nu), "%lld", (long long)now + (long long)days * 86400);
	const char *params[] = {ca_id, num, hex, cnt, tu, nu};
	if ((rc = db_exec(db, &st_store, params, &res)) != 0) {
		snprintf(err, errlen, "%s CA: cannot store the CRL", kind);
		rc = rc < 0 ? rc : -EIO;
	}
out:
	if (rc != 0) {
		X509_CRL_free(*out);
		*out = NULL;
	}
	PQclear(res);
	free(hex);
	free(der);
	return rc;
}

/* Build, sign and append the next CRL of kinds[k]. */
static int
one(struct db *db, int k, int days, crlpub_sign_fn sign, void *arg, char **all, size_t *len,
    struct crlpub_info *info, char *err, size_t errlen)
{
	PGresult *row = NULL, *num = NULL, *rev = NULL;
	struct x509_revoked *entries = NULL;
	X509 *cert = NULL;
	X509_CRL *crl = NULL, *signed_crl = NULL;
	time_t now = time(NULL);
	size_t n = 0, plen;
	char *pem = NULL;
	int rc;

	if ((rc = active_ca(db, kinds[k], &row, &cert)) != 0) {
		snprintf(err, errlen, rc == CRLPUB_E_NOCA ? "no %s CA yet" : "%s CA: unreadable",
			 kinds[k]);
		goto out;
	}
	const char *id = db_get(row, 0, "id");
	const char *params[] = {id};
	if ((rc = db_exec(db, &st_bump, params, &num)) != 0 || PQntuples(num) != 1) {
		snprintf(err, errlen, "%s CA: cannot raise the CRL number", kinds[k]);
		rc = rc < 0 ? rc : -EIO;
		goto out;
	}
	if (k == 1) {
		if ((rc = revoked(db, id, &rev)) != 0) {
			snprintf(err, errlen, "cannot read the revoked administrator certificates");
			goto out;
		}
		n = (size_t)PQntuples(rev);
		if (n > 0 && (entries = calloc(n, sizeof(*entries))) == NULL) {
			rc = -ENOMEM;
			goto out;
		}
		for (size_t i = 0; i < n; i++) {
			entries[i].serial_hex = db_get(rev, (int)i, "serial");
			entries[i].revoked_at = (time_t)db_get_ll(rev, (int)i, "revoked_at");
			entries[i].reason = -1;
		}
	}
	info->kind = kinds[k];
	info->number = db_get_ll(num, 0, "crl_number");
	info->revoked = n;
	if ((rc = x509_crl_build(cert, info->number, now - CRLPUB_BACKDATE,
				 now + (time_t)days * 86400, entries, n, &crl)) != 0) {
		snprintf(err, errlen, "%s CA: cannot build the CRL (%d)", kinds[k], rc);
		rc = rc < 0 ? rc : -EINVAL; /* X509_E_*: not ours to return (X509_E_INVALID == 1) */
		goto out;
	}
	if ((rc = sign_store(db, id, info, n, crl, now, days, sign, arg, kinds[k],
			     db_get(row, 0, "key_file"), &signed_crl, err, errlen)) != 0)
		goto out;
	if ((rc = x509_crl_to_pem(signed_crl, &pem, &plen)) != 0 ||
	    (rc = append(all, len, pem, plen)) != 0)
		snprintf(err, errlen, "%s CA: cannot encode the CRL", kinds[k]);
out:
	free(pem);
	free(entries);
	X509_CRL_free(signed_crl);
	X509_CRL_free(crl);
	X509_free(cert);
	PQclear(rev);
	PQclear(num);
	PQclear(row);
	return rc;
}

int
crlpub_build(struct db *db, int days, crlpub_sign_fn sign, void *arg, char **pem, size_t *len,
	     struct crlpub_info info[2], char *err, size_t errlen)
{
	PGresult *res = NULL;
	char *all = NULL;
	size_t n = 0;
	int rc;

	err[0] = '\0';
	if ((rc = db_exec(db, &st_lock, NULL, &res)) != 0) {
		snprintf(err, errlen, "cannot take the CA lock");
		PQclear(res);
		return rc < 0 ? rc : -EIO;
	}
	PQclear(res);
	for (int k = 0; k < 2; k++)
		if ((rc = one(db, k, days, sign, arg, &all, &n, &info[k], err, errlen)) != 0) {
			free(all);
			return rc;
		}
	*pem = all;
	*len = n;
	return 0;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcasecmp(*(char *const *)a, *(char *const *)b);
}

/* 1 when the CRL lists exactly the serials of rev (hex, any case). */
static int
same_serials(X509_CRL *crl, const PGresult *rev)
{
	STACK_OF(X509_REVOKED) *list = X509_CRL_get_REVOKED(crl);
	int n = list ? sk_X509_REVOKED_num(list) : 0, same = 0;
	char **have = NULL, **want = NULL;

	if (n != PQntuples(rev))
		return 0;
	if (n == 0)
		return 1;
	have = calloc((size_t)n, sizeof(*have));
	want = calloc((size_t)n, sizeof(*want));
	if (have == NULL || want == NULL)
		goto out;
	for (int i = 0; i < n; i++) {
		char hex[80];
		const ASN1_INTEGER *sn =
			X509_REVOKED_get0_serialNumber(sk_X509_REVOKED_value(list, i));
		if (x509_serial_hex(sn, hex, sizeof(hex)) != 0 || (have[i] = strdup(hex)) == NULL)
			goto out;
		want[i] = (char *)db_get(rev, i, "serial");
		if (want[i] == NULL)
			goto out;
	}
	qsort(have, (size_t)n, sizeof(*have), cmp_str);
	qsort(want, (size_t)n, sizeof(*want), cmp_str);
	same = 1;
	for (int i = 0; i < n && same; i++)
		same = strcasecmp(have[i], want[i]) == 0;
out:
	for (int i = 0; have != NULL && i < n; i++)
		free(have[i]);
	free(have);
	free(want);
	return same;
}

/* 1 when both CAs have a CRL in crls valid for margin seconds more, 0 when not, -errno. */
static int
stored_fresh(struct db *db, const char *root, const char *admin, time_t margin)
{
	char limit[24];
	PGresult *res = NULL;
	int rc;

	snprintf(limit, sizeof(limit), "%lld", (long long)(time(NULL) + margin));
	const char *params[] = {root, admin, limit};
	if ((rc = db_exec(db, &st_stored_fresh, params, &res)) != 0) {
		PQclear(res);
		return rc < 0 ? rc : -EIO;
	}
	rc = db_get_ll(res, 0, "n") == 2;
	PQclear(res);
	return rc;
}

int
crlpub_stale(struct db *db, const char *path, time_t margin)
{
	X509 *ca[2] = {0};
	PGresult *row[2] = {0}, *rev = NULL;
	STACK_OF(X509_CRL) *crls = NULL;
	X509_CRL *crl;
	BIO *bio = NULL;
	size_t len = 0;
	char *text = NULL;
	int rc, stale = 1;

	for (int k = 0; k < 2; k++)
		if ((rc = active_ca(db, kinds[k], &row[k], &ca[k])) != 0) {
			/* no CA yet: nothing to publish (shomeictl ca init comes first) */
			stale = rc == CRLPUB_E_NOCA ? 0 : rc < 0 ? rc : -EIO;
			goto out;
		}
	if ((rc = revoked(db, db_get(row[1], 0, "id"), &rev)) != 0) {
		stale = rc;
		goto out;
	}
	rc = stored_fresh(db, db_get(row[0], 0, "id"), db_get(row[1], 0, "id"), margin);
	if (rc <= 0) {
		stale = rc < 0 ? rc : 1;
		goto out;
	}
	if ((text = util_read_file(path, FILE_MAX, &len)) == NULL ||
	    (bio = BIO_new_mem_buf(text, (int)len)) == NULL ||
	    (crls = sk_X509_CRL_new_null()) == NULL)
		goto out;
	while ((crl = PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL)) != NULL)
		if (!sk_X509_CRL_push(crls, crl)) {
			X509_CRL_free(crl);
			goto out;
		}
	for (int k = 0; k < 2; k++) {
		X509_CRL *mine = NULL;
		for (int i = 0; i < sk_X509_CRL_num(crls); i++) {
			X509_CRL *c = sk_X509_CRL_value(crls, i);
			if (X509_NAME_cmp(X509_CRL_get_issuer(c), X509_get_subject_name(ca[k])) ==
				    0 &&
			    X509_CRL_verify(c, X509_get0_pubkey(ca[k])) == 1)
				mine = c;
		}
		const ASN1_TIME *next = mine ? X509_CRL_get0_nextUpdate(mine) : NULL;
		time_t limit = time(NULL) + margin;
		if (next == NULL || X509_cmp_time(next, &limit) <= 0)
			goto out;
		if (k == 1 && !same_serials(mine, rev))
			goto out;
	}
	stale = 0;
out:
	ERR_clear_error();
	sk_X509_CRL_pop_free(crls, X509_CRL_free);
	BIO_free(bio);
	free(text);
	PQclear(rev);
	for (int k = 0; k < 2; k++) {
		X509_free(ca[k]);
		PQclear(row[k]);
	}
	return stale;
}

/* 1 when the tenant CA's stored CRL must be replaced (see crlpub_tenant). */
static int
tenant_stale(struct db *db, const char *ca_id, const char *tid, time_t margin, int *stale)
{
	PGresult *res = NULL;
	const char *params[] = {ca_id, tid};
	int rc;

	if ((rc = db_exec(db, &st_tenant_state, params, &res)) != 0) {
		PQclear(res);
		return rc < 0 ? rc : -EIO;
	}
	*stale = db_get(res, 0, "entries") == NULL ||
		 db_get_ll(res, 0, "entries") != db_get_ll(res, 0, "revoked") ||
		 db_get_ll(res, 0, "next_update") <= (long long)(time(NULL) + margin);
	PQclear(res);
	return 0;
}

/* The revoked certificates of the tenant's CA as CRL entries (into *entries, *n). */
static int
tenant_entries(struct db *db, const char *ca_id, const char *tid, PGresult **res,
	       struct x509_revoked **entries, size_t *n)
{
	const char *params[] = {ca_id, tid};
	int rc;

	if ((rc = db_exec(db, &st_tenant_revoked, params, res)) != 0)
		return rc < 0 ? rc : -EIO;
	*n = (size_t)PQntuples(*res);
	if (*n > 0 && (*entries = calloc(*n, sizeof(**entries))) == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < *n; i++) {
		int reason = (int)db_get_ll(*res, (int)i, "reason");
		(*entries)[i].serial_hex = db_get(*res, (int)i, "serial");
		(*entries)[i].revoked_at = (time_t)db_get_ll(*res, (int)i, "revoked_at");
		/* RFC 5280 5.3.1: no reasonCode rather than unspecified (0) */
		(*entries)[i].reason = reason == 0 ? -1 : reason;
	}
	return 0;
}

/* One CA (row r of st_tenant_cas) of the tenant: its CRL signed again when stale. */
static int
tenant_ca_crl(struct db *db, const PGresult *row, int r, const char *tid, int days, time_t margin,
	      crlpub_sign_fn sign, void *arg, struct crlpub_info *info, char *err, size_t errlen)
{
	PGresult *num = NULL, *rev = NULL;
	struct x509_revoked *entries = NULL;
	X509 *cert = NULL;
	X509_CRL *crl = NULL, *signed_crl = NULL;
	time_t now = time(NULL);
	const char *pem = db_get(row, r, "cert_pem"), *id = db_get(row, r, "id");
	size_t n = 0;
	int rc, stale = 1;

	if (pem == NULL || x509_cert_from_pem(pem, strlen(pem), &cert) != 0) {
		snprintf(err, errlen, "tenant %s: CA %s unreadable", tid, id);
		rc = -EINVAL;
		goto out;
	}
	if (margin >= 0 && ((rc = tenant_stale(db, id, tid, margin, &stale)) != 0 || !stale))
		goto out; /* current */
	const char *p2[] = {id};
	if ((rc = db_exec(db, &st_bump, p2, &num)) != 0 || PQntuples(num) != 1) {
		snprintf(err, errlen, "tenant %s: cannot raise the CRL number", tid);
		rc = rc < 0 ? rc : -EIO;
		goto out;
	}
	if ((rc = tenant_entries(db, id, tid, &rev, &entries, &n)) != 0) {
		snprintf(err, errlen, "tenant %s: cannot read the revoked certificates", tid);
		goto out;
	}
	info->number = db_get_ll(num, 0, "crl_number");
	info->revoked = n;
	/* placeholder-signed, written by hand: a CRL of 100,000 entries in a fraction of the time
	 */
	if ((rc = x509_crl_build_placeholder(cert, info->number, now - CRLPUB_BACKDATE,
					     now + (time_t)days * 86400, entries, n, &crl)) != 0) {
		snprintf(err, errlen, "tenant %s: cannot build the CRL (%d)", tid, rc);
		rc = rc < 0 ? rc : -EINVAL;
		goto out;
	}
	rc = sign_store(db, id, info, n, crl, now, days, sign, arg, "tenant",
			db_get(row, r, "key_file"), &signed_crl, err, errlen);
out:
	free(entries);
	X509_CRL_free(signed_crl);
	X509_CRL_free(crl);
	X509_free(cert);
	PQclear(rev);
	PQclear(num);
	return rc;
}

int
crlpub_tenant(struct db *db, long long tenant_id, int days, time_t margin, crlpub_sign_fn sign,
	      void *arg, struct crlpub_info *info, char *err, size_t errlen)
{
	PGresult *row = NULL;
	char tid[24];
	int rc = 0;

	err[0] = '\0';
	info->kind = "tenant";
	info->number = 0;
	info->revoked = 0;
	snprintf(tid, sizeof(tid), "%lld", tenant_id);
	const char *p1[] = {tid};
	if ((rc = db_exec(db, &st_tenant_ca, p1, &row)) != 0) {
		snprintf(err, errlen, "cannot lock the tenant's CA");
		rc = rc < 0 ? rc : -EIO;
		goto out;
	}
	if (PQntuples(row) == 0 || strcmp(db_get(row, 0, "active"), "t") != 0) {
		snprintf(err, errlen, "tenant %lld has no active CA", tenant_id);
		rc = CRLPUB_E_NOCA;
		goto out;
	}
	/* the active CA first, then the rotated-out ones that still have valid certificates */
	for (int r = 0; r < PQntuples(row) && rc == 0; r++) {
		struct crlpub_info one = *info;

		if ((rc = tenant_ca_crl(db, row, r, tid, days, margin, sign, arg, &one, err,
					errlen)) == 0 &&
		    one.number > 0 && (info->number == 0 || r == 0))
			*info = one;
	}
out:
	if (rc != 0)
		info->number = 0;
	PQclear(row);
	return rc;
}

int
crlpub_stale_tenants(struct db *db, time_t margin, long long **ids, size_t *n)
{
	char limit[24];
	PGresult *res = NULL;
	long long *out = NULL;
	size_t k;
	int rc;

	snprintf(limit, sizeof(limit), "%lld", (long long)(time(NULL) + margin));
	const char *params[] = {limit};
	if ((rc = db_exec(db, &st_stale_tenants, params, &res)) != 0) {
		PQclear(res);
		return rc < 0 ? rc : -EIO;
	}
	k = (size_t)PQntuples(res);
	if (k > 0 && (out = calloc(k, sizeof(*out))) == NULL) {
		PQclear(res);
		return -ENOMEM;
	}
	for (size_t i = 0; i < k; i++)
		out[i] = db_get_ll(res, (int)i, "tenant_id");
	PQclear(res);
	*ids = out;
	*n = k;
	return 0;
}
