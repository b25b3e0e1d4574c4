/* fuzz-query.c: libFuzzer harness for query strings, cookies and route patterns. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "web/http.h"

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
	(void)http_query_get(s, "from", buf, sizeof(buf));
	(void)http_query_get(s, "q", buf, sizeof(buf));
	(void)http_cookie_get(s, "__Host-shomei", buf, sizeof(buf));
	(void)http_route_match(&req, "/api/certificates/{id}/{kind}", s);
	(void)http_route_match(&req, s, "/api/users/1");
	free(s);
	return 0;
}
