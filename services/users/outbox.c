/*
 * outbox.c: 送信メール: the tenant's outbox (GET /api/notifications) and sending a failed notice
 * again (POST /api/notifications/{id}/resend).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "domain/audit.h"
#include "domain/notice.h"
#include "extern.h"
#include "web/keyset.h"
#include "web/pagecache.h"
#include "web/valid.h"

#define OUTBOX_PER_PAGE 100
/* JST is a fixed +09:00 since 1952 (no zone lookup a timestamp), as the CSV 処理状況 has it */
#define OUTBOX_JST(col)                                                                            \
	"coalesce(to_char((" col ") AT TIME ZONE INTERVAL '+09:00', 'YYYY/MM/DD HH24:MI:SS'), '')"

/*
 * The outbox pages by key, newest first (the id is the key), as the CSV 処理状況 does (issue 12):
 * $1 the tenant, $2 the status filter ('' for every notice), $3 the cursor's id (NULL: from the
 * newest), $4 rows to skip (a ?page=N jump), $5 rows to read; q_list_rev reads backwards. Each
 * page is a range of notifications_tenant (tenant_id, id DESC) or, with a status, of
 * notifications_tenant_status (tenant_id, status, id DESC) (migration 0032). Planned for its
 * parameters each time (db_exec): the '' of no filter folds away, leaving the index range.
 * Kept in Redis (web/pagecache.h) by the generation of the tenant's notices (migration 0034),
 * which every write of a notice moves (the mail worker's attempts too).
 */
/* clang-format off */
#define OUTBOX_COLUMNS                                                                             \
	"id, kind, to_addr, subject, status, attempts, coalesce(last_error, '') AS last_error,"    \
	" " OUTBOX_JST("created_at") " AS created_at,"                                             \
	" " OUTBOX_JST("last_attempt_at") " AS last_attempt_at,"                                   \
	" " OUTBOX_JST("sent_at") " AS sent_at,"                                                   \
	" " OUTBOX_JST("CASE WHEN status = 'queued' THEN next_attempt_at END") " AS next_attempt_at"
#define OUTBOX_WHERE "FROM notifications WHERE tenant_id = $1 AND ($2 = '' OR status = $2)"
#define OUTBOX_SQL(op, dir)                                                                        \
	"SELECT " OUTBOX_COLUMNS ", NULL::text AS k " OUTBOX_WHERE                                  \
	" AND ($3::bigint IS NULL OR id " op " $3::bigint) ORDER BY id " dir " OFFSET $4 LIMIT $5"
/* clang-format on */
static const struct db_stmt q_list = {"outbox_list", OUTBOX_SQL("<", "DESC"), 5};
static const struct db_stmt q_list_rev = {"outbox_list_rev", OUTBOX_SQL(">", "ASC"), 5};

/* At most one more than an exact total shows (web/keyset.h). */
static const struct db_stmt q_count = {
	"outbox_count",
	"SELECT count(*) AS n FROM (SELECT 1 " OUTBOX_WHERE " ORDER BY id LIMIT " KEYSET_EXACT_MAX_S
	" + 1) s",
	2,
};
static const char q_select[] = "SELECT 1 " OUTBOX_WHERE;

/* clang-format off */
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

/* The times and texts an item shows as they are, in its order. */
static const char *const texts[] = {"created_at",      "last_attempt_at", "sent_at",
				    "next_attempt_at", "last_error",      "subject"};
#define NTEXTS (sizeof(texts) / sizeof(texts[0]))

/* A result's column numbers, looked up once (not by name in every row). */
struct outbox_cols {
	int id, kind, to, status, attempts, text[NTEXTS];
};

static void
outbox_cols(const PGresult *res, struct outbox_cols *c)
{
	c->id = PQfnumber(res, "id");
	c->kind = PQfnumber(res, "kind");
	c->to = PQfnumber(res, "to_addr");
	c->status = PQfnumber(res, "status");
	c->attempts = PQfnumber(res, "attempts");
	for (size_t i = 0; i < NTEXTS; i++)
		c->text[i] = PQfnumber(res, texts[i]);
}

static cJSON *
render_row(const PGresult *res, const struct outbox_cols *c, int r, int lang)
{
	cJSON *o = cJSON_CreateObject();
	const char *kind = db_get_at(res, r, c->kind), *st = db_get_at(res, r, c->status);
	const struct notice_kind *k = notice_kind_find(kind);

	json_add_int_text(o, "id", db_get_at(res, r, c->id));
	json_add_text(o, "kind", kind);
	json_add_text(o, "kind_label", k ? (lang == I18N_EN ? k->en : k->ja) : kind);
	json_add_text(o, "to", db_get_at(res, r, c->to));
	json_add_text(o, "status", st);
	json_add_text(o, "status_label", status_label(st, lang));
	json_add_int_text(o, "attempts", db_get_at(res, r, c->attempts));
	for (size_t i = 0; i < NTEXTS; i++)
		json_add_text(o, texts[i], db_get_at(res, r, c->text[i]));
	return o;
}

/* The tenant's generation of its notices (migration 0034): every notice queued, tried, sent or
 * queued again. */
static const struct db_changes notice_changes = DB_CHANGES("outbox", "notification_changes");
#define OUTBOX_GEN_FOLD_AT 64

int
outbox_list(struct http_req *req, struct svc_thread *t)
{
	static const struct valid_field q[] = {
		{"status", valid_outbox_status, 0, &msg_outbox_status, 16},
	};
	cJSON *errs = cJSON_CreateArray(), *doc = NULL, *items;
	char tid[24], st[16] = "", gen[64];
	struct keyset ks;
	PGresult *res = NULL;
	long long total;
	int rc, est;

	if (valid_query(req->query, q, 1, errs, req->lang) +
		    keyset_read(req->query, KEYSET_TEXT, req->lang, errs, &ks) >
	    0) {
		svc_invalid(req, errs);
		return 0;
	}
	cJSON_Delete(errs);
	/* the same page asked again while no notice was written: as it was (web/pagecache.h); the
	 * mail worker's every attempt moves the generation, so a status is never held back */
	if ((rc = db_changes_gen(&t->db, &notice_changes, req->tenant_id, OUTBOX_GEN_FOLD_AT, gen,
				 sizeof(gen))) != 0)
		goto out;
	if (pagecache_answer(&t->kv, "outbox", req, gen))
		return 0;
	if (http_query_get(req->query, "status", st, sizeof(st)) != 0)
		st[0] = '\0';
	snprintf(tid, sizeof(tid), "%lld", req->tenant_id);
	/* the count reads the first two (the tenant, the status) */
	const char *p[] = {tid, st, keyset_id_param(&ks), ks.offset, ks.limit};
	if ((rc = keyset_count_cached(&t->db, &t->kv, "outbox", &ks, &q_count, -1, q_select, p,
				      &total, &est)) != 0)
		goto out;
	keyset_limit(&ks, total, est, OUTBOX_PER_PAGE);
	p[3] = ks.offset;
	p[4] = ks.limit;
	if ((rc = db_exec(&t->db, keyset_reverse(&ks) ? &q_list_rev : &q_list, p, &res)) != 0)
		goto out;
	doc = cJSON_CreateObject();
	keyset_total(doc, total, est);
	keyset_answer(&ks, res, OUTBOX_PER_PAGE, doc);
	items = cJSON_AddArrayToObject(doc, "items");
	int n = PQntuples(res), shown = keyset_rows(&ks, n, OUTBOX_PER_PAGE);
	struct outbox_cols c;
	outbox_cols(res, &c);
	for (int i = 0; i < shown; i++)
		cJSON_AddItemToArray(
			items,
			render_row(res, &c, keyset_row(&ks, n, OUTBOX_PER_PAGE, i), req->lang));
	pagecache_send(&t->kv, "outbox", req, gen, doc);
out:
	PQclear(res);
	cJSON_Delete(doc);
	return rc < 0 ? rc : rc > 0 ? -EIO : 0;
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
