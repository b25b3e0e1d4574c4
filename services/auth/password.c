/* password.c: パスワード変更, with the desknet rule (8–16 half-width alphanumerics). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "domain/audit.h"
#include "extern.h"
#include "web/i18n.h"
#include "core/json.h"
#include "core/log.h"
#include "web/pwhash.h"
#include "web/valid.h"

static const struct valid_field fields[] = {
	{"current_password", valid_text, 1, &msg_password_current, 128},
	{"new_password", valid_password, 1, &msg_password_rule, 128},
	{"new_password_confirm", valid_text, 1, &msg_password_confirm, 128},
};

/* Field-level checks; returns the error array (empty when all is well). */
static cJSON *
check(struct http_req *req, const cJSON *body)
{
	cJSON *errs = cJSON_CreateArray();
	const char *np, *nc, *cur;

	if (valid_json(body, fields, 3, errs, req->lang) > 0)
		return errs;
	cur = json_str(body, "current_password");
	np = json_str(body, "new_password");
	nc = json_str(body, "new_password_confirm");
	if (strcmp(np, nc) != 0)
		json_field_error(errs, "new_password_confirm",
				 i18n_msg(&msg_password_confirm, req->lang));
	else if (strcmp(np, cur) == 0)
		json_field_error(errs, "new_password", i18n_msg(&msg_password_same, req->lang));
	return errs;
}

/* Store the new hash and its history entry in one transaction. */
static int
store(struct http_req *req, struct svc_thread *t, const char *hash)
{
	char admin[24], tenant[24];
	struct audit_entry e = {req->tenant_id, req->remote_addr,      "admin",
				req->admin_id,  AUDIT_PASSWORD_CHANGE, NULL};
	struct audit_more m = {NULL, "password_changed", {NULL}, 0};
	PGresult *res = NULL;
	int rc;

	snprintf(admin, sizeof(admin), "%lld", req->admin_id);
	snprintf(tenant, sizeof(tenant), "%lld", req->tenant_id);
	const char *params[] = {admin, tenant, hash};
	if ((rc = db_begin(&t->db)) != 0)
		return rc;
	if ((rc = db_exec(&t->db, &q_admin_set_password, params, &res)) != 0 ||
	    (rc = audit_write_ex(&t->db, &e, &m)) != 0 || (rc = db_commit(&t->db)) != 0) {
		db_rollback(&t->db);
		PQclear(res);
		return rc < 0 ? rc : -EIO;
	}
	PQclear(res);
	return 0;
}

static void
wipe(cJSON *body)
{
	for (size_t i = 0; i < 3; i++) {
		cJSON *p = cJSON_GetObjectItemCaseSensitive(body, fields[i].name);
		if (cJSON_IsString(p))
			OPENSSL_cleanse(p->valuestring, strlen(p->valuestring));
	}
}

/* 429 with Retry-After: the login ID is locked (wrong passwords here or at login). */
static void
locked(struct http_req *req, const struct lockout *l, const char *login_id)
{
	char retry[16];

	snprintf(retry, sizeof(retry), "%d", lockout_retry_after(l, login_id, req->remote_addr));
	http_add_header(req, "Retry-After", retry);
	log_msg(LOG_WARN, "event=password_change_locked admin=%lld ip=%s", req->admin_id,
		req->remote_addr);
	svc_fail(req, 429, "locked_out", &msg_locked_out);
}

static void
wrong_current(struct http_req *req)
{
	cJSON *errs = cJSON_CreateArray();

	log_msg(LOG_WARN, "event=password_change_wrong admin=%lld ip=%s", req->admin_id,
		req->remote_addr);
	json_field_error(errs, "current_password", i18n_msg(&msg_password_current, req->lang));
	svc_invalid(req, errs);
}

/*
 * The current password is checked as a login is: in one of the process's password check slots
 * (503 busy when none is free, nothing counted; the new hash is made in it too), on the
 * administrator's login ID counter (lockout_take before, a wrong one stays counted), so it is no
 * way around the lockout. After the change every other session of the administrator ends; this one
 * stays.
 */
static int
change(struct http_req *req, struct svc_thread *t, const PGresult *res, const cJSON *body)
{
	struct lockout l = auth_lockout(t);
	const char *login_id = db_get(res, 0, "login_id");
	char hash[PWHASH_LEN];
	struct admin_sess cur;
	int rc;

	if (pwhash_slot_take() != 0) {
		auth_busy(req, "password_change_busy");
		return 0;
	}
	if ((rc = lockout_take(&l, login_id, req->remote_addr)) != 0) {
		pwhash_slot_give();
		if (rc > 0)
			locked(req, &l, login_id);
		return rc < 0 ? rc : 0;
	}
	if (pwhash_verify(db_get(res, 0, "password_hash"), json_str(body, "current_password"))) {
		pwhash_slot_give();
		wrong_current(req);
		return 0;
	}
	lockout_clear(&l, login_id, req->remote_addr);
	rc = pwhash_hash(json_str(body, "new_password"), hash);
	pwhash_slot_give();
	if (rc != 0 || (rc = store(req, t, hash)) != 0) {
		OPENSSL_cleanse(hash, sizeof(hash));
		return rc;
	}
	OPENSSL_cleanse(hash, sizeof(hash));
	rc = admin_sess_get(req, t, &cur);
	if (admin_sess_end_others(t, req->admin_id, rc == 0 ? cur.token : NULL) != 0)
		log_msg(LOG_ERROR, "event=sessions_not_ended admin=%lld", req->admin_id);
	admin_sess_done(&cur);
	return 0;
}

int
auth_password(struct http_req *req, struct svc_thread *t)
{
	char admin[24], tenant[24];
	cJSON *body = NULL, *errs = NULL, *doc;
	PGresult *res = NULL;
	int rc = 0;

	if (json_parse_object(req->body, req->body_len, &body) != 0) {
		svc_fail(req, 400, "bad_json", &msg_bad_json);
		goto out;
	}
	if (cJSON_GetArraySize(errs = check(req, body)) > 0) {
		svc_invalid(req, errs);
		errs = NULL;
		goto out;
	}
	snprintf(admin, sizeof(admin), "%lld", req->admin_id);
	snprintf(tenant, sizeof(tenant), "%lld", req->tenant_id);
	const char *params[] = {admin, tenant};
	if ((rc = db_exec(&t->db, &q_admin_by_id, params, &res)) != 0)
		goto out;
	if (PQntuples(res) != 1) {
		svc_fail(req, 401, "unauthorized", &msg_unauthorized);
		goto out;
	}
	if ((rc = change(req, t, res, body)) != 0 || req->status != 0)
		goto out;
	log_msg(LOG_INFO, "event=password_changed admin=%lld", req->admin_id);
	doc = cJSON_CreateObject();
	http_json(req, 200, doc);
	cJSON_Delete(doc);
out:
	if (body != NULL)
		wipe(body);
	cJSON_Delete(body);
	cJSON_Delete(errs);
	PQclear(res);
	return rc;
}
