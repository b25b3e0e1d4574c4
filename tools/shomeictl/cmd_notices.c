/* cmd_notices.c: shomeictl notices due — the expiry reminders due by a time, queued once. */
#define _DEFAULT_SOURCE /* timegm */
#include <stdio.h>
#include <time.h>

#include "domain/notice.h"
#include "extern.h"
#include "web/valid.h"

/* "yyyy/mm/dd hh:mm" (or "yyyy/mm/dd", 00:00) in JST as epoch seconds; 0 or -1. */
static int
parse_jst(const char *s, time_t *out)
{
	struct tm tm = {0};
	int y, mo, d, h, mi;

	if (valid_datetime(s) != 0 || valid_parse_datetime(s, &y, &mo, &d, &h, &mi) != 0)
		return -1;
	tm.tm_year = y - 1900, tm.tm_mon = mo - 1, tm.tm_mday = d, tm.tm_hour = h, tm.tm_min = mi;
	*out = timegm(&tm) - 9 * 3600;
	return 0;
}

int
cmd_notices_due(struct cmd_ctx *cx)
{
	const char *as_of = opt_get(cx, "as-of");
	time_t at = time(NULL);
	long long r = 0, d = 0;

	if (as_of != NULL && parse_jst(as_of, &at) != 0) {
		ctl_err(cx, "--as-of: '%s' is not a JST time \"yyyy/mm/dd hh:mm\"", as_of);
		return CTL_USAGE;
	}
	if (ctl_db(cx) != 0)
		return CTL_FAIL;
	if (notice_due(&cx->db, at, &r, &d) != 0) {
		ctl_err(cx, "the due reminders could not be queued (database)");
		return CTL_FAIL;
	}
	printf("%lld reminders queued, %lld digests queued\n", r, d);
	return CTL_OK;
}
