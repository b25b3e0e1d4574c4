/* qr.h: a QR code (libqrencode) drawn as SVG by our own code. */
#ifndef SHOMEI_QR_H
#define SHOMEI_QR_H

#include <stddef.h>

#define QR_MAX_TEXT 1024

/*
 * An SVG image of text as a QR code (8-bit mode, error correction level M,
 * a 4-module quiet zone): one <path> of 1x1 squares on a white background,
 * scalable (viewBox in modules, width/height given by the caller's CSS).
 * *out (NUL-terminated) is malloc'ed; the caller frees it.
 * 0, -EINVAL (empty or longer than QR_MAX_TEXT), -ENOMEM.
 */
int qr_svg(const char *text, char **out, size_t *len);

#endif
