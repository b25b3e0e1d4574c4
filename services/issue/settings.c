/* settings.c: shomei-issue's [issue] section of the configuration: workers, key pools, RSA keys. */
#include "extern.h"

struct issue_cfg issue_cfg;

static const struct cfg_key keys[] = {
	CFG_KEY_INT(struct issue_cfg, workers, 4, 1, 64),
	CFG_KEY_INT(struct issue_cfg, key_pool_rsa2048, 100, 0, 100000),
	CFG_KEY_INT(struct issue_cfg, key_pool_rsa3072, 10, 0, 100000),
	CFG_KEY_INT(struct issue_cfg, key_pool_p256, 200, 0, 100000),
	CFG_KEY_ENUM(struct issue_cfg, rsa_keygen, rsagen, keypool_rsa_words),
};

const struct cfg_section issue_section = {"issue", keys, sizeof(keys) / sizeof(keys[0]),
					  &issue_cfg};
