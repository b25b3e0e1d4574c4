/* csv.c: CSV cells written (RFC 4180, formula guard) and files read (UTF-8 or CP932). */
#include <errno.h>
#include <iconv.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "web/csv.h"

int
csv_is_formula(const char *s)
{
	return *s != '\0' && strchr("=+-@\t\r", *s) != NULL;
}

char *
csv_quote(const char *s, size_t *len)
{
	size_t n = strlen(s), o = 0;
	char *buf = malloc(2 * n + 4);

	if (buf == NULL)
		return NULL;
	buf[o++] = '"';
	if (csv_is_formula(s))
		buf[o++] = '\'';
	for (; *s; s++) {
		if (*s == '"')
			buf[o++] = '"';
		buf[o++] = *s;
	}
	buf[o++] = '"';
	buf[o] = '\0';
	if (len != NULL)
		*len = o;
	return buf;
}

int
csv_field(struct http_req *req, const char *s, int last)
{
	size_t len = 0;
	char *q = csv_quote(s, &len);
	int rc;

	if (q == NULL)
		return -ENOMEM;
	if ((rc = http_write(req, q, len)) == 0)
		rc = last ? http_write(req, "\r\n", 2) : http_write(req, ",", 1);
	free(q);
	return rc;
}

/* The offset of the first byte that is not part of valid UTF-8 (len when all is). */
static size_t
utf8_valid_upto(const unsigned char *p, size_t len)
{
	size_t i = 0, k;

	while (i < len && (k = util_utf8_seq(p + i, len - i)) != 0)
		i += k;
	return i;
}

static int
line_of(const char *in, size_t off)
{
	int line = 1;

	for (size_t i = 0; i < off; i++)
		line += in[i] == '\n';
	return line;
}

static int
from_cp932(const char *in, size_t len, char **out, size_t *outlen, size_t *bad)
{
	iconv_t cd = iconv_open("UTF-8", "CP932");
	size_t cap = len * 3 + 4, inleft = len, outleft = cap - 1;
	char *buf, *ip = (char *)in, *op;

	if (cd == (iconv_t)-1)
		return -errno;
	if ((buf = malloc(cap)) == NULL) {
		iconv_close(cd);
		return -ENOMEM;
	}
	op = buf;
	if (iconv(cd, &ip, &inleft, &op, &outleft) == (size_t)-1) {
		*bad = (size_t)(ip - in);
		iconv_close(cd);
		free(buf);
		return CSV_E_ENCODING;
	}
	iconv_close(cd);
	*op = '\0';
	*out = buf;
	*outlen = (size_t)(op - buf);
	return 0;
}

int
csv_decode(const char *in, size_t len, char **out, size_t *outlen, const char **enc, int *bad_line)
{
	const unsigned char *u = (const unsigned char *)in;
	size_t bad = 0, ok;
	int bom = len >= 3 && u[0] == 0xef && u[1] == 0xbb && u[2] == 0xbf, rc;

	if (bom)
		in += 3, u += 3, len -= 3;
	*bad_line = 0;
	if (memchr(in, '\0', len) != NULL) {
		*bad_line = line_of(in, (size_t)((const char *)memchr(in, '\0', len) - in));
		return CSV_E_ENCODING;
	}
	if ((ok = utf8_valid_upto(u, len)) == len) {
		if ((*out = malloc(len + 1)) == NULL)
			return -ENOMEM;
		memcpy(*out, in, len);
		(*out)[len] = '\0';
		*outlen = len;
		*enc = bom ? "UTF-8 (BOM)" : "UTF-8";
		return 0;
	}
	if (bom) { /* a BOM promised UTF-8 */
		*bad_line = line_of(in, ok);
		return CSV_E_ENCODING;
	}
	if ((rc = from_cp932(in, len, out, outlen, &bad)) == CSV_E_ENCODING) {
		/* the later of the two failures is the more telling place */
		*bad_line = line_of(in, bad > ok ? bad : ok);
		return rc;
	}
	if (rc == 0)
		*enc = "CP932";
	return rc;
}

void
csv_reader_init(struct csv_reader *r, const char *text, size_t len)
{
	memset(r, 0, sizeof(*r));
	r->p = text;
	r->end = text + len;
	r->line = 1;
}

void
csv_reader_done(struct csv_reader *r)
{
	free(r->buf);
	free(r->f);
	memset(r, 0, sizeof(*r));
}

static int
grow(struct csv_reader *r, size_t need)
{
	char *b;
	size_t cap = r->cap ? r->cap : 256;

	if (need <= r->cap)
		return 0;
	while (cap < need)
		cap *= 2;
	if ((b = realloc(r->buf, cap)) == NULL)
		return -ENOMEM;
	r->buf = b;
	r->cap = cap;
	return 0;
}

/* Fields of the row in buf (n NUL-terminated strings one after another) into r->f. */
static int
split(struct csv_reader *r, int n)
{
	char **f, *s = r->buf;

	if (n > r->fcap) {
		if ((f = realloc(r->f, (size_t)n * sizeof(*f))) == NULL)
			return -ENOMEM;
		r->f = f;
		r->fcap = n;
	}
	for (int i = 0; i < n; i++) {
		r->f[i] = s;
		s += strlen(s) + 1;
	}
	return 0;
}

int
csv_read(struct csv_reader *r, struct csv_row *row)
{
	for (;;) {
		const char *p = r->p;
		size_t o = 0;
		int n = 1, quoted = 0, start = r->line;

		if (p >= r->end)
			return 0;
		/* at most every byte, a NUL per field and one more */
		if (grow(r, (size_t)(r->end - p) < 65536 ? (size_t)(r->end - p) * 2 + 2 : 256) != 0)
			return -ENOMEM;
		while (p < r->end) {
			char c = *p;

			if (o + 2 >= r->cap && grow(r, r->cap * 2) != 0)
				return -ENOMEM;
			if (quoted) {
				if (c == '"' && p + 1 < r->end && p[1] == '"') {
					r->buf[o++] = '"';
					p += 2;
				} else if (c == '"') {
					quoted = 0;
					p++;
				} else {
					r->line += c == '\n';
					r->buf[o++] = c;
					p++;
				}
				continue;
			}
			if (c == '\n' || (c == '\r' && p + 1 < r->end && p[1] == '\n') ||
			    (c == '\r' && p + 1 == r->end))
				break;
			if (c == '"' && (o == 0 || r->buf[o - 1] == '\0')) {
				quoted = 1;
			} else if (c == ',') {
				r->buf[o++] = '\0';
				n++;
			} else {
				r->buf[o++] = c;
			}
			p++;
		}
		if (quoted) {
			row->line = start;
			return CSV_E_QUOTE;
		}
		r->buf[o] = '\0';
		if (p < r->end && *p == '\r')
			p++;
		if (p < r->end && *p == '\n')
			p++;
		r->p = p;
		r->line++;
		if (n == 1 && o == 0)
			continue; /* an empty line */
		if (split(r, n) != 0)
			return -ENOMEM;
		row->f = r->f;
		row->n = n;
		row->line = start;
		return 1;
	}
}
