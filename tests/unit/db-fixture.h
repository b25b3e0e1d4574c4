/*
 * db-fixture.h: what the tests of the store and domain layers share: a conninfo that cannot
 * connect, the servers named by SHOMEI_TEST_DB / SHOMEI_TEST_REDIS, and a throw-away schema
 * holding db/migrations (every connection of the test's struct db has it first in its
 * search_path; it is dropped afterwards, so the database's own tables are never touched).
 */
#ifndef SHOMEI_DB_FIXTURE_H
#define SHOMEI_DB_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/db.h"
#include "store/migrate.h"
#include "core/util.h"

/* A unix socket directory that does not exist: libpq fails at once, no server involved. */
#define DEAD_DB "host=/nonexistent dbname=x connect_timeout=1"
#define DEAD_REDIS "/nonexistent/redis.sock"

#ifndef SHOMEI_MIGRATIONS
#define SHOMEI_MIGRATIONS "db/migrations"
#endif

/* The value of an environment variable, NULL when unset or empty. */
static inline const char *
fixture_env(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && *v != '\0' ? v : NULL;
}

/* A server's message as TAP diagnostics: one "# " line, newlines folded. */
static inline void
fixture_diag(const char *what, const char *msg)
{
	printf("# %s: ", what);
	for (const char *p = msg ? msg : ""; *p; p++)
		putchar(*p == '\n' || *p == '\r' ? ' ' : *p);
	putchar('\n');
}

/* Run sql (no result wanted); 0 or db_exec_sql's code. */
static inline int
sql_run(struct db *db, const char *sql, int n, const char *const *params)
{
	PGresult *res = NULL;
	int rc = db_exec_sql(db, sql, n, params, &res);

	PQclear(res);
	return rc;
}

/* The first column of the first row as a number; -1 on any failure or NULL. */
static inline long long
sql_ll(struct db *db, const char *sql, int n, const char *const *params)
{
	PGresult *res = NULL;
	long long v = -1;

	if (db_exec_sql(db, sql, n, params, &res) == 0 && PQntuples(res) > 0 &&
	    !PQgetisnull(res, 0, 0))
		v = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return v;
}

/* The first column of the first row as text into buf ("" when none); buf. */
static inline const char *
sql_text(struct db *db, const char *sql, int n, const char *const *params, char *buf, size_t len)
{
	PGresult *res = NULL;

	buf[0] = '\0';
	if (db_exec_sql(db, sql, n, params, &res) == 0 && PQntuples(res) > 0 &&
	    !PQgetisnull(res, 0, 0))
		snprintf(buf, len, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	return buf;
}

/* A result as libpq would hand it over, without a server: columns and rows of text or NULL. */
static inline PGresult *
fixture_result(int ncols, const char *const *cols, int nrows, const char *const *cells)
{
	PGresult *res = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK);
	PGresAttDesc attrs[16];

	if (res == NULL || ncols > 16)
		return res;
	memset(attrs, 0, sizeof(attrs));
	for (int c = 0; c < ncols; c++) {
		attrs[c].name = (char *)cols[c];
		attrs[c].typid = 25; /* text */
		attrs[c].typlen = -1;
		attrs[c].atttypmod = -1;
	}
	if (!PQsetResultAttrs(res, ncols, attrs)) {
		PQclear(res);
		return NULL;
	}
	for (int r = 0; r < nrows; r++)
		for (int c = 0; c < ncols; c++) {
			const char *v = cells[r * ncols + c];
			PQsetvalue(res, r, c, (char *)v, v ? (int)strlen(v) : -1);
		}
	return res;
}

struct scratch {
	char schema[64];
	char *conninfo; /* base conninfo + options=-csearch_path=<schema> */
	struct db admin;
	struct db db;
	int created;
};

/* Append s to the conninfo being built, quoted for libpq ('...' with \ escapes). */
static inline void
ci_quoted(char *buf, size_t len, const char *s)
{
	size_t n = strlen(buf);

	if (n + 1 < len)
		buf[n++] = '\'';
	for (; *s && n + 3 < len; s++) {
		if (*s == '\'' || *s == '\\')
			buf[n++] = '\\';
		buf[n++] = *s;
	}
	if (n + 1 < len)
		buf[n++] = '\'';
	buf[n] = '\0';
}

/* base (key=value or URI) with the schema first in search_path; malloc'ed, NULL on failure. */
static inline char *
scratch_conninfo(const char *base, const char *schema)
{
	PQconninfoOption *opts = PQconninfoParse(base, NULL);
	char *out = calloc(1, 4096), opt[512] = "";

	if (opts == NULL || out == NULL) {
		PQconninfoFree(opts);
		free(out);
		return NULL;
	}
	for (PQconninfoOption *o = opts; o->keyword != NULL; o++) {
		if (o->val == NULL || *o->val == '\0')
			continue;
		if (strcmp(o->keyword, "options") == 0) {
			snprintf(opt, sizeof(opt), "%s ", o->val);
			continue;
		}
		snprintf(out + strlen(out), 4096 - strlen(out), "%s=", o->keyword);
		ci_quoted(out, 4096, o->val);
		strncat(out, " ", 4095 - strlen(out));
	}
	/* public after it: database-wide extensions (pg_trgm's operator classes) live there */
	snprintf(opt + strlen(opt), sizeof(opt) - strlen(opt),
		 "-csearch_path=%s,public -cclient_min_messages=warning", schema);
	strncat(out, "options=", 4095 - strlen(out));
	ci_quoted(out, 4096, opt);
	PQconninfoFree(opts);
	return out;
}

/* Apply db/migrations on s->db with the migrations runner shomeictl uses (store/migrate.c). */
static inline int
scratch_migrate(struct scratch *s)
{
	char err[1024];
	int version = 0;

	if (migrate_run(&s->db, SHOMEI_MIGRATIONS, NULL, NULL, &version, err, sizeof(err)) != 0) {
		fixture_diag(SHOMEI_MIGRATIONS, err);
		return -1;
	}
	return version > 0 ? 0 : -1;
}

/* A fresh schema shomei_test_<pid>_<random> with the migrations applied; 0 or -1. */
static inline int
scratch_open(struct scratch *s, const char *base)
{
	unsigned char rnd[4];
	char hex[9], *ident;
	int rc = -1;

	memset(s, 0, sizeof(*s));
	if (util_random(rnd, sizeof(rnd)) != 0)
		return -1;
	util_hex(rnd, sizeof(rnd), hex);
	snprintf(s->schema, sizeof(s->schema), "shomei_test_%ld_%s", (long)getpid(), hex);
	if (db_init(&s->admin, base) != 0 || db_ensure(&s->admin) != 0) {
		printf("# cannot connect to SHOMEI_TEST_DB\n");
		return -1;
	}
	/* DDL takes no parameters: the name is quoted by libpq (and is [a-z0-9_] anyway) */
	if ((ident = PQescapeIdentifier(s->admin.conn, s->schema, strlen(s->schema))) == NULL)
		return -1;
	char sql[256];
	snprintf(sql, sizeof(sql), "CREATE SCHEMA %s", ident);
	PQfreemem(ident);
	if (sql_run(&s->admin, sql, 0, NULL) != 0) {
		fixture_diag(sql, PQerrorMessage(s->admin.conn));
		return -1;
	}
	s->created = 1;
	if ((s->conninfo = scratch_conninfo(base, s->schema)) == NULL ||
	    db_init(&s->db, s->conninfo) != 0 || db_ensure(&s->db) != 0) {
		printf("# cannot connect with the scratch schema\n");
		return -1;
	}
	rc = scratch_migrate(s);
	return rc;
}

/* Drop the schema and everything in it; close both connections. */
static inline void
scratch_close(struct scratch *s)
{
	char sql[256], *ident;

	db_done(&s->db);
	if (s->created && db_ensure(&s->admin) == 0 &&
	    (ident = PQescapeIdentifier(s->admin.conn, s->schema, strlen(s->schema))) != NULL) {
		snprintf(sql, sizeof(sql), "DROP SCHEMA %s CASCADE", ident);
		PQfreemem(ident);
		sql_run(&s->admin, "SET client_min_messages TO warning", 0, NULL);
		if (sql_run(&s->admin, sql, 0, NULL) != 0)
			printf("# %s failed\n", sql);
	}
	db_done(&s->admin);
	free(s->conninfo);
	s->conninfo = NULL;
}

/* 1 when the scratch schema is gone (checked from the admin connection); for a final check. */
static inline int
scratch_gone(struct scratch *s, const char *base)
{
	const char *p[] = {s->schema};
	struct db d;
	long long n;

	if (db_init(&d, base) != 0)
		return 0;
	n = sql_ll(&d, "SELECT count(*) FROM pg_namespace WHERE nspname = $1", 1, p);
	db_done(&d);
	return n == 0;
}

#endif
