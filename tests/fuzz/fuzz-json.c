/* fuzz-json.c: libFuzzer harness for the JSON request-body parser. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	cJSON *doc = NULL;

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (json_parse_object(text, size, &doc) == 0) {
		(void)json_str(doc, "login_id");
		cJSON_Delete(doc);
	}
	free(text);
	return 0;
}
