/*
 * ocsp.c: the OCSP responder (RFC 6960; RFC 5019's profile): POST /ocsp and GET /ocsp/<base64>,
 * public, on the portal's port and the relying parties' plain-HTTP listener. A request names one
 * certificate by CertID; the issuer is found among the tenants' active CAs (none: unauthorized),
 * the certificate's status read from PostgreSQL with its pre-signed response (presign.c), which
 * is sent when it says what the certificate's status is now; else the response is signed at
 * once through shomei-signer (SIGN_OCSP) and stored. A serial the CA never issued is answered
 * unknown, signed on demand and not stored. Malformed requests get malformedRequest, a database
 * or signer outage tryLater, both unsigned with HTTP 200, as OpenSSL's responder answers.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "core/log.h"
#include "core/util.h"
#include "domain/crlpub.h"
#include "domain/lifecycle.h"
#include "extern.h"
#include "pki/signer.h"
#include "pki/x509.h"

#define CT_RESPONSE "application/ocsp-response"

/* The tenants' active CAs, as OCSP names them (SHA-1 and SHA-256 CertIDs without serial). */
struct issuer {
	long long ca_id, tenant_id;
	X509 *cert;
	OCSP_CERTID *by[2]; /* SHA-1, SHA-256 */
};

static struct {
	pthread_mutex_t mu;
	struct issuer *v;
	size_t n;
	time_t loaded;
} g_issuers = {.mu = PTHREAD_MUTEX_INITIALIZER};

static void
issuers_free(struct issuer *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		X509_free(v[i].cert);
		OCSP_CERTID_free(v[i].by[0]);
		OCSP_CERTID_free(v[i].by[1]);
	}
	free(v);
}

/* Read every active tenant CA into a new table. */
static int
issuers_read(struct db *db, struct issuer **out, size_t *nout)
{
	PGresult *res = NULL;
	struct issuer *v = NULL;
	size_t n = 0;
	int rc;

	if ((rc = db_exec(db, &q_ocsp_cas, NULL, &res)) != 0) {
		rc = rc < 0 ? rc : -EIO;
		goto out;
	}
	if (PQntuples(res) > 0 && (v = calloc((size_t)PQntuples(res), sizeof(*v))) == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	for (int r = 0; r < PQntuples(res); r++) {
		struct issuer *e = &v[n];
		const char *pem = db_get(res, r, "cert_pem");

		if (pem == NULL || x509_cert_from_pem(pem, strlen(pem), &e->cert) != 0)
			continue; /* an unreadable CA answers nothing; the others still do */
		e->ca_id = db_get_ll(res, r, "id");
		e->tenant_id = db_get_ll(res, r, "tenant_id");
		e->by[0] = OCSP_cert_to_id(EVP_sha1(), NULL, e->cert);
		e->by[1] = OCSP_cert_to_id(EVP_sha256(), NULL, e->cert);
		n++;
		if (e->by[0] == NULL || e->by[1] == NULL) {
			rc = -ENOMEM;
			goto out;
		}
	}
	*out = v;
	*nout = n;
	v = NULL;
	n = 0;
	rc = 0;
out:
	issuers_free(v, n);
	PQclear(res);
	return rc;
}

/* Search the table (the caller holds the lock) for id's issuer; 1 found, 0 not. */
static int
issuers_search(const OCSP_CERTID *id, long long ca_id, struct ocsp_issuer *out)
{
	for (size_t i = 0; i < g_issuers.n; i++) {
		struct issuer *e = &g_issuers.v[i];

		if (id != NULL ? OCSP_id_issuer_cmp(e->by[0], id) != 0 &&
					 OCSP_id_issuer_cmp(e->by[1], id) != 0
			       : e->ca_id != ca_id)
			continue;
		X509_up_ref(e->cert);
		out->cert = e->cert;
		out->ca_id = e->ca_id;
		out->tenant_id = e->tenant_id;
		return 1;
	}
	return 0;
}

int
ocsp_issuer_find(struct db *db, const OCSP_CERTID *id, long long ca_id, struct ocsp_issuer *out)
{
	time_t now = time(NULL);
	struct issuer *v = NULL;
	size_t n = 0;
	int found, rc = 0;

	pthread_mutex_lock(&g_issuers.mu);
	found = now - g_issuers.loaded < OCSP_ISSUERS_TTL && issuers_search(id, ca_id, out);
	/* a miss reloads at most once a second: a new tenant answers at once, a flood of
	 * strangers costs one query a second */
	if (!found && now != g_issuers.loaded) {
		if ((rc = issuers_read(db, &v, &n)) == 0) {
			issuers_free(g_issuers.v, g_issuers.n);
			g_issuers.v = v;
			g_issuers.n = n;
			g_issuers.loaded = now;
			found = issuers_search(id, ca_id, out);
		}
	}
	pthread_mutex_unlock(&g_issuers.mu);
	if (rc != 0)
		return rc;
	return found ? 0 : DB_E_NOTFOUND;
}

int
ocsp_sign(struct signer_conn *sc, long long tenant_id, const OCSP_CERTID *id,
	  const struct ocsp_single *s, unsigned char **out, size_t *outlen)
{
	unsigned char *basic = NULL, *signed_basic = NULL;
	size_t len = 0, slen = 0;
	char reason[256] = "";
	int rc;

	if ((rc = ocsp_basic_build(id, s, &basic, &len)) != 0)
		goto out;
	rc = signer_call(sc, SIGNER_OP_SIGN_OCSP, (uint64_t)tenant_id, basic, len, &signed_basic,
			 &slen, reason, sizeof(reason));
	if (rc != 0) {
		log_msg(LOG_ERROR, "event=ocsp_sign_failed tenant=%lld rc=%d reason=\"%s\"",
			tenant_id, rc, reason);
		goto out;
	}
	rc = ocsp_response_wrap(signed_basic, slen, out, outlen);
out:
	free(basic);
	free(signed_basic);
	return rc;
}

int
ocsp_store(struct db *db, long long ca_id, const char *serial, int revoked,
	   const unsigned char *der, size_t len, time_t this_update, time_t next_update)
{
	char ca[24], tu[24], nu[24], *hex = malloc(len * 2 + 1);
	PGresult *res = NULL;
	int rc;

	if (hex == NULL)
		return -ENOMEM;
	util_hex(der, len, hex);
	snprintf(ca, sizeof(ca), "%lld", ca_id);
	snprintf(tu, sizeof(tu), "%lld", (long long)this_update);
	snprintf(nu, sizeof(nu), "%lld", (long long)next_update);
	const char *params[] = {ca, serial, revoked ? "true" : "false", hex, tu, nu};
	rc = db_exec(db, &q_ocsp_store, params, &res);
	PQclear(res);
	free(hex);
	return rc < 0 ? rc : rc > 0 ? -EIO : 0;
}

void
ocsp_single_for(enum ocsp_status st, time_t revoked_at, int reason, time_t now,
		struct ocsp_single *s)
{
	time_t life = revoke_cfg.ocsp_validity;

	/* an unknown serial may be issued in a moment: such an answer lives an hour at most */
	if (st == OCSP_ST_UNKNOWN && life > 3600)
		life = 3600;
	s->status = st;
	s->revoked_at = revoked_at;
	/* RFC 5280 5.3.1, as on the CRL: no reason rather than unspecified */
	s->reason = reason > 0 ? reason : -1;
	s->this_update = now - CRLPUB_BACKDATE;
	s->next_update = now + life;
}

/* The unsigned answer of an error status, HTTP 200 (RFC 6960 2.3), never cached. */
static int
send_error(struct http_req *req, int status)
{
	unsigned char buf[OCSP_ERROR_LEN];

	ocsp_response_error(status, buf);
	http_send(req, 200, CT_RESPONSE, (const char *)buf, sizeof(buf));
	return 0;
}

static void
http_date(time_t t, char *buf, size_t len)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

/* RFC 5019 6.2: a GET's answer may be cached until nextUpdate. */
static void
send_answer(struct http_req *req, const struct ocsp_answer *a, int get)
{
	char etag[40], hex[65], date[64], cc[96];
	time_t now = time(NULL);
	const char *inm;

	if (get) {
		long long age = a->next_update > now ? (long long)(a->next_update - now) : 0;

		util_sha256_hex(a->der, a->len, hex);
		snprintf(etag, sizeof(etag), "\"%.32s\"", hex);
		snprintf(cc, sizeof(cc), "max-age=%lld, public, no-transform, must-revalidate",
			 age);
		http_add_header(req, "Cache-Control", cc);
		http_add_header(req, "ETag", etag);
		http_date(a->produced, date, sizeof(date));
		http_add_header(req, "Last-Modified", date);
		http_date(a->next_update, date, sizeof(date));
		http_add_header(req, "Expires", date);
		inm = FCGX_GetParam("HTTP_IF_NONE_MATCH", req->envp);
		if (inm != NULL && strstr(inm, etag) != NULL) {
			http_send(req, 304, NULL, NULL, 0);
			return;
		}
	}
	http_send(req, 200, CT_RESPONSE, (const char *)a->der, a->len);
}

/* The certificate's status now, from the lookup's row. */
static enum ocsp_status
status_now(const PGresult *res)
{
	const char *st = db_get(res, 0, "status");

	if (st == NULL || db_get(res, 0, "serial_known") == NULL)
		return OCSP_ST_UNKNOWN;
	if (strcmp(st, LC_REVOKED) == 0)
		return OCSP_ST_REVOKED;
	if (strcmp(st, LC_ISSUED) == 0 || strcmp(st, LC_DOWNLOADED) == 0 ||
	    strcmp(st, LC_REVOKE_SCHEDULED) == 0)
		return OCSP_ST_GOOD;
	return OCSP_ST_UNKNOWN; /* issuing, failed: never handed out */
}

/* The stored response, when it says st, is SHA-1 (as asked) and still valid. */
static int
stored(const PGresult *res, enum ocsp_status st, const struct ocsp_query *q, struct ocsp_answer *a)
{
	const char *hex = db_get(res, 0, "der"), *rev = db_get(res, 0, "revoked");
	size_t n;

	if (hex == NULL || rev == NULL || st == OCSP_ST_UNKNOWN || q->hash_nid != NID_sha1 ||
	    (rev[0] == 't') != (st == OCSP_ST_REVOKED) ||
	    db_get_ll(res, 0, "next_update") <= (long long)time(NULL))
		return 0;
	n = strlen(hex) / 2;
	if ((a->der = malloc(n ? n : 1)) == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		a->der[i] =
			(unsigned char)(util_hexval(hex[2 * i]) << 4 | util_hexval(hex[2 * i + 1]));
	a->len = n;
	a->produced = (time_t)db_get_ll(res, 0, "signed_at");
	a->next_update = (time_t)db_get_ll(res, 0, "next_update");
	return 1;
}

/* Sign what the database says now; a good or revoked SHA-1 answer is stored for the next. */
static int
sign_now(struct svc_thread *t, const struct ocsp_issuer *is, const struct ocsp_query *q,
	 const PGresult *res, enum ocsp_status st, struct ocsp_answer *a)
{
	struct signer_conn sc;
	struct ocsp_single s;
	char sock[PATH_MAX];
	time_t now = time(NULL);
	int rc;

	if ((rc = cfg_socket_path(t->cfg, "signer", sock, sizeof(sock))) != 0)
		return rc;
	ocsp_single_for(st, (time_t)db_get_ll(res, 0, "revoked_at"),
			(int)db_get_ll(res, 0, "reason"), now, &s);
	signer_conn_init(&sc, sock);
	rc = ocsp_sign(&sc, is->tenant_id, q->id, &s, &a->der, &a->len);
	signer_conn_close(&sc);
	if (rc != 0)
		return rc;
	a->produced = now;
	a->next_update = s.next_update;
	if (st != OCSP_ST_UNKNOWN && q->hash_nid == NID_sha1 &&
	    ocsp_store(&t->db, is->ca_id, q->serial_hex, st == OCSP_ST_REVOKED, a->der, a->len,
		       s.this_update, s.next_update) != 0)
		log_msg(LOG_WARN, "event=ocsp_store_failed ca=%lld serial=%s", is->ca_id,
			q->serial_hex);
	return 0;
}

/* Answer one DER request. */
static int
respond(struct http_req *req, struct svc_thread *t, const unsigned char *der, size_t len, int get)
{
	struct ocsp_query q;
	struct ocsp_issuer is = {0};
	struct ocsp_answer a = {0};
	PGresult *res = NULL;
	enum ocsp_status st;
	uint64_t epoch;
	char ca[24];
	int rc;

	if (ocsp_query_parse(der, len, &q) != 0)
		return send_error(req, OCSP_RESPONSE_STATUS_MALFORMEDREQUEST);
	if ((rc = ocsp_issuer_find(&t->db, q.id, 0, &is)) != 0) {
		send_error(req, rc == DB_E_NOTFOUND ? OCSP_RESPONSE_STATUS_UNAUTHORIZED
						    : OCSP_RESPONSE_STATUS_TRYLATER);
		goto out;
	}
	/* a kept answer: no revocation since it was read (the epoch is read before the lookup) */
	epoch = q.hash_nid == NID_sha1 ? ocsp_cache_epoch() : 0;
	if (epoch != 0 && ocsp_cache_get(is.ca_id, q.serial_hex, &a) == 1) {
		send_answer(req, &a, get);
		goto out;
	}
	snprintf(ca, sizeof(ca), "%lld", is.ca_id);
	const char *params[] = {ca, q.serial_hex};
	if ((rc = db_exec(&t->db, &q_ocsp_lookup, params, &res)) != 0 || PQntuples(res) != 1) {
		send_error(req, OCSP_RESPONSE_STATUS_TRYLATER);
		goto out;
	}
	st = status_now(res);
	if ((rc = stored(res, st, &q, &a)) < 0 ||
	    (rc == 0 && sign_now(t, &is, &q, res, st, &a) != 0)) {
		send_error(req, OCSP_RESPONSE_STATUS_TRYLATER);
		goto out;
	}
	if (rc == 1 && epoch != 0)
		ocsp_cache_put(is.ca_id, q.serial_hex, epoch, &a);
	send_answer(req, &a, get);
out:
	free(a.der);
	PQclear(res);
	X509_free(is.cert);
	ocsp_query_done(&q);
	return 0;
}

int
ocsp_post(struct http_req *req, struct svc_thread *t)
{
	if (req->body_len == 0 || req->body_len > OCSP_REQ_MAX)
		return send_error(req, OCSP_RESPONSE_STATUS_MALFORMEDREQUEST);
	return respond(req, t, (const unsigned char *)req->body, req->body_len, 0);
}

/*
 * Standard base64 (RFC 5019 A.1: the DER, base64, then URL-encoded) into out; padding may be
 * left off. The length, or -1.
 */
static int
unbase64(const char *in, unsigned char *out, size_t outlen)
{
	char buf[OCSP_REQ_MAX * 4 / 3 + 8];
	size_t n = strlen(in), pad = 0;
	int len;

	if (n == 0 || n + 3 >= sizeof(buf) || (n + 3) / 4 * 3 > outlen)
		return -1;
	memcpy(buf, in, n);
	while (n % 4 != 0)
		buf[n++] = '=';
	buf[n] = '\0';
	for (size_t i = n; i > 0 && buf[i - 1] == '='; i--)
		pad++;
	if (pad > 2 ||
	    strspn(buf, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") != n ||
	    (len = EVP_DecodeBlock(out, (const unsigned char *)buf, (int)n)) < 0)
		return -1;
	return len - (int)pad;
}

int
ocsp_get(struct http_req *req, struct svc_thread *t)
{
	const char *uri = FCGX_GetParam("REQUEST_URI", req->envp);
	unsigned char der[OCSP_REQ_MAX];
	char enc[OCSP_REQ_MAX * 2];
	size_t n;
	int len;

	/* the raw URI: nginx's decoded path has "//" merged and %2F turned into a segment */
	if (uri == NULL || strncmp(uri, "/ocsp/", 6) != 0)
		return send_error(req, OCSP_RESPONSE_STATUS_MALFORMEDREQUEST);
	uri += 6;
	n = strcspn(uri, "?#");
	if (n == 0 || n >= sizeof(enc))
		return send_error(req, OCSP_RESPONSE_STATUS_MALFORMEDREQUEST);
	memcpy(enc, uri, n);
	enc[n] = '\0';
	if (util_urldecode(enc, 0) != 0 || (len = unbase64(enc, der, sizeof(der))) <= 0)
		return send_error(req, OCSP_RESPONSE_STATUS_MALFORMEDREQUEST);
	return respond(req, t, der, (size_t)len, 1);
}
