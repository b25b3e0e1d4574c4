/* audit.h: the operation history (操作履歴): writing entries and listing them. */
#ifndef SHOMEI_AUDIT_H
#define SHOMEI_AUDIT_H

#include <cjson/cJSON.h>

#include "store/db.h"
#include "store/kv.h"
#include "web/keyset.h"

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
	AUDIT_LOCKOUT,              /* lockout: ロックアウト */
	AUDIT_DOWNLOAD_REFUSED,     /* download_refused: ダウンロードサイト拒否 */
	AUDIT_AUDIT_CSV,            /* audit_csv: 操作履歴CSV */
	AUDIT_PASSWORD_NOTICE,      /* password_notice: パスワード通知書 */
	AUDIT_CERTIFICATE_RENEW,    /* certificate_renew: 証明書更新 */
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

/*
 * Insert one entry, inside the caller's transaction when one is open. Control characters
 * (C0, DEL, C1) and bytes that are not UTF-8 in the detail are stored as '?'. 0, -EIO.
 */
int audit_write(struct db *db, const struct audit_entry *e);

/* The most parameters a coded detail takes. */
#define AUDIT_PARAMS_MAX 8

/*
 * What an entry may say besides struct audit_entry: the login ID tried (a failed login, a
 * lockout, the download site; NULL: the acting administrator's, looked up when actor_kind is
 * "admin"), and the detail as a code of the table in audit.c with its parameters, rendered in
 * the viewer's language when the history is read (the entry's detail is then ignored and the
 * Japanese rendering stored for the search). A parameter that is a word of the table
 * (AUDIT_WORD("none")) is rendered in the viewer's language too; any other parameter is
 * quoted as it is, cleaned as audit_text cleans.
 */
struct audit_more {
	const char *login_id;
	const char *code; /* NULL: e->detail as written */
	const char *params[AUDIT_PARAMS_MAX];
	int n;
};

/*
 * A parameter that is a word of audit.c's table rather than text to quote (AUDIT_WORD), or
 * a word inside a parameter's text (AUDIT_WORD_IN: "\x1fw\x1f", so a list such as a user's
 * changed fields keeps its labels in the viewer's language). A word is a code of the table's
 * words or "dev:<device code>" (device_label).
 */
#define AUDIT_WORD(w) "\x1f" w
#define AUDIT_WORD_IN(w) "\x1f" w "\x1f"
#define AUDIT_WORD_MARK '\x1f'

/* audit_write with more (NULL: none). 0, -EINVAL (an unknown code), -EIO. */
int audit_write_ex(struct db *db, const struct audit_entry *e, const struct audit_more *more);

/*
 * The detail of code with params rendered in lang into buf (NUL-terminated); 0, -EINVAL (an
 * unknown code) or -ENOSPC (cut at len).
 */
int audit_render(const char *code, const char *const *params, int n, int lang, char *buf,
		 size_t len);

/* How many characters of text a client sent (a login ID typed) a detail quotes. */
#define AUDIT_TEXT_MAX 64
/* The bytes audit_text needs for max characters: 4 a character, "…" and the NUL. */
#define AUDIT_TEXT_SIZE(max) ((max)*4 + 4)

/*
 * Text a client sent, made fit to quote in a detail, into buf (len bytes, NUL-terminated
 * always; NULL in gives ""): control characters (C0, DEL, C1) and bytes that are not UTF-8
 * become '?', and text longer than max characters is cut after max (or where buf ends) on a
 * character boundary and ends in "…".
 */
void audit_text(char *buf, size_t len, const char *in, size_t max);

/* How many addresses a minute get summaries of their own, per tenant and kind. */
#define AUDIT_SUM_ADDRESSES 20

/*
 * An entry that is summarised per (tenant, e->ip, kind) and clock minute (now / 60): the
 * first of a minute is inserted with detail "<e->detail> (1回)", and every later one of the
 * same minute only counts in Redis and rewrites that entry's count, "(N回)" (the rest of the
 * detail stays as the first wrote it), so a flood of refusals leaves one entry a minute.
 * Past AUDIT_SUM_ADDRESSES addresses in a minute (a client changing its address), the others
 * share one entry "<e->detail of the first of them> ほか (N回)". kind names what is counted
 * ("ip", "locked"). Without Redis every call inserts its own "(1回)" entry: nothing is lost,
 * only not summarised. Outside any transaction. 0 or -EIO.
 */
int audit_write_summed(struct db *db, struct kv *kv, const struct audit_entry *e, const char *kind,
		       long long now);

/* audit_write_summed with more (NULL: none); the count follows the rendered detail. */
int audit_write_summed_ex(struct db *db, struct kv *kv, const struct audit_entry *e,
			  const struct audit_more *more, const char *kind, long long now);

struct audit_filter {
	const char *from; /* yyyy/mm/dd (JST), NULL = open */
	const char *to;   /* yyyy/mm/dd inclusive, NULL = open */
	const char *action;
	const char *q;           /* substring of the detail, case-insensitive */
	const struct keyset *ks; /* which page (web/keyset.h) */
};

/*
 * One page of a tenant's history, newest first, as the API's list document
 * {total, total_estimated, page, per_page, next, prev, items:[{id, at, ip, login_id, action,
 * action_label, detail}]}, each detail rendered in lang (a coded one from its code; an older one
 * as written, its fixed words translated).
 * *out is owned by the caller. 0 or -EIO.
 */
/*
 * The tenant's generation of the history into gen (len at least 64): text that changes with every
 * entry written (migration 0030), for the pages kept with it (web/pagecache.h); its rows folded
 * when there are many. 0, or what db_exec returns.
 */
int audit_list_gen(struct db *db, long long tenant_id, char *gen, size_t len);

int audit_list(struct db *db, long long tenant_id, const struct audit_filter *f, int lang,
	       cJSON **out);

/*
 * 操作履歴 CSV: open a cursor over every entry of the filter (f->ks unused), newest first, in the
 * transaction the caller began; then audit_export_fetch gives AUDIT_EXPORT_ROWS rows at a time
 * (columns at, ip, action, detail; none at the end). *res is the caller's to PQclear. 0, or
 * what db_exec_sql returns.
 */
#define AUDIT_EXPORT_ROWS 500
int audit_export_open(struct db *db, long long tenant_id, const struct audit_filter *f);
int audit_export_fetch(struct db *db, PGresult **res);

/* Row r's detail as the list shows it in lang (into buf, or a static text); see audit_list. */
const char *audit_export_detail(const PGresult *res, int r, int lang, char *buf, size_t len);

#endif
