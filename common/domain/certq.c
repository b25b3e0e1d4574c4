/* certq.c: taking quota and queueing certificates for the issuance workers. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

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
 * FOR NO KEY UPDATE, not FOR UPDATE: it excludes the other quota takers (and the UPDATEs of
 * the tenant row) as before, but not the FOR KEY SHARE lock every INSERT of a row that refers
 * to the tenant takes (its foreign key): an issuance worker's history entries hold that lock to
 * its commit, and FOR UPDATE made each registration wait for the workers' batches, seconds
 * apiece under load (DECISIONS.md, "CSV一括登録: chunks").
 */
static const struct db_stmt st_lock = {
	"certq_lock", "SELECT id FROM tenants WHERE id = $1 FOR NO KEY UPDATE", 1};
static const struct db_stmt st_count = {"certq_count", COUNT_SQL, 1};

/*
 * Rows are inserted many at a time (a CSV job's chunk): their ids are taken from the sequence
 * first, so each row's id is known whatever order the INSERT writes them in, and the rows come
 * as one JSON array of objects (ids as strings: a double would round a large bigint).
 */
static const struct db_stmt st_ids = {
	"certq_ids",
	"SELECT nextval('certificates_id_seq') AS id FROM generate_series(1, $1::integer)",
	1,
};

static const struct db_stmt st_insert = {
	"certq_insert",
	"INSERT INTO certificates (id, tenant_id, user_id, device_id, job_id, replaces_id, number, cn,"
	" email, key_type, requested_by, requested_ip, status)"
	" SELECT x.id, $1::bigint, x.user_id, x.device_id, x.job_id, x.replaces_id, x.number, x.cn,"
	" x.email, x.key_type, x.requested_by, x.requested_ip::inet, " LC_SQL(LC_ISSUING)
	" FROM json_to_recordset($2::json) AS x(id bigint, user_id bigint, device_id bigint,"
	" job_id bigint, replaces_id bigint, number integer, cn text, email text, key_type text,"
	" requested_by bigint, requested_ip text)",
	2,
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

/* A positive id as a JSON string, or null for 0 (SQL NULL). */
static void
add_id(cJSON *o, const char *name, long long v)
{
	char buf[24];

	if (v <= 0) {
		cJSON_AddNullToObject(o, name);
		return;
	}
	snprintf(buf, sizeof(buf), "%lld", v);
	cJSON_AddStringToObject(o, name, buf);
}

static void
add_text(cJSON *o, const char *name, const char *v)
{
	if (v != NULL && *v != '\0')
		cJSON_AddStringToObject(o, name, v);
	else
		cJSON_AddNullToObject(o, name);
}

int
certq_insert_many(struct db *db, long long tenant_id, const struct certq_row *r, size_t n,
		  long long *ids)
{
	char tid[24], num[24], *json = NULL;
	PGresult *res = NULL;
	cJSON *arr;
	int rc;

	if (n == 0)
		return 0;
	snprintf(num, sizeof(num), "%zu", n);
	const char *p1[] = {num};
	if ((rc = db_exec(db, &st_ids, p1, &res)) != 0)
		return rc < 0 ? rc : -EIO;
	if ((size_t)PQntuples(res) != n) {
		PQclear(res);
		return -EIO;
	}
	arr = cJSON_CreateArray();
	for (size_t i = 0; i < n; i++) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "id", db_get(res, (int)i, "id"));
		add_id(o, "user_id", r[i].user_id);
		add_id(o, "device_id", r[i].device_id);
		add_id(o, "job_id", r[i].job_id);
		add_id(o, "replaces_id", r[i].replaces_id);
		add_id(o, "number", r[i].number);
		cJSON_AddItemToObject(o, "cn",
				      r[i].cn ? cJSON_CreateString(r[i].cn) : cJSON_CreateNull());
		add_text(o, "email", r[i].email);
		cJSON_AddItemToObject(o, "key_type",
				      r[i].key_type ? cJSON_CreateString(r[i].key_type)
						    : cJSON_CreateNull());
		add_id(o, "requested_by", r[i].requested_by);
		add_text(o, "requested_ip", r[i].requested_ip);
		cJSON_AddItemToArray(arr, o);
	}
	json = cJSON_PrintUnformatted(arr);
	cJSON_Delete(arr);
	if (json == NULL) {
		PQclear(res);
		return -ENOMEM;
	}
	snprintf(tid, sizeof(tid), "%lld", tenant_id);
	const char *p2[] = {tid, json};
	PGresult *ins = NULL;
	rc = db_exec(db, &st_insert, p2, &ins);
	free(json);
	PQclear(ins);
	if (rc == 0)
		for (size_t i = 0; i < n; i++)
			ids[i] = db_get_ll(res, (int)i, "id");
	PQclear(res);
	return rc < 0 ? rc : rc > 0 ? -EIO : 0;
}

int
certq_insert(struct db *db, const struct certq_row *r, long long *id)
{
	return certq_insert_many(db, r->tenant_id, r, 1, id);
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

/* Rows of a tenant past which certq_list_gen folds them. */
#define COUNTS_FOLD_AT 64

/*
 * The tenant's ($1) rows of certificate_counts (migration 0026) folded into one a status. Rows
 * only a later statement sees (added meanwhile, or folded by another) are left as they are: the
 * sum stays.
 */
static const struct db_stmt counts_fold = {
	"certq_counts_fold",
	"WITH gone AS (DELETE FROM certificate_counts WHERE tenant_id = $1 RETURNING status, n)"
	" INSERT INTO certificate_counts (tenant_id, status, n)"
	" SELECT $1, status, sum(n) FROM gone GROUP BY status",
	1,
};

/* clang-format off */
/*
 * The tenant's generation (certq_list_gen): the tenant's ($1) newest row
 * and number of rows of user_changes (migration 0028: users and devices written) and of
 * certificate_counts (0026: certificates' status, CN, 発行日, 有効期限, user or device
 * changed); and their numbers of rows, which certq_list_gen folds past COUNTS_FOLD_AT.
 */
static const struct db_stmt st_list_gen = {
	"certq_list_gen",
	"SELECT u.gen || '/' || c.gen AS gen, u.n AS user_rows, c.n AS cert_rows"
	" FROM (SELECT coalesce(max(id), 0) || '.' || count(*) AS gen, count(*) AS n"
	"  FROM user_changes WHERE tenant_id = $1) u,"
	" (SELECT coalesce(max(id), 0) || '.' || count(*) AS gen, count(*) AS n"
	"  FROM certificate_counts WHERE tenant_id = $1) c",
	1,
};

/* The tenant's ($1) rows of user_changes folded into one (a later statement's are left). */
static const struct db_stmt st_changes_fold = {
	"certq_changes_fold",
	"WITH gone AS (DELETE FROM user_changes WHERE tenant_id = $1 RETURNING id)"
	" INSERT INTO user_changes (tenant_id) SELECT $1 WHERE EXISTS (SELECT 1 FROM gone)",
	1,
};
/* clang-format on */

int
certq_list_gen(struct db *db, const char *tenant, char *gen, size_t len)
{
	const char *p[] = {tenant};
	PGresult *res = NULL, *fold = NULL;
	int rc;

	if ((rc = db_exec_generic(db, &st_list_gen, p, &res)) != 0)
		return rc;
	snprintf(gen, len, "%s", db_get(res, 0, "gen") ? db_get(res, 0, "gen") : "");
	/* writes of their own: a failure costs the next reader a few rows more, no more */
	if (db_get_ll(res, 0, "user_rows") > COUNTS_FOLD_AT)
		db_exec(db, &st_changes_fold, p, &fold);
	PQclear(fold);
	fold = NULL;
	if (db_get_ll(res, 0, "cert_rows") > COUNTS_FOLD_AT)
		db_exec(db, &counts_fold, p, &fold);
	PQclear(fold);
	PQclear(res);
	return 0;
}
