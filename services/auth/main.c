/* main.c: shomei-auth, login, sessions, CSRF, password change and the operation history. */
#include "core/log.h"
#include "extern.h"
#include "web/pwhash.h"

static const struct route routes[] = {
	{"POST", "/api/auth/login", 0, auth_login},
	{"POST", "/api/auth/login/certificate", 0, auth_login_certificate},
	{"POST", "/api/auth/logout", 1, auth_logout},
	{"GET", "/api/auth/me", 0, auth_me}, /* not behind auth_request: reads the session */
	{"POST", "/api/auth/password", 1, auth_password},
	{"GET", "/api/audit", 1, auth_audit},
	{"GET", "/api/audit/export.csv", 1, auth_audit_export},
	/*
	 * nginx auth_request asks with the original method, which may be any: OPTIONS, PROPFIND
	 * and the like get the gate's answer too (not a 405 that auth_request turns into 500),
	 * then the service's 405 with Allow.
	 */
	{"*", "/internal/auth", 0, auth_gate},
};

static const struct svc svc = {
	.name = "auth",
	.routes = routes,
	.nroutes = sizeof(routes) / sizeof(routes[0]),
	.health = auth_stack_health,
	.sections = &auth_section,
	.nsections = 1,
};

/* Before the threads: the bound on concurrent password checks. */
static int
auth_start(const struct cfg *cfg)
{
	(void)cfg;
	pwhash_limit(auth_cfg.pwhash_concurrency);
	log_msg(LOG_INFO, "event=pwhash_slots slots=%d", pwhash_slots());
	return 0;
}

int
main(int argc, char **argv)
{
	return svc_main_start(&svc, auth_start, argc, argv);
}
