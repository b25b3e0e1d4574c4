/* extern.h: cross-file prototypes of shomei-download. */
#ifndef SHOMEI_DOWNLOAD_EXTERN_H
#define SHOMEI_DOWNLOAD_EXTERN_H

#include "dist.h"
#include "fcgisvc.h"

/* queries.c */
extern const struct db_stmt q_cert_one;
extern const struct db_stmt q_mark_one;
extern const struct db_stmt q_mark_many;
extern const char q_bulk_zip[];
extern const char q_bulk_csv[];
extern const char q_bulk_fetch[];

/* bulk.c */
int dl_zip(struct http_req *req, struct svc_thread *t);
int dl_passwords(struct http_req *req, struct svc_thread *t);

/* single.c */
int dl_p12(struct http_req *req, struct svc_thread *t);
int dl_pin(struct http_req *req, struct svc_thread *t);
int dl_mobileconfig(struct http_req *req, struct svc_thread *t);
void dl_attachment(struct http_req *req, const char *base, const char *ext);

#endif
