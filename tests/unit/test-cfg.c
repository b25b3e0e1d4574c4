/* test-cfg.c: the configuration parser: defaults, values, ranges, unknown keys, sections,
 * environment; with the two sections the services declare ([issue], [revoke]). */
#include <stdlib.h>
#include <string.h>

#include "core/cfg.h"
#include "issue/extern.h"
#include "revoke/extern.h"
#include "tap.h"

static struct cfg_section both[2]; /* issue_section, revoke_section: set in main */
#define NBOTH 2

static void
done(struct cfg *c)
{
	cfg_done(c);
	cfg_section_done(&issue_section);
	cfg_section_done(&revoke_section);
}

static void
test_defaults(void)
{
	struct cfg c;
	char err[256] = "";

	TAP_OK(cfg_parse(&c, "", both, NBOTH, err, sizeof(err)) == 0, "empty text gives defaults");
	TAP_OK(c.threads == 64 && c.session_idle == 1800, "default threads and idle timeout");
	TAP_STREQ(c.log_level, "info", "default log level");
	TAP_OK(issue_cfg.workers == 4 && issue_cfg.key_pool_rsa2048 == 100 &&
		       issue_cfg.key_pool_rsa3072 == 10 && issue_cfg.key_pool_p256 == 200,
	       "default issuance workers and key pool sizes");
	TAP_OK(issue_cfg.rsa_keygen == KEYPOOL_RSA_RSAGEN, "RSA keys from rsagen by default");
	TAP_OK(revoke_cfg.crl_days == 7 && revoke_cfg.crl_check_interval == 60 &&
		       revoke_cfg.admin_crl_file[0] == '\0' && revoke_cfg.nginx_pid_file[0] == '\0',
	       "default CRL keeper: 7-day CRLs, a look every minute, no nginx to signal");
	done(&c);
}

static void
test_values(void)
{
	struct cfg c;
	char err[256] = "";
	const char *text =
		"# comment\n\n db = host=/tmp dbname=x \nthreads=4\nlog_level = \"debug\"\n";

	TAP_OK(cfg_parse(&c, text, both, NBOTH, err, sizeof(err)) == 0,
	       "file with comments, blanks, quotes");
	TAP_STREQ(c.db, "host=/tmp dbname=x", "value keeps inner spaces, trims outer");
	TAP_OK(c.threads == 4, "integer value");
	TAP_STREQ(c.log_level, "debug", "quoted value unquoted");
	done(&c);
	TAP_OK(cfg_parse(&c,
			 "threads = 8\n[issue]\nworkers = 2\n[ revoke ]\ncrl_days = 3\n"
			 "admin_crl_file = /x/crl.pem\n[issue]\nkey_pool_p256 = 0\n",
			 both, NBOTH, err, sizeof(err)) == 0 &&
		       c.threads == 8 && issue_cfg.workers == 2 && issue_cfg.key_pool_p256 == 0 &&
		       revoke_cfg.crl_days == 3 &&
		       strcmp(revoke_cfg.admin_crl_file, "/x/crl.pem") == 0,
	       "keys of [issue] and [revoke] go to their sections, a header may come twice");
	done(&c);
	TAP_OK(cfg_parse(&c, "[issue]\nrsa_keygen = openssl\n", both, NBOTH, err, sizeof(err)) ==
			       0 &&
		       issue_cfg.rsa_keygen == KEYPOOL_RSA_OPENSSL,
	       "[issue] rsa_keygen = openssl: OpenSSL's own generator");
	done(&c);
	TAP_OK(cfg_parse(&c, "[issue]\nrsa_keygen = nettle\n", both, NBOTH, err, sizeof(err)) ==
			       CFG_E_VALUE &&
		       strstr(err, "issue.rsa_keygen") && strstr(err, "rsagen, openssl"),
	       "rsa_keygen of another word refused, naming the allowed ones (%s)", err);
	TAP_OK(cfg_parse(&c, "[issue]\nworkers = 0\nnosuchkey = 1\n[revoke]\ncrl_days = 99\n", NULL,
			 0, err, sizeof(err)) == 0,
	       "a program that reads neither section skips their lines (their owners check them)");
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
		{"[issue]\nworkers = 0\n", CFG_E_VALUE, "no issuance worker"},
		{"[issue]\nkey_pool_rsa2048 = -1\n", CFG_E_VALUE, "negative pool size"},
		{"[issue]\nkey_pool_p256 = 100001\n", CFG_E_VALUE, "pool size above maximum"},
		{"threads = \n", CFG_E_VALUE, "empty integer"},
		{"[revoke]\ncrl_days = 0\n", CFG_E_VALUE, "CRLs valid for no day"},
		{"[revoke]\ncrl_days = 31\n", CFG_E_VALUE, "CRLs valid over 30 days"},
		{"[revoke]\ncrl_check_interval = 0\n", CFG_E_VALUE, "CRL keeper that never sleeps"},
		{"issue_workers = 4\n", CFG_E_KEY, "a section's key outside its section"},
		{"workers = 4\n", CFG_E_KEY, "[issue]'s key before any header"},
		{"[issue]\nthreads = 4\n", CFG_E_KEY, "a shared key inside [issue]"},
		{"[isue]\nworkers = 4\n", CFG_E_KEY, "a misspelt section"},
		{"[issue\n", CFG_E_SYNTAX, "a header without ]"},
		{"[]\n", CFG_E_SYNTAX, "an empty header"},
		{"db = a\n\nredis_port = 70000\n", CFG_E_VALUE, "error on line 3"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cfg c;
		char err[256] = "";
		int rc = cfg_parse(&c, cases[i].text, both, NBOTH, err, sizeof(err));
		TAP_OK(rc == cases[i].rc && err[0] != '\0', "refused: %s (%s)", cases[i].what, err);
	}
	{
		struct cfg c;
		char err[256] = "";
		cfg_parse(&c, "db = a\n\nredis_port = 70000\n", both, NBOTH, err, sizeof(err));
		TAP_OK(strstr(err, "line 3") != NULL && strstr(err, "redis_port") != NULL,
		       "message names the line and the key");
		cfg_parse(&c, "[issue]\n\nworkers = 65\n", both, NBOTH, err, sizeof(err));
		TAP_OK(strstr(err, "line 3") != NULL && strstr(err, "issue.workers") != NULL &&
			       strstr(err, "1 to 64") != NULL,
		       "message names the line, the section's key and the range (%s)", err);
		cfg_parse(&c, "[issue]\nthreads = 4\n", both, NBOTH, err, sizeof(err));
		TAP_OK(strstr(err, "line 2") != NULL && strstr(err, "[issue]") != NULL,
		       "an unknown key's message names its section (%s)", err);
	}
}

static void
test_env(void)
{
	struct cfg c;
	char err[256] = "";

	setenv("SHOMEI_THREADS", "3", 1);
	TAP_OK(cfg_load(&c, NULL, both, NBOTH, err, sizeof(err)) == 0 && c.threads == 3,
	       "SHOMEI_THREADS overrides");
	done(&c);
	setenv("SHOMEI_THREADS", "many", 1);
	TAP_OK(cfg_load(&c, NULL, both, NBOTH, err, sizeof(err)) == CFG_E_VALUE &&
		       strstr(err, "SHOMEI_THREADS") != NULL,
	       "bad environment value named");
	unsetenv("SHOMEI_THREADS");
	setenv("SHOMEI_ISSUE_WORKERS", "7", 1);
	setenv("SHOMEI_REVOKE_CRL_CHECK_INTERVAL", "2", 1);
	TAP_OK(cfg_load(&c, NULL, both, NBOTH, err, sizeof(err)) == 0 && issue_cfg.workers == 7 &&
		       revoke_cfg.crl_check_interval == 2,
	       "SHOMEI_ISSUE_WORKERS and SHOMEI_REVOKE_CRL_CHECK_INTERVAL set section keys");
	done(&c);
	setenv("SHOMEI_ISSUE_WORKERS", "0", 1);
	TAP_OK(cfg_load(&c, NULL, both, NBOTH, err, sizeof(err)) == CFG_E_VALUE &&
		       strstr(err, "SHOMEI_ISSUE_WORKERS") != NULL,
	       "a section key's bad environment value named");
	unsetenv("SHOMEI_ISSUE_WORKERS");
	unsetenv("SHOMEI_REVOKE_CRL_CHECK_INTERVAL");
	TAP_OK(cfg_load(&c, "/nonexistent/shomei.conf", both, NBOTH, err, sizeof(err)) ==
		       CFG_E_FILE,
	       "missing file refused");
}

int
main(void)
{
	both[0] = issue_section;
	both[1] = revoke_section;
	test_defaults();
	test_values();
	test_errors();
	test_env();
	return tap_done();
}
