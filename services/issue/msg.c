/* msg.c: the messages only shomei-issue sends (Japanese as the manuals write them, English). */
#include "extern.h"
#include "web/i18n.h"

static const char *const texts[IMSG__MAX][I18N__MAX] = {
	[IMSG_COUNT_RANGE] = {"追加発行数は1から%lldまでの数を入力してください。",
			      "Enter a whole number from 1 to %lld."},
	[IMSG_ISSUING] = {"発行中は追加発行ができません。",
			  "Certificates cannot be added while others are being issued."},
	[IMSG_STATUS] = {"表示は valid (有効のみ) または all (すべて) を指定してください。",
			 "status must be valid or all."},
	[IMSG_SORT] = {"並び順は issued_at または -issued_at を指定してください。",
		       "sort must be issued_at or -issued_at."},
	[IMSG_CN] = {"CNは64文字以内で入力してください (制御文字は使えません)。",
		     "Use up to 64 characters, without control characters, for the CN."},
	[IMSG_DATE] = {"日付は yyyy/mm/dd 形式で入力してください。",
		       "Enter the date as yyyy/mm/dd."},
	[IMSG_DATE_ORDER] = {"開始日は終了日以前の日付を入力してください。",
			     "The start date must not be after the end date."},
	[IMSG_PAGE] = {"ページは1以上の数字で指定してください。",
		       "The page must be a whole number from 1."},
};

const char *
imsg(enum imsg m, int lang)
{
	if ((unsigned)m >= IMSG__MAX)
		return "";
	return texts[m][lang == I18N_EN ? I18N_EN : I18N_JA];
}
