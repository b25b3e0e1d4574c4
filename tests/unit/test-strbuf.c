/* test-strbuf.c: checked string building: appends that fit, appends that do not, the NUL. */
#include <errno.h>
#include <string.h>

#include "core/strbuf.h"
#include "tap.h"

int
main(void)
{
	char buf[8], big[64];
	struct strbuf b;

	strbuf_init(&b, buf, sizeof(buf));
	TAP_OK(b.len == 0 && buf[0] == '\0' && strbuf_error(&b) == 0, "starts empty, no error");
	TAP_OK(strbuf_printf(&b, "%d,%s", 12, "ab") == 0 && strcmp(buf, "12,ab") == 0 && b.len == 5,
	       "an append that fits");
	TAP_OK(strbuf_add(&b, "xy") == 0 && strcmp(buf, "12,abxy") == 0 && b.len == 7,
	       "filling to the last byte before the NUL");
	TAP_OK(strbuf_add(&b, "z") == -ENOSPC && strcmp(buf, "12,abxy") == 0 && b.len == 7,
	       "one byte too many: refused, the text as it was");
	TAP_OK(strbuf_error(&b) == -ENOSPC, "and the buffer remembers it");
	TAP_OK(strbuf_add(&b, "") == 0 && strbuf_error(&b) == -ENOSPC,
	       "a later append that fits does not clear the error");

	strbuf_init(&b, buf, sizeof(buf));
	TAP_OK(strbuf_add(&b, "abcdefghij") == -ENOSPC && buf[0] == '\0' && b.len == 0,
	       "a long first append leaves no partial text");

	strbuf_init(&b, big, sizeof(big));
	for (int i = 0; i < 10; i++)
		strbuf_printf(&b, "%s%d", i ? "," : "", i);
	TAP_OK(strbuf_error(&b) == 0 && strcmp(big, "0,1,2,3,4,5,6,7,8,9") == 0,
	       "a comma list built in a loop");

	strbuf_init(&b, buf, 0);
	TAP_OK(strbuf_add(&b, "") == -ENOSPC && strbuf_error(&b) == -ENOSPC,
	       "a zero-sized buffer takes nothing");
	return tap_done();
}
