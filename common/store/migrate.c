/* migrate.c: db/migrations/NNNN_name.sql applied in order, once each, recorded in a table. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "store/migrate.h"

/* Every runner takes this session lock (pg_advisory_lock, "shomeiMG") for the whole run, since
 * each migration is a transaction of its own. */
#define LOCK_MIGRATE "7522517497018828103"

static const char sql_lock[] = "SELECT pg_advisory_lock(" LOCK_MIGRATE ")";
static const char sql_unlock[] = "SELECT pg_advisory_unlock(" LOCK_MIGRATE ")";
static const char sql_table[] =
	"CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY,"
	" name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())";
static const char sql_applied[] = "SELECT version FROM schema_migrations ORDER BY version";
static const char sql_record[] =
	"INSERT INTO schema_migrations (version, name) VALUES ($1::integer, $2)";

struct mig {
	int version;
	char name[256]; /* file name without .sql */
};

/* "NNNN_name.sql" → version and name; 0 when it matches. */
static int
parse_name(const char *f, struct mig *m)
{
	size_t n = strlen(f);

	if (n < 10 || n - 4 >= sizeof(m->name) || strcmp(f + n - 4, ".sql") != 0 || f[4] != '_')
		return -1;
	for (int i = 0; i < 4; i++)
		if (f[i] < '0' || f[i] > '9')
			return -1;
	m->version = (f[0] - '0') * 1000 + (f[1] - '0') * 100 + (f[2] - '0') * 10 + (f[3] - '0');
	memcpy(m->name, f, n - 4);
	m->name[n - 4] = '\0';
	return 0;
}

static int
by_version(const void *a, const void *b)
{
	return ((const struct mig *)a)->version - ((const struct mig *)b)->version;
}

/* The migration files of dir, sorted; refuses two files with one version. */
static int
list_files(const char *dir, struct mig *migs, size_t *n, char *err, size_t errlen)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (d == NULL) {
		snprintf(err, errlen, "migrations_dir %s: %s", dir, strerror(errno));
		return MIGRATE_E_DIR;
	}
	*n = 0;
	while ((e = readdir(d)) != NULL && *n < MIGRATE_MAX)
		if (parse_name(e->d_name, &migs[*n]) == 0)
			(*n)++;
	closedir(d);
	qsort(migs, *n, sizeof(*migs), by_version);
	for (size_t i = 1; i < *n; i++)
		if (migs[i].version == migs[i - 1].version) {
			snprintf(err, errlen, "two migrations with version %04d: %s, %s",
				 migs[i].version, migs[i - 1].name, migs[i].name);
			return MIGRATE_E_TWICE;
		}
	return 0;
}

/* Run sql (no parameters, several statements allowed: the simple query protocol; its text
 * comes from the repository, never from a user). 0 or -EIO with the server's message. */
static int
simple(struct db *db, const char *sql, char *err, size_t errlen)
{
	PGresult *r;
	int rc = 0;

	if (db_ensure(db) != 0) {
		snprintf(err, errlen, "database: cannot connect");
		return -EIO;
	}
	r = PQexec(db->conn, sql);
	if (r == NULL ||
	    (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)) {
		/* the server's message on one line (it ends with a newline and may hold more) */
		snprintf(err, errlen, "%s", PQerrorMessage(db->conn));
		for (char *p = err; *p; p++)
			if (*p == '\n' || *p == '\r')
				*p = ' ';
		rc = -EIO;
	}
	PQclear(r);
	return rc;
}

static int
apply_one(struct db *db, const char *dir, const struct mig *m, char *err, size_t errlen)
{
	char path[4096], v[16], msg[512] = "";
	char *sql = NULL;
	size_t len = 0;
	int rc;

	snprintf(path, sizeof(path), "%s/%s.sql", dir, m->name);
	if ((sql = util_read_file(path, MIGRATE_FILE_MAX, &len)) == NULL) {
		snprintf(err, errlen, "%s: unreadable or larger than %d bytes", path,
			 MIGRATE_FILE_MAX);
		return MIGRATE_E_FILE;
	}
	snprintf(v, sizeof(v), "%d", m->version);
	const char *p[] = {v, m->name};
	PGresult *r = NULL;
	if ((rc = db_begin(db)) != 0 || (rc = simple(db, sql, msg, sizeof(msg))) != 0 ||
	    (rc = db_exec_sql(db, sql_record, 2, p, &r)) != 0 || (rc = db_commit(db)) != 0) {
		db_rollback(db);
		snprintf(err, errlen, "%s failed; nothing of it was applied: %s", m->name,
			 rc == -EIO && msg[0] ? msg : "database");
		rc = MIGRATE_E_SQL;
	}
	PQclear(r);
	free(sql);
	return rc;
}

static int
is_applied(const PGresult *applied, int version)
{
	for (int r = 0; r < PQntuples(applied); r++)
		if (db_get_ll(applied, r, "version") == version)
			return 1;
	return 0;
}

int
migrate_run(struct db *db, const char *dir, migrate_applied_fn applied_fn, void *arg, int *version,
	    char *err, size_t errlen)
{
	struct mig *migs = NULL;
	PGresult *applied = NULL;
	size_t n = 0;
	int rc, locked = 0, top = 0;

	err[0] = '\0';
	if ((migs = calloc(MIGRATE_MAX, sizeof(*migs))) == NULL)
		return -ENOMEM;
	if ((rc = list_files(dir, migs, &n, err, errlen)) != 0 ||
	    (rc = simple(db, sql_lock, err, errlen)) != 0)
		goto out;
	locked = 1;
	if ((rc = simple(db, sql_table, err, errlen)) != 0 ||
	    (rc = db_exec_sql(db, sql_applied, 0, NULL, &applied)) != 0) {
		if (err[0] == '\0')
			snprintf(err, errlen, "database: cannot read schema_migrations");
		rc = rc < 0 ? rc : -EIO;
		goto out;
	}
	if (PQntuples(applied) > 0)
		top = (int)db_get_ll(applied, PQntuples(applied) - 1, "version");
	for (size_t i = 0; i < n; i++) {
		if (is_applied(applied, migs[i].version))
			continue;
		if ((rc = apply_one(db, dir, &migs[i], err, errlen)) != 0)
			goto out;
		if (migs[i].version > top)
			top = migs[i].version;
		if (applied_fn != NULL)
			applied_fn(arg, migs[i].name);
	}
	*version = top;
	rc = 0;
out:
	if (locked && db->conn != NULL)
		PQclear(PQexec(db->conn, sql_unlock));
	PQclear(applied);
	free(migs);
	return rc;
}
