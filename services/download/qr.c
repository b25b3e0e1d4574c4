/* qr.c: a QR code (libqrencode) drawn as SVG by our own code. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qrencode.h>

#include "qr.h"

#define QUIET 4

/* Append one dark module as a path segment; buf has room for it. */
static size_t
module(char *buf, size_t at, size_t cap, int x, int y)
{
	int n = snprintf(buf + at, cap - at, "M%d %dh1v1h-1z", x + QUIET, y + QUIET);

	return n > 0 ? (size_t)n : 0;
}

int
qr_svg(const char *text, char **out, size_t *len)
{
	QRcode *q = NULL;
	char *buf = NULL;
	size_t cap, o = 0;
	int rc = -ENOMEM, w, size;

	if (text == NULL || *text == '\0' || strlen(text) > QR_MAX_TEXT)
		return -EINVAL;
	if ((q = QRcode_encodeString8bit(text, 0, QR_ECLEVEL_M)) == NULL)
		return errno == ERANGE || errno == EINVAL ? -EINVAL : -ENOMEM;
	w = q->width;
	size = w + 2 * QUIET;
	/* header and footer, and at most 24 bytes ("M177 177h1v1h-1z") a module */
	cap = 512 + (size_t)w * (size_t)w * 24;
	if ((buf = malloc(cap)) == NULL)
		goto out;
	o += (size_t)snprintf(
		buf + o, cap - o,
		"<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" "
		"shape-rendering=\"crispEdges\" role=\"img\">"
		"<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/><path fill=\"#000\" d=\"",
		size, size, size, size);
	for (int y = 0; y < w; y++)
		for (int x = 0; x < w; x++)
			if (q->data[y * w + x] & 1)
				o += module(buf, o, cap, x, y);
	o += (size_t)snprintf(buf + o, cap - o, "\"/></svg>");
	*out = buf;
	*len = o;
	buf = NULL;
	rc = 0;
out:
	free(buf);
	QRcode_free(q);
	return rc;
}
