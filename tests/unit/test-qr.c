/* test-qr.c: the QR code SVG: well-formed, the finder patterns in place, refusals. */
#include <errno.h>
#include <stdio.h>
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

	/* the modules themselves (what the PDF and the mail's PNG draw) */
	struct qr q;
	TAP_OK(qr_encode("https://localhost:8443/dl/demo/", &q) == 0 && q.width == 29,
	       "qr_encode: 29 modules a side");
	int finder = 1, svgsame = 1;
	for (int i = 0; i < 7; i++) /* the top-left finder's border: dark all round */
		finder &= q.dark[i] && q.dark[6 * q.width + i] && q.dark[i * q.width] &&
			  q.dark[i * q.width + 6];
	finder &= !q.dark[1 * q.width + 1] && q.dark[3 * q.width + 3];
	TAP_OK(finder, "qr_encode: the top-left finder pattern");
	svg = NULL;
	if (qr_svg("https://localhost:8443/dl/demo/", &svg, &len) == 0)
		for (int y = 0; y < q.width; y++)
			for (int x = 0; x < q.width; x++) {
				char m[32];
				snprintf(m, sizeof(m), "M%d %dh1v1h-1z", x + QR_QUIET,
					 y + QR_QUIET);
				svgsame &=
					(strstr(svg, m) != NULL) == (q.dark[y * q.width + x] != 0);
			}
	TAP_OK(svg != NULL && svgsame, "the SVG draws exactly the dark modules");
	free(svg);
	qr_free(&q);
	TAP_OK(q.dark == NULL && qr_encode("", &q) == -EINVAL && q.dark == NULL,
	       "qr_free clears; empty text is refused");
	return tap_done();
}
