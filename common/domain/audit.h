/* audit.h: the operation history (操作履歴): writing entries and listing them. */
#ifndef SHOMEI_AUDIT_H
#define SHOMEI_AUDIT_H

#include <cjson/cJSON.h>

#include "store/db.h"

#define AUDIT_PER_PAGE 100

/* The operation-history actions; their codes and words are the table in audit.c. */
enum audit_action {
	AUDIT_LOGIN,                /* login: ログイン */
	AUDIT_LOGOUT,               /* logout: ログアウト */
	AUDIT_CERTIFICATE_ISSUE,    /* certificate_issue: 証明書追加発行 */
	AUDIT_CERTIFICATE_REVOKE,   /* certificate_revoke: 証明書失効 */
	AUDIT_CERTIFICATE_REISSUE,  /* certificate_reissue: 証明書再発行 */
	AUDIT_CERTIFICATE_DOWNLOAD, /* certificate_download: 証明書ダウンロード */
	AUDIT_PASSWORD_CSV,         /* password_csv: パスワードCSV */
	AUDIT_IP_RESTRICTION,       /* ip_restriction: IPアドレス制限設定 */
	AUDIT_PASSWORD_CHANGE,      /* password_change: パスワード変更 */
	AUDIT_USER_REGISTER,        /* user_register: 利用者登録 */
	AUDIT_USER_UPDATE,          /* user_update: 利用者変更 */
	AUDIT_USER_IMPORT,          /* user_import: CSV一括登録 */
	AUDIT_USER_DELETE,          /* user_delete: 利用者削除 */
	AUDIT_SETTINGS,             /* settings: 設定変更 */
	AUDIT__MAX,
};

/* The stable code of an action ("certificate_issue"); NULL past the end. */
const char *audit_action_code(enum audit_action a);

/* The word of an action code in lang (証明書追加発行 / Certificate issue); NULL if unknown. */
const char *audit_action_label(const char *code, int lang);

/* Validator (web/valid.h's shape): an action code. 0 or VALID_E_FORMAT. */
int audit_valid_action(const char *v);

/* The English form of a fixed detail (ログイン成功 …) when lang is English, else detail. */
const char *audit_detail(const char *detail, int lang);

struct audit_entry {
	long long tenant_id;
	const char *ip;         /* from nginx; NULL or "" when none */
	const char *actor_kind; /* admin, user, system, operator */
	long long actor_id;     /* 0 = none */
	enum audit_action action;
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
