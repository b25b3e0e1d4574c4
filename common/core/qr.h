/* qr.h: a QR code (libqrencode): its modules, and an SVG of them drawn by our own code. */
#ifndef SHOMEI_QR_H
#define SHOMEI_QR_H

#include <stddef.h>

#define QR_MAX_TEXT 1024
#define QR_QUIET 4 /* modules of quiet zone around the code, as the standard asks */

/* A code's modules: width x width bytes, row by row, 1 = dark. */
struct qr {
	int width;
	unsigned char *dark;
};

/*
 * text as a QR code (8-bit mode, error correction level M) into *q; qr_free frees it.
 * 0, -EINVAL (empty or longer than QR_MAX_TEXT), -ENOMEM.
 */
int qr_encode(const char *text, struct qr *q);
void qr_free(struct qr *q);

/*
 * An SVG image of text as a QR code (8-bit mode, error correction level M,
 * a 4-module quiet zone): one <path> of 1x1 squares on a white background,
 * scalable (viewBox in modules, width/height given by the caller's CSS).
 * *out (NUL-terminated) is malloc'ed; the caller frees it.
 * 0, -EINVAL (empty or longer than QR_MAX_TEXT), -ENOMEM.
 */
int qr_svg(const char *text, char **out, size_t *len);

#endif
