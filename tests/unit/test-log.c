/* test-log.c: the log lines, key=value and JSON: escaping, fields a value cannot forge, the
 * reserved names, cutting a long line, and log_msg itself on standard error. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "core/log.h"
#include "tap.h"

static char line[8192];
static const char *TS = "2026-12-01T17:19:16.123Z";

static cJSON *__attribute__((format(printf, 3, 4)))
render(size_t cap, const char *req, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	n = log_render(line, cap, LOG_FORMAT_JSON, TS, "shomei-issue", LOG_WARN, req, fmt, ap);
	va_end(ap);
	if (n != strlen(line) || n >= cap)
		return NULL;
	return cJSON_Parse(line);
}

static const char *
member(const cJSON *o, const char *name)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsString(m) ? m->valuestring : NULL;
}

/* one line: no byte below 0x20 (cJSON would take a raw newline inside a string) */
static int
one_line(void)
{
	for (const unsigned char *p = (const unsigned char *)line; *p; p++)
		if (*p < 0x20)
			return 0;
	return 1;
}

static int
members(const cJSON *o)
{
	return cJSON_GetArraySize(o);
}

int
main(void)
{
	const char *volatile nullstr = NULL;
	const char *nasty = "a \"quoted\" word\\ and\nsecond line\r\t\x01 日本語 😀 end";
	char *big;
	cJSON *o;

	o = render(sizeof(line), "", "event=crl_publish_failed rc=%d reason=\"%s\"", -5, nasty);
	TAP_OK(o != NULL && one_line(),
	       "quotes, backslash, newline, CR, tab, a control character and non-ASCII: one valid JSON line");
	TAP_STREQ(member(o, "reason"), nasty, "the value comes back exactly as given");
	TAP_STREQ(member(o, "rc"), "-5", "a number is a string member");
	TAP_STREQ(member(o, "time"), TS, "time");
	TAP_STREQ(member(o, "level"), "warn", "level");
	TAP_STREQ(member(o, "service"), "shomei-issue", "service");
	TAP_STREQ(member(o, "event"), "crl_publish_failed", "event");
	TAP_OK(strncmp(line, "{\"time\":", 8) == 0 && strstr(line, "\\u0001") &&
		       strstr(line, "\\n") && strstr(line, "日本語"),
	       "time first; control characters as \\uXXXX or \\n; UTF-8 written as it is: %s",
	       line);
	TAP_OK(cJSON_GetObjectItem(o, "req") == NULL && members(o) == 6,
	       "no req member while none is set");
	cJSON_Delete(o);

	o = render(sizeof(line), "r-42", "event=x path=%s reason=\"%s\"", "/a b=c",
		   "z\" admin=1 \"");
	TAP_STREQ(member(o, "path"), "/a b=c",
		  "an unquoted value with spaces and '=' stays one value");
	TAP_STREQ(member(o, "reason"), "z\" admin=1 \"",
		  "a value cannot close its quotes and forge a field");
	TAP_OK(cJSON_GetObjectItem(o, "admin") == NULL && cJSON_GetObjectItem(o, "b") == NULL,
	       "no member made from a value's text");
	TAP_STREQ(member(o, "req"), "r-42", "the request id");
	cJSON_Delete(o);

	o = render(sizeof(line), "", "event=bytes v=%s", "ok\xff\xc3(\xed\xa0\x80!");
	TAP_OK(o != NULL && strstr(line, "\\ufffd") != NULL,
	       "bytes that are not UTF-8 become U+FFFD");
	TAP_STREQ(member(o, "v"),
		  "ok\xef\xbf\xbd\xef\xbf\xbd(\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd!",
		  "one U+FFFD per stray byte, surrogates refused");
	cJSON_Delete(o);

	o = render(sizeof(line), "", "event=stopped service=%s time=%d level=x req=y truncated=z",
		   "issue", 3);
	TAP_STREQ(member(o, "service"), "shomei-issue",
		  "a field named service does not replace the program");
	TAP_OK(member(o, "field_service") && strcmp(member(o, "field_service"), "issue") == 0 &&
		       member(o, "field_time") && member(o, "field_level") &&
		       member(o, "field_req") && member(o, "field_truncated"),
	       "fields with the line's own names are field_<name>");
	cJSON_Delete(o);

	o = render(
		sizeof(line), "",
		"event=fmt a=%lld b=%zu c=%5.2f d=%lx e=%c f=%.*s g=%%done h=%u i=%hhd j=%-4s| k=%s",
		-9LL, (size_t)7, 3.14159, 255UL, 'Q', 3, "abcdef", 4000000000U, (signed char)-3,
		"ab", nullstr);
	TAP_OK(o && strcmp(member(o, "a"), "-9") == 0 && strcmp(member(o, "b"), "7") == 0 &&
		       strcmp(member(o, "c"), " 3.14") == 0 && strcmp(member(o, "d"), "ff") == 0 &&
		       strcmp(member(o, "e"), "Q") == 0 && strcmp(member(o, "f"), "abc") == 0 &&
		       strcmp(member(o, "g"), "%done") == 0 &&
		       strcmp(member(o, "h"), "4000000000") == 0 &&
		       strcmp(member(o, "i"), "-3") == 0 && strcmp(member(o, "j"), "ab  |") == 0 &&
		       strcmp(member(o, "k"), "(null)") == 0,
	       "conversions as printf gives them, each argument read with its own type: %s", line);
	cJSON_Delete(o);

	o = render(sizeof(line), "", "event=allow op=%s callers=\"%s\" (the signer's own user)",
		   "sign", "shomei");
	TAP_STREQ(member(o, "callers"), "shomei (the signer's own user)",
		  "words outside key=value join the value before them");
	cJSON_Delete(o);
	o = render(sizeof(line), "", "no key here %d", 5);
	TAP_STREQ(member(o, "msg"), "no key here 5", "a line with no key=value at all: msg");
	TAP_STREQ(member(o, "event"), "log", "and event log");
	cJSON_Delete(o);

	big = malloc(30001);
	for (int i = 0; i < 10000; i++)
		memcpy(big + 3 * i, "あ", 3);
	big[30000] = '\0';
	o = render(sizeof(line), "", "event=long a=1 v=%s z=after", big);
	TAP_OK(o != NULL && one_line() && strlen(line) < sizeof(line) &&
		       line[strlen(line) - 1] == '}',
	       "a line too long is cut and still one valid JSON object (%zu bytes)", strlen(line));
	TAP_STREQ(member(o, "truncated"), "true", "marked truncated");
	{
		const char *v = member(o, "v");
		int whole = v != NULL && strlen(v) > 1000 && strlen(v) % 3 == 0;

		for (size_t i = 0; whole && i < strlen(v); i += 3)
			whole = memcmp(v + i, "あ", 3) == 0;
		TAP_OK(whole, "cut between characters, never inside one");
	}
	TAP_STREQ(member(o, "a"), "1", "the fields before the cut are there");
	cJSON_Delete(o);
	for (size_t cap = 256; cap < 1200; cap += 7) {
		o = render(cap, "req-id", "event=long a=%s b=\"%s\" c=%s", nasty, big + 3 * 9000,
			   nasty);
		if (o == NULL || !one_line())
			break;
		cJSON_Delete(o);
		o = NULL;
		if (cap + 7 >= 1200)
			o = cJSON_CreateObject();
	}
	TAP_OK(o != NULL, "valid JSON cut at every buffer size from 256 to 1200 bytes (last: %s)",
	       line);
	cJSON_Delete(o);
	free(big);

	/* log_msg: stderr into a file */
	{
		FILE *f = tmpfile();
		int saved = dup(2);
		char got[4096];
		size_t n;

		fflush(stderr);
		dup2(fileno(f), 2);
		log_init("shomei-test", "info", LOG_FORMAT_JSON);
		log_msg(LOG_DEBUG, "event=hidden secret=%s", "below the level");
		log_msg(LOG_INFO, "event=shown reason=\"%s\"", "two\nlines");
		log_init("shomei-test", "info", LOG_FORMAT_TEXT);
		log_set_request("abc");
		log_msg(LOG_ERROR, "event=text k=%d", 1);
		log_set_request(NULL);
		fflush(stderr);
		dup2(saved, 2);
		close(saved);
		rewind(f);
		n = fread(got, 1, sizeof(got) - 1, f);
		got[n] = '\0';
		fclose(f);
		char *nl = strchr(got, '\n');
		TAP_OK(nl != NULL && strstr(got, "hidden") == NULL,
		       "log_msg writes nothing below its level");
		if (nl)
			*nl = '\0';
		o = cJSON_Parse(got);
		TAP_OK(o && strcmp(member(o, "event"), "shown") == 0 &&
			       strcmp(member(o, "reason"), "two\nlines") == 0 &&
			       strcmp(member(o, "level"), "info") == 0 &&
			       strcmp(member(o, "service"), "shomei-test") == 0,
		       "log_init(json): log_msg writes one JSON line: %s", got);
		TAP_OK(o && member(o, "time") && strlen(member(o, "time")) == 24 &&
			       member(o, "time")[10] == 'T' && member(o, "time")[23] == 'Z',
		       "time is RFC 3339 UTC with milliseconds");
		cJSON_Delete(o);
		TAP_OK(nl && strncmp(nl + 1, "ts=", 3) == 0 &&
			       strstr(nl + 1,
				      " prog=shomei-test level=error req=abc event=text k=1\n") !=
				       NULL,
		       "log_init(text): key=value as before: %s", nl ? nl + 1 : "");
	}
	return tap_done();
}
