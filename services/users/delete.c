/*
 * delete.c: deleting a user in two steps (NRA 7). 1次削除 hides the user from the list (shown
 * under 削除済み), its certificates untouched, and can be undone; 2次削除 (マスター削除) comes only
 * after it: the user's valid certificates are revoked through shomei-revoke (purge.c), then the
 * personal data is removed for good, keeping what the history needs. Each change is one
 * transaction under the tenant's lock (the one registrations take), with its history entry
 * 利用者削除; a 2次削除 whose revocation fails changes nothing (503).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "domain/audit.h"
#include "domain/lifecycle.h"
#include "extern.h"
#include "web/valid.h"

static const struct db_stmt q_mark_deleted = {
	"users_mark_deleted",
	"UPDATE users SET deleted_at = CASE WHEN $3::boolean THEN now() END, updated_at = now()"
	" WHERE tenant_id = $1 AND id = $2",
	3,
};

/* The user's devices whose pair a user not deleted has meanwhile (an undo would clash). */
static const struct db_stmt q_undelete_clash = {
	"users_undelete_clash",
	"SELECT d.device_code, d.email FROM devices d WHERE d.tenant_id = $1 AND d.user_id = $2"
	" AND EXISTS (SELECT 1 FROM devices o JOIN users u ON u.id = o.user_id"
	"  WHERE o.tenant_id = d.tenant_id AND o.user_id <> d.user_id"
	"  AND o.device_code = d.device_code AND lower(o.email) = lower(d.email)"
	"  AND u.deleted_at IS NULL AND u.purged_at IS NULL)",
	2,
};

/* STEP_PURGE_CHECK: 2次削除's checks before its revocation, changing nothing */
enum step { STEP_DELETE, STEP_UNDELETE, STEP_PURGE, STEP_PURGE_CHECK };

static long long
path_id(const struct http_req *req)
{
	if (req->nargs < 1 || valid_id(req->args[0]) != 0)
		return 0;
	return strtoll(req->args[0], NULL, 10);
}

/*
 * Why step cannot be done to the locked user row (NULL: it can). For STEP_UNDELETE and
 * STEP_PURGE it may ask the database; *rc is set when that fails.
 */
static const struct i18n_text *
refusal(struct db *db, enum step step, const PGresult *u, const char *const p[2], const char **code,
	int *rc)
{
	int deleted = db_get(u, 0, "deleted_at") != NULL, issuing = 0, live = 0;
	PGresult *res = NULL;
	const struct i18n_text *why = NULL;

	*rc = 0;
	if (step == STEP_DELETE && deleted) {
		*code = "already_deleted";
		return &msg_user_already_deleted;
	}
	if (step != STEP_DELETE && !deleted) {
		*code = step == STEP_UNDELETE ? "not_deleted" : "delete_first";
		return step == STEP_UNDELETE ? &msg_user_not_deleted : &msg_user_delete_first;
	}
	if (step == STEP_UNDELETE) {
		if ((*rc = db_exec(db, &q_undelete_clash, p, &res)) == 0 && PQntuples(res) > 0) {
			*code = "device_pair_taken";
			why = &msg_device_pair_taken;
		}
	} else if (step == STEP_PURGE || step == STEP_PURGE_CHECK) {
		/* before the revocation only a certificate being issued stops it; after, any */
		*rc = purge_live(db, strtoll(p[0], NULL, 10), strtoll(p[1], NULL, 10), &issuing,
				 &live);
		if (*rc == 0 && issuing > 0) {
			*code = "certificates_issuing";
			why = &msg_user_certs_issuing;
		} else if (*rc == 0 && step == STEP_PURGE && live > 0) {
			*code = "valid_certificates";
			why = &msg_user_live_certificates;
		}
	}
	PQclear(res);
	return why;
}

/* 1次削除 or its undo, with the history entry. */
static int
mark(struct db *db, enum step step, const char *const p[2], const struct audit_entry *e,
     const struct audit_more *m)
{
	const char *p3[] = {p[0], p[1], step == STEP_DELETE ? "true" : "false"};
	PGresult *res = NULL;
	int rc;

	rc = db_exec(db, &q_mark_deleted, p3, &res);
	PQclear(res);
	if (rc == 0)
		rc = audit_write_ex(db, e, m);
	return rc < 0 ? rc : rc > 0 ? -EIO : 0;
}

static int
do_step(struct http_req *req, struct svc_thread *t, enum step step)
{
	static const char *const codes[] = {"user_deleted", "user_undeleted"};
	long long id = path_id(req);
	char tid[24], uid[24];
	const char *p[] = {tid, uid}, *code = NULL;
	struct audit_entry e = {req->tenant_id, req->remote_addr,  "admin",
				req->admin_id,  AUDIT_USER_DELETE, NULL};
	struct audit_more m = {NULL, NULL, {NULL}, 3};
	const struct i18n_text *why;
	struct purge_who w = {t->cfg, req->tenant_id, req->admin_id, req->remote_addr};
	struct certq_quota q;
	PGresult *u = NULL;
	int rc, committed = 0;

	if (id == 0) {
		svc_fail(req, 404, "not_found", &msg_not_found);
		return 0;
	}
	snprintf(tid, sizeof(tid), "%lld", req->tenant_id);
	snprintf(uid, sizeof(uid), "%lld", id);
	if ((rc = db_begin(&t->db)) != 0 || (rc = certq_lock(&t->db, req->tenant_id, &q)) != 0 ||
	    (rc = db_exec(&t->db, &q_user_lock, p, &u)) != 0)
		goto out;
	if (PQntuples(u) != 1) {
		svc_fail(req, 404, "not_found", &msg_not_found);
		goto out;
	}
	if ((why = refusal(&t->db, step, u, p, &code, &rc)) != NULL || rc != 0) {
		if (why != NULL)
			svc_fail(req, 409, code, why);
		goto out;
	}
	if (step == STEP_PURGE_CHECK)
		goto out; /* checked: the caller revokes, then comes back with STEP_PURGE */
	if (step == STEP_PURGE) {
		rc = purge_locked(&t->db, &w, id, u);
	} else {
		m.code = codes[step];
		m.params[0] = db_get(u, 0, "family_name");
		m.params[1] = db_get(u, 0, "given_name");
		m.params[2] = db_get(u, 0, "email");
		rc = mark(&t->db, step, p, &e, &m);
	}
	if (rc != 0 || (rc = db_commit(&t->db)) != 0)
		goto out;
	committed = 1;
	log_msg(LOG_INFO, "event=user_%s tenant=%lld user=%lld",
		step == STEP_DELETE     ? "delete"
		: step == STEP_UNDELETE ? "undelete"
					: "purge",
		req->tenant_id, id);
out:
	if (!committed)
		db_rollback(&t->db);
	PQclear(u);
	if (step == STEP_PURGE_CHECK && rc == 0 && req->status == 0)
		return 1; /* may go on */
	if (rc != 0 || !committed)
		return rc < 0 ? rc : rc > 0 ? -EIO : 0;
	if (step == STEP_PURGE) {
		http_send(req, 204, NULL, NULL, 0);
		return 0;
	}
	return users_get(req, t);
}

int
users_delete(struct http_req *req, struct svc_thread *t)
{
	return do_step(req, t, STEP_DELETE);
}

int
users_undelete(struct http_req *req, struct svc_thread *t)
{
	return do_step(req, t, STEP_UNDELETE);
}

/*
 * 2次削除: the checks (404, 409 delete_first or certificates_issuing), then the revocation of
 * every valid certificate through shomei-revoke (outside any transaction of ours: it is
 * shomei-revoke's), then the purge, which checks again that nothing valid is left. A revocation
 * that fails leaves the user as it was: 503.
 */
int
users_purge(struct http_req *req, struct svc_thread *t)
{
	struct purge_who w = {t->cfg, req->tenant_id, req->admin_id, req->remote_addr};
	long long id = path_id(req);
	int rc;

	if ((rc = do_step(req, t, STEP_PURGE_CHECK)) != 1)
		return rc;
	if ((rc = purge_revoke(&t->db, &w, &id, 1)) != 0) {
		if (rc != -EIO)
			return rc;
		svc_fail(req, 503, "revocation_unavailable", &msg_revocation_unavailable);
		return 0;
	}
	return do_step(req, t, STEP_PURGE);
}
