/* fuzz-ocsp.c: libFuzzer harness for the OCSP request parser (POST bodies, decoded GETs). */
#include <stdint.h>
#include <stdlib.h>

#include "pki/ocsp.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ocsp_query q;

	if (ocsp_query_parse(data, size, &q) == 0)
		ocsp_query_done(&q);
	return 0;
}
