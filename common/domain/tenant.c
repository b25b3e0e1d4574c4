/* tenant.c: the feature flags of tenants: their words and their canonical list. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "domain/tenant.h"

static const char *const names[FEAT__MAX] = {
	[FEAT_VALIDITY_PERIOD] = TENANT_F_VALIDITY_PERIOD,
	[FEAT_ORG_UNITS] = TENANT_F_ORG_UNITS,
	[FEAT_INSTALL_RESTRICTION] = TENANT_F_INSTALL_RESTRICTION,
	[FEAT_DOWNLOAD_SITE] = TENANT_F_DOWNLOAD_SITE,
	[FEAT_ADMIN_MAY_ISSUE] = TENANT_F_ADMIN_MAY_ISSUE,
	[FEAT_NOTIFY_USERS] = TENANT_F_NOTIFY_USERS,
};

const char *
tenant_feature_name(enum tenant_feature f)
{
	return f < FEAT__MAX ? names[f] : NULL;
}

int
tenant_feature_find(const char *s, size_t n)
{
	for (int i = 0; s != NULL && i < FEAT__MAX; i++)
		if (strlen(names[i]) == n && strncmp(names[i], s, n) == 0)
			return i;
	return -1;
}

int
tenant_features_canonical(const char *list, char *buf, size_t len, const char **bad, size_t *badlen)
{
	int on[FEAT__MAX] = {0}, f;
	size_t o = 0;

	for (const char *p = list; *p != '\0';) {
		size_t n = strcspn(p, ",");
		if ((f = tenant_feature_find(p, n)) < 0) {
			*bad = p;
			*badlen = n;
			return -EINVAL;
		}
		on[f] = 1;
		p += n + (p[n] == ',');
	}
	if (len == 0)
		return -ENOSPC;
	buf[0] = '\0';
	for (int i = 0; i < FEAT__MAX; i++) {
		if (!on[i])
			continue;
		int w = snprintf(buf + o, len - o, "%s%s", o ? "," : "", names[i]);
		if (w < 0 || (size_t)w >= len - o)
			return -ENOSPC;
		o += (size_t)w;
	}
	return 0;
}
