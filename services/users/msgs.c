/* msgs.c: the messages only shomei-users gives (Japanese, English). */
#include "extern.h"

const struct i18n_text msg_not_bool = {
	{"true または false で指定してください。", "Must be true or false."}};
const struct i18n_text msg_user_lang = {{"ja（日本語）または en（英語）を指定してください。",
					 "Must be ja (Japanese) or en (English)."}};
const struct i18n_text msg_bad_user_ids = {
	{"ids には利用者の ID をカンマ区切りで 1〜1000 件指定してください。",
	 "ids takes 1 to 1000 user ids separated by commas."}};
const struct i18n_text msg_allowlist_format = {
	{"IPアドレスまたはネットワークアドレス（例: 192.168.1.0/24、2001:db8::/32）"
	 "の形式で入力してください。",
	 "Enter an IP address or a network (e.g. 192.168.1.0/24, 2001:db8::/32)."}};
const struct i18n_text msg_allowlist_prefix = {
	{"プレフィックス長は IPv4 では 0〜32、IPv6 では 0〜128 で指定してください。",
	 "The prefix length must be 0-32 for IPv4 and 0-128 for IPv6."}};
const struct i18n_text msg_allowlist_hostbits = {
	{"ネットワークアドレスのホスト部が 0 ではありません（例: 192.168.1.5/24 "
	 "ではなく 192.168.1.0/24 と入力してください）。",
	 "The network has host bits set (write 192.168.1.0/24, not "
	 "192.168.1.5/24)."}};
const struct i18n_text msg_allowlist_twice = {{"同じ IP アドレスが複数回指定されています。",
					       "The same address is listed more than once."}};
const struct i18n_text msg_allowlist_count = {
	{"許可 IP アドレスは100件以内で指定してください。", "Give at most 100 allowed addresses."}};
const struct i18n_text msg_allowlist_any = {
	{"すべての IP アドレスからのアクセスを許可する設定です。推奨しません。",
	 "This allows access from every IP address; it is not recommended."}};
const struct i18n_text msg_no_notify_users = {
	{"この利用法人はメール通知のサービスを利用していません。",
	 "This tenant does not have the mail notification service."}};
const struct i18n_text msg_name = {
	{"50文字以内で入力してください（制御文字、前後の空白は使えません）。",
	 "Use up to 50 characters, without control characters or outer spaces."}};
const struct i18n_text msg_kana = {{"フリガナは全角カタカナ50文字以内で入力してください。",
				    "Use up to 50 full-width katakana for the reading."}};
const struct i18n_text msg_name_en = {
	{"英語表記は半角英字で50文字以内で入力してください（記号は空白 . ' - のみ）。",
	 "Use up to 50 ASCII letters for the English name (symbols: space . ' - only)."}};
const struct i18n_text msg_cn_too_long = {
	{"英語表記の姓と名は合わせて63文字以内で入力してください（証明書の CN の上限）。",
	 "The English family and given names together must not exceed 63 "
	 "characters (the certificate's CN limit)."}};
const struct i18n_text msg_email = {
	{"メールアドレスは128文字以内で入力してください。使用できる記号は半角のドット\".\"、"
	 "アンダーバー\"_\"、ハイフン\"-\"のみです。",
	 "Enter an e-mail address of up to 128 characters; the only symbols allowed "
	 "are . _ and -."}};
const struct i18n_text msg_not_object = {
	{"オブジェクトで指定してください。", "Must be an object."}};
const struct i18n_text msg_devices_count = {
	{"利用デバイスを1つ以上5つ以下で選択してください。", "Choose from one to five devices."}};
const struct i18n_text msg_device_code = {
	{"利用デバイスは 01（WindowsPC）、11（iOS(iPhone)）、12（iOS(iPad)）、20"
	 "（Android）、99（その他）のいずれかを指定してください。",
	 "The device must be 01 (Windows PC), 11 (iPhone), 12 (iPad), 20 "
	 "(Android) or 99 (other)."}};
const struct i18n_text msg_device_twice = {
	{"同じ利用デバイスは1回だけ選択できます。", "Each device can be chosen only once."}};
const struct i18n_text msg_device_pair_taken = {
	{"このメールアドレスと利用デバイスの組み合わせはすでに登録されています。",
	 "A device with this e-mail address and device type is already registered."}};
const struct i18n_text msg_datetime_format = {
	{"証明書有効期限は yyyy/mm/dd または yyyy/mm/dd hh:mm 形式で入力してください。",
	 "Enter the validity as yyyy/mm/dd or yyyy/mm/dd hh:mm."}};
const struct i18n_text msg_validity_order = {
	{"証明書有効期限(From)は証明書有効期限(To)より前の日時を入力してください。",
	 "The validity start must be before its end."}};
const struct i18n_text msg_validity_past = {
	{"証明書有効期限(To)は現在より後の日時を入力してください。",
	 "The validity end must be in the future."}};
const struct i18n_text msg_validity_span = {
	{"証明書の有効期間が上限を超えています。上限（日数）:",
	 "The validity period is longer than allowed. Maximum (days):"}};
const struct i18n_text msg_validity_start = {
	{"証明書有効期限(From)が先すぎます。現在から指定できる日数:",
	 "The validity starts too far ahead. Days ahead allowed:"}};
const struct i18n_text msg_validity_ca = {
	{"証明書有効期限が認証局の有効期限を超えています。",
	 "The validity ends after the certificate authority's own validity."}};
const struct i18n_text msg_no_validity_period = {
	{"この利用法人は期間指定のサービスを利用していません。",
	 "This tenant does not have the validity period service."}};
const struct i18n_text msg_no_org_units = {
	{"この利用法人は O、OU 指定のサービスを利用していません。",
	 "This tenant does not have the O / OU service."}};
const struct i18n_text msg_no_install_restriction = {
	{"この利用法人はインストール制限のサービスを利用していません。",
	 "This tenant does not have the install restriction service."}};
const struct i18n_text msg_org_unit = {{"半角英数字・記号で64文字以内で入力してください。",
					"Use up to 64 printable ASCII characters."}};
const struct i18n_text msg_restriction_device = {
	{"インストール制限機能は WindowsPC のみご利用いただけます。",
	 "Install restriction is available for Windows PC only."}};
const struct i18n_text msg_restriction_mode = {
	{"利用デバイス制限は none（制限なし）、or（どれかの条件と一致）、and"
	 "（すべての条件と一致）のいずれかを指定してください。",
	 "The restriction mode must be none, or or and."}};
const struct i18n_text msg_restriction_empty = {
	{"どれかの条件と一致（OR）、すべての条件と一致（AND）の場合は制限項目を1つ以上入力してください。",
	 "Enter at least one restriction item for the OR and AND modes."}};
const struct i18n_text msg_quota = {{"追加発行可能数を超えています。追加発行可能数:",
				     "More certificates than the quota allows. Available:"}};
const struct i18n_text msg_issue_not_allowed = {
	{"この利用法人では、管理者によるクライアント証明書の新規発行が許可されていません。",
	 "This tenant's administrators may not issue new client certificates."}};
const struct i18n_text msg_user_deleted = {
	{"削除された利用者は変更できません。", "A deleted user cannot be changed."}};
const struct i18n_text msg_status_list = {
	{"証明書ステータスは issuing, issued, downloaded, revoke_scheduled, revoked, failed "
	 "をカンマ区切りで指定してください。",
	 "Give the statuses as a comma list of issuing, issued, downloaded, "
	 "revoke_scheduled, revoked, failed."}};
const struct i18n_text msg_device_list = {
	{"デバイス種別は 01, 11, 12, 20, 99 をカンマ区切りで指定してください。",
	 "Give the devices as a comma list of 01, 11, 12, 20, 99."}};
const struct i18n_text msg_sort = {
	{"並び順は applied_at, family_name_kana, email, issued_at, expires_at "
	 "（降順は先頭に -）のいずれかを指定してください。",
	 "Sort by applied_at, family_name_kana, email, issued_at or expires_at "
	 "(prefix - for descending)."}};

/* CSV一括登録 (import.c): each message is about one line and column, which the answer names. */
const struct i18n_text msg_csv_mode = {
	{"インストール端末制限は 0（制限なし）、1（OR 一致）、2（AND 一致）のいずれかを入力してください。",
	 "The install restriction is 0 (none), 1 (any item matches) or 2 (all items match)."}};
const struct i18n_text msg_csv_same_user = {
	{"同じ代表メールアドレスの行で利用者の氏名が異なります。最初の行:",
	 "Lines with the same main e-mail address give different names. First line:"}};
const struct i18n_text msg_csv_service_id = {
	{"サービス連携用IDは制御文字を含まない128文字以内で入力してください。",
	 "The service ID is at most 128 characters without control characters."}};
const struct i18n_text msg_csv_upn = {
	{"プリンシパル名はユーザー・プリンシパル名（例: taro@example.local）で入力してください。",
	 "The principal name is a user principal name such as taro@example.local."}};
const struct i18n_text msg_csv_columns = {
	{"項目数が %d です。この契約の CSV は %d～%d 項目です。",
	 "The line has %d columns; this contract's CSV has %d to %d."}};
const struct i18n_text msg_csv_layout = {
	{"デバイスコードが %d 項目目にあります。この契約の CSV ではデバイスコードは %d 項目目です"
	 "（O、OU 指定の有無で様式が異なります）。",
	 "The device code is in column %d; this contract's CSV has it in column %d (the layouts "
	 "with and without O/OU differ)."}};
const struct i18n_text msg_csv_duplicate = {
	{"同じ利用デバイス用メールアドレスとデバイスコードの行がすでにあります。行:",
	 "The same device e-mail address and device code are already on line"}};
const struct i18n_text msg_csv_quote = {
	{"ダブルクォート（\"）で始まる項目が閉じられていません。",
	 "A field that starts with a double quote (\") is never closed."}};
const struct i18n_text msg_csv_empty = {
	{"CSV ファイルに利用者の行がありません。", "The CSV file has no user lines."}};
const struct i18n_text msg_csv_admin_restriction = {
	{"管理者一括ダウンロードをご利用の場合は、インストール制限機能はご利用いただけません。",
	 "Certificates for the administrator's bulk download cannot have an install restriction."}};
const struct i18n_text msg_csv_no_file = {
	{"CSV ファイルを選択してください（フォームの項目名 file）。",
	 "Choose a CSV file (form field \"file\")."}};
const struct i18n_text msg_csv_encoding = {
	{"文字コードを判別できません。UTF-8 または Shift_JIS（CP932）で保存してください。",
	 "The file is neither UTF-8 nor Shift_JIS (CP932). Save it in one of them."}};
const struct i18n_text msg_job_not_found = {{"指定された処理は見つかりません。", "No such job."}};

/* 1次削除 / 2次削除 (delete.c) */
const struct i18n_text msg_user_already_deleted = {
	{"この利用者はすでに1次削除されています。", "This user is already deleted (first step)."}};
const struct i18n_text msg_user_not_deleted = {
	{"この利用者は削除されていません。", "This user is not deleted."}};
const struct i18n_text msg_user_delete_first = {
	{"マスター削除（2次削除）は、1次削除した利用者にのみ行えます。",
	 "Only a user deleted in the first step can be deleted for good."}};
const struct i18n_text msg_user_live_certificates = {
	{"有効な証明書（発行中・失効予定を含む）が残っています。証明書を失効してから削除してください。",
	 "The user still has valid certificates (or ones being issued or scheduled for "
	 "revocation). Revoke them first."}};
const struct i18n_text msg_user_certs_issuing = {
	{"発行中の証明書があります。発行が終わってから削除してください。",
	 "A certificate of the user is still being issued. Delete the user once it is issued."}};
const struct i18n_text msg_revocation_unavailable = {
	{"証明書を失効できないため、利用者を削除していません。しばらくしてからやり直してください。",
	 "The certificates could not be revoked, so the user was not deleted. Try again later."}};

/* CSV一括利用者マスター削除 (purge.c) */
const struct i18n_text msg_purge_line = {
	{"1 行には代表メールアドレスを 1 項目だけ入力してください。",
	 "A line is one main e-mail address, nothing else."}};
const struct i18n_text msg_purge_unknown = {
	{"この代表メールアドレスの利用者がいません。", "No user has this main e-mail address."}};
const struct i18n_text msg_purge_purged = {
	{"この代表メールアドレスの利用者はマスター削除済みです。",
	 "The user with this main e-mail address is already deleted for good."}};
const struct i18n_text msg_purge_several = {
	{"この代表メールアドレスの利用者が複数います。利用者画面から削除してください。",
	 "Several users have this main e-mail address. Delete them from the user screen."}};
const struct i18n_text msg_purge_twice = {
	{"同じ利用者が %d 行目にもあります。", "The same user is on line %d too."}};
const struct i18n_text msg_purge_issuing = {
	{"この利用者には発行中の証明書があります。発行が終わってから削除してください。",
	 "A certificate of this user is still being issued. Delete the user once it is issued."}};
const struct i18n_text msg_purge_empty = {
	{"CSV ファイルに代表メールアドレスの行がありません。", "The CSV file names no user."}};
const struct i18n_text msg_device_exists = {
	{"この利用者にはすでにこの利用デバイスがあります。証明書を新しくするには再発行してください。",
	 "This user already has this device. Reissue its certificate to renew it."}};
const struct i18n_text msg_outbox_status = {
	{"状態は queued、sent、failed のいずれかで指定してください。",
	 "The status must be queued, sent or failed."}};
const struct i18n_text msg_outbox_not_found = {
	{"指定された送信メールは見つかりません。", "No such mail in the outbox."}};
const struct i18n_text msg_outbox_not_failed = {
	{"再送できるのは送信失敗のメールだけです。", "Only a mail that failed can be sent again."}};
const struct i18n_text msg_notice_address = {
	{"通知先メールアドレスはメールアドレスの形式（128文字以内）で入力してください。空欄で通知しません。",
	 "The notice address must be an e-mail address (up to 128 characters); empty sends none."}};
const struct i18n_text msg_renew_days = {
	{"証明書更新の受付期間は 0〜3650 の整数（日数）で指定してください。",
	 "The renewal window must be a whole number of days from 0 to 3650."}};
const struct i18n_text msg_notice_lang = {{"通知の言語は ja または en で指定してください。",
					   "The notice language must be ja or en."}};
