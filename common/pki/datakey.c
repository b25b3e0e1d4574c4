/* datakey.c: the data key of a running service, read once from data_key_file. */
#include <pthread.h>

#include "core/log.h"
#include "pki/datakey.h"

static unsigned char data_key[SECRET_KEY_LEN];
static int data_key_ok;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static const struct cfg *once_cfg;
static pthread_mutex_t cfg_lock = PTHREAD_MUTEX_INITIALIZER;

static void
load(void)
{
	int rc = secret_key_load(once_cfg->data_key_file, SECRET_KEY_GROUP, data_key);

	data_key_ok = rc == 0;
	if (rc != 0)
		log_msg(LOG_ERROR, "event=data_key_unreadable file=%s rc=%d",
			once_cfg->data_key_file, rc);
}

const unsigned char *
datakey_get(const struct cfg *cfg)
{
	pthread_mutex_lock(&cfg_lock);
	if (once_cfg == NULL)
		once_cfg = cfg;
	pthread_mutex_unlock(&cfg_lock);
	pthread_once(&once, load);
	return data_key_ok ? data_key : NULL;
}
