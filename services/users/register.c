/* register.c: POST /api/users, a user with devices, one `issuing` certificate per device. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
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

void
pairs_add(cJSON *items, int i, const struct user_in *u, const struct device_in *d)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "i", i);
	cJSON_AddStringToObject(o, "e", check_device_email(u, d));
	cJSON_AddStringToObject(o, "c", d->code);
	cJSON_AddItemToArray(items, o);
}

int
pairs_find(struct db *db, long long tenant_id, const cJSON *items, PGresult **res)
{
	char tid[24], *json = cJSON_PrintUnformatted(items);
	int rc;

	if (json == NULL)
		return -ENOMEM;
	snprintf(tid, sizeof(tid), "%lld", tenant_id);
	const char *p[] = {tid, json};
	rc = db_exec(db, &q_device_pairs, p, res);
	free(json);
	return rc < 0 ? rc : rc > 0 ? -EIO : 0;
}

/*
 * The devices whose (e-mail, device code) pair a device of another user not deleted already
 * has: an error on each one's e-mail. The number found, or -errno.
 */
int
pairs_taken(struct db *db, long long tenant_id, const struct user_in *u, int lang, cJSON *errs)
{
	cJSON *items = cJSON_CreateArray();
	PGresult *res = NULL;
	char field[40];
	int rc, found;

	for (int i = 0; i < u->ndev; i++)
		pairs_add(items, i, u, &u->dev[i]);
	rc = pairs_find(db, tenant_id, items, &res);
	cJSON_Delete(items);
	if (rc != 0)
		return rc;
	found = PQntuples(res);
	for (int r = 0; r < found; r++) {
		snprintf(field, sizeof(field), "devices[%lld].email", db_get_ll(res, r, "i"));
		json_field_error(errs, field, i18n_msg(&msg_device_pair_taken, lang));
	}
	PQclear(res);
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

/* n fresh ids of a table (q_user_ids, q_device_ids) as text, in *res. */
static int
next_ids(struct db *db, const struct db_stmt *st, size_t n, PGresult **res)
{
	char num[24];
	int rc;

	snprintf(num, sizeof(num), "%zu", n);
	const char *p[] = {num};
	if ((rc = db_exec(db, st, p, res)) != 0)
		return rc < 0 ? rc : -EIO;
	return (size_t)PQntuples(*res) == n ? 0 : -EIO;
}

/* v as a JSON string, or null when NULL or empty (SQL NULL). */
static void
add_opt_text(cJSON *o, const char *name, const char *v)
{
	if (v != NULL && *v != '\0')
		cJSON_AddStringToObject(o, name, v);
	else
		cJSON_AddNullToObject(o, name);
}

/* The rows of one statement, as JSON text: 0 or -ENOMEM (rows is freed). */
static int
exec_rows(struct db *db, const struct db_stmt *st, const char *tid, const char *oid, cJSON *rows)
{
	char *json = cJSON_PrintUnformatted(rows);
	PGresult *res = NULL;
	int rc;

	cJSON_Delete(rows);
	if (json == NULL)
		return -ENOMEM;
	const char *p3[] = {tid, oid, json}, *p2[] = {tid, json};
	rc = db_exec(db, st, oid ? p3 : p2, &res);
	free(json);
	PQclear(res);
	return rc < 0 ? rc : rc > 0 ? -EIO : 0;
}

/* Insert the users of u[] whose uids[i] is 0 (the tenant's 本社); uids[i] gets their ids. */
static int
insert_users(struct db *db, const char *tid, struct user_in *const *u, size_t n, long long *uids)
{
	PGresult *org = NULL, *ids = NULL;
	cJSON *rows;
	size_t nu = 0, k = 0;
	char oid[24];
	int rc;

	for (size_t i = 0; i < n; i++)
		nu += uids[i] == 0;
	if (nu == 0)
		return 0;
	const char *p1[] = {tid};
	if ((rc = db_exec(db, &q_org_id, p1, &org)) != 0)
		return rc < 0 ? rc : -EIO;
	snprintf(oid, sizeof(oid), "%lld", db_get_ll(org, 0, "id"));
	PQclear(org);
	if ((rc = next_ids(db, &q_user_ids, nu, &ids)) != 0) {
		PQclear(ids);
		return rc;
	}
	rows = cJSON_CreateArray();
	for (size_t i = 0; i < n; i++) {
		static const char *const names[UF__MAX] = {"f", "g", "fk", "gk", "fe", "ge", "e"};
		cJSON *o;

		if (uids[i] != 0)
			continue;
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "id", db_get(ids, (int)k, "id"));
		for (int f = 0; f < UF__MAX; f++)
			add_opt_text(o, names[f], u[i]->v[f]);
		cJSON_AddItemToArray(rows, o);
		k++;
	}
	if ((rc = exec_rows(db, &q_user_insert, tid, oid, rows)) == 0) {
		k = 0;
		for (size_t i = 0; i < n; i++)
			if (uids[i] == 0)
				uids[i] = db_get_ll(ids, (int)k++, "id");
	}
	PQclear(ids);
	return rc;
}

/* One device's row of q_device_insert. */
static cJSON *
device_row(const char *id, long long uid, const struct device_in *d)
{
	cJSON *o = cJSON_CreateObject();
	char buf[24];

	snprintf(buf, sizeof(buf), "%lld", uid);
	cJSON_AddStringToObject(o, "id", id);
	cJSON_AddStringToObject(o, "user_id", buf);
	add_opt_text(o, "code", d->code);
	add_opt_text(o, "email", d->email);
	add_opt_text(o, "valid_from", d->valid_from);
	add_opt_text(o, "valid_to", d->valid_to);
	add_opt_text(o, "o", d->o);
	add_opt_text(o, "ou1", d->ou1);
	add_opt_text(o, "ou2", d->ou2);
	add_opt_text(o, "mode", d->mode);
	add_opt_text(o, "mac", d->mac);
	add_opt_text(o, "computer", d->computer);
	add_opt_text(o, "login_user", d->login_user);
	add_opt_text(o, "bios_serial", d->bios_serial);
	add_opt_text(o, "service_id", d->service_id);
	add_opt_text(o, "upn", d->principal_name);
	return o;
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

/* What register_many writes for n users: their devices, in u[]'s order. */
struct reg_rows {
	size_t ndev;
	struct certq_row *certs;
	long long *cids;
	char (*cn)[VALID_CN_MAX * 4 + 2];
};

int
register_many(const struct reg_ctx *cx, struct db *db, const struct certq_quota *q,
	      struct user_in *const *u, size_t n, long long *uids, cJSON *certs,
	      struct strbuf *detail)
{
	struct reg_rows w = {0};
	PGresult *ids = NULL;
	char tid[24];
	size_t k = 0;
	int rc;

	snprintf(tid, sizeof(tid), "%lld", cx->tenant_id);
	for (size_t i = 0; i < n; i++)
		w.ndev += (size_t)u[i]->ndev;
	if ((rc = insert_users(db, tid, u, n, uids)) != 0 || w.ndev == 0)
		return rc;
	w.certs = calloc(w.ndev, sizeof(*w.certs));
	w.cids = calloc(w.ndev, sizeof(*w.cids));
	w.cn = calloc(n, sizeof(*w.cn));
	if (w.certs == NULL || w.cids == NULL || w.cn == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	if ((rc = next_ids(db, &q_device_ids, w.ndev, &ids)) != 0)
		goto out;
	cJSON *rows = cJSON_CreateArray();
	for (size_t i = 0; i < n; i++) {
		snprintf(w.cn[i], sizeof(w.cn[i]), "%s %s", u[i]->v[UF_FAMILY_NAME_EN],
			 u[i]->v[UF_GIVEN_NAME_EN]);
		for (int d = 0; d < u[i]->ndev; d++, k++) {
			struct device_in *dv = &u[i]->dev[d];
			if (dv->email == NULL)
				dv->email = u[i]->v[UF_EMAIL];
			cJSON_AddItemToArray(rows,
					     device_row(db_get(ids, (int)k, "id"), uids[i], dv));
			w.certs[k] = (struct certq_row){
				.tenant_id = cx->tenant_id,
				.user_id = uids[i],
				.device_id = db_get_ll(ids, (int)k, "id"),
				.job_id = cx->job_id,
				.cn = w.cn[i],
				.email = dv->email,
				.key_type = q->key_type,
				.requested_by = cx->admin_id,
				.requested_ip = cx->ip,
			};
		}
	}
	if ((rc = exec_rows(db, &q_device_insert, tid, NULL, rows)) != 0 ||
	    (rc = certq_insert_many(db, cx->tenant_id, w.certs, w.ndev, w.cids)) != 0)
		goto out;
	k = 0;
	for (size_t i = 0; i < n; i++)
		for (int d = 0; d < u[i]->ndev; d++, k++) {
			if (certs != NULL)
				cJSON_AddItemToArray(
					certs, queued(w.cids[k], &u[i]->dev[d], w.cn[i], cx->lang));
			if (detail != NULL)
				strbuf_printf(detail, "%s" AUDIT_WORD_IN("dev:%s"), d ? ", " : "",
					      u[i]->dev[d].code);
		}
out:
	PQclear(ids);
	free(w.certs);
	free(w.cids);
	free(w.cn);
	return rc;
}

int
register_insert(struct db *db, const struct reg_ctx *cx, const struct certq_quota *q,
		struct user_in *u, cJSON *certs, struct strbuf *detail, long long *uid)
{
	*uid = 0;
	return register_many(cx, db, q, &u, 1, uid, certs, detail);
}

int
register_devices(const struct reg_ctx *cx, struct db *db, const struct certq_quota *q,
		 long long uid, struct user_in *u, cJSON *certs, struct strbuf *detail)
{
	return register_many(cx, db, q, &u, 1, &uid, certs, detail);
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
