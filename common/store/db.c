/* db.c: one PostgreSQL connection per thread, prepared statements, reconnect after a restart. */
#include <errno.h>
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

void
db_done(struct db *db)
{
	if (db->conn != NULL)
		PQfinish(db->conn);
	free(db->conninfo);
	memset(db, 0, sizeof(*db));
}

static void
db_drop(struct db *db)
{
	if (db->conn != NULL)
		PQfinish(db->conn);
	db->conn = NULL;
	db->nprepared = 0;
}

int
db_ensure(struct db *db)
{
	if (db->conn != NULL && PQstatus(db->conn) == CONNECTION_OK)
		return 0;
	db_drop(db);
	db->conn = PQconnectdb(db->conninfo);
	if (db->conn == NULL || PQstatus(db->conn) != CONNECTION_OK) {
		log_msg(LOG_DEBUG, "event=db_connect_failed");
		db_drop(db);
		return -EIO;
	}
	/*
	 * Plan every execution with its parameters: the lists' optional filters ("$3 IS NULL OR
	 * …") and cursors fold away only then, leaving the index range (docs/DECISIONS.md, "Lists
	 * page by key").
	 */
	PGresult *r = PQexec(db->conn, "SET plan_cache_mode = force_custom_plan");
	int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
	PQclear(r);
	if (!ok) {
		db_drop(db);
		return -EIO;
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

static int
run(struct db *db, const struct db_stmt *st, const char *sql, int n, const char *const *params,
    PGresult **res)
{
	PGresult *r = NULL;
	int rc;

	if ((rc = db_ensure(db)) != 0)
		return rc;
	if (st != NULL) {
		if ((rc = prepare(db, st)) != 0)
			return rc;
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
run_retry(struct db *db, const struct db_stmt *st, const char *sql, int n,
	  const char *const *params, PGresult **res)
{
	int idle = db->conn == NULL || PQtransactionStatus(db->conn) == PQTRANS_IDLE;
	int rc = run(db, st, sql, n, params, res);

	if (rc == -EIO && idle && (db->conn == NULL || PQstatus(db->conn) != CONNECTION_OK)) {
		db_drop(db);
		rc = run(db, st, sql, n, params, res);
	}
	return rc;
}

int
db_exec(struct db *db, const struct db_stmt *st, const char *const *params, PGresult **res)
{
	return run_retry(db, st, NULL, st->nparams, params, res);
}

int
db_exec_sql(struct db *db, const char *sql, int n, const char *const *params, PGresult **res)
{
	return run_retry(db, NULL, sql, n, params, res);
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
