/* extern.h: cross-file prototypes of shomei-users. */
#ifndef SHOMEI_USERS_EXTERN_H
#define SHOMEI_USERS_EXTERN_H

#include <time.h>

#include "web/fcgisvc.h"
#include "domain/tenant.h"

#define USERS_PER_PAGE 100
#define USERS_MAX_DEVICES 5

/* What registration needs to know about the tenant. */
struct tenant {
	long long id;
	unsigned features; /* 1u << enum tenant_feature */
	int default_validity_days;
	int max_validity_days;
	long long ca_not_after; /* epoch seconds of the active issuing CA's notAfter, 0 = none */
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
	struct device_in dev[USERS_MAX_DEVICES];
	int ndev;
};

/* queries.c */
extern const struct db_stmt q_tenant;
extern const struct db_stmt q_org_id;
extern const struct db_stmt q_user_insert;
extern const struct db_stmt q_device_insert;
extern const struct db_stmt q_user_get;
extern const struct db_stmt q_user_lock;
extern const struct db_stmt q_user_update;
extern const struct db_stmt q_user_devices;
extern const struct db_stmt q_user_certificates;
extern const struct db_stmt q_search_count;
struct sort_stmt {
	const char *sort;
	struct db_stmt st;
};
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

/* render.c */
void render_opt(cJSON *obj, const char *name, const char *v);
cJSON *render_user(const PGresult *res, int row);
cJSON *render_device(const PGresult *res, int row, int lang);
cJSON *render_certificate(const PGresult *res, int row, int lang);
int render_user_full(struct db *db, long long tenant_id, long long user_id, int lang, cJSON **out);

/* register.c */
int users_register(struct http_req *req, struct svc_thread *t);

/* user.c */
int users_get(struct http_req *req, struct svc_thread *t);
int users_patch(struct http_req *req, struct svc_thread *t);

/* search.c */
int users_search(struct http_req *req, struct svc_thread *t);

/* settings.c */
int users_settings(struct http_req *req, struct svc_thread *t);

/* export.c */
int users_export(struct http_req *req, struct svc_thread *t);

#endif
