/* test-lifecycle.c: the certificate lifecycle table, its SQL fragments, the schema's CHECK, the
 * device and feature tables. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "domain/device.h"
#include "domain/lifecycle.h"
#include "domain/tenant.h"
#include "web/i18n.h"
#include "web/valid.h"
#include "tap.h"

static void
test_table(void)
{
	enum lc_status s;
	char buf[256];

	for (int i = 0; i < LC_S__MAX; i++) {
		const struct lc_info *in = lifecycle_info((enum lc_status)i);
		TAP_OK(lifecycle_parse(in->code, &s) == 0 && (int)s == i && in->label[0] &&
			       in->label[1],
		       "%s: parses back, has ja and en words", in->code);
	}
	TAP_OK(lifecycle_parse("valid", &s) == LIFECYCLE_E_STATUS &&
		       lifecycle_parse(NULL, &s) == LIFECYCLE_E_STATUS,
	       "an unknown word and NULL are refused");
	TAP_STREQ(lifecycle_label(LC_ISSUING, I18N_JA), "証明書発行中", "issuing in Japanese");
	TAP_STREQ(lifecycle_label(LC_REVOKE_SCHEDULED, I18N_EN), "Revocation scheduled",
		  "revoke_scheduled in English");
	TAP_STREQ(lifecycle_label(LC_FAILED, I18N_JA), "証明書発行失敗", "failed in Japanese");
	TAP_STREQ(lifecycle_label("mystery", I18N_JA), "mystery", "an unknown word is itself");

	TAP_OK(lifecycle_sql_set(LC_F_COUNTED, buf, sizeof(buf)) == 0 &&
		       strcmp(buf, LC_SQL_COUNTED) == 0,
	       "LC_SQL_COUNTED is the table's counted statuses: %s", LC_SQL_COUNTED);
	TAP_OK(lifecycle_sql_set(LC_F_VALID, buf, sizeof(buf)) == 0 &&
		       strcmp(buf, LC_SQL_VALID) == 0,
	       "LC_SQL_VALID is the table's valid statuses: %s", LC_SQL_VALID);
	TAP_OK(lifecycle_sql_set(LC_F_VALID, buf, 10) == -ENOSPC, "a short buffer is refused");
	TAP_STREQ(LC_SQL(LC_ISSUED), "'issued'", "LC_SQL quotes a word");

	TAP_OK(lifecycle_has(LC_DOWNLOADED, LC_F_VALID) && !lifecycle_has(LC_ISSUING, LC_F_VALID) &&
		       lifecycle_has(LC_ISSUING, LC_F_COUNTED) &&
		       !lifecycle_has(LC_REVOKED, LC_F_COUNTED) && !lifecycle_has(NULL, 0),
	       "flags: issuing counts but is not valid; revoked neither");
}

static void
test_transitions(void)
{
	static const struct {
		enum lc_status from, to;
		int ok;
	} cases[] = {
		{LC_S_ISSUING, LC_S_ISSUED, 1},
		{LC_S_ISSUING, LC_S_FAILED, 1},
		{LC_S_ISSUED, LC_S_DOWNLOADED, 1},
		{LC_S_ISSUED, LC_S_REVOKED, 1},
		{LC_S_DOWNLOADED, LC_S_REVOKE_SCHEDULED, 1},
		{LC_S_REVOKE_SCHEDULED, LC_S_DOWNLOADED, 1},
		{LC_S_REVOKE_SCHEDULED, LC_S_REVOKED, 1},
		{LC_S_ISSUING, LC_S_REVOKED, 0},
		{LC_S_DOWNLOADED, LC_S_ISSUED, 0},
		{LC_S_REVOKED, LC_S_ISSUED, 0},
		{LC_S_FAILED, LC_S_ISSUING, 0},
		{LC_S_ISSUED, LC_S_ISSUED, 0},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = lifecycle_may(cases[i].from, cases[i].to);
		TAP_OK(cases[i].ok ? rc == 0 : rc == LIFECYCLE_E_TRANSITION, "%s -> %s %s",
		       lifecycle_info(cases[i].from)->code, lifecycle_info(cases[i].to)->code,
		       cases[i].ok ? "allowed" : "refused");
	}
	for (int i = 0; i < LC_S__MAX; i++)
		if (lifecycle_info((enum lc_status)i)->flags & LC_F_FINAL)
			TAP_OK(lifecycle_info((enum lc_status)i)->next == 0, "%s is final",
			       lifecycle_info((enum lc_status)i)->code);
}

/* The CHECK constraint of certificates.status in the first migration lists the table's words. */
static void
test_schema(const char *root)
{
	char path[512], want[256];
	char *sql, *p, *e;

	snprintf(path, sizeof(path), "%s/db/migrations/0001_init.sql", root);
	if ((sql = util_read_file(path, 1 << 20, NULL)) == NULL) {
		TAP_OK(0, "read %s", path);
		return;
	}
	lifecycle_sql_set(0, want, sizeof(want));
	p = strstr(sql, "CHECK (status IN ('issuing'");
	e = p ? strchr(p, ')') : NULL;
	TAP_OK(p != NULL && e != NULL && (size_t)(e + 1 - (p + 17)) == strlen(want) &&
		       strncmp(p + 17, want, strlen(want)) == 0,
	       "the schema's CHECK on certificates.status is the table: %s", want);
	free(sql);
}

static void
test_devices_features(void)
{
	char buf[256];
	const char *bad = NULL;
	size_t badlen = 0;

	TAP_STREQ(device_label("01", I18N_JA), "WindowsPC", "device 01");
	TAP_STREQ(device_label("99", I18N_EN), "Other", "device 99 in English");
	TAP_OK(device_label("02", I18N_JA) == NULL && device_label(NULL, I18N_JA) == NULL,
	       "an unknown code has no label");
	TAP_OK(device_valid_code("12") == 0 && device_valid_code("1") == VALID_E_FORMAT &&
		       device_valid_list("01,20") == 0 &&
		       device_valid_list("01,") == VALID_E_FORMAT,
	       "device validators");
	TAP_OK(lifecycle_valid_list("issued,revoked") == 0 &&
		       lifecycle_valid_list("issued,,revoked") == VALID_E_FORMAT &&
		       lifecycle_valid_list("") == VALID_E_FORMAT,
	       "status list validator");

	buf[0] = '\0';
	for (int i = 0; i < FEAT__MAX; i++)
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%s", i ? ", " : "",
			 tenant_feature_name((enum tenant_feature)i));
	TAP_STREQ(buf, TENANT_FEATURES_LIST, "TENANT_FEATURES_LIST is the table, in order");
	TAP_OK(tenant_features_canonical("notify_users,org_units,notify_users", buf, sizeof(buf),
					 &bad, &badlen) == 0 &&
		       strcmp(buf, "org_units,notify_users") == 0,
	       "canonical: table order, no duplicates");
	TAP_OK(tenant_features_canonical("org_units,pdf", buf, sizeof(buf), &bad, &badlen) ==
			       -EINVAL &&
		       badlen == 3 && strncmp(bad, "pdf", 3) == 0,
	       "an unknown feature is named");
	TAP_OK(tenant_features_canonical("", buf, sizeof(buf), &bad, &badlen) == 0 &&
		       buf[0] == '\0',
	       "none");
}

int
main(int argc, char **argv)
{
	test_table();
	test_transitions();
	test_schema(argc > 1 ? argv[1] : SOURCE_ROOT);
	test_devices_features();
	return tap_done();
}
