/* fuzz-csv.c: libFuzzer harness for uploaded files: decoding (UTF-8/CP932), CSV rows, multipart. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "web/csv.h"
#include "web/upload.h"
#include "web/valid.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *enc = NULL;
	char *text = NULL;
	size_t len = 0;
	int line = 0, rc;
	struct upload_part p;

	rc = csv_decode((const char *)data, size, &text, &len, &enc, &line);
	if (rc != 0 && rc != CSV_E_ENCODING)
		abort();
	if (rc == CSV_E_ENCODING && (line < 1 || text != NULL))
		abort();
	if (rc == 0) {
		struct csv_reader r;
		struct csv_row row;
		int n, last = 0;

		/* what comes out is UTF-8, and so is every field of every row */
		if (strlen(text) != len || valid_utf8_len(text) < 0)
			abort();
		csv_reader_init(&r, text, len);
		while ((n = csv_read(&r, &row)) == 1) {
			if (row.line <= last || row.n < 1)
				abort();
			last = row.line;
			for (int i = 0; i < row.n; i++)
				if (valid_utf8_len(row.f[i]) < 0)
					abort();
		}
		if (n != 0 && n != CSV_E_QUOTE)
			abort();
		csv_reader_done(&r);
		free(text);
	}
	/* the same bytes as a multipart body: a found part lies inside it */
	rc = upload_find_in("multipart/form-data; boundary=b", (const char *)data, size, "file", &p);
	if (rc == 0 && (p.data < (const char *)data || p.data + p.len > (const char *)data + size))
		abort();
	if (rc != 0 && rc != UPLOAD_E_ABSENT && rc != UPLOAD_E_FORMAT)
		abort();
	return 0;
}
