/*
 * due.c: applies the scheduled revocations as they fall due (00:00 JST of their date). One
 * thread wakes at the next JST midnight or every due_check_interval seconds, whichever comes
 * first, and runs revocation_apply_due, which any number of processes may run at once.
 */
#include <errno.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "domain/revocation.h"
#include "extern.h"

static struct db g_db;

/* Seconds until the next 00:00 JST (UTC+9), at least 1. */
static long
to_midnight(time_t now)
{
	long s = 86400 - (long)((now + 9 * 3600) % 86400);

	return s > 0 ? s : 1;
}

static void *
run(void *arg)
{
	struct db *db = arg;
	long long n;
	long wait;

	for (;;) {
		n = 0;
		if (revocation_apply_due(db, time(NULL), &n) != 0)
			log_msg(LOG_WARN, "event=revoke_due_failed");
		else if (n > 0) {
			ocsp_cache_bump();
			log_msg(LOG_INFO, "event=revoke_due_applied count=%lld", n);
		}
		wait = to_midnight(time(NULL));
		if (wait > revoke_cfg.due_check_interval)
			wait = revoke_cfg.due_check_interval;
		sleep((unsigned)wait);
	}
	return NULL;
}

int
due_start(const struct cfg *cfg)
{
	pthread_t tid;
	int rc;

	if ((rc = db_init(&g_db, cfg->db)) != 0)
		return rc;
	if ((rc = pthread_create(&tid, NULL, run, &g_db)) != 0)
		return -rc;
	pthread_detach(tid);
	log_msg(LOG_INFO, "event=revoke_due_started every=%d", revoke_cfg.due_check_interval);
	return 0;
}
