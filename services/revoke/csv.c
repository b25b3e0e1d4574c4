/*
 * csv.c: CSV一括失効 (desknet 7.2: one common name a line; NRA 5: 代表メールアドレス,
 * 利用デバイス用メールアドレス,デバイスコード). POST /api/certificates/revoke-csv reads the file
 * whole (UTF-8, BOM or CP932), resolves every line to exactly one certificate that may be revoked
 * and answers every problem by line; with none, the certificates are a job (domain/jobs.h) that
 * revokes REVOCATION_BATCH of them a transaction, each batch with the job's progress, so a
 * shomei-revoke killed in the middle leaves the rest to the next and revokes nothing twice.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/json.h"
#include "core/log.h"
#include "core/strbuf.h"
#include "domain/audit.h"
#include "domain/jobs.h"
#include "domain/lifecycle.h"
#include "domain/revocation.h"
#include "extern.h"
#include "web/csv.h"
#include "web/upload.h"

/* Each line's certificates: by common name, or by the user's and the device's e-mail and code
 * (CSV一括失効 and CSV一括再発行 alike). */
static const struct db_stmt q_resolve = {
	"rcsv_resolve",
	"SELECT x.i, coalesce(json_agg(json_build_object('id', k.id, 'status', k.status, 'cn', k.cn,"
	" 'superseded', k.superseded_at IS NOT NULL)"
	" ORDER BY k.id) FILTER (WHERE k.id IS NOT NULL), '[]')::text AS certs"
	" FROM json_to_recordset($2::json) AS x(i integer, cn text, e text, de text, c text)"
	" LEFT JOIN LATERAL ("
	"  SELECT c.id, c.status, c.cn, c.superseded_at FROM certificates c"
	"  WHERE c.tenant_id = $1::bigint AND x.cn IS NOT NULL AND c.cn = x.cn"
	"  UNION ALL"
	"  SELECT c.id, c.status, c.cn, c.superseded_at FROM certificates c JOIN devices d ON d.id = c.device_id"
	"  JOIN users u ON u.id = d.user_id"
	"  WHERE c.tenant_id = $1::bigint AND x.cn IS NULL AND lower(u.email) = lower(x.e)"
	"  AND lower(d.email) = lower(x.de) AND d.device_code = x.c AND u.purged_at IS NULL"
	" ) k ON true GROUP BY x.i ORDER BY x.i",
	2,
};

struct rcsv {
	int lang, now; /* now: revoke at once, else on the date */
	cJSON *errs;
	cJSON *lookup; /* [{i, cn} | {i, e, de, c}] */
	cJSON *ids;    /* the certificates, in line order */
	int nlines;
};

static void
line_error(struct rcsv *r, int line, const char *field, const char *msg)
{
	cJSON *e = cJSON_CreateObject();

	cJSON_AddNumberToObject(e, "line", line);
	cJSON_AddStringToObject(e, "field", field);
	cJSON_AddStringToObject(e, "message", msg);
	cJSON_AddItemToArray(r->errs, e);
}

static const char *
label(int lang, int nra)
{
	static const char *const l[2][2] = {{"コモンネーム", "Common name"},
					    {"代表メールアドレス", "Main e-mail address"}};
	return l[nra][lang == I18N_EN];
}

/* A header a user may have kept from the manual's table. */
static int
is_header(const struct csv_row *row)
{
	return row->line == 1 &&
	       (strcmp(row->f[0], "コモンネーム") == 0 ||
		strcmp(row->f[0], "代表メールアドレス") == 0 || strcasecmp(row->f[0], "cn") == 0);
}

/* Read the lines into the lookup; the malformed ones into errs. */
static int
read_lines(struct rcsv *r, const char *text, size_t len)
{
	struct csv_reader rd;
	struct csv_row row;
	int rc;

	csv_reader_init(&rd, text, len);
	while ((rc = csv_read(&rd, &row)) == 1) {
		cJSON *o;
		int bad = 0;

		if (is_header(&row))
			continue;
		r->nlines++;
		for (int i = 0; i < row.n; i++)
			bad |= row.f[i][0] == '\0' || strlen(row.f[i]) > 256;
		if ((row.n != 1 && row.n != 3) || bad) {
			line_error(r, row.line, label(r->lang, row.n == 3),
				   i18n_msg(&msg_rcsv_line, r->lang));
			continue;
		}
		o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "i", row.line);
		if (row.n == 1) {
			cJSON_AddStringToObject(o, "cn", row.f[0]);
		} else {
			cJSON_AddStringToObject(o, "e", row.f[0]);
			cJSON_AddStringToObject(o, "de", row.f[1]);
			cJSON_AddStringToObject(o, "c", row.f[2]);
		}
		cJSON_AddItemToArray(r->lookup, o);
	}
	if (rc == CSV_E_QUOTE) {
		line_error(r, row.line, "file", i18n_msg(&msg_rcsv_quote, r->lang));
		rc = 0;
	}
	csv_reader_done(&rd);
	return rc;
}

/* The one certificate a line names, or an error on the line. seen: ids of earlier lines. */
static void
decide(struct rcsv *r, int line, int nra, const cJSON *certs, cJSON *seen)
{
	const cJSON *c, *pick = NULL;
	int live = 0, revoked = 0, issuing = 0, scheduled = 0;
	char msg[400];

	cJSON_ArrayForEach(c, certs)
	{
		const char *st = json_str(c, "status");
		int ok = strcmp(st, LC_ISSUED) == 0 || strcmp(st, LC_DOWNLOADED) == 0 ||
			 (r->now && strcmp(st, LC_REVOKE_SCHEDULED) == 0);

		revoked += strcmp(st, LC_REVOKED) == 0;
		issuing += strcmp(st, LC_ISSUING) == 0;
		scheduled += strcmp(st, LC_REVOKE_SCHEDULED) == 0;
		if (ok) {
			live++;
			pick = c;
		}
	}
	if (live == 1) {
		double id = cJSON_GetObjectItem(pick, "id")->valuedouble;
		char key[32];
		const cJSON *prev;

		snprintf(key, sizeof(key), "%.0f", id);
		if ((prev = cJSON_GetObjectItem(seen, key)) != NULL) {
			snprintf(msg, sizeof(msg), i18n_msg(&msg_rcsv_twice, r->lang),
				 prev->valueint);
			line_error(r, line, label(r->lang, nra), msg);
			return;
		}
		cJSON_AddNumberToObject(seen, key, line);
		cJSON_AddItemToArray(r->ids, cJSON_CreateNumber(id));
		return;
	}
	const struct i18n_text *m = live > 1                         ? &msg_rcsv_many
				    : cJSON_GetArraySize(certs) == 0 ? &msg_rcsv_unknown
				    : scheduled && !r->now           ? &msg_rcsv_scheduled
				    : issuing                        ? &msg_rcsv_issuing
				    : revoked                        ? &msg_rcsv_revoked
								     : &msg_rcsv_unknown;
	line_error(r, line, label(r->lang, nra), i18n_msg(m, r->lang));
}

int
revoke_resolve_lines(struct db *db, long long tenant_id, const cJSON *lookup, PGresult **out)
{
	char tid[24], *json = cJSON_PrintUnformatted(lookup);
	const char *p[] = {tid, json};
	int rc;

	if (json == NULL)
		return -ENOMEM;
	snprintf(tid, sizeof(tid), "%lld", tenant_id);
	rc = db_exec(db, &q_resolve, p, out);
	free(json);
	return rc < 0 ? rc : rc > 0 ? -EIO : 0;
}

static int
resolve(struct rcsv *r, struct db *db, long long tenant_id)
{
	PGresult *res = NULL;
	cJSON *seen = cJSON_CreateObject();
	int rc, k = 0;

	if (seen == NULL)
		return -ENOMEM;
	if ((rc = revoke_resolve_lines(db, tenant_id, r->lookup, &res)) != 0)
		goto out;
	for (int i = 0; i < PQntuples(res); i++) {
		int line = (int)db_get_ll(res, i, "i");
		cJSON *certs = cJSON_Parse(db_get(res, i, "certs")), *o;
		int nra = 0;

		/* the lookup entry of this line says which layout it used */
		while ((o = cJSON_GetArrayItem(r->lookup, k)) != NULL &&
		       cJSON_GetObjectItem(o, "i")->valueint < line)
			k++;
		nra = o != NULL && cJSON_GetObjectItem(o, "cn") == NULL;
		decide(r, line, nra, certs ? certs : cJSON_CreateArray(), seen);
		cJSON_Delete(certs);
	}
out:
	cJSON_Delete(seen);
	PQclear(res);
	return rc;
}

static int
form_text(const struct http_req *req, const char *name, char *buf, size_t len)
{
	struct upload_part p;

	buf[0] = '\0';
	if (upload_find(req, name, &p) != 0)
		return 0;
	if (p.len >= len)
		return -1;
	memcpy(buf, p.data, p.len);
	buf[p.len] = '\0';
	return 0;
}

static void
field_error(struct http_req *req, const char *field, const char *msg)
{
	cJSON *errs = cJSON_CreateArray();

	json_field_error(errs, field, msg);
	svc_invalid(req, errs);
}

int
revoke_csv(struct http_req *req, struct svc_thread *t)
{
	struct upload_part file;
	struct rcsv r = {.lang = req->lang};
	char date[16], reason_w[40], fname[256], total[16];
	const char *enc = "";
	const struct i18n_text *why;
	char *text = NULL, *params = NULL;
	size_t len = 0;
	int rc = 0, bad_line = 0, reason = REVOCATION_UNSPECIFIED;
	long long job = 0;

	if (upload_find(req, "file", &file) != 0 || !file.has_filename) {
		field_error(req, "file", i18n_msg(&msg_rcsv_no_file, req->lang));
		return 0;
	}
	why = form_text(req, "revoke_on", date, sizeof(date)) != 0 ? &msg_revoke_on_format
	      : date[0]                                            ? revoke_date_problem(date)
								   : NULL;
	if (why != NULL) {
		field_error(req, "revoke_on", i18n_msg(why, req->lang));
		return 0;
	}
	if (form_text(req, "reason", reason_w, sizeof(reason_w)) != 0 ||
	    (reason_w[0] && revocation_reason_parse(reason_w, &reason) != 0)) {
		field_error(req, "reason", i18n_msg(&msg_reason, req->lang));
		return 0;
	}
	snprintf(fname, sizeof(fname), "%s", file.filename[0] ? file.filename : "revoke.csv");
	if ((rc = csv_decode(file.data, file.len, &text, &len, &enc, &bad_line)) ==
	    CSV_E_ENCODING) {
		svc_file_error(req, bad_line, i18n_msg(&msg_rcsv_encoding, req->lang));
		return 0;
	}
	if (rc != 0)
		return rc;
	r.now = date[0] == '\0';
	r.errs = cJSON_CreateArray();
	r.lookup = cJSON_CreateArray();
	r.ids = cJSON_CreateArray();
	if ((rc = read_lines(&r, text, len)) != 0)
		goto out;
	if (r.nlines == 0)
		line_error(&r, 1, "file", i18n_msg(&msg_rcsv_empty, req->lang));
	if (cJSON_GetArraySize(r.lookup) > 0 && (rc = resolve(&r, &t->db, req->tenant_id)) != 0)
		goto out;
	if (cJSON_GetArraySize(r.errs) > 0) {
		json_sort_lines(r.errs);
		svc_invalid(req, r.errs);
		r.errs = NULL;
		goto out;
	}
	cJSON *pj = cJSON_CreateObject();
	cJSON_AddItemToObject(pj, "ids", r.ids);
	r.ids = NULL;
	if (date[0])
		cJSON_AddStringToObject(pj, "revoke_on", date);
	cJSON_AddNumberToObject(pj, "reason", reason);
	params = cJSON_PrintUnformatted(pj);
	int n = cJSON_GetArraySize(cJSON_GetObjectItem(pj, "ids"));
	cJSON_Delete(pj);
	if (params == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	snprintf(total, sizeof(total), "%d", n);
	struct audit_entry e = {req->tenant_id, req->remote_addr,         "admin",
				req->admin_id,  AUDIT_CERTIFICATE_REVOKE, NULL};
	struct audit_more m = {
		NULL, date[0] ? "rcsv_queued_on" : "rcsv_queued", {fname, total, date}, 3};
	struct jobs_new jn = {
		.tenant_id = req->tenant_id,
		.admin_id = req->admin_id,
		.kind = "revoke_csv",
		.filename = fname,
		.input = text,
		.ip = req->remote_addr,
		.encoding = enc,
		.params = params,
		.total = n,
		.devices = n,
		.more = &m,
	};
	if ((rc = jobs_queue(&t->db, &jn, &e, &job)) != 0)
		goto out;
	jobs_wake();
	log_msg(LOG_INFO, "event=revoke_csv_queued tenant=%lld job=%lld certificates=%d on=%s",
		req->tenant_id, job, n, date[0] ? date : "now");
	cJSON *doc = cJSON_CreateObject();
	cJSON_AddNumberToObject(doc, "job_id", (double)job);
	cJSON_AddNumberToObject(doc, "certificates", n);
	cJSON_AddStringToObject(doc, "encoding", enc);
	http_json(req, 202, doc);
	cJSON_Delete(doc);
out:
	free(params);
	free(text);
	cJSON_Delete(r.errs);
	cJSON_Delete(r.lookup);
	cJSON_Delete(r.ids);
	return rc < 0 ? rc : rc > 0 ? -EIO : 0;
}

/* ---- the job: REVOCATION_BATCH certificates a transaction ---- */

static int
chunk(struct db *db, struct job *j, const cJSON *ids, int from, int to, const char *date,
      int reason, long long *done)
{
	char tid[24], rs[8];
	struct strbuf b;
	char *lit = malloc((size_t)(to - from) * 21 + 3);
	PGresult *rows = NULL, *res = NULL;
	int rc;

	if (lit == NULL)
		return -ENOMEM;
	strbuf_init(&b, lit, (size_t)(to - from) * 21 + 3);
	strbuf_add(&b, "{");
	for (int i = from; i < to; i++)
		strbuf_printf(&b, i > from ? ",%.0f" : "%.0f",
			      cJSON_GetArrayItem(ids, i)->valuedouble);
	strbuf_add(&b, "}");
	snprintf(tid, sizeof(tid), "%lld", j->tenant_id);
	snprintf(rs, sizeof(rs), "%d", reason);
	const char *pl[] = {tid, lit};
	const char *pnow[] = {tid, lit, rs};
	const char *psched[] = {tid, lit, date, rs};
	/*
	 * Under the row locks, the statements change only what may still change: a certificate
	 * revoked meanwhile (by an administrator, or by this job before a kill) is left alone.
	 */
	if ((rc = db_begin(db)) != 0 || (rc = db_exec(db, &q_lock, pl, &rows)) != 0 ||
	    (rc = db_exec(db, date[0] ? &q_schedule : &q_revoke_now, date[0] ? psched : pnow,
			  &res)) != 0)
		goto out;
	for (int r = 0; r < PQntuples(res) && rc == 0; r++)
		rc = revoke_record(db, j->tenant_id, j->ip, j->admin_id,
				   date[0] ? REVOKE_SCHEDULE : REVOKE_NOW, res, r);
	if (rc == 0 && !date[0])
		rc = revocation_notify(db, j->tenant_id);
	if (rc == 0 && (rc = jobs_progress(db, j->id, to)) == 0 && (rc = db_commit(db)) == 0) {
		if (!date[0])
			ocsp_cache_bump();
		*done += PQntuples(res);
		j->processed = to;
	}
out:
	if (rc != 0)
		db_rollback(db);
	PQclear(rows);
	PQclear(res);
	free(lit);
	return rc < 0 ? rc : rc > 0 ? -EIO : 0;
}

static int
revoke_csv_run(struct db *db, struct kv *kv, struct job *j, cJSON *errs, long long *units)
{
	const cJSON *ids = cJSON_GetObjectItem(j->params, "ids");
	const char *date = json_str(j->params, "revoke_on");
	const cJSON *reason = cJSON_GetObjectItem(j->params, "reason");
	int n = cJSON_GetArraySize(ids), rc = 0;

	long long changed = 0;

	(void)kv;
	(void)errs;
	for (int from = j->processed; from < n && rc == 0;) {
		int to = from + REVOCATION_BATCH < n ? from + REVOCATION_BATCH : n;

		rc = chunk(db, j, ids, from, to, date ? date : "",
			   cJSON_IsNumber(reason) ? reason->valueint : REVOCATION_UNSPECIFIED,
			   &changed);
		from = to;
	}
	*units = n; /* the certificates of the file (a run resumed after a kill counts them all) */
	return rc;
}

static const struct jobs_kind kinds[] = {
	{"revoke_csv", AUDIT_CERTIFICATE_REVOKE, "失効", revoke_csv_run},
	{"reissue_csv", AUDIT_CERTIFICATE_REISSUE, "再発行", reissue_csv_run},
};

int
revoke_jobs_start(const struct cfg *cfg)
{
	return jobs_start(cfg, kinds, sizeof(kinds) / sizeof(kinds[0]));
}
