/* db.h: one PostgreSQL connection per thread, prepared statements, reconnect after a restart. */
#ifndef SHOMEI_DB_H
#define SHOMEI_DB_H

#include "core/err.h"

#include <libpq-fe.h>

/* A statement known by name; prepared on first use on each connection. */
struct db_stmt {
	const char *name;
	const char *sql;
	int nparams;
};

#define DB_MAX_STMTS 128

struct db {
	PGconn *conn;
	char *conninfo;
	const struct db_stmt *prepared[DB_MAX_STMTS];
	int nprepared;
};

/* Keep conninfo (copied); connects lazily. 0 or -ENOMEM. */
int db_init(struct db *db, const char *conninfo);
void db_done(struct db *db);

/* Connect if not connected (or the connection broke); 0 or -EIO. */
int db_ensure(struct db *db);

/*
 * Run a statement with text parameters (NULL = SQL NULL). On success *res
 * holds the result (PQclear it). Outside a transaction a broken connection is
 * re-established and the statement tried once more. Returns 0, DB_E_CONFLICT
 * for a unique/check/foreign-key violation, -ENOSPC when the connection already
 * holds DB_MAX_STMTS prepared statements, or -EIO.
 */
int db_exec(struct db *db, const struct db_stmt *st, const char *const *params, PGresult **res);

/* Same for a plain SQL string, not prepared (for migrations and one-off work). */
int db_exec_sql(struct db *db, const char *sql, int n, const char *const *params, PGresult **res);

/*
 * BEGIN / COMMIT / ROLLBACK. db_commit returns 0 only when the transaction committed:
 * DB_E_CONFLICT for a deferred constraint, -EIO otherwise (also when a statement had
 * aborted the transaction, whose COMMIT only rolls back). Rollback is safe to call after any
 * failure.
 */
int db_begin(struct db *db);
int db_commit(struct db *db);
void db_rollback(struct db *db);

/* Column value by name in row r, or NULL when NULL or absent. */
const char *db_get(const PGresult *res, int r, const char *col);

/* Column as long long (0 when NULL). */
long long db_get_ll(const PGresult *res, int r, const char *col);

/* 1 when the server answers a trivial query. */
int db_ping(struct db *db);

#endif
