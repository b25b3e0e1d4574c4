/* csv.c: writing CSV cells: RFC 4180 quoting and the guard against spreadsheet formulas. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

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
