/* dlsite.c: the end-user download site (NRA 4-3): the allow-list gate, login, logout, the list. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "domain/audit.h"
#include "extern.h"
#include "web/i18n.h"
#include "core/json.h"
#include "web/lockout.h"
#include "core/err.h"
#include "core/log.h"
#include "pki/datakey.h"
#include "web/netacl.h"
#include "web/valid.h"
#include "domain/lifecycle.h"
#include "core/strbuf.h"

static const struct valid_field login_fields[] = {
	{"login_id", valid_text, 1, &msg_invalid_credentials, 128},
	{"password", valid_text, 1, &msg_invalid_credentials, 64},
};

int
dlsite_audit(struct http_req *req, struct svc_thread *t, long long tenant_id,
	     enum audit_action action, const char *code, const char *p0, const char *p1)
{
	struct audit_entry e = {tenant_id, req->remote_addr, "user", 0, action, NULL};
	struct audit_more m = {NULL, code, {p0, p1}, 2};

	return audit_write_ex(&t->db, &e, &m);
}

/*
 * A refusal anyone can cause as often as they like, summarised: one entry per tenant,
 * address, kind and minute, counting the refusals (audit_write_summed).
 */
void
dlsite_refused(struct http_req *req, struct svc_thread *t, long long tenant_id, const char *kind,
	       const struct audit_more *m)
{
	struct audit_entry e = {tenant_id, req->remote_addr,       "user",
				0,         AUDIT_DOWNLOAD_REFUSED, NULL};
	int rc;

	if ((rc = audit_write_summed_ex(&t->db, &t->kv, &e, m, kind, (long long)time(NULL))) != 0)
		log_msg(LOG_WARN, "event=audit_failed tenant=%lld kind=%s rc=%s", tenant_id, kind,
			err_name(rc));
}

/*
 * Find the tenant of the URL and check the client address against its
 * allow-list, before anything else. Answers 404 (no such tenant, or no
 * download site) or 403 (address outside the list; written to the history)
 * itself and returns 1 then. 0 when the request may go on, or -errno.
 */
int
dlsite_open(struct http_req *req, struct svc_thread *t, struct dlsite *site)
{
	PGresult *res = NULL;
	const char *params[] = {req->args[0]};
	int rc;

	if ((rc = db_exec(&t->db, &q_dl_tenant, params, &res)) != 0)
		return rc < 0 ? rc : -EIO;
	if (PQntuples(res) != 1 || strcmp(db_get(res, 0, "site"), "t") != 0) {
		PQclear(res);
		svc_fail(req, 404, "not_found", &msg_not_found);
		return 1;
	}
	memset(site, 0, sizeof(*site));
	site->tenant_id = db_get_ll(res, 0, "id");
	snprintf(site->slug, sizeof(site->slug), "%s", db_get(res, 0, "slug"));
	snprintf(site->name_en, sizeof(site->name_en), "%s", db_get(res, 0, "name_en"));
	site->embed_password = strcmp(db_get(res, 0, "mobileconfig_embed_password"), "t") == 0;
	rc = netacl_json_allows(db_get(res, 0, "allowlist"), req->remote_addr);
	PQclear(res);
	if (rc)
		return 0;
	log_msg(LOG_WARN, "event=dl_ip_refused tenant=%lld ip=%s", site->tenant_id,
		req->remote_addr);
	/* the address, not the path: a client chooses the path, and the entry sums a minute */
	struct audit_more m = {
		NULL, "dl_refused_ip", {req->remote_addr ? req->remote_addr : ""}, 1};
	dlsite_refused(req, t, site->tenant_id, "ip", &m);
	svc_fail(req, 403, "ip_refused", &msg_ip_refused);
	return 1;
}

/* The cookie's session for this tenant; answers 401 itself and returns 1 when there is none. */
int
dlsite_session(struct http_req *req, struct svc_thread *t, const struct dlsite *site,
	       struct dlsess *s)
{
	int rc = dlsess_get(req, t, s);

	if (rc < 0)
		return rc;
	if (rc != 0 || s->tenant_id != site->tenant_id) {
		svc_fail(req, 401, "unauthorized", &msg_unauthorized);
		return 1;
	}
	return 0;
}

/*
 * A browser names the page that sent a request in Origin and Sec-Fetch-Site;
 * when it does, it must be this site (public_url), as for the administrators'
 * login, so another site's page cannot make browsers inside the allowed
 * network guess passwords.
 */
static int
same_site(const struct http_req *req, const char *pub)
{
	const char *p = strstr(pub, "://"), *slash = p ? strchr(p + 3, '/') : NULL;
	size_t n = slash ? (size_t)(slash - pub) : strlen(pub);

	if (req->sec_fetch_site != NULL && strcmp(req->sec_fetch_site, "same-origin") != 0 &&
	    strcmp(req->sec_fetch_site, "none") != 0)
		return 0;
	return req->origin == NULL ||
	       (strlen(req->origin) == n && strncmp(req->origin, pub, n) == 0);
}

/*
 * The tenant's counters (shomei:fail:dl:<tenant id>:*): the ID and the address
 * count per tenant, the same e-mail may be a user of two tenants. scope is the
 * caller's buffer the lockout points into.
 */
static struct lockout
site_lockout(struct svc_thread *t, long long tenant_id, char *scope, size_t len)
{
	struct lockout l = {&t->kv, scope, t->cfg->login_fail_limit_id, t->cfg->login_fail_limit_ip,
			    t->cfg->login_fail_window};

	snprintf(scope, len, "fail:dl:%lld", tenant_id);
	return l;
}

/* The ID as the e-mail query compares it: ASCII lower-cased (e-mails are ASCII). */
static void
lock_id_of(const char *login_id, char *buf, size_t len)
{
	size_t i;

	for (i = 0; login_id[i] != '\0' && i + 1 < len; i++)
		buf[i] = login_id[i] >= 'A' && login_id[i] <= 'Z' ? (char)(login_id[i] + 32)
								  : login_id[i];
	buf[i] = '\0';
}

/* The items of the list and of the login answer. */
static cJSON *
cert_list(const PGresult *res)
{
	cJSON *items = cJSON_CreateArray();

	for (int i = 0; i < PQntuples(res); i++) {
		cJSON *it = cJSON_CreateObject();
		const char *dev = db_get(res, i, "device_code"),
			   *mode = db_get(res, i, "restriction_mode");
		cJSON_AddNumberToObject(it, "id", (double)db_get_ll(res, i, "id"));
		cJSON_AddStringToObject(it, "cn", db_get(res, i, "cn"));
		cJSON_AddStringToObject(it, "email", db_get(res, i, "email"));
		cJSON_AddStringToObject(it, "device", dev);
		cJSON_AddStringToObject(it, "status", db_get(res, i, "status"));
		cJSON_AddStringToObject(it, "expires_at", db_get(res, i, "expires_at"));
		cJSON_AddBoolToObject(it, "restricted", strcmp(mode, "none") != 0);
		cJSON_AddBoolToObject(it, "downloadable",
				      lifecycle_has(db_get(res, i, "status"), LC_F_VALID));
		cJSON_AddStringToObject(
			it, "default_format",
			strcmp(dev, "11") == 0 || strcmp(dev, "12") == 0 ? "mobileconfig" : "p12");
		cJSON_AddItemToArray(items, it);
	}
	return items;
}

/* Answer {csrf_token?, tenant, items} for the session's certificates. */
static int
send_list(struct http_req *req, struct svc_thread *t, const struct dlsite *site,
	  const struct dlsess *s, int with_csrf)
{
	char tid[24], ids[DLSESS_MAX_CERTS * 20 + 3];
	struct strbuf b;
	PGresult *res = NULL;
	cJSON *doc;
	int rc;

	snprintf(tid, sizeof(tid), "%lld", site->tenant_id);
	strbuf_init(&b, ids, sizeof(ids));
	strbuf_add(&b, "{");
	for (int i = 0; i < s->n; i++)
		strbuf_printf(&b, "%s%lld", i ? "," : "", s->ids[i]);
	if (strbuf_add(&b, "}") != 0 || strbuf_error(&b) != 0)
		return -ENOSPC;
	const char *params[] = {tid, ids};
	if ((rc = db_exec(&t->db, &q_dl_granted, params, &res)) != 0)
		return rc < 0 ? rc : -EIO;
	doc = cJSON_CreateObject();
	if (with_csrf)
		cJSON_AddStringToObject(doc, "csrf_token", s->csrf);
	cJSON_AddStringToObject(doc, "tenant", site->slug);
	cJSON_AddItemToObject(doc, "items", cert_list(res));
	http_json(req, 200, doc);
	cJSON_Delete(doc);
	PQclear(res);
	return 0;
}

/*
 * The certificates whose e-mail is the ID and whose password (decrypted with
 * the master key) equals the one typed, compared in constant time with each.
 */
static int
match(struct svc_thread *t, long long tenant_id, const char *login_id, const char *pw,
      struct dlsess *grant)
{
	const unsigned char *key = datakey_get(t->cfg);
	char tid[24];
	PGresult *res = NULL;
	int rc;

	if (key == NULL) {
		log_msg(LOG_ERROR, "event=data_key_unreadable");
		return -EIO;
	}
	snprintf(tid, sizeof(tid), "%lld", tenant_id);
	const char *params[] = {tid, login_id};
	if ((rc = db_exec(&t->db, &q_dl_by_email, params, &res)) != 0)
		return rc < 0 ? rc : -EIO;
	grant->n = 0;
	for (int i = 0; i < PQntuples(res) && grant->n < DLSESS_MAX_CERTS; i++) {
		struct dist_cert c;
		if (dist_cert_from_row(res, i, key, &c) != 0)
			continue;
		if (util_streq_ct(c.password, pw))
			grant->ids[grant->n++] = c.id;
		dist_cert_done(&c);
	}
	PQclear(res);
	return 0;
}

/* 429 with Retry-After, in the history. */
static int
locked(struct http_req *req, struct svc_thread *t, const struct dlsite *site,
       const struct lockout *l, const char *lock_id, const char *login_id)
{
	char retry[16], id[AUDIT_TEXT_SIZE(AUDIT_TEXT_MAX)];

	snprintf(retry, sizeof(retry), "%d", lockout_retry_after(l, lock_id, req->remote_addr));
	http_add_header(req, "Retry-After", retry);
	/* one entry a minute for the address, naming the first ID it tried in that minute */
	audit_text(id, sizeof(id), login_id, AUDIT_TEXT_MAX);
	struct audit_more m = {id, "dl_refused_locked", {id}, 1};
	dlsite_refused(req, t, site->tenant_id, "locked", &m);
	log_msg(LOG_WARN, "event=dl_login_locked tenant=%lld ip=%s", site->tenant_id,
		req->remote_addr);
	svc_fail(req, 429, "locked_out", &msg_locked_out);
	return 0;
}

/* One entry of the site's, its detail a code of audit.c's table; id the login ID tried. */
static int
coded(struct http_req *req, struct svc_thread *t, const struct dlsite *site,
      enum audit_action action, const struct audit_more *m)
{
	struct audit_entry e = {site->tenant_id, req->remote_addr, "user", 0, action, NULL};

	return audit_write_ex(&t->db, &e, m);
}

/*
 * A wrong password (the attempt is already counted by lockout_take_ex, which said reached):
 * the failure, and the lockout it caused, if it did.
 */
static int
failed(struct http_req *req, struct svc_thread *t, const struct dlsite *site,
       const struct lockout *l, const char *lock_id, const char *login_id, int reached)
{
	char id[AUDIT_TEXT_SIZE(AUDIT_TEXT_MAX)], n[16], secs[16];
	struct audit_more m = {NULL, "dl_login_failed", {NULL}, 1};

	audit_text(id, sizeof(id), login_id, AUDIT_TEXT_MAX);
	m.login_id = m.params[0] = id;
	coded(req, t, site, AUDIT_LOGIN, &m);
	snprintf(secs, sizeof(secs), "%d", lockout_retry_after(l, lock_id, req->remote_addr));
	for (int k = 0; k < 2; k++) {
		if (!(reached & (k == 0 ? LOCKOUT_REACHED_ID : LOCKOUT_REACHED_IP)))
			continue;
		snprintf(n, sizeof(n), "%d", k == 0 ? l->limit_id : l->limit_ip);
		struct audit_more lm = {
			id, k == 0 ? "dl_lockout_id" : "dl_lockout_ip", {id, n, secs}, 3};
		coded(req, t, site, AUDIT_LOCKOUT, &lm);
	}
	log_msg(LOG_WARN, "event=dl_login_failed tenant=%lld ip=%s", site->tenant_id,
		req->remote_addr);
	svc_fail(req, 401, "invalid_credentials", &msg_invalid_credentials);
	return 0;
}

/* A session for the granted certificates: cookie, history, the list. */
static int
start(struct http_req *req, struct svc_thread *t, const struct dlsite *site,
      const struct dlsess *grant, const char *login_id)
{
	char id[AUDIT_TEXT_SIZE(AUDIT_TEXT_MAX)];
	struct dlsess s;
	int rc;

	if ((rc = dlsess_create(t, grant, &s)) != 0)
		return rc;
	audit_text(id, sizeof(id), login_id, AUDIT_TEXT_MAX);
	struct audit_more m = {id, "dl_login_ok", {id}, 1};
	if ((rc = coded(req, t, site, AUDIT_LOGIN, &m)) != 0) {
		dlsess_end(req, t, &s);
		return rc;
	}
	dlsess_cookie(req, t, &s);
	log_msg(LOG_INFO, "event=dl_login tenant=%lld certificates=%d", site->tenant_id, s.n);
	return send_list(req, t, site, &s, 1);
}

static void
wipe_password(cJSON *body)
{
	cJSON *p = cJSON_GetObjectItemCaseSensitive(body, "password");

	if (cJSON_IsString(p))
		OPENSSL_cleanse(p->valuestring, strlen(p->valuestring));
}

/* Validate the body; answers 400/422 itself (returns 1 then). */
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

int
dl_site_login(struct http_req *req, struct svc_thread *t)
{
	struct lockout l;
	struct dlsite site;
	struct dlsess grant;
	cJSON *body = NULL;
	char lock_id[200], scope[48];
	const char *login_id, *pw;
	int rc, lock, reached = 0;

	if ((rc = dlsite_open(req, t, &site)) != 0)
		return rc > 0 ? 0 : rc;
	if (!same_site(req, t->cfg->public_url)) {
		svc_fail(req, 403, "cross_site", &msg_origin);
		return 0;
	}
	if (login_body(req, &body)) {
		rc = 0;
		goto out;
	}
	login_id = json_str(body, "login_id");
	pw = json_str(body, "password");
	l = site_lockout(t, site.tenant_id, scope, sizeof(scope));
	lock_id_of(login_id, lock_id, sizeof(lock_id));
	if ((lock = lockout_take_ex(&l, lock_id, req->remote_addr, &reached)) != 0) {
		rc = lock < 0 ? lock : locked(req, t, &site, &l, lock_id, login_id);
		goto out;
	}
	memset(&grant, 0, sizeof(grant));
	grant.tenant_id = site.tenant_id;
	if ((rc = match(t, site.tenant_id, lock_id, pw, &grant)) != 0) {
		lockout_refund(&l, lock_id, req->remote_addr);
		goto out;
	}
	if (grant.n == 0) {
		rc = failed(req, t, &site, &l, lock_id, login_id, reached);
		goto out;
	}
	lockout_clear(&l, lock_id, req->remote_addr);
	rc = start(req, t, &site, &grant, login_id);
out:
	if (body != NULL)
		wipe_password(body);
	cJSON_Delete(body);
	return rc;
}

int
dl_site_logout(struct http_req *req, struct svc_thread *t)
{
	cJSON *doc;

	dlsess_end(req, t, NULL);
	doc = cJSON_CreateObject();
	http_json(req, 200, doc);
	cJSON_Delete(doc);
	return 0;
}

int
dl_site_certificates(struct http_req *req, struct svc_thread *t)
{
	struct dlsite site;
	struct dlsess s;
	int rc;

	if ((rc = dlsite_open(req, t, &site)) != 0 || (rc = dlsite_session(req, t, &site, &s)) != 0)
		return rc > 0 ? 0 : rc;
	return send_list(req, t, &site, &s, 1);
}
