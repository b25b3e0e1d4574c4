/* msgs.c: the messages only shomei-revoke gives (Japanese, English). */
#include "extern.h"

const struct i18n_text msg_ids = {
	{"失効する証明書を1件以上1000件以内で、重複なく指定してください。",
	 "Give from 1 to 1000 certificates, each once."}};
const struct i18n_text msg_revoke_on_format = {
	{"失効日は yyyy-mm-dd の形式の日付で指定してください。",
	 "Give the revocation date as yyyy-mm-dd."}};
const struct i18n_text msg_revoke_on_range = {
	{"失効日は明日から30日以内の日付を指定してください。",
	 "The revocation date must be from tomorrow to 30 days ahead."}};
const struct i18n_text msg_reason = {
	{"失効理由は unspecified, keyCompromise, affiliationChanged, superseded, "
	 "cessationOfOperation, privilegeWithdrawn のいずれかを指定してください。",
	 "reason must be one of unspecified, keyCompromise, affiliationChanged, superseded, "
	 "cessationOfOperation, privilegeWithdrawn."}};
const struct i18n_text msg_cert_not_found = {
	{"証明書（ID %lld）が見つかりません。", "Certificate %lld was not found."}};
const struct i18n_text msg_some_not_found = {
	{"指定された証明書が見つかりません。何も変更していません。",
	 "A certificate given was not found. Nothing was changed."}};
const struct i18n_text msg_bad_status = {
	{"この状態の証明書は指定できません。何も変更していません。",
	 "A certificate given is not in a state that allows this. Nothing was changed."}};
const struct i18n_text msg_is_revoked = {{"%s は証明書失効済です。", "%s is already revoked."}};
const struct i18n_text msg_is_issuing = {
	{"%s は発行中のため失効できません。", "%s is still being issued and cannot be revoked."}};
const struct i18n_text msg_is_failed = {{"%s は発行に失敗した証明書のため失効できません。",
					 "%s was never issued and cannot be revoked."}};
const struct i18n_text msg_is_scheduled = {
	{"%s は失効予定です。失効日を変えるには、先に失効予定を取り消してください。",
	 "%s is already scheduled for revocation; cancel that first to change the date."}};
const struct i18n_text msg_not_scheduled = {
	{"%s は失効予定ではありません。", "%s is not scheduled for revocation."}};
const struct i18n_text msg_is_due = {{"%s は失効日を過ぎているため取り消せません。",
				      "%s is past its revocation date and cannot be cancelled."}};

/* CSV一括失効 (csv.c) */
const struct i18n_text msg_rcsv_line = {
	{"1 行にはコモンネーム 1 項目か、代表メールアドレス,利用デバイス用メールアドレス,デバイスコード の 3 項目を"
	 "空欄なしで入力してください。",
	 "A line is one common name, or main e-mail address, device e-mail address and device code "
	 "(three columns), none of them empty."}};
const struct i18n_text msg_rcsv_quote = {
	{"ダブルクォート（\"）で始まる項目が閉じられていません。",
	 "A field that starts with a double quote (\") is never closed."}};
const struct i18n_text msg_rcsv_twice = {
	{"同じ証明書が %d 行目にもあります。", "The same certificate is on line %d too."}};
const struct i18n_text msg_rcsv_many = {
	{"有効な証明書が複数該当します。代表メールアドレス,利用デバイス用メールアドレス,デバイスコード の形式で指定して"
	 "ください。",
	 "Several valid certificates match. Name the device: main e-mail address, device e-mail "
	 "address, device code."}};
const struct i18n_text msg_rcsv_unknown = {
	{"該当する証明書がありません。", "No certificate matches."}};
const struct i18n_text msg_rcsv_scheduled = {
	{"この証明書はすでに失効予定です。",
	 "This certificate is already scheduled for revocation."}};
const struct i18n_text msg_rcsv_issuing = {
	{"この証明書は発行中です。発行が終わってから失効してください。",
	 "This certificate is still being issued; revoke it once it is issued."}};
const struct i18n_text msg_rcsv_revoked = {
	{"この証明書はすでに失効しています。", "This certificate is already revoked."}};
const struct i18n_text msg_rcsv_no_file = {
	{"CSV ファイルを選択してください（フォームの項目名 file）。",
	 "Choose a CSV file (form field \"file\")."}};
const struct i18n_text msg_rcsv_encoding = {
	{"文字コードを判別できません。UTF-8 または Shift_JIS（CP932）で保存してください。",
	 "The file is neither UTF-8 nor Shift_JIS (CP932). Save it in one of them."}};
const struct i18n_text msg_rcsv_empty = {
	{"CSV ファイルに失効する証明書の行がありません。", "The CSV file names no certificate."}};

/* 再発行 (reissue.c, rcsv.c) */
const struct i18n_text msg_reissue_feature = {{"この項目はご契約のサービスでは指定できません。",
					       "Your service does not include this field."}};
const struct i18n_text msg_reissue_org_unit = {
	{"半角英数記号 64 文字以内で入力してください（前後に空白は入れられません）。",
	 "Use up to 64 printable ASCII characters, no leading or trailing space."}};
const struct i18n_text msg_reissue_datetime = {
	{"yyyy/mm/dd または yyyy/mm/dd hh:mm の形式で入力してください。",
	 "Use yyyy/mm/dd or yyyy/mm/dd hh:mm."}};
const struct i18n_text msg_reissue_order = {
	{"証明書有効期限(From)は証明書有効期限(To)より前にしてください。",
	 "The validity start must be before its end."}};
const struct i18n_text msg_reissue_ahead = {
	{"証明書有効期限(From)が先すぎます。", "The validity starts too far ahead."}};
const struct i18n_text msg_reissue_past = {{"証明書有効期限(To)は未来の日時を指定してください。",
					    "The validity must end in the future."}};
const struct i18n_text msg_reissue_span = {{"証明書の有効期間がご契約の上限を超えています。",
					    "The validity is longer than your service allows."}};
const struct i18n_text msg_reissue_restriction = {
	{"インストール制限は mode（none / or / and）と、MACアドレス（12 桁の 16 進数）・コンピュータ名・"
	 "ログインユーザー名・BIOS シリアル番号（各 64 文字以内、none 以外では 1 項目以上）で指定してください。",
	 "restriction is {mode: none/or/and, mac: 12 hex digits, computer, login_user, bios_serial "
	 "(up to 64 characters each; at least one unless mode is none)}."}};
const struct i18n_text msg_reissue_superseded = {
	{"%s はすでに再発行されています。再発行後の証明書を指定してください。",
	 "%s was reissued already; give its new certificate."}};
const struct i18n_text msg_reissue_user_gone = {
	{"%s の利用者は削除されています。", "The user of %s is deleted."}};
const struct i18n_text msg_reissue_issuing = {{"%s は発行中のため再発行できません。",
					       "%s is still being issued and cannot be reissued."}};
const struct i18n_text msg_reissue_numbered = {
	{"%s は利用者の証明書ではないため、O・OU・有効期限・インストール制限は指定できません。",
	 "%s belongs to no user: O, OU, validity and restriction cannot be given for it."}};
const struct i18n_text msg_reissue_not_pc = {
	{"%s は WindowsPC の証明書ではないため、インストール制限は指定できません。",
	 "%s is not a WindowsPC certificate: install restriction applies to WindowsPC only."}};
const struct i18n_text msg_reissue_quota = {
	{"失効した証明書の再発行には追加発行可能数が必要です（必要 %lld、残り %lld）。",
	 "Reissuing revoked certificates takes licences: %lld needed, %lld left."}};
const struct i18n_text msg_reissue_quota_short = {
	{"追加発行可能数が足りません。何も変更していません。",
	 "Not enough licences left. Nothing was changed."}};
const struct i18n_text msg_xcsv_line = {
	{"1 行は 代表メールアドレス,利用デバイス用メールアドレス,デバイスコード,証明書有効期限(From),証明書有効期限(To) の "
	 "5 項目か、O・OU を含む 8 項目で入力してください（先頭の 2 項目とデバイスコードは必須）。",
	 "A line is main e-mail, device e-mail, device code, validity from, validity to (5 columns), "
	 "or with O, OU1, OU2 before the device code (8 columns); the e-mails and the code are "
	 "required."}};
const struct i18n_text msg_xcsv_empty = {
	{"CSV ファイルに再発行する証明書の行がありません。", "The CSV file names no certificate."}};
