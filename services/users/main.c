/* main.c: shomei-users, the tenant summary, users and devices, and the user search. */
#include "extern.h"

static const struct route routes[] = {
	{"GET", "/api/tenant", 1, users_tenant},
	{"PUT", "/api/tenant/settings", 1, users_settings},
	{"GET", "/api/users/export.csv", 1, users_export},
	{"GET", "/api/users", 1, users_search},
	{"POST", "/api/users", 1, users_register},
	{"GET", "/api/users/{id}", 1, users_get},
	{"PATCH", "/api/users/{id}", 1, users_patch},
};

static const struct svc svc = {
	.name = "users",
	.routes = routes,
	.nroutes = sizeof(routes) / sizeof(routes[0]),
};

int
main(int argc, char **argv)
{
	return svc_main(&svc, argc, argv);
}
