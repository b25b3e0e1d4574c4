/* i18n.c: the language a request prefers, and the messages the web layer and several services
 * share. */
#include <string.h>
#include <strings.h>

#include "web/i18n.h"

/* The messages of the web layer and of more than one service; a service's own are in its msgs.c. */
const struct i18n_text msg_required = {{"入力してください。", "This field is required."}};
const struct i18n_text msg_login_id_format = {
	{"ログインIDは64文字以内の半角英数字と . _ @ - で入力してください。",
	 "Use up to 64 letters, digits and . _ @ - for the login ID."}};
const struct i18n_text msg_password_rule = {
	{"パスワードは、8文字以上16文字以内の半角英数字を入力してください。",
	 "The password must be 8 to 16 half-width letters and digits."}};
const struct i18n_text msg_date_format = {
	{"日付は yyyy/mm/dd 形式で入力してください。", "Enter the date as yyyy/mm/dd."}};
const struct i18n_text msg_date_range = {{"開始日は終了日以前の日付を入力してください。",
					  "The start date must not be after the end date."}};
const struct i18n_text msg_flag = {{"0 または 1 を指定してください。", "Give 0 or 1."}};
const struct i18n_text msg_page = {
	{"ページは1以上の数字で指定してください。", "The page must be a whole number from 1."}};
const struct i18n_text msg_cursor = {
	{"ページの位置(after/before)が正しくありません。一覧の前へ・次へから開き直してください。",
	 "The page position (after/before) is not valid. Open the page again from the list's "
	 "Previous or Next."}};
const struct i18n_text msg_cursor_one = {{"after、before、lastは一つだけ指定してください。",
					  "Give only one of after, before and last."}};
const struct i18n_text msg_text_too_long = {{"入力が長すぎます。", "The text is too long."}};
const struct i18n_text msg_not_string = {{"文字列で指定してください。", "Must be a string."}};
const struct i18n_text msg_encoding = {
	{"文字の符号化が正しくありません。", "The value is not correctly encoded UTF-8."}};
const struct i18n_text msg_invalid_credentials = {{"ログインIDまたはパスワードが正しくありません。",
						   "The login ID or password is not correct."}};
const struct i18n_text msg_locked_out = {
	{"ログインの失敗が続いたため、しばらくログインできません。時間をおいて再度お試しください。",
	 "Too many failed logins. Please try again later."}};
const struct i18n_text msg_origin = {{"他のサイトからのリクエストは受け付けられません。",
				      "Requests from other sites are refused."}};
const struct i18n_text msg_unauthorized = {{"ログインしてください。", "Please log in."}};
const struct i18n_text msg_not_found = {{"見つかりません。", "Not found."}};
const struct i18n_text msg_method = {{"この操作は許可されていません。", "Method not allowed."}};
const struct i18n_text msg_too_large = {
	{"リクエストが大きすぎます。", "The request is too large."}};
const struct i18n_text msg_bad_json = {
	{"リクエストの形式が正しくありません (JSON)。", "The request body is not valid JSON."}};
const struct i18n_text msg_validation = {
	{"入力内容に誤りがあります。", "Some fields are not valid."}};
const struct i18n_text msg_internal = {
	{"内部エラーが発生しました。", "An internal error occurred."}};
const struct i18n_text msg_unavailable = {
	{"ただいまサービスを利用できません。しばらくしてから再度お試しください。",
	 "The service is unavailable. Please try again shortly."}};
const struct i18n_text msg_not_list = {{"配列で指定してください。", "Must be an array."}};
const struct i18n_text msg_mac = {
	{"MAC アドレスは、ハイフン\"-\"、コロン\":\"を省略した 12 桁の 16 進数 (0~F) で入力してください。",
	 "Enter the MAC address as 12 hexadecimal digits without - or :."}};
const struct i18n_text msg_restriction_item = {
	{"制限項目は64文字以内で入力してください (制御文字、前後の空白は使えません)。",
	 "Use up to 64 characters, without control characters or outer spaces."}};

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
i18n_msg(const struct i18n_text *m, int lang)
{
	if (m == NULL || lang < 0 || lang >= I18N__MAX)
		return "";
	return m->text[lang];
}
