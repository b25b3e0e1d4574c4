/* msgs.c: the messages only shomei-download gives (Japanese, English). */
#include "extern.h"

const struct i18n_text msg_csrf = {{"不正なリクエストです。画面を再読み込みしてください。",
				    "Invalid request token. Please reload the page."}};
const struct i18n_text msg_not_available = {
	{"この証明書はダウンロードできません。", "This certificate cannot be downloaded."}};
const struct i18n_text msg_not_ios = {
	{"構成プロファイル（mobileconfig）は iOS（iPhone/iPad）の証明書にのみ作成できます。",
	 "A configuration profile (mobileconfig) is made only for iOS (iPhone/iPad) certificates."}};
const struct i18n_text msg_ip_refused = {
	{"このIPアドレスからはアクセスできません。管理者にお問い合わせください。",
	 "Access from this IP address is not allowed. Please ask your administrator."}};
const struct i18n_text msg_dl_restricted = {
	{"この証明書にはインストール制限が設定されているため、ブラウザからはダウンロードできません。"
	 "インストールする端末で shomei-enroll を実行してください。",
	 "This certificate has an install restriction and cannot be downloaded "
	 "in a browser. Run shomei-enroll on the device that installs it."}};
const struct i18n_text msg_restriction_failed = {
	{"この端末はインストール制限の条件と一致しないため、証明書をインストールできません。",
	 "This device does not meet the certificate's install restriction."}};
const struct i18n_text msg_admin_restricted = {
	{"この証明書にはインストール制限が設定されているため、管理者はダウンロードできません"
	 "（管理者一括ダウンロードをご利用の場合は、インストール制限機能はご利用いただけません）。"
	 "利用者がインストールする端末で shomei-enroll を実行してください。パスワード（PIN）は"
	 "ダウンロードできます。",
	 "This certificate has an install restriction, so an administrator cannot download it "
	 "(the install restriction cannot be used with the administrator's bulk download). The user "
	 "runs shomei-enroll on the device that installs it; its password (PIN) can be downloaded."}};
const struct i18n_text msg_bad_ids = {
	{"ids には証明書の ID をカンマ区切りで 1〜1000 件指定してください。",
	 "ids takes 1 to 1000 certificate ids separated by commas."}};
