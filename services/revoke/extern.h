/* extern.h: cross-file prototypes of shomei-revoke. */
#ifndef SHOMEI_REVOKE_EXTERN_H
#define SHOMEI_REVOKE_EXTERN_H

#include "core/cfg.h"
#include "web/fcgisvc.h"
#include "web/i18n.h"

/* settings.c: the [revoke] section */
struct revoke_cfg {
	char *admin_crl_file; /* nginx's ssl_crl file; empty = <ca_dir>/admin-crl.pem */
	char *nginx_pid_file; /* SIGHUP after a new admin_crl_file; empty = nobody */
	int crl_days;         /* validity of every CRL shomei-revoke signs (root, admin, tenants) */
	int crl_check_interval; /* seconds between the keeper's and the publisher's sweeps */
	int due_check_interval; /* seconds between looks for scheduled revocations that fell due */
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
/* What is wrong with a revoke_on (yyyy-mm-dd, tomorrow .. REVOKE_DAYS_MAX days in JST), or NULL. */
const struct i18n_text *revoke_date_problem(const char *date);
/* The history entry of row r of a revoke/schedule/cancel statement's result (REVOKE_*). */
int revoke_record(struct db *db, long long tenant_id, const char *ip, long long admin_id, int mode,
		  const PGresult *res, int r);

/* csv.c: CSV一括失効 (desknet 7.2, NRA 5): POST /api/certificates/revoke-csv and its job kind */
int revoke_csv(struct http_req *req, struct svc_thread *t);
int revoke_jobs_start(const struct cfg *cfg);

/* serve.c: GET /crl/{file} and /ca/{file}: the published CRLs and CA certificates (public) */
int serve_crl(struct http_req *req, struct svc_thread *t);
int serve_ca(struct http_req *req, struct svc_thread *t);

/* queries.c */
extern const struct db_stmt q_lock;
extern const struct db_stmt q_revoke_now;
extern const struct db_stmt q_schedule;
extern const struct db_stmt q_cancel;
extern const struct db_stmt q_tenant_crl;
extern const struct db_stmt q_chain_crls;
extern const struct db_stmt q_chain;

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

#endif
