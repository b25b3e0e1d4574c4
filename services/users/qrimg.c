/* qrimg.c: a QR code (core/qr.h) drawn with cairo: on a page of the password notice, and as the
 * PNG image of the install mail. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/qr.h"
#include "qrimg.h"

cairo_status_t
qrimg_buf_write(void *closure, const unsigned char *data, unsigned int len)
{
	struct qrimg_buf *b = closure;

	if (b->len + len > b->cap) {
		size_t cap = b->cap ? b->cap : 65536;
		unsigned char *p;

		while (cap < b->len + len)
			cap *= 2;
		if ((p = realloc(b->p, cap)) == NULL)
			return CAIRO_STATUS_NO_MEMORY;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, len);
	b->len += len;
	return CAIRO_STATUS_SUCCESS;
}

/* The modules of q in cr, m user units a module, the code's top-left corner at x, y. */
static void
modules(cairo_t *cr, const struct qr *q, double x, double y, double m)
{
	cairo_set_source_rgb(cr, 0, 0, 0);
	for (int r = 0; r < q->width; r++)
		for (int c = 0; c < q->width; c++)
			if (q->dark[r * q->width + c])
				cairo_rectangle(cr, x + (c + QR_QUIET) * m, y + (r + QR_QUIET) * m,
						m, m);
	cairo_fill(cr);
}

int
qrimg_draw(cairo_t *cr, const char *text, double x, double y, double size)
{
	struct qr q;
	int rc;

	if ((rc = qr_encode(text, &q)) != 0)
		return rc;
	cairo_save(cr);
	cairo_set_antialias(cr, CAIRO_ANTIALIAS_NONE);
	cairo_set_source_rgb(cr, 1, 1, 1);
	cairo_rectangle(cr, x, y, size, size);
	cairo_fill(cr);
	modules(cr, &q, x, y, size / (q.width + 2 * QR_QUIET));
	cairo_restore(cr);
	qr_free(&q);
	return 0;
}

int
qrimg_png(const char *text, int px, unsigned char **out, size_t *len)
{
	struct qrimg_buf b = {0};
	cairo_surface_t *s;
	cairo_t *cr;
	struct qr q;
	int rc, side;

	*out = NULL;
	if (px < 1 || px > 32)
		return -EINVAL;
	if ((rc = qr_encode(text, &q)) != 0)
		return rc;
	side = (q.width + 2 * QR_QUIET) * px;
	s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, side, side);
	cr = cairo_create(s);
	cairo_set_antialias(cr, CAIRO_ANTIALIAS_NONE);
	cairo_set_source_rgb(cr, 1, 1, 1);
	cairo_paint(cr);
	modules(cr, &q, 0, 0, px);
	rc = cairo_status(cr) == CAIRO_STATUS_SUCCESS &&
			     cairo_surface_write_to_png_stream(s, qrimg_buf_write, &b) ==
				     CAIRO_STATUS_SUCCESS
		     ? 0
		     : -EIO;
	cairo_destroy(cr);
	cairo_surface_destroy(s);
	qr_free(&q);
	if (rc != 0) {
		free(b.p);
		return rc;
	}
	*out = b.p;
	*len = b.len;
	return 0;
}
