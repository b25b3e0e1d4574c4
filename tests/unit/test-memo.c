/* test-memo.c: the small in-process cache behind `me` and the history's totals. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/memo.h"
#include "tap.h"

static int
is(char *got, const char *want)
{
	int ok = got != NULL && want != NULL ? strcmp(got, want) == 0 : got == NULL && want == NULL;

	free(got);
	return ok;
}

int
main(void)
{
	static struct memo m = MEMO_INIT(1);
	char longkey[MEMO_KEY_MAX + 8];

	TAP_OK(is(memo_get(&m, "a", 1), NULL), "empty: nothing");
	memo_put(&m, "a", 1, "first");
	TAP_OK(is(memo_get(&m, "a", 1), "first"), "a stored value comes back");
	TAP_OK(is(memo_get(&m, "a", 2), NULL), "not under another tag");
	TAP_OK(is(memo_get(&m, "b", 1), NULL), "not for another key");
	memo_put(&m, "a", 2, "second");
	TAP_OK(is(memo_get(&m, "a", 2), "second") && is(memo_get(&m, "a", 1), NULL),
	       "a new value replaces the old one");
	memset(longkey, 'k', sizeof(longkey) - 1);
	longkey[sizeof(longkey) - 1] = '\0';
	memo_put(&m, longkey, 1, "x");
	TAP_OK(is(memo_get(&m, longkey, 1), NULL), "a key over MEMO_KEY_MAX is never cached");
	/* every key lands somewhere: many keys, the last one stored is always found */
	int all = 1;
	for (int i = 0; i < 4 * MEMO_SLOTS; i++) {
		char k[16], v[16];
		snprintf(k, sizeof(k), "k%d", i);
		snprintf(v, sizeof(v), "v%d", i);
		memo_put(&m, k, 0, v);
		all &= is(memo_get(&m, k, 0), v);
	}
	TAP_OK(all, "more keys than slots: each is found right after it is stored");
	sleep(2);
	TAP_OK(is(memo_get(&m, "a", 2), NULL), "after the age limit: nothing");
	return tap_done();
}
