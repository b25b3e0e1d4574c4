/* tenant.h: the tenant's (利用法人) optional services: the one table of feature flags. */
#ifndef SHOMEI_TENANT_H
#define SHOMEI_TENANT_H

#include <stddef.h>

/* The manuals' optional services, stored as words in tenants.features. */
enum tenant_feature {
	FEAT_VALIDITY_PERIOD,     /* validity From/To per certificate (date, or date + time) */
	FEAT_ORG_UNITS,           /* O / OU1 / OU2 per certificate */
	FEAT_INSTALL_RESTRICTION, /* MAC / computer / login user / BIOS serial, AND or OR */
	FEAT_DOWNLOAD_SITE,       /* the end users' download site */
	FEAT_ADMIN_MAY_ISSUE,     /* administrators register users and issue themselves */
	FEAT_NOTIFY_USERS,        /* mail to users may be switched on */
	FEAT__MAX,
};

/* The words, for SQL such as "'" TENANT_F_DOWNLOAD_SITE "' = ANY(features)". */
#define TENANT_F_VALIDITY_PERIOD "validity_period"
#define TENANT_F_ORG_UNITS "org_units"
#define TENANT_F_INSTALL_RESTRICTION "install_restriction"
#define TENANT_F_DOWNLOAD_SITE "download_site"
#define TENANT_F_ADMIN_MAY_ISSUE "admin_may_issue"
#define TENANT_F_NOTIFY_USERS "notify_users"

/* SQL: whether the tenant row aliased t has feature word w (a boolean expression). */
#define TENANT_SQL_HAS(t, w) "'" w "' = ANY (" t ".features)"

/* Every word in table order, for help texts (test-tenant checks it against the table). */
#define TENANT_FEATURES_LIST                                                                       \
	TENANT_F_VALIDITY_PERIOD ", " TENANT_F_ORG_UNITS ", " TENANT_F_INSTALL_RESTRICTION         \
				 ", " TENANT_F_DOWNLOAD_SITE ", " TENANT_F_ADMIN_MAY_ISSUE         \
				 ", " TENANT_F_NOTIFY_USERS

/* The word of f (f < FEAT__MAX). */
const char *tenant_feature_name(enum tenant_feature f);

/* The feature named by the n bytes at s, or -1. */
int tenant_feature_find(const char *s, size_t n);

/*
 * A comma list of feature words in canonical form (table order, no duplicates, "" for none)
 * into buf. 0; or -EINVAL with *bad and *badlen naming the first word that is not a feature;
 * -ENOSPC.
 */
int tenant_features_canonical(const char *list, char *buf, size_t len, const char **bad,
			      size_t *badlen);

#endif
