/* msg.c: the messages only shomei-issue gives (Japanese as the manuals write them, English). */
#include "extern.h"

const struct i18n_text msg_count_range = {{"追加発行数は1から%lldまでの数を入力してください。",
					   "Enter a whole number from 1 to %lld."}};
const struct i18n_text msg_issuing = {
	{"発行中は追加発行ができません。",
	 "Certificates cannot be added while others are being issued."}};
const struct i18n_text msg_status = {
	{"表示は valid (有効のみ) または all (すべて) を指定してください。",
	 "status must be valid or all."}};
const struct i18n_text msg_issue_sort = {
	{"並び順は issued_at または -issued_at を指定してください。",
	 "sort must be issued_at or -issued_at."}};
const struct i18n_text msg_cn = {
	{"CNは64文字以内で入力してください (制御文字は使えません)。",
	 "Use up to 64 characters, without control characters, for the CN."}};
const struct i18n_text msg_not_failed = {
	{"発行に失敗した証明書のみ再試行できます。",
	 "Only a certificate whose issuance failed can be retried."}};
const struct i18n_text msg_retry_quota = {{"追加発行可能数が残っていないため再試行できません。",
					   "No certificate is left in the quota to retry with."}};
