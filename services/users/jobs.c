/*
 * jobs.c: the tenant's jobs (CSV 処理状況) and the worker that runs CSV imports.
 *
 * Every shomei-users runs one worker thread. A job is taken by whichever worker first gets its
 * session advisory lock (pg_try_advisory_lock on the worker's own connection), so two instances
 * never run one job, and a worker that dies (kill -9) loses the lock with its connection: the
 * next look of any worker takes the job over. The users are committed in chunks, each with the
 * job's `processed` count in the same transaction, so a job resumes exactly where the last
 * commit left it: no user twice, none lost.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/json.h"
#include "core/log.h"
#include "domain/audit.h"
#include "extern.h"
#include "web/valid.h"

#define JOBS_CHUNK 100 /* users a transaction */
#define JOBS_PER_PAGE 100
#define JOBS_PER_PAGE_S "100"	       /* GET /api/jobs, in SQL */
#define JOBS_LOCK_CLASS_S "4894018" /* pg_advisory_lock(class, job id): "JOB" */
#define JST(col) "to_char((" col ") AT TIME ZONE 'Asia/Tokyo', 'YYYY/MM/DD HH24:MI:SS')"

static pthread_mutex_t wake_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake_cv = PTHREAD_COND_INITIALIZER;
static int wake_flag;

void
jobs_wake(void)
{
	pthread_mutex_lock(&wake_mu);
	wake_flag = 1;
	pthread_cond_signal(&wake_cv);
	pthread_mutex_unlock(&wake_mu);
}

/* Sleep until woken or ms pass. */
static void
nap(int ms)
{
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&wake_mu);
	while (!wake_flag && pthread_cond_timedwait(&wake_cv, &wake_mu, &until) == 0)
		;
	wake_flag = 0;
	pthread_mutex_unlock(&wake_mu);
}

static const struct db_stmt q_open = {
	"jobs_open",
	"SELECT id FROM jobs WHERE kind = 'user_import' AND status IN ('queued', 'running')"
	" ORDER BY id LIMIT 50",
	0,
};

static const struct db_stmt q_try_lock = {
	"jobs_try_lock",
	"SELECT pg_try_advisory_lock(" JOBS_LOCK_CLASS_S ", ($1::bigint % 2147483647)::integer) AS ok",
	1,
};

static const struct db_stmt q_unlock = {
	"jobs_unlock",
	"SELECT pg_advisory_unlock(" JOBS_LOCK_CLASS_S ", ($1::bigint % 2147483647)::integer)",
	1,
};

static const struct db_stmt q_load = {
	"jobs_load",
	"SELECT tenant_id, coalesce(admin_id, 0) AS admin_id, filename, admin_download,"
	" convert_from(input, 'UTF8') AS input, processed, total, devices, status, requested_ip"
	" FROM jobs WHERE id = $1",
	1,
};

static const struct db_stmt q_running = {
	"jobs_running",
	"UPDATE jobs SET status = 'running', started_at = coalesce(started_at, now())"
	" WHERE id = $1 AND status IN ('queued', 'running')",
	1,
};

static const struct db_stmt q_progress = {
	"jobs_progress",
	"UPDATE jobs SET processed = $2::integer WHERE id = $1",
	2,
};

static const struct db_stmt q_mark_admin = {
	"jobs_mark_admin",
	"UPDATE certificates SET admin_download = true WHERE job_id = $1 AND NOT admin_download",
	1,
};

static const struct db_stmt q_finish = {
	"jobs_finish",
	"UPDATE jobs SET status = $2, errors = $3::jsonb, finished_at = now() WHERE id = $1",
	3,
};

struct job {
	long long id, tenant_id, admin_id;
	int processed, total, admin_download;
	char *filename, *input, *ip;
};

static void
job_done(struct job *j)
{
	free(j->filename);
	free(j->input);
	free(j->ip);
	memset(j, 0, sizeof(*j));
}

static int
job_load(struct db *db, long long id, struct job *j)
{
	char ids[24];
	const char *p[] = {ids};
	PGresult *res = NULL;
	int rc;

	snprintf(ids, sizeof(ids), "%lld", id);
	if ((rc = db_exec(db, &q_load, p, &res)) != 0)
		return rc < 0 ? rc : -EIO;
	if (PQntuples(res) != 1 || (strcmp(db_get(res, 0, "status"), "queued") != 0 &&
				    strcmp(db_get(res, 0, "status"), "running") != 0)) {
		PQclear(res);
		return DB_E_NOTFOUND; /* finished by another worker since the look */
	}
	memset(j, 0, sizeof(*j));
	j->id = id;
	j->tenant_id = db_get_ll(res, 0, "tenant_id");
	j->admin_id = db_get_ll(res, 0, "admin_id");
	j->processed = (int)db_get_ll(res, 0, "processed");
	j->total = (int)db_get_ll(res, 0, "total");
	j->admin_download = strcmp(db_get(res, 0, "admin_download"), "t") == 0;
	j->filename = strdup(db_get(res, 0, "filename"));
	j->input = strdup(db_get(res, 0, "input"));
	j->ip = strdup(db_get(res, 0, "requested_ip"));
	PQclear(res);
	if (j->filename == NULL || j->input == NULL || j->ip == NULL) {
		job_done(j);
		return -ENOMEM;
	}
	return 0;
}

/* The job ends (done or failed); its history entry in the same transaction. */
static int
job_finish(struct db *db, const struct job *j, int ok, cJSON *errs, size_t users, size_t certs)
{
	char ids[24], detail[512];
	char *e = cJSON_PrintUnformatted(errs);
	const char *p[] = {ids, ok ? "done" : "failed", e ? e : "[]"};
	struct audit_entry a = {j->tenant_id, j->ip,	 "admin",
				j->admin_id, AUDIT_USER_IMPORT, detail};
	PGresult *res = NULL;
	int rc;

	snprintf(ids, sizeof(ids), "%lld", j->id);
	if (ok)
		snprintf(detail, sizeof(detail), "完了 %s (利用者 %zu, 証明書 %zu)", j->filename,
			 users, certs);
	else
		snprintf(detail, sizeof(detail), "失敗 %s (登録済み 利用者 %d)", j->filename,
			 j->processed);
	if ((rc = db_begin(db)) == 0 && (rc = db_exec(db, &q_finish, p, &res)) == 0 &&
	    (rc = audit_write(db, &a)) == 0)
		rc = db_commit(db);
	if (rc != 0)
		db_rollback(db);
	PQclear(res);
	free(e);
	log_msg(ok ? LOG_INFO : LOG_WARN, "event=import_%s job=%lld tenant=%lld users=%zu",
		ok ? "done" : "failed", j->id, j->tenant_id, users);
	return rc < 0 ? rc : rc > 0 ? -EIO : 0;
}

/* One chunk of users [from, to) in one transaction; errs gets why, when it cannot go in. */
static int
job_chunk(struct db *db, struct job *j, struct import *im, size_t from, size_t to, cJSON *errs)
{
	struct reg_ctx cx = {j->tenant_id, j->admin_id, j->ip, I18N_JA, j->id};
	struct certq_quota q;
	char ids[24], done[24];
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
	snprintf(done, sizeof(done), "%zu", to);
	const char *p1[] = {ids};
	const char *p2[] = {ids, done};
	if (rc == 0 && j->admin_download)
		rc = db_exec(db, &q_mark_admin, p1, &res);
	PQclear(res);
	res = NULL;
	if (rc == 0 && (rc = db_exec(db, &q_progress, p2, &res)) == 0 && (rc = db_commit(db)) == 0) {
		j->processed = (int)to;
		PQclear(res);
		return 0;
	}
out:
	db_rollback(db);
	PQclear(res);
	return rc < 0 ? rc : rc > 0 ? -EIO : 0;
}

/* Run one job we hold the lock of: parse again, commit what is left chunk by chunk. */
static int
job_run(struct db *db, struct kv *kv, long long id)
{
	struct job j;
	struct tenant tn;
	struct import im = {0};
	cJSON *errs = cJSON_CreateArray();
	char ids[24];
	const char *p[] = {ids};
	PGresult *res = NULL;
	int rc;

	snprintf(ids, sizeof(ids), "%lld", id);
	if ((rc = job_load(db, id, &j)) != 0) {
		cJSON_Delete(errs);
		return rc == DB_E_NOTFOUND ? 0 : rc;
	}
	if ((rc = db_exec(db, &q_running, p, &res)) != 0 ||
	    (rc = tenant_load(db, j.tenant_id, &tn)) != 0)
		goto out;
	log_msg(LOG_INFO, "event=import_run job=%lld tenant=%lld from=%d total=%d", id,
		j.tenant_id, j.processed, j.total);
	if ((rc = import_parse(&im, j.input, strlen(j.input), &tn, j.admin_download, I18N_JA,
			       time(NULL))) != 0)
		goto out;
	if (cJSON_GetArraySize(im.errs) > 0 || (int)im.nusers != j.total) {
		/* what passed at upload no longer does (the tenant's features or limits changed) */
		import_sort_errors(&im);
		rc = job_finish(db, &j, 0, im.errs, 0, 0);
		goto out;
	}
	for (size_t from = (size_t)j.processed; from < im.nusers;) {
		size_t to = from + JOBS_CHUNK < im.nusers ? from + JOBS_CHUNK : im.nusers;

		if ((rc = job_chunk(db, &j, &im, from, to, errs)) != 0)
			goto out;
		if (cJSON_GetArraySize(errs) > 0) {
			rc = job_finish(db, &j, 0, errs, 0, 0);
			goto out;
		}
		certq_wake(kv, j.tenant_id);
		from = to;
	}
	rc = job_finish(db, &j, 1, errs, im.nusers, im.ndevices);
out:
	PQclear(res);
	import_done(&im);
	cJSON_Delete(errs);
	job_done(&j);
	return rc;
}

/* One look: the open jobs, the first whose lock we get is run. 1 ran one, 0 none, -errno. */
static int
look(struct db *db, struct kv *kv)
{
	PGresult *res = NULL, *lk = NULL;
	int rc, ran = 0;

	if ((rc = db_exec(db, &q_open, NULL, &res)) != 0)
		return rc < 0 ? rc : -EIO;
	for (int r = 0; r < PQntuples(res) && !ran; r++) {
		const char *p[] = {db_get(res, r, "id")};

		if ((rc = db_exec(db, &q_try_lock, p, &lk)) != 0)
			break;
		int ok = strcmp(db_get(lk, 0, "ok"), "t") == 0;
		PQclear(lk);
		lk = NULL;
		if (!ok)
			continue;
		rc = job_run(db, kv, db_get_ll(res, r, "id"));
		if (db_exec(db, &q_unlock, p, &lk) != 0)
			db_done(db); /* a lock we cannot drop goes with the connection */
		PQclear(lk);
		lk = NULL;
		ran = 1;
	}
	PQclear(res);
	return rc < 0 ? rc : ran;
}

static void *
worker(void *arg)
{
	const struct cfg *cfg = arg;
	struct db db;
	struct kv kv;
	int backoff = 500;

	if (db_init(&db, cfg->db) != 0 || kv_init(&kv, cfg->redis_socket, cfg->redis_host, cfg->redis_port) != 0) {
		log_msg(LOG_ERROR, "event=jobs_worker_failed");
		return NULL;
	}
	for (;;) {
		int rc = look(&db, &kv);

		if (rc == 1) {
			backoff = 500;
			continue;
		}
		if (rc < 0) {
			log_msg(LOG_WARN, "event=jobs_look_failed rc=%d backoff_ms=%d", rc, backoff);
			nap(backoff);
			backoff = backoff < 30000 ? backoff * 2 : 30000;
			continue;
		}
		backoff = 500;
		nap(1000);
	}
	return NULL;
}

int
jobs_start(const struct cfg *cfg)
{
	pthread_t t;
	int rc;

	if ((rc = pthread_create(&t, NULL, worker, (void *)cfg)) != 0)
		return -rc;
	pthread_detach(t);
	return 0;
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
