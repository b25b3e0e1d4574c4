/* qrimg.h: a QR code (core/qr.h) drawn with cairo: on a page of the password notice, and as the
 * PNG image of the install mail. */
#ifndef SHOMEI_USERS_QRIMG_H
#define SHOMEI_USERS_QRIMG_H

#include <stddef.h>

#include <cairo.h>

/*
 * text as a QR code with its quiet zone, size x size (user units) at x, y of cr, the modules
 * filled as one path (crisp at any scale). 0, -EINVAL (text empty or too long), -ENOMEM.
 */
int qrimg_draw(cairo_t *cr, const char *text, double x, double y, double size);

/*
 * text as a PNG image of a QR code, px pixels a module, the quiet zone included; *out is
 * malloc'ed (the caller frees it). 0, -EINVAL, -ENOMEM, -EIO (cairo failed).
 */
int qrimg_png(const char *text, int px, unsigned char **out, size_t *len);

/* Append len bytes to a growing buffer: a cairo write function (closure: struct qrimg_buf). */
struct qrimg_buf {
	unsigned char *p;
	size_t len, cap;
};
cairo_status_t qrimg_buf_write(void *closure, const unsigned char *data, unsigned int len);

#endif
