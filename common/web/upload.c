/* upload.c: the parts of a multipart/form-data body (RFC 7578): files and fields of a form. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "web/upload.h"

#define BOUNDARY_MAX 70 /* RFC 2046 */

/* The boundary parameter of a multipart/form-data Content-Type into b ("--" + boundary). */
static int
boundary_of(const char *ctype, char *b, size_t len)
{
	const char *p;
	size_t n = 0;

	if (ctype == NULL || strncasecmp(ctype, "multipart/form-data", 19) != 0)
		return UPLOAD_E_FORMAT;
	for (p = ctype + 19; (p = strchr(p, ';')) != NULL;) {
		p++;
		while (*p == ' ' || *p == '\t')
			p++;
		if (strncasecmp(p, "boundary=", 9) != 0)
			continue;
		p += 9;
		int q = *p == '"';
		p += q;
		b[0] = b[1] = '-';
		n = 2;
		while (*p && (q ? *p != '"' : *p != ';' && *p != ' ') && n + 1 < len &&
		       n < BOUNDARY_MAX + 2)
			b[n++] = *p++;
		b[n] = '\0';
		return n > 2 ? 0 : UPLOAD_E_FORMAT;
	}
	return UPLOAD_E_FORMAT;
}

static const char *
find(const char *hay, size_t hlen, const char *needle, size_t nlen)
{
	return memmem(hay, hlen, needle, nlen);
}

/* The value of param (name= or filename=) in a Content-Disposition line, into v. 1 found. */
static int
disposition_param(const char *line, size_t len, const char *param, char *v, size_t vlen)
{
	size_t plen = strlen(param);

	for (size_t i = 0; i + plen + 1 < len; i++) {
		if ((i > 0 && line[i - 1] != ' ' && line[i - 1] != ';') ||
		    strncasecmp(line + i, param, plen) != 0 || line[i + plen] != '=')
			continue;
		size_t j = i + plen + 1, o = 0;
		int q = j < len && line[j] == '"';

		j += q;
		for (; j < len && (q ? line[j] != '"' : line[j] != ';'); j++)
			if (o + 1 < vlen)
				v[o++] = line[j];
		v[o] = '\0';
		return 1;
	}
	return 0;
}

/* Keep the base name, drop control bytes (a browser on Windows may send C:\path\file.csv). */
static void
clean_filename(char *s)
{
	char *base = s, *o;

	for (char *p = s; *p; p++)
		if (*p == '/' || *p == '\\')
			base = p + 1;
	o = s;
	for (char *p = base; *p; p++)
		if ((unsigned char)*p >= 0x20 && *p != 0x7f)
			*o++ = *p;
	*o = '\0';
}

int
upload_find_in(const char *ctype, const char *body, size_t len, const char *name,
	       struct upload_part *out)
{
	char b[BOUNDARY_MAX + 8], delim[BOUNDARY_MAX + 10], pname[128];
	const char *p, *end = body + len;
	size_t blen;

	if (boundary_of(ctype, b, sizeof(b)) != 0)
		return UPLOAD_E_FORMAT;
	blen = strlen(b);
	snprintf(delim, sizeof(delim), "\r\n%s", b);
	/* the first boundary may open the body without a CRLF before it */
	if (len >= blen && memcmp(body, b, blen) == 0)
		p = body + blen;
	else if ((p = find(body, len, delim, blen + 2)) != NULL)
		p += blen + 2;
	else
		return UPLOAD_E_FORMAT;
	for (;;) {
		const char *hend, *next, *h;
		int found = 0;

		if (end - p >= 2 && p[0] == '-' && p[1] == '-')
			return UPLOAD_E_ABSENT; /* the closing boundary */
		if (end - p < 2 || p[0] != '\r' || p[1] != '\n')
			return UPLOAD_E_FORMAT;
		p += 2;
		if ((hend = find(p, (size_t)(end - p), "\r\n\r\n", 4)) == NULL)
			return UPLOAD_E_FORMAT;
		if ((next = find(hend + 4, (size_t)(end - hend - 4), delim, blen + 2)) == NULL)
			return UPLOAD_E_FORMAT;
		memset(out, 0, sizeof(*out));
		for (h = p; h < hend;) {
			const char *eol = find(h, (size_t)(hend - h), "\r\n", 2);
			size_t llen = eol ? (size_t)(eol - h) : (size_t)(hend - h);

			if (llen > 20 && strncasecmp(h, "Content-Disposition:", 20) == 0) {
				found = disposition_param(h, llen, "name", pname, sizeof(pname)) &&
					strcmp(pname, name) == 0;
				out->has_filename = disposition_param(
					h, llen, "filename", out->filename, sizeof(out->filename));
			}
			h += llen + 2;
		}
		if (found) {
			out->data = hend + 4;
			out->len = (size_t)(next - hend - 4);
			clean_filename(out->filename);
			return 0;
		}
		p = next + blen + 2;
	}
}

int
upload_find(const struct http_req *req, const char *name, struct upload_part *out)
{
	if (req->body == NULL)
		return UPLOAD_E_FORMAT;
	return upload_find_in(req->content_type, req->body, req->body_len, name, out);
}
