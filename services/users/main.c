/* main.c: shomei-users. Its API arrives with a later issue; for now it runs and answers /healthz and /metrics. */
#include "fcgisvc.h"

static const struct svc svc = {"users", NULL, 0, NULL};

int
main(int argc, char **argv)
{
	return svc_main(&svc, argc, argv);
}
