/*
 * jobs.c: the tenant's jobs (CSV 処理状況: GET /api/jobs, /api/jobs/{id}), and CSV一括登録 as a
 * job kind run by domain/jobs.c's worker in every shomei-users: the users are committed
 * JOBS_CHUNK at a time, each chunk with the job's progress, so a job resumes exactly where the
 * last commit left it: no user twice, none lost.
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
#include "web/valid.h"

#define JOBS_CHUNK 100 /* users a transaction */
#define JOBS_PER_PAGE 100
#define JOBS_PER_PAGE_S "100"	       /* GET /api/jobs, in SQL */
#define JST(col) "to_char((" col ") AT TIME ZONE 'Asia/Tokyo', 'YYYY/MM/DD HH24:MI:SS')"

/* CSV一括登録 as a job kind (domain/jobs.h): parse the stored text again, then commit. */
static int import_run(struct db *db, struct kv *kv, struct job *j, cJSON *errs, long long *units);

static const struct jobs_kind job_kinds[] = {
	{"user_import", AUDIT_USER_IMPORT, "証明書", import_run},
};

int
users_jobs_start(const struct cfg *cfg)
{
	return jobs_start(cfg, job_kinds, sizeof(job_kinds) / sizeof(job_kinds[0]));
}

static const struct db_stmt q_mark_admin = {
	"jobs_mark_admin",
	"UPDATE certificates SET admin_download = true WHERE job_id = $1 AND NOT admin_download",
	1,
};

/* One chunk of users [from, to) in one transaction; errs gets why, when it cannot go in. */
static int
import_chunk(struct db *db, struct job *j, struct import *im, size_t from, size_t to, cJSON *errs)
{
	struct reg_ctx cx = {j->tenant_id, j->admin_id, j->ip, I18N_JA, j->id};
	struct certq_quota q;
	char ids[24];
	PGresult *res = NULL;
	size_t need = 0;
	int rc;

	for (size_t i = from; i < to; i++)
		need += (size_t)im->users[i].u.ndev;
	if ((rc = db_begin(db)) != 0 || (rc = certq_lock(db, j->tenant_id, &q)) != 0)
		goto out;
	if ((long long)need > q.available) {
		quota_error(errs, q.available, I18N_JA);
		goto out;
	}
	for (size_t i = from; i < to && rc == 0; i++) {
		long long uid;

		if ((rc = pairs_taken(db, j->tenant_id, &im->users[i].u, I18N_JA, errs)) > 0) {
			cJSON *e;
			cJSON_ArrayForEach(e, errs) cJSON_AddNumberToObject(e, "line",
									    im->users[i].lines[0]);
			rc = 0;
			goto out;
		}
		if (rc == 0)
			rc = register_insert(db, &cx, &q, &im->users[i].u, NULL, NULL, &uid);
	}
	snprintf(ids, sizeof(ids), "%lld", j->id);
	const char *p1[] = {ids};
	if (rc == 0 && j->admin_download)
		rc = db_exec(db, &q_mark_admin, p1, &res);
	if (rc == 0 && (rc = jobs_progress(db, j->id, (int)to)) == 0 &&
	    (rc = db_commit(db)) == 0) {
		j->processed = (int)to;
		PQclear(res);
		return 0;
	}
out:
	db_rollback(db);
	PQclear(res);
	return rc < 0 ? rc : rc > 0 ? -EIO : 0;
}

static int
import_run(struct db *db, struct kv *kv, struct job *j, cJSON *errs, long long *units)
{
	struct tenant tn;
	struct import im = {0};
	int rc;

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

		if ((rc = import_chunk(db, j, &im, from, to, errs)) != 0 ||
		    cJSON_GetArraySize(errs) > 0)
			goto out;
		certq_wake(kv, j->tenant_id);
		from = to;
	}
	*units = (long long)im.ndevices;
out:
	import_done(&im);
	return rc;
}

/* ---- GET /api/jobs, GET /api/jobs/{id} ---- */

#define JOB_COLUMNS                                                                                \
	"id, kind, filename, status, total, processed, devices, admin_download, errors::text AS "  \
	"errors, " JST("created_at") " AS created_at, coalesce(" JST(                              \
		"started_at") ", '') AS started_at, coalesce(" JST("finished_at") ", '') AS "       \
					  "finished_at"

static const struct db_stmt q_list = {
	"jobs_list",
	"SELECT " JOB_COLUMNS ", count(*) OVER () AS n FROM jobs WHERE tenant_id = $1"
	" ORDER BY id DESC LIMIT " JOBS_PER_PAGE_S " OFFSET $2::integer",
	2,
};

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

static cJSON *
render_job(const PGresult *res, int r, int lang, int with_errors)
{
	cJSON *o = cJSON_CreateObject(), *errs;
	const char *kind = db_get(res, r, "kind"), *st = db_get(res, r, "status");

	cJSON_AddNumberToObject(o, "id", (double)db_get_ll(res, r, "id"));
	cJSON_AddStringToObject(o, "kind", kind);
	cJSON_AddStringToObject(o, "kind_label", label(kinds, 4, kind, lang));
	cJSON_AddStringToObject(o, "filename", db_get(res, r, "filename"));
	cJSON_AddStringToObject(o, "status", st);
	cJSON_AddStringToObject(o, "status_label", label(statuses, 4, st, lang));
	cJSON_AddNumberToObject(o, "total", (double)db_get_ll(res, r, "total"));
	cJSON_AddNumberToObject(o, "processed", (double)db_get_ll(res, r, "processed"));
	cJSON_AddNumberToObject(o, "certificates", (double)db_get_ll(res, r, "devices"));
	cJSON_AddBoolToObject(o, "admin_download", strcmp(db_get(res, r, "admin_download"), "t") == 0);
	cJSON_AddStringToObject(o, "created_at", db_get(res, r, "created_at"));
	cJSON_AddStringToObject(o, "started_at", db_get(res, r, "started_at"));
	cJSON_AddStringToObject(o, "finished_at", db_get(res, r, "finished_at"));
	errs = cJSON_Parse(db_get(res, r, "errors"));
	cJSON_AddNumberToObject(o, "error_count", errs ? cJSON_GetArraySize(errs) : 0);
	if (with_errors && errs != NULL)
		cJSON_AddItemToObject(o, "errors", errs);
	else
		cJSON_Delete(errs);
	return o;
}

int
jobs_list(struct http_req *req, struct svc_thread *t)
{
	static const struct valid_field q[] = {{"page", valid_page, 0, &msg_page, 0}};
	cJSON *errs = cJSON_CreateArray(), *doc, *items;
	char tid[24], off[24], page[16] = "1";
	PGresult *res = NULL;
	long pg;
	int rc;

	if (valid_query(req->query, q, 1, errs, req->lang) > 0) {
		svc_invalid(req, errs);
		return 0;
	}
	cJSON_Delete(errs);
	if (http_query_get(req->query, "page", page, sizeof(page)) != 0)
		snprintf(page, sizeof(page), "1");
	pg = atol(page);
	snprintf(tid, sizeof(tid), "%lld", req->tenant_id);
	snprintf(off, sizeof(off), "%ld", (pg - 1) * JOBS_PER_PAGE);
	const char *p[] = {tid, off};
	if ((rc = db_exec(&t->db, &q_list, p, &res)) != 0)
		return rc < 0 ? rc : -EIO;
	doc = cJSON_CreateObject();
	items = cJSON_AddArrayToObject(doc, "items");
	for (int r = 0; r < PQntuples(res); r++)
		cJSON_AddItemToArray(items, render_job(res, r, req->lang, 0));
	cJSON_AddNumberToObject(doc, "page", (double)pg);
	cJSON_AddNumberToObject(doc, "per_page", JOBS_PER_PAGE);
	cJSON_AddNumberToObject(doc, "total", PQntuples(res) ? (double)db_get_ll(res, 0, "n") : 0);
	PQclear(res);
	http_json(req, 200, doc);
	cJSON_Delete(doc);
	return 0;
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
	doc = render_job(res, 0, req->lang, 1);
	PQclear(res);
	http_json(req, 200, doc);
	cJSON_Delete(doc);
	return 0;
}
