/* login.c: ID/password and certificate login, logout, and who is logged in. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "domain/audit.h"
#include "extern.h"
#include "web/i18n.h"
#include "core/json.h"
#include "web/lockout.h"
#include "core/log.h"
#include "core/memo.h"
#include "web/pwhash.h"
#include "web/session.h"
#include "core/util.h"
#include "web/valid.h"

static const struct valid_field login_fields[] = {
	{"login_id", valid_login_id, 1, &msg_login_id_format, 64},
	{"password", valid_text, 1, &msg_password_rule, 128},
};

/* {csrf_token, admin:{id, login_id, name}, tenant:{slug, name, name_en, domain}} */
static cJSON *
admin_doc(const PGresult *res, const char *csrf)
{
	cJSON *doc = cJSON_CreateObject();
	cJSON *admin = cJSON_AddObjectToObject(doc, "admin");
	cJSON *tenant = cJSON_AddObjectToObject(doc, "tenant");

	if (csrf != NULL)
		cJSON_AddStringToObject(doc, "csrf_token", csrf);
	cJSON_AddNumberToObject(admin, "id", (double)db_get_ll(res, 0, "id"));
	cJSON_AddStringToObject(admin, "login_id", db_get(res, 0, "login_id"));
	cJSON_AddStringToObject(admin, "name", db_get(res, 0, "name"));
	cJSON_AddStringToObject(tenant, "slug", db_get(res, 0, "slug"));
	cJSON_AddStringToObject(tenant, "name", db_get(res, 0, "tenant_name"));
	cJSON_AddStringToObject(tenant, "name_en", db_get(res, 0, "tenant_name_en"));
	cJSON_AddStringToObject(tenant, "domain", db_get(res, 0, "domain"));
	return doc;
}

struct lockout
auth_lockout(struct svc_thread *t)
{
	struct lockout l = {&t->kv, "fail", t->cfg->login_fail_limit_id,
			    t->cfg->login_fail_limit_ip, t->cfg->login_fail_window};

	return l;
}

/* An entry of the administrator's, its detail the code of audit.c's table. */
static int
audit_admin(struct http_req *req, struct svc_thread *t, long long tenant, long long admin,
	    enum audit_action action, const char *code)
{
	struct audit_entry e = {tenant, req->remote_addr, "admin", admin, action, NULL};
	struct audit_more m = {NULL, code, {NULL}, 0};

	return audit_write_ex(&t->db, &e, &m);
}

/*
 * The failure that locked the tried administrator's ID or this address out (reached:
 * lockout_take_ex's), one entry each in the administrator's tenant, naming the ID tried. An ID
 * no administrator has belongs to no tenant: a log line says it.
 */
static void
audit_lockout(struct http_req *req, struct svc_thread *t, const PGresult *res,
	      const struct lockout *l, const char *login_id, int reached)
{
	char n[16], secs[16];

	log_msg(LOG_WARN, "event=login_lockout ip=%s id_locked=%d ip_locked=%d known=%d",
		req->remote_addr, !!(reached & LOCKOUT_REACHED_ID),
		!!(reached & LOCKOUT_REACHED_IP), res != NULL && PQntuples(res) == 1);
	if (res == NULL || PQntuples(res) != 1)
		return;
	snprintf(secs, sizeof(secs), "%d", lockout_retry_after(l, login_id, req->remote_addr));
	for (int k = 0; k < 2; k++) {
		int bit = k == 0 ? LOCKOUT_REACHED_ID : LOCKOUT_REACHED_IP;
		if (!(reached & bit))
			continue;
		snprintf(n, sizeof(n), "%d", k == 0 ? l->limit_id : l->limit_ip);
		struct audit_entry e = {db_get_ll(res, 0, "tenant_id"), req->remote_addr, "admin",
					db_get_ll(res, 0, "id"),        AUDIT_LOCKOUT,    NULL};
		struct audit_more m = {
			login_id, k == 0 ? "lockout_id" : "lockout_ip", {n, secs}, 2};
		audit_write_ex(&t->db, &e, &m);
	}
}

/*
 * After the session is in the admin's index (and the certificate's): is the admin still
 * enabled, and (password login) the hash the one just verified, or (certificate login, fp its
 * fingerprint) the certificate still unrevoked? A disable, a password change or a revocation
 * that committed while the login was being checked ended the sessions it found; this one it
 * may not have found. 0 yes, 1 no, or -errno.
 */
static int
still_valid(struct svc_thread *t, long long admin, long long tenant, const char *verified,
	    const char *fp)
{
	char a[24], tn[24];
	PGresult *res = NULL;
	int rc;

	snprintf(a, sizeof(a), "%lld", admin);
	snprintf(tn, sizeof(tn), "%lld", tenant);
	const char *params[] = {a, tn};
	const char *by_cert[] = {fp};
	if ((rc = db_exec(&t->db, fp != NULL ? &q_admin_by_cert : &q_admin_by_id,
			  fp != NULL ? by_cert : params, &res)) != 0)
		return rc < 0 ? rc : -EIO;
	rc = PQntuples(res) != 1 || db_get_ll(res, 0, "id") != admin ||
	     (verified != NULL && strcmp(db_get(res, 0, "password_hash"), verified) != 0);
	PQclear(res);
	return rc;
}

/*
 * Open a session for the admin in res (one row), answer 200 with cookie and body; verified is
 * the password hash checked, or (NULL) fp the fingerprint of the certificate logged in with.
 */
static int
start_session(struct http_req *req, struct svc_thread *t, const PGresult *res, const char *detail,
	      const char *verified, const char *fp)
{
	long long admin = db_get_ll(res, 0, "id"), tenant = db_get_ll(res, 0, "tenant_id");
	long long cert = fp != NULL ? db_get_ll(res, 0, "cert_id") : 0;
	struct admin_sess s;
	cJSON *doc;
	int rc;

	if ((rc = admin_sess_create(t, admin, tenant, cert, &s)) != 0)
		return rc;
	if ((rc = still_valid(t, admin, tenant, verified, fp)) != 0) {
		admin_sess_destroy(t, &s);
		admin_sess_done(&s);
		if (rc < 0)
			return rc;
		svc_fail(req, 401, "invalid_credentials", &msg_invalid_credentials);
		return 0;
	}
	if ((rc = audit_admin(req, t, tenant, admin, AUDIT_LOGIN, detail)) != 0) {
		admin_sess_destroy(t, &s);
		admin_sess_done(&s);
		return rc;
	}
	admin_sess_cookie(req, t, &s);
	admin_sess_done(&s);
	doc = admin_doc(res, s.s.csrf);
	http_json(req, 200, doc);
	cJSON_Delete(doc);
	log_msg(LOG_INFO, "event=login admin=%lld tenant=%lld how=%s", admin, tenant,
		strcmp(detail, "login_ok") == 0 ? "password" : "certificate");
	return 0;
}

/* Parse and validate the login body; answers 400/422 itself and returns 1 then. */
static int
login_body(struct http_req *req, cJSON **body)
{
	cJSON *errs;

	if (json_parse_object(req->body, req->body_len, body) != 0) {
		svc_fail(req, 400, "bad_json", &msg_bad_json);
		return 1;
	}
	errs = cJSON_CreateArray();
	if (valid_json(*body, login_fields, 2, errs, req->lang) > 0) {
		svc_invalid(req, errs);
		return 1;
	}
	cJSON_Delete(errs);
	return 0;
}

/* A wrong password (the attempt is already counted by lockout_take_ex, which said reached). */
static int
login_failed(struct http_req *req, struct svc_thread *t, const PGresult *res,
	     const struct lockout *l, const char *login_id, int reached)
{
	if (res != NULL && PQntuples(res) == 1)
		audit_admin(req, t, db_get_ll(res, 0, "tenant_id"), db_get_ll(res, 0, "id"),
			    AUDIT_LOGIN, "login_failed");
	if (reached)
		audit_lockout(req, t, res, l, login_id, reached);
	log_msg(LOG_WARN, "event=login_failed ip=%s", req->remote_addr);
	svc_fail(req, 401, "invalid_credentials", &msg_invalid_credentials);
	return 0;
}

void
auth_busy(struct http_req *req, const char *event)
{
	http_add_header(req, "Retry-After", "1");
	log_msg(LOG_WARN, "event=%s ip=%s", event, req->remote_addr);
	svc_fail(req, 503, "busy", &msg_busy);
}

/*
 * A slot for the password check is taken before the lockout counts anything: a login that
 * finds every slot taken is answered 503 at once and counts as no attempt (DECISIONS.md).
 */
int
auth_login(struct http_req *req, struct svc_thread *t)
{
	cJSON *body = NULL;
	PGresult *res = NULL;
	const char *login_id, *pw, *hash;
	struct lockout l = auth_lockout(t);
	int rc = 0, lock, slot = 0, reached = 0;

	if (!auth_same_site(req, t)) {
		log_msg(LOG_WARN, "event=cross_site_refused ip=%s", req->remote_addr);
		svc_fail(req, 403, "cross_site", &msg_origin);
		goto out;
	}
	if (login_body(req, &body))
		goto out;
	login_id = json_str(body, "login_id");
	pw = json_str(body, "password");
	if (pwhash_slot_take() != 0) {
		auth_busy(req, "login_busy");
		goto out;
	}
	slot = 1;
	if ((lock = lockout_take_ex(&l, login_id, req->remote_addr, &reached)) != 0) {
		if (lock < 0) {
			rc = lock;
			goto out;
		}
		char retry[16];
		snprintf(retry, sizeof(retry), "%d",
			 lockout_retry_after(&l, login_id, req->remote_addr));
		http_add_header(req, "Retry-After", retry);
		log_msg(LOG_WARN, "event=login_locked ip=%s", req->remote_addr);
		svc_fail(req, 429, "locked_out", &msg_locked_out);
		goto out;
	}
	const char *params[] = {login_id};
	if ((rc = db_exec(&t->db, &q_admin_by_login, params, &res)) != 0) {
		lockout_refund(&l, login_id, req->remote_addr);
		goto out;
	}
	hash = PQntuples(res) == 1 ? db_get(res, 0, "password_hash") : NULL;
	/* Unknown IDs spend the same time as known ones. */
	lock = pwhash_verify(hash ? hash : pwhash_dummy(), pw);
	pwhash_slot_give();
	slot = 0;
	if (lock != 0 || hash == NULL) {
		rc = login_failed(req, t, res, &l, login_id, reached);
		goto out;
	}
	lockout_clear(&l, login_id, req->remote_addr);
	rc = start_session(req, t, res, "login_ok", hash, NULL);
out:
	if (slot)
		pwhash_slot_give();
	if (body != NULL) {
		cJSON *p = cJSON_GetObjectItemCaseSensitive(body, "password");
		if (cJSON_IsString(p))
			OPENSSL_cleanse(p->valuestring, strlen(p->valuestring));
	}
	cJSON_Delete(body);
	PQclear(res);
	return rc;
}

/* SHA-256 of the DER of the PEM certificate nginx escaped; 0 or -EINVAL. */
static int
cert_fingerprint(const char *escaped, char out[65])
{
	unsigned char *der = NULL;
	char pem[8192];
	X509 *x = NULL;
	BIO *bio = NULL;
	int len, rc = -EINVAL;

	if (escaped == NULL || strlen(escaped) >= sizeof(pem))
		return -EINVAL;
	snprintf(pem, sizeof(pem), "%s", escaped);
	if (util_urldecode(pem, 0) != 0)
		goto out;
	if ((bio = BIO_new_mem_buf(pem, -1)) == NULL ||
	    (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) == NULL)
		goto out;
	if ((len = i2d_X509(x, &der)) <= 0)
		goto out;
	util_sha256_hex(der, (size_t)len, out);
	rc = 0;
out:
	OPENSSL_free(der);
	X509_free(x);
	BIO_free(bio);
	return rc;
}

int
auth_login_certificate(struct http_req *req, struct svc_thread *t)
{
	PGresult *res = NULL;
	char fp[65];
	int rc = 0;

	if (!auth_same_site(req, t)) {
		log_msg(LOG_WARN, "event=cross_site_refused ip=%s", req->remote_addr);
		svc_fail(req, 403, "cross_site", &msg_origin);
		goto out;
	}
	if (req->client_verify == NULL || strcmp(req->client_verify, "SUCCESS") != 0 ||
	    cert_fingerprint(req->client_cert, fp) != 0) {
		log_msg(LOG_WARN, "event=cert_login_refused ip=%s verify=%s", req->remote_addr,
			req->client_verify ? req->client_verify : "NONE");
		svc_fail(req, 401, "no_certificate", &msg_no_certificate);
		goto out;
	}
	const char *params[] = {fp};
	if ((rc = db_exec(&t->db, &q_admin_by_cert, params, &res)) != 0)
		goto out;
	if (PQntuples(res) != 1) {
		log_msg(LOG_WARN, "event=cert_login_unknown ip=%s", req->remote_addr);
		svc_fail(req, 401, "no_certificate", &msg_no_certificate);
		goto out;
	}
	rc = start_session(req, t, res, "login_cert_ok", NULL, fp);
out:
	PQclear(res);
	return rc;
}

int
auth_logout(struct http_req *req, struct svc_thread *t)
{
	struct admin_sess s;
	cJSON *doc;

	if (admin_sess_get(req, t, &s) == 0) {
		admin_sess_destroy(t, &s);
		audit_admin(req, t, s.tenant_id, s.admin_id, AUDIT_LOGOUT, "logout");
	}
	admin_sess_done(&s);
	admin_sess_cookie(req, t, NULL);
	doc = cJSON_CreateObject();
	http_json(req, 200, doc);
	cJSON_Delete(doc);
	return 0;
}

/*
 * Who is logged in, for the portal's frame: the administrator's and tenant's names are kept
 * for 10 s per administrator (a rename shows after at most that long); the session itself is
 * read from Redis on every request. One Redis round trip per `me` when cached.
 */
static struct memo me_names = MEMO_INIT(10);

int
auth_me(struct http_req *req, struct svc_thread *t)
{
	char admin[24], tenant[24], *cached;
	PGresult *res = NULL;
	struct admin_sess s;
	cJSON *doc = NULL;
	int rc;

	rc = admin_sess_get(req, t, &s);
	admin_sess_done(&s);
	if (rc != 0) {
		svc_fail(req, 401, "unauthorized", &msg_unauthorized);
		return rc < 0 ? rc : 0;
	}
	snprintf(admin, sizeof(admin), "%lld", s.admin_id);
	snprintf(tenant, sizeof(tenant), "%lld", s.tenant_id);
	if ((cached = memo_get(&me_names, admin, s.tenant_id)) != NULL) {
		doc = cJSON_Parse(cached);
		free(cached);
	}
	if (doc == NULL) {
		const char *params[] = {admin, tenant};
		if ((rc = db_exec(&t->db, &q_admin_by_id, params, &res)) != 0)
			return rc;
		if (PQntuples(res) != 1) {
			PQclear(res);
			svc_fail(req, 401, "unauthorized", &msg_unauthorized);
			return 0;
		}
		doc = admin_doc(res, NULL);
		PQclear(res);
		if ((cached = cJSON_PrintUnformatted(doc)) != NULL)
			memo_put(&me_names, admin, s.tenant_id, cached);
		free(cached);
	}
	cJSON_AddStringToObject(doc, "csrf_token", s.s.csrf);
	http_json(req, 200, doc);
	cJSON_Delete(doc);
	return 0;
}
