/* extern.h: cross-file prototypes of shomei-auth. */
#ifndef SHOMEI_AUTH_EXTERN_H
#define SHOMEI_AUTH_EXTERN_H

#include "web/fcgisvc.h"

/* queries.c */
extern const struct db_stmt q_admin_by_login;
extern const struct db_stmt q_admin_by_id;
extern const struct db_stmt q_admin_by_cert;
extern const struct db_stmt q_admin_set_password;

/* login.c */
int auth_login(struct http_req *req, struct svc_thread *t);
int auth_login_certificate(struct http_req *req, struct svc_thread *t);
int auth_logout(struct http_req *req, struct svc_thread *t);
int auth_me(struct http_req *req, struct svc_thread *t);

/* password.c */
int auth_password(struct http_req *req, struct svc_thread *t);

/* gate.c */
int auth_gate(struct http_req *req, struct svc_thread *t);
int auth_same_site(const struct http_req *req, const struct svc_thread *t);

/* history.c */
int auth_audit(struct http_req *req, struct svc_thread *t);

/* health.c */
int auth_stack_health(struct http_req *req, struct svc_thread *t);

#endif
