/* audit.c: the operation history (操作履歴): writing entries and listing them. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "audit.h"
#include "i18n.h"

static const struct db_stmt st_insert = {
	"audit_insert",
	"INSERT INTO audit (tenant_id, ip, actor_kind, actor_id, action, detail) "
	"VALUES ($1, $2::inet, $3, $4, $5, $6)",
	6,
};

/* Shared filter: $1 tenant, $2 from, $3 to (dates, JST), $4 action, $5 text. */
#define AUDIT_WHERE_DATES                                                                          \
	" WHERE tenant_id = $1"                                                                    \
	" AND ($2::date IS NULL OR at >= ($2::date)::timestamp AT TIME ZONE 'Asia/Tokyo')"         \
	" AND ($3::date IS NULL OR at < ($3::date + 1)::timestamp AT TIME ZONE 'Asia/Tokyo')"
#define AUDIT_WHERE                                                                                \
	AUDIT_WHERE_DATES " AND ($4::text IS NULL OR action = $4)"                                 \
			  " AND ($5::text IS NULL OR strpos(lower(detail), lower($5)) > 0)"

static const struct db_stmt st_count = {
	"audit_count",
	"SELECT count(*) AS n FROM audit" AUDIT_WHERE,
	5,
};

/* Without action and text the count reads only the (tenant_id, at) index. */
static const struct db_stmt st_count_dates = {
	"audit_count_dates",
	"SELECT count(*) AS n FROM audit" AUDIT_WHERE_DATES,
	3,
};

/* The tenant's newest entry: a new one moves it, and with it every cached total. */
static const struct db_stmt st_top = {
	"audit_top",
	"SELECT id FROM audit WHERE tenant_id = $1 ORDER BY at DESC, id DESC LIMIT 1",
	1,
};

static const struct db_stmt st_page = {
	"audit_page",
	"SELECT to_char(at AT TIME ZONE 'Asia/Tokyo', 'YYYY/MM/DD HH24:MI:SS') AS at,"
	" coalesce(host(ip), '') AS ip, action, detail FROM audit" AUDIT_WHERE
	" ORDER BY audit.at DESC, audit.id DESC LIMIT 100 OFFSET $6",
	6,
};

int
audit_write(struct db *db, const struct audit_entry *e)
{
	char tenant[24], actor[24];
	PGresult *res = NULL;
	int rc;

	snprintf(tenant, sizeof(tenant), "%lld", e->tenant_id);
	snprintf(actor, sizeof(actor), "%lld", e->actor_id);
	const char *params[] = {
		tenant,        (e->ip && *e->ip) ? e->ip : NULL,
		e->actor_kind, e->actor_id ? actor : NULL,
		e->action,     e->detail ? e->detail : "",
	};
	if ((rc = db_exec(db, &st_insert, params, &res)) != 0)
		return rc < 0 ? rc : -EIO;
	PQclear(res);
	return 0;
}

static cJSON *
page_items(const PGresult *res, int lang)
{
	cJSON *items = cJSON_CreateArray();

	for (int i = 0; i < PQntuples(res); i++) {
		cJSON *it = cJSON_CreateObject();
		const char *action = db_get(res, i, "action");
		const char *label = i18n_action_label(action, lang);
		cJSON_AddStringToObject(it, "at", db_get(res, i, "at"));
		cJSON_AddStringToObject(it, "ip", db_get(res, i, "ip"));
		cJSON_AddStringToObject(it, "action", action);
		cJSON_AddStringToObject(it, "action_label", label ? label : action);
		cJSON_AddStringToObject(it, "detail", i18n_detail(db_get(res, i, "detail"), lang));
		cJSON_AddItemToArray(items, it);
	}
	return items;
}

/*
 * Totals of recent filters, per process. Counting 100,000 entries takes PostgreSQL about
 * 12 ms (bench/api), every page of the 操作履歴 asked for it, and paging a large history asks
 * the same filter again and again. A total is reused while the tenant's newest entry is the
 * one it was counted with, for at most COUNT_TTL seconds: a new entry recounts at once; only
 * an entry committed out of order (an older transaction finishing later) can leave a total
 * one short, for those seconds. The rows of the page are always read afresh.
 */
#define COUNT_TTL 5
#define COUNT_SLOTS 64

static struct {
	pthread_mutex_t lock;
	struct {
		char key[512];
		long long top, total;
		time_t at;
	} slot[COUNT_SLOTS];
} totals = {.lock = PTHREAD_MUTEX_INITIALIZER};

static unsigned
key_slot(const char *key)
{
	unsigned h = 2166136261u;

	for (const unsigned char *p = (const unsigned char *)key; *p; p++)
		h = (h ^ *p) * 16777619u;
	return h % COUNT_SLOTS;
}

/* The cached total for key counted at top, or -1. */
static long long
total_cached(const char *key, long long top)
{
	unsigned i = key_slot(key);
	long long n = -1;

	pthread_mutex_lock(&totals.lock);
	if (totals.slot[i].top == top && time(NULL) - totals.slot[i].at < COUNT_TTL &&
	    strcmp(totals.slot[i].key, key) == 0)
		n = totals.slot[i].total;
	pthread_mutex_unlock(&totals.lock);
	return n;
}

static void
total_store(const char *key, long long top, long long total)
{
	unsigned i = key_slot(key);

	pthread_mutex_lock(&totals.lock);
	snprintf(totals.slot[i].key, sizeof(totals.slot[i].key), "%s", key);
	totals.slot[i].top = top;
	totals.slot[i].total = total;
	totals.slot[i].at = time(NULL);
	pthread_mutex_unlock(&totals.lock);
}

int
audit_list(struct db *db, long long tenant_id, const struct audit_filter *f, int lang, cJSON **out)
{
	char tenant[24], offset[24], key[512];
	PGresult *top = NULL, *cnt = NULL, *res = NULL;
	long long newest, total;
	cJSON *doc = NULL;
	int rc, n;

	snprintf(tenant, sizeof(tenant), "%lld", tenant_id);
	snprintf(offset, sizeof(offset), "%lld", (long long)(f->page - 1) * AUDIT_PER_PAGE);
	const char *params[] = {tenant, f->from, f->to, f->action, f->q, offset};
	const struct db_stmt *count = f->action || f->q ? &st_count : &st_count_dates;
	/* the filter, unambiguously: only q, the last field, is free text */
	n = snprintf(key, sizeof(key), "%s\x1f%s\x1f%s\x1f%s\x1f%s", tenant, f->from ? f->from : "",
		     f->to ? f->to : "", f->action ? f->action : "", f->q ? f->q : "");
	if ((rc = db_exec(db, &st_top, params, &top)) != 0)
		goto fail;
	newest = PQntuples(top) == 1 ? db_get_ll(top, 0, "id") : 0;
	if (n < 0 || (size_t)n >= sizeof(key) || (total = total_cached(key, newest)) < 0) {
		if ((rc = db_exec(db, count, params, &cnt)) != 0)
			goto fail;
		total = db_get_ll(cnt, 0, "n");
		if (n >= 0 && (size_t)n < sizeof(key))
			total_store(key, newest, total);
	}
	if ((rc = db_exec(db, &st_page, params, &res)) != 0)
		goto fail;
	if ((doc = cJSON_CreateObject()) == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	cJSON_AddNumberToObject(doc, "total", (double)total);
	cJSON_AddNumberToObject(doc, "page", f->page);
	cJSON_AddNumberToObject(doc, "per_page", AUDIT_PER_PAGE);
	cJSON_AddItemToObject(doc, "items", page_items(res, lang));
	*out = doc;
	doc = NULL;
	rc = 0;
	goto out;
fail:
	rc = rc < 0 ? rc : -EIO;
out:
	PQclear(top);
	PQclear(cnt);
	PQclear(res);
	cJSON_Delete(doc);
	return rc;
}
