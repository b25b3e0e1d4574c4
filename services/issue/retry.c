/*
 * retry.c: POST /api/certificates/{id}/retry: a certificate whose issuance failed (a permanent
 * refusal: no active CA, the signer's policy) goes back to issuing once the cause is mended. It
 * takes a certificate of the quota again (a failed one does not count).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"
#include "domain/audit.h"
#include "domain/certq.h"
#include "extern.h"

enum outcome { RETRIED, NOT_FOUND, NOT_FAILED, NO_QUOTA };

/* Lock the tenant and the row, check, set issuing, write the history; one transaction. */
static int
retry(struct http_req *req, struct svc_thread *t, long long id, enum outcome *oc)
{
	char sid[24], tid[24], aid[24];
	struct certq_quota q;
	PGresult *row = NULL, *res = NULL;
	struct audit_entry e = {req->tenant_id, req->remote_addr,        "admin",
				req->admin_id,  AUDIT_CERTIFICATE_ISSUE, NULL};
	struct audit_more m = {NULL, "cert_retry", {NULL}, 1};
	int rc, committed = 0;

	snprintf(sid, sizeof(sid), "%lld", id);
	snprintf(tid, sizeof(tid), "%lld", req->tenant_id);
	snprintf(aid, sizeof(aid), "%lld", req->admin_id);
	const char *p1[] = {sid, tid};
	const char *p2[] = {sid, tid, req->admin_id ? aid : NULL,
			    req->remote_addr && *req->remote_addr ? req->remote_addr : NULL};
	if ((rc = db_begin(&t->db)) != 0 || (rc = certq_lock(&t->db, req->tenant_id, &q)) != 0 ||
	    (rc = db_exec(&t->db, &q_retry_lock, p1, &row)) != 0)
		goto out;
	if (PQntuples(row) != 1) {
		*oc = NOT_FOUND;
		goto out;
	}
	if (strcmp(db_get(row, 0, "status"), LC_FAILED) != 0) {
		*oc = NOT_FAILED;
		goto out;
	}
	if (q.available < 1) {
		*oc = NO_QUOTA;
		goto out;
	}
	m.params[0] = db_get(row, 0, "cn");
	if ((rc = db_exec(&t->db, &q_retry, p2, &res)) != 0 ||
	    (rc = audit_write_ex(&t->db, &e, &m)) != 0 || (rc = db_commit(&t->db)) != 0)
		goto out;
	committed = 1;
	*oc = RETRIED;
	log_msg(LOG_INFO, "event=issue_retried id=%lld tenant=%lld admin=%lld", id, req->tenant_id,
		req->admin_id);
out:
	if (!committed)
		db_rollback(&t->db);
	PQclear(row);
	PQclear(res);
	return rc < 0 ? rc : rc > 0 ? -EIO : 0;
}

int
issue_retry(struct http_req *req, struct svc_thread *t)
{
	enum outcome oc = NOT_FOUND;
	long long id;
	cJSON *doc;
	int rc;

	if (util_parse_ll(req->args[0], 1, 9007199254740991LL, &id) != 0) {
		svc_fail(req, 404, "not_found", &msg_not_found);
		return 0;
	}
	if ((rc = retry(req, t, id, &oc)) != 0)
		return rc;
	switch (oc) {
	case NOT_FOUND:
		svc_fail(req, 404, "not_found", &msg_not_found);
		return 0;
	case NOT_FAILED:
		svc_fail(req, 409, "not_failed", &msg_not_failed);
		return 0;
	case NO_QUOTA:
		svc_fail(req, 422, "quota_exceeded", &msg_retry_quota);
		return 0;
	case RETRIED:
		break;
	}
	certq_wake(&t->kv, req->tenant_id);
	doc = cJSON_CreateObject();
	cJSON_AddNumberToObject(doc, "id", (double)id);
	cJSON_AddStringToObject(doc, "status", LC_ISSUING);
	cJSON_AddStringToObject(doc, "status_label", lifecycle_label(LC_ISSUING, req->lang));
	http_json(req, 202, doc);
	cJSON_Delete(doc);
	return 0;
}
