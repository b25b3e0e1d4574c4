/* extern.h: cross-file prototypes of shomei-auth. */
#ifndef SHOMEI_AUTH_EXTERN_H
#define SHOMEI_AUTH_EXTERN_H

#include "web/fcgisvc.h"
#include "web/session.h"
#include "web/i18n.h"
#include "web/lockout.h"

#define ADMIN_COOKIE "__Host-shomei"

/* An administrator's session: who, of which tenant, and the store's record. */
struct admin_sess {
	long long admin_id;
	long long tenant_id;
	char token[UTIL_TOKEN_LEN + 8];
	struct session s;
};

/* settings.c: the [auth] section */
struct auth_cfg {
	int pwhash_concurrency; /* password checks at once per process; 0: the number of CPUs */
};
extern struct auth_cfg auth_cfg;
extern const struct cfg_section auth_section;

/* queries.c */
extern const struct db_stmt q_admin_by_login;
extern const struct db_stmt q_admin_by_id;
extern const struct db_stmt q_admin_by_cert;
extern const struct db_stmt q_admin_set_password;

/* login.c */
/* The administrators' failure counters (shomei:fail:*), with the configured limits. */
struct lockout auth_lockout(struct svc_thread *t);
/* Answer 503 busy (Retry-After: 1): every password check slot is taken; log event. */
void auth_busy(struct http_req *req, const char *event);
int auth_login(struct http_req *req, struct svc_thread *t);
int auth_login_certificate(struct http_req *req, struct svc_thread *t);
int auth_logout(struct http_req *req, struct svc_thread *t);
int auth_me(struct http_req *req, struct svc_thread *t);

/* password.c */
int auth_password(struct http_req *req, struct svc_thread *t);

/* sess.c */
/*
 * Start a session, indexed under the admin and (cert_id > 0: a certificate login) under the
 * admin_certificates row it was opened with; 0 or -EIO.
 */
int admin_sess_create(struct svc_thread *t, long long admin_id, long long tenant_id,
		      long long cert_id, struct admin_sess *out);
/* The session of req's cookie, its idle time extended; 0, SESSION_E_NONE, -EIO. */
int admin_sess_get(struct http_req *req, struct svc_thread *t, struct admin_sess *out);
/* Set-Cookie in req's answer: s's token, or (s NULL) a cleared cookie. */
void admin_sess_cookie(struct http_req *req, struct svc_thread *t, const struct admin_sess *s);
/* End the session s. */
void admin_sess_destroy(struct svc_thread *t, const struct admin_sess *s);
/* End every session of the admin but the one of token keep (NULL: all); 0 or -EIO. */
int admin_sess_end_others(struct svc_thread *t, long long admin_id, const char *keep);
/* Wipe the token held in s. */
void admin_sess_done(struct admin_sess *s);

/* gate.c */
int auth_gate(struct http_req *req, struct svc_thread *t);
int auth_same_site(const struct http_req *req, const struct svc_thread *t);

/* history.c */
int auth_audit(struct http_req *req, struct svc_thread *t);
int auth_audit_export(struct http_req *req, struct svc_thread *t);

/* health.c */
int auth_stack_health(struct http_req *req, struct svc_thread *t);

/* msgs.c */
extern const struct i18n_text msg_password_confirm;
extern const struct i18n_text msg_password_current;
extern const struct i18n_text msg_password_same;
extern const struct i18n_text msg_action;
extern const struct i18n_text msg_no_certificate;
extern const struct i18n_text msg_busy;

#endif
