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
	{"この証明書はすでに失効予定です。", "This certificate is already scheduled for revocation."}};
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
