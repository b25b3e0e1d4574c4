/*
 * main.c: shomei-revoke: the revocation API (api.c), the scheduled revocations (due.c), the
 * tenants' CRLs and pre-signed OCSP responses (publisher.c, presign.c), the public CRL and CA
 * documents (serve.c), the OCSP responder (ocsp.c), nginx's administrator CRL file (keeper.c),
 * the other services' revocations (internal.c), and reissue (reissue.c, rcsv.c).
 */
#include "extern.h"

static const struct route routes[] = {
	{"POST", "/api/certificates/revoke", 1, revoke_post},
	{"POST", "/api/certificates/revoke/cancel", 1, revoke_cancel},
	{"POST", "/api/certificates/revoke-csv", ROUTE_SESSION | ROUTE_UPLOAD, revoke_csv},
	{"POST", "/api/certificates/reissue", 1, reissue_post},
	{"POST", "/api/certificates/reissue-csv", ROUTE_SESSION | ROUTE_UPLOAD, reissue_csv},
	{"GET", "/crl/{file}", 0, serve_crl},
	{"HEAD", "/crl/{file}", 0, serve_crl},
	{"GET", "/ca/{file}", 0, serve_ca},
	{"HEAD", "/ca/{file}", 0, serve_ca},
	{"POST", "/ocsp", 0, ocsp_post},
	/* nginx names it SHOMEI_ROUTE /ocsp/get: the base64 may hold '/'; ocsp_get reads the URI */
	{"GET", "/ocsp/{request}", 0, ocsp_get},
	{"POST", "/internal/revocations", ROUTE_INTERNAL, internal_revocations},
};

/* /metrics: the signer's calls (CRLs, OCSP responses, revocations) */
static void
revoke_metrics(struct strbuf *b, struct svc_thread *t)
{
	(void)t;
	signer_metrics(b);
}

static const struct svc svc = {
	.name = "revoke",
	.routes = routes,
	.nroutes = sizeof(routes) / sizeof(routes[0]),
	.sections = &revoke_section,
	.nsections = 1,
	.metrics = revoke_metrics,
};

/* The background threads: nginx's CRL file, the tenants' CRLs, due revocations, CSV jobs. */
static int
start(const struct cfg *cfg)
{
	int rc;

	if ((rc = internal_start(cfg)) != 0 || (rc = ocsp_cache_start(cfg)) != 0 ||
	    (rc = keeper_start(cfg)) != 0 || (rc = presigner_start(cfg)) != 0 ||
	    (rc = publisher_start(cfg)) != 0 || (rc = due_start(cfg)) != 0 ||
	    (rc = revoke_jobs_start(cfg)) != 0)
		return rc;
	return 0;
}

int
main(int argc, char **argv)
{
	return svc_main_start(&svc, start, argc, argv);
}
