/* cfg.h: the configuration shared by every shomei process (file + SHOMEI_* environment). */
#ifndef SHOMEI_CFG_H
#define SHOMEI_CFG_H

#include "core/err.h"

#include <stddef.h>

struct cfg {
	char *db;           /* libpq conninfo */
	char *redis_socket; /* unix socket; empty = TCP */
	char *redis_host;
	int redis_port;
	char *socket_dir;      /* <socket_dir>/<service>.sock, signer.sock */
	int threads;           /* accepting threads per service */
	char *master_key_file; /* 32 bytes, hex, mode 0600 */
	char *ca_dir;          /* CA certificates and sealed keys */
	char *public_url;      /* https://host:port, the portal's own origin */
	int session_idle;      /* seconds */
	int session_absolute;  /* seconds */
	int max_body;          /* bytes */
	int login_fail_limit_id;
	int login_fail_limit_ip;
	int login_fail_window; /* seconds */
	char *migrations_dir;
	char *log_level;      /* debug, info, warn, error */
	int issue_workers;    /* issuance worker threads in each shomei-issue */
	int key_pool_rsa2048; /* keys kept ready in each shomei-issue, per type */
	int key_pool_rsa3072;
	int key_pool_p256;
	char *admin_crl_file;   /* nginx's ssl_crl file; empty = <ca_dir>/admin-crl.pem */
	char *nginx_pid_file;   /* SIGHUP after a new admin_crl_file; empty = nobody */
	int crl_days;           /* validity of the root and administrator CA CRLs */
	int crl_check_interval; /* seconds between shomei-revoke's looks at that file */
};


/*
 * Fill *c with defaults, then the file at path (NULL: none), then SHOMEI_<KEY>
 * variables. On an error returns a CFG_E_* code and writes a message naming the
 * line and key into err. The strings are owned by *c: release with cfg_done().
 */
int cfg_load(struct cfg *c, const char *path, char *err, size_t errlen);

/* Same as cfg_load but from a string (for tests); env is not read. */
int cfg_parse(struct cfg *c, const char *text, char *err, size_t errlen);

void cfg_done(struct cfg *c);

/* "<socket_dir>/<name>.sock" into buf; returns 0, or -ENAMETOOLONG. */
int cfg_socket_path(const struct cfg *c, const char *name, char *buf, size_t len);

#endif
