/* valid.c: validators for request fields, and table-driven checking of a whole request. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "web/http.h"
#include "core/json.h"
#include "web/valid.h"

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
	if (n == 16 &&
	    (v[10] != ' ' || !digits(v + 11, 2, h) || v[13] != ':' || !digits(v + 14, 2, mi)))
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
valid_flag(const char *v)
{
	return strcmp(v, "0") == 0 || strcmp(v, "1") == 0 ? 0 : VALID_E_FORMAT;
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

static int
check_one(const struct valid_field *f, const char *v, int present, cJSON *errs, int lang)
{
	if (!present || (v != NULL && *v == '\0' && f->required)) {
		if (!f->required)
			return 0;
		json_field_error(errs, f->name, i18n_msg(&msg_required, lang));
		return 1;
	}
	if (v == NULL) {
		json_field_error(errs, f->name, i18n_msg(&msg_not_string, lang));
		return 1;
	}
	if (f->maxlen && strlen(v) > f->maxlen) {
		json_field_error(errs, f->name, i18n_msg(&msg_text_too_long, lang));
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
		int rc = http_query_get(query, f[i].name, buf, sizeof(buf));
		if (rc == HTTP_E_TOOLONG || rc == HTTP_E_ENCODING) {
			json_field_error(
				errs, f[i].name,
				i18n_msg(rc == HTTP_E_TOOLONG ? &msg_text_too_long : &msg_encoding,
					 lang));
			bad++;
			continue;
		}
		bad += check_one(&f[i], rc == 0 ? buf : NULL, rc == 0, errs, lang);
	}
	return bad;
}

int
valid_id(const char *v)
{
	size_t n = strlen(v);

	if (n == 0 || n > 18 || v[0] == '0')
		return VALID_E_FORMAT;
	return strspn(v, "0123456789") == n ? 0 : VALID_E_FORMAT;
}

/* Decode one UTF-8 character at *p and advance; -1 when malformed (overlong, surrogate, >
 * U+10FFFF). */
static long
utf8_next(const unsigned char **p)
{
	static const long min[] = {0, 0, 0x80, 0x800, 0x10000};
	const unsigned char *s = *p;
	long cp;
	int n;

	if (s[0] < 0x80)
		n = 1, cp = s[0];
	else if ((s[0] & 0xe0) == 0xc0)
		n = 2, cp = s[0] & 0x1f;
	else if ((s[0] & 0xf0) == 0xe0)
		n = 3, cp = s[0] & 0x0f;
	else if ((s[0] & 0xf8) == 0xf0)
		n = 4, cp = s[0] & 0x07;
	else
		return -1;
	for (int i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return -1;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if (cp < min[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return -1;
	*p = s + n;
	return cp;
}

long
valid_utf8_len(const char *v)
{
	const unsigned char *p = (const unsigned char *)v;
	long n = 0;

	while (*p)
		if (utf8_next(&p) < 0)
			return -1;
		else
			n++;
	return n;
}

static int
is_space(long cp)
{
	return cp == 0x20 || cp == 0x3000;
}

/*
 * 1..max characters each accepted by ok(), the first and last not a space.
 * The shared shape of the name-like validators.
 */
static int
chars_of(const char *v, long max, int (*ok)(long cp))
{
	const unsigned char *p = (const unsigned char *)v;
	long cp = 0, n = 0;

	while (*p) {
		if ((cp = utf8_next(&p)) < 0 || !ok(cp))
			return VALID_E_FORMAT;
		if (n++ == 0 && is_space(cp))
			return VALID_E_FORMAT;
	}
	if (n == 0 || is_space(cp))
		return VALID_E_FORMAT;
	return n > max ? VALID_E_RANGE : 0;
}

static int
text_char(long cp)
{
	return cp >= 0x20 && cp != 0x7f && !(cp >= 0x80 && cp <= 0x9f);
}

int
valid_text(const char *v)
{
	const unsigned char *p = (const unsigned char *)v;
	long cp;

	while (*p)
		if ((cp = utf8_next(&p)) < 0 || !text_char(cp))
			return VALID_E_FORMAT;
	return 0;
}

/*
 * Characters that change how text is shown without being seen: zero-width space, joiners and
 * marks (U+200B-U+200F), bidi embeddings and overrides (U+202A-U+202E), bidi isolates
 * (U+2066-U+2069) and the BOM (U+FEFF). A name holding one looks like another name.
 */
static int
invisible(long cp)
{
	return (cp >= 0x200b && cp <= 0x200f) || (cp >= 0x202a && cp <= 0x202e) ||
	       (cp >= 0x2066 && cp <= 0x2069) || cp == 0xfeff;
}

static int
visible_char(long cp)
{
	return text_char(cp) && !invisible(cp);
}

int
valid_visible_text(const char *v)
{
	const unsigned char *p = (const unsigned char *)v;
	long cp;

	while (*p)
		if ((cp = utf8_next(&p)) < 0 || !visible_char(cp))
			return VALID_E_FORMAT;
	return 0;
}

static int
kana_char(long cp)
{
	return (cp >= 0x30a1 && cp <= 0x30fa) || cp == 0x30fc || cp == 0x3000;
}

static int
name_en_char(long cp)
{
	return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || cp == ' ' || cp == '.' ||
	       cp == '\'' || cp == '-';
}

static int
ascii_char(long cp)
{
	return cp >= 0x20 && cp <= 0x7e;
}

int
valid_name(const char *v)
{
	return chars_of(v, VALID_NAME_MAX, visible_char);
}

int
valid_kana(const char *v)
{
	return chars_of(v, VALID_NAME_MAX, kana_char);
}

int
valid_name_en(const char *v)
{
	int rc = chars_of(v, VALID_NAME_MAX, name_en_char);

	if (rc == 0 && !((v[0] >= 'a' && v[0] <= 'z') || (v[0] >= 'A' && v[0] <= 'Z')))
		return VALID_E_FORMAT;
	return rc;
}

int
valid_org_unit(const char *v)
{
	return chars_of(v, VALID_ITEM_MAX, ascii_char);
}

int
valid_restriction_item(const char *v)
{
	return chars_of(v, VALID_ITEM_MAX, visible_char);
}

/* One domain label: 1..63 of letters, digits and '-', not starting or ending with '-'. */
static int
domain_label(const char *s, size_t n)
{
	if (n == 0 || n > 63 || s[0] == '-' || s[n - 1] == '-')
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return 0;
	return 1;
}

int
valid_email(const char *v)
{
	const char *at = strchr(v, '@'), *d;
	size_t labels = 0;

	if (strlen(v) > VALID_EMAIL_MAX)
		return VALID_E_RANGE;
	if (at == NULL || at == v || at - v > 64)
		return VALID_E_FORMAT;
	for (const char *p = v; p < at; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '.' || *p == '_' || *p == '-'))
			return VALID_E_FORMAT;
	for (d = at + 1;; labels++) {
		size_t n = strcspn(d, ".");
		if (!domain_label(d, n))
			return VALID_E_FORMAT;
		if (d[n] == '\0')
			break;
		d += n + 1;
	}
	return labels >= 1 ? 0 : VALID_E_FORMAT;
}

static int
one_of(const char *v, size_t n, const char *const *set)
{
	for (; *set != NULL; set++)
		if (strlen(*set) == n && strncmp(*set, v, n) == 0)
			return 1;
	return 0;
}

int
valid_restriction_mode(const char *v)
{
	static const char *const modes[] = {"none", "or", "and", NULL};

	return one_of(v, strlen(v), modes) ? 0 : VALID_E_FORMAT;
}

int
valid_mac(const char *v)
{
	return strlen(v) == 12 && strspn(v, "0123456789abcdefABCDEF") == 12 ? 0 : VALID_E_FORMAT;
}

int
valid_user_sort(const char *v)
{
	static const char *const keys[] = {"applied_at", "family_name_kana", "email",
					   "issued_at",  "expires_at",       NULL};

	if (*v == '-')
		v++;
	return one_of(v, strlen(v), keys) ? 0 : VALID_E_FORMAT;
}

int
valid_id_list(const char *query, const char *name, char **out)
{
	size_t cap = VALID_IDS_MAX * 20 + 1, n = 0, o = 1;
	char *v = NULL, *arr = NULL;
	int rc;

	*out = NULL;
	if (query == NULL)
		return HTTP_E_ABSENT;
	if ((v = malloc(cap)) == NULL)
		return -ENOMEM;
	if ((rc = http_query_get(query, name, v, cap)) == HTTP_E_ABSENT)
		goto out;
	if (rc != 0 || v[0] == '\0') {
		rc = 1;
		goto out;
	}
	rc = 1;
	if ((arr = malloc(strlen(v) + 3)) == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	arr[0] = '{';
	for (char *p = v, *id; (id = strsep(&p, ",")) != NULL; n++) {
		if (n >= VALID_IDS_MAX || valid_id(id) != 0)
			goto out;
		size_t l = strlen(id);
		if (n)
			arr[o++] = ',';
		memcpy(arr + o, id, l);
		o += l;
	}
	arr[o++] = '}';
	arr[o] = '\0';
	*out = arr;
	arr = NULL;
	rc = 0;
out:
	free(v);
	free(arr);
	return rc;
}
