/*
 * migrate.h: the schema's migrations: <dir>/NNNN_name.sql applied in version order, each once,
 * each in a transaction of its own with its row in schema_migrations, under an advisory lock so
 * two runners never interleave.
 */
#ifndef SHOMEI_MIGRATE_H
#define SHOMEI_MIGRATE_H

#include <stddef.h>

#include "core/err.h"
#include "store/db.h"

#define MIGRATE_MAX 1000           /* migration files in a directory */
#define MIGRATE_FILE_MAX (4 << 20) /* bytes of one file */

/* Called after each migration is committed, with its name ("0002_certificate_requester"). */
typedef void (*migrate_applied_fn)(void *arg, const char *name);

/*
 * Apply what db does not have yet of the migrations in dir. *version is the schema's version
 * afterwards (the highest applied). 0; MIGRATE_E_DIR (dir unreadable), MIGRATE_E_TWICE (two
 * files with one version), MIGRATE_E_FILE (a file unreadable or too large), MIGRATE_E_SQL (a
 * migration failed: nothing of it was applied, the earlier ones stay); or -EIO (the database).
 * err names the file and says what failed.
 */
int migrate_run(struct db *db, const char *dir, migrate_applied_fn applied, void *arg, int *version,
		char *err, size_t errlen);

#endif
