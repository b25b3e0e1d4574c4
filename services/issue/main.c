/* main.c: shomei-issue: "add N" (追加発行), the certificate list, and the issuance workers. */
#include "extern.h"

static const struct route routes[] = {
	{"POST", "/api/certificates/batch", 1, issue_batch},
	{"GET", "/api/certificates", 1, issue_list},
	{"GET", "/api/certificates/{id}", 1, issue_get},
	{"POST", "/api/certificates/{id}/retry", 1, issue_retry},
};

static const struct svc svc = {
	.name = "issue",
	.routes = routes,
	.nroutes = sizeof(routes) / sizeof(routes[0]),
	.sections = &issue_section,
	.nsections = 1,
	.metrics = issue_metrics,
};

int
main(int argc, char **argv)
{
	return svc_main_start(&svc, worker_start, argc, argv);
}
