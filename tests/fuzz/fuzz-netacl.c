/* fuzz-netacl.c: libFuzzer harness for the allow-list parser: parse, format, parse again, match. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "web/netacl.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), buf[NETACL_TEXT_MAX];
	struct netacl_net n, again, a;

	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (netacl_parse(s, &n) == 0) {
		/* the canonical text parses to the same network and contains its own address */
		netacl_format(&n, buf, sizeof(buf));
		if (netacl_parse(buf, &again) != 0 || again.v6 != n.v6 ||
		    again.prefix != n.prefix || memcmp(again.addr, n.addr, sizeof(n.addr)) != 0)
			abort();
		a = n;
		a.prefix = n.v6 ? 128 : 32;
		if (!netacl_match(&n, 1, &a))
			abort();
	}
	if (netacl_parse_addr(s, &a) == 0 && a.prefix != (a.v6 ? 128u : 32u))
		abort();
	free(s);
	return 0;
}
