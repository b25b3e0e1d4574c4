/* test-valid.c: field validators and table-driven checking (valid, boundary, empty, garbage). */
#include <stdio.h>

#include "core/json.h"
#include "tap.h"
#include "web/valid.h"
#include "domain/lifecycle.h"
#include "domain/device.h"
#include "domain/audit.h"

struct vcase {
	const char *v;
	int ok;
};

static void
run(const char *name, int (*fn)(const char *), const struct vcase *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char shown[128];
		size_t j;
		/* control characters would break the TAP line */
		for (j = 0; c[i].v[j] && j < sizeof(shown) - 1; j++)
			shown[j] = (unsigned char)c[i].v[j] < 0x20 ? '?' : c[i].v[j];
		shown[j] = '\0';
		TAP_OK((fn(c[i].v) == 0) == c[i].ok, "%s(\"%s\") %s", name, shown,
		       c[i].ok ? "accepted" : "refused");
	}
}

#define RUN(fn, cases) run(#fn, fn, cases, sizeof(cases) / sizeof(cases[0]))

int
main(void)
{
	static const struct vcase pw[] = {
		{"abcd1234", 1},       {"ABCDEFGH", 1},          {"a1b2c3d4e5f6g7h8", 1},
		{"abc1234", 0},        {"a1b2c3d4e5f6g7h8i", 0}, {"", 0},
		{"abcd 1234", 0},      {"abcd-1234", 0},         {"ａｂｃｄ１２３４", 0},
		{"パスワードです", 0}, {"abcd\t1234", 0},        {"12345678", 1},
	};
	static const struct vcase id[] = {
		{"admin01", 1},
		{"a", 1},
		{"user.name@example-1_x", 1},
		{"", 0},
		{"admin 01", 0},
		{"管理者", 0},
		{"a'; DROP TABLE admins;--", 0},
		{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 1},
		{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 0},
	};
	static const struct vcase date[] = {
		{"2026/11/22", 1}, {"2024/02/29", 1},  {"2023/02/29", 0},       {"2026/13/01", 0},
		{"2026/00/10", 0}, {"2026/04/31", 0},  {"2026-11-22", 0},       {"2026/1/2", 0},
		{"", 0},           {" 2026/11/22", 0}, {"2026/11/22 10:00", 0}, {"1969/12/31", 0},
		{"2100/02/29", 0}, {"2000/02/29", 1},
	};
	static const struct vcase dt[] = {
		{"2026/11/22", 1},       {"2026/11/22 00:00", 1},    {"2026/11/22 23:59", 1},
		{"2026/11/22 24:00", 0}, {"2026/11/22 12:60", 0},    {"2026/11/22T12:00", 0},
		{"2026/11/22 1:00", 0},  {"2026/11/22 12:00:00", 0},
	};
	static const struct vcase page[] = {
		{"1", 1},  {"100", 1}, {"1000000", 1}, {"1000001", 0}, {"0", 0},
		{"-1", 0}, {"01", 0},  {"", 0},        {"1e3", 0},     {"99999999999999999999", 0},
	};
	static const struct vcase action[] = {
		{"login", 1},
		{"password_change", 1},
		{"certificate_issue", 1},
		{"LOGIN", 0},
		{"", 0},
		{"drop", 0},
	};
	static const struct vcase text[] = {
		{"ログイン成功", 1},
		{"client_000001", 1},
		{"a\nb", 0},
		{"\x7f", 0},
		{"", 1},
		/* not UTF-8 would reach PostgreSQL and fail there (503): refused here */
		{"\xff", 0},
		{"a\xe3\x83", 0},
		{"\xc0\xaf", 0},
		{"\xc2\x85", 0},
	};
	static const struct vcase id2[] = {
		{"1", 1},
		{"123456789012345678", 1},
		{"1234567890123456789", 0},
		{"0", 0},
		{"01", 0},
		{"", 0},
		{" 1", 0},
		{"1a", 0},
		{"-1", 0},
	};
	static const struct vcase name[] = {
		{"山田", 1},
		{"太郎", 1},
		{"Smith", 1},
		{"髙橋 一", 1},
		{"a", 1},
		{"山山山山山山山山山山山山山山山山山山山山山山山山山山山山山山山山山山山山山山山山山山山山山山山山山",
		 1},
		{"山山山山山山山山山山山山山山山山山山山山山山山山山山山山山山山山山山山山山山山山山山山山山山山山山山山",
		 0},
		{"", 0},
		{" ", 0},
		{"\xe3\x80\x80", 0},
		{" 山田", 0},
		{"山田 ", 0},
		{"山田\xe3\x80\x80", 0},
		{"山\n田", 0},
		{"山\t田", 0},
		{"\x7f", 0},
		{"\xc2\x85", 0},
		{"\xff\xfe", 0},
		{"\xc0\xaf", 0},
		{"\xed\xa0\x80", 0},
		{"\xe5\xb1", 0},
	};
	static const struct vcase kana[] = {
		{"ヤマダ", 1},
		{"タロウ", 1},
		{"ヴァイオリン", 1},
		{"ター", 1},
		{"ヤマダ\xe3\x80\x80タロウ", 1},
		{"ヵヶ", 1},
		{"やまだ", 0},
		{"ﾔﾏﾀﾞ", 0},
		{"山田", 0},
		{"Yamada", 0},
		{"ヤマダ タロウ", 0},
		{"ヤマダ・タロウ", 0},
		{"", 0},
		{"\xe3\x80\x80", 0},
		{"\xe3\x80\x80ヤマダ", 0},
		{"アアアアアアアアアアアアアアアアアアアアアアアアアアアアアアアアアアアアアアアアアアアアアアアアアア",
		 1},
		{"アアアアアアアアアアアアアアアアアアアアアアアアアアアアアアアアアアアアアアアアアアアアアアアアアアア",
		 0},
	};
	static const struct vcase name_en[] = {
		{"Yamada", 1},
		{"Taro", 1},
		{"O'Brien", 1},
		{"Jean-Luc", 1},
		{"Jr.", 1},
		{"Van der Berg", 1},
		{"yamada", 1},
		{"Yamada1", 0},
		{"山田", 0},
		{"Ｙａｍａｄａ", 0},
		{"", 0},
		{" ", 0},
		{" Yamada", 0},
		{"Yamada ", 0},
		{"-Yamada", 0},
		{".", 0},
		{"Yamada_Taro", 0},
		{"Yamada,Taro", 0},
		{"Yam\tada", 0},
		{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 1},
		{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 0},
	};
	static const struct vcase email[] = {
		{"yamada-taro@example.com", 1},
		{"a.b_c-d@mail.example.co.jp", 1},
		{"a@b.c", 1},
		{"taro.@docomo.ne.jp", 1},
		{"A1@EXAMPLE.COM", 1},
		{"yamada+taro@example.com", 0},
		{"yamada@example", 0},
		{"@example.com", 0},
		{"yamada", 0},
		{"yamada@@example.com", 0},
		{"a@b@example.com", 0},
		{"yamada@.example.com", 0},
		{"yamada@example..com", 0},
		{"yamada@example.com.", 0},
		{"yamada@-example.com", 0},
		{"yamada@exa_mple.com", 0},
		{"", 0},
		{" ", 0},
		{" a@b.c", 0},
		{"a@b.c ", 0},
		{"山田@example.com", 0},
		{"a b@example.com", 0},
		{"yamada@例え.jp", 0},
		{"a!#$%@example.com", 0},
		/* 128 characters in all, then 129 */
		{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@"
		 "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb.com",
		 1},
		{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@"
		 "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb.com",
		 0},
		/* a local part of 65 */
		{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@b.jp", 0},
	};
	static const struct vcase device[] = {
		{"01", 1}, {"11", 1},  {"12", 1}, {"20", 1},  {"99", 1},        {"1", 0},
		{"02", 0}, {"010", 0}, {"", 0},   {" 01", 0}, {"WindowsPC", 0},
	};
	static const struct vcase org[] = {
		{"Example Inc.", 1},
		{"Sales-1 (Tokyo)", 1},
		{"a", 1},
		{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 1},
		{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 0},
		{"営業部", 0},
		{"", 0},
		{" ", 0},
		{" Sales", 0},
		{"Sales ", 0},
		{"a\tb", 0},
	};
	static const struct vcase mode[] = {
		{"none", 1}, {"or", 1}, {"and", 1}, {"AND", 0}, {"", 0}, {" or", 0}, {"xor", 0},
	};
	static const struct vcase mac[] = {
		{"001122AABBCC", 1},
		{"001122aabbcc", 1},
		{"111111111111", 1},
		{"00112233445", 0},
		{"0011223344556", 0},
		{"00-11-22-AA-BB-CC", 0},
		{"00:11:22:aa:bb:cc", 0},
		{"00112233445G", 0},
		{"", 0},
		{" 001122AABBCC", 0},
		{"００１１２２ＡＡＢＢＣＣ", 0},
	};
	static const struct vcase item[] = {
		{"test-host", 1},
		{"山田太郎", 1},
		{"aaaaaaaaaaaa", 1},
		{"", 0},
		{" ", 0},
		{"a\nb", 0},
		{" host", 0},
		{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 1},
		{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 0},
	};
	static const struct vcase status[] = {
		{"issuing", 1},
		{"issued,downloaded", 1},
		{"issuing,issued,downloaded,revoke_scheduled,revoked,failed", 1},
		{"", 0},
		{",", 0},
		{"issued,", 0},
		{",issued", 0},
		{"issued,,revoked", 0},
		{"valid", 0},
		{"issued, revoked", 0},
		{"ISSUED", 0},
	};
	static const struct vcase devlist[] = {
		{"01", 1}, {"01,11,12,20,99", 1}, {"", 0}, {"01,", 0}, {"01,02", 0}, {"01 ,11", 0},
	};
	static const struct vcase sort[] = {
		{"applied_at", 1}, {"-applied_at", 1}, {"family_name_kana", 1},
		{"-email", 1},     {"issued_at", 1},   {"-expires_at", 1},
		{"", 0},           {"-", 0},           {"--email", 0},
		{"+email", 0},     {"id", 0},          {"email desc", 0},
	};
	RUN(valid_id, id2);
	RUN(valid_name, name);
	RUN(valid_kana, kana);
	RUN(valid_name_en, name_en);
	RUN(valid_email, email);
	RUN(device_valid_code, device);
	RUN(valid_org_unit, org);
	RUN(valid_restriction_mode, mode);
	RUN(valid_mac, mac);
	RUN(valid_restriction_item, item);
	RUN(lifecycle_valid_list, status);
	RUN(device_valid_list, devlist);
	RUN(valid_user_sort, sort);
	TAP_OK(valid_utf8_len("山田a") == 3, "valid_utf8_len counts characters");
	TAP_OK(valid_utf8_len("\xe5\xb1") == -1, "valid_utf8_len refuses a cut character");
	TAP_OK(valid_utf8_len("") == 0, "valid_utf8_len of empty is 0");

	RUN(valid_password, pw);
	RUN(valid_login_id, id);
	RUN(valid_date, date);
	RUN(valid_datetime, dt);
	RUN(valid_page, page);
	RUN(audit_valid_action, action);
	RUN(valid_text, text);

	/* invisible characters: refused in names and shown text, each range at both ends */
	static const char *const invisibles[] = {
		"\u200b", "\u200d", "\u200f", "\u202a", "\u202e", "\u2066", "\u2069", "\ufeff",
	};
	for (size_t i = 0; i < sizeof(invisibles) / sizeof(invisibles[0]); i++) {
		char mid[32], kana[32], en[32];
		unsigned cp = 0;
		const unsigned char *u = (const unsigned char *)invisibles[i];
		cp = (unsigned)(u[0] & 0x0f) << 12 | (unsigned)(u[1] & 0x3f) << 6 | (u[2] & 0x3f);
		snprintf(mid, sizeof(mid), "山%s田", invisibles[i]);
		snprintf(kana, sizeof(kana), "ヤマ%sダ", invisibles[i]);
		snprintf(en, sizeof(en), "Yama%sda", invisibles[i]);
		TAP_OK(valid_name(mid) != 0, "valid_name refuses U+%04X inside", cp);
		TAP_OK(valid_name(invisibles[i]) != 0, "valid_name refuses U+%04X alone", cp);
		TAP_OK(valid_kana(kana) != 0, "valid_kana refuses U+%04X", cp);
		TAP_OK(valid_name_en(en) != 0, "valid_name_en refuses U+%04X", cp);
		TAP_OK(valid_restriction_item(mid) != 0, "valid_restriction_item refuses U+%04X",
		       cp);
		TAP_OK(valid_visible_text(mid) != 0, "valid_visible_text refuses U+%04X", cp);
		TAP_OK(valid_text(mid) == 0, "valid_text (filters, passwords) lets U+%04X by", cp);
	}
	TAP_OK(valid_name("山\u2010田") == 0, "U+2010 (hyphen) beside the set is accepted");
	TAP_OK(valid_name("山\u2070田") == 0, "U+2070 beside the isolates is accepted");
	TAP_OK(valid_name("山\u2030田") == 0, "U+2030 (after the overrides) is accepted");
	TAP_OK(valid_name("山\uff01") == 0, "U+FF01 (after the BOM) is accepted");
	TAP_OK(valid_visible_text("利用法人 Example") == 0, "valid_visible_text accepts text");
	TAP_OK(valid_visible_text("\xff") != 0, "valid_visible_text refuses what is not UTF-8");
	TAP_OK(valid_visible_text("a\tb") != 0, "valid_visible_text refuses a control");

	static const struct valid_field fields[] = {
		{"login_id", valid_login_id, 1, &msg_login_id_format, 64},
		{"password", valid_password, 1, &msg_password_rule, 16},
		{"from", valid_date, 0, &msg_date_format, 10},
	};
	cJSON *obj = NULL, *errs = cJSON_CreateArray();
	const char *body = "{\"login_id\":\"bad id\",\"password\":12345678,\"from\":\"\"}";
	json_parse_object(body, strlen(body), &obj);
	TAP_OK(valid_json(obj, fields, 3, errs, I18N_JA) == 2, "two bad fields reported together");
	TAP_STREQ(cJSON_GetObjectItem(cJSON_GetArrayItem(errs, 0), "field")->valuestring,
		  "login_id", "first error names login_id");
	TAP_STREQ(cJSON_GetObjectItem(cJSON_GetArrayItem(errs, 1), "message")->valuestring,
		  "文字列で指定してください。", "a number where a string belongs is named");
	cJSON_Delete(obj);
	cJSON_Delete(errs);

	errs = cJSON_CreateArray();
	TAP_OK(valid_query("from=2026%2F01%2F01&page=0", fields + 2, 1, errs, I18N_EN) == 0,
	       "encoded date in a query accepted");
	TAP_OK(valid_query("from=2026-01-01", fields + 2, 1, errs, I18N_EN) == 1,
	       "bad date in a query refused");
	TAP_STREQ(cJSON_GetObjectItem(cJSON_GetArrayItem(errs, 0), "message")->valuestring,
		  "Enter the date as yyyy/mm/dd.", "English message on request");
	cJSON_Delete(errs);
	errs = cJSON_CreateArray();
	TAP_OK(valid_query("from=%ff", fields + 2, 1, errs, I18N_EN) == 1,
	       "a query value not UTF-8 is refused, not absent");
	TAP_STREQ(cJSON_GetObjectItem(cJSON_GetArrayItem(errs, 0), "field")->valuestring, "from",
		  "the encoding error names the field");
	TAP_STREQ(cJSON_GetObjectItem(cJSON_GetArrayItem(errs, 0), "message")->valuestring,
		  "The value is not correctly encoded UTF-8.", "the encoding message");
	cJSON_Delete(errs);
	errs = cJSON_CreateArray();
	TAP_OK(valid_query("from=%zz", fields + 2, 1, errs, I18N_EN) == 1,
	       "a bad escape in a query is refused, not absent");
	cJSON_Delete(errs);
	{
		static const struct valid_field q[] = {
			{"q", valid_text, 0, &msg_text_too_long, 200}};
		char big[1200];
		memset(big, 'x', sizeof(big));
		memcpy(big, "q=", 2);
		big[sizeof(big) - 1] = '\0';
		errs = cJSON_CreateArray();
		TAP_OK(valid_query(big, q, 1, errs, I18N_EN) == 1,
		       "a query value beyond the buffer is refused, not absent");
		TAP_STREQ(cJSON_GetObjectItem(cJSON_GetArrayItem(errs, 0), "field")->valuestring,
			  "q", "too long names the field");
		TAP_STREQ(cJSON_GetObjectItem(cJSON_GetArrayItem(errs, 0), "message")->valuestring,
			  "The text is too long.", "the text-too-long message");
		cJSON_Delete(errs);
	}
	errs = cJSON_CreateArray();
	TAP_OK(valid_query("", fields, 1, errs, I18N_JA) == 1, "missing required field refused");
	TAP_STREQ(cJSON_GetObjectItem(cJSON_GetArrayItem(errs, 0), "message")->valuestring,
		  "入力してください。", "required message in Japanese");
	cJSON_Delete(errs);
	return tap_done();
}
