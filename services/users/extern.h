/* extern.h: cross-file prototypes of shomei-users. */
#ifndef SHOMEI_USERS_EXTERN_H
#define SHOMEI_USERS_EXTERN_H

#include <time.h>

#include "core/util.h"
#include "web/fcgisvc.h"
#include "domain/tenant.h"
#include "web/i18n.h"
#include "core/strbuf.h"
#include "domain/certq.h"
#include "domain/jobs.h"

/* a page, and what a page reads: one more, to know whether more follow (the SQL's LIMIT) */
#define USERS_PER_PAGE_READ 101
#define USERS_PER_PAGE (USERS_PER_PAGE_READ - 1)
#define USERS_PER_PAGE_READ_S UTIL_STR(USERS_PER_PAGE_READ)
#define USERS_MAX_DEVICES 5

/* What registration needs to know about the tenant. */
struct tenant {
	long long id;
	unsigned features; /* 1u << enum tenant_feature */
	int default_validity_days;
	int max_validity_days;
	int max_start_ahead_days; /* how far ahead a validity may start (From) */
	long long ca_not_after;   /* epoch seconds of the active issuing CA's notAfter, 0 = none */
};

/* One device of a registration, pointing into the request body. */
struct device_in {
	const char *code;
	const char *email;   /* the device's e-mail: the サブメール, else the user's */
	char valid_from[32]; /* timestamptz text, "" = not given */
	char valid_to[32];
	const char *o, *ou1, *ou2; /* NULL = not given */
	const char *mode;          /* none, or, and */
	char mac[13];              /* upper case, "" = not given */
	const char *computer, *login_user, *bios_serial;
	const char *service_id, *principal_name; /* NRA's optional CSV columns; NULL = none */
};

/* The user's own fields, in the order of user_fields[]. */
enum ufield {
	UF_FAMILY_NAME,
	UF_GIVEN_NAME,
	UF_FAMILY_NAME_KANA,
	UF_GIVEN_NAME_KANA,
	UF_FAMILY_NAME_EN,
	UF_GIVEN_NAME_EN,
	UF_EMAIL,
	UF__MAX,
};

struct user_in {
	const char *v[UF__MAX]; /* NULL = not given (PATCH) */
	const char *lang;       /* the language of the user's notices: ja, en; NULL = not given */
	struct device_in dev[USERS_MAX_DEVICES];
	int ndev;
};

/* queries.c */
extern const struct db_stmt q_tenant;
extern const struct db_stmt q_org_id;
extern const struct db_stmt q_user_insert;
extern const struct db_stmt q_device_insert;
extern const struct db_stmt q_device_pairs;
extern const struct db_stmt q_user_ids;
extern const struct db_stmt q_device_ids;
extern const struct db_stmt q_user_get;
extern const struct db_stmt q_user_lock;
extern const struct db_stmt q_user_update;
extern const struct db_stmt q_user_devices;
extern const struct db_stmt q_user_certificates;
extern const struct db_stmt q_search_count;
/*
 * The 利用者 list's page statements (and its estimate's select) twice: [1] for a status or device
 * condition and no date of the certificates', as a semi-join; [0] otherwise (queries.c).
 */
extern const char *const q_search_select[2];
struct sort_stmt {
	const char *sort;
	int key;               /* enum keyset_key: what its cursors hold */
	struct db_stmt st[2];  /* the list's order */
	struct db_stmt rev[2]; /* backwards, for the page before a cursor and the last */
	/*
	 * A whole page of the users not deleted, without any condition, for the orders an index
	 * keeps: [with a cursor][backwards], of a fixed shape for db_exec_generic ($1 tenant, $2
	 * and $3 the cursor's key and id). name NULL for the orders computed from the certificates.
	 */
	struct db_stmt fixed[2][2];
};
extern const char q_email_estimate[];
#define USERS_EMAIL_MANY 5000 /* see q_email_estimate */
extern const struct sort_stmt q_search_pages[];
extern const size_t q_search_npages;

/* tenant.c */
int users_tenant(struct http_req *req, struct svc_thread *t);
int tenant_load(struct db *db, long long tenant_id, struct tenant *out);

/* check.c */
extern const char *const user_field_names[UF__MAX];
extern const char *const user_field_labels[UF__MAX];
int check_user(const cJSON *body, int partial, int lang, cJSON *errs, struct user_in *u);
int check_cn(const char *family_en, const char *given_en, int lang, cJSON *errs);
int check_devices(const cJSON *body, const struct tenant *tn, time_t now, int lang, cJSON *errs,
		  struct user_in *u);
const char *check_device_email(const struct user_in *u, const struct device_in *d);

/* render.c */
void render_opt(cJSON *obj, const char *name, const char *v);
cJSON *render_user(const PGresult *res, int row);
cJSON *render_device(const PGresult *res, int row, int lang);
cJSON *render_certificate(const PGresult *res, int row, int lang);
int render_user_full(struct db *db, long long tenant_id, long long user_id, int lang, cJSON **out);

/* register.c */
int users_register(struct http_req *req, struct svc_thread *t);
/* Who registers, for rows made outside a request too (a CSV job). */
struct reg_ctx {
	long long tenant_id;
	long long admin_id;
	const char *ip;
	int lang;
	long long job_id; /* 0: none */
};
/* Insert u, its devices and their `issuing` certificates in the caller's transaction. */
int register_insert(struct db *db, const struct reg_ctx *cx, const struct certq_quota *q,
		    struct user_in *u, cJSON *certs, struct strbuf *detail, long long *uid);
/* Insert u's devices and their `issuing` certificates for the existing user uid. */
int register_devices(const struct reg_ctx *cx, struct db *db, const struct certq_quota *q,
		     long long uid, struct user_in *u, cJSON *certs, struct strbuf *detail);
/*
 * Users u[0..n) with their devices and `issuing` certificates, in a few statements whatever n
 * (a CSV job's chunk; n = 1 for POST /api/users): uids[i] 0 inserts user i and gets its id, else
 * only its devices are added to that user. certs, detail as above (each may be NULL).
 */
int register_many(const struct reg_ctx *cx, struct db *db, const struct certq_quota *q,
		  struct user_in *const *u, size_t n, long long *uids, cJSON *certs,
		  struct strbuf *detail);
int pairs_taken(struct db *db, long long tenant_id, const struct user_in *u, int lang, cJSON *errs);
/* Add device d of u to a pairs_find() list as number i. */
void pairs_add(cJSON *items, int i, const struct user_in *u, const struct device_in *d);
/* The numbers of the listed pairs another user not deleted already has, in order (column i). */
int pairs_find(struct db *db, long long tenant_id, const cJSON *items, PGresult **res);
void quota_error(cJSON *errs, long long available, int lang);

/* user.c */
int users_get(struct http_req *req, struct svc_thread *t);
int users_patch(struct http_req *req, struct svc_thread *t);

/* devices.c */
int users_add_devices(struct http_req *req, struct svc_thread *t);

/* search.c */
int users_search(struct http_req *req, struct svc_thread *t);

/* settings.c */
int users_settings(struct http_req *req, struct svc_thread *t);

/* export.c */
int users_export(struct http_req *req, struct svc_thread *t);

/* notice.c: パスワード通知書 */
int users_notice_pdf(struct http_req *req, struct svc_thread *t);

/* import.c: CSV一括登録 (NRA 4-2) */
#define IMPORT_MAX_LINES 64 /* lines remembered per user (past 5 the user has too many anyway) */
struct imp_user {
	cJSON *body;      /* the user as POST /api/users takes it */
	struct user_in u; /* checked, pointing into body */
	int lines[IMPORT_MAX_LINES];
	int nlines;
	char *service_id[USERS_MAX_DEVICES], *upn[USERS_MAX_DEVICES];
};
struct import {
	const struct tenant *tenant;
	int lang;
	int layout_cols[24];
	int layout_n, layout_required;
	struct imp_user *users; /* in the order of their first line */
	size_t nusers, capusers;
	size_t ndevices;
	cJSON *errs; /* {line, column, field, message} */
};
/* Read and check a file's text; errors go to im->errs. 0 or -ENOMEM. */
int import_parse(struct import *im, const char *text, size_t len, const struct tenant *tn,
		 int admin_download, int lang, time_t now);
/* Errors for the lines whose pair another user has; 0 or -EIO. */
int import_pairs_taken(struct db *db, struct import *im);
/* Into errs: line's device pair is another user's (as import_pairs_taken says it). */
void import_taken_error(const struct import *im, cJSON *errs, int line);
/* An error on the first line past the available quota. */
void import_quota(struct import *im, long long available);
void import_sort_errors(struct import *im);
void import_done(struct import *im);
int users_import(struct http_req *req, struct svc_thread *t);

/* delete.c: 1次削除, its undo, 2次削除 (NRA 7) */
int users_delete(struct http_req *req, struct svc_thread *t);
int users_undelete(struct http_req *req, struct svc_thread *t);
int users_purge(struct http_req *req, struct svc_thread *t);

/* purge.c: マスター削除 (2次削除 and CSV一括利用者マスター削除, NRA 7) */
struct purge_who {
	const struct cfg *cfg; /* internal_socket, internal_token_dir */
	long long tenant_id;
	long long admin_id; /* the history's actor */
	const char *ip;
};
/* Revoke every valid certificate of the users now, through shomei-revoke's internal API
 * (reason cessationOfOperation), until none is left. 0; -EIO when it cannot (unreachable,
 * refused, or certificates kept changing): then nothing of the users was purged. */
int purge_revoke(struct db *db, const struct purge_who *w, const long long *uids, size_t n);
/* The user's certificates being issued and all that still count (issuing, valid, scheduled). */
int purge_live(struct db *db, long long tenant_id, long long uid, int *issuing, int *live);
/* In the caller's transaction, with the user row u locked: remove the personal data and write
 * the 2次削除 history entry. 0 or -errno. */
int purge_locked(struct db *db, const struct purge_who *w, long long uid, const PGresult *u);
int users_purge_csv(struct http_req *req, struct svc_thread *t);
int purge_run(struct db *db, struct kv *kv, struct job *j, cJSON *errs, long long *units);
extern const struct cfg *purge_cfg;

/* jobs.c: the tenant's jobs, and CSV一括登録 as a job kind (domain/jobs.h) */
int users_jobs_start(const struct cfg *cfg);
int jobs_list(struct http_req *req, struct svc_thread *t);
int jobs_get(struct http_req *req, struct svc_thread *t);

/* msgs.c */
extern const struct i18n_text msg_not_bool;
extern const struct i18n_text msg_bad_user_ids;
extern const struct i18n_text msg_user_lang;
extern const struct i18n_text msg_allowlist_format;
extern const struct i18n_text msg_allowlist_prefix;
extern const struct i18n_text msg_allowlist_hostbits;
extern const struct i18n_text msg_allowlist_twice;
extern const struct i18n_text msg_allowlist_count;
extern const struct i18n_text msg_allowlist_any;
extern const struct i18n_text msg_no_notify_users;
extern const struct i18n_text msg_name;
extern const struct i18n_text msg_kana;
extern const struct i18n_text msg_name_en;
extern const struct i18n_text msg_cn_too_long;
extern const struct i18n_text msg_email;
extern const struct i18n_text msg_not_object;
extern const struct i18n_text msg_devices_count;
extern const struct i18n_text msg_device_code;
extern const struct i18n_text msg_device_twice;
extern const struct i18n_text msg_device_pair_taken;
extern const struct i18n_text msg_datetime_format;
extern const struct i18n_text msg_validity_order;
extern const struct i18n_text msg_validity_past;
extern const struct i18n_text msg_validity_span;
extern const struct i18n_text msg_validity_start;
extern const struct i18n_text msg_csv_mode;
extern const struct i18n_text msg_csv_same_user;
extern const struct i18n_text msg_csv_service_id;
extern const struct i18n_text msg_csv_upn;
extern const struct i18n_text msg_csv_columns;
extern const struct i18n_text msg_csv_duplicate;
extern const struct i18n_text msg_csv_layout;
extern const struct i18n_text msg_csv_quote;
extern const struct i18n_text msg_csv_empty;
extern const struct i18n_text msg_csv_admin_restriction;
extern const struct i18n_text msg_csv_no_file;
extern const struct i18n_text msg_csv_encoding;
extern const struct i18n_text msg_job_not_found;
extern const struct i18n_text msg_user_already_deleted;
extern const struct i18n_text msg_user_not_deleted;
extern const struct i18n_text msg_user_delete_first;
extern const struct i18n_text msg_user_live_certificates;
extern const struct i18n_text msg_user_certs_issuing;
extern const struct i18n_text msg_revocation_unavailable;
extern const struct i18n_text msg_purge_line;
extern const struct i18n_text msg_purge_unknown;
extern const struct i18n_text msg_purge_purged;
extern const struct i18n_text msg_purge_several;
extern const struct i18n_text msg_purge_twice; /* %d: the earlier line */
extern const struct i18n_text msg_purge_issuing;
extern const struct i18n_text msg_purge_empty;
extern const struct i18n_text msg_validity_ca;
extern const struct i18n_text msg_no_validity_period;
extern const struct i18n_text msg_no_org_units;
extern const struct i18n_text msg_no_install_restriction;
extern const struct i18n_text msg_org_unit;
extern const struct i18n_text msg_restriction_device;
extern const struct i18n_text msg_restriction_mode;
extern const struct i18n_text msg_restriction_empty;
extern const struct i18n_text msg_quota;
extern const struct i18n_text msg_issue_not_allowed;
extern const struct i18n_text msg_user_deleted;
extern const struct i18n_text msg_device_exists;
extern const struct i18n_text msg_status_list;
extern const struct i18n_text msg_device_list;
extern const struct i18n_text msg_sort;

/* mailcfg.c: the [mail] section */
enum { MAIL_STARTTLS_REQUIRED, MAIL_STARTTLS_OFF };
struct mail_cfg {
	char *smtp_url;
	int smtp_starttls; /* MAIL_STARTTLS_* */
	char *smtp_auth_file;
	char *smtp_ca_file;
	char *mail_from; /* when the tenant has none of its own */
	char *template_dir;
	int workers;    /* mail worker threads in each shomei-users; 0 = this one sends nothing */
	int retry_base; /* seconds before the 2nd attempt; doubling, at most an hour */
	int max_attempts;
	int link_ttl_hours;    /* how long a credentials link works */
	int reminder_interval; /* seconds between two looks for expiry reminders */
	int poll_ms;           /* between two looks at an empty outbox */
};
extern struct mail_cfg mail_cfg;
extern const struct cfg_section mail_section;

/* mail.c */
extern const char *mail_public_url;
extern const char *mail_renew_url;
int mail_start(const struct cfg *cfg);

/* outbox.c */
int outbox_list(struct http_req *req, struct svc_thread *t);
int outbox_resend(struct http_req *req, struct svc_thread *t);

/* creds.c */
int creds_get(struct http_req *req, struct svc_thread *t);
int creds_post(struct http_req *req, struct svc_thread *t);

/* msgs.c (notices) */
extern const struct i18n_text msg_outbox_status;
extern const struct i18n_text msg_outbox_not_found;
extern const struct i18n_text msg_outbox_not_failed;
extern const struct i18n_text msg_notice_address;
extern const struct i18n_text msg_notice_lang;
extern const struct i18n_text msg_renew_days;

#endif
