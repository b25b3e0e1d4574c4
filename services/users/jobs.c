/*
 * jobs.c: the tenant's jobs (CSV 処理状況: GET /api/jobs, /api/jobs/{id}), and CSV一括登録 (and
 * CSV一括利用者マスター削除, purge.c) as job kinds run by domain/jobs.c's worker in every
 * shomei-users: the users are committed JOBS_CHUNK at a time, each chunk with the job's progress,
 * so a job resumes exactly where the last commit left it: no user twice, none lost.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/json.h"
#include "core/log.h"
#include "domain/audit.h"
#include "domain/jobs.h"
#include "extern.h"
#include "web/internal.h"
#include "web/keyset.h"
#include "web/pagecache.h"
#include "web/valid.h"

#define JOBS_CHUNK 100 /* users a transaction */
#define JOBS_PER_PAGE 100
/* JST is a fixed +09:00 since 1952 (no zone lookup a timestamp) */
#define JST(col) "to_char((" col ") AT TIME ZONE INTERVAL '+09:00', 'YYYY/MM/DD HH24:MI:SS')"

/* CSV一括登録 as a job kind (domain/jobs.h): parse the stored text again, then commit. */
static int import_run(struct db *db, struct kv *kv, struct job *j, cJSON *errs, long long *units);

static const struct jobs_kind job_kinds[] = {
	{"user_import", AUDIT_USER_IMPORT, "証明書", import_run},
	{"user_purge", AUDIT_USER_DELETE, "利用者", purge_run},
};

int
users_jobs_start(const struct cfg *cfg)
{
	int rc;

	purge_cfg = cfg;
	if ((rc = internal_global_init()) != 0)
		return rc;
	return jobs_start(cfg, job_kinds, sizeof(job_kinds) / sizeof(job_kinds[0]));
}

static const struct db_stmt q_mark_admin = {
	"jobs_mark_admin",
	"UPDATE certificates SET admin_download = true WHERE job_id = $1 AND NOT admin_download",
	1,
};

/* The certificates the job has queued (a resumed job's earlier chunks too, no skipped row). */
static const struct db_stmt q_job_certs = {
	"jobs_import_certs",
	"SELECT count(*) AS n FROM certificates WHERE tenant_id = $1 AND job_id = $2",
	2,
};

/*
 * The users of [from, to) whose device pair another user has taken since the file was checked
 * (a POST /api/users in between): skip[i - from] set, an error on each such line into errs.
 * Run under the tenant's lock, in one query.
 */
static int
chunk_taken(struct db *db, struct job *j, struct import *im, size_t from, size_t to, char *skip,
	    cJSON *errs)
{
	cJSON *items = cJSON_CreateArray();
	PGresult *res = NULL;
	int rc;

	for (size_t i = from; i < to; i++)
		for (int d = 0; d < im->users[i].u.ndev; d++)
			pairs_add(items, (int)(i - from) * USERS_MAX_DEVICES + d, &im->users[i].u,
				  &im->users[i].u.dev[d]);
	rc = pairs_find(db, j->tenant_id, items, &res);
	cJSON_Delete(items);
	if (rc != 0)
		return rc;
	for (int r = 0; r < PQntuples(res); r++) {
		int k = (int)db_get_ll(res, r, "i"), i = k / USERS_MAX_DEVICES;
		skip[i] = 1;
		import_taken_error(im, errs,
				   im->users[from + (size_t)i].lines[k % USERS_MAX_DEVICES]);
	}
	PQclear(res);
	return 0;
}

/*
 * One chunk of users [from, to) in one transaction: one quota check, one query for pairs taken
 * since the upload, the users with their devices and certificates in a few statements
 * (register_many, as POST /api/users). A user whose pair was taken meanwhile is left out and
 * its lines reported (kept in the job with the chunk, jobs_add_errors); the others go in.
 * *stop when the chunk cannot go in at all (the quota), with the reason in errs.
 */
static int
import_chunk(struct db *db, struct job *j, struct import *im, size_t from, size_t to, cJSON *errs,
	     int *stop)
{
	struct reg_ctx cx = {j->tenant_id, j->admin_id, j->ip, I18N_JA, j->id};
	struct certq_quota q;
	struct user_in **u = calloc(to - from, sizeof(*u));
	long long *uids = calloc(to - from, sizeof(*uids));
	char *skip = calloc(to - from, 1), ids[24];
	cJSON *taken = cJSON_CreateArray();
	PGresult *res = NULL;
	size_t n = 0;
	long long need = 0;
	int rc;

	if (u == NULL || uids == NULL || skip == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	if ((rc = db_begin(db)) != 0 || (rc = certq_lock(db, j->tenant_id, &q)) != 0 ||
	    (rc = chunk_taken(db, j, im, from, to, skip, taken)) != 0)
		goto out;
	for (size_t i = from; i < to; i++)
		if (!skip[i - from]) {
			u[n++] = &im->users[i].u;
			need += im->users[i].u.ndev;
		}
	if (need > q.available) {
		quota_error(errs, q.available, I18N_JA);
		*stop = 1;
		goto out;
	}
	snprintf(ids, sizeof(ids), "%lld", j->id);
	const char *p1[] = {ids};
	if ((rc = register_many(&cx, db, &q, u, n, uids, NULL, NULL)) != 0 ||
	    (j->admin_download && (rc = db_exec(db, &q_mark_admin, p1, &res)) != 0) ||
	    (rc = jobs_add_errors(db, j->id, taken)) != 0 ||
	    (rc = jobs_progress(db, j->id, (int)to)) != 0 || (rc = db_commit(db)) != 0)
		goto out;
	j->processed = (int)to;
	cJSON *e;
	cJSON_ArrayForEach(e, taken) cJSON_AddItemToArray(errs, cJSON_Duplicate(e, 1));
	if (cJSON_GetArraySize(taken) > 0)
		log_msg(LOG_WARN, "event=import_rows_taken job=%lld tenant=%lld rows=%d", j->id,
			j->tenant_id, cJSON_GetArraySize(taken));
	rc = 0;
	goto done;
out:
	db_rollback(db);
done:
	PQclear(res);
	cJSON_Delete(taken);
	free(u);
	free(uids);
	free(skip);
	return rc < 0 ? rc : rc > 0 ? -EIO : 0;
}

static int
import_run(struct db *db, struct kv *kv, struct job *j, cJSON *errs, long long *units)
{
	struct tenant tn;
	struct import im = {0};
	int rc, stop = 0;

	if ((rc = tenant_load(db, j->tenant_id, &tn)) != 0)
		return rc;
	if ((rc = import_parse(&im, j->input, strlen(j->input), &tn, j->admin_download, I18N_JA,
			       time(NULL))) != 0)
		goto out;
	if (cJSON_GetArraySize(im.errs) > 0 || (int)im.nusers != j->total) {
		/* what passed at upload no longer does (the tenant's features or limits changed) */
		import_sort_errors(&im);
		cJSON *e;
		cJSON_ArrayForEach(e, im.errs) cJSON_AddItemToArray(errs, cJSON_Duplicate(e, 1));
		goto out;
	}
	for (size_t from = (size_t)j->processed; from < im.nusers;) {
		size_t to = from + JOBS_CHUNK < im.nusers ? from + JOBS_CHUNK : im.nusers;

		if ((rc = import_chunk(db, j, &im, from, to, errs, &stop)) != 0 || stop)
			goto out;
		certq_wake(kv, j->tenant_id);
		from = to;
	}
	char tid[24], ids[24];
	PGresult *res = NULL;
	snprintf(tid, sizeof(tid), "%lld", j->tenant_id);
	snprintf(ids, sizeof(ids), "%lld", j->id);
	const char *p[] = {tid, ids};
	if ((rc = db_exec(db, &q_job_certs, p, &res)) == 0)
		*units = db_get_ll(res, 0, "n");
	PQclear(res);
	rc = rc < 0 ? rc : rc > 0 ? -EIO : 0;
out:
	json_sort_lines(errs);
	import_done(&im);
	return rc;
}

/* ---- GET /api/jobs, GET /api/jobs/{id} ---- */

#define JOB_TIMES                                                                                  \
	JST("created_at")                                                                          \
	" AS created_at, coalesce(" JST(                                                           \
		"started_at") ", '') AS started_at,"                                               \
			      " coalesce(" JST("finished_at") ", '') AS finished_at"
#define JOB_COLUMNS                                                                                \
	"id, kind, filename, status, total, processed, devices, admin_download, errors::text AS"   \
	" errors, " JOB_TIMES
/* the list shows only how many errors a job has: counted here, not sent and parsed in C */
#define LIST_COLUMNS                                                                               \
	"id, kind, filename, status, total, processed, devices, admin_download,"                   \
	" CASE jsonb_typeof(errors) WHEN 'array' THEN jsonb_array_length(errors) ELSE 0 END"       \
	" AS error_count, " JOB_TIMES

/* At most one more than an exact total shows (web/keyset.h). */
static const struct db_stmt q_count = {
	"jobs_count",
	"SELECT count(*) AS n FROM (SELECT 1 FROM jobs WHERE tenant_id = $1"
	" ORDER BY id LIMIT " KEYSET_EXACT_MAX_S " + 1) s",
	1,
};
static const char q_select[] = "SELECT 1 FROM jobs WHERE tenant_id = $1";

/*
 * Newest first from a cursor (the id is the key): $2 the cursor's id (NULL: from the newest),
 * $3 rows to skip, $4 rows to read; q_list_rev reads backwards. Index jobs_tenant.
 */
#define LIST_SQL(op, dir)                                                                          \
	"SELECT " LIST_COLUMNS ", NULL::text AS k FROM jobs WHERE tenant_id = $1"                  \
	" AND ($2::bigint IS NULL OR id " op " $2::bigint)"                                        \
	" ORDER BY id " dir " OFFSET $3 LIMIT $4"
static const struct db_stmt q_list = {"jobs_list", LIST_SQL("<", "DESC"), 4};
static const struct db_stmt q_list_rev = {"jobs_list_rev", LIST_SQL(">", "ASC"), 4};

static const struct db_stmt q_get = {
	"jobs_get",
	"SELECT " JOB_COLUMNS " FROM jobs WHERE tenant_id = $1 AND id = $2::bigint",
	2,
};

static const char *const kinds[][3] = {
	{"user_import", "CSV一括登録", "CSV bulk registration"},
	{"user_purge", "CSV一括利用者マスター削除", "CSV user deletion"},
	{"revoke_csv", "CSV一括失効", "CSV revocation"},
	{"reissue_csv", "CSV一括再発行", "CSV reissue"},
};
static const char *const statuses[][3] = {
	{"queued", "待機中", "Queued"},
	{"running", "処理中", "Running"},
	{"done", "完了", "Done"},
	{"failed", "失敗", "Failed"},
};

static const char *
label(const char *const (*t)[3], size_t n, const char *v, int lang)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(t[i][0], v) == 0)
			return t[i][1 + (lang == I18N_EN)];
	return v;
}

/* Where a job's columns are in a result, looked up once a result, not once a row. */
struct job_cols {
	int id, kind, filename, status, total, processed, devices, admin_download, created_at,
		started_at, finished_at, error_count, errors;
};

static void
job_cols(const PGresult *res, struct job_cols *c)
{
	c->id = PQfnumber(res, "id");
	c->kind = PQfnumber(res, "kind");
	c->filename = PQfnumber(res, "filename");
	c->status = PQfnumber(res, "status");
	c->total = PQfnumber(res, "total");
	c->processed = PQfnumber(res, "processed");
	c->devices = PQfnumber(res, "devices");
	c->admin_download = PQfnumber(res, "admin_download");
	c->created_at = PQfnumber(res, "created_at");
	c->started_at = PQfnumber(res, "started_at");
	c->finished_at = PQfnumber(res, "finished_at");
	c->error_count = PQfnumber(res, "error_count");
	c->errors = PQfnumber(res, "errors");
}

/*
 * Row r as the API's job: with its errors when the result has them (q_get), else their number
 * (the list's error_count).
 */
static cJSON *
render_job(const PGresult *res, const struct job_cols *c, int r, int lang)
{
	cJSON *o = cJSON_CreateObject(), *errs;
	const char *kind = db_get_at(res, r, c->kind), *st = db_get_at(res, r, c->status);
	const char *dl = db_get_at(res, r, c->admin_download);

	json_add_int_text(o, "id", db_get_at(res, r, c->id));
	json_add_text(o, "kind", kind);
	json_add_text(o, "kind_label", kind ? label(kinds, 4, kind, lang) : "");
	json_add_text(o, "filename", db_get_at(res, r, c->filename));
	json_add_text(o, "status", st);
	json_add_text(o, "status_label", st ? label(statuses, 4, st, lang) : "");
	json_add_int_text(o, "total", db_get_at(res, r, c->total));
	json_add_int_text(o, "processed", db_get_at(res, r, c->processed));
	json_add_int_text(o, "certificates", db_get_at(res, r, c->devices));
	cJSON_AddItemToObjectCS(o, "admin_download", cJSON_CreateBool(dl && strcmp(dl, "t") == 0));
	json_add_text(o, "created_at", db_get_at(res, r, c->created_at));
	json_add_text(o, "started_at", db_get_at(res, r, c->started_at));
	json_add_text(o, "finished_at", db_get_at(res, r, c->finished_at));
	if (c->errors < 0) {
		json_add_int_text(o, "error_count", db_get_at(res, r, c->error_count));
		return o;
	}
	errs = cJSON_Parse(db_get_at(res, r, c->errors));
	cJSON_AddNumberToObject(o, "error_count", errs ? cJSON_GetArraySize(errs) : 0);
	if (errs != NULL)
		cJSON_AddItemToObject(o, "errors", errs);
	return o;
}

/* The tenant's generation of its jobs (migration 0031): every job queued, advanced or ended. */
static const struct db_changes job_changes = DB_CHANGES("jobs", "job_changes");
#define JOBS_GEN_FOLD_AT 64

int
jobs_list(struct http_req *req, struct svc_thread *t)
{
	cJSON *errs = cJSON_CreateArray(), *doc = NULL, *items;
	struct keyset ks;
	char tid[24], gen[64];
	PGresult *res = NULL;
	long long total;
	int rc, est;

	if (keyset_read(req->query, KEYSET_TEXT, req->lang, errs, &ks) > 0) {
		svc_invalid(req, errs);
		return 0;
	}
	cJSON_Delete(errs);
	/* the same page asked again while no job was written: as it was (web/pagecache.h); a
	 * running job moves the generation at every chunk, so its progress is never held back */
	if ((rc = db_changes_gen(&t->db, &job_changes, req->tenant_id, JOBS_GEN_FOLD_AT, gen,
				 sizeof(gen))) != 0)
		goto out;
	if (pagecache_answer(&t->kv, "jobs", req, gen))
		return 0;
	snprintf(tid, sizeof(tid), "%lld", req->tenant_id);
	const char *p[] = {tid, keyset_id_param(&ks), ks.offset, ks.limit};
	if ((rc = keyset_count_cached(&t->db, &t->kv, "jobs", &ks, &q_count, -1, q_select, p,
				      &total, &est)) != 0)
		goto out;
	keyset_limit(&ks, total, est, JOBS_PER_PAGE);
	p[2] = ks.offset;
	p[3] = ks.limit;
	/*
	 * Planned for its parameters each time, unlike the 操作履歴's pages: ordered by id alone, a
	 * generic plan read the primary key from the cursor with the tenant as a filter (through
	 * every other tenant's jobs), where the tenant's own index range is what serves.
	 */
	rc = db_exec(&t->db, keyset_reverse(&ks) ? &q_list_rev : &q_list, p, &res);
	if (rc != 0)
		goto out;
	doc = cJSON_CreateObject();
	keyset_total(doc, total, est);
	keyset_answer(&ks, res, JOBS_PER_PAGE, doc);
	items = cJSON_AddArrayToObject(doc, "items");
	int n = PQntuples(res), shown = keyset_rows(&ks, n, JOBS_PER_PAGE);
	struct job_cols c;
	job_cols(res, &c);
	for (int i = 0; i < shown; i++)
		cJSON_AddItemToArray(
			items,
			render_job(res, &c, keyset_row(&ks, n, JOBS_PER_PAGE, i), req->lang));
	pagecache_send(&t->kv, "jobs", req, gen, doc);
out:
	PQclear(res);
	cJSON_Delete(doc);
	return rc < 0 ? rc : rc > 0 ? -EIO : 0;
}

int
jobs_get(struct http_req *req, struct svc_thread *t)
{
	char tid[24];
	PGresult *res = NULL;
	cJSON *doc;
	int rc;

	if (valid_id(req->args[0]) != 0) {
		svc_fail(req, 404, "not_found", &msg_job_not_found);
		return 0;
	}
	snprintf(tid, sizeof(tid), "%lld", req->tenant_id);
	const char *p[] = {tid, req->args[0]};
	if ((rc = db_exec(&t->db, &q_get, p, &res)) != 0)
		return rc < 0 ? rc : -EIO;
	if (PQntuples(res) != 1) {
		PQclear(res);
		svc_fail(req, 404, "not_found", &msg_job_not_found);
		return 0;
	}
	struct job_cols c;
	job_cols(res, &c);
	doc = render_job(res, &c, 0, req->lang);
	PQclear(res);
	http_json(req, 200, doc);
	cJSON_Delete(doc);
	return 0;
}
