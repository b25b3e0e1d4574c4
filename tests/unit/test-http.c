/* test-http.c: query strings, cookies, route patterns, Accept-Language, Accept-Encoding. */
#include "web/http.h"
#include "web/i18n.h"
#include "tap.h"

int
main(void)
{
	char buf[64];
	struct http_req req;

	memset(&req, 0, sizeof(req));
	TAP_OK(http_query_get("a=1&from=2026%2F11%2F01&q=%E3%83%AD+x", "from", buf, sizeof(buf)) ==
			       0 &&
		       strcmp(buf, "2026/11/01") == 0,
	       "query value decoded");
	TAP_OK(http_query_get("a=1&q=%E3%83%AD+x", "q", buf, sizeof(buf)) == 0 &&
		       strcmp(buf, "ロ x") == 0,
	       "UTF-8 and + decoded");
	TAP_OK(http_query_get("aa=1", "a", buf, sizeof(buf)) == HTTP_E_ABSENT,
	       "prefix of a name is not the name");
	TAP_OK(http_query_get("a", "a", buf, sizeof(buf)) == 0 && buf[0] == '\0',
	       "name without value");
	TAP_OK(http_query_get("a=", "a", buf, sizeof(buf)) == 0 && buf[0] == '\0', "empty value");
	TAP_OK(http_query_get("a=%zz", "a", buf, sizeof(buf)) == HTTP_E_ENCODING && buf[0] == '\0',
	       "bad escape is an encoding error, not absence");
	TAP_OK(http_query_get("a=x%4", "a", buf, sizeof(buf)) == HTTP_E_ENCODING,
	       "escape cut short at the end");
	TAP_OK(http_query_get("a=x%4&b=1", "a", buf, sizeof(buf)) == HTTP_E_ENCODING,
	       "escape cut short by &");
	TAP_OK(http_query_get("a=%ff", "a", buf, sizeof(buf)) == HTTP_E_ENCODING,
	       "not UTF-8 is an encoding error");
	TAP_OK(http_query_get("a=%E3%83", "a", buf, sizeof(buf)) == HTTP_E_ENCODING,
	       "truncated UTF-8 is an encoding error");
	TAP_OK(http_query_get("a=%C0%AF", "a", buf, sizeof(buf)) == HTTP_E_ENCODING,
	       "overlong UTF-8 is an encoding error");
	TAP_OK(http_query_get("a=x%00y", "a", buf, sizeof(buf)) == HTTP_E_ENCODING,
	       "%%00 is an encoding error (it would cut the value)");
	TAP_OK(http_query_get(
		       "a=0123456789012345678901234567890123456789012345678901234567890123456789",
		       "a", buf, sizeof(buf)) == HTTP_E_TOOLONG &&
		       buf[0] == '\0',
	       "value longer than the buffer is too long, not absent");
	TAP_OK(http_query_get("a=012345678901234567890123456789012345678901234567890123456789012",
			      "a", buf, sizeof(buf)) == 0 &&
		       strlen(buf) == 63,
	       "63 bytes fit a buffer of 64");
	TAP_OK(http_query_get("a=0123456789012345678901234567890123456789012345678901234567890123",
			      "a", buf, sizeof(buf)) == HTTP_E_TOOLONG,
	       "64 bytes do not fit a buffer of 64");
	/* 21 katakana: 189 bytes encoded, 63 decoded; the limit is the decoded length */
	TAP_OK(http_query_get("q=%E3%82%A2%E3%82%A2%E3%82%A2%E3%82%A2%E3%82%A2%E3%82%A2%E3%82%A2"
			      "%E3%82%A2%E3%82%A2%E3%82%A2%E3%82%A2%E3%82%A2%E3%82%A2%E3%82%A2"
			      "%E3%82%A2%E3%82%A2%E3%82%A2%E3%82%A2%E3%82%A2%E3%82%A2%E3%82%A2",
			      "q", buf, sizeof(buf)) == 0 &&
		       strlen(buf) == 63,
	       "encoded longer than the buffer, decoded within it: found");
	TAP_OK(http_query_get("", "a", buf, sizeof(buf)) == HTTP_E_ABSENT, "empty query");
	TAP_OK(http_query_get(NULL, "a", buf, sizeof(buf)) == HTTP_E_ABSENT, "no query");
	TAP_OK(http_query_get("a=%zz&a=1", "a", buf, sizeof(buf)) == HTTP_E_ENCODING,
	       "the first occurrence counts");

	TAP_OK(http_cookie_get("x=1; __Host-shomei=abc; y=2", "__Host-shomei", buf, sizeof(buf)) &&
		       strcmp(buf, "abc") == 0,
	       "cookie among others");
	TAP_OK(!http_cookie_get("x__Host-shomei=abc", "__Host-shomei", buf, sizeof(buf)),
	       "cookie name must match whole");
	TAP_OK(!http_cookie_get(NULL, "a", buf, sizeof(buf)), "no cookie header");

	TAP_OK(http_route_match(&req, "/api/users/{id}", "/api/users/42") && req.nargs == 1 &&
		       strcmp(req.args[0], "42") == 0,
	       "placeholder captured");
	TAP_OK(http_route_match(&req, "/api/certificates/{id}/p12", "/api/certificates/7/p12") &&
		       strcmp(req.args[0], "7") == 0,
	       "placeholder in the middle");
	TAP_OK(!http_route_match(&req, "/api/users/{id}", "/api/users/"), "empty placeholder");
	TAP_OK(!http_route_match(&req, "/api/users/{id}", "/api/users/1/x"), "extra segment");
	TAP_OK(!http_route_match(&req, "/api/audit", "/api/audits"), "longer path");
	TAP_OK(http_route_match(&req, "/api/audit", "/api/audit"), "exact path");

	TAP_OK(i18n_lang(NULL) == I18N_JA, "no Accept-Language: Japanese");
	TAP_OK(i18n_lang("en-US,en;q=0.9") == I18N_EN, "English first");
	TAP_OK(i18n_lang("ja,en;q=0.8") == I18N_JA, "Japanese first");
	TAP_OK(i18n_lang("fr, en;q=0.5") == I18N_EN, "first known language wins");
	TAP_OK(i18n_lang("english") == I18N_JA, "not a language tag");
	TAP_OK(http_accepts_gzip("gzip, deflate, br, zstd"),
	       "a browser's Accept-Encoding takes gzip");
	TAP_OK(http_accepts_gzip("deflate,GZIP;q=0.5"), "gzip by any case, with a weight");
	TAP_OK(http_accepts_gzip("x-gzip"), "x-gzip is gzip");
	TAP_OK(http_accepts_gzip("*"), "* takes gzip");
	TAP_OK(http_accepts_gzip("gzip;q=0.001"), "a small weight still takes it");
	TAP_OK(!http_accepts_gzip(NULL) && !http_accepts_gzip(""), "no Accept-Encoding: plain");
	TAP_OK(!http_accepts_gzip("deflate, br"), "other codings only: plain");
	TAP_OK(!http_accepts_gzip("gzip;q=0"), "q=0 refuses gzip");
	TAP_OK(!http_accepts_gzip("gzip; q=0.000 , br"), "q=0.000 refuses gzip");
	TAP_OK(!http_accepts_gzip("*, gzip;q=0"), "gzip refused by name though * is taken");
	TAP_OK(!http_accepts_gzip("*;q=0"), "* with q=0 takes nothing");
	TAP_OK(!http_accepts_gzip("gzipx, xgzip"), "a longer name is not gzip");
	TAP_OK(http_is_state_changing("POST") && !http_is_state_changing("GET"), "methods");
	return tap_done();
}
