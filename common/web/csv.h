/* csv.h: writing CSV cells: RFC 4180 quoting and the guard against spreadsheet formulas. */
#ifndef SHOMEI_CSV_H
#define SHOMEI_CSV_H

#include <stddef.h>

#include "web/http.h"

/* Whether a spreadsheet would run s as a formula: it begins with = + - @, a tab or a CR. */
int csv_is_formula(const char *s);

/*
 * s as one CSV field: always in double quotes, a quote doubled, and a text
 * csv_is_formula() finds given a leading apostrophe (OWASP "CSV injection").
 * Returns a malloc'ed, NUL-terminated string (its length in *len when len is
 * not NULL) the caller frees; NULL on ENOMEM.
 */
char *csv_quote(const char *s, size_t *len);

/* Write s to req as one field (csv_quote), then ',' or, when last, CRLF. 0, -ENOMEM or -EPIPE. */
int csv_field(struct http_req *req, const char *s, int last);

#endif
