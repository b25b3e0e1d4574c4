/* audit.c: the operation history (操作履歴): writing entries and listing them. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <string.h>
#include <time.h>

#include "core/json.h"
#include "core/memo.h"
#include "core/strbuf.h"
#include "domain/audit.h"
#include "domain/device.h"
#include "web/keyset.h"
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
	[AUDIT_LOCKOUT] = {"lockout", {"ロックアウト", "Lockout"}},
	[AUDIT_DOWNLOAD_REFUSED] = {"download_refused",
				    {"ダウンロードサイト拒否", "Download site refusal"}},
	[AUDIT_AUDIT_CSV] = {"audit_csv", {"操作履歴CSV", "History CSV"}},
	[AUDIT_PASSWORD_NOTICE] = {"password_notice", {"パスワード通知書", "Password notice"}},
	[AUDIT_CERTIFICATE_RENEW] = {"certificate_renew", {"証明書更新", "Certificate renewal"}},
};

/*
 * The coded details (struct audit_more): code (stored in audit.detail_code, stable) and the
 * text in each language, {0}…{7} standing for the parameters.
 */
static const struct {
	const char *code;
	const char *text[I18N__MAX];
} templates[] = {
	{"login_ok", {"ログイン成功", "Login succeeded"}},
	{"login_failed", {"ログイン失敗", "Login failed"}},
	{"login_cert_ok", {"証明書ログイン成功", "Certificate login succeeded"}},
	{"logout", {"ログアウト", "Logged out"}},
	{"password_changed", {"パスワード変更", "Password changed"}},
	{"lockout_id",
	 {"ログインIDをロック（{0}回失敗、解除まで{1}秒）",
	  "Login ID locked out ({0} failures, {1} s until it ends)"}},
	{"lockout_ip",
	 {"アクセス元IPアドレスをロック（{0}回失敗、解除まで{1}秒）",
	  "Source address locked out ({0} failures, {1} s until it ends)"}},
	{"dl_login_ok",
	 {"ダウンロードサイト ログイン成功 {0}", "Download site: login succeeded {0}"}},
	{"dl_login_failed",
	 {"ダウンロードサイト ログイン失敗 {0}", "Download site: login failed {0}"}},
	{"dl_lockout_id",
	 {"ダウンロードサイト ログインIDをロック（{1}回失敗、解除まで{2}秒） {0}",
	  "Download site: login ID locked out ({1} failures, {2} s until it ends) {0}"}},
	{"dl_lockout_ip",
	 {"ダウンロードサイト アクセス元IPアドレスをロック（{1}回失敗、解除まで{2}秒） {0}",
	  "Download site: source address locked out ({1} failures, {2} s until it ends) {0}"}},
	{"dl_refused_ip",
	 {"ダウンロードサイト IPアドレス制限により拒否 {0}",
	  "Download site: refused by the IP address restriction {0}"}},
	{"dl_renew_refused",
	 {"ダウンロードサイト 証明書更新を拒否 ({0})", "Download site: renewal refused ({0})"}},
	{"dl_refused_locked",
	 {"ダウンロードサイト ログイン失敗 (ロック中) {0}",
	  "Download site: login refused (locked out) {0}"}},
	{"cert_renew_accepted",
	 {"{0}: 更新受付 (利用者が現在の証明書 {1} で申請)",
	  "{0}: renewal accepted (requested by the user with the current certificate {1})"}},
	{"cert_renewed",
	 {"{0}: 更新完了 (新しい証明書 {1} をダウンロード、旧証明書 {2} は失効)",
	  "{0}: renewed (new certificate {1} downloaded, old certificate {2} revoked)"}},
	{"cert_reissue",
	 {"{0}: 再発行受付 (旧証明書の失効: {1})",
	  "{0}: reissue accepted (old certificate revoked: {1})"}},
	{"setting_allowlist", {"許可IPアドレス：{0} → {1}", "Allowed IP addresses: {0} → {1}"}},
	{"setting_notify", {"利用者への通知：{0} → {1}", "Notices to users: {0} → {1}"}},
	/* issuance (shomei-issue) */
	{"cert_issued", {"{0}: 発行中 -> 発行完了", "{0}: issuing -> issued"}},
	{"cert_retry",
	 {"{0}: 発行失敗 -> 発行中 (再試行)", "{0}: issuance failed -> issuing (retry)"}},
	/* revocation (shomei-revoke, the due revocations) */
	{"cert_revoked", {"{0}: 失効中 -> 失効完了", "{0}: revoking -> revoked"}},
	{"cert_revoke_scheduled", {"{0}: 失効予定 ({1})", "{0}: revocation scheduled ({1})"}},
	{"cert_revoke_cancelled",
	 {"{0}: 失効予定 -> 失効取消", "{0}: revocation scheduled -> cancelled"}},
	{"rcsv_queued",
	 {"CSV一括失効 受付 {0} (証明書 {1})",
	  "CSV bulk revocation accepted: {0} ({1} certificates)"}},
	{"xcsv_queued",
	 {"CSV一括再発行 受付 {0} (証明書 {1})",
	  "CSV bulk reissue accepted: {0} ({1} certificates)"}},
	{"xcsv_queued_on",
	 {"CSV一括再発行 受付 {0} (証明書 {1}, 失効日 {2})",
	  "CSV bulk reissue accepted: {0} ({1} certificates, revocation date {2})"}},
	{"rcsv_queued_on",
	 {"CSV一括失効 受付 {0} (証明書 {1}, 失効日 {2})",
	  "CSV bulk revocation accepted: {0} ({1} certificates, revocation date {2})"}},
	/* users (shomei-users); {3} of user_* holds words of the table inline */
	{"user_registered", {"{0} {1} ({2}): {3}", "{0} {1} ({2}): {3}"}},
	{"user_updated", {"{0} {1} ({2}): {3}", "{0} {1} ({2}): {3}"}},
	{"user_deleted", {"1次削除 {0} {1} ({2})", "1st deletion {0} {1} ({2})"}},
	{"user_undeleted", {"1次削除の取消 {0} {1} ({2})", "1st deletion undone {0} {1} ({2})"}},
	{"user_purged", {"2次削除 {0} {1} ({2})", "2nd (master) deletion {0} {1} ({2})"}},
	{"import_queued",
	 {"受付 {0} (利用者 {1}, 証明書 {2})", "Accepted: {0} ({1} users, {2} certificates)"}},
	{"purge_queued",
	 {"CSV一括利用者マスター削除 受付 {0} (利用者 {1})",
	  "CSV bulk master deletion accepted: {0} ({1} users)"}},
	{"user_list_csv", {"利用者リスト (証明書 {0} 件)", "User list ({0} certificates)"}},
	/* jobs (common/domain/jobs.c); {2} a word, the unit */
	{"job_done", {"完了 {0} ({1} 行, {2} {3})", "Done: {0} ({1} lines, {2}: {3})"}},
	{"job_failed", {"失敗 {0} (処理済み {1} / {2})", "Failed: {0} ({1} of {2} lines done)"}},
	/* downloads (shomei-download): file names, the same in every language */
	{"files", {"{0}", "{0}"}},
	/* a bulk download lists its first files and counts the rest (services/download/bulk.c) */
	{"files_more", {"{0} ほか {1} 件", "{0} and {1} more"}},
	{"dl_site_file", {"ダウンロードサイト {0} ({1})", "Download site: {0} ({1})"}},
	{"enroll_file", {"shomei-enroll {0} ({1})", "shomei-enroll: {0} ({1})"}},
	{"dl_restricted",
	 {"ダウンロードサイト インストール制限のため拒否 {0}",
	  "Download site: refused, the certificate has an install restriction {0}"}},
	{"enroll_refused",
	 {"shomei-enroll インストール制限により拒否 {0} ({1})",
	  "shomei-enroll: refused by the install restriction {0} ({1})"}},
	{"creds_shown", {"パスワード案内 {0} ({1})", "Password notice page {0} ({1})"}},
	{"mail_resent", {"送信メール再送 #{0} {1}", "Sent mail resent #{0} {1}"}},
	{"audit_csv", {"操作履歴 {0} 件", "Operation history: {0} entries"}},
	{"password_notice",
	 {"パスワード通知書 (利用者 {0} 名, 証明書 {1} 件): {2}",
	  "Password notice ({0} users, {1} certificates): {2}"}},
	{"devices_added",
	 {"{0} {1} ({2}): 利用デバイス追加 {3}", "{0} {1} ({2}): devices added {3}"}},
	{"setting_renew_window",
	 {"証明書更新の受付期間：有効期限の {0} 日前〜{1} 日後 → {2} 日前〜{3} 日後",
	  "Renewal window: {0} days before to {1} days after expiry → {2} days before to {3} days after"}},
	{"setting_notice_address",
	 {"管理者への通知先：{0} → {1}", "Administrators' notice address: {0} → {1}"}},
};

/* The words a parameter may be (AUDIT_WORD), in each language. */
static const struct {
	const char *word;
	const char *text[I18N__MAX];
} words[] = {
	{"none", {"なし（すべてアクセス拒否）", "none (every address refused)"}},
	{"mail", {"メールで通知する", "by mail"}},
	{"no_mail", {"メールで通知しない", "none"}},
	{"now", {"ただちに", "now"}},
	{"already_revoked", {"失効済", "already revoked"}},
	/* a user's fields (利用者変更) */
	{"f:family_name", {"氏名(姓)", "Family name"}},
	{"f:given_name", {"氏名(名)", "Given name"}},
	{"f:family_name_kana", {"氏名(姓)フリガナ", "Family name (kana)"}},
	{"f:given_name_kana", {"氏名(名)フリガナ", "Given name (kana)"}},
	{"f:family_name_en", {"氏名(姓)英語表記", "Family name (English)"}},
	{"f:given_name_en", {"氏名(名)英語表記", "Given name (English)"}},
	{"f:email", {"メールアドレス", "E-mail address"}},
	{"f:lang", {"通知の言語", "Language of notices"}},
	/* what a job counts (struct jobs_kind's unit) */
	{"証明書", {"証明書", "certificates"}},
	{"利用者", {"利用者", "users"}},
	{"失効", {"失効", "revoked"}},
	{"再発行", {"再発行", "reissued"}},
};

/* The fixed details that have an English form. */
static const char *const details[][I18N__MAX] = {
	{"ログイン成功", "Login succeeded"},
	{"ログイン失敗", "Login failed"},
	{"ログイン失敗 (ロック中)", "Login failed (locked out)"},
	{"利用者へ: メールで通知する", "Notices to users: by mail"},
	{"利用者へ: メールで通知しない", "Notices to users: none"},
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

/* Without $7, an administrator's entry names the administrator's login ID as it is now. */
static const struct db_stmt st_insert = {
	"audit_insert",
	"INSERT INTO audit (tenant_id, ip, actor_kind, actor_id, action, detail, login_id,"
	" detail_code, detail_params) VALUES ($1::bigint, $2::inet, $3::text, $4::bigint, $5, $6,"
	" coalesce($7, (SELECT login_id FROM admins WHERE $3::text = 'admin' AND id = $4::bigint"
	" AND tenant_id = $1::bigint)), $8, $9::jsonb) RETURNING id",
	9,
};

/*
 * A summarised entry's count, "(N回)" at the end of its detail: rewritten to $3, never down
 * (two requests may finish in either order), the rest of the detail kept as first written.
 */
static const struct db_stmt st_recount = {
	"audit_recount",
	"UPDATE audit SET detail = regexp_replace(detail, '\\([0-9]+回\\)$', '(' || $3 || '回)')"
	" WHERE id = $1 AND tenant_id = $2"
	" AND coalesce(substring(detail from '\\(([0-9]+)回\\)$')::bigint, 0) < $3::bigint",
	3,
};

/*
 * Count one in a minute's summary. KEYS: the address's hash, the hash of the addresses past
 * the cap, the counter of the minute's addresses; ARGV: the cap, the TTL. Returns {n, over}:
 * the count of the hash this request counts in, and 1 when that is the one past the cap.
 */
static const char sum_lua[] =
	"local n=redis.call('HINCRBY',KEYS[1],'n',1)\n"
	"redis.call('EXPIRE',KEYS[1],ARGV[2])\n"
	"if n==1 then\n"
	" if redis.call('INCR',KEYS[3])>tonumber(ARGV[1]) then redis.call('HSET',KEYS[1],'over',1) end\n"
	" redis.call('EXPIRE',KEYS[3],ARGV[2])\n"
	"end\n"
	"if redis.call('HEXISTS',KEYS[1],'over')==1 then\n"
	" local m=redis.call('HINCRBY',KEYS[2],'n',1)\n"
	" redis.call('EXPIRE',KEYS[2],ARGV[2])\n"
	" return {m,1}\n"
	"end\n"
	"return {n,0}\n";

#define STR_(x) #x
#define STR(x) STR_(x)

/*
 * Shared filter: $1 tenant, $2 from, $3 to (dates, JST), $4 action, $5 text. Served by the
 * indexes of the date order (audit_tenant_at), of an action's (audit_list_action) and the
 * trigram index of the detail (audit_detail_trgm); an absent condition folds away (db.c).
 */
#define AUDIT_WHERE                                                                                \
	" WHERE tenant_id = $1"                                                                    \
	" AND ($2::date IS NULL OR at >= ($2::date)::timestamp AT TIME ZONE 'Asia/Tokyo')"         \
	" AND ($3::date IS NULL OR at < ($3::date + 1)::timestamp AT TIME ZONE 'Asia/Tokyo')"      \
	" AND ($4::text IS NULL OR action = $4)"                                                   \
	" AND ($5::text IS NULL OR lower(detail) LIKE like_contains(lower($5::text)))"

/* At most one more than an exact total shows (web/keyset.h). */
static const struct db_stmt st_count = {
	"audit_count",
	"SELECT count(*) AS n FROM (SELECT 1 FROM audit" AUDIT_WHERE
	" ORDER BY audit.at, audit.id LIMIT " KEYSET_EXACT_MAX_S " + 1) s",
	5,
};
static const char st_select[] = "SELECT 1 FROM audit" AUDIT_WHERE;

/* The tenant's newest entry: a new one moves it, and with it every cached total. */
#define TOP_SQL "SELECT id FROM audit WHERE tenant_id = $1 ORDER BY at DESC, id DESC LIMIT 1"
static const struct db_stmt st_top = {"audit_top", TOP_SQL, 1};

/* What a detail is rendered from, and who acted (migration 0015). */
#define ENTRY_COLUMNS                                                                              \
	"coalesce(login_id, '') AS login_id, coalesce(detail_code, '') AS detail_code,"            \
	" coalesce(detail_params::text, '[]') AS detail_params"

/*
 * A page's columns: k, the time as microseconds since the epoch, is both the cursor's key and
 * what the time shown is formatted from (at_jst).
 */
#define PAGE_COLUMNS                                                                               \
	"coalesce(host(ip), '') AS ip, action, detail, " ENTRY_COLUMNS ", id,"                     \
	" (extract(epoch FROM at) * 1000000)::bigint::text AS k"
#define CURSOR_AT(key) "('epoch'::timestamptz + " key "::bigint * interval '1 microsecond')"

/*
 * A page, newest first, from a cursor: $6 its key (microseconds since the epoch), $7 its id
 * (NULL: from the newest), $8 rows to skip, $9 rows to read; st_page_rev reads backwards.
 */
#define PAGE_SQL(op, dir)                                                                          \
	"SELECT " PAGE_COLUMNS " FROM audit" AUDIT_WHERE                                           \
	" AND ($7::bigint IS NULL OR (audit.at, audit.id) " op                                     \
	" (" CURSOR_AT("$6") ", $7::bigint))"                                                      \
			     " ORDER BY audit.at " dir ", audit.id " dir " OFFSET $8 LIMIT $9"
static const struct db_stmt st_page = {"audit_page", PAGE_SQL("<", "DESC"), 9};

/*
 * The same pages without a filter (the list as it opens, and as one pages through it), one
 * statement a shape, each kept with one generic plan (db_exec_generic): $1 tenant, with a
 * cursor $2 its key and $3 its id. A whole page and one more row, the LIMIT written in the SQL:
 * a generic plan takes a LIMIT or OFFSET parameter for a tenth of the table and sorts the whole
 * tenant (a ?page=N jump and a short last page go through st_page and st_page_rev). newest is
 * st_top's answer (the totals' memo key), an InitPlan run once a page.
 */
#define FIXED_SQL(cursor, dir)                                                                     \
	"SELECT " PAGE_COLUMNS ", (" TOP_SQL ") AS newest FROM audit WHERE tenant_id = $1" cursor  \
	" ORDER BY audit.at " dir ", audit.id " dir " LIMIT " STR(AUDIT_PER_PAGE) " + 1"
#define FIXED_CURSOR(op) " AND (audit.at, audit.id) " op " (" CURSOR_AT("$2") ", $3::bigint)"
/* [cursor][reversed]: the first page, the last, after a cursor, before it */
static const struct db_stmt st_fixed[2][2] = {
	{{"audit_fx_first", FIXED_SQL("", "DESC"), 1}, {"audit_fx_last", FIXED_SQL("", "ASC"), 1}},
	{{"audit_fx_after", FIXED_SQL(FIXED_CURSOR("<"), "DESC"), 3},
	 {"audit_fx_before", FIXED_SQL(FIXED_CURSOR(">"), "ASC"), 3}},
};
/* 操作履歴 CSV: the filter's entries, newest first, AUDIT_EXPORT_ROWS a fetch */
static const char st_export_open[] =
	"DECLARE audit_export NO SCROLL CURSOR FOR"
	" SELECT to_char(at AT TIME ZONE 'Asia/Tokyo', 'YYYY/MM/DD HH24:MI:SS') AS at,"
	" coalesce(host(ip), '') AS ip, action, detail, " ENTRY_COLUMNS " FROM audit" AUDIT_WHERE
	" ORDER BY audit.at DESC, audit.id DESC";
static const char st_export_fetch[] = "FETCH " STR(AUDIT_EXPORT_ROWS) " FROM audit_export";
static const struct db_stmt st_page_rev = {"audit_page_rev", PAGE_SQL(">", "ASC"), 9};

/* The length of the UTF-8 character at p (1-4), or 0 when p does not start one. */
static size_t
utf8_len(const unsigned char *p)
{
	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		return (p[1] & 0xc0) == 0x80 ? 2 : 0;
	if (p[0] >= 0xe0 && p[0] <= 0xef) {
		if ((p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80 ||
		    (p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] >= 0xa0))
			return 0;
		return 3;
	}
	if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		if ((p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80 || (p[3] & 0xc0) != 0x80 ||
		    (p[0] == 0xf0 && p[1] < 0x90) || (p[0] == 0xf4 && p[1] >= 0x90))
			return 0;
		return 4;
	}
	return 0;
}

/* 1 for a control character: C0, DEL, or C1 (U+0080-U+009F, C2 80-C2 9F). */
static int
is_control(const unsigned char *p, size_t n)
{
	return (n == 1 && (p[0] < 0x20 || p[0] == 0x7f)) || (n == 2 && p[0] == 0xc2 && p[1] < 0xa0);
}

/* The bytes a character of n (0: not UTF-8) takes in audit_text's output: '?' is one. */
static size_t
out_len(const unsigned char *p, size_t n)
{
	return n == 0 || is_control(p, n) ? 1 : n;
}

/* 1 when all of p, cleaned, fits max characters and len bytes with its NUL. */
static int
fits(const unsigned char *p, size_t len, size_t max)
{
	size_t o = 0, chars = 0, n;

	for (; *p != '\0'; p += n ? n : 1, chars++) {
		n = utf8_len(p);
		o += out_len(p, n);
	}
	return chars <= max && o + 1 <= len;
}

void
audit_text(char *buf, size_t len, const char *in, size_t max)
{
	const unsigned char *p = (const unsigned char *)(in ? in : "");
	size_t o = 0, chars = 0, n, k, tail;
	int cut;

	if (len == 0)
		return;
	cut = !fits(p, len, max);
	/* a cut text ends in "…" (3 bytes) when there is room for it at all */
	tail = cut && len >= 4 ? 4 : 1;
	for (; *p != '\0'; p += n ? n : 1, chars++) {
		n = utf8_len(p);
		k = out_len(p, n);
		if (chars == max || o + k + tail > len)
			break;
		if (n == 0 || is_control(p, n))
			buf[o] = '?';
		else
			memcpy(buf + o, p, n);
		o += k;
	}
	if (cut && tail == 4) {
		memcpy(buf + o, "\xe2\x80\xa6", 3);
		o += 3;
	}
	buf[o] = '\0';
}

/* The template of code, or -1. */
static int
template_of(const char *code)
{
	for (size_t i = 0; code != NULL && i < sizeof(templates) / sizeof(templates[0]); i++)
		if (strcmp(templates[i].code, code) == 0)
			return (int)i;
	return -1;
}

/* The word w (n bytes) in lang: of the table, a device code ("dev:01"), or w itself. */
static void
add_word(struct strbuf *b, const char *w, size_t n, int lang)
{
	char code[8];

	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strlen(words[i].word) == n && strncmp(words[i].word, w, n) == 0) {
			strbuf_add(b, words[i].text[lang]);
			return;
		}
	if (n > 4 && n - 4 < sizeof(code) && strncmp(w, "dev:", 4) == 0) {
		snprintf(code, sizeof(code), "%.*s", (int)(n - 4), w + 4);
		if (device_label(code, lang) != NULL) {
			strbuf_add(b, device_label(code, lang));
			return;
		}
	}
	strbuf_printf(b, "%.*s", (int)n, w);
}

/*
 * A parameter in lang: its text as it is, but for the words in it, each between two \x1f
 * (AUDIT_WORD_IN) or from a \x1f to the end (AUDIT_WORD), which are rendered in lang.
 */
static void
add_param(struct strbuf *b, const char *p, int lang)
{
	while (p != NULL && *p != '\0') {
		const char *us = strchr(p, '\x1f');
		if (us == NULL) {
			strbuf_add(b, p);
			return;
		}
		strbuf_printf(b, "%.*s", (int)(us - p), p);
		const char *end = strchr(us + 1, '\x1f');
		size_t n = end ? (size_t)(end - us - 1) : strlen(us + 1);
		add_word(b, us + 1, n, lang);
		p = end ? end + 1 : us + 1 + n;
	}
}

int
audit_render(const char *code, const char *const *params, int n, int lang, char *buf, size_t len)
{
	int t = template_of(code);
	const char *p;
	struct strbuf b;

	if (t < 0 || len == 0)
		return -EINVAL;
	lang = lang == I18N_EN ? I18N_EN : I18N_JA;
	strbuf_init(&b, buf, len);
	for (p = templates[t].text[lang]; *p != '\0'; p++) {
		if (p[0] == '{' && p[1] >= '0' && p[1] <= '7' && p[2] == '}') {
			int k = p[1] - '0';
			if (k < n)
				add_param(&b, params[k], lang);
			p += 2;
		} else {
			strbuf_printf(&b, "%c", *p);
		}
	}
	return strbuf_error(&b) != 0 ? -ENOSPC : 0;
}

/* p cleaned as audit_text cleans, whole, its \x1f (the words' marks) kept; NULL: ENOMEM. */
static char *
clean_param(const char *p)
{
	size_t n = strlen(p), o = 0;
	char *out = malloc(n + 5), *piece = malloc(n + 5);

	if (out == NULL || piece == NULL) {
		free(out);
		free(piece);
		return NULL;
	}
	for (;;) {
		const char *us = strchr(p, '\x1f');
		size_t k = us ? (size_t)(us - p) : strlen(p);
		memcpy(piece, p, k);
		piece[k] = '\0';
		audit_text(out + o, n + 5 - o, piece, k);
		o += strlen(out + o);
		if (us == NULL)
			break;
		out[o++] = '\x1f';
		p = us + 1;
	}
	out[o] = '\0';
	free(piece);
	return out;
}

/* The detail's parameters as a JSON array (cleaned; words kept), into *json (caller frees). */
static int
params_json(const struct audit_more *m, char **json)
{
	cJSON *a = cJSON_CreateArray();
	int rc = 0;

	if (a == NULL)
		return -ENOMEM;
	for (int i = 0; i < m->n && i < AUDIT_PARAMS_MAX && rc == 0; i++) {
		char *clean = clean_param(m->params[i] ? m->params[i] : "");
		if (clean == NULL)
			rc = -ENOMEM;
		else
			cJSON_AddItemToArray(a, cJSON_CreateString(clean));
		free(clean);
	}
	*json = rc == 0 ? cJSON_PrintUnformatted(a) : NULL;
	cJSON_Delete(a);
	return *json ? 0 : -ENOMEM;
}

/* Insert; *id gets the new entry's id when id is not NULL. */
static int
insert(struct db *db, const struct audit_entry *e, const struct audit_more *m, long long *id)
{
	char tenant[24], actor[24], *clean = NULL, *params_doc = NULL;
	char login[AUDIT_TEXT_SIZE(AUDIT_TEXT_MAX)];
	const char *action = audit_action_code(e->action), *detail = e->detail ? e->detail : "";
	PGresult *res = NULL;
	size_t n = strlen(detail);
	int rc;

	if (action == NULL)
		return -EINVAL;
	if (m != NULL && m->code != NULL && template_of(m->code) < 0)
		return -EINVAL;
	if (m != NULL && m->code != NULL && (rc = params_json(m, &params_doc)) != 0)
		return rc;
	if (m != NULL && m->login_id != NULL)
		audit_text(login, sizeof(login), m->login_id, AUDIT_TEXT_MAX);
	/* every character kept ('?' is never longer than what it replaces), never an ellipsis */
	if ((clean = malloc(n + 5)) == NULL) {
		free(params_doc);
		return -ENOMEM;
	}
	audit_text(clean, n + 5, detail, n);
	snprintf(tenant, sizeof(tenant), "%lld", e->tenant_id);
	snprintf(actor, sizeof(actor), "%lld", e->actor_id);
	const char *params[] = {
		tenant,
		(e->ip && *e->ip) ? e->ip : NULL,
		e->actor_kind,
		e->actor_id ? actor : NULL,
		action,
		clean,
		m != NULL && m->login_id != NULL ? login : NULL,
		params_doc != NULL ? m->code : NULL,
		params_doc,
	};
	rc = db_exec(db, &st_insert, params, &res);
	free(clean);
	free(params_doc);
	if (rc != 0)
		return rc < 0 ? rc : -EIO;
	if (id != NULL)
		*id = db_get_ll(res, 0, "id");
	PQclear(res);
	return 0;
}

/* e with its detail rendered from more's code in Japanese into buf; e itself when none. */
static const struct audit_entry *
rendered(const struct audit_entry *e, const struct audit_more *m, struct audit_entry *copy,
	 char *buf, size_t len)
{
	if (m == NULL || m->code == NULL)
		return e;
	*copy = *e;
	if (audit_render(m->code, m->params, m->n, I18N_JA, buf, len) == 0)
		copy->detail = buf;
	return copy;
}

int
audit_write(struct db *db, const struct audit_entry *e)
{
	return insert(db, e, NULL, NULL);
}

/* The bytes a rendering of more takes at most: its parameters, their words grown, the text. */
static size_t
render_size(const struct audit_more *m)
{
	size_t n = 1024;

	for (int i = 0; m != NULL && i < m->n && i < AUDIT_PARAMS_MAX; i++)
		n += m->params[i] ? 4 * strlen(m->params[i]) : 0;
	return n;
}

int
audit_write_ex(struct db *db, const struct audit_entry *e, const struct audit_more *more)
{
	struct audit_entry copy;
	size_t len = render_size(more);
	char *buf = malloc(len);
	int rc;

	if (buf == NULL)
		return -ENOMEM;
	rc = insert(db, rendered(e, more, &copy, buf, len), more, NULL);
	free(buf);
	return rc;
}

/* "<base> (N回)", the detail of a summarised entry, cleaned; the caller frees it. */
static char *
summed_detail(const char *base, long long n)
{
	size_t len = strlen(base) + 32;
	char *raw = malloc(len), *d = malloc(len + 4);

	if (raw != NULL && d != NULL) {
		snprintf(raw, len, "%s (%lld回)", base, n);
		audit_text(d, len + 4, raw, len);
	} else {
		free(d);
		d = NULL;
	}
	free(raw);
	return d;
}

/* Rewrite entry id's count to n, unless it already shows as many. */
static int
recount(struct db *db, long long tenant_id, long long id, long long n)
{
	char sid[24], tenant[24], sn[24];
	PGresult *res = NULL;
	int rc;

	snprintf(sid, sizeof(sid), "%lld", id);
	snprintf(tenant, sizeof(tenant), "%lld", tenant_id);
	snprintf(sn, sizeof(sn), "%lld", n);
	const char *params[] = {sid, tenant, sn};
	rc = db_exec(db, &st_recount, params, &res);
	PQclear(res);
	return rc == 0 ? 0 : rc < 0 ? rc : -EIO;
}

/* Insert with "(1回)", " ほか" before it when over (*id its id when id is not NULL). */
static int
insert_first(struct db *db, const struct audit_entry *e, const struct audit_more *m, int over,
	     long long *id)
{
	struct audit_entry first = *e;
	size_t len = strlen(e->detail ? e->detail : "") + 16;
	char *base = malloc(len), *detail = NULL;
	int rc = -ENOMEM;

	if (base == NULL)
		return -ENOMEM;
	snprintf(base, len, "%s%s", e->detail ? e->detail : "", over ? " ほか" : "");
	if ((detail = summed_detail(base, 1)) != NULL) {
		first.detail = detail;
		rc = insert(db, &first, m, id);
	}
	free(base);
	free(detail);
	return rc;
}

/* HGET/HSET on key's field; the value as an integer, -1 when none. */
static long long
kv_hash(struct kv *kv, const char *cmd, const char *key, const char *field, const char *val)
{
	const char *argv[] = {cmd, key, field, val};
	redisReply *r = kv_cmdv(kv, val ? 4 : 3, argv);
	long long v = -1;

	if (r != NULL && r->type == REDIS_REPLY_INTEGER)
		v = r->integer;
	else if (r != NULL && r->type == REDIS_REPLY_STRING)
		v = strtoll(r->str, NULL, 10);
	freeReplyObject(r);
	return v;
}

/* Count in Redis: *n the count, *key the hash it is in. 0, or -EIO without Redis. */
static int
count(struct kv *kv, const struct audit_entry *e, const char *kind, long long now, char *key,
      size_t len, long long *n)
{
	char part[160], k[3][200], cap[16];
	const char *p[3] = {e->ip ? e->ip : "", "*", "addresses"};
	redisReply *r;
	int over;

	snprintf(cap, sizeof(cap), "%d", AUDIT_SUM_ADDRESSES);
	for (int i = 0; i < 3; i++) {
		snprintf(part, sizeof(part), "%lld:%s:%lld:%s", e->tenant_id, kind, now / 60, p[i]);
		if (kv_key(k[i], sizeof(k[i]), "auditsum", part) != 0)
			return -EIO;
	}
	const char *argv[] = {"EVAL", sum_lua, "3", k[0], k[1], k[2], cap, "120"};
	r = kv_cmdv(kv, 8, argv);
	if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
	    r->element[0]->type != REDIS_REPLY_INTEGER ||
	    r->element[1]->type != REDIS_REPLY_INTEGER) {
		freeReplyObject(r);
		return -EIO;
	}
	*n = r->element[0]->integer;
	over = r->element[1]->integer == 1;
	freeReplyObject(r);
	snprintf(key, len, "%s", k[over]);
	return over;
}

int
audit_write_summed(struct db *db, struct kv *kv, const struct audit_entry *e, const char *kind,
		   long long now)
{
	return audit_write_summed_ex(db, kv, e, NULL, kind, now);
}

int
audit_write_summed_ex(struct db *db, struct kv *kv, const struct audit_entry *in,
		      const struct audit_more *m, const char *kind, long long now)
{
	char key[200], sid[24], buf[8192];
	struct audit_entry copy;
	const struct audit_entry *e = rendered(in, m, &copy, buf, sizeof(buf));
	long long n = 0, id = 0;
	int rc, over;

	if ((over = count(kv, e, kind, now, key, sizeof(key), &n)) < 0 || n < 1)
		return insert_first(db, e, m, 0, NULL); /* no Redis: one entry each */
	if (n > 1) {
		/* the first of the minute may still be writing: it reads the count after */
		id = kv_hash(kv, "HGET", key, "id", NULL);
		return id > 0 ? recount(db, e->tenant_id, id, n) : 0;
	}
	if ((rc = insert_first(db, e, m, over, &id)) != 0)
		return rc;
	snprintf(sid, sizeof(sid), "%lld", id);
	kv_hash(kv, "HSET", key, "id", sid);
	/* those counted while the entry was being written, which found no id */
	n = kv_hash(kv, "HGET", key, "n", NULL);
	return n > 1 ? recount(db, e->tenant_id, id, n) : 0;
}

/*
 * A summarised entry's tail in lang, from its stored detail's " ほか (N回)" / " (N回)":
 * "ほか（N回）" / " and others (N times)"; "" when the detail has none.
 */
static void
summed_tail(const char *stored, int lang, char *buf, size_t len)
{
	const char *open = strrchr(stored, '(');
	char *end = NULL;
	long long n;
	size_t k;
	int others;

	buf[0] = '\0';
	if (open == NULL || open == stored || open[-1] != ' ')
		return;
	n = strtoll(open + 1, &end, 10);
	if (end == open + 1 || strcmp(end, "回)") != 0)
		return;
	k = (size_t)(open - stored) - 1;
	others = k >= strlen(" ほか") &&
		 strncmp(stored + k - strlen(" ほか"), " ほか", strlen(" ほか")) == 0;
	if (lang == I18N_EN)
		snprintf(buf, len, "%s (%lld time%s)", others ? " and others" : "", n,
			 n == 1 ? "" : "s");
	else
		snprintf(buf, len, "%s（%lld回）", others ? " ほか" : "", n);
}

/* Where a page's (or the CSV's) columns are, looked up once a result, not once a row. */
struct cols {
	int ip, action, detail, login_id, code, params, id, k;
};

static void
cols_of(const PGresult *res, struct cols *c)
{
	c->ip = PQfnumber(res, "ip");
	c->action = PQfnumber(res, "action");
	c->detail = PQfnumber(res, "detail");
	c->login_id = PQfnumber(res, "login_id");
	c->code = PQfnumber(res, "detail_code");
	c->params = PQfnumber(res, "detail_params");
	c->id = PQfnumber(res, "id");
	c->k = PQfnumber(res, "k");
}

/*
 * The detail of row i in lang: rendered from its code into buf, else the stored one (its fixed
 * words translated), which may be longer than buf.
 */
static const char *
detail_of(const PGresult *res, const struct cols *c, int i, int lang, char *buf, size_t len)
{
	const char *code = db_get_at(res, i, c->code), *stored = db_get_at(res, i, c->detail);
	const char *params[AUDIT_PARAMS_MAX], *pj = db_get_at(res, i, c->params);
	cJSON *doc = NULL, *p;
	char tail[96];
	int n = 0;

	if (code == NULL || *code == '\0' || pj == NULL)
		return audit_detail(stored, lang);
	/* most entries have no parameters: no parse then */
	if (strcmp(pj, "[]") != 0) {
		if ((doc = cJSON_Parse(pj)) == NULL)
			return audit_detail(stored, lang);
		cJSON_ArrayForEach(p, doc)
		{
			if (n < AUDIT_PARAMS_MAX && cJSON_IsString(p))
				params[n++] = p->valuestring;
		}
	}
	if (audit_render(code, params, n, lang, buf, len - sizeof(tail)) == 0) {
		summed_tail(stored, lang, tail, sizeof(tail));
		strncat(buf, tail, len - strlen(buf) - 1);
		cJSON_Delete(doc);
		return buf;
	}
	cJSON_Delete(doc);
	return audit_detail(stored, lang);
}

const char *
audit_export_detail(const PGresult *res, int r, int lang, char *buf, size_t len)
{
	struct cols c;

	cols_of(res, &c);
	return detail_of(res, &c, r, lang, buf, len);
}

/* v (0-99) as two digits at p */
static void
two_digits(char *p, int v)
{
	p[0] = (char)('0' + v / 10);
	p[1] = (char)('0' + v % 10);
}

/*
 * The time of key k (microseconds since the epoch, as text) in JST as the list shows it,
 * yyyy/mm/dd hh:mm:ss, the seconds cut (not rounded) as to_char does; "" when k is NULL or its
 * year has not four digits. JST is a fixed +09:00 for every time since 1952, when Japan last had
 * summer time. Written digit by digit: snprintf was a tenth of a page's CPU in shomei-auth.
 */
static const char *
at_jst(const char *k, char *buf, size_t len)
{
	long long us, s;
	struct tm tm;
	time_t t;
	int y;

	if (k == NULL || len < sizeof("yyyy/mm/dd hh:mm:ss"))
		return "";
	us = strtoll(k, NULL, 10);
	s = us / 1000000 - (us % 1000000 < 0);
	t = (time_t)(s + 9 * 3600);
	if (gmtime_r(&t, &tm) == NULL || (y = tm.tm_year + 1900) < 0 || y > 9999)
		return "";
	two_digits(buf, y / 100);
	two_digits(buf + 2, y % 100);
	buf[4] = '/';
	two_digits(buf + 5, tm.tm_mon + 1);
	buf[7] = '/';
	two_digits(buf + 8, tm.tm_mday);
	buf[10] = ' ';
	two_digits(buf + 11, tm.tm_hour);
	buf[13] = ':';
	two_digits(buf + 14, tm.tm_min);
	buf[16] = ':';
	two_digits(buf + 17, tm.tm_sec);
	buf[19] = '\0';
	return buf;
}

static cJSON *
page_items(const PGresult *res, const struct keyset *ks, int lang)
{
	cJSON *items = cJSON_CreateArray();
	int n = PQntuples(res), shown = keyset_rows(ks, n, AUDIT_PER_PAGE);
	char detail[8192], at[64];
	struct cols c;

	cols_of(res, &c);
	for (int j = 0; j < shown; j++) {
		int i = keyset_row(ks, n, AUDIT_PER_PAGE, j);
		cJSON *it = cJSON_CreateObject();
		const char *action = db_get_at(res, i, c.action);
		const char *label = audit_action_label(action, lang);
		json_add_int_text(it, "id", db_get_at(res, i, c.id));
		json_add_text(it, "at", at_jst(db_get_at(res, i, c.k), at, sizeof(at)));
		json_add_text(it, "ip", db_get_at(res, i, c.ip));
		json_add_text(it, "login_id", db_get_at(res, i, c.login_id));
		json_add_text(it, "action", action);
		json_add_text(it, "action_label", label ? label : action);
		json_add_text(it, "detail", detail_of(res, &c, i, lang, detail, sizeof(detail)));
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

/*
 * The filter's total: "N" exact or "~N" estimated, memoised while the newest entry stays. newest
 * is the tenant's newest entry's id when the caller has read it (a fixed page's column), else
 * -1 and it is read here.
 */
static int
list_total(struct db *db, const char *const *params, long long newest, long long *total, int *est)
{
	char key[MEMO_KEY_MAX + 1], *cached, val[32];
	PGresult *top = NULL;
	int rc;

	/* the filter, unambiguously: only q, the last field, is free text */
	snprintf(key, sizeof(key), "%s\x1f%s\x1f%s\x1f%s\x1f%s", params[0],
		 params[1] ? params[1] : "", params[2] ? params[2] : "", params[3] ? params[3] : "",
		 params[4] ? params[4] : "");
	if (newest < 0) {
		if ((rc = db_exec_generic(db, &st_top, params, &top)) != 0)
			return rc;
		newest = PQntuples(top) == 1 ? db_get_ll(top, 0, "id") : 0;
		PQclear(top);
	}
	if ((cached = memo_get(&totals, key, newest)) != NULL) {
		*est = cached[0] == '~';
		*total = strtoll(cached + *est, NULL, 10);
		free(cached);
		return 0;
	}
	if ((rc = keyset_count(db, &st_count, st_select, params, total, est)) != 0)
		return rc;
	snprintf(val, sizeof(val), "%s%lld", *est ? "~" : "", *total);
	memo_put(&totals, key, newest, val);
	return 0;
}

/*
 * The page of an unfiltered list, a whole page from no cursor or a cursor: the fixed statement
 * of its shape (st_fixed). 0 or what db_exec_generic returns.
 */
static int
fixed_page(struct db *db, const char *tenant, const struct keyset *ks, PGresult **res)
{
	int cursor = keyset_id_param(ks) != NULL;
	const char *p[] = {tenant, keyset_key_param(ks), keyset_id_param(ks)};

	return db_exec_generic(db, &st_fixed[cursor][keyset_reverse(ks)], p, res);
}

/* The newest entry's id a fixed page read with its rows, or -1 when it has none. */
static long long
page_newest(const PGresult *res)
{
	return PQntuples(res) > 0 ? db_get_ll(res, 0, "newest") : -1;
}

/* The tenant's generation of the history (migration 0030): every entry written or rewritten. */
static const struct db_changes history_changes = DB_CHANGES("audit", "audit_changes");
#define AUDIT_GEN_FOLD_AT 64

int
audit_list_gen(struct db *db, long long tenant_id, char *gen, size_t len)
{
	return db_changes_gen(db, &history_changes, tenant_id, AUDIT_GEN_FOLD_AT, gen, len);
}

int
audit_list(struct db *db, long long tenant_id, const struct audit_filter *f, int lang, cJSON **out)
{
	char tenant[24], whole[24];
	struct keyset ks = *f->ks;
	PGresult *res = NULL;
	long long total;
	cJSON *doc = NULL;
	int rc, est;

	snprintf(tenant, sizeof(tenant), "%lld", tenant_id);
	snprintf(whole, sizeof(whole), "%d", AUDIT_PER_PAGE + 1);
	const char *params[] = {tenant,
				f->from,
				f->to,
				f->action,
				f->q,
				keyset_key_param(&ks),
				keyset_id_param(&ks),
				ks.offset,
				ks.limit};
	/* no filter and no ?page=N jump: the fixed statements (st_fixed) when the page is whole */
	int fixed = !f->from && !f->to && !f->action && !f->q && strcmp(ks.offset, "0") == 0;

	if (fixed && ks.dir != KEYSET_LAST) {
		/* the first page, or from a cursor: whole whatever the total, read before it */
		if ((rc = fixed_page(db, tenant, &ks, &res)) != 0 ||
		    (rc = list_total(db, params, page_newest(res), &total, &est)) != 0)
			goto fail;
		keyset_limit(&ks, total, est, AUDIT_PER_PAGE);
	} else {
		if ((rc = list_total(db, params, -1, &total, &est)) != 0)
			goto fail;
		keyset_limit(&ks, total, est, AUDIT_PER_PAGE);
		params[7] = ks.offset;
		params[8] = ks.limit;
		if (fixed && strcmp(ks.limit, whole) == 0)
			rc = fixed_page(db, tenant, &ks, &res);
		else
			rc = db_exec(db, keyset_reverse(&ks) ? &st_page_rev : &st_page, params,
				     &res);
		if (rc != 0)
			goto fail;
	}
	if ((doc = cJSON_CreateObject()) == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	keyset_total(doc, total, est);
	keyset_answer(&ks, res, AUDIT_PER_PAGE, doc);
	cJSON_AddItemToObject(doc, "items", page_items(res, &ks, lang));
	*out = doc;
	doc = NULL;
	rc = 0;
	goto out;
fail:
	rc = rc < 0 ? rc : -EIO;
out:
	PQclear(res);
	cJSON_Delete(doc);
	return rc;
}

int
audit_export_open(struct db *db, long long tenant_id, const struct audit_filter *f)
{
	char tenant[24];
	PGresult *res = NULL;
	int rc;

	snprintf(tenant, sizeof(tenant), "%lld", tenant_id);
	const char *params[] = {tenant, f->from, f->to, f->action, f->q};
	rc = db_exec_sql(db, st_export_open, 5, params, &res);
	PQclear(res);
	return rc;
}

int
audit_export_fetch(struct db *db, PGresult **res)
{
	return db_exec_sql(db, st_export_fetch, 0, NULL, res);
}
