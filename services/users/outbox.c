/*
 * outbox.c: 送信メール: the tenant's outbox (GET /api/notifications) and sending a failed notice
 * again (POST /api/notifications/{id}/resend).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/audit.h"
#include "domain/notice.h"
#include "extern.h"
#include "web/valid.h"

#define OUTBOX_PER_PAGE 100
#define OUTBOX_JST(col)                                                                            \
	"coalesce(to_char((" col ") AT TIME ZONE 'Asia/Tokyo', 'YYYY/MM/DD HH24:MI:SS'), '')"

/* clang-format off */
static const struct db_stmt q_outbox = {
	"outbox_list",
	"SELECT id, kind, to_addr, subject, status, attempts, coalesce(last_error, '') AS last_error,"
	" " OUTBOX_JST("created_at") " AS created_at, " OUTBOX_JST("last_attempt_at")
	" AS last_attempt_at, " OUTBOX_JST("sent_at") " AS sent_at,"
	" " OUTBOX_JST("CASE WHEN status = 'queued' THEN next_attempt_at END") " AS next_attempt_at,"
	" count(*) OVER () AS n"
	" FROM notifications WHERE tenant_id = $1 AND ($2 = '' OR status = $2)"
	" ORDER BY id DESC LIMIT 100 OFFSET $3::integer",
	3,
};

static const struct db_stmt q_resend = {
	"outbox_resend",
	"UPDATE notifications SET status = 'queued', attempts = 0, next_attempt_at = now()"
	" WHERE tenant_id = $1 AND id = $2::bigint AND status = 'failed'"
	" RETURNING id, to_addr, kind",
	2,
};

static const struct db_stmt q_exists = {
	"outbox_exists",
	"SELECT status FROM notifications WHERE tenant_id = $1 AND id = $2::bigint",
	2,
};
/* clang-format on */

static const char *const statuses[][3] = {
	{NOTICE_QUEUED, "送信待ち", "Queued"},
	{NOTICE_SENT, "送信済", "Sent"},
	{NOTICE_FAILED, "送信失敗", "Failed"},
};

static int
valid_outbox_status(const char *v)
{
	for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++)
		if (strcmp(v, statuses[i][0]) == 0)
			return 0;
	return VALID_E_FORMAT;
}

static const char *
status_label(const char *st, int lang)
{
	for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++)
		if (strcmp(statuses[i][0], st) == 0)
			return statuses[i][1 + (lang == I18N_EN)];
	return st;
}

static cJSON *
render_row(const PGresult *res, int r, int lang)
{
	cJSON *o = cJSON_CreateObject();
	const char *kind = db_get(res, r, "kind"), *st = db_get(res, r, "status");
	const struct notice_kind *k = notice_kind_find(kind);
	static const char *const cols[] = {"created_at",      "last_attempt_at", "sent_at",
					   "next_attempt_at", "last_error",      "subject"};

	cJSON_AddNumberToObject(o, "id", (double)db_get_ll(res, r, "id"));
	cJSON_AddStringToObject(o, "kind", kind);
	cJSON_AddStringToObject(o, "kind_label", k ? (lang == I18N_EN ? k->en : k->ja) : kind);
	cJSON_AddStringToObject(o, "to", db_get(res, r, "to_addr"));
	cJSON_AddStringToObject(o, "status", st);
	cJSON_AddStringToObject(o, "status_label", status_label(st, lang));
	cJSON_AddNumberToObject(o, "attempts", (double)db_get_ll(res, r, "attempts"));
	for (size_t i = 0; i < sizeof(cols) / sizeof(cols[0]); i++)
		cJSON_AddStringToObject(o, cols[i], db_get(res, r, cols[i]));
	return o;
}

int
outbox_list(struct http_req *req, struct svc_thread *t)
{
	static const struct valid_field q[] = {
		{"page", valid_page, 0, &msg_page, 0},
		{"status", valid_outbox_status, 0, &msg_outbox_status, 16},
	};
	cJSON *errs = cJSON_CreateArray(), *doc, *items;
	char tid[24], off[24], page[16] = "1", st[16] = "";
	PGresult *res = NULL;
	long pg;
	int rc;

	if (valid_query(req->query, q, 2, errs, req->lang) > 0) {
		svc_invalid(req, errs);
		return 0;
	}
	cJSON_Delete(errs);
	if (http_query_get(req->query, "page", page, sizeof(page)) != 0)
		snprintf(page, sizeof(page), "1");
	if (http_query_get(req->query, "status", st, sizeof(st)) != 0)
		st[0] = '\0';
	pg = atol(page);
	snprintf(tid, sizeof(tid), "%lld", req->tenant_id);
	snprintf(off, sizeof(off), "%ld", (pg - 1) * OUTBOX_PER_PAGE);
	const char *p[] = {tid, st, off};
	if ((rc = db_exec(&t->db, &q_outbox, p, &res)) != 0)
		return rc < 0 ? rc : -EIO;
	doc = cJSON_CreateObject();
	cJSON_AddNumberToObject(doc, "total", PQntuples(res) ? (double)db_get_ll(res, 0, "n") : 0);
	cJSON_AddNumberToObject(doc, "page", (double)pg);
	cJSON_AddNumberToObject(doc, "per_page", OUTBOX_PER_PAGE);
	items = cJSON_AddArrayToObject(doc, "items");
	for (int r = 0; r < PQntuples(res); r++)
		cJSON_AddItemToArray(items, render_row(res, r, req->lang));
	PQclear(res);
	http_json(req, 200, doc);
	cJSON_Delete(doc);
	return 0;
}

/* 404 unknown (or another tenant's), 409 not failed. */
static int
resend_refused(struct http_req *req, struct svc_thread *t, const char *tid)
{
	const char *p[] = {tid, req->args[0]};
	PGresult *res = NULL;
	int rc;

	if ((rc = db_exec(&t->db, &q_exists, p, &res)) != 0)
		return rc < 0 ? rc : -EIO;
	if (PQntuples(res) == 1)
		svc_fail(req, 409, "not_failed", &msg_outbox_not_failed);
	else
		svc_fail(req, 404, "not_found", &msg_outbox_not_found);
	PQclear(res);
	return 0;
}

int
outbox_resend(struct http_req *req, struct svc_thread *t)
{
	char tid[24];
	PGresult *res = NULL;
	cJSON *doc;
	int rc;

	if (valid_id(req->args[0]) != 0) {
		svc_fail(req, 404, "not_found", &msg_outbox_not_found);
		return 0;
	}
	snprintf(tid, sizeof(tid), "%lld", req->tenant_id);
	const char *p[] = {tid, req->args[0]};
	if ((rc = db_begin(&t->db)) != 0)
		return rc < 0 ? rc : -EIO;
	if ((rc = db_exec(&t->db, &q_resend, p, &res)) != 0)
		goto out;
	if (PQntuples(res) != 1) {
		db_rollback(&t->db);
		PQclear(res);
		return resend_refused(req, t, tid);
	}
	struct audit_entry e = {req->tenant_id, req->remote_addr, "admin",
				req->admin_id,  AUDIT_SETTINGS,   NULL};
	struct audit_more m = {NULL, "mail_resent", {req->args[0], db_get(res, 0, "to_addr")}, 2};
	if ((rc = audit_write_ex(&t->db, &e, &m)) != 0 || (rc = db_commit(&t->db)) != 0)
		goto out;
	doc = cJSON_CreateObject();
	cJSON_AddNumberToObject(doc, "id", (double)db_get_ll(res, 0, "id"));
	cJSON_AddStringToObject(doc, "status", NOTICE_QUEUED);
	cJSON_AddStringToObject(doc, "status_label", status_label(NOTICE_QUEUED, req->lang));
	PQclear(res);
	http_json(req, 202, doc);
	cJSON_Delete(doc);
	return 0;
out:
	db_rollback(&t->db);
	PQclear(res);
	return rc < 0 ? rc : -EIO;
}
