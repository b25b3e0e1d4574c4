/* fuzz-query.c: libFuzzer harness for query strings, cookies and route patterns. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "web/http.h"
#include "web/valid.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), buf[256];
	struct http_req req;

	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	memset(&req, 0, sizeof(req));
	/* every outcome is one of four; a found value fits and is UTF-8, any other leaves "" */
	for (size_t len = 1; len <= sizeof(buf); len += 85) {
		int rc = http_query_get(s, "q", buf, len);
		if (rc != 0 && rc != HTTP_E_ABSENT && rc != HTTP_E_TOOLONG && rc != HTTP_E_ENCODING)
			abort();
		if (rc == 0 && (strlen(buf) >= len || valid_utf8_len(buf) < 0))
			abort();
		if (rc != 0 && buf[0] != '\0')
			abort();
	}
	(void)http_query_get(s, "from", buf, sizeof(buf));
	(void)http_cookie_get(s, "__Host-shomei", buf, sizeof(buf));
	(void)http_route_match(&req, "/api/certificates/{id}/{kind}", s);
	(void)http_route_match(&req, s, "/api/users/1");
	free(s);
	return 0;
}
