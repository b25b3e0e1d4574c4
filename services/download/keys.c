/* keys.c: the master key, loaded once, on first use (it opens the PKCS#12 passwords). */
#include <pthread.h>

#include "extern.h"
#include "log.h"

static unsigned char master[SECRET_KEY_LEN];
static int master_ok;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static const struct cfg *once_cfg;

static void
load(void)
{
	master_ok = secret_key_load(once_cfg->master_key_file, master) == 0;
	if (!master_ok)
		log_msg(LOG_ERROR, "event=master_key_unreadable");
}

/* The master key, or NULL when it cannot be read (the caller answers 503). */
const unsigned char *
dl_master_key(const struct cfg *cfg)
{
	once_cfg = cfg;
	pthread_once(&once, load);
	return master_ok ? master : NULL;
}
