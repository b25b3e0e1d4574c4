/*
 * ocspcache.c: the OCSP responder's memory of the pre-signed answers it sent (DECISIONS.md,
 * "OCSP: the answer cache"). An answer read from ocsp_responses is kept under its CA and serial
 * with the epoch read before that read; a revocation makes every kept answer stale by raising
 * the epoch: at once in this process (revoke_apply, the due thread), and through PostgreSQL's
 * NOTIFY on REVOCATION_CHANNEL, which a thread of its own LISTENs for, for revocations made
 * elsewhere (another shomei-revoke, shomeictl). While that thread is not listening (no database,
 * a reconnect) the cache is off: every answer is looked up. A kept answer is sent for
 * OCSP_CACHE_TTL seconds at most, and never after its nextUpdate.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "domain/revocation.h"
#include "extern.h"

#define SLOTS 16384 /* direct-mapped; a collision replaces the older answer */
#define STRIPES 64

struct slot {
	long long ca_id;
	char serial[OCSP_SERIAL_HEX_MAX + 1];
	uint64_t epoch;
	time_t until; /* sent until then (TTL, nextUpdate) */
	struct ocsp_answer a;
};

static struct slot g_slots[SLOTS];
static pthread_mutex_t g_stripe[STRIPES];
static _Atomic uint64_t g_epoch = 1;
static _Atomic int g_on; /* the listener is listening */

static unsigned
slot_of(long long ca_id, const char *serial)
{
	uint64_t h = 1469598103934665603ULL ^ (uint64_t)ca_id;

	for (const char *p = serial; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	return (unsigned)(h % SLOTS);
}

uint64_t
ocsp_cache_epoch(void)
{
	return atomic_load(&g_on) ? atomic_load(&g_epoch) : 0;
}

void
ocsp_cache_bump(void)
{
	atomic_fetch_add(&g_epoch, 1);
}

int
ocsp_cache_get(long long ca_id, const char *serial, struct ocsp_answer *out)
{
	unsigned i = slot_of(ca_id, serial);
	struct slot *s = &g_slots[i];
	uint64_t ep = ocsp_cache_epoch();
	int hit = 0;

	if (ep == 0)
		return 0;
	pthread_mutex_lock(&g_stripe[i % STRIPES]);
	if (s->a.der != NULL && s->epoch == ep && s->ca_id == ca_id &&
	    strcmp(s->serial, serial) == 0 && time(NULL) < s->until) {
		if ((out->der = malloc(s->a.len)) != NULL) {
			memcpy(out->der, s->a.der, s->a.len);
			out->len = s->a.len;
			out->produced = s->a.produced;
			out->next_update = s->a.next_update;
			hit = 1;
		}
	}
	pthread_mutex_unlock(&g_stripe[i % STRIPES]);
	return hit;
}

void
ocsp_cache_put(long long ca_id, const char *serial, uint64_t epoch, const struct ocsp_answer *a)
{
	unsigned i = slot_of(ca_id, serial);
	struct slot *s = &g_slots[i];
	time_t until = time(NULL) + OCSP_CACHE_TTL;
	unsigned char *der;

	if (epoch == 0 || strlen(serial) > OCSP_SERIAL_HEX_MAX || (der = malloc(a->len)) == NULL)
		return;
	memcpy(der, a->der, a->len);
	if (until > a->next_update)
		until = a->next_update;
	pthread_mutex_lock(&g_stripe[i % STRIPES]);
	free(s->a.der);
	s->ca_id = ca_id;
	memcpy(s->serial, serial, strlen(serial) + 1); /* length checked above */
	s->epoch = epoch;
	s->until = until;
	s->a = *a;
	s->a.der = der;
	pthread_mutex_unlock(&g_stripe[i % STRIPES]);
}

/* The listener: every notification on REVOCATION_CHANNEL raises the epoch. */
static void *
listen_run(void *arg)
{
	struct db *db = arg;

	for (;;) {
		PGresult *res = NULL;
		PGnotify *n;
		int rc;

		atomic_store(&g_on, 0);
		if (db_ensure(db) != 0) {
			sleep(1);
			continue;
		}
		rc = db_exec_sql(db, "LISTEN " REVOCATION_CHANNEL, 0, NULL, &res);
		PQclear(res);
		if (rc != 0) {
			sleep(1);
			continue;
		}
		/* whatever was revoked while nobody listened: everything kept is stale */
		ocsp_cache_bump();
		atomic_store(&g_on, 1);
		log_msg(LOG_INFO, "event=ocsp_cache_listening");
		for (;;) {
			struct pollfd pfd = {.fd = PQsocket(db->conn), .events = POLLIN};

			if (pfd.fd < 0 || PQstatus(db->conn) != CONNECTION_OK)
				break;
			if (poll(&pfd, 1, 1000) > 0 && PQconsumeInput(db->conn) == 0)
				break;
			while ((n = PQnotifies(db->conn)) != NULL) {
				ocsp_cache_bump();
				PQfreemem(n);
			}
		}
		atomic_store(&g_on, 0);
		log_msg(LOG_WARN, "event=ocsp_cache_off reason=\"lost the database\"");
	}
	return NULL;
}

int
ocsp_cache_start(const struct cfg *cfg)
{
	static struct db db;
	pthread_t tid;
	int rc;

	for (int i = 0; i < STRIPES; i++)
		pthread_mutex_init(&g_stripe[i], NULL);
	if ((rc = db_init(&db, cfg->db)) != 0)
		return rc;
	if ((rc = pthread_create(&tid, NULL, listen_run, &db)) != 0)
		return -rc;
	pthread_detach(tid);
	return 0;
}
