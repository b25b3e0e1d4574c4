/* main.c: shomei-download: bulk ZIP and password list, one certificate's files. */
#include "extern.h"

static const struct route routes[] = {
	{"GET", "/api/downloads/certificates.zip", 1, dl_zip},
	{"GET", "/api/downloads/passwords.csv", 1, dl_passwords},
	{"GET", "/api/certificates/{id}/p12", 1, dl_p12},
	{"GET", "/api/certificates/{id}/pin", 1, dl_pin},
	{"GET", "/api/certificates/{id}/mobileconfig", 1, dl_mobileconfig},
};

static const struct svc svc = {"download", routes, sizeof(routes) / sizeof(routes[0]), NULL};

int
main(int argc, char **argv)
{
	return svc_main(&svc, argc, argv);
}
