/* register.c: POST /api/users, a user with devices, one `issuing` certificate per device. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "domain/audit.h"
#include "domain/certq.h"
#include "extern.h"
#include "web/i18n.h"
#include "core/json.h"
#include "core/log.h"
#include "web/valid.h"
#include "domain/lifecycle.h"
#include "domain/device.h"
#include "core/strbuf.h"

/* The quota error on `devices`, with the remaining count. */
void
quota_error(cJSON *errs, long long available, int lang)
{
	char msg[160];

	snprintf(msg, sizeof(msg), "%s %lld", i18n_msg(&msg_quota, lang), available);
	json_field_error(errs, "devices", msg);
}

/*
 * The devices whose (e-mail, device code) pair a device of another user not deleted already
 * has: an error on each one's e-mail. The number found, or -errno.
 */
int
pairs_taken(struct db *db, long long tenant_id, const struct user_in *u, int lang, cJSON *errs)
{
	char tid[24], field[40];
	PGresult *res = NULL;
	int rc, found = 0;

	snprintf(tid, sizeof(tid), "%lld", tenant_id);
	for (int i = 0; i < u->ndev; i++) {
		const char *params[] = {tid, u->dev[i].code, check_device_email(u, &u->dev[i])};
		if ((rc = db_exec(db, &q_device_pair, params, &res)) != 0)
			return rc < 0 ? rc : -EIO;
		if (PQntuples(res) > 0) {
			snprintf(field, sizeof(field), "devices[%d].email", i);
			json_field_error(errs, field, i18n_msg(&msg_device_pair_taken, lang));
			found++;
		}
		PQclear(res);
		res = NULL;
	}
	return found;
}

/* Every field rule and the quota as counted now; the error array (empty when all is well). */
static int
check(struct http_req *req, struct svc_thread *t, const cJSON *body, const struct tenant *tn,
      struct user_in *u, cJSON **errsp)
{
	cJSON *errs = cJSON_CreateArray();
	struct certq_quota q;
	int rc;

	check_user(body, 0, req->lang, errs, u);
	check_devices(body, tn, time(NULL), req->lang, errs, u);
	if ((cJSON_GetArraySize(errs) == 0 &&
	     (rc = pairs_taken(&t->db, req->tenant_id, u, req->lang, errs)) < 0) ||
	    (rc = certq_count(&t->db, req->tenant_id, &q)) != 0) {
		cJSON_Delete(errs);
		return rc < 0 ? rc : -EIO;
	}
	if (u->ndev > q.available)
		quota_error(errs, q.available, req->lang);
	*errsp = errs;
	return 0;
}

static int
insert_user(struct db *db, long long tenant_id, const struct user_in *u, long long *id)
{
	char tid[24], oid[24];
	PGresult *res = NULL;
	int rc;

	snprintf(tid, sizeof(tid), "%lld", tenant_id);
	const char *p1[] = {tid};
	if ((rc = db_exec(db, &q_org_id, p1, &res)) != 0)
		return rc < 0 ? rc : -EIO;
	snprintf(oid, sizeof(oid), "%lld", db_get_ll(res, 0, "id"));
	PQclear(res);
	const char *p2[] = {tid,     oid,     u->v[0], u->v[1], u->v[2],
			    u->v[3], u->v[4], u->v[5], u->v[6], u->lang};
	if ((rc = db_exec(db, &q_user_insert, p2, &res)) != 0)
		return rc < 0 ? rc : -EIO;
	*id = db_get_ll(res, 0, "id");
	PQclear(res);
	return 0;
}

static const char *
opt(const char *v)
{
	return v != NULL && *v != '\0' ? v : NULL;
}

static int
insert_device(struct db *db, long long tenant_id, long long user_id, const struct device_in *d,
	      long long *id)
{
	char tid[24], uid[24];
	PGresult *res = NULL;
	int rc;

	snprintf(tid, sizeof(tid), "%lld", tenant_id);
	snprintf(uid, sizeof(uid), "%lld", user_id);
	const char *params[] = {
		tid,
		uid,
		d->code,
		d->email,
		opt(d->valid_from),
		opt(d->valid_to),
		d->o,
		d->ou1,
		d->ou2,
		d->mode,
		opt(d->mac),
		d->computer,
		d->login_user,
		d->bios_serial,
		d->service_id,
		d->principal_name,
	};
	if ((rc = db_exec(db, &q_device_insert, params, &res)) != 0)
		return rc < 0 ? rc : -EIO;
	*id = db_get_ll(res, 0, "id");
	PQclear(res);
	return 0;
}

/* The answer's certificate entry for a row just queued. */
static cJSON *
queued(long long id, const struct device_in *d, const char *cn, int lang)
{
	cJSON *c = cJSON_CreateObject();

	cJSON_AddNumberToObject(c, "id", (double)id);
	cJSON_AddStringToObject(c, "device", d->code);
	cJSON_AddStringToObject(c, "device_label", device_label(d->code, lang));
	cJSON_AddStringToObject(c, "cn", cn);
	cJSON_AddStringToObject(c, "email", d->email);
	cJSON_AddStringToObject(c, "status", LC_ISSUING);
	cJSON_AddStringToObject(c, "status_label", lifecycle_label(LC_ISSUING, lang));
	return c;
}

/*
 * Devices and their certificates for user uid (u's names make the CN); the answer's entries go
 * into certs and the history detail's device list into detail (each may be NULL).
 */
int
register_devices(const struct reg_ctx *cx, struct db *db, const struct certq_quota *q,
		 long long uid, struct user_in *u, cJSON *certs, struct strbuf *detail)
{
	char cn[VALID_CN_MAX * 4 + 2];
	long long did, cid;
	int rc;

	snprintf(cn, sizeof(cn), "%s %s", u->v[UF_FAMILY_NAME_EN], u->v[UF_GIVEN_NAME_EN]);
	for (int i = 0; i < u->ndev; i++) {
		struct device_in *d = &u->dev[i];
		if (d->email == NULL)
			d->email = u->v[UF_EMAIL];
		struct certq_row row = {
			.tenant_id = cx->tenant_id,
			.user_id = uid,
			.job_id = cx->job_id,
			.cn = cn,
			.email = d->email,
			.key_type = q->key_type,
			.requested_by = cx->admin_id,
			.requested_ip = cx->ip,
		};
		if ((rc = insert_device(db, cx->tenant_id, uid, d, &did)) != 0)
			return rc;
		row.device_id = did;
		if ((rc = certq_insert(db, &row, &cid)) != 0)
			return rc;
		if (certs != NULL)
			cJSON_AddItemToArray(certs, queued(cid, d, cn, cx->lang));
		if (detail != NULL)
			strbuf_printf(detail, "%s" AUDIT_WORD_IN("dev:%s"), i ? ", " : "", d->code);
	}
	return 0;
}

int
register_insert(struct db *db, const struct reg_ctx *cx, const struct certq_quota *q,
		struct user_in *u, cJSON *certs, struct strbuf *detail, long long *uid)
{
	int rc;

	if ((rc = insert_user(db, cx->tenant_id, u, uid)) != 0)
		return rc;
	return register_devices(cx, db, q, *uid, u, certs, detail);
}

/*
 * One transaction: lock the tenant and count again, insert the user, its devices,
 * their certificates and the history entry; the answer's document is built inside it
 * so it shows the rows as committed (issuing), whatever the workers do next.
 */
static int
store(struct http_req *req, struct svc_thread *t, struct user_in *u, cJSON **doc, cJSON **errs)
{
	char detail[1024];
	struct strbuf b;
	struct certq_quota q;
	struct audit_entry e = {req->tenant_id, req->remote_addr,    "admin",
				req->admin_id,  AUDIT_USER_REGISTER, NULL};
	struct audit_more m = {NULL,
			       "user_registered",
			       {u->v[UF_FAMILY_NAME], u->v[UF_GIVEN_NAME], u->v[UF_EMAIL], detail},
			       4};
	struct reg_ctx cx = {req->tenant_id, req->admin_id, req->remote_addr, req->lang, 0};
	cJSON *certs = cJSON_CreateArray(), *user = NULL;
	long long uid;
	int rc;

	if ((rc = db_begin(&t->db)) != 0 || (rc = certq_lock(&t->db, req->tenant_id, &q)) != 0)
		goto out;
	if (u->ndev > q.available) {
		quota_error(*errs = cJSON_CreateArray(), q.available, req->lang);
		goto out;
	}
	/* again under the lock: a registration of the same pair may have committed since check() */
	*errs = cJSON_CreateArray();
	if ((rc = pairs_taken(&t->db, req->tenant_id, u, req->lang, *errs)) != 0) {
		rc = rc > 0 ? 0 : rc; /* taken: the caller answers 422 with *errs */
		goto out;
	}
	cJSON_Delete(*errs);
	*errs = NULL;
	strbuf_init(&b, detail, sizeof(detail)); /* the devices, as words of the history */
	if ((rc = register_insert(&t->db, &cx, &q, u, certs, &b, &uid)) != 0 ||
	    (rc = strbuf_error(&b)) != 0 || (rc = audit_write_ex(&t->db, &e, &m)) != 0 ||
	    (rc = render_user_full(&t->db, req->tenant_id, uid, req->lang, &user)) != 0 ||
	    (rc = db_commit(&t->db)) != 0)
		goto out;
	cJSON_DeleteItemFromObject(user, "certificates");
	*doc = cJSON_CreateObject();
	cJSON_AddItemToObject(*doc, "user", user);
	cJSON_AddItemToObject(*doc, "certificates", certs);
	user = certs = NULL;
	log_msg(LOG_INFO, "event=user_register tenant=%lld user=%lld devices=%d", req->tenant_id,
		uid, u->ndev);
	rc = 0;
out:
	if (*doc == NULL)
		db_rollback(&t->db);
	cJSON_Delete(certs);
	cJSON_Delete(user);
	return rc < 0 ? rc : rc > 0 ? -EIO : 0;
}

int
users_register(struct http_req *req, struct svc_thread *t)
{
	struct tenant tn;
	struct user_in u;
	cJSON *body = NULL, *errs = NULL, *doc = NULL;
	int rc;

	if (json_parse_object(req->body, req->body_len, &body) != 0) {
		svc_fail(req, 400, "bad_json", &msg_bad_json);
		rc = 0;
		goto out;
	}
	if ((rc = tenant_load(&t->db, req->tenant_id, &tn)) != 0)
		goto out;
	if (!(tn.features & (1u << FEAT_ADMIN_MAY_ISSUE))) {
		svc_fail(req, 403, "issue_not_allowed", &msg_issue_not_allowed);
		goto out;
	}
	if ((rc = check(req, t, body, &tn, &u, &errs)) != 0)
		goto out;
	if (cJSON_GetArraySize(errs) == 0) {
		cJSON_Delete(errs);
		errs = NULL;
		if ((rc = store(req, t, &u, &doc, &errs)) != 0)
			goto out;
	}
	if (errs != NULL) {
		svc_invalid(req, errs);
		errs = NULL;
		goto out;
	}
	certq_wake(&t->kv, req->tenant_id);
	http_json(req, 202, doc);
	rc = 0;
out:
	cJSON_Delete(body);
	cJSON_Delete(errs);
	cJSON_Delete(doc);
	return rc < 0 ? rc : rc > 0 ? -EIO : 0;
}
