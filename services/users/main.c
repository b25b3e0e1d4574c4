/* main.c: shomei-users: the tenant summary, users and devices, the user search, CSV imports,
 * deletion (1次, 2次 and by CSV), the notices (送信メール, the mail worker, expiry reminders, the
 * one-time credentials page). */
#include "extern.h"

static const struct route routes[] = {
	{"GET", "/api/tenant", 1, users_tenant},
	{"PUT", "/api/tenant/settings", 1, users_settings},
	{"GET", "/api/users/export.csv", 1, users_export},
	{"GET", "/api/users/notice.pdf", 1, users_notice_pdf},
	{"GET", "/api/users", 1, users_search},
	{"POST", "/api/users", 1, users_register},
	{"GET", "/api/users/{id}", 1, users_get},
	{"PATCH", "/api/users/{id}", 1, users_patch},
	{"POST", "/api/users/{id}/devices", 1, users_add_devices},
	{"POST", "/api/users/import", ROUTE_SESSION | ROUTE_UPLOAD, users_import},
	{"POST", "/api/users/purge", ROUTE_SESSION | ROUTE_UPLOAD, users_purge_csv},
	{"POST", "/api/users/{id}/delete", 1, users_delete},
	{"POST", "/api/users/{id}/undelete", 1, users_undelete},
	{"DELETE", "/api/users/{id}", 1, users_purge},
	{"GET", "/api/jobs", 1, jobs_list},
	{"GET", "/api/jobs/{id}", 1, jobs_get},
	{"GET", "/api/notifications", 1, outbox_list},
	{"POST", "/api/notifications/{id}/resend", 1, outbox_resend},
	{"GET", "/credentials/{token}", 0, creds_get},
	{"POST", "/credentials/{token}", 0, creds_post},
};

static const struct svc svc = {
	.name = "users",
	.routes = routes,
	.nroutes = sizeof(routes) / sizeof(routes[0]),
	.sections = &mail_section,
	.nsections = 1,
};

/* The CSV jobs' worker, then the mail worker and the reminders. */
static int
users_start(const struct cfg *cfg)
{
	int rc = users_jobs_start(cfg);

	return rc != 0 ? rc : mail_start(cfg);
}

int
main(int argc, char **argv)
{
	return svc_main_start(&svc, users_start, argc, argv);
}
