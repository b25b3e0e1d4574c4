/* extern.h: cross-file prototypes of shomei-download. */
#ifndef SHOMEI_DOWNLOAD_EXTERN_H
#define SHOMEI_DOWNLOAD_EXTERN_H

#include "domain/audit.h"
#include "domain/dist.h"
#include "web/fcgisvc.h"
#include "core/util.h"
#include "web/session.h"
#include "web/i18n.h"

/* The end-user download site (NRA 4-3). */
#define DLSESS_COOKIE "__Host-shomei-dl"
#define DLSESS_IDLE 900      /* seconds without a request before the session ends */
#define DLSESS_MAX_CERTS 100 /* certificates one login may grant */

/* What a download-site login grants: certificates of one tenant. */
struct dlsess {
	long long tenant_id;
	long long created;
	char csrf[UTIL_TOKEN_LEN];
	long long ids[DLSESS_MAX_CERTS];
	int n;
	char token[UTIL_TOKEN_LEN + 8]; /* after dlsess_create only, until dlsess_cookie */
};

/* The tenant of a /api/dl/{tenant}/ URL, once the site and the address were checked. */
struct dlsite {
	long long tenant_id;
	char slug[64];
	char name_en[256];
	int embed_password;
};

/* queries.c */
extern const struct db_stmt q_cert_one;
extern const struct db_stmt q_mark_one;
extern const struct db_stmt q_mark_many;
extern const char q_bulk_zip[];
extern const char q_bulk_csv[];
extern const char q_bulk_fetch[];
extern const struct db_stmt q_dl_tenant;
extern const struct db_stmt q_dl_by_email;
extern const struct db_stmt q_dl_granted;
extern const struct db_stmt q_dl_cert;
extern const struct db_stmt q_dl_site;

/* bulk.c */
int dl_zip(struct http_req *req, struct svc_thread *t);
int dl_passwords(struct http_req *req, struct svc_thread *t);

/* single.c */
int dl_p12(struct http_req *req, struct svc_thread *t);
int dl_pin(struct http_req *req, struct svc_thread *t);
int dl_mobileconfig(struct http_req *req, struct svc_thread *t);
void dl_attachment(struct http_req *req, const char *base, const char *ext);

/* dlsess.c */
/* Start a session granting in's certificates (out->token holds its token); 0, -EIO. */
int dlsess_create(struct svc_thread *t, const struct dlsess *in, struct dlsess *out);
/* Hand out s's new session in req's answer (Set-Cookie) and wipe the token. */
void dlsess_cookie(struct http_req *req, struct svc_thread *t, struct dlsess *s);
/* The session of req's cookie; 0, SESSION_E_NONE or -EIO. */
int dlsess_get(struct http_req *req, struct svc_thread *t, struct dlsess *out);
/* End s, just created; or (s NULL) the session of req's cookie, clearing the cookie. */
void dlsess_end(struct http_req *req, struct svc_thread *t, struct dlsess *s);
int dlsess_grants(const struct dlsess *s, long long id);

/* dlsite.c */
int dlsite_open(struct http_req *req, struct svc_thread *t, struct dlsite *site);
int dlsite_session(struct http_req *req, struct svc_thread *t, const struct dlsite *site,
		   struct dlsess *s);
int dlsite_audit(struct http_req *req, struct svc_thread *t, long long tenant_id,
		 enum audit_action action, const char *code, const char *p0, const char *p1);
/*
 * A refusal anyone can cause as often as they like, summarised in the history: one entry per
 * tenant, address, kind and minute, counting the refusals.
 */
void dlsite_refused(struct http_req *req, struct svc_thread *t, long long tenant_id,
		    const char *kind, const struct audit_more *m);
int dl_site_login(struct http_req *req, struct svc_thread *t);
int dl_site_logout(struct http_req *req, struct svc_thread *t);
int dl_site_certificates(struct http_req *req, struct svc_thread *t);

/* dlserve.c */
int dl_site_certificate(struct http_req *req, struct svc_thread *t);
int dl_site_enroll(struct http_req *req, struct svc_thread *t);

/* renew.c: renewal with the current certificate (/dl/{tenant}/renew) */
int dl_renew_status(struct http_req *req, struct svc_thread *t);
int dl_renew_request(struct http_req *req, struct svc_thread *t);
int dl_renew_download(struct http_req *req, struct svc_thread *t);

/* site.c */
int dl_site_info(struct http_req *req, struct svc_thread *t);

/* msgs.c */
extern const struct i18n_text msg_csrf;
extern const struct i18n_text msg_not_available;
extern const struct i18n_text msg_not_ios;
extern const struct i18n_text msg_ip_refused;
extern const struct i18n_text msg_dl_restricted;
extern const struct i18n_text msg_restriction_failed;
extern const struct i18n_text msg_admin_restricted;
extern const struct i18n_text msg_bad_ids;

#endif
