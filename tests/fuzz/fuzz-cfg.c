/* fuzz-cfg.c: libFuzzer harness for the configuration parser. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/cfg.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), err[256];
	struct cfg c;

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (cfg_parse(&c, text, NULL, 0, err, sizeof(err)) == 0)
		cfg_done(&c);
	free(text);
	return 0;
}
