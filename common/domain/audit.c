/* audit.c: the operation history (操作履歴): writing entries and listing them. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <string.h>

#include "core/memo.h"
#include "domain/audit.h"
#include "web/i18n.h"
#include "web/valid.h"

/* The actions: code (stored in audit.action, stable) and label (ja, en). */
static const struct {
	const char *code;
	const char *label[I18N__MAX];
} actions[AUDIT__MAX] = {
	[AUDIT_LOGIN] = {"login", {"ログイン", "Login"}},
	[AUDIT_LOGOUT] = {"logout", {"ログアウト", "Logout"}},
	[AUDIT_CERTIFICATE_ISSUE] = {"certificate_issue", {"証明書追加発行", "Certificate issue"}},
	[AUDIT_CERTIFICATE_REVOKE] = {"certificate_revoke", {"証明書失効", "Certificate revoke"}},
	[AUDIT_CERTIFICATE_REISSUE] = {"certificate_reissue",
				       {"証明書再発行", "Certificate reissue"}},
	[AUDIT_CERTIFICATE_DOWNLOAD] = {"certificate_download",
					{"証明書ダウンロード", "Certificate download"}},
	[AUDIT_PASSWORD_CSV] = {"password_csv", {"パスワードCSV", "Password CSV"}},
	[AUDIT_IP_RESTRICTION] = {"ip_restriction",
				  {"IPアドレス制限設定", "IP address restriction"}},
	[AUDIT_PASSWORD_CHANGE] = {"password_change", {"パスワード変更", "Password change"}},
	[AUDIT_USER_REGISTER] = {"user_register", {"利用者登録", "User registration"}},
	[AUDIT_USER_UPDATE] = {"user_update", {"利用者変更", "User change"}},
	[AUDIT_USER_IMPORT] = {"user_import", {"CSV一括登録", "CSV bulk registration"}},
	[AUDIT_USER_DELETE] = {"user_delete", {"利用者削除", "User deletion"}},
	[AUDIT_SETTINGS] = {"settings", {"設定変更", "Settings change"}},
};

/* The fixed details that have an English form. */
static const char *const details[][I18N__MAX] = {
	{"ログイン成功", "Login succeeded"},
	{"ログイン失敗", "Login failed"},
	{"ログイン失敗 (ロック中)", "Login failed (locked out)"},
	{"証明書ログイン成功", "Certificate login succeeded"},
	{"証明書ログイン失敗", "Certificate login failed"},
	{"ログアウト", "Logged out"},
	{"パスワード変更", "Password changed"},
};

const char *
audit_action_code(enum audit_action a)
{
	return a < AUDIT__MAX ? actions[a].code : NULL;
}

const char *
audit_action_label(const char *code, int lang)
{
	for (int i = 0; code != NULL && i < AUDIT__MAX; i++)
		if (strcmp(actions[i].code, code) == 0)
			return actions[i].label[lang == I18N_EN ? I18N_EN : I18N_JA];
	return NULL;
}

int
audit_valid_action(const char *v)
{
	return audit_action_label(v, I18N_JA) != NULL ? 0 : VALID_E_FORMAT;
}

const char *
audit_detail(const char *detail, int lang)
{
	if (lang != I18N_EN || detail == NULL)
		return detail;
	for (size_t i = 0; i < sizeof(details) / sizeof(details[0]); i++)
		if (strcmp(details[i][I18N_JA], detail) == 0)
			return details[i][I18N_EN];
	return detail;
}

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
	const char *action = audit_action_code(e->action);
	PGresult *res = NULL;
	int rc;

	if (action == NULL)
		return -EINVAL;
	snprintf(tenant, sizeof(tenant), "%lld", e->tenant_id);
	snprintf(actor, sizeof(actor), "%lld", e->actor_id);
	const char *params[] = {
		tenant, (e->ip && *e->ip) ? e->ip : NULL, e->actor_kind, e->actor_id ? actor : NULL,
		action, e->detail ? e->detail : "",
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
		const char *label = audit_action_label(action, lang);
		cJSON_AddStringToObject(it, "at", db_get(res, i, "at"));
		cJSON_AddStringToObject(it, "ip", db_get(res, i, "ip"));
		cJSON_AddStringToObject(it, "action", action);
		cJSON_AddStringToObject(it, "action_label", label ? label : action);
		cJSON_AddStringToObject(it, "detail", audit_detail(db_get(res, i, "detail"), lang));
		cJSON_AddItemToArray(items, it);
	}
	return items;
}

/*
 * Totals of recent filters, per process. Counting 100,000 entries takes PostgreSQL about
 * 12 ms (bench/api), every page of the 操作履歴 asked for it, and paging a large history asks
 * the same filter again and again. A total is reused while the tenant's newest entry is the
 * one it was counted with, for at most 5 seconds: a new entry recounts at once; only
 * an entry committed out of order (an older transaction finishing later) can leave a total
 * one short, for those seconds. The rows of the page are always read afresh.
 */
static struct memo totals = MEMO_INIT(5);

int
audit_list(struct db *db, long long tenant_id, const struct audit_filter *f, int lang, cJSON **out)
{
	char tenant[24], offset[24], key[MEMO_KEY_MAX + 1], *cached;
	PGresult *top = NULL, *cnt = NULL, *res = NULL;
	long long newest, total;
	cJSON *doc = NULL;
	int rc;

	snprintf(tenant, sizeof(tenant), "%lld", tenant_id);
	snprintf(offset, sizeof(offset), "%lld", (long long)(f->page - 1) * AUDIT_PER_PAGE);
	const char *params[] = {tenant, f->from, f->to, f->action, f->q, offset};
	const struct db_stmt *count = f->action || f->q ? &st_count : &st_count_dates;
	/* the filter, unambiguously: only q, the last field, is free text */
	snprintf(key, sizeof(key), "%s\x1f%s\x1f%s\x1f%s\x1f%s", tenant, f->from ? f->from : "",
		 f->to ? f->to : "", f->action ? f->action : "", f->q ? f->q : "");
	if ((rc = db_exec(db, &st_top, params, &top)) != 0)
		goto fail;
	newest = PQntuples(top) == 1 ? db_get_ll(top, 0, "id") : 0;
	if ((cached = memo_get(&totals, key, newest)) != NULL) {
		total = strtoll(cached, NULL, 10);
		free(cached);
	} else {
		if ((rc = db_exec(db, count, params, &cnt)) != 0)
			goto fail;
		total = db_get_ll(cnt, 0, "n");
		memo_put(&totals, key, newest, db_get(cnt, 0, "n"));
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
