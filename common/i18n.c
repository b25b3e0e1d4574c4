/* i18n.c: Japanese and English texts of the API: messages and operation-history labels. */
#include <string.h>
#include <strings.h>

#include "i18n.h"

static const char *const msgs[MSG__MAX][I18N__MAX] = {
	[MSG_REQUIRED] = {"入力してください。", "This field is required."},
	[MSG_LOGIN_ID_FORMAT] = {"ログインIDは64文字以内の半角英数字と . _ @ - で入力してください。",
				 "Use up to 64 letters, digits and . _ @ - for the login ID."},
	[MSG_PASSWORD_RULE] = {"パスワードは、8文字以上16文字以内の半角英数字を入力してください。",
			       "The password must be 8 to 16 half-width letters and digits."},
	[MSG_PASSWORD_CONFIRM] = {"新しいパスワードと新しいパスワード (確認用) が一致しません。",
				  "The new password and its confirmation differ."},
	[MSG_PASSWORD_CURRENT] = {"現在のパスワードが正しくありません。",
				  "The current password is not correct."},
	[MSG_PASSWORD_SAME] = {"新しいパスワードは現在のパスワードと異なるものにしてください。",
			       "The new password must differ from the current one."},
	[MSG_DATE_FORMAT] = {"日付は yyyy/mm/dd 形式で入力してください。",
			     "Enter the date as yyyy/mm/dd."},
	[MSG_DATE_RANGE] = {"開始日は終了日以前の日付を入力してください。",
			    "The start date must not be after the end date."},
	[MSG_PAGE] = {"ページは1以上の数字で指定してください。",
		      "The page must be a whole number from 1."},
	[MSG_ACTION] = {"操作内容の指定が正しくありません。", "Unknown action."},
	[MSG_TEXT_TOO_LONG] = {"入力が長すぎます。", "The text is too long."},
	[MSG_NOT_STRING] = {"文字列で指定してください。", "Must be a string."},
	[MSG_INVALID_CREDENTIALS] = {"ログインIDまたはパスワードが正しくありません。",
				     "The login ID or password is not correct."},
	[MSG_LOCKED_OUT] = {"ログインの失敗が続いたため、しばらくログインできません。時間をおいて再度お試しください。",
			    "Too many failed logins. Please try again later."},
	[MSG_NO_CERTIFICATE] = {"有効な管理者用証明書が提示されていません。",
				"No valid administrator certificate was presented."},
	[MSG_CSRF] = {"不正なリクエストです。画面を再読み込みしてください。",
		      "Invalid request token. Please reload the page."},
	[MSG_ORIGIN] = {"他のサイトからのリクエストは受け付けられません。",
			"Requests from other sites are refused."},
	[MSG_UNAUTHORIZED] = {"ログインしてください。", "Please log in."},
	[MSG_NOT_FOUND] = {"見つかりません。", "Not found."},
	[MSG_METHOD] = {"この操作は許可されていません。", "Method not allowed."},
	[MSG_TOO_LARGE] = {"リクエストが大きすぎます。", "The request is too large."},
	[MSG_BAD_JSON] = {"リクエストの形式が正しくありません (JSON)。",
			  "The request body is not valid JSON."},
	[MSG_VALIDATION] = {"入力内容に誤りがあります。", "Some fields are not valid."},
	[MSG_INTERNAL] = {"内部エラーが発生しました。", "An internal error occurred."},
	[MSG_UNAVAILABLE] = {"ただいまサービスを利用できません。しばらくしてから再度お試しください。",
			     "The service is unavailable. Please try again shortly."},
};

struct action {
	const char *code;
	const char *label[I18N__MAX];
};

/* The operation-history actions (DESIGN.md "Domain words"). */
static const struct action actions[] = {
	{"login", {"ログイン", "Login"}},
	{"logout", {"ログアウト", "Logout"}},
	{"certificate_issue", {"証明書追加発行", "Certificate issue"}},
	{"certificate_revoke", {"証明書失効", "Certificate revoke"}},
	{"certificate_reissue", {"証明書再発行", "Certificate reissue"}},
	{"certificate_download", {"証明書ダウンロード", "Certificate download"}},
	{"password_csv", {"パスワードCSV", "Password CSV"}},
	{"ip_restriction", {"IPアドレス制限設定", "IP address restriction"}},
	{"password_change", {"パスワード変更", "Password change"}},
	{"user_register", {"利用者登録", "User registration"}},
	{"user_import", {"CSV一括登録", "CSV bulk registration"}},
	{"user_delete", {"利用者削除", "User deletion"}},
	{"settings", {"設定変更", "Settings change"}},
};

static const char *const details[][I18N__MAX] = {
	{"ログイン成功", "Login succeeded"},
	{"ログイン失敗", "Login failed"},
	{"ログイン失敗 (ロック中)", "Login failed (locked out)"},
	{"証明書ログイン成功", "Certificate login succeeded"},
	{"証明書ログイン失敗", "Certificate login failed"},
	{"ログアウト", "Logged out"},
	{"パスワード変更", "Password changed"},
};

enum i18n_lang
i18n_lang(const char *al)
{
	const char *p = al;

	/* The first language tag that is ja or en decides. */
	while (p != NULL && *p) {
		while (*p == ' ' || *p == ',')
			p++;
		if (strncasecmp(p, "en", 2) == 0 && (p[2] == '\0' || strchr("-;, ", p[2])))
			return I18N_EN;
		if (strncasecmp(p, "ja", 2) == 0 && (p[2] == '\0' || strchr("-;, ", p[2])))
			return I18N_JA;
		p = strchr(p, ',');
	}
	return I18N_JA;
}

const char *
i18n_msg(enum msg m, int lang)
{
	if ((int)m < 0 || m >= MSG__MAX || lang < 0 || lang >= I18N__MAX)
		return "";
	return msgs[m][lang];
}

const char *
i18n_action_label(const char *action, int lang)
{
	for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++)
		if (strcmp(actions[i].code, action) == 0)
			return actions[i].label[lang == I18N_EN ? I18N_EN : I18N_JA];
	return NULL;
}

const char *
i18n_action_code(int i)
{
	if (i < 0 || (size_t)i >= sizeof(actions) / sizeof(actions[0]))
		return NULL;
	return actions[i].code;
}

const char *
i18n_detail(const char *detail, int lang)
{
	if (lang != I18N_EN)
		return detail;
	for (size_t i = 0; i < sizeof(details) / sizeof(details[0]); i++)
		if (strcmp(details[i][I18N_JA], detail) == 0)
			return details[i][I18N_EN];
	return detail;
}
