/* settings.c: shomei-signer's [signer] section: who may ask for which operation. */
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/util.h"
#include "extern.h"

struct signer_cfg signer_cfg;

static const struct cfg_key keys[] = {
	CFG_KEY_STR(struct signer_cfg, allow_cert, ""),
	CFG_KEY_STR(struct signer_cfg, allow_crl, ""),
	CFG_KEY_STR(struct signer_cfg, allow_ocsp, ""),
	CFG_KEY_STR(struct signer_cfg, allow_ping, "*"),
};

const struct cfg_section signer_section = {"signer", keys, sizeof(keys) / sizeof(keys[0]),
					   &signer_cfg};

/* One entry of a list: a user name or a numeric uid. */
static int
parse_one(const char *w, uid_t *uid, char *err, size_t errlen)
{
	struct passwd pw, *res = NULL;
	char buf[4096];
	long long n;

	if (util_parse_ll(w, 0, (long long)UINT32_MAX - 1, &n) == 0) {
		*uid = (uid_t)n;
		return 0;
	}
	if (getpwnam_r(w, &pw, buf, sizeof(buf), &res) != 0 || res == NULL) {
		snprintf(err, errlen, "no such user '%s'", w);
		return -ENOENT;
	}
	*uid = pw.pw_uid;
	return 0;
}

int
allow_parse(const char *list, struct allow *a, char *err, size_t errlen)
{
	char *copy, *save = NULL, *w;
	int rc = 0;

	memset(a, 0, sizeof(*a));
	if (list == NULL || list[0] == '\0') { /* the signer's own user: one uid runs everything */
		a->uids[a->n++] = geteuid();
		return 0;
	}
	if ((copy = strdup(list)) == NULL)
		return -ENOMEM;
	for (w = strtok_r(copy, ", ", &save); w != NULL && rc == 0; w = strtok_r(NULL, ", ", &save)) {
		if (strcmp(w, "*") == 0) {
			a->any = 1;
			continue;
		}
		if (a->n == ALLOW_MAX) {
			snprintf(err, errlen, "more than %d entries", ALLOW_MAX);
			rc = -E2BIG;
			break;
		}
		rc = parse_one(w, &a->uids[a->n], err, errlen);
		if (rc == 0)
			a->n++;
	}
	free(copy);
	return rc;
}

int
allow_has(const struct allow *a, uid_t uid)
{
	if (a->any)
		return 1;
	for (size_t i = 0; i < a->n; i++)
		if (a->uids[i] == uid)
			return 1;
	return 0;
}
