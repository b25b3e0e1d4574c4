/* bulk.c: 証明書ダウンロード (every valid certificate as one ZIP) and パスワードリストCSV. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "domain/audit.h"
#include "extern.h"
#include "core/json.h"
#include "core/log.h"
#include "pki/datakey.h"
#include "web/csv.h"
#include "web/valid.h"
#include "zipw.h"

/* How many file names the history entry of a bulk download lists; it counts the rest. */
#define BULK_HISTORY_NAMES 100
/* How many ids one UPDATE marks downloaded at the end of the ZIP. */
#define BULK_MARK_CHUNK 1000

/*
 * What a bulk download keeps while it streams, none of it growing with the rows: the ids to
 * mark go to an unlinked temporary file, the history names the first BULK_HISTORY_NAMES files.
 */
struct bulk {
	struct http_req *req;
	struct svc_thread *t;
	const unsigned char *key;
	FILE *ids;   /* the ZIP's certificate ids (long long each), marked downloaded at the end */
	char *names; /* "client_000001,client_000002": the first BULK_HISTORY_NAMES */
	size_t names_len;
	size_t count;
	struct zipw *zip; /* the archive, or for the password list one that names files only */
	int list;         /* the password list: the names the ZIP gives, with the passwords */
	time_t now;
};

static int
append(char **buf, size_t *len, const char *sep, const char *s)
{
	size_t n = strlen(s) + strlen(sep);
	char *p = realloc(*buf, *len + n + 2);

	if (p == NULL)
		return -ENOMEM;
	snprintf(p + *len, n + 2, "%s%s", *len ? sep : "", s);
	*buf = p;
	*len += strlen(p + *len);
	return 0;
}

static int
remember(struct bulk *b, const struct dist_cert *c, const char *name)
{
	b->count++;
	if (b->ids != NULL && fwrite(&c->id, sizeof(c->id), 1, b->ids) != 1)
		return -EIO;
	if (b->count <= BULK_HISTORY_NAMES && append(&b->names, &b->names_len, ",", name) != 0)
		return -ENOMEM;
	return 0;
}

static int
zip_sink(void *ctx, const void *buf, size_t len)
{
	return http_write(ctx, buf, len);
}

static int
no_sink(void *ctx, const void *buf, size_t len)
{
	(void)ctx;
	(void)buf;
	(void)len;
	return 0;
}

/* One row of the cursor into the archive or the list. */
static int
one(struct bulk *b, const PGresult *res, int row)
{
	struct dist_cert c;
	char name[300], file[310];
	int rc;

	if ((rc = dist_cert_from_row(res, row, b->key, &c)) != 0)
		return rc;
	dist_base_name(&c, name, sizeof(name));
	snprintf(file, sizeof(file), "%s.p12", name);
	/* the file's name in the ZIP (_2 … when it repeats): the list and the history use it too */
	if ((rc = zipw_add(b->zip, file, b->list ? "" : (const void *)c.p12,
			   b->list ? 0 : c.p12_len, b->now)) == 0)
		snprintf(name, sizeof(name), "%.*s", (int)strlen(zipw_last_name(b->zip)) - 4,
			 zipw_last_name(b->zip));
	if (rc == 0 && b->list && (rc = csv_field(b->req, name, 0)) == 0)
		rc = csv_field(b->req, c.password, 1);
	if (rc == 0)
		rc = remember(b, &c, name);
	dist_cert_done(&c);
	return rc > 0 ? -EIO : rc;
}

/* Read the open cursor to its end, 100 rows at a time. */
static int
drain(struct bulk *b)
{
	PGresult *res = NULL;
	int rc, n;

	do {
		if ((rc = db_exec_sql(&b->t->db, q_bulk_fetch, 0, NULL, &res)) != 0)
			return rc < 0 ? rc : -EIO;
		n = PQntuples(res);
		for (int i = 0; i < n && rc == 0; i++)
			rc = one(b, res, i);
		PQclear(res);
	} while (rc == 0 && n > 0);
	return rc;
}

/* Mark the ZIP's certificates downloaded, BULK_MARK_CHUNK ids an UPDATE, read back from b->ids. */
static int
mark(struct bulk *b)
{
	long long id[BULK_MARK_CHUNK];
	size_t cap = BULK_MARK_CHUNK * 21 + 3, done = 0, n;
	char tid[24], *arr = malloc(cap);
	int rc = 0;

	if (arr == NULL)
		return -ENOMEM;
	if (fflush(b->ids) != 0 || fseek(b->ids, 0, SEEK_SET) != 0)
		rc = -EIO;
	snprintf(tid, sizeof(tid), "%lld", b->req->tenant_id);
	while (rc == 0 && (n = fread(id, sizeof(id[0]), BULK_MARK_CHUNK, b->ids)) > 0) {
		PGresult *res = NULL;
		size_t o = 0;
		for (size_t i = 0; i < n; i++)
			o += (size_t)snprintf(arr + o, cap - o, "%s%lld", i ? "," : "{", id[i]);
		snprintf(arr + o, cap - o, "}");
		const char *params[] = {tid, arr};
		rc = db_exec(&b->t->db, &q_mark_many, params, &res);
		PQclear(res);
		done += n;
	}
	free(arr);
	if (rc == 0 && done != b->count)
		rc = -EIO;
	return rc;
}

/* After the last byte: mark the certificates downloaded and write the history, then commit. */
static int
finish(struct bulk *b, enum audit_action action)
{
	char more[24];
	struct audit_entry e = {
		b->req->tenant_id, b->req->remote_addr, "admin", b->req->admin_id, action, NULL};
	struct audit_more m = {NULL, "files", {b->names ? b->names : ""}, 1};
	int rc = 0;

	if (b->count > BULK_HISTORY_NAMES) {
		snprintf(more, sizeof(more), "%zu", b->count - BULK_HISTORY_NAMES);
		m.code = "files_more";
		m.params[1] = more;
		m.n = 2;
	}
	if (!b->list && b->count > 0)
		rc = mark(b);
	if (rc == 0)
		rc = audit_write_ex(&b->t->db, &e, &m);
	if (rc == 0)
		rc = db_commit(&b->t->db);
	return rc < 0 ? rc : (rc ? -EIO : 0);
}

/*
 * The ?ids=1,2,3 of the request as a PostgreSQL array "{1,2,3}" into *out (caller frees), or
 * NULL when there is none (every valid certificate). 1 when the list is unusable (answered 422
 * here), -ENOMEM.
 */
static int
read_ids(struct http_req *req, char **out)
{
	int rc = valid_id_list(req->query, "ids", out);

	if (rc == HTTP_E_ABSENT)
		return 0;
	if (rc == 1) {
		cJSON *errs = cJSON_CreateArray();
		json_field_error(errs, "ids", i18n_msg(&msg_bad_ids, req->lang));
		svc_invalid(req, errs);
	}
	return rc;
}

/* Open the transaction and the cursor on the ids asked for; answers itself when it cannot (1). */
static int
open_cursor(struct bulk *b, const char *sql)
{
	char tid[24], *ids = NULL;
	PGresult *res = NULL;
	int rc;

	if ((rc = read_ids(b->req, &ids)) != 0)
		return rc;
	snprintf(tid, sizeof(tid), "%lld", b->req->tenant_id);
	const char *params[] = {tid, ids};
	if ((rc = db_begin(&b->t->db)) != 0) {
		free(ids);
		return rc;
	}
	rc = db_exec_sql(&b->t->db, sql, 2, params, &res);
	free(ids);
	if (rc != 0) {
		db_rollback(&b->t->db);
		return rc < 0 ? rc : -EIO;
	}
	PQclear(res);
	return 0;
}

static void
bulk_done(struct bulk *b, int rc, const char *what)
{
	if (rc != 0) {
		db_rollback(&b->t->db);
		log_msg(LOG_WARN, "event=%s_aborted rc=%d sent=%zu", what, rc, b->count);
	} else {
		log_msg(LOG_INFO, "event=%s count=%zu", what, b->count);
	}
	zipw_free(b->zip);
	if (b->ids != NULL)
		fclose(b->ids);
	free(b->names);
}

int
dl_zip(struct http_req *req, struct svc_thread *t)
{
	struct bulk b = {.req = req, .t = t, .key = datakey_get(t->cfg), .now = time(NULL)};
	struct dist_chain ch;
	int rc;

	if (b.key == NULL)
		return -EIO;
	if ((rc = dist_chain_load(&t->db, req->tenant_id, &ch)) != 0)
		return rc < 0 ? rc : -EIO;
	if ((rc = open_cursor(&b, q_bulk_zip)) != 0) {
		dist_chain_done(&ch);
		return rc > 0 ? 0 : rc;
	}
	if ((b.zip = zipw_new(zip_sink, req)) == NULL || (b.ids = tmpfile()) == NULL) {
		db_rollback(&t->db);
		dist_chain_done(&ch);
		zipw_free(b.zip);
		return -ENOMEM;
	}
	/* From here on the answer is streaming: errors can only cut it short. */
	dl_attachment(req, "certificates", "zip");
	http_begin(req, 200, "application/zip");
	if ((rc = zipw_add(b.zip, "cacert.pem", ch.pem, ch.pem_len, b.now)) == 0 &&
	    (rc = zipw_add(b.zip, "cacert.crt", ch.ca_der, ch.ca_der_len, b.now)) == 0 &&
	    (rc = drain(&b)) == 0 && (rc = zipw_finish(b.zip)) == 0)
		rc = finish(&b, AUDIT_CERTIFICATE_DOWNLOAD);
	dist_chain_done(&ch);
	bulk_done(&b, rc, "zip_download");
	return 0;
}

int
dl_passwords(struct http_req *req, struct svc_thread *t)
{
	struct bulk b = {
		.req = req, .t = t, .key = datakey_get(t->cfg), .list = 1, .now = time(NULL)};
	int rc;

	if (b.key == NULL)
		return -EIO;
	/* names the files as the ZIP does (dl_zip adds the chain first), writing nothing */
	if ((b.zip = zipw_new(no_sink, NULL)) == NULL)
		return -ENOMEM;
	if ((rc = zipw_add(b.zip, "cacert.pem", "", 0, b.now)) != 0 ||
	    (rc = zipw_add(b.zip, "cacert.crt", "", 0, b.now)) != 0 ||
	    (rc = open_cursor(&b, q_bulk_csv)) != 0) {
		zipw_free(b.zip);
		return rc > 0 ? 0 : rc;
	}
	dl_attachment(req, "passwords", "csv");
	http_begin(req, 200, "text/csv; charset=utf-8");
	/* A byte-order mark, so Excel reads the file as UTF-8. */
	if ((rc = http_write(req, "\xEF\xBB\xBF", 3)) == 0 && (rc = drain(&b)) == 0)
		rc = finish(&b, AUDIT_PASSWORD_CSV);
	bulk_done(&b, rc, "password_csv");
	return 0;
}
