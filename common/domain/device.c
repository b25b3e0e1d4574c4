/* device.c: the device codes (利用デバイス) and their words, as the NRA manual lists them. */
#include <string.h>

#include "domain/device.h"
#include "web/i18n.h"
#include "web/valid.h"

static const struct {
	const char *code;
	const char *label[2]; /* I18N_JA, I18N_EN */
} devices[] = {
	{"01", {"WindowsPC", "Windows PC"}}, {"11", {"iOS(iPhone)", "iOS (iPhone)"}},
	{"12", {"iOS(iPad)", "iOS (iPad)"}}, {"20", {"Android", "Android"}},
	{"99", {"その他", "Other"}},
};
#define NDEVICES (sizeof(devices) / sizeof(devices[0]))

/* The index of the first n bytes of v, or -1. */
static int
find(const char *v, size_t n)
{
	for (size_t i = 0; v != NULL && i < NDEVICES; i++)
		if (strlen(devices[i].code) == n && strncmp(devices[i].code, v, n) == 0)
			return (int)i;
	return -1;
}

const char *
device_label(const char *code, int lang)
{
	int i = code != NULL ? find(code, strlen(code)) : -1;

	return i < 0 ? NULL : devices[i].label[lang == I18N_EN ? 1 : 0];
}

int
device_valid_code(const char *v)
{
	return find(v, strlen(v)) >= 0 ? 0 : VALID_E_FORMAT;
}

int
device_valid_list(const char *v)
{
	if (*v == '\0')
		return VALID_E_FORMAT;
	for (const char *p = v;; p++) {
		size_t n = strcspn(p, ",");
		if (find(p, n) < 0)
			return VALID_E_FORMAT;
		p += n;
		if (*p == '\0')
			return 0;
	}
}
