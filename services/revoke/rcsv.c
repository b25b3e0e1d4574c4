/*
 * rcsv.c: CSV一括再発行 (NRA 6-2). POST /api/certificates/reissue-csv (multipart file, revoke_on)
 * takes the 5-column layout (代表メールアドレス, 利用デバイス用メールアドレス, デバイスコード,
 * 証明書有効期限(From), (To)) and the 8-column one with Organization, OrganizationUnit1, 2 before
 * the device code (the trailing optional columns may be left off), read like CSV一括失効. The file
 * is checked whole: each line must name one device whose current certificate may be reissued, with
 * fields the tenant's service allows. Then a job (kind reissue_csv) reissues RCSV_BATCH lines a
 * transaction through reissue_apply(), with the job's progress in the same transaction, so a
 * process killed in the middle resumes after the last commit and reissues nothing twice.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/json.h"
#include "core/log.h"
#include "domain/audit.h"
#include "domain/certq.h"
#include "domain/jobs.h"
#include "domain/lifecycle.h"
#include "extern.h"
#include "web/csv.h"
#include "web/upload.h"

/* Lines a job's transaction reissues. */
#define RCSV_BATCH 100

struct xcsv {
	int lang, now;
	const struct reissue_tenant *tn;
	cJSON *errs;   /* {line, field, message} */
	cJSON *lookup; /* [{i, e, de, c}] */
	cJSON *fields; /* line -> {o, ou1, ou2, valid_from, valid_to} */
	cJSON *items;  /* [{id, line, o?, …}] in line order */
	int nlines, need;
};

/* A column's label (ja, en) for the errors. */
static const char *
col_label(const char *field, int lang)
{
	static const char *const t[][3] = {
		{"e", "代表メールアドレス", "Main e-mail address"},
		{"o", "Organization", "Organization"},
		{"ou1", "OrganizationUnit1", "OrganizationUnit1"},
		{"ou2", "OrganizationUnit2", "OrganizationUnit2"},
		{"valid_from", "証明書有効期限(From)", "Validity from"},
		{"valid_to", "証明書有効期限(To)", "Validity to"},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (strcmp(t[i][0], field) == 0)
			return t[i][lang == I18N_EN ? 2 : 1];
	return t[0][lang == I18N_EN ? 2 : 1];
}

static void
line_error(struct xcsv *x, int line, const char *field, const char *msg)
{
	cJSON *e = cJSON_CreateObject();

	cJSON_AddNumberToObject(e, "line", line);
	cJSON_AddStringToObject(e, "field", col_label(field, x->lang));
	cJSON_AddStringToObject(e, "message", msg);
	cJSON_AddItemToArray(x->errs, e);
}

static int
is_header(const struct csv_row *row)
{
	return row->line == 1 && (strcmp(row->f[0], "代表メールアドレス") == 0 ||
				  strcasecmp(row->f[0], "email") == 0);
}

/* One well-formed line: its lookup entry and its fields (checked like the API's). */
static void
take_line(struct xcsv *x, const struct csv_row *row)
{
	int wide = row->n >= 6, code = wide ? 5 : 2;
	static const char *const names[] = {"o", "ou1", "ou2"};
	cJSON *o = cJSON_CreateObject(), *f = cJSON_CreateObject(), *errs = cJSON_CreateArray(), *e;
	struct reissue_fields rf;
	char key[16];

	for (int i = 0; wide && i < 3; i++)
		cJSON_AddStringToObject(f, names[i], row->f[2 + i]);
	if (row->n > code + 1)
		cJSON_AddStringToObject(f, "valid_from", row->f[code + 1]);
	if (row->n > code + 2)
		cJSON_AddStringToObject(f, "valid_to", row->f[code + 2]);
	reissue_check_fields(f, x->tn, x->lang, errs, &rf);
	cJSON_ArrayForEach(e, errs)
		line_error(x, row->line, json_str(e, "field"), json_str(e, "message"));
	cJSON_Delete(errs);
	cJSON_AddNumberToObject(o, "i", row->line);
	cJSON_AddStringToObject(o, "e", row->f[0]);
	cJSON_AddStringToObject(o, "de", row->f[1]);
	cJSON_AddStringToObject(o, "c", row->f[code]);
	cJSON_AddItemToArray(x->lookup, o);
	snprintf(key, sizeof(key), "%d", row->line);
	cJSON_AddItemToObject(x->fields, key, f);
}

static int
read_lines(struct xcsv *x, const char *text, size_t len)
{
	struct csv_reader rd;
	struct csv_row row;
	int rc;

	csv_reader_init(&rd, text, len);
	while ((rc = csv_read(&rd, &row)) == 1) {
		int bad = row.n < 3 || row.n > 8, code = row.n >= 6 ? 5 : 2;

		if (is_header(&row))
			continue;
		x->nlines++;
		for (int i = 0; i < row.n; i++)
			bad |= strlen(row.f[i]) > 256;
		if (!bad)
			bad = row.f[0][0] == '\0' || row.f[1][0] == '\0' || row.f[code][0] == '\0';
		if (bad) {
			line_error(x, row.line, "e", i18n_msg(&msg_xcsv_line, x->lang));
			continue;
		}
		take_line(x, &row);
	}
	if (rc == CSV_E_QUOTE) {
		line_error(x, row.line, "e", i18n_msg(&msg_rcsv_quote, x->lang));
		rc = 0;
	}
	csv_reader_done(&rd);
	return rc;
}

/* The certificate a line's device has now: its valid one, else its latest revoked one. */
static void
decide(struct xcsv *x, int line, const cJSON *certs, cJSON *seen)
{
	const cJSON *c, *valid = NULL, *revoked = NULL;
	int nvalid = 0, issuing = 0, scheduled = 0;
	char key[32], msg[300], lk[16];
	const cJSON *prev;

	cJSON_ArrayForEach(c, certs)
	{
		const char *st = json_str(c, "status");
		if (cJSON_IsTrue(cJSON_GetObjectItem(c, "superseded")))
			continue;
		issuing += strcmp(st, LC_ISSUING) == 0;
		scheduled += strcmp(st, LC_REVOKE_SCHEDULED) == 0;
		if (lifecycle_has(st, LC_F_VALID))
			valid = c, nvalid++;
		else if (strcmp(st, LC_REVOKED) == 0)
			revoked = c; /* ordered by id: the latest wins */
	}
	const struct i18n_text *m = nvalid > 1             ? &msg_rcsv_many
				    : issuing              ? &msg_rcsv_issuing
				    : scheduled && !x->now ? &msg_rcsv_scheduled
				    : !valid && !revoked   ? &msg_rcsv_unknown
							   : NULL;
	if (m != NULL) {
		line_error(x, line, "e", i18n_msg(m, x->lang));
		return;
	}
	c = valid ? valid : revoked;
	snprintf(key, sizeof(key), "%.0f", cJSON_GetObjectItem(c, "id")->valuedouble);
	if ((prev = cJSON_GetObjectItem(seen, key)) != NULL) {
		snprintf(msg, sizeof(msg), i18n_msg(&msg_rcsv_twice, x->lang), prev->valueint);
		line_error(x, line, "e", msg);
		return;
	}
	cJSON_AddNumberToObject(seen, key, line);
	x->need += valid == NULL;
	snprintf(lk, sizeof(lk), "%d", line);
	cJSON *it = cJSON_Duplicate(cJSON_GetObjectItem(x->fields, lk), 1);
	cJSON_AddNumberToObject(it, "id", cJSON_GetObjectItem(c, "id")->valuedouble);
	cJSON_AddNumberToObject(it, "line", line);
	cJSON_AddItemToArray(x->items, it);
}

static int
resolve(struct xcsv *x, struct db *db, long long tenant_id)
{
	PGresult *res = NULL;
	cJSON *seen = cJSON_CreateObject();
	int rc;

	if (seen == NULL)
		return -ENOMEM;
	if ((rc = revoke_resolve_lines(db, tenant_id, x->lookup, &res)) == 0)
		for (int i = 0; i < PQntuples(res); i++) {
			cJSON *certs = cJSON_Parse(db_get(res, i, "certs"));
			decide(x, (int)db_get_ll(res, i, "i"), certs ? certs : cJSON_CreateArray(),
			       seen);
			cJSON_Delete(certs);
		}
	cJSON_Delete(seen);
	PQclear(res);
	return rc;
}

static int
form_date(const struct http_req *req, char *buf, size_t len)
{
	struct upload_part p;

	buf[0] = '\0';
	if (upload_find(req, "revoke_on", &p) != 0)
		return 0;
	if (p.len >= len)
		return -1;
	memcpy(buf, p.data, p.len);
	buf[p.len] = '\0';
	return 0;
}

static void
one_error(struct http_req *req, const char *field, const char *msg)
{
	cJSON *errs = cJSON_CreateArray();

	json_field_error(errs, field, msg);
	svc_invalid(req, errs);
}

/* The licences the revoked ones take must be left now (checked again when the job runs). */
static int
check_quota(struct xcsv *x, struct db *db, long long tenant_id)
{
	struct certq_quota q;
	char msg[256];
	int rc;

	if (x->need == 0)
		return 0;
	if ((rc = certq_count(db, tenant_id, &q)) != 0)
		return rc < 0 ? rc : -EIO;
	if (x->need > q.available) {
		snprintf(msg, sizeof(msg), i18n_msg(&msg_reissue_quota, x->lang),
			 (long long)x->need, q.available);
		line_error(x, 1, "e", msg);
	}
	return 0;
}

static int
queue(struct http_req *req, struct svc_thread *t, struct xcsv *x, const char *fname,
      const char *text, const char *enc, const char *date, long long *job)
{
	char total[16], *params;
	cJSON *pj = cJSON_CreateObject();
	int n = cJSON_GetArraySize(x->items), rc;
	struct audit_entry e = {req->tenant_id, req->remote_addr,          "admin",
				req->admin_id,  AUDIT_CERTIFICATE_REISSUE, NULL};
	struct audit_more m = {
		NULL, date[0] ? "xcsv_queued_on" : "xcsv_queued", {fname, total, date}, 3};

	cJSON_AddItemReferenceToObject(pj, "items", x->items);
	if (date[0])
		cJSON_AddStringToObject(pj, "revoke_on", date);
	params = cJSON_PrintUnformatted(pj);
	cJSON_Delete(pj);
	if (params == NULL)
		return -ENOMEM;
	snprintf(total, sizeof(total), "%d", n);
	struct jobs_new jn = {
		.tenant_id = req->tenant_id,
		.admin_id = req->admin_id,
		.kind = "reissue_csv",
		.filename = fname,
		.input = text,
		.ip = req->remote_addr,
		.encoding = enc,
		.params = params,
		.total = n,
		.devices = n,
		.more = &m,
	};
	rc = jobs_queue(&t->db, &jn, &e, job);
	free(params);
	return rc;
}

int
reissue_csv(struct http_req *req, struct svc_thread *t)
{
	struct upload_part file;
	struct reissue_tenant tn;
	struct xcsv x = {.lang = req->lang, .tn = &tn};
	char date[16], fname[256], *text = NULL;
	const struct i18n_text *why;
	const char *enc = "";
	size_t len = 0;
	long long job = 0;
	int rc, bad_line = 0;

	if (upload_find(req, "file", &file) != 0 || !file.has_filename) {
		one_error(req, "file", i18n_msg(&msg_rcsv_no_file, req->lang));
		return 0;
	}
	why = form_date(req, date, sizeof(date)) != 0 ? &msg_revoke_on_format
	      : date[0]                               ? revoke_date_problem(date)
						      : NULL;
	if (why != NULL) {
		one_error(req, "revoke_on", i18n_msg(why, req->lang));
		return 0;
	}
	snprintf(fname, sizeof(fname), "%s", file.filename[0] ? file.filename : "reissue.csv");
	if ((rc = csv_decode(file.data, file.len, &text, &len, &enc, &bad_line)) ==
	    CSV_E_ENCODING) {
		svc_file_error(req, bad_line, i18n_msg(&msg_rcsv_encoding, req->lang));
		return 0;
	}
	if (rc != 0)
		return rc;
	x.now = date[0] == '\0';
	x.errs = cJSON_CreateArray();
	x.lookup = cJSON_CreateArray();
	x.fields = cJSON_CreateObject();
	x.items = cJSON_CreateArray();
	if ((rc = reissue_tenant(&t->db, req->tenant_id, &tn)) != 0 ||
	    (rc = read_lines(&x, text, len)) != 0)
		goto out;
	if (x.nlines == 0)
		line_error(&x, 1, "e", i18n_msg(&msg_xcsv_empty, req->lang));
	if (cJSON_GetArraySize(x.lookup) > 0 && (rc = resolve(&x, &t->db, req->tenant_id)) != 0)
		goto out;
	if (cJSON_GetArraySize(x.errs) == 0 && (rc = check_quota(&x, &t->db, req->tenant_id)) != 0)
		goto out;
	if (cJSON_GetArraySize(x.errs) > 0) {
		json_sort_lines(x.errs);
		svc_invalid(req, x.errs);
		x.errs = NULL;
		goto out;
	}
	if ((rc = queue(req, t, &x, fname, text, enc, date, &job)) != 0)
		goto out;
	jobs_wake();
	log_msg(LOG_INFO, "event=reissue_csv_queued tenant=%lld job=%lld certificates=%d on=%s",
		req->tenant_id, job, cJSON_GetArraySize(x.items), date[0] ? date : "now");
	cJSON *doc = cJSON_CreateObject();
	cJSON_AddNumberToObject(doc, "job_id", (double)job);
	cJSON_AddNumberToObject(doc, "certificates", cJSON_GetArraySize(x.items));
	cJSON_AddStringToObject(doc, "encoding", enc);
	http_json(req, 202, doc);
	cJSON_Delete(doc);
out:
	free(text);
	cJSON_Delete(x.errs);
	cJSON_Delete(x.lookup);
	cJSON_Delete(x.fields);
	cJSON_Delete(x.items);
	return rc < 0 ? rc : rc > 0 ? -EIO : 0;
}

/* ---- the job ---- */

/* Lines from..to of the job as one reissue_apply(); refusals into errs (the job fails). */
static int
chunk(struct db *db, struct kv *kv, struct job *j, const struct reissue_tenant *tn, int from,
      int to, cJSON *errs)
{
	const cJSON *items = cJSON_GetObjectItem(j->params, "items");
	const char *date = json_str(j->params, "revoke_on");
	struct reissue_item *it = calloc((size_t)(to - from), sizeof(*it));
	struct reissue_fields *f = calloc((size_t)(to - from), sizeof(*f));
	struct reissue_req rq = {it, (size_t)(to - from), "", 1, j->id, to};
	struct revoke_who w = {j->tenant_id, j->ip, j->admin_id, I18N_JA};
	int rc = -ENOMEM, status = 0;

	if (it == NULL || f == NULL)
		goto out;
	snprintf(rq.date, sizeof(rq.date), "%s", date ? date : "");
	for (int i = from; i < to; i++) {
		const cJSON *o = cJSON_GetArrayItem(items, i);
		it[i - from].id = (long long)cJSON_GetObjectItem(o, "id")->valuedouble;
		it[i - from].line = cJSON_GetObjectItem(o, "line")->valueint;
		reissue_check_fields(o, tn, I18N_JA, errs, &f[i - from]);
		it[i - from].f = &f[i - from];
	}
	rc = 0;
	if (cJSON_GetArraySize(errs) > 0) /* a period that has ended since the upload */
		goto out;
	reissue_sort(&rq);
	if ((rc = reissue_apply(db, &w, &rq, &status, errs)) == 0 && status == 200) {
		j->processed = to;
		certq_wake(kv, j->tenant_id);
	}
out:
	free(it);
	free(f);
	return rc;
}

int
reissue_csv_run(struct db *db, struct kv *kv, struct job *j, cJSON *errs, long long *units)
{
	int n = cJSON_GetArraySize(cJSON_GetObjectItem(j->params, "items")), rc = 0;
	struct reissue_tenant tn;

	if ((rc = reissue_tenant(db, j->tenant_id, &tn)) != 0)
		return rc < 0 ? rc : -EIO;
	for (int from = j->processed; from < n && rc == 0 && cJSON_GetArraySize(errs) == 0;) {
		int to = from + RCSV_BATCH < n ? from + RCSV_BATCH : n;

		rc = chunk(db, kv, j, &tn, from, to, errs);
		from = to;
	}
	*units = n;
	return rc;
}
