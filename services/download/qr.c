/* qr.c: a QR code (libqrencode) drawn as SVG by our own code. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qrencode.h>

#include "qr.h"
#include "core/strbuf.h"

#define QUIET 4

/* Append one dark module as a path segment; buf has room for it. */

int
qr_svg(const char *text, char **out, size_t *len)
{
	QRcode *q = NULL;
	char *buf = NULL;
	struct strbuf b;
	size_t cap;
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
	strbuf_init(&b, buf, cap);
	strbuf_printf(&b,
		      "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" "
		      "shape-rendering=\"crispEdges\" role=\"img\">"
		      "<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/><path fill=\"#000\" d=\"",
		      size, size, size, size);
	for (int y = 0; y < w; y++)
		for (int x = 0; x < w; x++)
			if (q->data[y * w + x] & 1)
				strbuf_printf(&b, "M%d %dh1v1h-1z", x + QUIET, y + QUIET);
	if (strbuf_add(&b, "\"/></svg>") != 0 || strbuf_error(&b) != 0) {
		rc = -ENOSPC;
		goto out;
	}
	*out = buf;
	*len = b.len;
	buf = NULL;
	rc = 0;
out:
	free(buf);
	QRcode_free(q);
	return rc;
}
