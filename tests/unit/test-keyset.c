/* test-keyset.c: a list's cursors (valid, boundary, empty, garbage) and the order of a page's rows.
 */
#include <stdio.h>
#include <string.h>

#include "web/i18n.h"
#include "web/keyset.h"
#include "tap.h"

struct read_case {
	const char *query;
	enum keyset_key kind;
	int bad;              /* failures keyset_read reports */
	enum keyset_dir dir;  /* when bad == 0 */
	const char *key, *id; /* the parameters (NULL: none) */
	const char *offset;
	long page;
};

static const struct read_case cases[] = {
	/* valid */
	{"", KEYSET_INT, 0, KEYSET_FIRST, NULL, NULL, "0", 1},
	{"page=1", KEYSET_INT, 0, KEYSET_FIRST, NULL, NULL, "0", 1},
	{"after=%5B%221700000000000000%22%2C42%5D&page=3", KEYSET_INT, 0, KEYSET_AFTER,
	 "1700000000000000", "42", "0", 3},
	{"before=%5Bnull%2C7%5D&page=2", KEYSET_INT, 0, KEYSET_BEFORE, NULL, "7", "0", 2},
	{"after=%5B%22-5%22%2C1%5D", KEYSET_INT, 0, KEYSET_AFTER, "-5", "1", "0", 1},
	{"before=%5B%22%E3%82%B5%E3%83%88%E3%82%A6%5Cu001f%E3%83%A6%E3%83%9F%22%2C9%5D",
	 KEYSET_TEXT, 0, KEYSET_BEFORE, "サトウ\x1fユミ", "9", "0", 1},
	{"last=1&page=200", KEYSET_TEXT, 0, KEYSET_LAST, NULL, NULL, "0", 200},
	{"last=0", KEYSET_TEXT, 0, KEYSET_FIRST, NULL, NULL, "0", 1},
	/* a page number alone jumps */
	{"page=4", KEYSET_INT, 0, KEYSET_FIRST, NULL, NULL, "300", 4},
	/* empty values are absence */
	{"after=&before=", KEYSET_INT, 0, KEYSET_FIRST, NULL, NULL, "0", 1},
	/* boundary: the largest id JSON numbers hold exactly */
	{"after=%5Bnull%2C9007199254740991%5D", KEYSET_INT, 0, KEYSET_AFTER, NULL,
	 "9007199254740991", "0", 1},
	/* garbage */
	{"after=x", KEYSET_INT, 1, 0, NULL, NULL, NULL, 0},
	{"after=%5B1%2C2%5D", KEYSET_INT, 1, 0, NULL, NULL, NULL, 0},       /* key a number */
	{"after=%5B%22a%22%2C2%5D", KEYSET_INT, 1, 0, NULL, NULL, NULL, 0}, /* not an integer */
	{"after=%5B%22a%22%2C2%5D", KEYSET_TEXT, 0, KEYSET_AFTER, "a", "2", "0", 1},
	{"after=%5B%22a%22%2C0%5D", KEYSET_TEXT, 1, 0, NULL, NULL, NULL, 0},   /* id 0 */
	{"after=%5B%22a%22%2C1.5%5D", KEYSET_TEXT, 1, 0, NULL, NULL, NULL, 0}, /* id not whole */
	{"after=%5B%22a%22%5D", KEYSET_TEXT, 1, 0, NULL, NULL, NULL, 0},       /* no id */
	{"after=%5B%22a%22%2C1%2C2%5D", KEYSET_TEXT, 1, 0, NULL, NULL, NULL, 0},
	{"after=%7B%7D", KEYSET_TEXT, 1, 0, NULL, NULL, NULL, 0},
	{"after=%5B%221234567890123456789%22%2C1%5D", KEYSET_INT, 1, 0, NULL, NULL, NULL, 0},
	{"after=%5B%22%FF%22%2C1%5D", KEYSET_TEXT, 1, 0, NULL, NULL, NULL, 0}, /* not UTF-8 */
	/* more than one place to start */
	{"after=%5Bnull%2C1%5D&before=%5Bnull%2C2%5D", KEYSET_INT, 1, 0, NULL, NULL, NULL, 0},
	{"after=%5Bnull%2C1%5D&last=1", KEYSET_INT, 1, 0, NULL, NULL, NULL, 0},
	{"last=2", KEYSET_INT, 1, 0, NULL, NULL, NULL, 0},
	{"page=0", KEYSET_INT, 1, 0, NULL, NULL, NULL, 0},
	{"page=-1", KEYSET_INT, 1, 0, NULL, NULL, NULL, 0},
};

static int
same(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

static void
test_read(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct read_case *c = &cases[i];
		cJSON *errs = cJSON_CreateArray();
		struct keyset ks;
		int bad = keyset_read(c->query, c->kind, I18N_JA, errs, &ks);

		if (c->bad)
			TAP_OK(bad > 0 && cJSON_GetArraySize(errs) > 0, "\"%s\": refused, named",
			       c->query);
		else
			TAP_OK(bad == 0 && ks.dir == c->dir &&
				       same(keyset_key_param(&ks), c->key) &&
				       same(keyset_id_param(&ks), c->id) &&
				       strcmp(ks.offset, c->offset) == 0 && ks.page == c->page,
			       "\"%s\": dir %d, key %s, id %s, offset %s, page %ld", c->query,
			       ks.dir, keyset_key_param(&ks) ? keyset_key_param(&ks) : "-",
			       keyset_id_param(&ks) ? keyset_id_param(&ks) : "-", ks.offset,
			       ks.page);
		cJSON_Delete(errs);
	}
}

/* The rows of a page: how many, in which order, and the last page of an exact total. */
static void
test_rows(void)
{
	struct keyset ks;
	cJSON *errs = cJSON_CreateArray();

	keyset_read("", KEYSET_INT, I18N_JA, errs, &ks);
	keyset_limit(&ks, 250, 0, 100);
	TAP_OK(strcmp(ks.limit, "101") == 0, "first page: one row more than a page is read");
	TAP_OK(keyset_rows(&ks, 101, 100) == 100 && keyset_rows(&ks, 40, 100) == 40,
	       "first page: at most 100 rows shown");
	TAP_OK(keyset_row(&ks, 101, 100, 0) == 0 && keyset_row(&ks, 101, 100, 99) == 99,
	       "forwards: rows in the order read");
	keyset_read("last=1", KEYSET_INT, I18N_JA, errs, &ks);
	keyset_limit(&ks, 250, 0, 100);
	TAP_OK(strcmp(ks.limit, "51") == 0, "last page of 250: the 50 after the full pages (+1)");
	TAP_OK(keyset_rows(&ks, 51, 100) == 50 && keyset_row(&ks, 51, 100, 0) == 49 &&
		       keyset_row(&ks, 51, 100, 49) == 0,
	       "backwards: 50 rows shown, turned round");
	keyset_limit(&ks, 300, 0, 100);
	TAP_OK(strcmp(ks.limit, "101") == 0, "last page of 300: a full page");
	keyset_limit(&ks, 25001, 1, 100);
	TAP_OK(strcmp(ks.limit, "101") == 0, "last page of an estimated total: a full page");
	keyset_read("page=3", KEYSET_INT, I18N_JA, errs, &ks);
	keyset_limit(&ks, 1000, 0, 20);
	TAP_OK(strcmp(ks.offset, "40") == 0, "a jump to page 3 of 20 a page skips 40 rows");
	cJSON_Delete(errs);
}

/* A total the writers keep: exact to KEYSET_EXACT_MAX, marked estimated above, never changed. */
static void
test_known(void)
{
	static const struct {
		long long n;
		int est;
	} cases[] = {{0, 0}, {1, 0}, {9999, 0}, {10000, 0}, {10001, 1}, {1000000, 1}};
	long long total;
	int est;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		total = -1, est = -1;
		keyset_known(cases[i].n, &total, &est);
		TAP_OK(total == cases[i].n && est == cases[i].est, "kept total %lld: %s",
		       cases[i].n, cases[i].est ? "shown as 約 N" : "exact");
	}
}

int
main(void)
{
	test_read();
	test_rows();
	test_known();
	return tap_done();
}
