/* cmd_migrate.c: shomeictl migrate — apply db/migrations/NNNN_*.sql in order, once each. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extern.h"

#define MIG_MAX 1000
#define MIG_FILE_MAX (4 * 1024 * 1024)

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

/* The migration files, sorted; refuses two files with one version. */
static int
list_files(struct cmd_ctx *cx, struct mig *migs, size_t *n)
{
	DIR *d = opendir(cx->cfg.migrations_dir);
	struct dirent *e;

	if (d == NULL) {
		ctl_err(cx, "migrations_dir %s: %s", cx->cfg.migrations_dir, strerror(errno));
		return CTL_E_REPORTED;
	}
	*n = 0;
	while ((e = readdir(d)) != NULL && *n < MIG_MAX)
		if (parse_name(e->d_name, &migs[*n]) == 0)
			(*n)++;
	closedir(d);
	qsort(migs, *n, sizeof(*migs), by_version);
	for (size_t i = 1; i < *n; i++)
		if (migs[i].version == migs[i - 1].version) {
			ctl_err(cx, "two migrations with version %04d: %s, %s", migs[i].version,
				migs[i - 1].name, migs[i].name);
			return CTL_E_REPORTED;
		}
	return 0;
}

static char *
read_sql(struct cmd_ctx *cx, const struct mig *m)
{
	char path[4096], *buf = NULL;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/%s.sql", cx->cfg.migrations_dir, m->name);
	if ((f = fopen(path, "re")) == NULL || (buf = malloc(MIG_FILE_MAX + 1)) == NULL) {
		ctl_err(cx, "%s: %s", path, strerror(errno));
		goto out;
	}
	n = fread(buf, 1, MIG_FILE_MAX + 1, f);
	if (ferror(f) || n > MIG_FILE_MAX) {
		ctl_err(cx, "%s: unreadable or larger than %d bytes", path, MIG_FILE_MAX);
		free(buf);
		buf = NULL;
		goto out;
	}
	buf[n] = '\0';
out:
	if (f != NULL)
		fclose(f);
	return buf;
}

static int
apply_one(struct cmd_ctx *cx, const struct mig *m)
{
	char *sql = read_sql(cx, m);
	int rc;

	if (sql == NULL)
		return CTL_E_REPORTED;
	if ((rc = db_begin(&cx->db)) != 0 || (rc = q_migrate_apply(cx, sql)) != 0 ||
	    (rc = q_migrate_record(cx, m->version, m->name)) != 0 ||
	    (rc = db_commit(&cx->db)) != 0) {
		db_rollback(&cx->db);
		ctl_err(cx, "%s failed; nothing of it was applied", m->name);
		rc = CTL_E_REPORTED;
	} else {
		printf("applied %s\n", m->name);
	}
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
cmd_migrate(struct cmd_ctx *cx)
{
	struct mig *migs = NULL;
	PGresult *applied = NULL;
	size_t n = 0, done = 0;
	int rc, locked = 0;

	if ((migs = calloc(MIG_MAX, sizeof(*migs))) == NULL)
		return CTL_FAIL;
	if ((rc = list_files(cx, migs, &n)) != 0 || (rc = ctl_db(cx)) != 0 ||
	    (rc = q_migrate_lock(cx, 1)) != 0)
		goto out;
	locked = 1;
	if ((rc = q_migrate_prepare(cx, &applied)) != 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		if (is_applied(applied, migs[i].version))
			continue;
		if ((rc = apply_one(cx, &migs[i])) != 0)
			goto out;
		done++;
	}
	if (done == 0)
		printf("nothing to do: the schema is at version %lld\n",
		       PQntuples(applied) ? db_get_ll(applied, PQntuples(applied) - 1, "version")
					  : 0LL);
	rc = 0;
out:
	if (locked)
		q_migrate_lock(cx, 0);
	PQclear(applied);
	free(migs);
	return rc == 0 ? CTL_OK : CTL_FAIL;
}
