/*
 * worker.c: the issuance workers (DECISIONS.md, "Queue"). Each thread blocks on the wake-up
 * stream, then drains PostgreSQL up to ISSUE_CLAIM_MAX certificates per transaction: claim the
 * rows (FOR UPDATE SKIP LOCKED), make each certificate, store it and its history entry, commit.
 * A worker killed at any point leaves its rows `issuing` for the next one; the block timeout is
 * the sweep.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "domain/audit.h"
#include "domain/certq.h"
#include "extern.h"
#include "core/log.h"
#include "pki/signer.h"
#include "core/util.h"
#include "pki/x509.h"
#include "domain/lifecycle.h"

/* A tenant's CA is looked up again after this many seconds (a rotation takes effect). */
#define CA_TTL 30
/* A worker whose signer could not be reached claims rows only once every this many seconds
 * until the signer answers a PING again (so an outage still records attempts): where replicas
 * have signers of their own, the rows go to the ones whose signer is there. */
#define SIGNER_AWAY_PAUSE 20

struct wk {
	const struct issue_env *env;
	int index;
	struct db db;
	struct kv kv;
	struct signer_conn signer;
	char last_id[64]; /* the newest stream entry seen, "$" before the first */
	/* the CA of the tenant met last */
	long long ca_tenant, ca_id;
	X509 *ca, *root;
	time_t ca_at;
	int signer_down;    /* the signer could not be reached at the last try */
	time_t signer_away; /* when this worker last claimed while its signer was down */
};

static struct issue_env g_env;
static atomic_ullong m_issued, m_failed; /* certificates this process committed issued / failed */

static int
pem_cert(const char *pem, X509 **out)
{
	if (pem == NULL)
		return X509_E_PARSE;
	return x509_cert_from_pem(pem, strlen(pem), out);
}

/* The tenant's issuing CA and root, from the cache when fresh. 0, DB_E_NOTFOUND or -EIO. */
static int
tenant_ca(struct wk *w, long long tenant_id)
{
	char tid[24];
	PGresult *res = NULL;
	X509 *ca = NULL, *root = NULL;
	int rc;

	if (w->ca != NULL && w->ca_tenant == tenant_id && time(NULL) - w->ca_at < CA_TTL)
		return 0;
	snprintf(tid, sizeof(tid), "%lld", tenant_id);
	const char *params[] = {tid};
	if ((rc = db_exec(&w->db, &q_ca, params, &res)) != 0)
		return rc < 0 ? rc : -EIO;
	rc = DB_E_NOTFOUND;
	if (PQntuples(res) != 1 || pem_cert(db_get(res, 0, "cert_pem"), &ca) != 0)
		goto out;
	if (db_get(res, 0, "root_pem") != NULL && pem_cert(db_get(res, 0, "root_pem"), &root) != 0)
		goto out;
	X509_free(w->ca);
	X509_free(w->root);
	w->ca = ca, w->root = root, ca = root = NULL;
	w->ca_tenant = tenant_id;
	w->ca_id = db_get_ll(res, 0, "id");
	w->ca_at = time(NULL);
	rc = 0;
out:
	X509_free(ca);
	X509_free(root);
	PQclear(res);
	return rc;
}

/* Claimed row r, as make_cert wants it. */
static void
row_in(struct wk *w, const PGresult *res, int r, struct make_in *in, char *crl, size_t crllen,
       char *ocsp, size_t ocsplen)
{
	const char *v;
	int org = (v = db_get(res, r, "org_units")) != NULL && v[0] == 't';
	const char *o = db_get(res, r, "o");
	/* relying parties fetch revocation over plain HTTP (RFC 5280, RFC 6960) */
	const char *base = w->env->cfg->revocation_url[0] ? w->env->cfg->revocation_url
							  : w->env->cfg->public_url;

	memset(in, 0, sizeof(*in));
	in->tenant_id = db_get_ll(res, r, "tenant_id");
	in->key_type = db_get(res, r, "key_type");
	in->cn = db_get(res, r, "cn");
	/* numbered certificates carry no e-mail (no E, no SAN) */
	in->email = db_get(res, r, "number") == NULL ? db_get(res, r, "email") : NULL;
	in->slug = db_get(res, r, "slug");
	in->o = db_get(res, r, "name_en");
	if (org) {
		in->ou1 = db_get(res, r, "ou1");
		in->ou2 = db_get(res, r, "ou2");
		if (o != NULL && *o)
			in->o = o;
	}
	in->device = db_get(res, r, "device_code");
	in->p12_compat = (v = db_get(res, r, "p12_compat")) != NULL && v[0] == 't';
	in->valid_from = db_get_ll(res, r, "valid_from");
	in->valid_to = db_get_ll(res, r, "valid_to");
	in->default_days = (int)db_get_ll(res, r, "default_validity_days");
	in->signer = &w->signer;
	in->ca = w->ca;
	in->root = w->root;
	/* the issuing CA's own CRL (DECISIONS.md, "Per-CA CRL distribution points"): after a
	 * rotation /crl/<slug>.crl is the new CA's, and this certificate's issuer keeps its CRL
	 * here */
	snprintf(crl, crllen, "%s/crl/%s.%lld.crl", base, in->slug, w->ca_id);
	snprintf(ocsp, ocsplen, "%s/ocsp", base);
	in->crl_url = crl;
	in->ocsp_url = ocsp;
}

/* Lowercase hex of a buffer, malloc'ed; NULL on ENOMEM. */
static char *
hexdup(const unsigned char *b, size_t n)
{
	char *s = malloc(2 * n + 1);

	if (s != NULL)
		util_hex(b, n, s);
	return s;
}

/* Store the certificate and its history entry (the caller commits). DB_E_CONFLICT: serial taken. */
static int
store(struct wk *w, const PGresult *row, int r, const struct make_out *o)
{
	char id[24], ca[24], nb[24], na[24];
	char *der = hexdup(o->cert_der, o->cert_len), *p12 = hexdup(o->p12, o->p12_len);
	char *pw = hexdup(o->pw_sealed, o->pw_len);
	long long by = db_get_ll(row, r, "requested_by");
	struct audit_entry e = {db_get_ll(row, r, "tenant_id"), db_get(row, r, "requested_ip"),
				by ? "admin" : "system",        by,
				AUDIT_CERTIFICATE_ISSUE,        NULL};
	struct audit_more m = {NULL, "cert_issued", {db_get(row, r, "cn")}, 1};
	PGresult *res = NULL;
	int rc = -ENOMEM;

	if (der == NULL || p12 == NULL || pw == NULL)
		goto out;
	snprintf(id, sizeof(id), "%lld", db_get_ll(row, r, "id"));
	snprintf(ca, sizeof(ca), "%lld", w->ca_id);
	snprintf(nb, sizeof(nb), "%lld", (long long)o->not_before);
	snprintf(na, sizeof(na), "%lld", (long long)o->not_after);
	const char *params[] = {id, ca, o->serial, der, p12, pw, o->subject, nb, na};
	if ((rc = db_exec(&w->db, &q_store, params, &res)) != 0)
		goto out;
	rc = audit_write_ex(&w->db, &e, &m);
out:
	PQclear(res);
	free(der);
	free(p12);
	free(pw);
	return rc;
}

/*
 * One failed attempt, committed on its own. A transient failure (err_transient: the signer or
 * the database away, a key that could not be made) leaves the row issuing, tried again after
 * the backoff for as long as the outage lasts; a permanent one (the signer's policy refused, no
 * active CA, a subject that cannot be encoded) makes it failed now, to be retried by an
 * administrator (POST /api/certificates/{id}/retry) once the cause is mended.
 */
static void
record_failure(struct wk *w, long long id, const char *err, int rc)
{
	char sid[24];
	PGresult *res = NULL;
	int permanent = !err_transient(rc);

	snprintf(sid, sizeof(sid), "%lld", id);
	const char *params[] = {sid, err, permanent ? "true" : "false"};
	if (db_exec(&w->db, &q_fail, params, &res) != 0)
		return;
	if (PQntuples(res) == 1 && strcmp(db_get(res, 0, "status"), LC_FAILED) == 0) {
		m_failed++;
		log_msg(LOG_WARN,
			"event=issue_failed id=%lld tenant=%s cn=\"%s\" reason=\"%s\" code=%s", id,
			db_get(res, 0, "tenant_id"), db_get(res, 0, "cn"), err, err_name(rc));
	} else if (PQntuples(res) == 1)
		log_msg(LOG_WARN,
			"event=issue_retry id=%lld tenant=%s attempts=%s reason=\"%s\" code=%s", id,
			db_get(res, 0, "tenant_id"), db_get(res, 0, "attempts"), err, err_name(rc));
	PQclear(res);
}

/* The signer's socket absent or not listening: its container or process is away. */
static int
signer_unreachable(int rc)
{
	return rc == -ENOENT || rc == -ECONNREFUSED;
}

/* Make and store claimed row r inside the open transaction; err says why on failure. */
static int
issue_row(struct wk *w, const PGresult *rows, int r, char serial[48], char *err, size_t errlen)
{
	char crl[512], ocsp[512];
	struct make_in in;
	struct make_out o = {0};
	int rc;

	if ((rc = tenant_ca(w, db_get_ll(rows, r, "tenant_id"))) != 0) {
		snprintf(err, errlen, "no active CA for the tenant");
		/* permanent: the operator creates it (shomeictl ca init), then the admin retries */
		return rc == DB_E_NOTFOUND ? SIGNER_E_REFUSED : rc;
	}
	row_in(w, rows, r, &in, crl, sizeof(crl), ocsp, sizeof(ocsp));
	if ((rc = make_cert(w->env, &in, &o, err, errlen)) == 0 &&
	    (rc = store(w, rows, r, &o)) != 0)
		snprintf(err, errlen, rc == DB_E_CONFLICT ? "serial collision" : "database");
	if (rc == 0)
		snprintf(serial, 48, "%s", o.serial);
	make_out_done(&o);
	return rc;
}

/*
 * Claim up to limit rows and issue them in one transaction (one commit, one WAL flush for
 * them all). n > 0: rows handled, 0: none waiting, -EIO: database. When one of several rows
 * fails, the whole batch rolls back and its rows are taken again one per transaction, so that
 * only the failing row records an attempt.
 */
static int
issue_some(struct wk *w, int limit)
{
	char err[256] = "", lim[16], serial[ISSUE_CLAIM_MAX][48];
	PGresult *rows = NULL;
	long long id;
	int rc, n, i = 0;

	snprintf(lim, sizeof(lim), "%d", limit);
	const char *params[] = {lim};
	if ((rc = db_begin(&w->db)) != 0)
		return -EIO;
	if ((rc = db_exec(&w->db, &q_claim, params, &rows)) != 0 || (n = PQntuples(rows)) == 0) {
		db_rollback(&w->db);
		PQclear(rows);
		return rc != 0 ? -EIO : 0;
	}
	for (i = 0; i < n; i++)
		if ((rc = issue_row(w, rows, i, serial[i], err, sizeof(err))) != 0)
			break;
	if (rc == 0 && (rc = db_commit(&w->db)) != 0) {
		snprintf(err, sizeof(err), "commit failed");
		i = 0;
	}
	if (rc == 0) {
		m_issued += (unsigned long long)n;
		for (i = 0; i < n; i++)
			log_msg(LOG_INFO,
				"event=issued id=%s tenant=%s serial=%s cn=\"%s\" worker=%d",
				db_get(rows, i, "id"), db_get(rows, i, "tenant_id"), serial[i],
				db_get(rows, i, "cn"), w->index);
		PQclear(rows);
		return n;
	}
	id = db_get_ll(rows, i, "id");
	PQclear(rows);
	db_rollback(&w->db);
	if (w->db.conn == NULL || PQstatus(w->db.conn) != CONNECTION_OK)
		return -EIO; /* the database went away: the rows stay issuing, nothing to record */
	if (n > 1) {
		/* the same rows again, one per transaction: only the failing one records an attempt
		 */
		for (int j = 0; j < n && issue_some(w, 1) > 0; j++)
			;
		return w->signer_down ? -EAGAIN : n;
	}
	if (rc == DB_E_CONFLICT) /* the next claim makes it again with a new serial */
		log_msg(LOG_WARN, "event=serial_collision id=%lld", id);
	else
		record_failure(w, id, err, rc);
	if (signer_unreachable(rc) && strncmp(err, "signer:", 7) == 0) {
		w->signer_down = 1;
		w->signer_away = time(NULL);
		return -EAGAIN;
	}
	return 1;
}

/*
 * Whether this worker should claim nothing now: its signer could not be reached and still cannot
 * (a PING that connects counts as there, refused or not), and its last claim meanwhile was less
 * than SIGNER_AWAY_PAUSE s ago.
 */
static int
signer_away(struct wk *w)
{
	unsigned char *out = NULL;
	size_t outlen = 0;
	char reason[128];
	int rc;

	if (!w->signer_down)
		return 0;
	rc = signer_call(&w->signer, SIGNER_OP_PING, 0, NULL, 0, &out, &outlen, reason,
			 sizeof(reason));
	free(out);
	if (!signer_unreachable(rc)) {
		w->signer_down = 0;
		return 0;
	}
	if (time(NULL) - w->signer_away < SIGNER_AWAY_PAUSE)
		return 1;
	w->signer_away = time(NULL); /* one claim now, the next after the pause */
	return 0;
}

/* Block on the wake-up stream until an entry past last_id, or the timeout (the sweep). */
static void
wait_wake(struct wk *w)
{
	char block[16];
	redisReply *r, *entries;

	snprintf(block, sizeof(block), "%d", ISSUE_BLOCK_MS);
	const char *argv[] = {"XREAD", "COUNT",   "1000",       "BLOCK",
			      block,   "STREAMS", CERTQ_STREAM, w->last_id};
	if ((r = kv_cmdv(&w->kv, 8, argv)) == NULL) {
		usleep(ISSUE_BLOCK_MS * 1000); /* Redis is away: poll PostgreSQL at the same pace */
		return;
	}
	if (r->type == REDIS_REPLY_ARRAY && r->elements > 0 && r->element[0]->elements == 2) {
		entries = r->element[0]->element[1];
		if (entries->elements > 0) {
			redisReply *last = entries->element[entries->elements - 1];
			if (last->elements > 0 && last->element[0]->type == REDIS_REPLY_STRING)
				snprintf(w->last_id, sizeof(w->last_id), "%s",
					 last->element[0]->str);
		}
	}
	freeReplyObject(r);
}

static void *
work(void *arg)
{
	struct wk *w = arg;
	int rc;

	log_msg(LOG_INFO, "event=worker_started worker=%d", w->index);
	for (;;) {
		if (signer_away(w)) {
			sleep(1);
			continue;
		}
		while ((rc = issue_some(w, ISSUE_CLAIM_MAX)) > 0)
			;
		if (rc == -EAGAIN)
			continue; /* the signer away: signer_away() decides when to claim again */
		if (rc < 0)
			sleep(1);
		wait_wake(w);
	}
	return NULL;
}

int
worker_start(const struct cfg *cfg)
{
	int sizes[X509_KEY__MAX] = {[X509_KEY_RSA2048] = issue_cfg.key_pool_rsa2048,
				    [X509_KEY_RSA3072] = issue_cfg.key_pool_rsa3072,
				    [X509_KEY_P256] = issue_cfg.key_pool_p256};
	pthread_t tid;
	int rc;

	g_env.cfg = cfg;
	if ((rc = secret_key_load(cfg->data_key_file, SECRET_KEY_GROUP, g_env.data_key)) != 0) {
		log_msg(LOG_ERROR, "event=data_key_unreadable file=%s rc=%d", cfg->data_key_file,
			rc);
		return rc < 0 ? rc : -EINVAL;
	}
	if ((rc = cfg_socket_path(cfg, "signer", g_env.signer_sock, sizeof(g_env.signer_sock))) !=
	    0)
		return rc;
	if ((g_env.pool = keypool_new(sizes, (enum keypool_rsa)issue_cfg.rsa_keygen)) == NULL)
		return -ENOMEM;
	if ((rc = keypool_start(g_env.pool)) != 0)
		return rc;
	for (int i = 0; i < issue_cfg.workers; i++) {
		struct wk *w = calloc(1, sizeof(*w));
		if (w == NULL)
			return -ENOMEM;
		w->env = &g_env;
		w->index = i;
		snprintf(w->last_id, sizeof(w->last_id), "$");
		signer_conn_init(&w->signer, g_env.signer_sock);
		if ((rc = db_init(&w->db, cfg->db)) != 0 ||
		    (rc = kv_init(&w->kv, cfg->redis_socket, cfg->redis_host, cfg->redis_port)) !=
			    0)
			return rc;
		if ((rc = pthread_create(&tid, NULL, work, w)) != 0)
			return -rc;
		pthread_detach(tid);
	}
	log_msg(LOG_INFO,
		"event=workers_started workers=%d pool_rsa2048=%d pool_p256=%d rsa_keygen=%s",
		issue_cfg.workers, issue_cfg.key_pool_rsa2048, issue_cfg.key_pool_p256,
		keypool_rsa_words[issue_cfg.rsa_keygen]);
	return 0;
}

static const struct db_stmt q_depths = {
	"issue_metrics_depths",
	"SELECT (SELECT count(*) FROM certificates WHERE status = " LC_SQL(
		LC_ISSUING) ") AS issuing,"
			    " (SELECT count(*) FROM jobs WHERE status = 'queued') AS jobs_queued,"
			    " (SELECT count(*) FROM jobs WHERE status = 'running') AS jobs_running,"
			    " (SELECT count(*) FROM notifications WHERE sent_at IS NULL) AS outbox",
	0,
};

/* /metrics of shomei-issue: the queues (every tenant's: an operator's figures), the key pool,
 * the signer. */
void
issue_metrics(struct strbuf *b, struct svc_thread *t)
{
	static const char *const kt[X509_KEY__MAX] = {"rsa2048", "rsa3072", "p256"};
	const int sizes[X509_KEY__MAX] = {issue_cfg.key_pool_rsa2048, issue_cfg.key_pool_rsa3072,
					  issue_cfg.key_pool_p256};
	PGresult *res = NULL;

	strbuf_printf(
		b,
		"# HELP shomei_issue_certificates_total Certificates this process committed.\n"
		"# TYPE shomei_issue_certificates_total counter\n"
		"shomei_issue_certificates_total{result=\"issued\"} %llu\n"
		"shomei_issue_certificates_total{result=\"failed\"} %llu\n",
		(unsigned long long)m_issued, (unsigned long long)m_failed);
	strbuf_printf(b, "# HELP shomei_key_pool_ready Key pairs ready in memory, by type.\n"
			 "# TYPE shomei_key_pool_ready gauge\n");
	for (int i = 0; i < X509_KEY__MAX; i++)
		strbuf_printf(b, "shomei_key_pool_ready{key_type=\"%s\"} %zu\n", kt[i],
			      g_env.pool != NULL ? keypool_ready(g_env.pool, (enum x509_key_type)i)
						 : 0);
	strbuf_printf(
		b,
		"# HELP shomei_key_pool_size Key pairs the pool keeps ready ([issue] key_pool_*).\n"
		"# TYPE shomei_key_pool_size gauge\n");
	for (int i = 0; i < X509_KEY__MAX; i++)
		strbuf_printf(b, "shomei_key_pool_size{key_type=\"%s\"} %d\n", kt[i], sizes[i]);
	signer_metrics(b);
	if (db_exec(&t->db, &q_depths, NULL, &res) != 0)
		return; /* PostgreSQL down: the queue depths are left out, the rest stands */
	strbuf_printf(
		b,
		"# HELP shomei_queue_depth Work waiting in PostgreSQL: certificates issuing, CSV jobs, mail outbox.\n"
		"# TYPE shomei_queue_depth gauge\n"
		"shomei_queue_depth{queue=\"issuing\"} %lld\n"
		"shomei_queue_depth{queue=\"jobs_queued\"} %lld\n"
		"shomei_queue_depth{queue=\"jobs_running\"} %lld\n"
		"shomei_queue_depth{queue=\"outbox\"} %lld\n",
		db_get_ll(res, 0, "issuing"), db_get_ll(res, 0, "jobs_queued"),
		db_get_ll(res, 0, "jobs_running"), db_get_ll(res, 0, "outbox"));
	PQclear(res);
}
