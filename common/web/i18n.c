/* i18n.c: Japanese and English texts of the API: messages and operation-history labels. */
#include <string.h>
#include <strings.h>

#include "web/i18n.h"

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
	[MSG_NOT_AVAILABLE] = {"この証明書はダウンロードできません。",
			       "This certificate cannot be downloaded."},
	[MSG_NOT_IOS] = {"構成プロファイル (mobileconfig) は iOS (iPhone/iPad) の証明書にのみ作成できます。",
			 "A configuration profile (mobileconfig) is made only for iOS (iPhone/iPad) certificates."},
	[MSG_NOT_BOOL] = {"true または false で指定してください。", "Must be true or false."},
	[MSG_ALLOWLIST_FORMAT] = {"IPアドレスまたはネットワークアドレス (例: 192.168.1.0/24、2001:db8::/32) "
				  "の形式で入力してください。",
				  "Enter an IP address or a network (e.g. 192.168.1.0/24, 2001:db8::/32)."},
	[MSG_ALLOWLIST_PREFIX] = {"プレフィックス長は IPv4 では 0〜32、IPv6 では 0〜128 で指定してください。",
				  "The prefix length must be 0-32 for IPv4 and 0-128 for IPv6."},
	[MSG_ALLOWLIST_HOSTBITS] = {"ネットワークアドレスのホスト部が 0 ではありません (例: 192.168.1.5/24 "
				    "ではなく 192.168.1.0/24 と入力してください)。",
				    "The network has host bits set (write 192.168.1.0/24, not "
				    "192.168.1.5/24)."},
	[MSG_ALLOWLIST_TWICE] = {"同じ IP アドレスが複数回指定されています。",
				 "The same address is listed more than once."},
	[MSG_ALLOWLIST_COUNT] = {"許可 IP アドレスは100件以内で指定してください。",
				 "Give at most 100 allowed addresses."},
	[MSG_ALLOWLIST_ANY] = {"すべての IP アドレスからのアクセスを許可する設定です。推奨しません。",
			       "This allows access from every IP address; it is not recommended."},
	[MSG_NO_NOTIFY_USERS] = {"この利用法人はメール通知のサービスを利用していません。",
				 "This tenant does not have the mail notification service."},
	[MSG_IP_REFUSED] = {"このIPアドレスからはアクセスできません。管理者にお問い合わせください。",
			    "Access from this IP address is not allowed. Please ask your administrator."},
	[MSG_DL_RESTRICTED] = {"この証明書にはインストール制限が設定されているため、ブラウザからはダウンロードできません。"
			       "インストールする端末で shomei-enroll を実行してください。",
			       "This certificate has an install restriction and cannot be downloaded "
			       "in a browser. Run shomei-enroll on the device that installs it."},
	[MSG_RESTRICTION_FAILED] = {"この端末はインストール制限の条件と一致しないため、証明書をインストールできません。",
				    "This device does not meet the certificate's install restriction."},
	[MSG_UNAVAILABLE] = {"ただいまサービスを利用できません。しばらくしてから再度お試しください。",
			     "The service is unavailable. Please try again shortly."},
	[MSG_NAME] = {"50文字以内で入力してください (制御文字、前後の空白は使えません)。",
		      "Use up to 50 characters, without control characters or outer spaces."},
	[MSG_KANA] = {"フリガナは全角カタカナ50文字以内で入力してください。",
		      "Use up to 50 full-width katakana for the reading."},
	[MSG_NAME_EN] = {"英語表記は半角英字で50文字以内で入力してください (記号は空白 . ' - のみ)。",
			 "Use up to 50 ASCII letters for the English name (symbols: space . ' - only)."},
	[MSG_CN_TOO_LONG] = {"英語表記の姓と名は合わせて63文字以内で入力してください (証明書の CN の上限)。",
			     "The English family and given names together must not exceed 63 "
			     "characters (the certificate's CN limit)."},
	[MSG_EMAIL] = {"メールアドレスは128文字以内で入力してください。使用できる記号は半角のドット\".\"、"
		       "アンダーバー\"_\"、ハイフン\"-\"のみです。",
		       "Enter an e-mail address of up to 128 characters; the only symbols allowed "
		       "are . _ and -."},
	[MSG_NOT_LIST] = {"配列で指定してください。", "Must be an array."},
	[MSG_NOT_OBJECT] = {"オブジェクトで指定してください。", "Must be an object."},
	[MSG_DEVICES_COUNT] = {"利用デバイスを1つ以上5つ以下で選択してください。",
			       "Choose from one to five devices."},
	[MSG_DEVICE_CODE] = {"利用デバイスは 01 (WindowsPC)、11 (iOS(iPhone))、12 (iOS(iPad))、20 "
			     "(Android)、99 (その他) のいずれかを指定してください。",
			     "The device must be 01 (Windows PC), 11 (iPhone), 12 (iPad), 20 "
			     "(Android) or 99 (other)."},
	[MSG_DEVICE_TWICE] = {"同じ利用デバイスは1回だけ選択できます。",
			      "Each device can be chosen only once."},
	[MSG_DATETIME_FORMAT] = {"証明書有効期限は yyyy/mm/dd または yyyy/mm/dd hh:mm 形式で入力してください。",
				 "Enter the validity as yyyy/mm/dd or yyyy/mm/dd hh:mm."},
	[MSG_VALIDITY_ORDER] = {"証明書有効期限(From)は証明書有効期限(To)より前の日時を入力してください。",
				"The validity start must be before its end."},
	[MSG_VALIDITY_PAST] = {"証明書有効期限(To)は現在より後の日時を入力してください。",
			       "The validity end must be in the future."},
	[MSG_VALIDITY_SPAN] = {"証明書の有効期間が上限を超えています。上限 (日数):",
			       "The validity period is longer than allowed. Maximum (days):"},
	[MSG_VALIDITY_CA] = {"証明書有効期限が認証局の有効期限を超えています。",
			     "The validity ends after the certificate authority's own validity."},
	[MSG_NO_VALIDITY_PERIOD] = {"この利用法人は期間指定のサービスを利用していません。",
				    "This tenant does not have the validity period service."},
	[MSG_NO_ORG_UNITS] = {"この利用法人は O、OU 指定のサービスを利用していません。",
			      "This tenant does not have the O / OU service."},
	[MSG_NO_INSTALL_RESTRICTION] = {"この利用法人はインストール制限のサービスを利用していません。",
					"This tenant does not have the install restriction service."},
	[MSG_ORG_UNIT] = {"半角英数字・記号で64文字以内で入力してください。",
			  "Use up to 64 printable ASCII characters."},
	[MSG_RESTRICTION_DEVICE] = {"インストール制限機能は WindowsPC のみご利用いただけます。",
				    "Install restriction is available for Windows PC only."},
	[MSG_RESTRICTION_MODE] = {"利用デバイス制限は none (制限なし)、or (どれかの条件と一致)、and "
				  "(すべての条件と一致) のいずれかを指定してください。",
				  "The restriction mode must be none, or or and."},
	[MSG_RESTRICTION_EMPTY] = {"どれかの条件と一致 (OR)、すべての条件と一致 (AND) の場合は制限項目を1つ以上入力してください。",
				   "Enter at least one restriction item for the OR and AND modes."},
	[MSG_MAC] = {"MAC アドレスは、ハイフン\"-\"、コロン\":\"を省略した 12 桁の 16 進数 (0~F) で入力してください。",
		     "Enter the MAC address as 12 hexadecimal digits without - or :."},
	[MSG_RESTRICTION_ITEM] = {"制限項目は64文字以内で入力してください (制御文字、前後の空白は使えません)。",
				  "Use up to 64 characters, without control characters or outer spaces."},
	[MSG_QUOTA] = {"追加発行可能数を超えています。追加発行可能数:",
		       "More certificates than the quota allows. Available:"},
	[MSG_ISSUE_NOT_ALLOWED] = {"この利用法人では、管理者によるクライアント証明書の新規発行が許可されていません。",
				   "This tenant's administrators may not issue new client certificates."},
	[MSG_USER_DELETED] = {"削除された利用者は変更できません。", "A deleted user cannot be changed."},
	[MSG_STATUS_LIST] = {"証明書ステータスは issuing, issued, downloaded, revoke_scheduled, revoked, failed "
			     "をカンマ区切りで指定してください。",
			     "Give the statuses as a comma list of issuing, issued, downloaded, "
			     "revoke_scheduled, revoked, failed."},
	[MSG_DEVICE_LIST] = {"デバイス種別は 01, 11, 12, 20, 99 をカンマ区切りで指定してください。",
			     "Give the devices as a comma list of 01, 11, 12, 20, 99."},
	[MSG_SORT] = {"並び順は applied_at, family_name_kana, email, issued_at, expires_at "
		      "(降順は先頭に -) のいずれかを指定してください。",
		      "Sort by applied_at, family_name_kana, email, issued_at or expires_at "
		      "(prefix - for descending)."},
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
