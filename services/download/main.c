/* main.c: shomei-download: bulk ZIP and password list, one certificate's files, the end-user
 * download site. */
#include "extern.h"

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
};

static const struct svc svc = {
	.name = "download",
	.routes = routes,
	.nroutes = sizeof(routes) / sizeof(routes[0]),
};

int
main(int argc, char **argv)
{
	return svc_main(&svc, argc, argv);
}
