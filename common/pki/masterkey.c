/* masterkey.c: the master key of a running service, read once from master_key_file. */
#include <pthread.h>

#include "pki/masterkey.h"

static unsigned char master[SECRET_KEY_LEN];
static int master_ok;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static const struct cfg *once_cfg;
static pthread_mutex_t cfg_lock = PTHREAD_MUTEX_INITIALIZER;

static void
load(void)
{
	master_ok = secret_key_load(once_cfg->master_key_file, master) == 0;
}

const unsigned char *
masterkey_get(const struct cfg *cfg)
{
	pthread_mutex_lock(&cfg_lock);
	if (once_cfg == NULL)
		once_cfg = cfg;
	pthread_mutex_unlock(&cfg_lock);
	pthread_once(&once, load);
	return master_ok ? master : NULL;
}
