/* test-json.c: request-body parsing and its limits. */
#include <stdlib.h>

#include "core/json.h"
#include "core/strbuf.h"
#include "tap.h"

int
main(void)
{
	static const struct {
		const char *text;
		int rc;
		const char *what;
	} cases[] = {
		{"{\"a\":\"b\"}", 0, "object"},
		{"", 0, "empty body is {}"},
		{"  {\"a\" : [1, 2, {\"b\": null}]} ", 0, "whitespace and nesting"},
		{"[1,2]", JSON_E_SYNTAX, "array refused"},
		{"\"s\"", JSON_E_SYNTAX, "string refused"},
		{"{\"a\":}", JSON_E_SYNTAX, "garbage"},
		{"{\"a\":\"b\"} x", JSON_E_SYNTAX, "trailing garbage"},
		{"{\"a\":\"b\"", JSON_E_SYNTAX, "truncated"},
		{"{\"s\":\"[[[[[[[[[[[[[[[[[[[[[[\"}", 0, "brackets inside a string are text"},
		/* cJSON ends a string at \u0000 and drops the rest: refused, not truncated */
		{"{\"name\":\"ab\\u0000cd\"}", JSON_E_SYNTAX, "\\u0000 inside a value refused"},
		{"{\"name\":\"\\u0000\"}", JSON_E_SYNTAX, "\\u0000 as a whole value refused"},
		{"{\"a\":{\"b\":[\"x\\u0000\"]}}", JSON_E_SYNTAX,
		 "\\u0000 nested in an array refused"},
		{"{\"na\\u0000me\":\"x\"}", JSON_E_SYNTAX, "\\u0000 in a key refused"},
		{"{\"a\":\"\\u0000\\u0041\"}", JSON_E_SYNTAX,
		 "\\u0000 before more escapes refused"},
		{"{\"a\":\"\\\\u0000\"}", 0, "an escaped backslash then u0000 is text"},
		{"{\"a\":\"\\u0001\\u00e9\\u3042\"}", 0, "other \\u escapes accepted"},
		{"{\"a\":\"x\\u000\"}", JSON_E_SYNTAX,
		 "a short \\u escape is cJSON's syntax error"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cJSON *o = NULL;
		const char *t = cases[i].text;
		int rc = json_parse_object(t, strlen(t), &o);
		TAP_OK(rc == cases[i].rc, "%s", cases[i].what);
		cJSON_Delete(o);
	}

	/* depth: 16 levels pass, 17 fail, 100000 fail without recursion */
	char deep[64];
	size_t n = 0;
	deep[n++] = '{';
	deep[n++] = '"';
	deep[n++] = 'a';
	deep[n++] = '"';
	deep[n++] = ':';
	for (int i = 0; i < 15; i++)
		deep[n++] = '[';
	for (int i = 0; i < 15; i++)
		deep[n++] = ']';
	deep[n++] = '}';
	deep[n] = 0;
	cJSON *o = NULL;
	TAP_OK(json_parse_object(deep, n, &o) == 0, "16 levels accepted");
	cJSON_Delete(o);
	size_t big = 200000;
	char *bomb = malloc(big + 8);
	memcpy(bomb, "{\"a\":", 5);
	memset(bomb + 5, '[', big);
	bomb[big + 5] = 0;
	TAP_OK(json_parse_object(bomb, big + 5, &o) == JSON_E_LIMIT, "deep nesting refused");
	free(bomb);

	/* many values */
	size_t cap = 10 * 20002 + 16;
	char *wide = malloc(cap);
	struct strbuf sb;
	strbuf_init(&sb, wide, cap);
	strbuf_add(&sb, "{\"a\":[");
	for (int i = 0; i < 10001; i++)
		strbuf_printf(&sb, "%s1", i ? "," : "");
	strbuf_add(&sb, "]}");
	TAP_OK(strbuf_error(&sb) == 0 && json_parse_object(wide, sb.len, &o) == JSON_E_LIMIT,
	       "more than 10000 values refused");
	free(wide);

	const char *t = "{\"s\":\"x\",\"n\":1}";
	json_parse_object(t, strlen(t), &o);
	TAP_STREQ(json_str(o, "s"), "x", "json_str reads a string");
	TAP_OK(json_str(o, "n") == NULL, "json_str refuses a number");
	TAP_OK(json_str(o, "missing") == NULL, "json_str of a missing key");
	cJSON_Delete(o);
	/* the list helpers: the same JSON as cJSON's own adders, keys not copied */
	cJSON *row = cJSON_CreateObject();
	json_add_text(row, "a", "x\"y\\z\n\x01日");
	json_add_text(row, "b", NULL);
	json_add_int_text(row, "c", "1234567890123");
	json_add_int_text(row, "d", "-5");
	json_add_int_text(row, "e", "0");
	json_add_int_text(row, "f", NULL);
	json_add_int_text(row, "g", "007");
	json_add_int_text(row, "h", "9223372036854775807");
	char *out = cJSON_PrintUnformatted(row);
	TAP_OK(out != NULL && strcmp(out, "{\"a\":\"x\\\"y\\\\z\\n\\u0001日\",\"b\":null,"
					  "\"c\":1234567890123,\"d\":-5,\"e\":0,\"f\":null,\"g\":7,"
					  "\"h\":9223372036854775807}") == 0,
	       "json_add_text / json_add_int_text: escaped text, null, integers as written (%s)",
	       out ? out : "NULL");
	cJSON *back = out ? cJSON_Parse(out) : NULL;
	TAP_OK(back != NULL &&
		       strcmp(cJSON_GetObjectItem(back, "a")->valuestring, "x\"y\\z\n\x01日") ==
			       0 &&
		       cJSON_GetObjectItem(back, "c")->valuedouble == 1234567890123.0,
	       "which parses back to the same values");
	cJSON_Delete(back);
	free(out);
	cJSON_Delete(row);
	return tap_done();
}
