/* settings.c: shomei-auth's [auth] section of the configuration: the password check bound. */
#include "extern.h"

struct auth_cfg auth_cfg;

static const struct cfg_key keys[] = {
	CFG_KEY_INT(struct auth_cfg, pwhash_concurrency, 0, 0, 1024),
};

const struct cfg_section auth_section = {"auth", keys, sizeof(keys) / sizeof(keys[0]), &auth_cfg};
