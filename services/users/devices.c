/* devices.c: POST /api/users/{id}/devices: 利用者変更 adds devices (and their certificates). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/json.h"
#include "core/log.h"
#include "core/strbuf.h"
#include "domain/audit.h"
#include "extern.h"
#include "web/valid.h"

enum outcome { ADDED, NOT_FOUND, DELETED, INVALID };

/* The user's own fields from the locked row, so the new certificates get its names. */
static void
user_from_row(const PGresult *old, struct user_in *u)
{
	for (int i = 0; i < UF__MAX; i++)
		u->v[i] = db_get(old, 0, user_field_names[i]);
	u->lang = NULL;
}

/* A device code the user already has: an error on that entry of the request. */
static int
codes_taken(struct db *db, const char *tid, const char *uid, const struct user_in *u, int lang,
	    cJSON *errs)
{
	char field[40];
	PGresult *res = NULL;
	int rc, found = 0;

	const char *params[] = {tid, uid};
	if ((rc = db_exec(db, &q_user_devices, params, &res)) != 0)
		return rc < 0 ? rc : -EIO;
	for (int i = 0; i < u->ndev; i++) {
		for (int r = 0; r < PQntuples(res); r++) {
			if (strcmp(db_get(res, r, "device_code"), u->dev[i].code) != 0)
				continue;
			snprintf(field, sizeof(field), "devices[%d].device", i);
			json_field_error(errs, field, i18n_msg(&msg_device_exists, lang));
			found++;
			break;
		}
	}
	PQclear(res);
	return found;
}

/*
 * One transaction: lock the user, check the devices against it (codes it has, pairs other users
 * have, the quota counted under the tenant's lock), insert them with their certificates and the
 * history entry (利用者変更). *errs gets the field errors when INVALID.
 */
static int
add(struct http_req *req, struct svc_thread *t, long long id, const cJSON *body,
    const struct tenant *tn, enum outcome *oc, cJSON *errs)
{
	char tid[24], uid[24], detail[1024];
	struct strbuf b;
	struct certq_quota q;
	struct audit_entry e = {req->tenant_id, req->remote_addr,  "admin",
				req->admin_id,  AUDIT_USER_UPDATE, NULL};
	struct reg_ctx cx = {req->tenant_id, req->admin_id, req->remote_addr, req->lang, 0};
	struct user_in u;
	PGresult *old = NULL;
	int rc, committed = 0;

	memset(&u, 0, sizeof(u));
	snprintf(tid, sizeof(tid), "%lld", req->tenant_id);
	snprintf(uid, sizeof(uid), "%lld", id);
	const char *p1[] = {tid, uid};
	*oc = INVALID;
	if ((rc = db_begin(&t->db)) != 0 || (rc = db_exec(&t->db, &q_user_lock, p1, &old)) != 0)
		goto out;
	if (PQntuples(old) != 1 || db_get(old, 0, "deleted_at") != NULL) {
		*oc = PQntuples(old) != 1 ? NOT_FOUND : DELETED;
		goto out;
	}
	user_from_row(old, &u);
	if (check_devices(body, tn, time(NULL), req->lang, errs, &u) != 0 ||
	    (rc = codes_taken(&t->db, tid, uid, &u, req->lang, errs)) != 0 ||
	    (rc = pairs_taken(&t->db, req->tenant_id, &u, req->lang, errs)) != 0 ||
	    (rc = certq_lock(&t->db, req->tenant_id, &q)) != 0)
		goto out;
	if (u.ndev > q.available) {
		quota_error(errs, q.available, req->lang);
		goto out;
	}
	/* the history's detail as a code, rendered in the reader's language; {3} the devices */
	struct audit_more more = {NULL,
				  "devices_added",
				  {u.v[UF_FAMILY_NAME], u.v[UF_GIVEN_NAME], u.v[UF_EMAIL], detail},
				  4};
	strbuf_init(&b, detail, sizeof(detail));
	if ((rc = register_devices(&cx, &t->db, &q, id, &u, NULL, &b)) != 0 ||
	    (rc = strbuf_error(&b)) != 0 || (rc = audit_write_ex(&t->db, &e, &more)) != 0 ||
	    (rc = db_commit(&t->db)) != 0)
		goto out;
	committed = 1;
	*oc = ADDED;
	log_msg(LOG_INFO, "event=user_devices_add tenant=%lld user=%lld devices=%d", req->tenant_id,
		id, u.ndev);
out:
	if (!committed)
		db_rollback(&t->db);
	PQclear(old);
	if (rc > 0 && cJSON_GetArraySize(errs) == 0)
		rc = -EIO;      /* a positive outcome that is not a field error */
	return rc < 0 ? rc : 0; /* otherwise the errors found are in errs */
}

int
users_add_devices(struct http_req *req, struct svc_thread *t)
{
	long long id = 0;
	enum outcome oc = INVALID;
	struct tenant tn;
	cJSON *body = NULL, *errs = cJSON_CreateArray(), *doc = NULL;
	int rc = 0;

	if (req->nargs < 1 || valid_id(req->args[0]) != 0) {
		svc_fail(req, 404, "not_found", &msg_not_found);
		goto out;
	}
	id = strtoll(req->args[0], NULL, 10);
	if (json_parse_object(req->body, req->body_len, &body) != 0) {
		svc_fail(req, 400, "bad_json", &msg_bad_json);
		goto out;
	}
	if ((rc = tenant_load(&t->db, req->tenant_id, &tn)) != 0)
		goto out;
	if (!(tn.features & (1u << FEAT_ADMIN_MAY_ISSUE))) {
		svc_fail(req, 403, "issue_not_allowed", &msg_issue_not_allowed);
		goto out;
	}
	if ((rc = add(req, t, id, body, &tn, &oc, errs)) != 0)
		goto out;
	if (oc == NOT_FOUND) {
		svc_fail(req, 404, "not_found", &msg_not_found);
	} else if (oc == DELETED) {
		svc_fail(req, 409, "user_deleted", &msg_user_deleted);
	} else if (oc == INVALID) {
		svc_invalid(req, errs);
		errs = NULL;
	} else if ((rc = render_user_full(&t->db, req->tenant_id, id, req->lang, &doc)) == 0) {
		certq_wake(&t->kv, req->tenant_id);
		http_json(req, 202, doc);
	}
out:
	cJSON_Delete(body);
	cJSON_Delete(errs);
	cJSON_Delete(doc);
	return rc < 0 ? rc : rc > 0 ? -EIO : 0;
}
