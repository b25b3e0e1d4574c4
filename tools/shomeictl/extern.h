/* extern.h: the map of shomeictl, the operator's command-line tool. */
#ifndef SHOMEI_CTL_EXTERN_H
#define SHOMEI_CTL_EXTERN_H

#include "core/err.h"

#include <stddef.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "core/cfg.h"
#include "store/db.h"
#include "pki/secret.h"
#include "pki/x509.h"

/* Exit codes. */
enum {
	CTL_OK = 0,
	CTL_FAIL = 1,   /* the command failed (message on stderr) */
	CTL_USAGE = 2,  /* bad command line */
	CTL_EXISTS = 3, /* tenant or administrator already exists */
};

/* The options of one command: a table, so help and errors come from one place. */
struct opt {
	const char *name;    /* without the leading "--" */
	const char *metavar; /* NULL: a flag without value */
	const char *help;
	int required;
};

#define OPT_MAX 12

struct cmd_ctx;

struct cmd {
	const char *name; /* "tenant create" */
	const char *summary;
	const struct opt *opts;
	size_t nopts;
	int (*run)(struct cmd_ctx *cx);
};

/* What a command runs with: the configuration, the parsed options, lazily a database and key. */
struct cmd_ctx {
	const struct cmd *cmd;
	const char *cfgfile;
	struct cfg cfg;
	const char *val[OPT_MAX]; /* by option index; NULL when absent; "1" for given flags */
	struct db db;
	int db_open;
	unsigned char key[SECRET_KEY_LEN];
	int have_key;
};

/* A CA as shomeictl handles it (key only when asked for). */
struct ctlca {
	long long id;
	X509 *cert;
	EVP_PKEY *key;
};

/* main.c */
const char *opt_get(const struct cmd_ctx *cx, const char *name);
/* Print "shomeictl <cmd>: " + message to stderr. */
void ctl_err(const struct cmd_ctx *cx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int ctl_db(struct cmd_ctx *cx);
/* The same as the schema's owner (config key migrate_db; db when it is empty), for migrate. */
int ctl_db_owner(struct cmd_ctx *cx);
int ctl_key(struct cmd_ctx *cx);
/* Write data to path (or standard output for "-"), atomically, with mode. 0 or -errno. */
int ctl_write_file(const char *path, const void *data, size_t len, int mode);

/* ca.c */
void ctlca_done(struct ctlca *ca);
/* The active CA of kind ("root", "admin", "tenant" with tenant_id); CTL_E_NOTFOUND if none. */
int ca_load(struct cmd_ctx *cx, const char *kind, long long tenant_id, int with_key,
	    struct ctlca *out);
/* Create a CA (parent NULL: a self-signed root), seal its key in ca_dir, insert its row. */
int ca_create(struct cmd_ctx *cx, const char *kind, long long tenant_id, const struct ctlca *parent,
	      const struct x509_subject *subj, enum x509_key_type kt, struct ctlca *out);

/* queries.c: every SQL statement of shomeictl. Results are the caller's (PQclear). */
int q_lock(struct cmd_ctx *cx);
int q_ca_find(struct cmd_ctx *cx, const char *kind, long long tenant_id, PGresult **res);
/* The tenant's active issuing CA made inactive; *id is its id. */
int q_ca_retire(struct cmd_ctx *cx, long long tenant_id, long long *id);
int q_ca_next_id(struct cmd_ctx *cx, long long *id);
int q_ca_insert(struct cmd_ctx *cx, long long id, const char *kind, long long tenant_id,
		long long parent_id, const char *subject, const char *serial, const char *pem,
		const char *key_file, time_t nb, time_t na);
int q_tenant_find(struct cmd_ctx *cx, const char *slug, PGresult **res);
int q_tenant_insert(struct cmd_ctx *cx, const char *slug, const char *name, const char *name_en,
		    const char *domain, const char *quota, const char *features, long long *id);
int q_org_insert(struct cmd_ctx *cx, long long tenant_id, const char *name);
int q_tenant_update(struct cmd_ctx *cx, const char *slug, const char *quota, const char *features,
		    const char *domain, const char *start_ahead_days);
int q_tenant_list(struct cmd_ctx *cx, PGresult **res);
int q_admin_insert(struct cmd_ctx *cx, long long tenant_id, const char *login_id, const char *hash);
int q_admin_find(struct cmd_ctx *cx, const char *login_id, PGresult **res);
int q_admin_cert_revoke(struct cmd_ctx *cx, const char *serial, long long *id);
int q_admin_disable(struct cmd_ctx *cx, const char *login_id, long long *id);
int q_admin_cert_insert(struct cmd_ctx *cx, long long admin_id, long long ca_id, const char *serial,
			const char *fingerprint, const char *subject, time_t nb, time_t na,
			const char *pem);
int q_schema_version(struct cmd_ctx *cx, long long *version);
/* Create schema_migrations if missing; *applied lists the versions applied. */

/* cmd_*.c: the commands */
int cmd_migrate(struct cmd_ctx *cx);
int cmd_ca_init(struct cmd_ctx *cx);
int cmd_ca_chain(struct cmd_ctx *cx);
int cmd_ca_export(struct cmd_ctx *cx);
int cmd_ca_rotate(struct cmd_ctx *cx);
int cmd_tenant_create(struct cmd_ctx *cx);
int cmd_tenant_set(struct cmd_ctx *cx);
int cmd_tenant_list(struct cmd_ctx *cx);
int cmd_admin_create(struct cmd_ctx *cx);
int cmd_admin_cert(struct cmd_ctx *cx);
int cmd_admin_cert_revoke(struct cmd_ctx *cx);
int cmd_admin_disable(struct cmd_ctx *cx);
int cmd_crl_publish(struct cmd_ctx *cx);
int cmd_health(struct cmd_ctx *cx);
int cmd_key_create(struct cmd_ctx *cx);
int cmd_keys_split(struct cmd_ctx *cx);
/* cmd_notices.c */
int cmd_notices_due(struct cmd_ctx *cx);

/* cmd_revocations.c */
int cmd_revocations_apply_due(struct cmd_ctx *cx);

#endif
