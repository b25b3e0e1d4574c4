/* extern.h: cross-file prototypes of shomei-revoke. */
#ifndef SHOMEI_REVOKE_EXTERN_H
#define SHOMEI_REVOKE_EXTERN_H

#include "core/cfg.h"

/* settings.c: the [revoke] section */
struct revoke_cfg {
	char *admin_crl_file;   /* nginx's ssl_crl file; empty = <ca_dir>/admin-crl.pem */
	char *nginx_pid_file;   /* SIGHUP after a new admin_crl_file; empty = nobody */
	int crl_days;           /* validity of the root and administrator CA CRLs */
	int crl_check_interval; /* seconds between the keeper's looks at that file */
};
extern struct revoke_cfg revoke_cfg;
extern const struct cfg_section revoke_section;

/* keeper.c: start the thread that keeps nginx's administrator CRL file current. 0 or -errno. */
int keeper_start(const struct cfg *cfg);

#endif
