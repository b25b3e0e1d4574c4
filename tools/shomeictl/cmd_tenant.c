/* cmd_tenant.c: shomeictl tenant create / set / list. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "extern.h"
#include "core/util.h"
#include "web/valid.h"
#include "domain/tenant.h"

#define QUOTA_MAX 10000000LL
/* The CA's CN is "<name_en> Issuing CA" and a CN holds at most 64 characters. */
#define NAME_EN_MAX 53

static int
valid_slug(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n > 63 || s[0] == '-')
		return 0;
	return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-") == n;
}

/* UTF-8 characters in s. */
static size_t
utf8_len(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

static int
valid_ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return 0;
	return 1;
}

/* Canonical feature list (table order, no duplicates) into buf; prints the error. */
static int
parse_features(struct cmd_ctx *cx, const char *v, char *buf, size_t len)
{
	const char *bad = NULL;
	size_t badlen = 0;
	int rc;

	if ((rc = tenant_features_canonical(v, buf, len, &bad, &badlen)) == -EINVAL) {
		ctl_err(cx, "--features: '%.*s' is not a feature; allowed: " TENANT_FEATURES_LIST,
			(int)badlen, bad);
		return CTL_USAGE;
	}
	return rc == 0 ? 0 : CTL_FAIL;
}

static int
check_quota(struct cmd_ctx *cx, const char *v)
{
	long long q;

	if (v != NULL && util_parse_ll(v, 0, QUOTA_MAX, &q) != 0) {
		ctl_err(cx, "--quota: '%s' is not a whole number from 0 to %lld", v, QUOTA_MAX);
		return CTL_USAGE;
	}
	return 0;
}

static int
check_domain(struct cmd_ctx *cx, const char *v)
{
	size_t n = v ? strlen(v) : 0;

	if (n > 253 || (v && strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				       "0123456789.-") != n)) {
		ctl_err(cx, "--domain: '%s' is not a domain name (letters, digits, '.', '-')", v);
		return CTL_USAGE;
	}
	return 0;
}

/* Every option of tenant create, checked before anything is written. */
static int
check_create(struct cmd_ctx *cx, char *feat, size_t flen, enum x509_key_type *kt)
{
	const char *slug = opt_get(cx, "slug"), *name = opt_get(cx, "name");
	const char *name_en = opt_get(cx, "name-en"), *f = opt_get(cx, "features");
	const char *ckt = opt_get(cx, "ca-key-type");
	int rc;

	if (!valid_slug(slug)) {
		ctl_err(cx, "--slug: '%s' must be 1-63 of a-z 0-9 and -, not starting with -",
			slug);
		return CTL_USAGE;
	}
	if (valid_visible_text(name) != 0 || utf8_len(name) < 1 || utf8_len(name) > 200) {
		ctl_err(cx, "--name: must be 1-200 characters of UTF-8 text without control, "
			    "zero-width or bidi characters");
		return CTL_USAGE;
	}
	if (!valid_ascii(name_en) || strlen(name_en) < 1 || strlen(name_en) > NAME_EN_MAX) {
		ctl_err(cx,
			"--name-en: must be 1-%d printable ASCII characters (it becomes the "
			"CA's O and \"<name-en> Issuing CA\")",
			NAME_EN_MAX);
		return CTL_USAGE;
	}
	*kt = X509_KEY_RSA2048;
	if (ckt != NULL && x509_key_type_parse(ckt, kt) != 0) {
		ctl_err(cx, "--ca-key-type: '%s' is not one of rsa2048, rsa3072, p256", ckt);
		return CTL_USAGE;
	}
	if ((rc = check_quota(cx, opt_get(cx, "quota"))) != 0 ||
	    (rc = check_domain(cx, opt_get(cx, "domain"))) != 0)
		return rc;
	return parse_features(cx, f ? f : "", feat, flen);
}

static int
tenant_exists(struct cmd_ctx *cx, const char *slug, int *exists)
{
	PGresult *t = NULL;
	int rc = q_tenant_find(cx, slug, &t);

	if (rc == 0)
		*exists = PQntuples(t) > 0;
	PQclear(t);
	return rc;
}

/* Insert the tenant and 本社, and create its issuing CA under the root, in one transaction. */
static int
create(struct cmd_ctx *cx, const char *feat, enum x509_key_type kt, long long *id, long long *ca_id)
{
	const char *name_en = opt_get(cx, "name-en"), *domain = opt_get(cx, "domain");
	struct ctlca root = {0}, ca = {0};
	char cn[128];
	struct x509_subject subj = {.cn = cn, .o = name_en, .c = "JP"};
	int rc;

	snprintf(cn, sizeof(cn), "%s Issuing CA", name_en);
	if ((rc = db_begin(&cx->db)) != 0 || (rc = q_lock(cx)) != 0)
		goto out;
	rc = q_tenant_insert(cx, opt_get(cx, "slug"), opt_get(cx, "name"), name_en,
			     domain ? domain : "", opt_get(cx, "quota"), feat, id);
	if (rc != 0 || (rc = q_org_insert(cx, *id, "本社")) != 0)
		goto out;
	if ((rc = ca_load(cx, "root", 0, 1, &root)) == CTL_E_NOTFOUND) {
		ctl_err(cx, "no root CA yet: run 'shomeictl ca init' first");
		rc = CTL_E_REPORTED;
	}
	if (rc != 0 || (rc = ca_create(cx, "tenant", *id, &root, &subj, kt, &ca)) != 0)
		goto out;
	rc = db_commit(&cx->db);
	*ca_id = ca.id;
out:
	if (rc != 0)
		db_rollback(&cx->db);
	ctlca_done(&root);
	ctlca_done(&ca);
	return rc;
}

int
cmd_tenant_create(struct cmd_ctx *cx)
{
	const char *slug = opt_get(cx, "slug");
	enum x509_key_type kt;
	char feat[256];
	long long id = 0, ca_id = 0;
	int rc, exists = 0;

	if ((rc = check_create(cx, feat, sizeof(feat), &kt)) != 0)
		return rc;
	if ((rc = ctl_key(cx)) != 0 || (rc = ctl_db(cx)) != 0 ||
	    (rc = tenant_exists(cx, slug, &exists)) != 0)
		return CTL_FAIL;
	if (!exists)
		rc = create(cx, feat, kt, &id, &ca_id);
	if (exists || rc == CTL_E_EXISTS) {
		ctl_err(cx, "tenant '%s' already exists", slug);
		return CTL_EXISTS;
	}
	if (rc != 0)
		return CTL_FAIL;
	printf("tenant %s created (id %lld, issuing CA id %lld)\n", slug, id, ca_id);
	return CTL_OK;
}

int
cmd_tenant_set(struct cmd_ctx *cx)
{
	const char *slug = opt_get(cx, "slug"), *quota = opt_get(cx, "quota");
	const char *f = opt_get(cx, "features"), *domain = opt_get(cx, "domain");
	const char *ahead = opt_get(cx, "start-ahead-days");
	char feat[256];
	long long n;
	int rc;

	if (quota == NULL && f == NULL && domain == NULL && ahead == NULL) {
		ctl_err(cx, "nothing to change: give --quota, --features, --domain or "
			    "--start-ahead-days");
		return CTL_USAGE;
	}
	if (ahead != NULL && util_parse_ll(ahead, 0, 3650, &n) != 0) {
		ctl_err(cx, "--start-ahead-days: '%s' is not a whole number from 0 to 3650", ahead);
		return CTL_USAGE;
	}
	if ((rc = check_quota(cx, quota)) != 0 || (rc = check_domain(cx, domain)) != 0 ||
	    (f != NULL && (rc = parse_features(cx, f, feat, sizeof(feat))) != 0))
		return rc;
	if ((rc = ctl_db(cx)) != 0)
		return CTL_FAIL;
	rc = q_tenant_update(cx, slug, quota, f ? feat : NULL, domain, ahead);
	if (rc == CTL_E_NOTFOUND) {
		ctl_err(cx, "--slug: no tenant '%s' ('shomeictl tenant list')", slug);
		return CTL_FAIL;
	}
	if (rc != 0)
		return CTL_FAIL;
	printf("tenant %s updated\n", slug);
	return CTL_OK;
}

static int
list_json(const PGresult *res)
{
	cJSON *arr = cJSON_CreateArray();
	char *s;

	for (int r = 0; arr != NULL && r < PQntuples(res); r++) {
		cJSON *o = cJSON_CreateObject(), *fa = cJSON_CreateArray();
		const char *f = db_get(res, r, "features");

		cJSON_AddNumberToObject(o, "id", (double)db_get_ll(res, r, "id"));
		cJSON_AddStringToObject(o, "slug", db_get(res, r, "slug"));
		cJSON_AddStringToObject(o, "name", db_get(res, r, "name"));
		cJSON_AddStringToObject(o, "name_en", db_get(res, r, "name_en"));
		cJSON_AddStringToObject(o, "domain", db_get(res, r, "domain"));
		cJSON_AddNumberToObject(o, "quota", (double)db_get_ll(res, r, "quota"));
		cJSON_AddNumberToObject(o, "issued", (double)db_get_ll(res, r, "issued"));
		while (f != NULL && *f != '\0') {
			size_t n = strcspn(f, ",");
			char one[64];

			snprintf(one, sizeof(one), "%.*s", (int)n, f);
			cJSON_AddItemToArray(fa, cJSON_CreateString(one));
			f += n + (f[n] == ',');
		}
		cJSON_AddItemToObject(o, "features", fa);
		cJSON_AddItemToArray(arr, o);
	}
	if (arr == NULL || (s = cJSON_Print(arr)) == NULL) {
		cJSON_Delete(arr);
		return CTL_FAIL;
	}
	printf("%s\n", s);
	free(s);
	cJSON_Delete(arr);
	return CTL_OK;
}

int
cmd_tenant_list(struct cmd_ctx *cx)
{
	PGresult *res = NULL;
	int rc;

	if (ctl_db(cx) != 0 || q_tenant_list(cx, &res) != 0)
		return CTL_FAIL;
	if (opt_get(cx, "json") != NULL) {
		rc = list_json(res);
	} else {
		printf("%-5s %-20s %8s %8s  %-30s %s\n", "ID", "SLUG", "QUOTA", "ISSUED", "NAME_EN",
		       "FEATURES");
		for (int r = 0; r < PQntuples(res); r++)
			printf("%-5s %-20s %8s %8s  %-30s %s\n", db_get(res, r, "id"),
			       db_get(res, r, "slug"), db_get(res, r, "quota"),
			       db_get(res, r, "issued"), db_get(res, r, "name_en"),
			       db_get(res, r, "features"));
		rc = CTL_OK;
	}
	PQclear(res);
	return rc;
}
