/*
 * test-migrate.c: the migrations runner (store/migrate.c). Without a server: a directory that is
 * not there, two files with one version, a database that cannot be reached. With SHOMEI_TEST_DB:
 * in a scratch schema, a second run applies nothing, migrations run in order, a failing one is
 * rolled back whole while the earlier ones stay, and the next run takes up where it stopped.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/util.h"
#include "db-fixture.h"
#include "store/migrate.h"
#include "tap.h"

static char dir[] = "/tmp/shomei-test-migrate-XXXXXX";

static void
put(const char *name, const char *sql)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	util_write_file(path, sql, strlen(sql), 0644);
}

static void
drop(const char *name)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	unlink(path);
}

struct seen {
	int n;
	char names[8][64];
};

static void
note(void *arg, const char *name)
{
	struct seen *s = arg;

	if (s->n < 8)
		snprintf(s->names[s->n], sizeof(s->names[0]), "%s", name);
	s->n++;
}

static void
test_offline(void)
{
	char err[512];
	struct db db;
	int v = -1;

	db_init(&db, DEAD_DB);
	TAP_OK(migrate_run(&db, "/nonexistent/migrations", NULL, NULL, &v, err, sizeof(err)) ==
			       MIGRATE_E_DIR &&
		       strstr(err, "/nonexistent/migrations") != NULL && v == -1,
	       "a directory that is not there: MIGRATE_E_DIR, named (%s)", err);
	put("0001_a.sql", "SELECT 1;");
	put("0001_b.sql", "SELECT 2;");
	TAP_OK(migrate_run(&db, dir, NULL, NULL, &v, err, sizeof(err)) == MIGRATE_E_TWICE &&
		       strstr(err, "0001_a") && strstr(err, "0001_b"),
	       "two files with one version: MIGRATE_E_TWICE naming both (%s)", err);
	drop("0001_b.sql");
	TAP_OK(migrate_run(&db, dir, NULL, NULL, &v, err, sizeof(err)) == -EIO && v == -1,
	       "a database that cannot be reached: -EIO, nothing reported applied");
	drop("0001_a.sql");
	db_done(&db);
}

static long long
count(struct db *db, const char *sql)
{
	return sql_ll(db, sql, 0, NULL);
}

static void
test_server(const char *base)
{
	struct scratch s;
	struct seen seen = {0};
	char err[512];
	int v = 0;

	if (scratch_open(&s, base) != 0) {
		TAP_OK(0, "server: a scratch schema with db/migrations applied");
		scratch_close(&s);
		return;
	}
	TAP_OK(migrate_run(&s.db, SHOMEI_MIGRATIONS, note, &seen, &v, err, sizeof(err)) == 0 &&
		       seen.n == 0 && v >= 3,
	       "server: a second run applies nothing (schema at version %d)", v);

	put("9001_first.sql", "CREATE TABLE mig_first (a int); INSERT INTO mig_first VALUES (1);");
	put("9002_second.sql", "CREATE TABLE mig_second (a int); SELECT no_such_function();");
	put("9003_third.sql", "CREATE TABLE mig_third (a int);");
	put("README", "not a migration");
	seen.n = 0;
	TAP_OK(migrate_run(&s.db, dir, note, &seen, &v, err, sizeof(err)) == MIGRATE_E_SQL &&
		       strstr(err, "9002_second") != NULL && strstr(err, "no_such_function"),
	       "server: a failing migration: MIGRATE_E_SQL naming it and the server's reason (%s)",
	       err);
	TAP_OK(seen.n == 1 && strcmp(seen.names[0], "9001_first") == 0,
	       "server: the one before it was applied and reported");
	TAP_OK(count(&s.db, "SELECT count(*) FROM mig_first") == 1 &&
		       count(&s.db,
			     "SELECT count(*) FROM pg_tables WHERE tablename = 'mig_second'") ==
			       0 &&
		       count(&s.db,
			     "SELECT count(*) FROM schema_migrations WHERE version >= 9001") == 1,
	       "server: nothing of the failing one stays, nothing after it ran");

	put("9002_second.sql", "CREATE TABLE mig_second (a int);");
	seen.n = 0;
	TAP_OK(migrate_run(&s.db, dir, note, &seen, &v, err, sizeof(err)) == 0 && seen.n == 2 &&
		       strcmp(seen.names[0], "9002_second") == 0 &&
		       strcmp(seen.names[1], "9003_third") == 0 && v == 9003,
	       "server: mended, the next run applies the rest in order (version %d)", v);
	TAP_OK(count(&s.db, "SELECT count(*) FROM schema_migrations WHERE version >= 9001") == 3,
	       "server: each recorded once");
	scratch_close(&s);
	TAP_OK(scratch_gone(&s, base), "server: the scratch schema is gone");
	drop("9001_first.sql");
	drop("9002_second.sql");
	drop("9003_third.sql");
	drop("README");
}

int
main(void)
{
	const char *base = fixture_env("SHOMEI_TEST_DB");

	if (mkdtemp(dir) == NULL)
		return 1;
	test_offline();
	if (base != NULL)
		test_server(base);
	rmdir(dir);
	return tap_done();
}
