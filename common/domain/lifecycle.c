/* lifecycle.c: the certificate statuses, their words, their flags and their transitions. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "domain/lifecycle.h"
#include "web/i18n.h"
#include "web/valid.h"

#define B(s) (1u << (s))

static const struct lc_info table[LC_S__MAX] = {
	[LC_S_ISSUING] = {LC_ISSUING,
			  {"証明書発行中", "Issuing"},
			  LC_F_COUNTED,
			  B(LC_S_ISSUED) | B(LC_S_FAILED)},
	[LC_S_ISSUED] = {LC_ISSUED,
			 {"証明書発行済", "Issued"},
			 LC_F_COUNTED | LC_F_VALID,
			 B(LC_S_DOWNLOADED) | B(LC_S_REVOKE_SCHEDULED) | B(LC_S_REVOKED)},
	[LC_S_DOWNLOADED] = {LC_DOWNLOADED,
			     {"証明書ダウンロード済", "Downloaded"},
			     LC_F_COUNTED | LC_F_VALID,
			     B(LC_S_REVOKE_SCHEDULED) | B(LC_S_REVOKED)},
	/* a cancelled scheduled revocation goes back to issued or downloaded */
	[LC_S_REVOKE_SCHEDULED] = {LC_REVOKE_SCHEDULED,
				   {"証明書失効予定", "Revocation scheduled"},
				   LC_F_COUNTED | LC_F_VALID,
				   B(LC_S_ISSUED) | B(LC_S_DOWNLOADED) | B(LC_S_REVOKED)},
	[LC_S_REVOKED] = {LC_REVOKED, {"証明書失効済", "Revoked"}, LC_F_FINAL, 0},
	[LC_S_FAILED] = {LC_FAILED, {"証明書発行失敗", "Issuance failed"}, LC_F_FINAL, 0},
};

const struct lc_info *
lifecycle_info(enum lc_status s)
{
	return s < LC_S__MAX ? &table[s] : NULL;
}

/* The status of the first n bytes of code; 0 or LIFECYCLE_E_STATUS. */
static int
parse_n(const char *code, size_t n, enum lc_status *out)
{
	for (int i = 0; code != NULL && i < LC_S__MAX; i++)
		if (strlen(table[i].code) == n && strncmp(table[i].code, code, n) == 0) {
			*out = (enum lc_status)i;
			return 0;
		}
	return LIFECYCLE_E_STATUS;
}

int
lifecycle_parse(const char *code, enum lc_status *out)
{
	return code != NULL ? parse_n(code, strlen(code), out) : LIFECYCLE_E_STATUS;
}

int
lifecycle_has(const char *code, unsigned flags)
{
	enum lc_status s;

	return lifecycle_parse(code, &s) == 0 && (table[s].flags & flags) == flags;
}

const char *
lifecycle_label(const char *code, int lang)
{
	enum lc_status s;

	if (lifecycle_parse(code, &s) != 0)
		return code;
	return table[s].label[lang == I18N_EN ? 1 : 0];
}

int
lifecycle_may(enum lc_status from, enum lc_status to)
{
	if (from >= LC_S__MAX || to >= LC_S__MAX || !(table[from].next & B(to)))
		return LIFECYCLE_E_TRANSITION;
	return 0;
}

int
lifecycle_sql_set(unsigned flags, char *buf, size_t len)
{
	size_t o = 0;
	int n;

	for (int i = 0; i < LC_S__MAX; i++) {
		if ((table[i].flags & flags) != flags)
			continue;
		n = snprintf(buf + o, len - o, "%s'%s'", o == 0 ? "(" : ", ", table[i].code);
		if (n < 0 || (size_t)n >= len - o)
			return -ENOSPC;
		o += (size_t)n;
	}
	if (o == 0 || o + 2 > len)
		return -ENOSPC;
	memcpy(buf + o, ")", 2);
	return 0;
}

int
lifecycle_valid_list(const char *v)
{
	enum lc_status s;

	if (*v == '\0')
		return VALID_E_FORMAT;
	for (const char *p = v;; p++) {
		size_t n = strcspn(p, ",");
		if (parse_n(p, n, &s) != 0)
			return VALID_E_FORMAT;
		p += n;
		if (*p == '\0')
			return 0;
	}
}
