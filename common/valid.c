/* valid.c: validators for request fields, and table-driven checking of a whole request. */
#include <stdio.h>
#include <string.h>

#include "http.h"
#include "json.h"
#include "valid.h"

static int
all_of(const char *v, size_t min, size_t max, const char *extra)
{
	size_t n = strlen(v);

	if (n < min || n > max)
		return VALID_E_FORMAT;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
			continue;
		if (c != '\0' && extra != NULL && strchr(extra, c) != NULL)
			continue;
		return VALID_E_FORMAT;
	}
	return 0;
}

int
valid_login_id(const char *v)
{
	return all_of(v, 1, 64, "._@-");
}

int
valid_password(const char *v)
{
	return all_of(v, 8, 16, NULL);
}

static int
digits(const char *s, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 1;
}

static int
days_in(int y, int m)
{
	static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return dm[m - 1];
}

int
valid_parse_datetime(const char *v, int *y, int *mo, int *d, int *h, int *mi)
{
	size_t n = strlen(v);

	*h = *mi = 0;
	if (n != 10 && n != 16)
		return VALID_E_FORMAT;
	if (!digits(v, 4, y) || v[4] != '/' || !digits(v + 5, 2, mo) || v[7] != '/' ||
	    !digits(v + 8, 2, d))
		return VALID_E_FORMAT;
	if (n == 16 && (v[10] != ' ' || !digits(v + 11, 2, h) || v[13] != ':' ||
			!digits(v + 14, 2, mi)))
		return VALID_E_FORMAT;
	if (*y < 1970 || *y > 9999 || *mo < 1 || *mo > 12 || *d < 1 || *d > days_in(*y, *mo) ||
	    *h > 23 || *mi > 59)
		return VALID_E_RANGE;
	return 0;
}

int
valid_date(const char *v)
{
	int y, mo, d, h, mi;

	if (strlen(v) != 10)
		return VALID_E_FORMAT;
	return valid_parse_datetime(v, &y, &mo, &d, &h, &mi);
}

int
valid_datetime(const char *v)
{
	int y, mo, d, h, mi;

	return valid_parse_datetime(v, &y, &mo, &d, &h, &mi);
}

int
valid_page(const char *v)
{
	size_t n = strlen(v);

	if (n == 0 || n > 7 || v[0] == '0')
		return VALID_E_FORMAT;
	for (size_t i = 0; i < n; i++)
		if (v[i] < '0' || v[i] > '9')
			return VALID_E_FORMAT;
	return n == 7 && strcmp(v, "1000000") > 0 ? VALID_E_RANGE : 0;
}

int
valid_text(const char *v)
{
	for (const unsigned char *p = (const unsigned char *)v; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return VALID_E_FORMAT;
	return 0;
}

int
valid_action(const char *v)
{
	for (int i = 0; i18n_action_code(i) != NULL; i++)
		if (strcmp(i18n_action_code(i), v) == 0)
			return 0;
	return VALID_E_FORMAT;
}

static int
check_one(const struct valid_field *f, const char *v, int present, cJSON *errs, int lang)
{
	if (!present || (v != NULL && *v == '\0' && f->required)) {
		if (!f->required)
			return 0;
		json_field_error(errs, f->name, i18n_msg(MSG_REQUIRED, lang));
		return 1;
	}
	if (v == NULL) {
		json_field_error(errs, f->name, i18n_msg(MSG_NOT_STRING, lang));
		return 1;
	}
	if (f->maxlen && strlen(v) > f->maxlen) {
		json_field_error(errs, f->name, i18n_msg(MSG_TEXT_TOO_LONG, lang));
		return 1;
	}
	if (*v == '\0' && !f->required)
		return 0;
	if (f->fn != NULL && f->fn(v) != 0) {
		json_field_error(errs, f->name, i18n_msg(f->msg, lang));
		return 1;
	}
	return 0;
}

int
valid_json(const cJSON *obj, const struct valid_field *f, size_t n, cJSON *errs, int lang)
{
	int bad = 0;

	for (size_t i = 0; i < n; i++) {
		const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, f[i].name);
		int present = item != NULL && !cJSON_IsNull(item);
		bad += check_one(&f[i], json_str(obj, f[i].name), present, errs, lang);
	}
	return bad;
}

int
valid_query(const char *query, const struct valid_field *f, size_t n, cJSON *errs, int lang)
{
	char buf[1024];
	int bad = 0;

	for (size_t i = 0; i < n; i++) {
		int present = http_query_get(query, f[i].name, buf, sizeof(buf));
		bad += check_one(&f[i], present ? buf : NULL, present, errs, lang);
	}
	return bad;
}
