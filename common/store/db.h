/*
 * db.h: PostgreSQL connections with prepared statements, reconnect after a restart; a handle
 * either owns its connection or borrows one from a pool (struct db_pool) for one request.
 */
#ifndef SHOMEI_DB_H
#define SHOMEI_DB_H

#include "core/err.h"

#include <pthread.h>

#include <libpq-fe.h>

/* A statement known by name; prepared on first use on each connection. */
struct db_stmt {
	const char *name;
	const char *sql;
	int nparams;
};

#define DB_MAX_STMTS 256

struct db_pool;

struct db {
	PGconn *conn;
	char *conninfo;
	const struct db_stmt *prepared[DB_MAX_STMTS];
	int nprepared;
	struct db_pool *pool; /* NULL: the handle owns its connection */
	int borrowed;         /* holds one of the pool's places (conn may still be NULL) */
};

/*
 * A pool of at most size connections that handles borrow from: the FastCGI threads of a
 * service share it (config db_pool), so a service holds size connections, not one per thread.
 * A handle with a pool takes a place at its first statement (waiting up to wait_ms when all are
 * in use: then -EIO, the request answers 503) and gives it back with db_release (the runtime
 * does after each request). A place keeps its connection and its prepared statements.
 */
struct db_pool {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct db *idle; /* size slots: connected, unused (conn, prepared, nprepared) */
	int nidle;
	int in_use; /* places borrowed; in_use + nidle <= size */
	int size;
	int wait_ms;
	unsigned long long waits;    /* borrows that found every place taken */
	unsigned long long timeouts; /* of those, the ones that gave up after wait_ms */
	unsigned long long opened;   /* connections made by borrowers */
};

/* A pool of size places; 0 or -ENOMEM. */
int db_pool_init(struct db_pool *p, int size, int wait_ms);
/* Close the idle connections (none may be borrowed any more). */
void db_pool_done(struct db_pool *p);

/* What /metrics prints of a pool (a consistent copy). */
struct db_pool_stats {
	int size, in_use, idle;
	unsigned long long waits, timeouts, opened;
};
void db_pool_stats(struct db_pool *p, struct db_pool_stats *out);

/* Like db_init, but the handle borrows its connections from pool. 0 or -ENOMEM. */
int db_init_pooled(struct db *db, const char *conninfo, struct db_pool *pool);

/*
 * Give the borrowed place back (a handle without a pool, or holding none: nothing). An open
 * transaction is rolled back first; a broken connection is closed, not pooled.
 */
void db_release(struct db *db);

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

/*
 * db_exec for a statement whose best plan does not depend on its parameters' values (no
 * optional "$n IS NULL OR …" conditions; an index range whatever the values): it keeps the
 * generic plan made at its first execution on the connection instead of being planned each
 * time as every other statement is (db_ensure). The same outcomes as db_exec.
 */
int db_exec_generic(struct db *db, const struct db_stmt *st, const char *const *params,
		    PGresult **res);

/*
 * A tenant's generation of a table whose writes statement triggers record in an append-only
 * table of changes (id bigserial, tenant_id), for the pages kept with it (web/pagecache.h):
 * DB_CHANGES(name, table) declares the two statements, db_changes_gen reads the tenant's newest
 * row and number of rows as text into gen (len at least 48), and folds the tenant's rows into
 * one past fold_at (a failure of that costs the next reader a few rows more, no more). The
 * number is part of it: an entry added in an earlier transaction that commits after a later
 * one moves it though the newest id stays. 0, or what db_exec returns.
 */
struct db_changes {
	struct db_stmt gen, fold;
};
#define DB_CHANGES(name, table)                                                                     \
	{                                                                                           \
		{name "_gen",                                                                       \
		 "SELECT coalesce(max(id), 0) || '.' || count(*) AS gen, count(*) AS n FROM " table \
		 " WHERE tenant_id = $1",                                                           \
		 1},                                                                                \
		{                                                                                   \
			name "_gen_fold",                                                           \
				"WITH gone AS (DELETE FROM " table                                  \
				" WHERE tenant_id = $1 RETURNING id) INSERT INTO " table            \
				" (tenant_id) SELECT $1 WHERE EXISTS (SELECT 1 FROM gone)",         \
				1                                                                   \
		}                                                                                   \
	}
int db_changes_gen(struct db *db, const struct db_changes *c, long long tenant_id,
		   long long fold_at, char *gen, size_t len);

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

/* Column number c (PQfnumber, looked up once a result) in row r, or NULL when NULL or c < 0. */
const char *db_get_at(const PGresult *res, int r, int c);

/* Column as long long (0 when NULL). */
long long db_get_ll(const PGresult *res, int r, const char *col);

/* 1 when the server answers a trivial query. */
int db_ping(struct db *db);

#endif
