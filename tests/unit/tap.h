/* tap.h: a tiny TAP producer for the C unit tests (ok / not ok lines, a plan at the end). */
#ifndef SHOMEI_TAP_H
#define SHOMEI_TAP_H

#include <stdio.h>
#include <string.h>

static int tap_n;
static int tap_failed;

/* Record one check; name is printed after the number. */
#define TAP_OK(cond, ...)                                                                          \
	do {                                                                                       \
		int tap_c_ = (cond) ? 1 : 0;                                                       \
		printf("%sok %d - ", tap_c_ ? "" : "not ", ++tap_n);                               \
		printf(__VA_ARGS__);                                                               \
		printf("\n");                                                                      \
		if (!tap_c_) {                                                                     \
			tap_failed++;                                                              \
			printf("# failed at %s:%d: %s\n", __FILE__, __LINE__, #cond);              \
		}                                                                                  \
	} while (0)

#define TAP_STREQ(a, b, ...)                                                                       \
	TAP_OK((a) != NULL && (b) != NULL && strcmp((a), (b)) == 0, __VA_ARGS__)

/* Print the plan; the exit code is non-zero when a check failed. */
static inline int
tap_done(void)
{
	printf("1..%d\n", tap_n);
	fflush(stdout);
	return tap_failed ? 1 : 0;
}

#endif
