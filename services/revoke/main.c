/*
 * main.c: shomei-revoke. Its revocation API arrives with a later issue; for now it answers
 * /healthz and /metrics and keeps nginx's administrator CRL file current (keeper.c).
 */
#include "extern.h"
#include "web/fcgisvc.h"

static const struct svc svc = {
	.name = "revoke",
	.sections = &revoke_section,
	.nsections = 1,
};

int
main(int argc, char **argv)
{
	return svc_main_start(&svc, keeper_start, argc, argv);
}
