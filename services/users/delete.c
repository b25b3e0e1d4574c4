/*
 * delete.c: deleting a user in two steps (NRA 7). 1次削除 hides the user from the list (shown
 * under 削除済み), its certificates untouched, and can be undone; 2次削除 (マスター削除) comes only
 * after it, removes the user's personal data for good and keeps what the history needs.
 * Each step is one transaction under the tenant's lock (the one registrations take), with its
 * history entry 利用者削除.
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

/* Certificates that still work (or will): they must be revoked before the data goes. */
static const struct db_stmt q_live_certs = {
	"users_live_certs",
	"SELECT count(*) AS n FROM certificates WHERE tenant_id = $1 AND user_id = $2"
	" AND status IN (" LC_SQL(LC_ISSUING) ", " LC_SQL(LC_ISSUED) ", " LC_SQL(LC_DOWNLOADED)
	", " LC_SQL(LC_REVOKE_SCHEDULED) ")",
	2,
};

/* 2次削除: the personal data goes; ids, the certificates' own fields and the history stay. */
static const struct db_stmt q_purge_user = {
	"users_purge_user",
	"UPDATE users SET family_name = '', given_name = '', family_name_kana = '',"
	" given_name_kana = '', family_name_en = '', given_name_en = '', email = '',"
	" purged_at = now(), updated_at = now() WHERE tenant_id = $1 AND id = $2",
	2,
};

static const struct db_stmt q_purge_devices = {
	"users_purge_devices",
	"UPDATE devices SET email = '', restrict_mac = NULL, restrict_computer = NULL,"
	" restrict_login_user = NULL, restrict_bios_serial = NULL, service_id = NULL,"
	" principal_name = NULL WHERE tenant_id = $1 AND user_id = $2",
	2,
};

/* No PKCS#12 of a purged user can be downloaded again. */
static const struct db_stmt q_purge_p12 = {
	"users_purge_p12",
	"UPDATE certificates SET p12 = NULL, p12_password_enc = NULL, updated_at = now()"
	" WHERE tenant_id = $1 AND user_id = $2",
	2,
};

enum step { STEP_DELETE, STEP_UNDELETE, STEP_PURGE };

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
	int deleted = db_get(u, 0, "deleted_at") != NULL;
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
	} else if (step == STEP_PURGE) {
		if ((*rc = db_exec(db, &q_live_certs, p, &res)) == 0 && db_get_ll(res, 0, "n") > 0) {
			*code = "valid_certificates";
			why = &msg_user_live_certificates;
		}
	}
	PQclear(res);
	return why;
}

static int
apply(struct db *db, enum step step, const char *const p[2])
{
	const char *p3[] = {p[0], p[1], step == STEP_DELETE ? "true" : "false"};
	PGresult *res = NULL;
	int rc;

	if (step != STEP_PURGE)
		return db_exec(db, &q_mark_deleted, p3, &res) == 0 ? (PQclear(res), 0) : -EIO;
	if ((rc = db_exec(db, &q_purge_user, p, &res)) == 0) {
		PQclear(res);
		res = NULL;
		if ((rc = db_exec(db, &q_purge_devices, p, &res)) == 0) {
			PQclear(res);
			res = NULL;
			rc = db_exec(db, &q_purge_p12, p, &res);
		}
	}
	PQclear(res);
	return rc < 0 ? rc : rc > 0 ? -EIO : 0;
}

static int
do_step(struct http_req *req, struct svc_thread *t, enum step step)
{
	static const char *const words[] = {"1次削除", "1次削除の取消", "2次削除"};
	long long id = path_id(req);
	char tid[24], uid[24], detail[512];
	const char *p[] = {tid, uid}, *code = NULL;
	struct audit_entry e = {req->tenant_id, req->remote_addr,  "admin",
				req->admin_id,  AUDIT_USER_DELETE, detail};
	const struct i18n_text *why;
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
	snprintf(detail, sizeof(detail), "%s %s %s (%s)", words[step], db_get(u, 0, "family_name"),
		 db_get(u, 0, "given_name"), db_get(u, 0, "email"));
	if ((rc = apply(&t->db, step, p)) != 0 || (rc = audit_write(&t->db, &e)) != 0 ||
	    (rc = db_commit(&t->db)) != 0)
		goto out;
	committed = 1;
	log_msg(LOG_INFO, "event=user_%s tenant=%lld user=%lld",
		step == STEP_DELETE ? "delete" : step == STEP_UNDELETE ? "undelete" : "purge",
		req->tenant_id, id);
out:
	if (!committed)
		db_rollback(&t->db);
	PQclear(u);
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

int
users_purge(struct http_req *req, struct svc_thread *t)
{
	return do_step(req, t, STEP_PURGE);
}
