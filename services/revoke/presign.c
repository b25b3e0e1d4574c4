/*
 * presign.c: keeps a signed OCSP response in ocsp_responses for every certificate of the
 * tenants' active CAs (DECISIONS.md, "OCSP"), so that the responder (ocsp.c) answers with a
 * lookup. A thread of its own (the pre-signer), with its own database and signer connections,
 * so that a burst of signatures never delays a tenant's CRL: the publisher hands it each tenant
 * it was notified of (presign_kick), and every crl_check_interval it sweeps every tenant. A
 * certificate without a response, one whose response says another status, or one whose
 * response expires within ocsp_validity/2 is signed again through shomei-signer, in batches of
 * PRESIGN_BATCH; between PRESIGN_ROUNDS batches it looks at the tenants it was handed.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/strbuf.h"
#include "extern.h"

#define PRESIGN_BATCH 200
/* Batches per call: a notified tenant waits for 1,000 signatures of a sweep at most. */
#define PRESIGN_ROUNDS 5
#define PENDING_MAX 256
/* Certificates whose answer the signer refused, left out of the stale list for an hour. */
#define REFUSED_MAX 1000
#define REFUSED_SECONDS 3600

/*
 * The signer refuses an answer it must not sign (a revocationTime in the future, say, from a
 * row written by hand). Such a row would come first in every batch and hold every other
 * certificate back, so it is left out of the list for REFUSED_SECONDS and tried again then.
 * Only the pre-signer's thread touches this.
 */
static struct {
	long long id[REFUSED_MAX];
	time_t at[REFUSED_MAX];
	size_t n;
} g_refused;

static void
refused_add(long long id, time_t now)
{
	size_t slot = 0;

	for (size_t i = 0; i < g_refused.n; i++)
		if (g_refused.at[i] < g_refused.at[slot])
			slot = i;
	if (g_refused.n < REFUSED_MAX)
		slot = g_refused.n++;
	g_refused.id[slot] = id;
	g_refused.at[slot] = now;
}

/* "{id,id,…}" of the refusals younger than REFUSED_SECONDS into buf (the old ones dropped). */
static void
refused_array(time_t now, char *buf, size_t cap)
{
	struct strbuf b;
	size_t keep = 0;

	strbuf_init(&b, buf, cap);
	strbuf_add(&b, "{");
	for (size_t i = 0; i < g_refused.n; i++) {
		if (now - g_refused.at[i] >= REFUSED_SECONDS)
			continue;
		g_refused.id[keep] = g_refused.id[i];
		g_refused.at[keep] = g_refused.at[i];
		strbuf_printf(&b, "%s%lld", keep ? "," : "", g_refused.id[keep]);
		keep++;
	}
	g_refused.n = keep;
	strbuf_add(&b, "}");
}

/* Sign and store row r of the stale list; 0 or nonzero. */
static int
one(struct db *db, struct signer_conn *sc, const PGresult *res, int r, time_t now)
{
	struct ocsp_issuer is = {0};
	struct ocsp_single s;
	OCSP_CERTID *id = NULL;
	unsigned char *der = NULL;
	size_t len = 0;
	const char *serial = db_get(res, r, "serial");
	int revoked = db_get(res, r, "revoked")[0] == 't', rc;

	if ((rc = ocsp_issuer_find(db, NULL, db_get_ll(res, r, "ca_id"), &is)) != 0 ||
	    (rc = ocsp_id_make(is.cert, serial, &id)) != 0)
		goto out;
	ocsp_single_for(revoked ? OCSP_ST_REVOKED : OCSP_ST_GOOD,
			(time_t)db_get_ll(res, r, "revoked_at"), (int)db_get_ll(res, r, "reason"),
			now, &s);
	if ((rc = ocsp_sign(sc, is.tenant_id, id, &s, &der, &len)) != 0)
		goto out;
	rc = ocsp_store(db, is.ca_id, serial, revoked, der, len, s.this_update, s.next_update);
out:
	free(der);
	OCSP_CERTID_free(id);
	X509_free(is.cert);
	return rc;
}

int
presign_run(struct db *db, struct signer_conn *sc, long long tenant_id, size_t *signed_n)
{
	char tid[24], limit[24];
	PGresult *res = NULL;
	size_t done = 0;
	int rc = 0, n = PRESIGN_BATCH;

	snprintf(tid, sizeof(tid), "%lld", tenant_id);
	for (int round = 0; round < PRESIGN_ROUNDS && n == PRESIGN_BATCH && rc == 0; round++) {
		time_t now = time(NULL);
		/* REFUSED_MAX ids of at most 20 digits and their commas fit */
		static char refused[REFUSED_MAX * 21 + 3];

		refused_array(now, refused, sizeof(refused));
		snprintf(limit, sizeof(limit), "%lld",
			 (long long)now + revoke_cfg.ocsp_validity / 2);
		const char *params[] = {tid, limit, refused};
		if ((rc = db_exec(db, &q_ocsp_stale, params, &res)) != 0) {
			rc = rc < 0 ? rc : -EIO;
			break;
		}
		n = PQntuples(res);
		/* a row that fails otherwise (the signer or the database away) would come back
		 * first in the next batch: stop the round; a refused one is left out and the round
		 * goes on */
		for (int r = 0; r < n && rc == 0; r++) {
			if ((rc = one(db, sc, res, r, now)) == 0) {
				done++;
			} else if (rc == SIGNER_E_REFUSED) {
				log_msg(LOG_WARN,
					"event=ocsp_presign_refused certificate=%s retry_in=%d",
					db_get(res, r, "id"), REFUSED_SECONDS);
				refused_add(db_get_ll(res, r, "id"), now);
				rc = 0;
			}
		}
		PQclear(res);
		res = NULL;
	}
	*signed_n = done;
	return rc;
}

/* The tenants notified and not yet pre-signed, handed over by the publisher. */
static struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	long long v[PENDING_MAX];
	size_t n;
	int overflow; /* more than v holds: a sweep does them all */
} g_kick = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

void
presign_kick(long long tenant_id)
{
	size_t i;

	pthread_mutex_lock(&g_kick.mu);
	for (i = 0; i < g_kick.n && g_kick.v[i] != tenant_id; i++)
		;
	if (i == g_kick.n) {
		if (g_kick.n < PENDING_MAX)
			g_kick.v[g_kick.n++] = tenant_id;
		else
			g_kick.overflow = 1;
	}
	pthread_cond_signal(&g_kick.cv);
	pthread_mutex_unlock(&g_kick.mu);
}

struct presigner {
	struct db db;
	struct signer_conn signer;
	char sock[PATH_MAX];
};

/* One call of presign_run, logged; 1 when it signed a whole call's worth (more may wait). */
static int
presign_one(struct presigner *p, long long tenant)
{
	size_t n = 0;
	int rc = presign_run(&p->db, &p->signer, tenant, &n);

	if (n > 0 || rc != 0)
		log_msg(rc ? LOG_WARN : LOG_INFO,
			"event=ocsp_presigned tenant=%lld responses=%zu rc=%d", tenant, n, rc);
	return rc == 0 && n >= (size_t)PRESIGN_BATCH * PRESIGN_ROUNDS;
}

static void *
presigner_run(void *arg)
{
	struct presigner *p = arg;
	time_t next_sweep = 0;
	int more = 0;

	for (;;) {
		long long v[PENDING_MAX];
		size_t n;
		int sweep;

		pthread_mutex_lock(&g_kick.mu);
		while (g_kick.n == 0 && !g_kick.overflow && !more && time(NULL) < next_sweep) {
			struct timespec until = {.tv_sec = next_sweep};
			pthread_cond_timedwait(&g_kick.cv, &g_kick.mu, &until);
		}
		n = g_kick.n;
		memcpy(v, g_kick.v, n * sizeof(v[0]));
		g_kick.n = 0;
		sweep = g_kick.overflow || more || time(NULL) >= next_sweep;
		g_kick.overflow = 0;
		pthread_mutex_unlock(&g_kick.mu);

		for (size_t i = 0; i < n; i++)
			while (presign_one(p, v[i]))
				; /* a notified tenant is done whole: its revocations are in it */
		if (sweep) {
			/* a sweep that is not done comes back after the next notified tenants */
			more = presign_one(p, 0);
			if (!more)
				next_sweep = time(NULL) + revoke_cfg.crl_check_interval;
		}
	}
	return NULL;
}

int
presigner_start(const struct cfg *cfg)
{
	static struct presigner p;
	pthread_t tid;
	int rc;

	if ((rc = cfg_socket_path(cfg, "signer", p.sock, sizeof(p.sock))) != 0 ||
	    (rc = db_init(&p.db, cfg->db)) != 0)
		return rc;
	signer_conn_init(&p.signer, p.sock);
	if ((rc = pthread_create(&tid, NULL, presigner_run, &p)) != 0)
		return -rc;
	pthread_detach(tid);
	log_msg(LOG_INFO, "event=ocsp_presigner_started every=%d", revoke_cfg.crl_check_interval);
	return 0;
}
