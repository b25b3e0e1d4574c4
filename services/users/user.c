/* user.c: GET and PATCH /api/users/{id}: one user with its devices and certificates. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/audit.h"
#include "extern.h"
#include "core/json.h"
#include "core/log.h"
#include "web/valid.h"
#include "core/strbuf.h"

/* The {id} of the path, 0 when it is not an id (answered 404 like an unknown one). */
static long long
path_id(const struct http_req *req)
{
	if (req->nargs < 1 || valid_id(req->args[0]) != 0)
		return 0;
	return strtoll(req->args[0], NULL, 10);
}

int
users_get(struct http_req *req, struct svc_thread *t)
{
	long long id = path_id(req);
	cJSON *doc = NULL;
	int rc;

	if (id == 0 ||
	    (rc = render_user_full(&t->db, req->tenant_id, id, req->lang, &doc)) == DB_E_NOTFOUND) {
		svc_fail(req, 404, "not_found", &msg_not_found);
		return 0;
	}
	if (rc != 0)
		return rc;
	http_json(req, 200, doc);
	cJSON_Delete(doc);
	return 0;
}

/*
 * The history detail's list of changes, "氏名(姓) 山田 -> 山本, …" with the field labels as
 * words of the history (rendered in the viewer's language);
 * returns the number of fields that change, or -ENOSPC when len cannot hold it. new[i] NULL
 * = unchanged; it is set to the stored value so new[] is complete afterwards. *lang (the
 * notices' language) likewise.
 */
static int
diff(const PGresult *old, const char *new[UF__MAX], const char **lang, char *detail, size_t len)
{
	struct strbuf b;
	int n = 0;

	strbuf_init(&b, detail, len);
	for (int i = 0; i < UF__MAX; i++) {
		const char *was = db_get(old, 0, user_field_names[i]);
		if (new[i] == NULL || strcmp(new[i], was) == 0) {
			new[i] = was;
			continue;
		}
		strbuf_printf(&b, "%s" AUDIT_WORD_IN("f:%s") " %s -> %s", n++ ? ", " : "",
			      user_field_names[i], was, new[i]);
	}
	if (*lang == NULL || strcmp(*lang, db_get(old, 0, "lang")) == 0)
		*lang = db_get(old, 0, "lang");
	else
		strbuf_printf(&b, "%s" AUDIT_WORD_IN("f:lang") " %s -> %s", n++ ? ", " : "",
			      db_get(old, 0, "lang"), *lang);
	return strbuf_error(&b) != 0 ? -ENOSPC : n;
}

enum outcome { OK, NOT_FOUND, DELETED, INVALID };

/* Lock the row, merge, check the CN, update and write the history entry in one transaction. */
static int
update(struct http_req *req, struct svc_thread *t, long long id, struct user_in *u,
       enum outcome *res_out, cJSON *errs)
{
	char tid[24], uid[24], detail[4096]; /* 7 fields of 50 characters, before and after */
	struct audit_entry e = {req->tenant_id, req->remote_addr,  "admin",
				req->admin_id,  AUDIT_USER_UPDATE, NULL};
	struct audit_more m = {NULL, "user_updated", {NULL}, 4};
	PGresult *old = NULL, *res = NULL;
	int rc, changed, committed = 0;

	snprintf(tid, sizeof(tid), "%lld", req->tenant_id);
	snprintf(uid, sizeof(uid), "%lld", id);
	const char *p1[] = {tid, uid};
	*res_out = OK;
	if ((rc = db_begin(&t->db)) != 0 || (rc = db_exec(&t->db, &q_user_lock, p1, &old)) != 0)
		goto out;
	if (PQntuples(old) != 1 || db_get(old, 0, "deleted_at") != NULL) {
		*res_out = PQntuples(old) != 1 ? NOT_FOUND : DELETED;
		goto out;
	}
	m.params[0] = db_get(old, 0, "family_name");
	m.params[1] = db_get(old, 0, "given_name");
	m.params[2] = db_get(old, 0, "email");
	m.params[3] = detail;
	if ((changed = diff(old, u->v, &u->lang, detail, sizeof(detail))) <= 0) {
		rc = changed; /* 0: nothing changes, no update, no history; or -ENOSPC */
		goto out;
	}
	if (check_cn(u->v[UF_FAMILY_NAME_EN], u->v[UF_GIVEN_NAME_EN], req->lang, errs) > 0) {
		*res_out = INVALID;
		goto out;
	}
	const char *p2[] = {tid,     uid,     u->v[0], u->v[1], u->v[2],
			    u->v[3], u->v[4], u->v[5], u->v[6], u->lang};
	if ((rc = db_exec(&t->db, &q_user_update, p2, &res)) != 0 ||
	    (rc = audit_write_ex(&t->db, &e, &m)) != 0 || (rc = db_commit(&t->db)) != 0)
		goto out;
	committed = 1;
	log_msg(LOG_INFO, "event=user_update tenant=%lld user=%lld", req->tenant_id, id);
out:
	if (!committed)
		db_rollback(&t->db);
	PQclear(old);
	PQclear(res);
	return rc < 0 ? rc : rc > 0 ? -EIO : 0;
}

int
users_patch(struct http_req *req, struct svc_thread *t)
{
	long long id = path_id(req);
	enum outcome oc = OK;
	struct user_in u;
	cJSON *body = NULL, *errs = cJSON_CreateArray();
	int rc = 0;

	if (id == 0) {
		svc_fail(req, 404, "not_found", &msg_not_found);
		goto out;
	}
	if (json_parse_object(req->body, req->body_len, &body) != 0) {
		svc_fail(req, 400, "bad_json", &msg_bad_json);
		goto out;
	}
	if (check_user(body, 1, req->lang, errs, &u) == 0 &&
	    (rc = update(req, t, id, &u, &oc, errs)) != 0)
		goto out;
	if (oc == NOT_FOUND) {
		svc_fail(req, 404, "not_found", &msg_not_found);
	} else if (oc == DELETED) {
		svc_fail(req, 409, "user_deleted", &msg_user_deleted);
	} else if (cJSON_GetArraySize(errs) > 0) {
		svc_invalid(req, errs);
		errs = NULL;
	} else {
		rc = users_get(req, t);
	}
out:
	cJSON_Delete(body);
	cJSON_Delete(errs);
	return rc;
}
