/* db.c: PostgreSQL connections, prepared statements, reconnect after a restart, the pool. */
#include <errno.h>
#include <stdio.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>

#include "store/db.h"
#include "core/log.h"

int
db_init(struct db *db, const char *conninfo)
{
	memset(db, 0, sizeof(*db));
	if ((db->conninfo = strdup(conninfo)) == NULL)
		return -ENOMEM;
	return 0;
}

int
db_init_pooled(struct db *db, const char *conninfo, struct db_pool *pool)
{
	int rc = db_init(db, conninfo);

	if (rc == 0)
		db->pool = pool;
	return rc;
}

void
db_done(struct db *db)
{
	db_release(db);
	if (db->conn != NULL)
		PQfinish(db->conn);
	free(db->conninfo);
	memset(db, 0, sizeof(*db));
}

int
db_pool_init(struct db_pool *p, int size, int wait_ms)
{
	memset(p, 0, sizeof(*p));
	if (size < 1 || (p->idle = calloc((size_t)size, sizeof(*p->idle))) == NULL)
		return -ENOMEM;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	p->size = size;
	p->wait_ms = wait_ms;
	return 0;
}

void
db_pool_done(struct db_pool *p)
{
	if (p->idle == NULL)
		return;
	for (int i = 0; i < p->nidle; i++)
		PQfinish(p->idle[i].conn);
	free(p->idle);
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
	memset(p, 0, sizeof(*p));
}

void
db_pool_stats(struct db_pool *p, struct db_pool_stats *out)
{
	pthread_mutex_lock(&p->mu);
	out->size = p->size;
	out->in_use = p->in_use;
	out->idle = p->nidle;
	out->waits = p->waits;
	out->timeouts = p->timeouts;
	out->opened = p->opened;
	pthread_mutex_unlock(&p->mu);
}

/* Take a place of the pool: an idle connection (with its statements) or room for a new one. */
static int
borrow(struct db *db)
{
	struct db_pool *p = db->pool;
	struct timespec until;
	int rc = 0, waited = 0;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += p->wait_ms / 1000;
	until.tv_nsec += (long)(p->wait_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&p->mu);
	while (p->nidle == 0 && p->in_use >= p->size && rc == 0) {
		if (!waited++)
			p->waits++;
		rc = pthread_cond_timedwait(&p->cv, &p->mu, &until);
		if (rc != 0 && !(p->nidle == 0 && p->in_use >= p->size))
			rc = 0; /* a place came free as the time ran out */
	}
	if (rc != 0) {
		p->timeouts++;
		pthread_mutex_unlock(&p->mu);
		log_msg(LOG_WARN, "event=db_pool_exhausted size=%d wait_ms=%d", p->size,
			p->wait_ms);
		return -EIO;
	}
	if (p->nidle > 0) {
		struct db *slot = &p->idle[--p->nidle];
		db->conn = slot->conn;
		db->nprepared = slot->nprepared;
		memcpy(db->prepared, slot->prepared,
		       sizeof(db->prepared[0]) * (size_t)slot->nprepared);
		slot->conn = NULL;
		slot->nprepared = 0;
	}
	p->in_use++;
	db->borrowed = 1;
	pthread_mutex_unlock(&p->mu);
	return 0;
}

void
db_release(struct db *db)
{
	struct db_pool *p = db->pool;

	if (p == NULL || !db->borrowed)
		return;
	if (db->conn != NULL && PQstatus(db->conn) == CONNECTION_OK &&
	    PQtransactionStatus(db->conn) != PQTRANS_IDLE)
		PQclear(PQexec(db->conn, "ROLLBACK"));
	if (db->conn != NULL && (PQstatus(db->conn) != CONNECTION_OK ||
				 PQtransactionStatus(db->conn) != PQTRANS_IDLE)) {
		PQfinish(db->conn);
		db->conn = NULL;
	}
	pthread_mutex_lock(&p->mu);
	if (db->conn != NULL) {
		struct db *slot = &p->idle[p->nidle++];
		slot->conn = db->conn;
		slot->nprepared = db->nprepared;
		memcpy(slot->prepared, db->prepared,
		       sizeof(db->prepared[0]) * (size_t)db->nprepared);
	}
	p->in_use--;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
	db->conn = NULL;
	db->nprepared = 0;
	db->borrowed = 0;
}

static void
db_drop(struct db *db)
{
	if (db->conn != NULL)
		PQfinish(db->conn);
	db->conn = NULL;
	db->nprepared = 0;
}

/*
 * What the server sends outside a query's answer (a FATAL as it shuts down or restarts, a
 * NOTICE): through the log like every other line, not libpq's default of raw text on stderr,
 * which would break the JSON log lines (log_format = json).
 */
static void
db_notice(void *arg, const char *msg)
{
	size_t n = strlen(msg);

	(void)arg;
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		n--;
	log_msg(LOG_WARN, "event=db_server_message message=\"%.*s\"", (int)n, msg);
}

int
db_ensure(struct db *db)
{
	int rc;

	if (db->pool != NULL && !db->borrowed && (rc = borrow(db)) != 0)
		return rc;
	if (db->conn != NULL && PQstatus(db->conn) == CONNECTION_OK)
		return 0;
	db_drop(db);
	db->conn = PQconnectdb(db->conninfo);
	if (db->conn == NULL || PQstatus(db->conn) != CONNECTION_OK) {
		log_msg(LOG_DEBUG, "event=db_connect_failed");
		db_drop(db);
		return -EIO;
	}
	PQsetNoticeProcessor(db->conn, db_notice, NULL);
	/*
	 * Plan every execution with its parameters: the lists' optional filters ("$3 IS NULL OR
	 * …") and cursors fold away only then, leaving the index range (docs/DECISIONS.md, "Lists
	 * page by key"). No parallel workers: a page of 100 rows planned in parallel started two
	 * processes per request (docs/DECISIONS.md, "Lists at scale: the 利用者 list's own cost").
	 */
	PGresult *r = PQexec(db->conn, "SET plan_cache_mode = force_custom_plan;"
				       " SET max_parallel_workers_per_gather = 0");
	int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
	PQclear(r);
	if (!ok) {
		db_drop(db);
		return -EIO;
	}
	if (db->pool != NULL) {
		pthread_mutex_lock(&db->pool->mu);
		db->pool->opened++;
		pthread_mutex_unlock(&db->pool->mu);
	}
	return 0;
}

static int
is_prepared(const struct db *db, const struct db_stmt *st)
{
	for (int i = 0; i < db->nprepared; i++)
		if (db->prepared[i] == st)
			return 1;
	return 0;
}

static int
prepare(struct db *db, const struct db_stmt *st)
{
	PGresult *r;
	int ok;

	if (is_prepared(db, st))
		return 0;
	if (db->nprepared >= DB_MAX_STMTS)
		return -ENOSPC;
	r = PQprepare(db->conn, st->name, st->sql, st->nparams, NULL);
	ok = r != NULL && PQresultStatus(r) == PGRES_COMMAND_OK;
	if (!ok)
		log_msg(LOG_DEBUG, "event=db_prepare_failed stmt=%s err=\"%s\"", st->name,
			db->conn ? PQerrorMessage(db->conn) : "");
	PQclear(r);
	if (!ok)
		return -EIO;
	db->prepared[db->nprepared++] = st;
	return 0;
}

/* Map a failed result to our codes. */
static int
classify(PGresult *r)
{
	const char *state;

	if (r == NULL)
		return -EIO;
	switch (PQresultStatus(r)) {
	case PGRES_COMMAND_OK:
	case PGRES_TUPLES_OK:
		return 0;
	default:
		break;
	}
	state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
	/* 23xxx: integrity constraint violation */
	if (state != NULL && strncmp(state, "23", 2) == 0)
		return DB_E_CONFLICT;
	log_msg(LOG_WARN, "event=db_error sqlstate=%s", state ? state : "-");
	return -EIO;
}

/*
 * db_exec_generic's execution: the connection plans it generically (once, then the cached plan)
 * for this execution only. The three messages go in one round trip (libpq's pipeline mode); the
 * setting goes back to force_custom_plan after it, and should the statement fail, the aborted
 * (implicit or explicit) transaction undoes the first SET as well. The statement's result, or
 * NULL.
 */
static PGresult *
exec_generic(struct db *db, const struct db_stmt *st, const char *const *params)
{
	PGconn *c = db->conn;
	PGresult *r, *out = NULL;
	int step = 0, ok;

	if (!PQenterPipelineMode(c))
		return NULL;
	ok = PQsendQueryParams(c, "SET plan_cache_mode = force_generic_plan", 0, NULL, NULL, NULL,
			       NULL, 0) &&
	     PQsendQueryPrepared(c, st->name, st->nparams, params, NULL, NULL, 0) &&
	     PQsendQueryParams(c, "SET plan_cache_mode = force_custom_plan", 0, NULL, NULL, NULL,
			       NULL, 0) &&
	     PQpipelineSync(c);
	/* read up to the sync's result: each statement's result is followed by a NULL */
	while (ok) {
		r = PQgetResult(c);
		if (r == NULL) {
			if (PQstatus(c) != CONNECTION_OK)
				break;
			step++;
			continue;
		}
		if (PQresultStatus(r) == PGRES_PIPELINE_SYNC) {
			PQclear(r);
			break;
		}
		if (step == 1 && out == NULL)
			out = r;
		else
			PQclear(r);
	}
	if (!PQexitPipelineMode(c))
		log_msg(LOG_WARN, "event=db_pipeline_exit_failed stmt=%s", st->name);
	return out;
}

static int
run(struct db *db, const struct db_stmt *st, int generic, const char *sql, int n,
    const char *const *params, PGresult **res)
{
	PGresult *r = NULL;
	int rc;

	if ((rc = db_ensure(db)) != 0)
		return rc;
	if (st != NULL) {
		if ((rc = prepare(db, st)) != 0)
			return rc;
		if (generic)
			r = exec_generic(db, st, params);
		else
			r = PQexecPrepared(db->conn, st->name, st->nparams, params, NULL, NULL, 0);
	} else {
		r = PQexecParams(db->conn, sql, n, NULL, params, NULL, NULL, 0);
	}
	if ((rc = classify(r)) != 0) {
		PQclear(r);
		return rc;
	}
	*res = r;
	return 0;
}

static int
run_retry(struct db *db, const struct db_stmt *st, int generic, const char *sql, int n,
	  const char *const *params, PGresult **res)
{
	int idle = db->conn == NULL || PQtransactionStatus(db->conn) == PQTRANS_IDLE;
	int rc = run(db, st, generic, sql, n, params, res);

	/* (a pooled handle that found no free place has waited enough: no second try) */
	if (rc == -EIO && idle && (db->pool == NULL || db->borrowed) &&
	    (db->conn == NULL || PQstatus(db->conn) != CONNECTION_OK)) {
		db_drop(db);
		rc = run(db, st, generic, sql, n, params, res);
	}
	return rc;
}

int
db_exec(struct db *db, const struct db_stmt *st, const char *const *params, PGresult **res)
{
	return run_retry(db, st, 0, NULL, st->nparams, params, res);
}

int
db_changes_gen(struct db *db, const struct db_changes *c, long long tenant_id, long long fold_at,
	       char *gen, size_t len)
{
	char tid[24];
	const char *p[] = {tid};
	PGresult *res = NULL, *fold = NULL;
	int rc;

	snprintf(tid, sizeof(tid), "%lld", tenant_id);
	if ((rc = db_exec_generic(db, &c->gen, p, &res)) != 0)
		return rc;
	snprintf(gen, len, "%s", db_get(res, 0, "gen") ? db_get(res, 0, "gen") : "");
	if (db_get_ll(res, 0, "n") > fold_at)
		db_exec(db, &c->fold, p, &fold);
	PQclear(fold);
	PQclear(res);
	return 0;
}

int
db_exec_generic(struct db *db, const struct db_stmt *st, const char *const *params, PGresult **res)
{
	return run_retry(db, st, 1, NULL, st->nparams, params, res);
}

int
db_exec_sql(struct db *db, const char *sql, int n, const char *const *params, PGresult **res)
{
	return run_retry(db, NULL, 0, sql, n, params, res);
}

static int
simple(struct db *db, const char *sql)
{
	PGresult *r = NULL;
	int rc;

	if ((rc = db_exec_sql(db, sql, 0, NULL, &r)) != 0)
		return rc;
	PQclear(r);
	return 0;
}

int
db_begin(struct db *db)
{
	return simple(db, "BEGIN");
}

int
db_commit(struct db *db)
{
	PGresult *r = NULL;
	int rc;

	if (db->conn == NULL)
		return -EIO;
	r = PQexec(db->conn, "COMMIT");
	rc = classify(r);
	/* COMMIT of a transaction a statement aborted succeeds as a ROLLBACK */
	if (rc == 0 && strcmp(PQcmdStatus(r), "ROLLBACK") == 0)
		rc = -EIO;
	PQclear(r);
	return rc;
}

void
db_rollback(struct db *db)
{
	if (db->conn == NULL || PQtransactionStatus(db->conn) == PQTRANS_IDLE)
		return;
	PQclear(PQexec(db->conn, "ROLLBACK"));
}

const char *
db_get(const PGresult *res, int r, const char *col)
{
	int c = PQfnumber(res, col);

	if (c < 0 || r >= PQntuples(res) || PQgetisnull(res, r, c))
		return NULL;
	return PQgetvalue(res, r, c);
}

long long
db_get_ll(const PGresult *res, int r, const char *col)
{
	const char *v = db_get(res, r, col);

	return v ? strtoll(v, NULL, 10) : 0;
}

int
db_ping(struct db *db)
{
	return simple(db, "SELECT 1") == 0;
}

const char *
db_get_at(const PGresult *res, int r, int c)
{
	return c < 0 || PQgetisnull(res, r, c) ? NULL : PQgetvalue(res, r, c);
}
