/* extern.h: the map of shomei-signer (policy, CA store, socket server). */
#ifndef SHOMEI_SIGNER_EXTERN_H
#define SHOMEI_SIGNER_EXTERN_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/ocsp.h>
#include <openssl/x509.h>

#include <sys/types.h>

#include "core/cfg.h"
#include "pki/secret.h"

/* settings.c: the [signer] section. Each list: user names or uids, comma-separated; "*" anyone
 * who can reach the socket; empty: the signer's own user (one uid runs the whole stack). */
struct signer_cfg {
	char *allow_cert; /* sign certificates with a tenant's CA (shomei-issue) */
	char *allow_crl;  /* sign CRLs (shomei-revoke) */
	char *allow_ocsp; /* sign OCSP responses with a tenant's CA (shomei-revoke) */
	char *allow_ping; /* health checks */
};
extern struct signer_cfg signer_cfg;
extern const struct cfg_section signer_section;

#define ALLOW_MAX 16
/* Who may ask for one operation (SO_PEERCRED's uid of the caller). */
struct allow {
	uid_t uids[ALLOW_MAX];
	size_t n;
	int any;
};
/* Parse a list into *a; 0, or -errno with a message naming the entry in err. */
int allow_parse(const char *list, struct allow *a, char *err, size_t errlen);
int allow_has(const struct allow *a, uid_t uid);

/* Which CA a request is about. */
enum sca_kind {
	SCA_TENANT,  /* the tenant's active issuing CA */
	SCA_ADMIN,   /* the administrator CA (tenant_id 0) */
	SCA_ROOT,    /* the root CA: only for its own CRL (SIGN_CRL with tenant_id 0) */
	SCA_RETIRED, /* a tenant's rotated-out issuing CA: its CRL and OCSP answers only */
	SCA__MAX,
};

/* Longest validity the administrator CA signs (administrator certificates live 2 years). */
#define SCA_ADMIN_MAX_DAYS 825
/* The clock difference tolerated between the signer and its callers (CRL thisUpdate, notBefore). */
#define POLICY_SKEW_SECONDS 300
/* Longest span between a CRL's thisUpdate and nextUpdate. */
#define POLICY_CRL_MAX_DAYS 366
/* Longest span between an OCSP response's thisUpdate and nextUpdate (RFC 5019 keeps it short). */
#define POLICY_OCSP_MAX_DAYS 7

/* A CA as the signer holds it; the references are owned (sca_done drops them). */
struct sca {
	long long id;
	enum sca_kind kind;
	X509 *cert;
	EVP_PKEY *key;
	int max_days;   /* longest certificate validity it may sign; 0: signs no certificate */
	int start_days; /* how far ahead notBefore may be (the tenant's allowance), in days */
};

void sca_done(struct sca *ca);
/* dst takes its own references to src's certificate and key. */
void sca_copy(struct sca *dst, const struct sca *src);

/*
 * Finds the CA for (kind, tenant_id) into *out (release with sca_done).
 * Returns 0, SIGNER_ST_NOCA when there is none, or -errno.
 */
typedef int (*sca_lookup_fn)(void *arg, enum sca_kind kind, uint64_t tenant_id, struct sca *out);
/* 1 when cert is the CA an object names (its CRL's AKI, its OCSP CertID's issuer). */
typedef int (*sca_match_fn)(X509 *cert, const void *arg);
/*
 * Finds, among the tenant's inactive (rotated-out) issuing CAs that are not expired, the one
 * match accepts, for its CRL and OCSP answers only (kind SCA_RETIRED): 0, SIGNER_ST_NOCA or
 * -errno.
 */
typedef int (*sca_retired_fn)(void *arg, uint64_t tenant_id, sca_match_fn match,
			      const void *match_arg, struct sca *out);
/*
 * Sets ca's max_days and start_days to the tenant's limits as they are now (SIGN_CERT asks on
 * every certificate): 0, SIGNER_ST_NOCA when there is no such tenant, or -errno.
 */
typedef int (*sca_limits_fn)(void *arg, uint64_t tenant_id, struct sca *ca);

/* policy.c */
/* 0 when ca may sign x, else SIGNER_ST_REFUSED with the reason in reason. */
/* now: the signer's clock (a parameter, so tests can move it). */
int policy_check_cert(const struct sca *ca, X509 *x, time_t now, char *reason, size_t len);
int policy_check_crl(const struct sca *ca, X509_CRL *crl, time_t now, char *reason, size_t len);
/* A basic response whose one certificate ca issued; producedAt and thisUpdate now. */
int policy_check_ocsp(const struct sca *ca, OCSP_BASICRESP *bs, time_t now, char *reason,
		      size_t len);

/*
 * store.c: CAs from PostgreSQL (table cas) and <ca_dir>/<key_file>, cached for STORE_TTL; a
 * tenant's limits are not cached (store_limits).
 */
#define STORE_TTL 30
struct store;
/* NULL on ENOMEM; the master key is copied (and wiped by store_free). */
struct store *store_new(const char *conninfo, const char *ca_dir,
			const unsigned char key[SECRET_KEY_LEN]);
void store_free(struct store *st);
/* An sca_lookup_fn; arg is the struct store. */
int store_lookup(void *arg, enum sca_kind kind, uint64_t tenant_id, struct sca *out);
/* An sca_limits_fn (one primary-key query); arg is the struct store. */
int store_limits(void *arg, uint64_t tenant_id, struct sca *ca);
/* An sca_retired_fn (not cached: a rotated-out CA signs a CRL or an answer now and then). */
int store_lookup_retired(void *arg, uint64_t tenant_id, sca_match_fn match, const void *match_arg,
			 struct sca *out);

/* server.c */
#define SERVER_MAX_CONN 64
#define SERVER_IDLE_MS 30000

/* Who is on the other end of a connection (SO_PEERCRED, taken at accept). */
struct caller {
	uid_t uid;
	gid_t gid;
	pid_t pid;
	char name[64]; /* the user's name, or the uid in digits */
};

struct server {
	struct allow allow_cert, allow_crl, allow_ocsp, allow_ping; /* server_init: own uid */
	int listen_fd;
	int stop_pipe[2];
	sca_lookup_fn lookup;
	void *lookup_arg;
	sca_retired_fn retired; /* NULL: a rotated-out CA signs nothing (set after server_init) */
	sca_limits_fn limits;   /* NULL: the lookup's limits stand (set after server_init) */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int active; /* connection threads running */
};

/*
 * Bind a unix stream socket at path, mode 0660, of group group (NULL or empty: the process's
 * own), both set before listen(). A stale socket is replaced; a live one (something answers)
 * gives -EADDRINUSE. 0 or -errno (-ENOENT: no such group).
 */
int server_listen(const char *path, const char *group, int *fd);
/* s takes listen_fd. 0 or -errno. */
int server_init(struct server *s, int listen_fd, sca_lookup_fn lookup, void *arg);
/* Accept and serve until server_stop; 0 or -errno. */
int server_run(struct server *s);
/* Async-signal-safe: makes server_run return. */
void server_stop(struct server *s);
/* Wait (a few seconds at most) for connections to finish; close everything. */
void server_done(struct server *s);
/*
 * Answer one request frame: *ans (malloc'ed, caller frees) is status | body.
 * 0 or -ENOMEM.
 */
int server_handle(struct server *s, const struct caller *who, const unsigned char *req, size_t len,
		  unsigned char **ans, size_t *anslen);
/* Who is connected on fd (SO_PEERCRED). 0 or -errno. */
int caller_of(int fd, struct caller *who);

#endif
