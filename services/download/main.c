/* main.c: shomei-download: bulk ZIP and password list, one certificate's files, the end-user
 * download site. */
#include "extern.h"
#include "web/internal.h"

static const struct route routes[] = {
	{"GET", "/api/downloads/certificates.zip", 1, dl_zip},
	{"GET", "/api/downloads/passwords.csv", 1, dl_passwords},
	{"GET", "/api/certificates/{id}/p12", 1, dl_p12},
	{"GET", "/api/certificates/{id}/pin", 1, dl_pin},
	{"GET", "/api/certificates/{id}/mobileconfig", 1, dl_mobileconfig},
	{"GET", "/api/downloads/site", 1, dl_site_info},
	/* the end-user download site: no administrator; the tenant's allow-list, then a login */
	{"POST", "/api/dl/{tenant}/login", 0, dl_site_login},
	{"POST", "/api/dl/{tenant}/logout", 0, dl_site_logout},
	{"GET", "/api/dl/{tenant}/certificates", 0, dl_site_certificates},
	{"GET", "/api/dl/{tenant}/certificate", 0, dl_site_certificate},
	{"POST", "/api/dl/{tenant}/enroll", 0, dl_site_enroll},
	/* renewal with the current certificate: nginx's renewal server only (client TLS) */
	{"GET", "/api/dl/{tenant}/renew", 0, dl_renew_status},
	{"POST", "/api/dl/{tenant}/renew", 0, dl_renew_request},
	{"POST", "/api/dl/{tenant}/renew/download", 0, dl_renew_download},
};

static const struct svc svc = {
	.name = "download",
	.routes = routes,
	.nroutes = sizeof(routes) / sizeof(routes[0]),
};

/* renewal revokes the old certificate through shomei-revoke's internal API (libcurl) */
static int
start(const struct cfg *cfg)
{
	(void)cfg;
	return internal_global_init();
}

int
main(int argc, char **argv)
{
	return svc_main_start(&svc, start, argc, argv);
}
