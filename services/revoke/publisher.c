/*
 * publisher.c: keeps every tenant CA's CRL in the crls table current (DECISIONS.md,
 * "Revocation"). One thread LISTENs on REVOCATION_CHANNEL: a committed revocation notifies its
 * tenant, and the tenant's CRL is built, signed by shomei-signer and stored at once (within
 * milliseconds of the commit). Every crl_check_interval seconds it also sweeps for CRLs that are
 * missing, list other than the revoked certificates (a notification lost with a connection), or
 * expire within crl_days/2. With several shomei-revoke, each hears the notification; the CA row
 * lock in crlpub_tenant lets the first sign and the others find the CRL current. Each notified
 * tenant is handed on to the OCSP pre-signer (presign.c), which runs in a thread of its own so
 * that a burst of signatures never holds a CRL back.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "domain/crlpub.h"
#include "domain/revocation.h"
#include "extern.h"
#include "pki/signer.h"
#include "pki/x509.h"

#define PENDING_MAX 256

struct publisher {
	struct db db;
	struct signer_conn signer;
	char sock[PATH_MAX];
	int listen_pid;   /* the backend LISTEN was sent to (a reconnect has another; 0: none) */
	long long tenant; /* the tenant being signed for */
	long long pending[PENDING_MAX];
	size_t npending;
	int overflow; /* more notifications than pending holds: sweep */
};

static struct publisher g_pub;

/* crlpub_sign_fn: shomei-signer signs with the tenant's CA (policy: that tenant's CA only). */
static int
sign_tenant(void *arg, const char *kind, const char *key_file, X509_CRL *crl, X509_CRL **out)
{
	struct publisher *p = arg;
	char reason[256] = "";
	int rc;

	(void)kind;
	(void)key_file;
	/* crlpub_tenant hands over a placeholder-signed CRL (encoding cached): sent as it is */
	if ((rc = signer_sign_crl(&p->signer, (uint64_t)p->tenant, crl, out, reason,
				  sizeof(reason))) != 0)
		log_msg(LOG_ERROR, "event=tenant_crl_sign_failed tenant=%lld rc=%d reason=\"%s\"",
			p->tenant, rc, reason);
	return rc;
}

static time_t
margin(void)
{
	return (time_t)revoke_cfg.crl_days * 86400 / 2;
}

/* Sign the tenant's CRL again when it is stale; one transaction. */
static int
publish(struct publisher *p, long long tenant)
{
	struct crlpub_info info;
	char err[256];
	int rc;

	p->tenant = tenant;
	if ((rc = db_begin(&p->db)) != 0)
		return -EIO;
	rc = crlpub_tenant(&p->db, tenant, revoke_cfg.crl_days, margin(), sign_tenant, p, &info,
			   err, sizeof(err));
	if (rc != 0) {
		db_rollback(&p->db);
		if (rc != CRLPUB_E_NOCA)
			log_msg(LOG_ERROR,
				"event=tenant_crl_failed tenant=%lld rc=%d reason=\"%s\"", tenant,
				rc, err);
		return rc == CRLPUB_E_NOCA ? 0 : rc < 0 ? rc : -EIO;
	}
	if ((rc = db_commit(&p->db)) != 0)
		return -EIO;
	if (info.number > 0)
		log_msg(LOG_INFO,
			"event=tenant_crl_published tenant=%lld crl_number=%lld revoked=%zu",
			tenant, info.number, info.revoked);
	return 0;
}

/* Every tenant whose CRL is stale. */
static int
sweep(struct publisher *p)
{
	long long *ids = NULL;
	size_t n = 0;
	int rc, failed = 0;

	if ((rc = crlpub_stale_tenants(&p->db, margin(), &ids, &n)) != 0)
		return rc;
	for (size_t i = 0; i < n; i++)
		if (publish(p, ids[i]) != 0)
			failed = 1;
	free(ids);
	return failed ? -EIO : 0;
}

/* LISTEN on the current connection (again after a reconnect). */
static int
listen_ensure(struct publisher *p)
{
	PGresult *res = NULL;
	int rc;

	if (db_ensure(&p->db) != 0)
		return -EIO;
	/* by backend pid, not pointer: a new PGconn may reuse the freed one's address */
	if (p->listen_pid != 0 && p->listen_pid == PQbackendPID(p->db.conn))
		return 0;
	rc = db_exec_sql(&p->db, "LISTEN " REVOCATION_CHANNEL, 0, NULL, &res);
	PQclear(res);
	if (rc != 0)
		return -EIO;
	p->listen_pid = PQbackendPID(p->db.conn);
	return 1; /* a new connection: what was notified meanwhile is for the sweep */
}

/* Take the notifications libpq holds into pending. */
static void
drain(struct publisher *p)
{
	PGnotify *n;

	while ((n = PQnotifies(p->db.conn)) != NULL) {
		long long tid = strtoll(n->extra, NULL, 10);
		size_t i;
		for (i = 0; i < p->npending && p->pending[i] != tid; i++)
			;
		if (i == p->npending) {
			if (p->npending < PENDING_MAX && tid > 0)
				p->pending[p->npending++] = tid;
			else
				p->overflow = 1;
		}
		PQfreemem(n);
	}
}

/* Wait up to ms for notifications; -EIO when the connection is gone. */
static int
wait_notify(struct publisher *p, int ms)
{
	struct pollfd pfd = {.fd = PQsocket(p->db.conn), .events = POLLIN};

	drain(p);
	if (p->npending > 0 || p->overflow)
		return 0;
	if (pfd.fd < 0)
		return -EIO;
	if (poll(&pfd, 1, ms) > 0 && PQconsumeInput(p->db.conn) == 0)
		return -EIO;
	drain(p);
	return 0;
}

static void *
run(void *arg)
{
	struct publisher *p = arg;
	time_t next_sweep = 0, now;
	int rc;

	for (;;) {
		if ((rc = listen_ensure(p)) < 0) {
			log_msg(LOG_WARN, "event=crl_publisher_retry reason=\"no database\"");
			sleep(1);
			continue;
		}
		if (rc == 1)
			next_sweep = 0;
		now = time(NULL);
		if (now >= next_sweep || p->overflow) {
			p->overflow = 0;
			if (sweep(p) != 0)
				log_msg(LOG_WARN, "event=crl_publisher_sweep_failed");
			next_sweep = time(NULL) + revoke_cfg.crl_check_interval;
		}
		for (size_t i = 0; i < p->npending; i++) {
			presign_kick(p->pending[i]);
			publish(p, p->pending[i]);
		}
		p->npending = 0;
		now = time(NULL);
		if (wait_notify(p, now < next_sweep ? (int)(next_sweep - now) * 1000 : 0) != 0)
			p->listen_pid = 0; /* db_ensure reconnects, LISTEN again */
	}
	return NULL;
}

int
publisher_start(const struct cfg *cfg)
{
	struct publisher *p = &g_pub;
	pthread_t tid;
	int rc;

	if ((rc = cfg_socket_path(cfg, "signer", p->sock, sizeof(p->sock))) != 0 ||
	    (rc = db_init(&p->db, cfg->db)) != 0)
		return rc;
	signer_conn_init(&p->signer, p->sock);
	if ((rc = pthread_create(&tid, NULL, run, p)) != 0)
		return -rc;
	pthread_detach(tid);
	log_msg(LOG_INFO, "event=crl_publisher_started every=%d days=%d",
		revoke_cfg.crl_check_interval, revoke_cfg.crl_days);
	return 0;
}
