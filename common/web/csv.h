/*
 * csv.h: CSV both ways: writing cells (RFC 4180 quoting and the guard against spreadsheet
 * formulas), and reading the files Japanese offices write (UTF-8 with or without BOM, or CP932;
 * CRLF or LF; quoted or not).
 */
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

/*
 * The text of an uploaded file as UTF-8: a UTF-8 BOM is dropped; valid UTF-8 is taken as it is;
 * anything else is read as CP932 (Excel's and Notepad's "ANSI" on Japanese Windows). *out is
 * malloc'ed and NUL-terminated (the caller frees it), *enc "UTF-8", "UTF-8 (BOM)" or "CP932".
 * CSV_E_ENCODING when the bytes are neither (or hold a NUL), *bad_line then the 1-based line of
 * the first byte that fits neither; -ENOMEM.
 */
int csv_decode(const char *in, size_t len, char **out, size_t *outlen, const char **enc,
	       int *bad_line);

/* Reading rows one by one from UTF-8 text (csv_decode's output). */
struct csv_reader {
	const char *p, *end;
	int line;  /* the line the next row starts on (1-based) */
	char *buf; /* the current row's unquoted fields */
	size_t cap;
	char **f;
	int fcap;
};

struct csv_row {
	char **f;  /* n fields, NUL-terminated, valid until the next csv_read */
	int n;
	int line;  /* the line the row starts on */
};

void csv_reader_init(struct csv_reader *r, const char *text, size_t len);
void csv_reader_done(struct csv_reader *r);

/*
 * The next row that is not empty: 1 with *row, 0 at the end; CSV_E_QUOTE when a quoted field
 * never ends (row->line names where it began); -ENOMEM. A quoted field may hold commas, CR, LF
 * and doubled quotes; outside quotes a quote is taken literally (as Excel writes
 * nothing of the kind, and a hand-written file means it).
 */
int csv_read(struct csv_reader *r, struct csv_row *row);

#endif
