/*
 * purge.c: マスター削除 (NRA 7): revoke a user's valid certificates through shomei-revoke's
 * internal API, then remove the user's personal data in one transaction with its history
 * entry (2次削除, delete.c), and CSV一括利用者マスター削除 (NRA 7-3): POST /api/users/purge takes a
 * file of 代表メールアドレス, checks it whole (every error by line, nothing changes), and queues a
 * user_purge job that purges PURGE_CHUNK users a transaction, the job's progress in the same
 * transaction, so a worker killed at any point resumes without doing anything twice.
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
#include "domain/lifecycle.h"
#include "domain/revocation.h"
#include "extern.h"
#include "web/csv.h"
#include "web/internal.h"
#include "web/upload.h"
#include "web/valid.h"

#define PURGE_CHUNK 50     /* users a transaction in a job */
#define PURGE_IDS_MAX 1000 /* certificates an internal call revokes (shomei-revoke's limit) */
#define PURGE_ATTEMPTS 3   /* reads and revocations before a purge gives up (503) */
#define PURGE_REASON "cessationOfOperation"

/* clang-format off */
static const struct db_stmt q_valid_certs = {
	"purge_valid_certs",
	"SELECT id FROM certificates WHERE tenant_id = $1 AND user_id = ANY ($2::bigint[])"
	" AND status IN (" LC_SQL(LC_ISSUED) ", " LC_SQL(LC_DOWNLOADED) ", "
	LC_SQL(LC_REVOKE_SCHEDULED) ") ORDER BY id",
	2,
};
/* clang-format on */

/* Certificates that still work, will, or are being made: none may be left at the purge. */
/* clang-format off */
static const struct db_stmt q_live_certs = {
	"purge_live_certs",
	"SELECT count(*) FILTER (WHERE status = " LC_SQL(LC_ISSUING) ") AS issuing,"
	" count(*) AS n FROM certificates WHERE tenant_id = $1 AND user_id = $2"
	" AND status IN (" LC_SQL(LC_ISSUING) ", " LC_SQL(LC_ISSUED) ", " LC_SQL(LC_DOWNLOADED)
	", " LC_SQL(LC_REVOKE_SCHEDULED) ")",
	2,
};
/* clang-format on */

/* The personal data goes; ids, the certificates' own fields and the history stay. */
/* clang-format off */
static const struct db_stmt q_purge_user = {
	"purge_user",
	"UPDATE users SET family_name = '', given_name = '', family_name_kana = '',"
	" given_name_kana = '', family_name_en = '', given_name_en = '', email = '',"
	" purged_email_sha256 = sha256(convert_to(lower(email), 'UTF8')),"
	" purged_at = now(), updated_at = now() WHERE tenant_id = $1 AND id = $2",
	2,
};
/* clang-format on */

/* clang-format off */
static const struct db_stmt q_purge_devices = {
	"purge_devices",
	"UPDATE devices SET email = '', restrict_mac = NULL, restrict_computer = NULL,"
	" restrict_login_user = NULL, restrict_bios_serial = NULL, service_id = NULL,"
	" principal_name = NULL WHERE tenant_id = $1 AND user_id = $2",
	2,
};
/* clang-format on */

/* No PKCS#12 of a purged user can be downloaded again. */
/* clang-format off */
static const struct db_stmt q_purge_p12 = {
	"purge_p12",
	"UPDATE certificates SET p12 = NULL, p12_password_enc = NULL, updated_at = now()"
	" WHERE tenant_id = $1 AND user_id = $2",
	2,
};
/* clang-format on */

int
purge_live(struct db *db, long long tenant_id, long long uid, int *issuing, int *live)
{
	char tid[24], id[24];
	const char *p[] = {tid, id};
	PGresult *res = NULL;
	int rc;

	snprintf(tid, sizeof(tid), "%lld", tenant_id);
	snprintf(id, sizeof(id), "%lld", uid);
	if ((rc = db_exec(db, &q_live_certs, p, &res)) != 0)
		return rc < 0 ? rc : -EIO;
	*issuing = (int)db_get_ll(res, 0, "issuing");
	*live = (int)db_get_ll(res, 0, "n");
	PQclear(res);
	return 0;
}

/* "{1,2,3}" of n ids (malloc'ed), or NULL. */
static char *
id_array(const long long *ids, size_t n)
{
	size_t cap = n * 21 + 3;
	char *s = malloc(cap);
	struct strbuf b;

	if (s == NULL)
		return NULL;
	strbuf_init(&b, s, cap);
	strbuf_add(&b, "{");
	for (size_t i = 0; i < n; i++)
		strbuf_printf(&b, i ? ",%lld" : "%lld", ids[i]);
	strbuf_add(&b, "}");
	if (strbuf_error(&b) != 0) {
		free(s);
		return NULL;
	}
	return s;
}

/* One internal call for the certificates res[from, to). 0, 1 (409: something changed), -EIO. */
static int
revoke_slice(const struct purge_who *w, const PGresult *res, int from, int to)
{
	cJSON *body = cJSON_CreateObject(), *ids = cJSON_AddArrayToObject(body, "ids"), *ans = NULL;
	int status = 0, rc;

	cJSON_AddNumberToObject(body, "tenant", (double)w->tenant_id);
	for (int r = from; r < to; r++)
		cJSON_AddItemToArray(ids, cJSON_CreateNumber((double)db_get_ll(res, r, "id")));
	cJSON_AddStringToObject(body, "reason", PURGE_REASON);
	if (w->admin_id > 0)
		cJSON_AddNumberToObject(body, "admin_id", (double)w->admin_id);
	if (w->ip != NULL && w->ip[0] != '\0')
		cJSON_AddStringToObject(body, "remote_addr", w->ip);
	rc = internal_post(w->cfg, "users", "/internal/revocations", body, &status, &ans);
	if (rc == 0 && status != 200) {
		const cJSON *e = cJSON_GetObjectItem(ans, "error");
		log_msg(status == 409 ? LOG_INFO : LOG_WARN,
			"event=purge_revocation_refused tenant=%lld status=%d code=%s",
			w->tenant_id, status, e ? json_str(e, "code") : "-");
		rc = status == 409 ? 1 : -EIO;
	} else if (rc != 0) {
		log_msg(LOG_WARN, "event=purge_revocation_failed tenant=%lld rc=%d", w->tenant_id,
			rc);
	}
	cJSON_Delete(ans);
	cJSON_Delete(body);
	return rc < 0 ? -EIO : rc;
}

int
purge_revoke(struct db *db, const struct purge_who *w, const long long *uids, size_t n)
{
	char tid[24], *arr = id_array(uids, n);
	const char *p[] = {tid, arr};
	PGresult *res = NULL;
	int rc = -EIO;

	if (arr == NULL)
		return -ENOMEM;
	snprintf(tid, sizeof(tid), "%lld", w->tenant_id);
	for (int attempt = 0; attempt < PURGE_ATTEMPTS; attempt++) {
		int changed = 0;

		PQclear(res);
		res = NULL;
		if ((rc = db_exec(db, &q_valid_certs, p, &res)) != 0) {
			rc = rc < 0 ? rc : -EIO;
			break;
		}
		if (PQntuples(res) == 0) {
			rc = 0;
			break;
		}
		for (int from = 0; from < PQntuples(res) && !changed; from += PURGE_IDS_MAX) {
			int to = from + PURGE_IDS_MAX < PQntuples(res) ? from + PURGE_IDS_MAX
								       : PQntuples(res);
			if ((rc = revoke_slice(w, res, from, to)) < 0)
				goto out;
			changed = rc == 1;
		}
		rc = -EIO; /* unless the next look finds none left */
	}
out:
	PQclear(res);
	free(arr);
	return rc;
}

int
purge_locked(struct db *db, const struct purge_who *w, long long uid, const PGresult *u)
{
	char tid[24], id[24];
	const char *p[] = {tid, id};
	struct audit_entry e = {
		w->tenant_id,      w->ip, w->admin_id ? "admin" : "system", w->admin_id,
		AUDIT_USER_DELETE, NULL};
	struct audit_more m = {
		NULL,
		"user_purged",
		{db_get(u, 0, "family_name"), db_get(u, 0, "given_name"), db_get(u, 0, "email")},
		3};
	const struct db_stmt *st[] = {&q_purge_user, &q_purge_devices, &q_purge_p12};
	int rc = 0;

	snprintf(tid, sizeof(tid), "%lld", w->tenant_id);
	snprintf(id, sizeof(id), "%lld", uid);
	for (size_t i = 0; i < sizeof(st) / sizeof(st[0]) && rc == 0; i++) {
		PGresult *res = NULL;
		rc = db_exec(db, st[i], p, &res);
		PQclear(res);
	}
	if (rc == 0)
		rc = audit_write_ex(db, &e, &m);
	return rc < 0 ? rc : rc > 0 ? -EIO : 0;
}

/* ---- POST /api/users/purge: the file checked whole, then a job ---- */

/* Each line's users by 代表メールアドレス: the live ones (with their certificates being made),
 * and whether a purged user had the address. */
/* clang-format off */
static const struct db_stmt q_resolve = {
	"purge_resolve",
	"SELECT x.i, coalesce(json_agg(json_build_object('id', u.id, 'issuing',"
	"  (SELECT count(*) FROM certificates c WHERE c.tenant_id = u.tenant_id"
	"   AND c.user_id = u.id AND c.status = " LC_SQL(LC_ISSUING) ")) ORDER BY u.id)"
	"  FILTER (WHERE u.id IS NOT NULL), '[]')::text AS users,"
	" EXISTS (SELECT 1 FROM users p WHERE p.tenant_id = $1::bigint"
	"  AND p.purged_email_sha256 = sha256(convert_to(lower(x.e), 'UTF8'))) AS purged"
	" FROM json_to_recordset($2::json) AS x(i integer, e text)"
	" LEFT JOIN users u ON u.tenant_id = $1::bigint AND lower(u.email) = lower(x.e)"
	"  AND u.purged_at IS NULL"
	" GROUP BY x.i, x.e ORDER BY x.i",
	2,
};
/* clang-format on */

struct pcsv {
	int lang;
	cJSON *errs;   /* {line, field, message} */
	cJSON *lookup; /* [{i, e}] */
	cJSON *users;  /* the user ids, in line order */
	cJSON *lines;  /* the line of each */
	int nlines;
};

static void
line_error(struct pcsv *c, int line, const char *msg)
{
	cJSON *e = cJSON_CreateObject();

	cJSON_AddNumberToObject(e, "line", line);
	cJSON_AddStringToObject(e, "field",
				c->lang == I18N_EN ? "Main e-mail address" : "代表メールアドレス");
	cJSON_AddStringToObject(e, "message", msg);
	cJSON_AddItemToArray(c->errs, e);
}

static int
read_lines(struct pcsv *c, const char *text, size_t len)
{
	struct csv_reader rd;
	struct csv_row row;
	int rc;

	csv_reader_init(&rd, text, len);
	while ((rc = csv_read(&rd, &row)) == 1) {
		const char *v = row.f[0];

		if (row.line == 1 && row.n >= 1 &&
		    (strcmp(v, "代表メールアドレス") == 0 || strcasecmp(v, "email") == 0))
			continue;
		c->nlines++;
		if (row.n != 1 || v[0] == '\0' || strlen(v) > 256 || valid_text(v) != 0 ||
		    strchr(v, '@') == NULL || strchr(v, ' ') != NULL) {
			line_error(c, row.line, i18n_msg(&msg_purge_line, c->lang));
			continue;
		}
		cJSON *o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "i", row.line);
		cJSON_AddStringToObject(o, "e", v);
		cJSON_AddItemToArray(c->lookup, o);
	}
	if (rc == CSV_E_QUOTE) {
		line_error(c, row.line, i18n_msg(&msg_csv_quote, c->lang));
		rc = 0;
	}
	csv_reader_done(&rd);
	return rc;
}

/* The user a line names, or the line's error. seen: user id -> its first line. */
static void
decide(struct pcsv *c, int line, const cJSON *users, int purged, cJSON *seen)
{
	const cJSON *u = cJSON_GetArrayItem(users, 0);
	char key[32], msg[300];
	const cJSON *prev;

	if (cJSON_GetArraySize(users) == 0) {
		line_error(c, line,
			   i18n_msg(purged ? &msg_purge_purged : &msg_purge_unknown, c->lang));
		return;
	}
	if (cJSON_GetArraySize(users) > 1) {
		line_error(c, line, i18n_msg(&msg_purge_several, c->lang));
		return;
	}
	snprintf(key, sizeof(key), "%.0f", cJSON_GetObjectItem(u, "id")->valuedouble);
	if ((prev = cJSON_GetObjectItem(seen, key)) != NULL) {
		snprintf(msg, sizeof(msg), i18n_msg(&msg_purge_twice, c->lang), prev->valueint);
		line_error(c, line, msg);
		return;
	}
	cJSON_AddNumberToObject(seen, key, line);
	if (cJSON_GetObjectItem(u, "issuing")->valuedouble > 0) {
		line_error(c, line, i18n_msg(&msg_purge_issuing, c->lang));
		return;
	}
	cJSON_AddItemToArray(c->users,
			     cJSON_CreateNumber(cJSON_GetObjectItem(u, "id")->valuedouble));
	cJSON_AddItemToArray(c->lines, cJSON_CreateNumber(line));
}

static int
resolve(struct pcsv *c, struct db *db, long long tenant_id)
{
	char tid[24], *json = cJSON_PrintUnformatted(c->lookup);
	const char *p[] = {tid, json};
	PGresult *res = NULL;
	cJSON *seen = cJSON_CreateObject();
	int rc;

	snprintf(tid, sizeof(tid), "%lld", tenant_id);
	if (json == NULL || seen == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	if ((rc = db_exec(db, &q_resolve, p, &res)) != 0) {
		rc = rc < 0 ? rc : -EIO;
		goto out;
	}
	for (int r = 0; r < PQntuples(res); r++) {
		cJSON *users = cJSON_Parse(db_get(res, r, "users"));
		const char *pg = db_get(res, r, "purged");

		decide(c, (int)db_get_ll(res, r, "i"), users ? users : cJSON_CreateArray(),
		       pg != NULL && *pg == 't', seen);
		cJSON_Delete(users);
	}
out:
	cJSON_Delete(seen);
	PQclear(res);
	free(json);
	return rc;
}

/* The checked file becomes a queued job with its history entry, in one transaction. */
static int
queue(struct http_req *req, struct svc_thread *t, const char *fname, const char *text,
      const char *enc, const struct pcsv *c, long long *job)
{
	char total[16], *params;
	int n = cJSON_GetArraySize(c->users), rc;
	cJSON *pj = cJSON_CreateObject();
	struct audit_entry e = {req->tenant_id, req->remote_addr,  "admin",
				req->admin_id,  AUDIT_USER_DELETE, NULL};
	struct audit_more m = {NULL, "purge_queued", {fname, total}, 2};

	cJSON_AddItemReferenceToObject(pj, "users", c->users);
	cJSON_AddItemReferenceToObject(pj, "lines", c->lines);
	params = cJSON_PrintUnformatted(pj);
	cJSON_Delete(pj);
	if (params == NULL)
		return -ENOMEM;
	snprintf(total, sizeof(total), "%d", n);
	struct jobs_new jn = {
		.tenant_id = req->tenant_id,
		.admin_id = req->admin_id,
		.kind = "user_purge",
		.filename = fname,
		.input = text,
		.ip = req->remote_addr,
		.encoding = enc,
		.params = params,
		.total = n,
		.more = &m,
	};
	rc = jobs_queue(&t->db, &jn, &e, job);
	free(params);
	return rc;
}

int
users_purge_csv(struct http_req *req, struct svc_thread *t)
{
	struct upload_part file;
	struct pcsv c = {.lang = req->lang};
	char fname[256], *text = NULL;
	const char *enc = "";
	size_t len = 0;
	long long job = 0;
	int rc, bad_line = 0;

	if (upload_find(req, "file", &file) != 0 || !file.has_filename) {
		svc_file_error(req, 0, i18n_msg(&msg_csv_no_file, req->lang));
		return 0;
	}
	snprintf(fname, sizeof(fname), "%s", file.filename);
	if (valid_text(fname) != 0 || valid_utf8_len(fname) > 200 || fname[0] == '\0')
		snprintf(fname, sizeof(fname), "purge.csv");
	if ((rc = csv_decode(file.data, file.len, &text, &len, &enc, &bad_line)) ==
	    CSV_E_ENCODING) {
		svc_file_error(req, bad_line, i18n_msg(&msg_csv_encoding, req->lang));
		return 0;
	}
	if (rc != 0)
		return rc;
	c.errs = cJSON_CreateArray();
	c.lookup = cJSON_CreateArray();
	c.users = cJSON_CreateArray();
	c.lines = cJSON_CreateArray();
	if ((rc = read_lines(&c, text, len)) != 0)
		goto out;
	if (c.nlines == 0)
		line_error(&c, 1, i18n_msg(&msg_purge_empty, req->lang));
	if (cJSON_GetArraySize(c.lookup) > 0 && (rc = resolve(&c, &t->db, req->tenant_id)) != 0)
		goto out;
	if (cJSON_GetArraySize(c.errs) > 0) {
		json_sort_lines(c.errs);
		svc_invalid(req, c.errs);
		c.errs = NULL;
		goto out;
	}
	if ((rc = queue(req, t, fname, text, enc, &c, &job)) != 0)
		goto out;
	jobs_wake();
	log_msg(LOG_INFO, "event=purge_queued tenant=%lld job=%lld users=%d enc=%s", req->tenant_id,
		job, cJSON_GetArraySize(c.users), enc);
	cJSON *doc = cJSON_CreateObject();
	cJSON_AddNumberToObject(doc, "job_id", (double)job);
	cJSON_AddNumberToObject(doc, "users", cJSON_GetArraySize(c.users));
	cJSON_AddStringToObject(doc, "encoding", enc);
	http_json(req, 202, doc);
	cJSON_Delete(doc);
out:
	cJSON_Delete(c.errs);
	cJSON_Delete(c.lookup);
	cJSON_Delete(c.users);
	cJSON_Delete(c.lines);
	free(text);
	return rc < 0 ? rc : rc > 0 ? -EIO : 0;
}

/* ---- the job: PURGE_CHUNK users a transaction ---- */

/* clang-format off */
static const struct db_stmt q_user_row = {
	"purge_user_row",
	"SELECT id, family_name, given_name, email, purged_at FROM users"
	" WHERE tenant_id = $1 AND id = $2 FOR UPDATE",
	2,
};
/* clang-format on */

/* Purge users[from, to) whose certificates are revoked; errs gets why one cannot go. */
static int
purge_chunk(struct db *db, const struct purge_who *w, struct job *j, const long long *uids,
	    int from, int to, long long *purged, cJSON *errs)
{
	struct certq_quota q;
	char tid[24], id[24];
	const char *p[] = {tid, id};
	long long done = 0;
	int rc;

	snprintf(tid, sizeof(tid), "%lld", w->tenant_id);
	if ((rc = db_begin(db)) != 0 || (rc = certq_lock(db, w->tenant_id, &q)) != 0)
		goto out;
	for (int i = from; i < to && rc == 0; i++) {
		PGresult *u = NULL;
		int issuing = 0, live = 0;

		snprintf(id, sizeof(id), "%lld", uids[i]);
		if ((rc = db_exec(db, &q_user_row, p, &u)) != 0 || PQntuples(u) != 1 ||
		    db_get(u, 0, "purged_at") != NULL) {
			PQclear(u); /* gone, or purged meanwhile (2次削除): nothing to do */
			continue;
		}
		if ((rc = purge_live(db, w->tenant_id, uids[i], &issuing, &live)) == 0 &&
		    live > 0) {
			cJSON *e = cJSON_CreateObject();
			const cJSON *ln =
				cJSON_GetArrayItem(cJSON_GetObjectItem(j->params, "lines"), i);
			if (cJSON_IsNumber(ln))
				cJSON_AddNumberToObject(e, "line", ln->valuedouble);
			cJSON_AddStringToObject(e, "field", "代表メールアドレス");
			cJSON_AddStringToObject(
				e, "message",
				i18n_msg(issuing ? &msg_purge_issuing : &msg_user_live_certificates,
					 I18N_JA));
			cJSON_AddItemToArray(errs, e);
			PQclear(u);
			goto out;
		}
		if (rc == 0 && (rc = purge_locked(db, w, uids[i], u)) == 0)
			done++;
		PQclear(u);
	}
	if (rc == 0 && (rc = jobs_progress(db, j->id, to)) == 0 && (rc = db_commit(db)) == 0) {
		j->processed = to;
		*purged += done;
		return 0;
	}
out:
	db_rollback(db);
	return rc < 0 ? rc : rc > 0 ? -EIO : 0;
}

const struct cfg *purge_cfg; /* set by users_jobs_start */

int
purge_run(struct db *db, struct kv *kv, struct job *j, cJSON *errs, long long *units)
{
	const cJSON *list = cJSON_GetObjectItem(j->params, "users"), *e;
	int n = cJSON_GetArraySize(list), k = 0, rc = 0;
	long long *uids = calloc((size_t)n + 1, sizeof(*uids)), purged = 0;
	struct purge_who w = {purge_cfg, j->tenant_id, j->admin_id, j->ip};

	(void)kv;
	if (uids == NULL)
		return -ENOMEM;
	cJSON_ArrayForEach(e, list) uids[k++] = (long long)e->valuedouble;
	for (int from = j->processed; from < n && rc == 0 && cJSON_GetArraySize(errs) == 0;) {
		int to = from + PURGE_CHUNK < n ? from + PURGE_CHUNK : n;

		if ((rc = purge_revoke(db, &w, uids + from, (size_t)(to - from))) == 0)
			rc = purge_chunk(db, &w, j, uids, from, to, &purged, errs);
		from = to;
	}
	*units = n; /* the users of the file (a run resumed after a kill counts them all) */
	free(uids);
	return rc;
}
