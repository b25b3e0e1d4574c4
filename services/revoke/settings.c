/* settings.c: shomei-revoke's [revoke] section: CRLs and scheduled revocations. */
#include "extern.h"

struct revoke_cfg revoke_cfg;

static const struct cfg_key keys[] = {
	CFG_KEY_STR(struct revoke_cfg, admin_crl_file, ""),
	CFG_KEY_STR(struct revoke_cfg, nginx_pid_file, ""),
	CFG_KEY_INT(struct revoke_cfg, crl_days, 7, 1, 30),
	CFG_KEY_INT(struct revoke_cfg, crl_check_interval, 60, 1, 86400),
	CFG_KEY_INT(struct revoke_cfg, due_check_interval, 60, 1, 3600),
	/* the signer's policy allows 7 days at most */
	CFG_KEY_INT(struct revoke_cfg, ocsp_validity, 86400, 600, 7 * 86400),
};

const struct cfg_section revoke_section = {"revoke", keys, sizeof(keys) / sizeof(keys[0]),
					   &revoke_cfg};
