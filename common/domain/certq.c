/* certq.c: taking quota and queueing certificates for the issuance workers. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "domain/certq.h"
#include "web/i18n.h"
#include "domain/lifecycle.h"

/* SQL laid out by hand: clang-format would break it around the macros. */
/* clang-format off */
#define COUNT_SQL                                                                                  \
	"SELECT t.quota, t.key_type,"                                                              \
	" (SELECT count(*) FROM certificates c WHERE c.tenant_id = t.id"                           \
	"  AND c.status IN " LC_SQL_COUNTED " AND c.superseded_at IS NULL) AS issued,"            \
	" (SELECT count(*) FROM certificates c WHERE c.tenant_id = t.id"                           \
	"  AND c.status = " LC_SQL(LC_ISSUING) ") AS issuing"                                      \
	" FROM tenants t WHERE t.id = $1"

/*
 * The lock is its own statement: under READ COMMITTED a statement that waited for
 * the row lock still counts with the snapshot it took before waiting, so the
 * counts must come from the next statement, which sees what the previous holder
 * committed.
 */
static const struct db_stmt st_lock = {"certq_lock",
				       "SELECT id FROM tenants WHERE id = $1 FOR UPDATE", 1};
static const struct db_stmt st_count = {"certq_count", COUNT_SQL, 1};

static const struct db_stmt st_insert = {
	"certq_insert",
	"INSERT INTO certificates (tenant_id, user_id, device_id, job_id, replaces_id, number, cn,"
	" email, key_type, requested_by, requested_ip, status)"
	" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::inet, " LC_SQL(LC_ISSUING) ")"
	" RETURNING id",
	11,
};

/* $1 tenant, $2 the row a reissue or renewal replaces */
static const struct db_stmt st_supersede = {
	"certq_supersede",
	"UPDATE certificates SET superseded_at = now(), updated_at = now()"
	" WHERE tenant_id = $1::bigint AND id = $2::bigint AND superseded_at IS NULL RETURNING id",
	2,
};
/* clang-format on */

static int
counts(struct db *db, const struct db_stmt *st, long long tenant_id, struct certq_quota *q)
{
	char tid[24];
	PGresult *res = NULL;
	int rc;

	snprintf(tid, sizeof(tid), "%lld", tenant_id);
	const char *params[] = {tid};
	if ((rc = db_exec(db, st, params, &res)) != 0)
		return rc < 0 ? rc : -EIO;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return DB_E_NOTFOUND;
	}
	memset(q, 0, sizeof(*q));
	q->quota = db_get_ll(res, 0, "quota");
	q->issued = db_get_ll(res, 0, "issued");
	q->issuing = db_get_ll(res, 0, "issuing");
	q->available = q->quota > q->issued ? q->quota - q->issued : 0;
	snprintf(q->key_type, sizeof(q->key_type), "%s", db_get(res, 0, "key_type"));
	PQclear(res);
	return 0;
}

int
certq_lock(struct db *db, long long tenant_id, struct certq_quota *q)
{
	char tid[24];
	PGresult *res = NULL;
	int rc, found;

	snprintf(tid, sizeof(tid), "%lld", tenant_id);
	const char *params[] = {tid};
	if ((rc = db_exec(db, &st_lock, params, &res)) != 0)
		return rc < 0 ? rc : -EIO;
	found = PQntuples(res) == 1;
	PQclear(res);
	return found ? counts(db, &st_count, tenant_id, q) : DB_E_NOTFOUND;
}

int
certq_count(struct db *db, long long tenant_id, struct certq_quota *q)
{
	return counts(db, &st_count, tenant_id, q);
}

/* A positive id as text into buf, or NULL for 0 (SQL NULL). */
static const char *
opt_id(long long v, char *buf, size_t len)
{
	if (v <= 0)
		return NULL;
	snprintf(buf, len, "%lld", v);
	return buf;
}

int
certq_insert(struct db *db, const struct certq_row *r, long long *id)
{
	char tid[24], uid[24], did[24], jid[24], rid[24], num[24], by[24];
	PGresult *res = NULL;
	int rc;

	snprintf(tid, sizeof(tid), "%lld", r->tenant_id);
	const char *params[] = {
		tid,
		opt_id(r->user_id, uid, sizeof(uid)),
		opt_id(r->device_id, did, sizeof(did)),
		opt_id(r->job_id, jid, sizeof(jid)),
		opt_id(r->replaces_id, rid, sizeof(rid)),
		opt_id(r->number, num, sizeof(num)),
		r->cn,
		(r->email && *r->email) ? r->email : NULL,
		r->key_type,
		opt_id(r->requested_by, by, sizeof(by)),
		(r->requested_ip && *r->requested_ip) ? r->requested_ip : NULL,
	};
	if ((rc = db_exec(db, &st_insert, params, &res)) != 0)
		return rc < 0 ? rc : -EIO;
	*id = db_get_ll(res, 0, "id");
	PQclear(res);
	return 0;
}

void
certq_wake(struct kv *kv, long long tenant_id)
{
	char tid[24];

	snprintf(tid, sizeof(tid), "%lld", tenant_id);
	const char *argv[] = {"XADD", CERTQ_STREAM, "MAXLEN", "~", "10000", "*", "tenant", tid};
	freeReplyObject(kv_cmdv(kv, 8, argv));
}

int
certq_replace(struct db *db, const struct certq_row *r, long long *id)
{
	char tid[24], rid[24];
	PGresult *res = NULL;
	int rc, done;

	if (r->replaces_id <= 0)
		return -EINVAL;
	snprintf(tid, sizeof(tid), "%lld", r->tenant_id);
	snprintf(rid, sizeof(rid), "%lld", r->replaces_id);
	const char *params[] = {tid, rid};
	if ((rc = db_exec(db, &st_supersede, params, &res)) != 0)
		return rc < 0 ? rc : -EIO;
	done = PQntuples(res) == 1;
	PQclear(res);
	return done ? certq_insert(db, r, id) : DB_E_CONFLICT;
}
