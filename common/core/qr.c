/* qr.c: a QR code (libqrencode): its modules, and an SVG of them drawn by our own code. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qrencode.h>

#include "core/qr.h"
#include "core/strbuf.h"

#define QUIET QR_QUIET

int
qr_encode(const char *text, struct qr *out)
{
	QRcode *q;
	size_t n;

	out->width = 0;
	out->dark = NULL;
	if (text == NULL || *text == '\0' || strlen(text) > QR_MAX_TEXT)
		return -EINVAL;
	if ((q = QRcode_encodeString8bit(text, 0, QR_ECLEVEL_M)) == NULL)
		return errno == ERANGE || errno == EINVAL ? -EINVAL : -ENOMEM;
	n = (size_t)q->width * (size_t)q->width;
	if ((out->dark = malloc(n)) == NULL) {
		QRcode_free(q);
		return -ENOMEM;
	}
	/* libqrencode's bit 0 is the module's colour; the other bits say what the module is */
	for (size_t i = 0; i < n; i++)
		out->dark[i] = q->data[i] & 1;
	out->width = q->width;
	QRcode_free(q);
	return 0;
}

void
qr_free(struct qr *q)
{
	free(q->dark);
	q->dark = NULL;
	q->width = 0;
}

int
qr_svg(const char *text, char **out, size_t *len)
{
	struct qr q;
	char *buf = NULL;
	struct strbuf b;
	size_t cap;
	int rc, w, size;

	if ((rc = qr_encode(text, &q)) != 0)
		return rc;
	rc = -ENOMEM;
	w = q.width;
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
			if (q.dark[y * w + x])
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
	qr_free(&q);
	return rc;
}
