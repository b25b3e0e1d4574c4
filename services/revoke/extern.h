/* extern.h: cross-file prototypes of shomei-revoke. */
#ifndef SHOMEI_REVOKE_EXTERN_H
#define SHOMEI_REVOKE_EXTERN_H

#include <stdint.h>
#include <time.h>

#include "core/cfg.h"
#include "pki/ocsp.h"
#include "pki/signer.h"
#include "domain/jobs.h"
#include "web/fcgisvc.h"
#include "web/i18n.h"

/* settings.c: the [revoke] section */
struct revoke_cfg {
	char *admin_crl_file; /* nginx's ssl_crl file; empty = <ca_dir>/admin-crl.pem */
	char *nginx_pid_file; /* SIGHUP after a new admin_crl_file; empty = nobody */
	int crl_days;         /* validity of every CRL shomei-revoke signs (root, admin, tenants) */
	int crl_check_interval; /* seconds between the keeper's and the publisher's sweeps */
	int due_check_interval; /* seconds between looks for scheduled revocations that fell due */
	/* the services that may call /internal/revocations: "users:<sha256 hex of its token>,…" */
	char *internal_clients;
	int ocsp_validity; /* seconds from an OCSP response's thisUpdate to its nextUpdate */
};
extern struct revoke_cfg revoke_cfg;
extern const struct cfg_section revoke_section;

/* Certificates one request may revoke or cancel. */
#define REVOKE_IDS_MAX 1000
/* A date of a scheduled revocation: from tomorrow to this many days ahead (JST). */
#define REVOKE_DAYS_MAX 30

/* keeper.c: start the thread that keeps nginx's administrator CRL file current. 0 or -errno. */
int keeper_start(const struct cfg *cfg);

/* publisher.c: start the thread that re-signs tenant CRLs on a revocation's notification
 * and before they expire. 0 or -errno. */
int publisher_start(const struct cfg *cfg);

/* due.c: start the thread that applies the scheduled revocations as they fall due. */
int due_start(const struct cfg *cfg);

/* api.c: POST /api/certificates/revoke and /api/certificates/revoke/cancel */
int revoke_post(struct http_req *req, struct svc_thread *t);
int revoke_cancel(struct http_req *req, struct svc_thread *t);
enum { REVOKE_NOW, REVOKE_SCHEDULE, REVOKE_CANCEL };
/* A checked request: what to revoke (or cancel), when and why. */
struct revoke_body {
	long long ids[REVOKE_IDS_MAX]; /* sorted */
	size_t n;
	char date[11]; /* yyyy-mm-dd, "" = now */
	int reason;
};
/* Who asks: the tenant whose certificates they are, and the history's actor. */
struct revoke_who {
	long long tenant_id;
	const char *ip;     /* for the history; NULL = none */
	long long admin_id; /* 0: the system (an internal call without an administrator) */
	int lang;
};
/* ids, revoke_on and reason of a request body (cancel: ids only) into b; failures into errs. */
void revoke_check_body(const cJSON *body, int cancel, struct revoke_body *b, cJSON *errs, int lang);
/* One transaction: lock the rows, check them all, change them all, write the history, NOTIFY.
 * *status 200 (*out: the changed rows, the caller PQclears), 404 or 409 (errs: one per id,
 * nothing changed). 0 or -errno. */
int revoke_apply(struct db *db, const struct revoke_who *w, int mode, const struct revoke_body *b,
		 PGresult **out, int *status, cJSON *errs);
/* 200 {count, items} of the changed rows. */
void revoke_answer(struct http_req *req, const PGresult *res);
/* 404 not_found or 409 invalid_status with errs (consumed). */
void revoke_refuse(struct http_req *req, int status, cJSON *errs);
/* What is wrong with a revoke_on (yyyy-mm-dd, tomorrow .. REVOKE_DAYS_MAX days in JST), or NULL. */
const struct i18n_text *revoke_date_problem(const char *date);
/* The history entry of row r of a revoke/schedule/cancel statement's result (REVOKE_*). */
int revoke_record(struct db *db, long long tenant_id, const char *ip, long long admin_id, int mode,
		  const PGresult *res, int r);

/* internal.c: POST /internal/revocations, for the other services (nginx's internal listener) */
int internal_start(const struct cfg *cfg); /* reads [revoke] internal_clients; 0 or CFG_E_VALUE */
int internal_revocations(struct http_req *req, struct svc_thread *t);

/* csv.c: CSV一括失効 (desknet 7.2, NRA 5): POST /api/certificates/revoke-csv and its job kind */
int revoke_csv(struct http_req *req, struct svc_thread *t);
/* Each line of lookup ([{i, cn} | {i, e, de, c}]) with its certificates: rows (i, certs: a JSON
 * array of {id, status, cn, superseded}), in line order. The caller PQclears *out. */
int revoke_resolve_lines(struct db *db, long long tenant_id, const cJSON *lookup, PGresult **out);
int revoke_jobs_start(const struct cfg *cfg);

/* reissue.c: 再発行 (NRA 6-1): POST /api/certificates/reissue, and what rcsv.c shares */
int reissue_post(struct http_req *req, struct svc_thread *t);
/* The history detail (action certificate_reissue) after "<cn>: "; %s: ただちに, the date or 失効済
 */
#define REISSUE_DETAIL "再発行受付 (旧証明書の失効: %s)"
/* The tenant's features and validity limits, for the fields of a reissue. */
struct reissue_tenant {
	unsigned features; /* 1u << enum tenant_feature */
	int default_days, max_days, start_ahead_days;
};
int reissue_tenant(struct db *db, long long tenant_id, struct reissue_tenant *out);
/* What a reissue changes on the device (NULL / 0: keep). */
struct reissue_fields {
	const char *ou[3];           /* O, OU1, OU2 */
	const char *from_in, *to_in; /* as given: yyyy/mm/dd[ hh:mm] */
	char from[32], to[32];       /* timestamptz text, "" = issuance day / the default */
	int period;                  /* valid_from/valid_to given: both replaced */
	int restricted;              /* restriction given: mode and the four items replaced */
	const char *mode, *item[4];  /* none/or/and; mac, computer, login_user, bios_serial */
	int any;
};
/* o, ou1, ou2, valid_from, valid_to, restriction of body into f (pointing into body); each one
 * the tenant lacks the feature of, or malformed, into errs. The number of failures. */
int reissue_check_fields(const cJSON *body, const struct reissue_tenant *tn, int lang, cJSON *errs,
			 struct reissue_fields *f);
struct reissue_item {
	long long id;                   /* the old certificate */
	const struct reissue_fields *f; /* NULL: none */
	int line;                       /* the CSV line, 0: from the API */
	int row;                        /* reissue_apply's: its locked row, -1 skipped */
	long long new_id;               /* reissue_apply's: the new certificate */
};
struct reissue_req {
	struct reissue_item *items; /* sorted by id (reissue_sort) */
	size_t n;
	char date[11];    /* revoke_on yyyy-mm-dd, "" = now */
	int lenient;      /* a job's: skip the ones superseded already instead of refusing */
	long long job_id; /* 0: none; else its progress is set to `progress` in the transaction */
	int progress;
};
void reissue_sort(struct reissue_req *rq);
/* One transaction under the tenant's and the rows' locks: check all, revoke the valid ones (now
 * or on date), supersede, queue the new ones, write the history. *status 200, 404, 409 or 422
 * (errs: one per id or line, nothing changed). 0 or -errno. The caller wakes the workers. */
int reissue_apply(struct db *db, const struct revoke_who *w, struct reissue_req *rq, int *status,
		  cJSON *errs);

/* rcsv.c: CSV一括再発行 (NRA 6-2): POST /api/certificates/reissue-csv and its job kind */
int reissue_csv(struct http_req *req, struct svc_thread *t);
int reissue_csv_run(struct db *db, struct kv *kv, struct job *j, cJSON *errs, long long *units);

/* serve.c: GET /crl/{file} and /ca/{file}: the published CRLs and CA certificates (public) */
int serve_crl(struct http_req *req, struct svc_thread *t);
int serve_ca(struct http_req *req, struct svc_thread *t);

/* ocsp.c: POST /ocsp and GET /ocsp/<base64> (public), and what presign.c shares */
int ocsp_post(struct http_req *req, struct svc_thread *t);
int ocsp_get(struct http_req *req, struct svc_thread *t);

/* The tenant CAs are read again after this many seconds (and on a miss, once a second). */
#define OCSP_ISSUERS_TTL 30
/* An active tenant CA, as found for a request or a certificate (cert up-referenced). */
struct ocsp_issuer {
	long long ca_id, tenant_id;
	X509 *cert;
};
/* The CA that id names (or, id NULL, the CA ca_id). 0, DB_E_NOTFOUND or -errno. */
int ocsp_issuer_find(struct db *db, const OCSP_CERTID *id, long long ca_id,
		     struct ocsp_issuer *out);
/* The single response of a status now: thisUpdate a minute back, nextUpdate ocsp_validity on
 * (an hour at most for unknown), the reason left out when unspecified. */
void ocsp_single_for(enum ocsp_status st, time_t revoked_at, int reason, time_t now,
		     struct ocsp_single *s);
/* Build, have the signer sign as tenant_id, wrap: *out (malloc'ed) the OCSPResponse. */
int ocsp_sign(struct signer_conn *sc, long long tenant_id, const OCSP_CERTID *id,
	      const struct ocsp_single *s, unsigned char **out, size_t *outlen);
/* Upsert the certificate's response (a stored revoked one is never replaced by good). */
int ocsp_store(struct db *db, long long ca_id, const char *serial, int revoked,
	       const unsigned char *der, size_t len, time_t this_update, time_t next_update);

/* An answer: its bytes and what the caching headers of a GET say. */
struct ocsp_answer {
	unsigned char *der; /* malloc'ed */
	size_t len;
	time_t produced, next_update;
};

/* ocspcache.c: the pre-signed answers sent lately, dropped by any revocation (see there). */
#define OCSP_CACHE_TTL 60                    /* seconds an answer is kept at most */
#define OCSP_SERIAL_HEX_MAX 79               /* longer serials are not kept */
int ocsp_cache_start(const struct cfg *cfg); /* the NOTIFY listener; 0 or -errno */
/* The epoch to file an answer under, read before the database read it comes from; 0: off. */
uint64_t ocsp_cache_epoch(void);
/* Every kept answer is stale: call after a revocation's commit. */
void ocsp_cache_bump(void);
/* 1 and a copy of the kept answer (out->der malloc'ed), or 0. */
int ocsp_cache_get(long long ca_id, const char *serial, struct ocsp_answer *out);
/* Keep a copy of a stored answer read under epoch (a stale epoch is dropped at the next get). */
void ocsp_cache_put(long long ca_id, const char *serial, uint64_t epoch,
		    const struct ocsp_answer *a);

/* presign.c: sign again the responses of tenant_id (0: every tenant) that are missing, say
 * another status, or expire within ocsp_validity/2; *signed_n counts them. 0 or nonzero. */
int presign_run(struct db *db, struct signer_conn *sc, long long tenant_id, size_t *signed_n);
/* The pre-signer's thread (its own database and signer connections; sweeps every tenant every
 * crl_check_interval), and a tenant to pre-sign soon (a revocation's notification). */
int presigner_start(const struct cfg *cfg);
void presign_kick(long long tenant_id);

/* queries.c */
extern const struct db_stmt q_lock;
extern const struct db_stmt q_revoke_now;
extern const struct db_stmt q_schedule;
extern const struct db_stmt q_cancel;
extern const struct db_stmt q_tenant_crl;
extern const struct db_stmt q_ca_crl;
extern const struct db_stmt q_chain_crls;
extern const struct db_stmt q_chain;
extern const struct db_stmt q_ocsp_cas;
extern const struct db_stmt q_ocsp_lookup;
extern const struct db_stmt q_ocsp_store;
extern const struct db_stmt q_ocsp_stale;

/* msgs.c: this service's own messages (printf formats where they name a value) */
extern const struct i18n_text msg_ids;
extern const struct i18n_text msg_revoke_on_format;
extern const struct i18n_text msg_revoke_on_range;
extern const struct i18n_text msg_reason;
extern const struct i18n_text msg_cert_not_found; /* %lld */
extern const struct i18n_text msg_some_not_found;
extern const struct i18n_text msg_bad_status;
extern const struct i18n_text msg_is_revoked;    /* %s: the CN */
extern const struct i18n_text msg_is_issuing;    /* %s */
extern const struct i18n_text msg_is_failed;     /* %s */
extern const struct i18n_text msg_is_scheduled;  /* %s */
extern const struct i18n_text msg_not_scheduled; /* %s */
extern const struct i18n_text msg_is_due;        /* %s */
extern const struct i18n_text msg_rcsv_line;
extern const struct i18n_text msg_rcsv_quote;
extern const struct i18n_text msg_rcsv_twice; /* %d: the earlier line */
extern const struct i18n_text msg_rcsv_many;
extern const struct i18n_text msg_rcsv_unknown;
extern const struct i18n_text msg_rcsv_scheduled;
extern const struct i18n_text msg_rcsv_issuing;
extern const struct i18n_text msg_rcsv_revoked;
extern const struct i18n_text msg_rcsv_no_file;
extern const struct i18n_text msg_rcsv_encoding;
extern const struct i18n_text msg_rcsv_empty;
extern const struct i18n_text msg_reissue_feature;
extern const struct i18n_text msg_reissue_org_unit;
extern const struct i18n_text msg_reissue_datetime;
extern const struct i18n_text msg_reissue_order;
extern const struct i18n_text msg_reissue_ahead;
extern const struct i18n_text msg_reissue_past;
extern const struct i18n_text msg_reissue_span;
extern const struct i18n_text msg_reissue_restriction;
extern const struct i18n_text msg_reissue_superseded; /* %s */
extern const struct i18n_text msg_reissue_user_gone;  /* %s */
extern const struct i18n_text msg_reissue_issuing;    /* %s */
extern const struct i18n_text msg_reissue_numbered;   /* %s */
extern const struct i18n_text msg_reissue_not_pc;     /* %s */
extern const struct i18n_text msg_reissue_quota;      /* %lld needed, %lld left */
extern const struct i18n_text msg_reissue_quota_short;
extern const struct i18n_text msg_xcsv_line;
extern const struct i18n_text msg_xcsv_empty;

#endif
