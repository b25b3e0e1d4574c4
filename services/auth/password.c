/* password.c: パスワード変更, with the desknet rule (8–16 half-width alphanumerics). */
#include <errno.h>
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
				req->admin_id,  AUDIT_PASSWORD_CHANGE, "パスワード変更"};
	PGresult *res = NULL;
	int rc;

	snprintf(admin, sizeof(admin), "%lld", req->admin_id);
	snprintf(tenant, sizeof(tenant), "%lld", req->tenant_id);
	const char *params[] = {admin, tenant, hash};
	if ((rc = db_begin(&t->db)) != 0)
		return rc;
	if ((rc = db_exec(&t->db, &q_admin_set_password, params, &res)) != 0 ||
	    (rc = audit_write(&t->db, &e)) != 0 || (rc = db_commit(&t->db)) != 0) {
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

int
auth_password(struct http_req *req, struct svc_thread *t)
{
	char admin[24], tenant[24], hash[PWHASH_LEN];
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
	if (PQntuples(res) != 1 ||
	    pwhash_verify(db_get(res, 0, "password_hash"), json_str(body, "current_password"))) {
		errs = cJSON_CreateArray();
		json_field_error(errs, "current_password",
				 i18n_msg(&msg_password_current, req->lang));
		svc_invalid(req, errs);
		errs = NULL;
		goto out;
	}
	if ((rc = pwhash_hash(json_str(body, "new_password"), hash)) != 0 ||
	    (rc = store(req, t, hash)) != 0)
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
