/* cmd_migrate.c: shomeictl migrate — apply db/migrations/NNNN_*.sql in order, once each. */
#include <stdio.h>

#include "extern.h"
#include "store/migrate.h"

static void
print_applied(void *arg, const char *name)
{
	(*(int *)arg)++;
	printf("applied %s\n", name);
}

int
cmd_migrate(struct cmd_ctx *cx)
{
	char err[1024];
	int rc, version = 0, count = 0;

	if ((rc = ctl_db_owner(cx)) != 0)
		return CTL_FAIL;
	rc = migrate_run(&cx->db, cx->cfg.migrations_dir, print_applied, &count, &version, err,
			 sizeof(err));
	if (rc != 0) {
		ctl_err(cx, "%s", err);
		return CTL_FAIL;
	}
	if (count == 0)
		printf("nothing to do: the schema is at version %d\n", version);
	return CTL_OK;
}
