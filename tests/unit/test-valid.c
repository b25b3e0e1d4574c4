/* test-valid.c: field validators and table-driven checking (valid, boundary, empty, garbage). */
#include "json.h"
#include "tap.h"
#include "valid.h"

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
		{"abcd1234", 1}, {"ABCDEFGH", 1}, {"a1b2c3d4e5f6g7h8", 1}, {"abc1234", 0},
		{"a1b2c3d4e5f6g7h8i", 0}, {"", 0}, {"abcd 1234", 0}, {"abcd-1234", 0},
		{"ａｂｃｄ１２３４", 0}, {"パスワードです", 0}, {"abcd\t1234", 0}, {"12345678", 1},
	};
	static const struct vcase id[] = {
		{"admin01", 1}, {"a", 1}, {"user.name@example-1_x", 1}, {"", 0}, {"admin 01", 0},
		{"管理者", 0}, {"a'; DROP TABLE admins;--", 0},
		{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 1},
		{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 0},
	};
	static const struct vcase date[] = {
		{"2026/11/22", 1}, {"2024/02/29", 1}, {"2023/02/29", 0}, {"2026/13/01", 0},
		{"2026/00/10", 0}, {"2026/04/31", 0}, {"2026-11-22", 0}, {"2026/1/2", 0},
		{"", 0}, {" 2026/11/22", 0}, {"2026/11/22 10:00", 0}, {"1969/12/31", 0},
		{"2100/02/29", 0}, {"2000/02/29", 1},
	};
	static const struct vcase dt[] = {
		{"2026/11/22", 1}, {"2026/11/22 00:00", 1}, {"2026/11/22 23:59", 1},
		{"2026/11/22 24:00", 0}, {"2026/11/22 12:60", 0}, {"2026/11/22T12:00", 0},
		{"2026/11/22 1:00", 0}, {"2026/11/22 12:00:00", 0},
	};
	static const struct vcase page[] = {
		{"1", 1}, {"100", 1}, {"1000000", 1}, {"1000001", 0}, {"0", 0}, {"-1", 0},
		{"01", 0}, {"", 0}, {"1e3", 0}, {"99999999999999999999", 0},
	};
	static const struct vcase action[] = {
		{"login", 1}, {"password_change", 1}, {"certificate_issue", 1}, {"LOGIN", 0},
		{"", 0}, {"drop", 0},
	};
	static const struct vcase text[] = {
		{"ログイン成功", 1}, {"client_000001", 1}, {"a\nb", 0}, {"\x7f", 0}, {"", 1},
	};
	RUN(valid_password, pw);
	RUN(valid_login_id, id);
	RUN(valid_date, date);
	RUN(valid_datetime, dt);
	RUN(valid_page, page);
	RUN(valid_action, action);
	RUN(valid_text, text);

	static const struct valid_field fields[] = {
		{"login_id", valid_login_id, 1, MSG_LOGIN_ID_FORMAT, 64},
		{"password", valid_password, 1, MSG_PASSWORD_RULE, 16},
		{"from", valid_date, 0, MSG_DATE_FORMAT, 10},
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
	TAP_OK(valid_query("", fields, 1, errs, I18N_JA) == 1, "missing required field refused");
	TAP_STREQ(cJSON_GetObjectItem(cJSON_GetArrayItem(errs, 0), "message")->valuestring,
		  "入力してください。", "required message in Japanese");
	cJSON_Delete(errs);
	return tap_done();
}
