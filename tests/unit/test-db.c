/*
 * test-db.c: the PostgreSQL layer. Without a server: a conninfo that cannot connect gives -EIO
 * everywhere and leaves nothing behind; db_get / db_get_ll on results built with libpq alone.
 * With SHOMEI_TEST_DB (a libpq conninfo): statements, parameters, constraint outcomes,
 * transactions and reconnecting after the server dropped the connection, on temporary tables.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/db.h"
#include "db-fixture.h"
#include "tap.h"

static const struct db_stmt st_one = {"test_one", "SELECT $1::int + 1 AS n", 1};
static const struct db_stmt st_gen = {"test_generic", "SELECT 10 / $1::int AS n", 1};

static void
test_dead(void)
{
	static const char *const conninfos[] = {
		DEAD_DB,
		"host=/nonexistent/deeper/still port=1 dbname=x connect_timeout=1",
		"this is not a conninfo",
		"postgresql://%zz/x",
	};
	const char *params[] = {"1"};
	struct db db;
	PGresult *res;

	for (size_t i = 0; i < sizeof(conninfos) / sizeof(conninfos[0]); i++) {
		const char *ci = conninfos[i];
		TAP_OK(db_init(&db, ci) == 0 && db.conninfo != ci && strcmp(db.conninfo, ci) == 0 &&
			       db.conn == NULL && db.nprepared == 0,
		       "db_init copies \"%s\" and does not connect", ci);
		TAP_OK(db_ensure(&db) == -EIO && db.conn == NULL, "db_ensure: -EIO, no connection");
		res = NULL;
		TAP_OK(db_exec(&db, &st_one, params, &res) == -EIO && res == NULL &&
			       db.conn == NULL && db.nprepared == 0,
		       "db_exec: -EIO, *res untouched, nothing prepared");
		TAP_OK(db_exec_sql(&db, "SELECT 1", 0, NULL, &res) == -EIO && res == NULL,
		       "db_exec_sql: -EIO");
		TAP_OK(db_begin(&db) == -EIO && db.conn == NULL, "db_begin: -EIO");
		TAP_OK(db_commit(&db) == -EIO, "db_commit without a connection: -EIO");
		db_rollback(&db);
		TAP_OK(db.conn == NULL, "db_rollback without a connection does nothing");
		TAP_OK(db_ping(&db) == 0, "db_ping: 0");
		db_done(&db);
		TAP_OK(db.conninfo == NULL && db.conn == NULL, "db_done clears the struct");
	}

	/* many failed attempts: each one's PGconn is finished (ASan's leak check counts) */
	int all = 1;
	db_init(&db, DEAD_DB);
	for (int i = 0; i < 50 && all; i++) {
		res = NULL;
		all = db_exec(&db, &st_one, params, &res) == -EIO && res == NULL && db.conn == NULL;
	}
	TAP_OK(all, "50 failed statements in a row: -EIO each time");
	db_done(&db);
	db_done(&db);
	TAP_OK(db.conninfo == NULL, "db_done twice is harmless");
}

static void
test_get(void)
{
	static const char *const cols[] = {"id", "name", "n", "Mixed"};
	static const char *const cells[] = {
		"42",
		"alpha",
		"9223372036854775807",
		"m",
		NULL,
		NULL,
		"-9223372036854775808",
		NULL,
		"99999999999999999999",
		"",
		"12abc",
		"x",
		"",
		" 7",
		"abc",
		"y",
	};
	static const struct {
		int row;
		const char *col;
		const char *want; /* NULL: db_get answers NULL */
		long long want_ll;
	} cases[] = {
		{0, "id", "42", 42},
		{0, "name", "alpha", 0},
		{0, "n", "9223372036854775807", 9223372036854775807LL},
		{1, "n", "-9223372036854775808", -9223372036854775807LL - 1},
		{1, "id", NULL, 0},                                       /* SQL NULL */
		{1, "name", NULL, 0},                                     /* SQL NULL */
		{2, "id", "99999999999999999999", 9223372036854775807LL}, /* strtoll saturates */
		{2, "name", "", 0},                                       /* empty, not NULL */
		{2, "n", "12abc", 12}, /* digits up to the first other */
		{3, "id", "", 0},
		{3, "name", " 7", 7},
		{3, "n", "abc", 0},
		{0, "absent", NULL, 0}, /* no such column */
		{0, "", NULL, 0},
		{0, "ID", "42", 42},      /* unquoted names fold to lower case */
		{0, "Mixed", NULL, 0},    /* ... so a mixed-case alias is not found */
		{0, "\"Mixed\"", "m", 0}, /* unless quoted */
		{4, "id", NULL, 0},       /* past the last row */
		{-1, "id", NULL, 0},      /* before the first */
		{1000000, "name", NULL, 0},
	};
	PGresult *res = fixture_result(4, cols, 4, cells);
	PGresult *empty = fixture_result(4, cols, 0, NULL);

	TAP_OK(res != NULL && PQntuples(res) == 4 && PQnfields(res) == 4,
	       "a 4x4 result built without a server");
	for (size_t i = 0; res != NULL && i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *got = db_get(res, cases[i].row, cases[i].col);
		long long ll = db_get_ll(res, cases[i].row, cases[i].col);
		if (cases[i].want == NULL)
			TAP_OK(got == NULL && ll == 0, "row %d, column \"%s\": NULL, 0",
			       cases[i].row, cases[i].col);
		else
			TAP_OK(got != NULL && strcmp(got, cases[i].want) == 0 &&
				       ll == cases[i].want_ll,
			       "row %d, column \"%s\": \"%s\", %lld", cases[i].row, cases[i].col,
			       cases[i].want, cases[i].want_ll);
	}
	TAP_OK(empty != NULL && db_get(empty, 0, "id") == NULL && db_get_ll(empty, 0, "id") == 0,
	       "no rows: NULL, 0");
	TAP_OK(db_get(NULL, 0, "id") == NULL && db_get_ll(NULL, 0, "id") == 0,
	       "no result at all: NULL, 0");
	PQclear(res);
	PQclear(empty);
}

/* ---- against SHOMEI_TEST_DB ---- */

static const struct db_stmt st_ins = {"test_ins", "INSERT INTO db_t (id, v) VALUES ($1, $2)", 2};
static const struct db_stmt st_get = {"test_get", "SELECT id, v FROM db_t WHERE id = $1", 1};
static const struct db_stmt st_bad = {"test_bad", "SELEC nothing", 0};

static void
test_statements(struct db *db)
{
	PGresult *res = NULL;
	int np;

	TAP_OK(db_ensure(db) == 0 && db_ping(db) == 1, "server: connected, ping answers");
	TAP_OK(sql_run(db,
		       "CREATE TEMP TABLE db_t (id int PRIMARY KEY CHECK (id > 0), v text,"
		       " ref int REFERENCES db_t (id), nn text NOT NULL DEFAULT '')",
		       0, NULL) == 0,
	       "temporary table created");
	np = db->nprepared;
	const char *p1[] = {"1", "one"}, *p2[] = {"2", NULL}, *k1[] = {"1"}, *k2[] = {"2"};
	TAP_OK(db_exec(db, &st_ins, p1, &res) == 0 && res != NULL &&
		       PQresultStatus(res) == PGRES_COMMAND_OK && db->nprepared == np + 1,
	       "prepared INSERT: 0, prepared once");
	PQclear(res);
	res = NULL;
	TAP_OK(db_exec(db, &st_ins, p2, &res) == 0 && db->nprepared == np + 1,
	       "the same statement again is not prepared again; NULL parameter accepted");
	PQclear(res);
	res = NULL;
	TAP_OK(db_exec(db, &st_get, k1, &res) == 0 && PQntuples(res) == 1 &&
		       db_get_ll(res, 0, "id") == 1 && strcmp(db_get(res, 0, "v"), "one") == 0,
	       "SELECT by parameter: the row");
	PQclear(res);
	res = NULL;
	TAP_OK(db_exec(db, &st_get, k2, &res) == 0 && PQntuples(res) == 1 &&
		       db_get(res, 0, "v") == NULL && db_get(res, 0, "id") != NULL,
	       "a NULL stored from a NULL parameter reads back as NULL");
	PQclear(res);

	static const struct {
		const char *what, *sql;
	} conflicts[] = {
		{"unique (23505)", "INSERT INTO db_t (id) VALUES (1)"},
		{"check (23514)", "INSERT INTO db_t (id) VALUES (-1)"},
		{"foreign key (23503)", "INSERT INTO db_t (id, ref) VALUES (3, 99)"},
		{"not null (23502)", "INSERT INTO db_t (id, nn) VALUES (4, NULL)"},
	};
	for (size_t i = 0; i < sizeof(conflicts) / sizeof(conflicts[0]); i++) {
		res = NULL;
		TAP_OK(db_exec_sql(db, conflicts[i].sql, 0, NULL, &res) == DB_E_CONFLICT &&
			       res == NULL,
		       "%s violation: DB_E_CONFLICT", conflicts[i].what);
	}
	res = NULL;
	TAP_OK(db_exec_sql(db, "SELECT 1/0", 0, NULL, &res) == -EIO && res == NULL,
	       "division by zero (22012): -EIO");
	TAP_OK(db_exec_sql(db, "SELECT nope FROM nowhere", 0, NULL, &res) == -EIO && res == NULL,
	       "unknown table: -EIO");
	TAP_OK(db_exec_sql(db, "SELECT 1; SELECT 2", 0, NULL, &res) == -EIO && res == NULL,
	       "two statements in one db_exec_sql: -EIO (extended protocol)");
	const char *bad_int[] = {"x"};
	TAP_OK(db_exec(db, &st_one, bad_int, &res) == -EIO && res == NULL,
	       "a parameter of the wrong type: -EIO");
	np = db->nprepared;
	TAP_OK(db_exec(db, &st_bad, NULL, &res) == -EIO && res == NULL && db->nprepared == np,
	       "a statement that does not prepare: -EIO, not remembered as prepared");
	TAP_OK(db_ping(db) == 1, "the connection is still usable after those errors");
	const char *params[] = {"41"};
	TAP_OK(db_exec(db, &st_one, params, &res) == 0 && db_get_ll(res, 0, "n") == 42,
	       "SELECT $1::int + 1 with \"41\": 42");
	PQclear(res);
}

/* The plans made for prepared statement name so far: "generic|custom". */
static void
plans_of(struct db *db, const char *name, char *out, size_t n)
{
	const char *p[] = {name};
	PGresult *res = NULL;

	snprintf(out, n, "?");
	if (db_exec_sql(
		    db,
		    "SELECT generic_plans || '|' || custom_plans AS v FROM pg_prepared_statements"
		    " WHERE name = $1",
		    1, p, &res) == 0 &&
	    PQntuples(res) == 1)
		snprintf(out, n, "%s", db_get(res, 0, "v"));
	PQclear(res);
}

/* The connection's plan_cache_mode. */
static int
mode_is(struct db *db, const char *want)
{
	PGresult *res = NULL;
	int ok = db_exec_sql(db, "SELECT current_setting('plan_cache_mode') AS m", 0, NULL, &res) ==
			 0 &&
		 strcmp(db_get(res, 0, "m"), want) == 0;
	PQclear(res);
	return ok;
}

static void
test_generic(struct db *db)
{
	const char *five[] = {"5"}, *two[] = {"2"}, *zero[] = {"0"}, *one[] = {"1"};
	PGresult *res = NULL;
	char plans[64];

	TAP_OK(mode_is(db, "force_custom_plan"),
	       "a connection plans each execution: force_custom_plan");
	TAP_OK(db_exec_generic(db, &st_gen, five, &res) == 0 && db_get_ll(res, 0, "n") == 2,
	       "db_exec_generic: 10 / 5 = 2");
	PQclear(res);
	res = NULL;
	TAP_OK(db_exec_generic(db, &st_gen, two, &res) == 0 && db_get_ll(res, 0, "n") == 5,
	       "again with 2: 5");
	PQclear(res);
	res = NULL;
	plans_of(db, "test_generic", plans, sizeof(plans));
	TAP_OK(strcmp(plans, "2|0") == 0,
	       "both executions used the generic plan, none a custom one (generic|custom %s)",
	       plans);
	TAP_OK(mode_is(db, "force_custom_plan"),
	       "afterwards the connection is back to force_custom_plan");
	TAP_OK(db_exec(db, &st_one, one, &res) == 0 && db_get_ll(res, 0, "n") == 2,
	       "a plain statement");
	PQclear(res);
	res = NULL;
	TAP_OK(db_exec(db, &st_one, one, &res) == 0, "twice");
	PQclear(res);
	res = NULL;
	plans_of(db, "test_one", plans, sizeof(plans));
	TAP_OK(strcmp(plans + strlen(plans) - 2, "|0") != 0 && plans[0] == '0',
	       "a plain statement is still planned each time (generic|custom %s)", plans);

	TAP_OK(db_exec_generic(db, &st_gen, zero, &res) == -EIO && res == NULL,
	       "a generic statement that fails (division by zero): -EIO");
	TAP_OK(mode_is(db, "force_custom_plan") && db_ping(db) == 1,
	       "the failed one left force_custom_plan and a usable connection");
	TAP_OK(db_begin(db) == 0 && db_exec_generic(db, &st_gen, zero, &res) == -EIO,
	       "in a transaction: the failing generic statement -EIO");
	db_rollback(db);
	TAP_OK(mode_is(db, "force_custom_plan"), "after the rollback: force_custom_plan");
	TAP_OK(db_begin(db) == 0 && db_exec_generic(db, &st_gen, five, &res) == 0 &&
		       db_get_ll(res, 0, "n") == 2 && mode_is(db, "force_custom_plan") &&
		       db_commit(db) == 0,
	       "in a transaction that commits: the answer, force_custom_plan inside and after");
	PQclear(res);
	TAP_OK(mode_is(db, "force_custom_plan"), "after the commit: force_custom_plan");
}

static void
test_transactions(struct db *db)
{
	PGresult *res = NULL;
	const char *p5[] = {"5", "five"}, *p6[] = {"6", "six"};

	TAP_OK(db_begin(db) == 0 && PQtransactionStatus(db->conn) == PQTRANS_INTRANS,
	       "db_begin opens a transaction");
	TAP_OK(db_exec(db, &st_ins, p5, &res) == 0, "insert inside it");
	PQclear(res);
	db_rollback(db);
	TAP_OK(PQtransactionStatus(db->conn) == PQTRANS_IDLE &&
		       sql_ll(db, "SELECT count(*) FROM db_t WHERE id = 5", 0, NULL) == 0,
	       "db_rollback: the row is gone");
	db_rollback(db);
	TAP_OK(PQtransactionStatus(db->conn) == PQTRANS_IDLE, "db_rollback when idle does nothing");

	res = NULL;
	TAP_OK(db_begin(db) == 0 && db_exec(db, &st_ins, p6, &res) == 0 && db_commit(db) == 0,
	       "begin, insert, commit: 0");
	PQclear(res);
	TAP_OK(sql_ll(db, "SELECT count(*) FROM db_t WHERE id = 6", 0, NULL) == 1,
	       "the committed row is there");

	/* a statement failed: the transaction is aborted, and COMMIT only rolls back */
	res = NULL;
	TAP_OK(db_begin(db) == 0 && sql_run(db, "INSERT INTO db_t (id) VALUES (7)", 0, NULL) == 0 &&
		       sql_run(db, "SELECT 1/0", 0, NULL) == -EIO,
	       "a failed statement inside a transaction: -EIO");
	TAP_OK(sql_run(db, "SELECT 1", 0, NULL) == -EIO,
	       "the next statement of that transaction: -EIO (aborted)");
	TAP_OK(db_commit(db) == -EIO, "db_commit of the aborted transaction: -EIO, not 0");
	TAP_OK(PQtransactionStatus(db->conn) == PQTRANS_IDLE &&
		       sql_ll(db, "SELECT count(*) FROM db_t WHERE id = 7", 0, NULL) == 0,
	       "and nothing of it was committed");

	/* a deferred constraint fails at COMMIT */
	TAP_OK(sql_run(db, "CREATE TEMP TABLE db_d (id int UNIQUE DEFERRABLE INITIALLY DEFERRED)",
		       0, NULL) == 0 &&
		       db_begin(db) == 0 &&
		       sql_run(db, "INSERT INTO db_d VALUES (1), (1)", 0, NULL) == 0,
	       "a deferred unique constraint accepts duplicates until COMMIT");
	TAP_OK(db_commit(db) == DB_E_CONFLICT, "db_commit: DB_E_CONFLICT");
	db_rollback(db);
	TAP_OK(PQtransactionStatus(db->conn) == PQTRANS_IDLE, "idle afterwards");
}

/* The server ends db's connection (pg_terminate_backend from a second connection). */
static int
kill_backend(struct db *db, const char *conninfo)
{
	char pid[24];
	struct db killer;
	long long ok;

	snprintf(pid, sizeof(pid), "%d", PQbackendPID(db->conn));
	const char *p[] = {pid};
	if (db_init(&killer, conninfo) != 0)
		return 0;
	ok = sql_ll(&killer, "SELECT pg_terminate_backend($1::int)::int", 1, p);
	/* the backend is gone once the server no longer lists it */
	for (int i = 0; i < 100 && ok == 1; i++) {
		if (sql_ll(&killer, "SELECT count(*) FROM pg_stat_activity WHERE pid = $1::int", 1,
			   p) == 0)
			break;
		usleep(20000);
	}
	db_done(&killer);
	return ok == 1;
}

static void
test_reconnect(struct db *db, const char *conninfo)
{
	const char *params[] = {"1"};
	PGresult *res = NULL;
	int before;

	TAP_OK(db_exec(db, &st_one, params, &res) == 0, "statement prepared on this connection");
	PQclear(res);
	res = NULL;
	before = PQbackendPID(db->conn);
	TAP_OK(kill_backend(db, conninfo), "the server ended the connection");
	TAP_OK(db_exec(db, &st_one, params, &res) == 0 && db_get_ll(res, 0, "n") == 2 &&
		       PQbackendPID(db->conn) != before,
	       "outside a transaction db_exec reconnects, prepares again and answers");
	PQclear(res);
	res = NULL;

	TAP_OK(db_begin(db) == 0 && kill_backend(db, conninfo),
	       "connection ended inside a transaction");
	TAP_OK(db_exec(db, &st_one, params, &res) == -EIO && res == NULL,
	       "inside a transaction: -EIO, no silent retry on a new connection");
	db_rollback(db);
	TAP_OK(db_commit(db) != 0, "db_commit after that: not 0");
	TAP_OK(db_exec(db, &st_one, params, &res) == 0 && db_get_ll(res, 0, "n") == 2,
	       "the next statement reconnects");
	PQclear(res);
	res = NULL;

	TAP_OK(kill_backend(db, conninfo) && db_ping(db) == 1, "db_ping reconnects too");
	TAP_OK(kill_backend(db, conninfo) && db_begin(db) == 0 && db_commit(db) == 0,
	       "db_begin reconnects (it is outside a transaction)");
}

static void
test_limits(struct db *db, const char *conninfo)
{
	static struct db_stmt many[DB_MAX_STMTS + 1];
	static char names[DB_MAX_STMTS + 1][32];
	struct db fresh;
	PGresult *res = NULL;
	int ok = 1, rc;

	TAP_OK(db_init(&fresh, conninfo) == 0, "a second connection");
	for (int i = 0; i <= DB_MAX_STMTS; i++) {
		snprintf(names[i], sizeof(names[i]), "test_many_%d", i);
		many[i] = (struct db_stmt){names[i], "SELECT 1 AS n", 0};
	}
	for (int i = 0; i < DB_MAX_STMTS && ok; i++) {
		ok = db_exec(&fresh, &many[i], NULL, &res) == 0;
		PQclear(res);
		res = NULL;
	}
	TAP_OK(ok && fresh.nprepared == DB_MAX_STMTS, "%d statements prepared", DB_MAX_STMTS);
	rc = db_exec(&fresh, &many[DB_MAX_STMTS], NULL, &res);
	TAP_OK(rc < 0 && res == NULL, "one more: refused (%d), no result", rc);
	TAP_OK(db_exec(&fresh, &many[0], NULL, &res) == 0, "the first ones still run");
	PQclear(res);
	db_done(&fresh);

	/* a live server, a database that does not exist */
	char *ci = malloc(strlen(conninfo) + 64);
	if (ci != NULL) {
		PQconninfoOption *o = PQconninfoParse(conninfo, NULL);
		/* key=value conninfo: a later dbname wins; a URI cannot take one appended */
		if (o != NULL && strstr(conninfo, "://") == NULL) {
			snprintf(ci, strlen(conninfo) + 64, "%s dbname=shomei_no_such_database",
				 conninfo);
			TAP_OK(db_init(&fresh, ci) == 0 && db_ensure(&fresh) == -EIO &&
				       fresh.conn == NULL,
			       "a database that does not exist: -EIO");
			db_done(&fresh);
		}
		PQconninfoFree(o);
		free(ci);
	}
}

/* Without a server: a pooled handle fails like any, and its place comes back. */
static void
test_pool_dead(void)
{
	struct db_pool pool;
	struct db_pool_stats st;
	struct db a;
	PGresult *res = NULL;

	TAP_OK(db_pool_init(&pool, 0, 10) == -ENOMEM, "db_pool_init refuses a pool of 0");
	TAP_OK(db_pool_init(&pool, 1, 10) == 0, "db_pool_init: one place");
	db_init_pooled(&a, DEAD_DB, &pool);
	TAP_OK(db_exec(&a, &st_one, (const char *const[]){"1"}, &res) == -EIO && res == NULL,
	       "pooled, the server down: -EIO");
	db_pool_stats(&pool, &st);
	TAP_OK(a.borrowed == 1 && st.in_use == 1 && st.idle == 0,
	       "the handle holds the place until released");
	db_release(&a);
	db_pool_stats(&pool, &st);
	TAP_OK(a.borrowed == 0 && st.in_use == 0 && st.idle == 0,
	       "released: the place is free, no connection pooled");
	db_release(&a);
	db_pool_stats(&pool, &st);
	TAP_OK(st.in_use == 0, "a second release does nothing");
	db_done(&a);
	db_pool_done(&pool);
}

struct pool_worker {
	struct db_pool *pool;
	const char *conninfo;
	int ok;
};

/* 40 "requests", each borrowing, running a statement and releasing, as a FastCGI thread does. */
static void *
pool_worker(void *arg)
{
	struct pool_worker *w = arg;
	struct db db;
	PGresult *res = NULL;

	w->ok = db_init_pooled(&db, w->conninfo, w->pool) == 0;
	for (int i = 0; i < 40 && w->ok; i++) {
		w->ok = db_exec(&db, &st_one, (const char *const[]){"1"}, &res) == 0 &&
			db_get_ll(res, 0, "n") == 2;
		PQclear(res);
		res = NULL;
		db_release(&db);
	}
	db_done(&db);
	return NULL;
}

static int
backend_pid(struct db *db)
{
	return db->conn != NULL ? PQbackendPID(db->conn) : 0;
}

static void
test_pool(const char *conninfo)
{
	struct db_pool pool;
	struct db_pool_stats st;
	struct db a, b, c;
	PGresult *res = NULL;
	const char *const one[] = {"1"};
	int pa, pb, np, ok;

	TAP_OK(db_pool_init(&pool, 2, 300) == 0, "a pool of 2, 300 ms wait");
	db_init_pooled(&a, conninfo, &pool);
	db_init_pooled(&b, conninfo, &pool);
	db_init_pooled(&c, conninfo, &pool);
	TAP_OK(db_exec(&a, &st_one, one, &res) == 0, "first handle: a connection");
	PQclear(res);
	TAP_OK(db_exec(&b, &st_one, one, &res) == 0, "second handle: another");
	PQclear(res);
	pa = backend_pid(&a);
	pb = backend_pid(&b);
	TAP_OK(pa != 0 && pb != 0 && pa != pb, "two backends (%d, %d)", pa, pb);
	res = NULL;
	TAP_OK(db_exec(&c, &st_one, one, &res) == -EIO && res == NULL && c.borrowed == 0,
	       "a third handle waits, then gives up: -EIO");
	db_pool_stats(&pool, &st);
	TAP_OK(st.size == 2 && st.in_use == 2 && st.waits == 1 && st.timeouts == 1,
	       "counted: 2 in use, 1 wait, 1 timeout");

	np = a.nprepared;
	db_release(&a);
	TAP_OK(a.conn == NULL && a.nprepared == 0, "released: the handle holds nothing");
	TAP_OK(db_exec(&c, &st_one, one, &res) == 0 && backend_pid(&c) == pa && c.nprepared == np,
	       "the next borrower gets the same backend with its prepared statements");
	PQclear(res);
	res = NULL;

	/* a transaction left open is rolled back, not handed on */
	TAP_OK(db_begin(&c) == 0 && PQtransactionStatus(c.conn) == PQTRANS_INTRANS,
	       "a transaction open on a borrowed connection");
	db_release(&c);
	TAP_OK(db_exec(&a, &st_one, one, &res) == 0 && backend_pid(&a) == pa &&
		       PQtransactionStatus(a.conn) == PQTRANS_IDLE,
	       "released with the transaction open: rolled back, the connection reused idle");
	PQclear(res);
	res = NULL;

	/* a connection that broke is dropped, not pooled */
	TAP_OK(kill_backend(&a, conninfo), "the borrowed connection's backend terminated");
	PQclear(PQexec(a.conn, "SELECT 1"));
	db_release(&a);
	db_pool_stats(&pool, &st);
	TAP_OK(st.in_use == 1 && st.idle == 0, "a broken connection is not pooled");
	TAP_OK(db_exec(&a, &st_one, one, &res) == 0 && backend_pid(&a) != pa,
	       "the next borrower connects anew");
	PQclear(res);
	db_done(&a);
	db_done(&b);
	db_done(&c);
	db_pool_stats(&pool, &st);
	TAP_OK(st.in_use == 0 && st.idle == 2, "db_done releases: 2 idle");
	db_pool_done(&pool);

	/* 8 threads over a pool of 3: never more than 3 connections, every statement answered */
	struct pool_worker w[8];
	pthread_t tid[8];
	TAP_OK(db_pool_init(&pool, 3, 10000) == 0, "a pool of 3 for 8 threads");
	for (int i = 0; i < 8; i++) {
		w[i] = (struct pool_worker){&pool, conninfo, 0};
		pthread_create(&tid[i], NULL, pool_worker, &w[i]);
	}
	ok = 1;
	for (int i = 0; i < 8; i++) {
		pthread_join(tid[i], NULL);
		ok = ok && w[i].ok;
	}
	db_pool_stats(&pool, &st);
	TAP_OK(ok && st.in_use == 0 && st.idle <= 3 && st.opened <= 3,
	       "8 threads x 40 statements: all answered, %llu connections opened (at most 3)",
	       st.opened);
	db_pool_done(&pool);
}

/* db_changes_gen over a table of changes (the shape of migrations 0028, 0030, 0031). */
static const struct db_changes test_changes_t = DB_CHANGES("test_changes", "pg_temp.test_changes");

static long long
rows_of(struct db *db, const char *tenant)
{
	const char *p[] = {tenant};
	PGresult *res = NULL;
	long long n = -1;

	if (db_exec_sql(db, "SELECT count(*) AS n FROM pg_temp.test_changes WHERE tenant_id = $1",
			1, p, &res) == 0)
		n = db_get_ll(res, 0, "n");
	PQclear(res);
	return n;
}

static void
test_changes(struct db *db)
{
	char gen[64], gen8[64], was[64];
	PGresult *res = NULL;

	TAP_OK(db_exec_sql(db,
			   "CREATE TEMP TABLE test_changes (id bigserial PRIMARY KEY,"
			   " tenant_id bigint NOT NULL)",
			   0, NULL, &res) == 0,
	       "a table of changes");
	PQclear(res);
	res = NULL;
	TAP_OK(db_changes_gen(db, &test_changes_t, 7, 4, gen, sizeof(gen)) == 0 &&
		       strcmp(gen, "0.0") == 0,
	       "nothing written: generation 0.0 (%s)", gen);
	db_exec_sql(db,
		    "INSERT INTO pg_temp.test_changes (tenant_id) VALUES (7), (7), (7), (8), (8)",
		    0, NULL, &res);
	PQclear(res);
	res = NULL;
	TAP_OK(db_changes_gen(db, &test_changes_t, 7, 4, gen, sizeof(gen)) == 0 &&
		       strcmp(gen, "3.3") == 0 &&
		       db_changes_gen(db, &test_changes_t, 8, 4, gen8, sizeof(gen8)) == 0 &&
		       strcmp(gen8, "5.2") == 0,
	       "each tenant its newest row and number of rows (%s, %s)", gen, gen8);
	/* a change whose id is below the newest (its transaction took the id first, committed
	 * last) still moves the generation */
	db_exec_sql(db, "INSERT INTO pg_temp.test_changes (id, tenant_id) VALUES (-1, 7)", 0, NULL,
		    &res);
	PQclear(res);
	res = NULL;
	TAP_OK(db_changes_gen(db, &test_changes_t, 7, 4, gen, sizeof(gen)) == 0 &&
		       strcmp(gen, "3.4") == 0,
	       "a row committed late under a smaller id: 3.3 became %s", gen);
	snprintf(was, sizeof(was), "%s", gen);
	db_exec_sql(db, "INSERT INTO pg_temp.test_changes (tenant_id) VALUES (7)", 0, NULL, &res);
	PQclear(res);
	res = NULL;
	TAP_OK(db_changes_gen(db, &test_changes_t, 7, 4, gen, sizeof(gen)) == 0 &&
		       strcmp(gen, "6.5") == 0 && rows_of(db, "7") == 1 && rows_of(db, "8") == 2,
	       "past fold_at (4) the reader gives the generation (%s) and folds the tenant's rows "
	       "into one, the other tenant's left",
	       gen);
	TAP_OK(db_changes_gen(db, &test_changes_t, 7, 4, gen, sizeof(gen)) == 0 &&
		       strcmp(gen, was) != 0 && strcmp(gen, "6.5") != 0 &&
		       strstr(gen, ".1") != NULL,
	       "after the fold the generation is a new one (%s)", gen);
}

int
main(void)
{
	const char *conninfo = fixture_env("SHOMEI_TEST_DB");
	struct db db;

	test_dead();
	test_get();
	test_pool_dead();
	if (conninfo == NULL) {
		printf("# SHOMEI_TEST_DB not set: the checks against PostgreSQL did not run\n");
		return tap_done();
	}
	TAP_OK(db_init(&db, conninfo) == 0, "db_init with SHOMEI_TEST_DB");
	test_statements(&db);
	test_generic(&db);
	test_changes(&db);
	test_transactions(&db);
	test_reconnect(&db, conninfo);
	test_limits(&db, conninfo);
	test_pool(conninfo);
	db_done(&db);
	return tap_done();
}
