/* history.c: GET /api/audit, the 操作履歴 list with its filters, and its CSV (export.csv). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "domain/audit.h"
#include "extern.h"
#include "web/i18n.h"
#include "core/json.h"
#include "core/log.h"
#include "web/csv.h"
#include "web/keyset.h"
#include "web/pagecache.h"
#include "web/valid.h"

static const struct valid_field fields[] = {
	{"from", valid_date, 0, &msg_date_format, 10},
	{"to", valid_date, 0, &msg_date_format, 10},
	{"action", audit_valid_action, 0, &msg_action, 64},
	{"q", valid_text, 0, &msg_text_too_long, 200},
};

/*
 * A query parameter valid_query has passed, or NULL when absent or empty. Every field's maxlen
 * fits its buffer, so no other outcome is possible; *rc says so (-EINVAL) rather than drop it.
 */
static const char *
opt(const char *query, const char *name, char *buf, size_t len, int *rc)
{
	int r = http_query_get(query, name, buf, len);

	if (r != 0 && r != HTTP_E_ABSENT)
		*rc = -EINVAL;
	return r == 0 && *buf ? buf : NULL;
}

/* The filter's values (the history's list and its CSV alike). */
struct filter_bufs {
	char from[16], to[16], action[72], q[256];
};

/*
 * Read and check the filter into f (its strings in b), with a page when ks is not NULL. 1 when
 * the request was answered 422, 0 when f is set, or -errno.
 */
static int
read_filter(struct http_req *req, struct audit_filter *f, struct filter_bufs *b, struct keyset *ks)
{
	cJSON *errs = cJSON_CreateArray();
	int rc = 0;

	if (valid_query(req->query, fields, 4, errs, req->lang) +
		    (ks ? keyset_read(req->query, KEYSET_INT, req->lang, errs, ks) : 0) >
	    0) {
		svc_invalid(req, errs);
		return 1;
	}
	f->from = opt(req->query, "from", b->from, sizeof(b->from), &rc);
	f->to = opt(req->query, "to", b->to, sizeof(b->to), &rc);
	f->action = opt(req->query, "action", b->action, sizeof(b->action), &rc);
	f->q = opt(req->query, "q", b->q, sizeof(b->q), &rc);
	f->ks = ks;
	if (rc != 0) {
		cJSON_Delete(errs);
		return rc;
	}
	/* yyyy/mm/dd compares as text in calendar order */
	if (f->from && f->to && strcmp(f->from, f->to) > 0) {
		json_field_error(errs, "from", i18n_msg(&msg_date_range, req->lang));
		svc_invalid(req, errs);
		return 1;
	}
	cJSON_Delete(errs);
	return 0;
}

int
auth_audit(struct http_req *req, struct svc_thread *t)
{
	struct filter_bufs b;
	struct audit_filter f;
	struct keyset ks;
	cJSON *doc = NULL;
	char gen[64];
	int rc;

	if ((rc = read_filter(req, &f, &b, &ks)) != 0)
		return rc > 0 ? 0 : rc;
	/* the same page asked again while no entry was written: as it was (web/pagecache.h) */
	if ((rc = audit_list_gen(&t->db, req->tenant_id, gen, sizeof(gen))) != 0)
		return rc;
	if (pagecache_answer(&t->kv, "audit", req, gen))
		return 0;
	if ((rc = audit_list(&t->db, req->tenant_id, &f, req->lang, &doc)) != 0)
		return rc;
	pagecache_send(&t->kv, "audit", req, gen, doc);
	cJSON_Delete(doc);
	return 0;
}

/* The CSV's rows from the cursor, until it is drained; *rows counts them. */
static int
export_rows(struct http_req *req, struct svc_thread *t, long *rows)
{
	char detail[8192];
	PGresult *res = NULL;
	int rc, n;

	do {
		if ((rc = audit_export_fetch(&t->db, &res)) != 0)
			return rc < 0 ? rc : -EIO;
		n = PQntuples(res);
		for (int i = 0; i < n && rc == 0; i++) {
			const char *action = db_get(res, i, "action");
			const char *label = audit_action_label(action, req->lang);
			if ((rc = csv_field(req, db_get(res, i, "at"), 0)) == 0 &&
			    (rc = csv_field(req, db_get(res, i, "ip"), 0)) == 0 &&
			    (rc = csv_field(req, db_get(res, i, "login_id"), 0)) == 0 &&
			    (rc = csv_field(req, label ? label : action, 0)) == 0)
				rc = csv_field(req,
					       audit_export_detail(res, i, req->lang, detail,
								   sizeof(detail)),
					       1);
			(*rows)++;
		}
		PQclear(res);
	} while (rc == 0 && n > 0);
	return rc;
}

/*
 * GET /api/audit/export.csv: 操作履歴 CSV, the list's filters, every entry (newest first), read
 * from a cursor AUDIT_EXPORT_ROWS at a time and streamed: memory stays the same however long the
 * history. The export is itself in the history, committed after the last row.
 */
int
auth_audit_export(struct http_req *req, struct svc_thread *t)
{
	static const char *const head[2][5] = {
		{"操作日時", "アクセスIP", "ログインID", "操作内容", "結果"},
		{"Date", "IP address", "Login ID", "Operation", "Result"}};
	struct filter_bufs b;
	struct audit_filter f;
	char detail[64];
	long rows = 0;
	int rc;

	if ((rc = read_filter(req, &f, &b, NULL)) != 0)
		return rc > 0 ? 0 : rc;
	if ((rc = db_begin(&t->db)) != 0)
		return rc < 0 ? rc : -EIO;
	if ((rc = audit_export_open(&t->db, req->tenant_id, &f)) != 0) {
		db_rollback(&t->db);
		return rc < 0 ? rc : -EIO;
	}
	http_add_header(req, "Content-Disposition",
			"attachment; filename=\"history.csv\"; "
			"filename*=UTF-8''%E6%93%8D%E4%BD%9C%E5%B1%A5%E6%AD%B4.csv");
	http_add_header(req, "Cache-Control", "no-store");
	http_begin(req, 200, "text/csv; charset=utf-8");
	/* From here on the answer streams: an error can only cut it short (no history then). */
	int en = req->lang == I18N_EN;
	rc = http_write(req, "\xEF\xBB\xBF", 3); /* UTF-8 with a BOM, as Excel wants it */
	for (int i = 0; i < 5 && rc == 0; i++)
		rc = csv_field(req, head[en][i], i == 4);
	if (rc == 0)
		rc = export_rows(req, t, &rows);
	if (rc == 0) {
		snprintf(detail, sizeof(detail), "%ld", rows);
		struct audit_entry e = {req->tenant_id, req->remote_addr, "admin",
					req->admin_id,  AUDIT_AUDIT_CSV,  NULL};
		struct audit_more m = {NULL, "audit_csv", {detail}, 1};
		if ((rc = audit_write_ex(&t->db, &e, &m)) == 0)
			rc = db_commit(&t->db);
	}
	if (rc != 0) {
		db_rollback(&t->db);
		log_msg(LOG_WARN, "event=audit_export_aborted rc=%d rows=%ld", rc, rows);
	} else {
		log_msg(LOG_INFO, "event=audit_export rows=%ld", rows);
	}
	return 0;
}
