/* test-qr.c: the QR code SVG: well-formed, the finder patterns in place, refusals. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/qr.h"
#include "tap.h"

static int
count(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
}

int
main(void)
{
	char *svg = NULL, *again = NULL, big[QR_MAX_TEXT + 2];
	size_t len = 0, len2 = 0;

	TAP_OK(qr_svg("https://localhost:8443/dl/demo/", &svg, &len) == 0, "a URL encodes");
	TAP_OK(svg != NULL && strlen(svg) == len, "the length is the string's");
	TAP_OK(svg && strncmp(svg, "<svg xmlns=\"http://www.w3.org/2000/svg\"", 39) == 0,
	       "it is an SVG element");
	TAP_OK(svg && strcmp(svg + len - 6, "</svg>") == 0, "it ends with </svg>");
	/* version 3 for 31 bytes at level M: 29 modules + 2 x 4 quiet = 37 */
	TAP_OK(svg && strstr(svg, "viewBox=\"0 0 37 37\"") != NULL,
	       "a 29-module code with its quiet zone");
	/* the top-left finder pattern: its corners are dark, its inner ring light */
	TAP_OK(svg && strstr(svg, "M4 4h1v1h-1z") && strstr(svg, "M10 10h1v1h-1z") &&
		       strstr(svg, "M4 10h1v1h-1z") && !strstr(svg, "M5 5h1v1h-1z"),
	       "the top-left finder pattern is where it belongs");
	TAP_OK(svg && count(svg, "h1v1h-1z") > 100, "hundreds of dark modules");
	TAP_OK(svg && strchr(svg, '<') && count(svg, "<") == count(svg, ">"), "tags balance");
	TAP_OK(qr_svg("https://localhost:8443/dl/demo/", &again, &len2) == 0 && len2 == len &&
		       memcmp(svg, again, len) == 0,
	       "the same text gives the same image");
	free(svg);
	free(again);
	svg = NULL;
	TAP_OK(qr_svg("", &svg, &len) == -EINVAL && svg == NULL, "empty text is refused");
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	TAP_OK(qr_svg(big, &svg, &len) == -EINVAL && svg == NULL,
	       "text over QR_MAX_TEXT is refused");
	big[QR_MAX_TEXT] = '\0';
	TAP_OK(qr_svg(big, &svg, &len) == 0 && svg != NULL, "QR_MAX_TEXT bytes encode");
	free(svg);
	return tap_done();
}
