/* upload.h: the parts of a multipart/form-data body (RFC 7578): files and fields of a form. */
#ifndef SHOMEI_UPLOAD_H
#define SHOMEI_UPLOAD_H

#include "core/err.h"

#include <stddef.h>

#include "web/http.h"

struct upload_part {
	const char *data; /* into the request body, not NUL-terminated */
	size_t len;
	char filename[256]; /* the file's base name as sent (UTF-8, no path, no control bytes) */
	int has_filename;
};

/*
 * Find the part named name in req's multipart/form-data body. 0 with *out; UPLOAD_E_ABSENT when
 * the body has no such part; UPLOAD_E_FORMAT when the Content-Type is not multipart/form-data
 * with a boundary or the body does not follow it.
 */
int upload_find(const struct http_req *req, const char *name, struct upload_part *out);

/* The same on a body and content type of their own (for tests and fuzzing). */
int upload_find_in(const char *ctype, const char *body, size_t len, const char *name,
		   struct upload_part *out);

#endif
