/* json.c: the one place request bodies in JSON are parsed, with hard limits. */
#include <stdlib.h>
#include <string.h>

#include "core/json.h"

/* Depth and size of a parsed tree; returns 0 when within the limits. */
static int
check_limits(const cJSON *item, int depth, int *count)
{
	if (depth > JSON_MAX_DEPTH)
		return JSON_E_LIMIT;
	for (const cJSON *c = item->child; c != NULL; c = c->next) {
		if (++*count > JSON_MAX_ITEMS)
			return JSON_E_LIMIT;
		if (c->child != NULL && check_limits(c, depth + 1, count) != 0)
			return JSON_E_LIMIT;
	}
	return 0;
}

/*
 * Before handing the text to the parser: refuse nesting deeper than the limit (cJSON recurses)
 * and the escape \u0000 in any string, key or value (cJSON would end the string there and
 * drop the rest silently). 0, JSON_E_LIMIT or JSON_E_SYNTAX.
 */
static int
prescan(const char *text, size_t len)
{
	int depth = 0, in_str = 0;

	for (size_t i = 0; i < len; i++) {
		char ch = text[i];
		if (in_str) {
			if (ch == '\\' && len - i > 5 && memcmp(text + i + 1, "u0000", 5) == 0)
				return JSON_E_SYNTAX;
			if (ch == '\\')
				i++;
			else if (ch == '"')
				in_str = 0;
			continue;
		}
		if (ch == '"')
			in_str = 1;
		else if ((ch == '{' || ch == '[') && ++depth > JSON_MAX_DEPTH)
			return JSON_E_LIMIT;
		else if (ch == '}' || ch == ']')
			depth--;
	}
	return 0;
}

int
json_parse_object(const char *text, size_t len, cJSON **out)
{
	cJSON *doc = NULL;
	int count = 0, rc;

	if (text == NULL || len == 0) {
		if ((doc = cJSON_CreateObject()) == NULL)
			return -12;
		*out = doc;
		return 0;
	}
	/* The text must be NUL-terminated at len and hold no NUL before it. */
	if (text[len] != '\0' || memchr(text, '\0', len) != NULL)
		return JSON_E_SYNTAX;
	if ((rc = prescan(text, len)) != 0)
		return rc;
	doc = cJSON_ParseWithLengthOpts(text, len + 1, NULL, 1);
	if (doc == NULL || !cJSON_IsObject(doc)) {
		cJSON_Delete(doc);
		return JSON_E_SYNTAX;
	}
	if ((rc = check_limits(doc, 1, &count)) != 0) {
		cJSON_Delete(doc);
		return rc;
	}
	*out = doc;
	return 0;
}

const char *
json_str(const cJSON *obj, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

void
json_field_error(cJSON *errs, const char *field, const char *msg)
{
	cJSON *e = cJSON_CreateObject();

	cJSON_AddStringToObject(e, "field", field);
	cJSON_AddStringToObject(e, "message", msg);
	cJSON_AddItemToArray(errs, e);
}

static int
by_line(const void *a, const void *b)
{
	const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;
	const cJSON *lx = cJSON_GetObjectItem(x, "line"), *ly = cJSON_GetObjectItem(y, "line");
	const cJSON *cx = cJSON_GetObjectItem(x, "column"), *cy = cJSON_GetObjectItem(y, "column");
	int l1 = cJSON_IsNumber(lx) ? lx->valueint : 0, l2 = cJSON_IsNumber(ly) ? ly->valueint : 0;
	int c1 = cJSON_IsNumber(cx) ? cx->valueint : 0, c2 = cJSON_IsNumber(cy) ? cy->valueint : 0;

	if (l1 != l2)
		return l1 < l2 ? -1 : 1;
	return (c1 > c2) - (c1 < c2);
}

void
json_sort_lines(cJSON *errs)
{
	int n = cJSON_GetArraySize(errs), i = 0;
	cJSON **v, *e;

	if (n < 2 || (v = malloc((size_t)n * sizeof(*v))) == NULL)
		return;
	while ((e = cJSON_DetachItemFromArray(errs, 0)) != NULL)
		v[i++] = e;
	qsort(v, (size_t)i, sizeof(*v), by_line);
	for (int k = 0; k < i; k++)
		cJSON_AddItemToArray(errs, v[k]);
	free(v);
}

void
json_add_text(cJSON *obj, const char *name, const char *v)
{
	cJSON_AddItemToObjectCS(obj, name, v != NULL ? cJSON_CreateString(v) : cJSON_CreateNull());
}

/* 1 when v is an integer as JSON writes it: an optional '-', then 1 to 19 digits. */
static int
plain_int(const char *v)
{
	size_t n;

	if (*v == '-')
		v++;
	n = strspn(v, "0123456789");
	return n > 0 && n <= 19 && v[n] == '\0' && (v[0] != '0' || n == 1);
}

void
json_add_int_text(cJSON *obj, const char *name, const char *v)
{
	cJSON *item;

	if (v == NULL)
		item = cJSON_CreateNull();
	else if (plain_int(v))
		item = cJSON_CreateRaw(v);
	else
		item = cJSON_CreateNumber((double)strtoll(v, NULL, 10));
	cJSON_AddItemToObjectCS(obj, name, item);
}
