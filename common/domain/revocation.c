/* revocation.c: revocation reasons, notifications and the scheduled revocations that fall due. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/audit.h"
#include "domain/lifecycle.h"
#include "domain/revocation.h"
#include "web/valid.h"

static const struct {
	const char *word;
	int code;
} reasons[] = {
	{"unspecified", REVOCATION_UNSPECIFIED},
	{"keyCompromise", REVOCATION_KEY_COMPROMISE},
	{"affiliationChanged", REVOCATION_AFFILIATION_CHANGED},
	{"superseded", REVOCATION_SUPERSEDED},
	{"cessationOfOperation", REVOCATION_CESSATION},
	{"privilegeWithdrawn", REVOCATION_PRIVILEGE_WITHDRAWN},
};
#define NREASONS (sizeof(reasons) / sizeof(reasons[0]))

int
revocation_reason_parse(const char *word, int *code)
{
	for (size_t i = 0; word != NULL && i < NREASONS; i++)
		if (strcmp(reasons[i].word, word) == 0) {
			*code = reasons[i].code;
			return 0;
		}
	return VALID_E_FORMAT;
}

const char *
revocation_reason_word(int code)
{
	for (size_t i = 0; i < NREASONS; i++)
		if (reasons[i].code == code)
			return reasons[i].word;
	return NULL;
}

int
revocation_valid_reason(const char *v)
{
	int code;

	return revocation_reason_parse(v, &code);
}

static const struct db_stmt st_notify = {
	"revocation_notify",
	"SELECT pg_notify('" REVOCATION_CHANNEL "', $1)",
	1,
};

/* clang-format off */
static const struct db_stmt st_due = {
	"revocation_due",
	"WITH due AS (SELECT id FROM certificates"
	" WHERE status = " LC_SQL(LC_REVOKE_SCHEDULED) " AND revoke_on <= to_timestamp($1::bigint)"
	" ORDER BY revoke_on, id LIMIT $2::int FOR UPDATE SKIP LOCKED)"
	" UPDATE certificates c SET status = " LC_SQL(LC_REVOKED) ","
	" revoked_at = least(c.revoke_on, now()), updated_at = now()"
	" FROM due WHERE c.id = due.id AND c.status = " LC_SQL(LC_REVOKE_SCHEDULED)
	" RETURNING c.id, c.tenant_id, c.cn",
	2,
};
/* clang-format on */

int
revocation_notify(struct db *db, long long tenant_id)
{
	char tid[24];
	PGresult *res = NULL;
	int rc;

	snprintf(tid, sizeof(tid), "%lld", tenant_id);
	const char *params[] = {tid};
	rc = db_exec(db, &st_notify, params, &res);
	PQclear(res);
	return rc < 0 ? rc : rc > 0 ? -EIO : 0;
}

/* The history entry of one applied row, and a notification when its tenant is new here. */
static int
record(struct db *db, const PGresult *res, int r)
{
	long long tid = db_get_ll(res, r, "tenant_id");
	struct audit_entry e = {tid, NULL, "system", 0, AUDIT_CERTIFICATE_REVOKE, NULL};
	struct audit_more m = {NULL, REVOCATION_CODE_DONE, {db_get(res, r, "cn")}, 1};
	int rc;

	if ((rc = audit_write_ex(db, &e, &m)) != 0)
		return rc;
	for (int i = 0; i < r; i++)
		if (db_get_ll(res, i, "tenant_id") == tid)
			return 0;
	return revocation_notify(db, tid);
}

/* One batch in one transaction; *n is how many rows it revoked. */
static int
batch(struct db *db, const char *as_of, long long *n)
{
	char lim[16];
	PGresult *res = NULL;
	int rc, committed = 0;

	snprintf(lim, sizeof(lim), "%d", REVOCATION_BATCH);
	const char *params[] = {as_of, lim};
	if ((rc = db_begin(db)) != 0 || (rc = db_exec(db, &st_due, params, &res)) != 0)
		goto out;
	for (int r = 0; r < PQntuples(res); r++)
		if ((rc = record(db, res, r)) != 0)
			goto out;
	if ((rc = db_commit(db)) != 0)
		goto out;
	committed = 1;
	*n = PQntuples(res);
out:
	if (!committed)
		db_rollback(db);
	PQclear(res);
	return rc < 0 ? rc : rc > 0 ? -EIO : 0;
}

int
revocation_apply_due(struct db *db, time_t as_of, long long *applied)
{
	char at[24];
	long long n, total = 0;
	int rc;

	snprintf(at, sizeof(at), "%lld", (long long)as_of);
	do {
		n = 0;
		if ((rc = batch(db, at, &n)) != 0)
			return rc;
		total += n;
	} while (n == REVOCATION_BATCH);
	*applied = total;
	return 0;
}
