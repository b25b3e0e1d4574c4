/* msgs.c: the messages only shomei-auth gives (Japanese, English). */
#include "extern.h"

const struct i18n_text msg_password_confirm = {
	{"新しいパスワードと新しいパスワード（確認用）が一致しません。",
	 "The new password and its confirmation differ."}};
const struct i18n_text msg_password_current = {
	{"現在のパスワードが正しくありません。", "The current password is not correct."}};
const struct i18n_text msg_password_same = {
	{"新しいパスワードは現在のパスワードと異なるものにしてください。",
	 "The new password must differ from the current one."}};
const struct i18n_text msg_action = {{"操作内容の指定が正しくありません。", "Unknown action."}};
const struct i18n_text msg_no_certificate = {{"有効な管理者用証明書が提示されていません。",
					      "No valid administrator certificate was presented."}};
const struct i18n_text msg_busy = {
	{"ただいまログインが混み合っています。少し待ってからもう一度お試しください。",
	 "Too many logins are being checked right now. Please try again in a moment."}};
