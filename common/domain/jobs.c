/* jobs.c: the worker that runs queued jobs of the kinds a service owns (jobs.h). */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "domain/jobs.h"

#define JOBS_LOCK_CLASS_S "4894018" /* pg_advisory_lock(class, job id): "JOB" */

static pthread_mutex_t wake_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake_cv = PTHREAD_COND_INITIALIZER;
static int wake_flag;

struct worker {
	const struct cfg *cfg;
	const struct jobs_kind *kinds;
	size_t n;
	char kinds_lit[256]; /* {user_import,…}: the kinds this worker runs */
};

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
	"SELECT id FROM jobs WHERE kind = ANY ($1::text[]) AND status IN ('queued', 'running')"
	" ORDER BY id LIMIT 50",
	1,
};

static const struct db_stmt q_try_lock = {
	"jobs_try_lock",
	"SELECT pg_try_advisory_lock(" JOBS_LOCK_CLASS_S
	", ($1::bigint % 2147483647)::integer) AS ok",
	1,
};

static const struct db_stmt q_unlock = {
	"jobs_unlock",
	"SELECT pg_advisory_unlock(" JOBS_LOCK_CLASS_S ", ($1::bigint % 2147483647)::integer)",
	1,
};

static const struct db_stmt q_load = {
	"jobs_load",
	"SELECT tenant_id, coalesce(admin_id, 0) AS admin_id, kind, filename, admin_download,"
	" convert_from(input, 'UTF8') AS input, processed, total, status, requested_ip,"
	" params::text AS params, errors::text AS errors FROM jobs WHERE id = $1",
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

static const struct db_stmt q_add_errors = {
	"jobs_add_errors",
	"UPDATE jobs SET errors = errors || $2::jsonb WHERE id = $1",
	2,
};

static const struct db_stmt q_finish = {
	"jobs_finish",
	"UPDATE jobs SET status = $2, errors = $3::jsonb, finished_at = now() WHERE id = $1",
	3,
};

static const struct db_stmt q_queue = {
	"jobs_queue",
	"INSERT INTO jobs (tenant_id, admin_id, kind, filename, admin_download, input, total, devices,"
	" requested_ip, encoding, params) VALUES ($1::bigint, $2::bigint, $3, $4, $5::boolean,"
	" convert_to($6, 'UTF8'), $7::integer, $8::integer, $9, $10, coalesce($11::jsonb, '{}'))"
	" RETURNING id",
	11,
};

int
jobs_queue(struct db *db, const struct jobs_new *n, const struct audit_entry *e, long long *id)
{
	char tid[24], aid[24], total[16], devs[16];
	const char *p[] = {tid,
			   n->admin_id > 0 ? aid : NULL,
			   n->kind,
			   n->filename,
			   n->admin_download ? "true" : "false",
			   n->input,
			   total,
			   devs,
			   n->ip ? n->ip : "",
			   n->encoding ? n->encoding : "",
			   n->params};
	PGresult *res = NULL;
	int rc;

	snprintf(tid, sizeof(tid), "%lld", n->tenant_id);
	snprintf(aid, sizeof(aid), "%lld", n->admin_id);
	snprintf(total, sizeof(total), "%d", n->total);
	snprintf(devs, sizeof(devs), "%d", n->devices);
	if ((rc = db_begin(db)) != 0)
		return rc < 0 ? rc : -EIO;
	if ((rc = db_exec(db, &q_queue, p, &res)) != 0 ||
	    (rc = audit_write_ex(db, e, n->more)) != 0 || (rc = db_commit(db)) != 0) {
		db_rollback(db);
		PQclear(res);
		return rc < 0 ? rc : -EIO;
	}
	*id = db_get_ll(res, 0, "id");
	PQclear(res);
	return 0;
}

int
jobs_progress(struct db *db, long long job_id, int done)
{
	char ids[24], n[16];
	const char *p[] = {ids, n};
	PGresult *res = NULL;
	int rc;

	snprintf(ids, sizeof(ids), "%lld", job_id);
	snprintf(n, sizeof(n), "%d", done);
	rc = db_exec(db, &q_progress, p, &res);
	PQclear(res);
	return rc < 0 ? rc : rc > 0 ? -EIO : 0;
}

int
jobs_add_errors(struct db *db, long long job_id, const cJSON *errs)
{
	char ids[24], *e;
	PGresult *res = NULL;
	int rc;

	if (cJSON_GetArraySize(errs) == 0)
		return 0;
	if ((e = cJSON_PrintUnformatted(errs)) == NULL)
		return -ENOMEM;
	snprintf(ids, sizeof(ids), "%lld", job_id);
	const char *p[] = {ids, e};
	rc = db_exec(db, &q_add_errors, p, &res);
	PQclear(res);
	free(e);
	return rc < 0 ? rc : rc > 0 ? -EIO : 0;
}

static void
job_free(struct job *j)
{
	free(j->kind);
	free(j->filename);
	free(j->input);
	free(j->ip);
	cJSON_Delete(j->params);
	memset(j, 0, sizeof(*j));
}

/*
 * DB_E_NOTFOUND when another worker finished it since the look. *errs: the errors its chunks
 * have committed so far (jobs_add_errors), an array.
 */
static int
job_load(struct db *db, long long id, struct job *j, cJSON **errs)
{
	char ids[24];
	const char *p[] = {ids};
	PGresult *res = NULL;
	const char *st;
	int rc;

	snprintf(ids, sizeof(ids), "%lld", id);
	if ((rc = db_exec(db, &q_load, p, &res)) != 0)
		return rc < 0 ? rc : -EIO;
	if (PQntuples(res) != 1 || ((st = db_get(res, 0, "status")) != NULL &&
				    strcmp(st, "queued") != 0 && strcmp(st, "running") != 0)) {
		PQclear(res);
		return DB_E_NOTFOUND;
	}
	memset(j, 0, sizeof(*j));
	j->id = id;
	j->tenant_id = db_get_ll(res, 0, "tenant_id");
	j->admin_id = db_get_ll(res, 0, "admin_id");
	j->processed = (int)db_get_ll(res, 0, "processed");
	j->total = (int)db_get_ll(res, 0, "total");
	j->admin_download = strcmp(db_get(res, 0, "admin_download"), "t") == 0;
	j->kind = strdup(db_get(res, 0, "kind"));
	j->filename = strdup(db_get(res, 0, "filename"));
	j->input = strdup(db_get(res, 0, "input") ? db_get(res, 0, "input") : "");
	j->ip = strdup(db_get(res, 0, "requested_ip"));
	j->params = cJSON_Parse(db_get(res, 0, "params"));
	*errs = cJSON_Parse(db_get(res, 0, "errors"));
	if (!cJSON_IsArray(*errs)) {
		cJSON_Delete(*errs);
		*errs = cJSON_CreateArray();
	}
	PQclear(res);
	if (j->kind == NULL || j->filename == NULL || j->input == NULL || j->ip == NULL) {
		job_free(j);
		return -ENOMEM;
	}
	if (j->params == NULL)
		j->params = cJSON_CreateObject();
	return 0;
}

/* The job ends (done or failed); its history entry in the same transaction. */
static int
job_finish(struct db *db, const struct jobs_kind *k, const struct job *j, int ok, cJSON *errs,
	   long long units)
{
	char ids[24], total[16], done[16], n[24], unit[64];
	char *e = cJSON_PrintUnformatted(errs);
	const char *p[] = {ids, ok ? "done" : "failed", e ? e : "[]"};
	struct audit_entry a = {j->tenant_id, j->ip, "admin", j->admin_id, k->action, NULL};
	struct audit_more m = {NULL, "job_done", {j->filename, total, unit, n}, 4};
	PGresult *res = NULL;
	int rc;

	snprintf(ids, sizeof(ids), "%lld", j->id);
	snprintf(total, sizeof(total), "%d", j->total);
	snprintf(done, sizeof(done), "%d", j->processed);
	snprintf(n, sizeof(n), "%lld", units);
	snprintf(unit, sizeof(unit), "%c%s", AUDIT_WORD_MARK, k->unit);
	if (!ok) {
		m.code = "job_failed";
		m.params[1] = done;
		m.params[2] = total;
		m.n = 3;
	}
	if ((rc = db_begin(db)) == 0 && (rc = db_exec(db, &q_finish, p, &res)) == 0 &&
	    (rc = audit_write_ex(db, &a, &m)) == 0)
		rc = db_commit(db);
	if (rc != 0)
		db_rollback(db);
	PQclear(res);
	free(e);
	log_msg(ok ? LOG_INFO : LOG_WARN, "event=job_%s job=%lld kind=%s tenant=%lld units=%lld",
		ok ? "done" : "failed", j->id, j->kind, j->tenant_id, units);
	return rc < 0 ? rc : rc > 0 ? -EIO : 0;
}

/* Run one job whose lock we hold. */
static int
job_run(struct worker *w, struct db *db, struct kv *kv, long long id)
{
	const struct jobs_kind *k = NULL;
	struct job j;
	cJSON *errs = NULL;
	char ids[24];
	const char *p[] = {ids};
	PGresult *res = NULL;
	long long units = 0;
	int rc;

	snprintf(ids, sizeof(ids), "%lld", id);
	if ((rc = job_load(db, id, &j, &errs)) != 0)
		return rc == DB_E_NOTFOUND ? 0 : rc;
	for (size_t i = 0; i < w->n; i++)
		if (strcmp(w->kinds[i].kind, j.kind) == 0)
			k = &w->kinds[i];
	if (k == NULL || (rc = db_exec(db, &q_running, p, &res)) != 0) {
		cJSON_Delete(errs);
		job_free(&j);
		return k == NULL ? 0 : rc < 0 ? rc : -EIO;
	}
	PQclear(res);
	log_msg(LOG_INFO, "event=job_run job=%lld kind=%s tenant=%lld from=%d total=%d", id, j.kind,
		j.tenant_id, j.processed, j.total);
	if ((rc = k->run(db, kv, &j, errs, &units)) == 0)
		rc = job_finish(db, k, &j, cJSON_GetArraySize(errs) == 0, errs, units);
	cJSON_Delete(errs);
	job_free(&j);
	return rc;
}

/* One look: the open jobs, the first whose lock we get is run. 1 ran one, 0 none, -errno. */
static int
look(struct worker *w, struct db *db, struct kv *kv)
{
	const char *pk[] = {w->kinds_lit};
	PGresult *res = NULL, *lk = NULL;
	int rc, ran = 0;

	if ((rc = db_exec(db, &q_open, pk, &res)) != 0)
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
		rc = job_run(w, db, kv, db_get_ll(res, r, "id"));
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
	struct worker *w = arg;
	struct db db;
	struct kv kv;
	int backoff = 500;

	if (db_init(&db, w->cfg->db) != 0 ||
	    kv_init(&kv, w->cfg->redis_socket, w->cfg->redis_host, w->cfg->redis_port) != 0) {
		log_msg(LOG_ERROR, "event=jobs_worker_failed");
		return NULL;
	}
	for (;;) {
		int rc = look(w, &db, &kv);

		if (rc == 1) {
			backoff = 500;
			continue;
		}
		if (rc < 0) {
			log_msg(LOG_WARN, "event=jobs_look_failed rc=%d backoff_ms=%d", rc,
				backoff);
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
jobs_start(const struct cfg *cfg, const struct jobs_kind *kinds, size_t n)
{
	struct worker *w = calloc(1, sizeof(*w));
	size_t o = 0;
	pthread_t t;
	int rc;

	if (w == NULL)
		return -ENOMEM;
	w->cfg = cfg;
	w->kinds = kinds;
	w->n = n;
	o += (size_t)snprintf(w->kinds_lit, sizeof(w->kinds_lit), "{");
	for (size_t i = 0; i < n && o < sizeof(w->kinds_lit); i++)
		o += (size_t)snprintf(w->kinds_lit + o, sizeof(w->kinds_lit) - o, "%s%s",
				      i ? "," : "", kinds[i].kind);
	if (o + 2 > sizeof(w->kinds_lit)) {
		free(w);
		return -ENAMETOOLONG;
	}
	snprintf(w->kinds_lit + o, sizeof(w->kinds_lit) - o, "}");
	if ((rc = pthread_create(&t, NULL, worker, w)) != 0) {
		free(w);
		return -rc;
	}
	pthread_detach(t);
	return 0;
}
