/* audit.h: the operation history (操作履歴): writing entries and listing them. */
#ifndef SHOMEI_AUDIT_H
#define SHOMEI_AUDIT_H

#include <cjson/cJSON.h>

#include "store/db.h"

#define AUDIT_PER_PAGE 100

struct audit_entry {
	long long tenant_id;
	const char *ip;         /* from nginx; NULL or "" when none */
	const char *actor_kind; /* admin, user, system, operator */
	long long actor_id;     /* 0 = none */
	const char *action;     /* a code from i18n's action table */
	const char *detail;
};

/* Insert one entry, inside the caller's transaction when one is open. 0, -EIO. */
int audit_write(struct db *db, const struct audit_entry *e);

struct audit_filter {
	const char *from; /* yyyy/mm/dd (JST), NULL = open */
	const char *to;   /* yyyy/mm/dd inclusive, NULL = open */
	const char *action;
	const char *q; /* substring of the detail, case-insensitive */
	int page;      /* from 1 */
};

/*
 * One page of a tenant's history, newest first, as the API's list document
 * {total, page, per_page, items:[{at, ip, action, action_label, detail}]}.
 * *out is owned by the caller. 0 or -EIO.
 */
int audit_list(struct db *db, long long tenant_id, const struct audit_filter *f, int lang,
	       cJSON **out);

#endif
