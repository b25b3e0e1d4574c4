/* test-csv.c: CSV cells: quoting, doubled quotes, and the formula guard (= + - @ tab CR first). */
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "web/csv.h"

static const struct {
	const char *in;
	const char *out;
	const char *what;
} cases[] = {
	{"", "\"\"", "empty"},
	{"abc", "\"abc\"", "plain text"},
	{"client_000001", "\"client_000001\"", "a numbered certificate's CN"},
	{"a,b", "\"a,b\"", "a comma stays inside the quotes"},
	{"a\"b", "\"a\"\"b\"", "a quote is doubled"},
	{"a\r\nb", "\"a\r\nb\"", "a line break inside stays inside the quotes"},
	{"=1+2", "\"'=1+2\"", "= first: an apostrophe before it"},
	{"+81", "\"'+81\"", "+ first"},
	{"-1", "\"'-1\"", "- first"},
	{"@SUM(A1)", "\"'@SUM(A1)\"", "@ first"},
	{"\tx", "\"'\tx\"", "tab first"},
	{"\rx", "\"'\rx\"", "CR first"},
	{"=\"x\"", "\"'=\"\"x\"\"\"", "a formula with quotes: guarded and doubled"},
	{"a=b", "\"a=b\"", "= not first: as it is"},
	{" =1", "\" =1\"", "a space first: as it is"},
	{"'=1", "\"'=1\"", "an apostrophe first: as it is"},
	{"山田", "\"山田\"", "UTF-8 text"},
};

int
main(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = 0;
		char *q = csv_quote(cases[i].in, &len);
		TAP_OK(q != NULL && strcmp(q, cases[i].out) == 0 && len == strlen(cases[i].out),
		       "csv_quote: %s", cases[i].what);
		free(q);
	}
	TAP_OK(csv_is_formula("=x") && csv_is_formula("-") && !csv_is_formula("") &&
		       !csv_is_formula("x-"),
	       "csv_is_formula: the first character only");
	char *q = csv_quote("=", NULL);
	TAP_OK(q != NULL && strcmp(q, "\"'=\"") == 0, "csv_quote without a length");
	free(q);
	return tap_done();
}
