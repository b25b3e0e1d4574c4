/* cfg.h: configuration: a key = value file in sections, and SHOMEI_* environment overrides. */
#ifndef SHOMEI_CFG_H
#define SHOMEI_CFG_H

#include "core/err.h"

#include <stddef.h>

struct cfg {
	char *db;           /* libpq conninfo */
	char *migrate_db;   /* the schema owner's conninfo, for shomeictl migrate; empty = db */
	char *redis_socket; /* unix socket; empty = TCP */
	char *redis_host;
	int redis_port;
	char *socket_dir;      /* <socket_dir>/<service>.sock, signer.sock */
	int threads;           /* accepting threads per service */
	int db_pool;           /* PostgreSQL connections the accepting threads share */
	int db_pool_wait;      /* seconds a request waits for one of them before 503 */
	char *listen;          /* "host:port": FastCGI on TCP; empty: <socket_dir>/<service>.sock */
	char *ca_kek_file;     /* seals the CA keys: shomei-signer and shomeictl only, 0600 */
	char *data_key_file;   /* seals PKCS#12 passwords: issue, users, download; 0640 */
	char *master_key_file; /* before the split: what 'shomeictl keys split' re-seals from */
	char *ca_dir;          /* CA certificates and sealed keys */
	char *public_url;      /* https://host:port, the portal's own origin */
	char *revocation_url;  /* http://host[:port] of the plain-HTTP listener (/crl/, /ca/, /ocsp)
				* that new certificates name; empty: public_url */
	char *renew_url;       /* https://host:port of nginx's renewal server (/dl/<slug>/renew),
				* for the expiry reminders' link; empty: none */
	int session_idle;      /* seconds */
	int session_absolute;  /* seconds */
	int max_body;          /* bytes */
	int max_upload;        /* bytes of a file upload (CSV) */
	int login_fail_limit_id;
	int login_fail_limit_ip;
	int login_fail_window; /* seconds */
	char *migrations_dir;
	char *log_level; /* debug, info, warn, error */
	int log_format;  /* enum log_format: text (key=value) or json (one object per line) */
	/* nginx's internal listener (a unix socket), where a service calls another's internal API;
	 * "" = none */
	char *internal_socket;
	/* where each calling service finds its token: <internal_token_dir>/<service>.token */
	char *internal_token_dir;

	/* The listening sockets are 0660, of these groups (empty: the process's own group). */
	char *socket_group;        /* the FastCGI sockets: nginx's workers' group */
	char *signer_socket_group; /* signer.sock: the group of the signer's callers */
};

/*
 * A section of the file: "[name]" followed by its keys, read only by the programs that use
 * it (the module that owns the settings declares the section; e.g. shomei-issue's [issue],
 * domain/crlpub's [crl]). Keys before any header are struct cfg's, which every program reads.
 * A section's key k is also set by the variable SHOMEI_<NAME>_<K>.
 */
enum cfg_type {
	CFG_STR,  /* char *, strdup'ed */
	CFG_INT,  /* int in [min, max] */
	CFG_ENUM, /* int: the index of the value in words */
};

struct cfg_key {
	const char *name;
	enum cfg_type type;
	const char *def; /* the default, as it would be written in the file */
	long min;
	long max;
	size_t off;               /* offset of the field in the section's struct */
	const char *const *words; /* CFG_ENUM: the values allowed, NULL-terminated */
};

struct cfg_section {
	const char *name; /* "issue" */
	const struct cfg_key *keys;
	size_t nkeys;
	void *base; /* the struct the keys' offsets point into */
};

/* one line each: clang-format would spread these initialiser macros over five */
/* clang-format off */
#define CFG_KEY_STR(st, n, d) {#n, CFG_STR, d, 0, 0, offsetof(st, n), NULL}
#define CFG_KEY_INT(st, n, d, lo, hi) {#n, CFG_INT, #d, lo, hi, offsetof(st, n), NULL}
#define CFG_KEY_ENUM(st, n, d, w) {#n, CFG_ENUM, #d, 0, 0, offsetof(st, n), w}
/* clang-format on */

/*
 * Fill *c and the n sections secs with defaults, then the file at path (NULL: none), then the
 * SHOMEI_* variables. A line of a section this program does not read is skipped; a section
 * header no program reads is an error. On an error returns a CFG_E_* code and writes a message
 * naming the line and key into err, and nothing needs releasing. The strings are owned by *c
 * and the sections' structs: release with cfg_done() and cfg_section_done().
 */
int cfg_load(struct cfg *c, const char *path, const struct cfg_section *secs, size_t n, char *err,
	     size_t errlen);

/* Same as cfg_load but from a string (for tests); the environment is not read. */
int cfg_parse(struct cfg *c, const char *text, const struct cfg_section *secs, size_t n, char *err,
	      size_t errlen);

void cfg_done(struct cfg *c);
void cfg_section_done(const struct cfg_section *s);

/* "<socket_dir>/<name>.sock" into buf; returns 0, or -ENAMETOOLONG. */
int cfg_socket_path(const struct cfg *c, const char *name, char *buf, size_t len);

#endif
