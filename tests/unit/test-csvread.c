/*
 * test-csvread.c: reading uploaded CSV files: UTF-8 with and without BOM, CP932 (as Excel and
 * Notepad write it on Japanese Windows), CRLF and LF, RFC 4180 quoting; and the multipart/form-data
 * parts they arrive in.
 */
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "web/csv.h"
#include "web/upload.h"

/* All rows of text as "line:f1|f2|...;" */
static int
rows_of(const char *text, size_t len, char *out, size_t outlen)
{
	struct csv_reader r;
	struct csv_row row;
	size_t o = 0;
	int rc;

	out[0] = '\0';
	csv_reader_init(&r, text, len);
	while ((rc = csv_read(&r, &row)) == 1) {
		o += (size_t)snprintf(out + o, outlen - o, "%d:", row.line);
		for (int i = 0; i < row.n; i++)
			o += (size_t)snprintf(out + o, outlen - o, "%s%s", i ? "|" : "", row.f[i]);
		o += (size_t)snprintf(out + o, outlen - o, ";");
	}
	if (rc != 0)
		snprintf(out + o, outlen - o, "E%d@%d", rc, row.line);
	csv_reader_done(&r);
	return rc;
}

static void
test_read(void)
{
	static const struct {
		const char *in, *want, *what;
	} cases[] = {
		{"a,b,c\n", "1:a|b|c;", "LF"},
		{"a,b,c\r\nd,e\r\n", "1:a|b|c;2:d|e;", "CRLF"},
		{"a,b", "1:a|b;", "no newline at the end"},
		{"a,b\r", "1:a|b;", "a CR at the very end"},
		{"a,,c,\n", "1:a||c|;", "empty fields, a trailing comma"},
		{"\n\na\n\n\nb\n", "3:a;6:b;", "empty lines are skipped, line numbers kept"},
		{"\"a,b\",\"c\"\"d\"\n", "1:a,b|c\"d;", "quoted comma and doubled quote"},
		{"\"line\nbreak\",x\ny\n", "1:line\nbreak|x;3:y;", "a line break inside quotes"},
		{"ab\"c,d\n", "1:ab\"c|d;", "a quote inside an unquoted field is literal"},
		{"\"\",\"\"\n", "1:|;", "two empty quoted fields"},
		{"山田,太郎\r\n", "1:山田|太郎;", "UTF-8"},
	};
	char out[512];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		rows_of(cases[i].in, strlen(cases[i].in), out, sizeof(out));
		int same = strcmp(out, cases[i].want) == 0;
		for (char *c = out; *c; c++)
			if (*c == '\n' || *c == '\r')
				*c = '/'; /* one TAP line */
		TAP_OK(same, "csv_read: %s: %s", cases[i].what, out);
	}
	TAP_OK(rows_of("a\n\"open,b\nc\n", 11, out, sizeof(out)) == CSV_E_QUOTE &&
		       strstr(out, "@2") != NULL,
	       "an unterminated quote: CSV_E_QUOTE at the line it began (%s)", out);
	/* a long row grows the buffer */
	size_t n = 200000;
	char *big = malloc(n + 2);
	memset(big, 'x', n);
	big[n / 2] = ',';
	big[n] = '\n';
	big[n + 1] = '\0';
	struct csv_reader r;
	struct csv_row row;
	csv_reader_init(&r, big, n + 1);
	TAP_OK(csv_read(&r, &row) == 1 && row.n == 2 && strlen(row.f[0]) == n / 2 &&
		       strlen(row.f[1]) == n - n / 2 - 1,
	       "a 200,000-byte row");
	TAP_OK(csv_read(&r, &row) == 0, "then the end");
	csv_reader_done(&r);
	free(big);
}

static void
test_decode(void)
{
	/* 山田,髙橋 in UTF-8; 山田 in CP932 is 8E 52 93 63 */
	const char utf8[] = "\xe5\xb1\xb1\xe7\x94\xb0,\xe9\xab\x99\xe6\xa9\x8b\r\n";
	const char bom[] = "\xef\xbb\xbf\xe5\xb1\xb1\xe7\x94\xb0\r\n";
	const char cp932[] = "\x8e\x52\x93\x63,\x83\x5e\x83\x8d\x83\x45\r\n"; /* 山田,タロウ */
	const char garbage[] = "ok\r\nfine\r\n\xff\xfe\xfd\x80\r\n";
	const char *enc = NULL;
	char *out = NULL;
	size_t len = 0;
	int line = 0;

	TAP_OK(csv_decode(utf8, strlen(utf8), &out, &len, &enc, &line) == 0 &&
		       strcmp(enc, "UTF-8") == 0 && strcmp(out, utf8) == 0,
	       "UTF-8 as it is, 髙 (outside JIS X 0208) kept");
	free(out);
	TAP_OK(csv_decode(bom, strlen(bom), &out, &len, &enc, &line) == 0 &&
		       strcmp(enc, "UTF-8 (BOM)") == 0 && strcmp(out, "\xe5\xb1\xb1\xe7\x94\xb0\r\n") == 0,
	       "the BOM Excel writes is dropped");
	free(out);
	TAP_OK(csv_decode(cp932, strlen(cp932), &out, &len, &enc, &line) == 0 &&
		       strcmp(enc, "CP932") == 0 &&
		       strcmp(out, "\xe5\xb1\xb1\xe7\x94\xb0,\xe3\x82\xbf\xe3\x83\xad\xe3\x82\xa6\r\n") == 0,
	       "CP932 to UTF-8: %s", out ? out : "");
	free(out);
	out = NULL;
	TAP_OK(csv_decode(garbage, strlen(garbage), &out, &len, &enc, &line) == CSV_E_ENCODING &&
		       line == 3 && out == NULL,
	       "garbage bytes: CSV_E_ENCODING on line %d", line);
	TAP_OK(csv_decode("a\nb\0c", 5, &out, &len, &enc, &line) == CSV_E_ENCODING && line == 2,
	       "a NUL byte is refused, its line named (%d)", line);
	const char bombad[] = "\xef\xbb\xbf" "a\n\x8e\x52\n";
	TAP_OK(csv_decode(bombad, strlen(bombad), &out, &len, &enc, &line) == CSV_E_ENCODING &&
		       line == 2,
	       "a BOM then bytes that are not UTF-8: refused (line %d)", line);
}

static void
test_upload(void)
{
	const char *ct = "multipart/form-data; boundary=----WebKitFormBoundaryX1";
	const char body[] = "------WebKitFormBoundaryX1\r\n"
			    "Content-Disposition: form-data; name=\"admin_download\"\r\n\r\n"
			    "true\r\n"
			    "------WebKitFormBoundaryX1\r\n"
			    "Content-Disposition: form-data; name=\"file\"; filename=\"C:\\\\Users\\\\a\\\\利用者.csv\"\r\n"
			    "Content-Type: text/csv\r\n\r\n"
			    "a,b\r\nc,d\r\n\r\n"
			    "------WebKitFormBoundaryX1--\r\n";
	struct upload_part p;

	TAP_OK(upload_find_in(ct, body, strlen(body), "file", &p) == 0 && p.has_filename &&
		       strcmp(p.filename, "利用者.csv") == 0 && p.len == 10 &&
		       memcmp(p.data, "a,b\r\nc,d\r\n", 10) == 0,
	       "the file part, its base name (%s), its bytes with the CRLF before the boundary "
	       "removed",
	       p.filename);
	TAP_OK(upload_find_in(ct, body, strlen(body), "admin_download", &p) == 0 && p.len == 4 &&
		       memcmp(p.data, "true", 4) == 0 && !p.has_filename,
	       "a plain field");
	TAP_OK(upload_find_in(ct, body, strlen(body), "nope", &p) == UPLOAD_E_ABSENT,
	       "an absent part");
	TAP_OK(upload_find_in("application/json", body, strlen(body), "file", &p) == UPLOAD_E_FORMAT,
	       "not multipart");
	TAP_OK(upload_find_in("multipart/form-data", body, strlen(body), "file", &p) ==
		       UPLOAD_E_FORMAT,
	       "no boundary");
	TAP_OK(upload_find_in(ct, body, 60, "file", &p) == UPLOAD_E_FORMAT, "a body cut short");
	TAP_OK(upload_find_in("multipart/form-data; boundary=\"q b\"",
			      "--q b\r\nContent-Disposition: form-data; name=file\r\n\r\nxy\r\n--q b--",
			      61, "file", &p) == 0 &&
		       p.len == 2,
	       "a quoted boundary, an unquoted name");
}

int
main(void)
{
	test_read();
	test_decode();
	test_upload();
	return tap_done();
}
