/* test-cfg.c: the configuration parser: defaults, values, ranges, unknown keys, environment. */
#include <stdlib.h>

#include "core/cfg.h"
#include "tap.h"

static void
test_defaults(void)
{
	struct cfg c;
	char err[256] = "";

	TAP_OK(cfg_parse(&c, "", err, sizeof(err)) == 0, "empty text gives defaults");
	TAP_OK(c.threads == 64 && c.session_idle == 1800, "default threads and idle timeout");
	TAP_STREQ(c.log_level, "info", "default log level");
	TAP_OK(c.issue_workers == 4 && c.key_pool_rsa2048 == 100 && c.key_pool_rsa3072 == 10 &&
		       c.key_pool_p256 == 200,
	       "default issuance workers and key pool sizes");
	TAP_OK(c.crl_days == 7 && c.crl_check_interval == 60 && c.admin_crl_file[0] == '\0' &&
		       c.nginx_pid_file[0] == '\0',
	       "default CRL keeper: 7-day CRLs, a look every minute, no nginx to signal");
	cfg_done(&c);
}

static void
test_values(void)
{
	struct cfg c;
	char err[256] = "";
	const char *text =
		"# comment\n\n db = host=/tmp dbname=x \nthreads=4\nlog_level = \"debug\"\n";

	TAP_OK(cfg_parse(&c, text, err, sizeof(err)) == 0, "file with comments, blanks, quotes");
	TAP_STREQ(c.db, "host=/tmp dbname=x", "value keeps inner spaces, trims outer");
	TAP_OK(c.threads == 4, "integer value");
	TAP_STREQ(c.log_level, "debug", "quoted value unquoted");
	cfg_done(&c);
}

static void
test_errors(void)
{
	static const struct {
		const char *text;
		int rc;
		const char *what;
	} cases[] = {
		{"nosuchkey = 1\n", CFG_E_KEY, "unknown key"},
		{"threads\n", CFG_E_SYNTAX, "line without ="},
		{"threads = 0\n", CFG_E_VALUE, "below minimum"},
		{"threads = 257\n", CFG_E_VALUE, "above maximum"},
		{"threads = 4x\n", CFG_E_VALUE, "trailing garbage"},
		{"issue_workers = 0\n", CFG_E_VALUE, "no issuance worker"},
		{"key_pool_rsa2048 = -1\n", CFG_E_VALUE, "negative pool size"},
		{"key_pool_p256 = 100001\n", CFG_E_VALUE, "pool size above maximum"},
		{"threads = \n", CFG_E_VALUE, "empty integer"},
		{"crl_days = 0\n", CFG_E_VALUE, "CRLs valid for no day"},
		{"crl_days = 31\n", CFG_E_VALUE, "CRLs valid over 30 days"},
		{"crl_check_interval = 0\n", CFG_E_VALUE, "CRL keeper that never sleeps"},
		{"db = a\n\nredis_port = 70000\n", CFG_E_VALUE, "error on line 3"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cfg c;
		char err[256] = "";
		int rc = cfg_parse(&c, cases[i].text, err, sizeof(err));
		TAP_OK(rc == cases[i].rc && err[0] != '\0', "refused: %s (%s)", cases[i].what, err);
	}
	{
		struct cfg c;
		char err[256] = "";
		cfg_parse(&c, "db = a\n\nredis_port = 70000\n", err, sizeof(err));
		TAP_OK(strstr(err, "line 3") != NULL && strstr(err, "redis_port") != NULL,
		       "message names the line and the key");
	}
}

static void
test_env(void)
{
	struct cfg c;
	char err[256] = "";

	setenv("SHOMEI_THREADS", "3", 1);
	TAP_OK(cfg_load(&c, NULL, err, sizeof(err)) == 0 && c.threads == 3,
	       "SHOMEI_THREADS overrides");
	cfg_done(&c);
	setenv("SHOMEI_THREADS", "many", 1);
	TAP_OK(cfg_load(&c, NULL, err, sizeof(err)) == CFG_E_VALUE &&
		       strstr(err, "SHOMEI_THREADS") != NULL,
	       "bad environment value named");
	unsetenv("SHOMEI_THREADS");
	TAP_OK(cfg_load(&c, "/nonexistent/shomei.conf", err, sizeof(err)) == CFG_E_FILE,
	       "missing file refused");
}

int
main(void)
{
	test_defaults();
	test_values();
	test_errors();
	test_env();
	return tap_done();
}
