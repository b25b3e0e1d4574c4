/* extern.h: cross-file prototypes of shomei-issue. */
#ifndef SHOMEI_ISSUE_EXTERN_H
#define SHOMEI_ISSUE_EXTERN_H

#include <stddef.h>

#include "core/util.h"
#include "web/fcgisvc.h"
#include "pki/keypool.h"
#include "pki/secret.h"
#include "pki/signer.h"
#include "web/i18n.h"

/* settings.c: the [issue] section */
struct issue_cfg {
	int workers;          /* issuance worker threads in each shomei-issue */
	int key_pool_rsa2048; /* keys kept ready in memory, per type */
	int key_pool_rsa3072;
	int key_pool_p256;
	int rsa_keygen; /* enum keypool_rsa: rsagen (default) or openssl */
};
extern struct issue_cfg issue_cfg;
extern const struct cfg_section issue_section;

/* Seconds between two attempts at a certificate at most, as SQL (a transient failure is retried
 * for as long as it lasts; only a permanent refusal makes the certificate failed). */
#define ISSUE_BACKOFF_MAX "60"
/* Rows a worker claims and commits together (DECISIONS.md, "Queue"). */
#define ISSUE_CLAIM_MAX 8
/* XREAD BLOCK, milliseconds: also the sweep interval (below kv's 2 s socket timeout). */
#define ISSUE_BLOCK_MS 1500
/* Certificates a batch may add at once (further bounded by the quota). */
#define ISSUE_BATCH_MAX 100000
/* a page, and what a page reads: one more, to know whether more follow (the SQL's LIMIT) */
#define ISSUE_PER_PAGE_READ 101
#define ISSUE_PER_PAGE (ISSUE_PER_PAGE_READ - 1)
#define ISSUE_PER_PAGE_READ_S UTIL_STR(ISSUE_PER_PAGE_READ)

/* queries.c */
extern const struct db_stmt q_next_numbers;
extern const struct db_stmt q_claim;
extern const struct db_stmt q_ca;
extern const struct db_stmt q_store;
extern const struct db_stmt q_fail;
extern const struct db_stmt q_list_count;
extern const struct db_stmt q_counts;
extern const struct db_stmt q_list_asc;
extern const struct db_stmt q_list_desc;
extern const struct db_stmt q_list_asc_rev;
extern const struct db_stmt q_list_desc_rev;
extern const struct db_stmt q_list_fixed[2][2][4];
extern const char q_list_select[];
extern const struct db_stmt q_one;
extern const struct db_stmt q_retry_lock;
extern const struct db_stmt q_retry;

/* msg.c: this service's own messages */
extern const struct i18n_text msg_count_range; /* a printf format: %lld is the most one may add */
extern const struct i18n_text msg_issuing;
extern const struct i18n_text msg_status;
extern const struct i18n_text msg_issue_sort;
extern const struct i18n_text msg_cn;
extern const struct i18n_text msg_not_failed;
extern const struct i18n_text msg_retry_quota;

/* retry.c */
int issue_retry(struct http_req *req, struct svc_thread *t);

/* batch.c */
int issue_batch(struct http_req *req, struct svc_thread *t);

/* list.c */
int issue_list(struct http_req *req, struct svc_thread *t);
int issue_get(struct http_req *req, struct svc_thread *t);

/* worker.c */
struct issue_env {
	const struct cfg *cfg;
	unsigned char data_key[SECRET_KEY_LEN]; /* seals the PKCS#12 passwords */
	struct keypool *pool;
	char signer_sock[512];
};
/* Load the data key, fill the key pool, start issue_cfg.workers threads. 0 or -errno. */
int worker_start(const struct cfg *cfg);
/* /metrics: issued and failed, the key pool, the signer, the queues in PostgreSQL */
void issue_metrics(struct strbuf *b, struct svc_thread *t);

/* make.c: one certificate, from its row to the values stored (a new serial each call) */
struct make_in {
	struct signer_conn *signer; /* the worker's kept connection to shomei-signer */
	long long tenant_id;
	const char *key_type; /* rsa2048, rsa3072, p256 */
	const char *cn;
	const char *email; /* NULL: none (numbered) */
	const char *slug;  /* system OU */
	const char *o;     /* the O to write */
	const char *ou1, *ou2;
	const char *device;             /* device code or NULL */
	int p12_compat;                 /* the tenant's all-compatible switch */
	long long valid_from, valid_to; /* epoch seconds, 0: not set */
	int default_days;
	X509 *ca, *root; /* the tenant's issuing CA and the root */
	const char *crl_url, *ocsp_url;
};
struct make_out {
	unsigned char *cert_der;
	size_t cert_len;
	unsigned char *p12;
	size_t p12_len;
	unsigned char *pw_sealed;
	size_t pw_len;
	char serial[48];
	char subject[1024];
	time_t not_before, not_after;
};
void make_out_done(struct make_out *o);
/*
 * Build, have the signer sign, and pack one certificate. 0, or -errno for
 * what should be retried; on a refusal SIGNER_E_REFUSED with why in err.
 */
int make_cert(const struct issue_env *env, const struct make_in *in, struct make_out *out,
	      char *err, size_t errlen);

#endif
