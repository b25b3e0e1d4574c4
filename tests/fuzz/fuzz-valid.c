/* fuzz-valid.c: libFuzzer harness for the field validators and query validation. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "web/valid.h"
#include "domain/lifecycle.h"
#include "domain/device.h"
#include "domain/audit.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct valid_field f[] = {
		{"from", valid_date, 0, &msg_date_format, 10},
		{"at", valid_datetime, 1, &msg_date_format, 16},
		{"page", valid_page, 0, &msg_page, 7},
		{"action", audit_valid_action, 0, &msg_text_too_long, 64},
	};
	char *s = malloc(size + 1);
	cJSON *errs = cJSON_CreateArray();

	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	(void)valid_login_id(s);
	(void)valid_password(s);
	(void)valid_text(s);
	(void)valid_id(s);
	(void)valid_name(s);
	(void)valid_kana(s);
	(void)valid_name_en(s);
	(void)valid_email(s);
	(void)device_valid_code(s);
	(void)valid_org_unit(s);
	(void)valid_restriction_mode(s);
	(void)valid_mac(s);
	(void)valid_restriction_item(s);
	(void)lifecycle_valid_list(s);
	(void)device_valid_list(s);
	(void)valid_user_sort(s);
	(void)valid_utf8_len(s);
	(void)valid_query(s, f, 4, errs, I18N_JA);
	cJSON_Delete(errs);
	free(s);
	return 0;
}
