/* main.c: shomeictl, the operator's tool: command table, options, help (wiring only). */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "extern.h"
#include "core/util.h"
#include "core/log.h"
#include "domain/tenant.h"

#define FEATURES TENANT_FEATURES_LIST

static const struct opt o_none[] = {{0}};
static const struct opt o_ca_init[] = {
	{"root-key-type", "TYPE", "root CA key: rsa3072 (default), rsa2048, p256", 0},
	{"key-type", "TYPE", "administrator CA key: rsa2048 (default), rsa3072, p256", 0},
};
static const struct opt o_out[] = {
	{"out", "FILE", "where to write the PEM (\"-\" = standard output)", 1},
};
static const struct opt o_ca_chain[] = {
	{"out", "FILE", "where to write the PEM (\"-\" = standard output)", 1},
	{"ca-only", NULL,
	 "the administrator CA alone (nginx's ssl_client_certificate: the CA names "
	 "browsers are offered)",
	 0},
};
static const struct opt o_ca_export[] = {
	{"tenant", "SLUG", "the tenant whose chain (issuing CA, root) to write", 1},
	{"out", "FILE", "where to write the PEM (\"-\" = standard output)", 1},
};
static const struct opt o_ca_rotate[] = {
	{"tenant", "SLUG", "the tenant whose issuing CA is replaced by a new one", 1},
};
static const struct opt o_tenant_create[] = {
	{"slug", "SLUG", "short name: a-z 0-9 and -, 1-63 characters, starting a-z0-9", 1},
	{"name", "NAME", "name (Japanese), 1-200 characters", 1},
	{"name-en", "NAME", "English name, printable ASCII, 1-53 characters (the CA's O and CN)",
	 1},
	{"quota", "N", "number of certificates contracted, 0-10000000", 1},
	{"features", "LIST", "comma-separated, from: " FEATURES, 0},
	{"domain", "DOMAIN", "the tenant's e-mail domain (optional)", 0},
	{"ca-key-type", "TYPE", "issuing CA key: rsa2048 (default), rsa3072, p256", 0},
};
static const struct opt o_tenant_set[] = {
	{"slug", "SLUG", "the tenant to change", 1},
	{"quota", "N", "new quota, 0-10000000", 0},
	{"features", "LIST", "replaces the feature list (\"\" for none), from: " FEATURES, 0},
	{"domain", "DOMAIN", "new e-mail domain (\"\" for none)", 0},
	{"start-ahead-days", "N",
	 "how far ahead a validity may start (validity_period's From), 0-3650 days (default 365)",
	 0},
};
static const struct opt o_tenant_list[] = {
	{"json", NULL, "print a JSON array instead of a table", 0},
};
static const struct opt o_admin_create[] = {
	{"tenant", "SLUG", "the administrator's tenant", 1},
	{"login-id", "ID", "login ID: 1-64 of A-Z a-z 0-9 . _ @ -", 1},
	{"password", "P", "8-16 half-width alphanumerics; generated and printed when absent", 0},
};
static const struct opt o_admin_cert[] = {
	{"login-id", "ID", "the administrator", 1},
	{"out", "FILE", "the PKCS#12 file to write (mode 0600)", 1},
	{"key-type", "TYPE", "p256 (default) or rsa2048", 0},
	{"p12", "MODE", "modern (default: AES-256, SHA-256 MAC) or compat (3DES, SHA-1 MAC)", 0},
};
static const struct opt o_admin_cert_revoke[] = {
	{"serial", "HEX", "the certificate's serial, as 'admin cert' printed it", 1},
};
static const struct opt o_admin_disable[] = {
	{"login-id", "ID", "the administrator to disable", 1},
};
static const struct opt o_crl_publish[] = {
	{"out", "FILE", "where to write the root and administrator CA CRLs (PEM)", 1},
	{"days", "N", "nextUpdate in N days, 1-30 (default 7)", 0},
};
static const struct opt o_revocations_apply_due[] = {
	{"as-of", "\"yyyy/mm/dd hh:mm\"",
	 "apply what is due at this JST time (default: now); a time ahead applies early", 0},
};
static const struct opt o_notices_due[] = {
	{"as-of", "\"yyyy/mm/dd hh:mm\"",
	 "queue what is due at this JST time (default: now): reminders 30, 15, 5, 1 days ahead", 0},
};

#define CMD(n, s, o, f)                                                                            \
	{                                                                                          \
		n, s, o, sizeof(o) / sizeof(o[0]), f                                               \
	}
static const struct cmd cmds[] = {
	CMD("migrate", "apply the pending db/migrations in order", o_none, cmd_migrate),
	CMD("ca init", "create the root and administrator CAs if absent", o_ca_init, cmd_ca_init),
	CMD("ca chain", "write the administrator CA and root (nginx's ssl_trusted_certificate)",
	    o_ca_chain, cmd_ca_chain),
	CMD("ca export", "write a tenant's CA chain", o_ca_export, cmd_ca_export),
	CMD("ca rotate",
	    "give a tenant a new issuing CA (same key type); the old one keeps its CRL and OCSP "
	    "until its certificates expire",
	    o_ca_rotate, cmd_ca_rotate),
	CMD("tenant create", "create a tenant, its organization 本社 and its issuing CA",
	    o_tenant_create, cmd_tenant_create),
	CMD("tenant set", "change a tenant's quota, features, domain or start allowance",
	    o_tenant_set, cmd_tenant_set),
	CMD("tenant list", "list the tenants", o_tenant_list, cmd_tenant_list),
	CMD("admin create", "create an administrator (prints a generated password)", o_admin_create,
	    cmd_admin_create),
	CMD("admin cert", "issue an administrator certificate as a .p12 (prints its password)",
	    o_admin_cert, cmd_admin_cert),
	CMD("admin cert-revoke",
	    "revoke an administrator certificate, ending the sessions it opened (then 'crl "
	    "publish')",
	    o_admin_cert_revoke, cmd_admin_cert_revoke),
	CMD("admin disable",
	    "disable an administrator: no more logins, its sessions end at once (Redis)",
	    o_admin_disable, cmd_admin_disable),
	CMD("crl publish", "sign and write the root and administrator CA CRLs (for nginx ssl_crl)",
	    o_crl_publish, cmd_crl_publish),
	CMD("revocations apply-due",
	    "revoke the certificates whose scheduled date has come (shomei-revoke does this at "
	    "00:00 JST)",
	    o_revocations_apply_due, cmd_revocations_apply_due),
	CMD("notices due",
	    "queue the expiry reminders and the administrators' daily digest now due, each once "
	    "(shomei-users does this every reminder_interval)",
	    o_notices_due, cmd_notices_due),
	CMD("health", "check PostgreSQL and the signer; prints JSON", o_none, cmd_health),
	CMD("key create",
	    "create a key file: the CA key-encryption key or the data key (mode 0600, never "
	    "overwrites)",
	    o_out, cmd_key_create),
	CMD("keys split",
	    "move an installation from one master key to a CA key-encryption key and a data key "
	    "(re-seals everything; safe to run again)",
	    o_none, cmd_keys_split),
};
#define NCMDS (sizeof(cmds) / sizeof(cmds[0]))

static size_t
nopts(const struct cmd *c)
{
	return c->opts == o_none ? 0 : c->nopts;
}

static void
usage_all(FILE *f)
{
	fprintf(f, "usage: shomeictl [-c CONFIG] COMMAND [OPTIONS]\n"
		   "  -c CONFIG  configuration file (default: $SHOMEI_CONFIG)\n\ncommands:\n");
	for (size_t i = 0; i < NCMDS; i++)
		fprintf(f, "  %-18s %s\n", cmds[i].name, cmds[i].summary);
	fprintf(f, "\n'shomeictl COMMAND --help' describes a command's options.\n"
		   "Exit status: 0 ok, 1 failed, 2 bad command line, 3 already exists.\n");
}

static void
usage_cmd(FILE *f, const struct cmd *c)
{
	fprintf(f, "usage: shomeictl [-c CONFIG] %s", c->name);
	for (size_t i = 0; i < nopts(c); i++) {
		const struct opt *o = &c->opts[i];

		fprintf(f, " %s--%s%s%s%s", o->required ? "" : "[", o->name, o->metavar ? " " : "",
			o->metavar ? o->metavar : "", o->required ? "" : "]");
	}
	fprintf(f, "\n%s\n", c->summary);
	for (size_t i = 0; i < nopts(c); i++)
		fprintf(f, "  --%-14s %s%s\n", c->opts[i].name, c->opts[i].help,
			c->opts[i].required ? " (required)" : "");
}

void
ctl_err(const struct cmd_ctx *cx, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "shomeictl%s%s: ", cx && cx->cmd ? " " : "",
		cx && cx->cmd ? cx->cmd->name : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

const char *
opt_get(const struct cmd_ctx *cx, const char *name)
{
	for (size_t i = 0; i < nopts(cx->cmd); i++)
		if (strcmp(cx->cmd->opts[i].name, name) == 0)
			return cx->val[i];
	return NULL;
}

static int
opt_index(const struct cmd *c, const char *name, size_t len)
{
	for (size_t i = 0; i < nopts(c); i++)
		if (strlen(c->opts[i].name) == len && strncmp(c->opts[i].name, name, len) == 0)
			return (int)i;
	return -1;
}

static void
list_allowed(const struct cmd *c)
{
	fprintf(stderr, "  allowed:");
	for (size_t i = 0; i < nopts(c); i++)
		fprintf(stderr, " --%s", c->opts[i].name);
	fprintf(stderr, "%s --help\n", nopts(c) ? "," : "");
}

/* Parse "--name value", "--name=value" and flags; 0, 1 (help shown) or CTL_USAGE. */
static int
parse_opts(struct cmd_ctx *cx, int argc, char **argv)
{
	const struct cmd *c = cx->cmd;

	for (int i = 0; i < argc; i++) {
		const char *a = argv[i], *eq;
		int k;

		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage_cmd(stdout, c);
			return 1;
		}
		if (strncmp(a, "--", 2) != 0) {
			ctl_err(cx, "unexpected argument '%s'", a);
			list_allowed(c);
			return CTL_USAGE;
		}
		eq = strchr(a + 2, '=');
		k = opt_index(c, a + 2, eq ? (size_t)(eq - a - 2) : strlen(a + 2));
		if (k < 0) {
			ctl_err(cx, "unknown option '%s'", a);
			list_allowed(c);
			return CTL_USAGE;
		}
		if (c->opts[k].metavar == NULL) {
			if (eq != NULL) {
				ctl_err(cx, "--%s takes no value", c->opts[k].name);
				return CTL_USAGE;
			}
			cx->val[k] = "1";
		} else if (eq != NULL) {
			cx->val[k] = eq + 1;
		} else if (i + 1 < argc) {
			cx->val[k] = argv[++i];
		} else {
			ctl_err(cx, "--%s needs a value: %s", c->opts[k].name, c->opts[k].help);
			return CTL_USAGE;
		}
	}
	for (size_t k = 0; k < nopts(c); k++)
		if (c->opts[k].required && cx->val[k] == NULL) {
			ctl_err(cx, "missing --%s %s: %s", c->opts[k].name, c->opts[k].metavar,
				c->opts[k].help);
			return CTL_USAGE;
		}
	return 0;
}

/* The command named by the first one or two words; *used says how many. */
static const struct cmd *
find_cmd(int argc, char **argv, int *used)
{
	char two[64];

	if (argc >= 2) {
		snprintf(two, sizeof(two), "%s %s", argv[0], argv[1]);
		for (size_t i = 0; i < NCMDS; i++)
			if (strcmp(cmds[i].name, two) == 0) {
				*used = 2;
				return &cmds[i];
			}
	}
	for (size_t i = 0; argc >= 1 && i < NCMDS; i++)
		if (strcmp(cmds[i].name, argv[0]) == 0) {
			*used = 1;
			return &cmds[i];
		}
	return NULL;
}

static void
unknown_cmd(int argc, char **argv)
{
	size_t n = strlen(argv[0]);
	int group = 0;

	for (size_t i = 0; i < NCMDS; i++)
		if (strncmp(cmds[i].name, argv[0], n) == 0 && cmds[i].name[n] == ' ')
			group = 1;
	if (group) {
		fprintf(stderr, "shomeictl: '%s' needs a subcommand%s%s; one of:\n", argv[0],
			argc > 1 ? ", not " : "", argc > 1 ? argv[1] : "");
		for (size_t i = 0; i < NCMDS; i++)
			if (strncmp(cmds[i].name, argv[0], n) == 0 && cmds[i].name[n] == ' ')
				fprintf(stderr, "  %s\n", cmds[i].name);
	} else {
		fprintf(stderr, "shomeictl: unknown command '%s' ('shomeictl --help' lists them)\n",
			argv[0]);
	}
}

/* PostgreSQL's NOTICEs ("already exists, skipping") are not for the operator. */
static void
quiet_notice(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

static int
open_db(struct cmd_ctx *cx, const char *conninfo, const char *key)
{
	if (!cx->db_open) {
		if (db_init(&cx->db, conninfo) != 0)
			return -ENOMEM;
		cx->db_open = 1;
	}
	if (db_ensure(&cx->db) != 0) {
		ctl_err(cx, "cannot connect to PostgreSQL (config key %s)", key);
		return CTL_E_REPORTED;
	}
	PQsetNoticeProcessor(cx->db.conn, quiet_notice, NULL);
	return 0;
}

int
ctl_db(struct cmd_ctx *cx)
{
	return open_db(cx, cx->cfg.db, "db");
}

int
ctl_db_owner(struct cmd_ctx *cx)
{
	if (cx->cfg.migrate_db == NULL || cx->cfg.migrate_db[0] == '\0')
		return open_db(cx, cx->cfg.db, "db");
	return open_db(cx, cx->cfg.migrate_db, "migrate_db");
}

int
ctl_key(struct cmd_ctx *cx)
{
	const char *path = cx->cfg.ca_kek_file;
	int rc;

	if (cx->have_key)
		return 0;
	rc = secret_key_load(path, SECRET_KEY_OWNER, cx->key);
	if (rc == SECRET_E_MODE)
		ctl_err(cx, "CA key-encryption key %s is accessible by group or others (chmod 600)",
			path);
	else if (rc == SECRET_E_FORMAT)
		ctl_err(cx, "CA key-encryption key %s is not 64 hex digits", path);
	else if (rc == -ENOENT && cx->cfg.master_key_file[0] != '\0')
		ctl_err(cx,
			"CA key-encryption key %s: absent; this installation still has one "
			"master key (%s): run 'shomeictl keys split' first",
			path, cx->cfg.master_key_file);
	else if (rc < 0)
		ctl_err(cx,
			"CA key-encryption key %s: %s ('shomeictl key create --out %s' makes one)",
			path, strerror(-rc), path);
	if (rc != 0)
		return CTL_E_REPORTED;
	cx->have_key = 1;
	return 0;
}

int
ctl_write_file(const char *path, const void *data, size_t len, int mode)
{
	if (strcmp(path, "-") == 0)
		return util_write_all(STDOUT_FILENO, data, len);
	return util_write_file(path, data, len, mode);
}

static int
run_cmd(struct cmd_ctx *cx, int argc, char **argv)
{
	char err[512];
	int rc;

	if ((rc = parse_opts(cx, argc, argv)) != 0)
		return rc == 1 ? CTL_OK : rc;
	if (cfg_load(&cx->cfg, cx->cfgfile, NULL, 0, err, sizeof(err)) != 0) {
		ctl_err(cx, "configuration: %s", err);
		return CTL_FAIL;
	}
	log_init("shomeictl", "warn", (enum log_format)cx->cfg.log_format);
	return cx->cmd->run(cx);
}

int
main(int argc, char *argv[])
{
	struct cmd_ctx cx;
	const struct cmd *c;
	int i = 1, used = 0, rc;

	memset(&cx, 0, sizeof(cx));
	cx.cfgfile = getenv("SHOMEI_CONFIG");
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc) {
			cx.cfgfile = argv[++i];
		} else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			usage_all(stdout);
			return CTL_OK;
		} else {
			fprintf(stderr,
				"shomeictl: unknown option '%s' (only -c CONFIG and --help "
				"come before the command)\n",
				argv[i]);
			return CTL_USAGE;
		}
	}
	if (i >= argc) {
		usage_all(stderr);
		return CTL_USAGE;
	}
	if ((c = find_cmd(argc - i, argv + i, &used)) == NULL) {
		unknown_cmd(argc - i, argv + i);
		return CTL_USAGE;
	}
	cx.cmd = c;
	rc = run_cmd(&cx, argc - i - used, argv + i + used);
	if (cx.db_open)
		db_done(&cx.db);
	OPENSSL_cleanse(cx.key, sizeof(cx.key));
	cfg_done(&cx.cfg);
	return rc;
}
