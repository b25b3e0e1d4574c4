/* list.c: GET /api/certificates (証明書一覧 with its filters) and GET /api/certificates/{id}. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/certq.h"
#include "extern.h"
#include "web/i18n.h"
#include "core/json.h"
#include "core/util.h"
#include "web/keyset.h"
#include "web/pagecache.h"
#include "web/valid.h"
#include "pki/x509.h"
#include "domain/lifecycle.h"
#include "domain/device.h"

static int
status_ok(const char *v)
{
	return strcmp(v, "valid") == 0 || strcmp(v, "all") == 0 ? 0 : VALID_E_FORMAT;
}

static int
sort_ok(const char *v)
{
	return strcmp(v, "issued_at") == 0 || strcmp(v, "-issued_at") == 0 ? 0 : VALID_E_FORMAT;
}

/* The CN limit counts characters; 64 of UTF-8 fit in 256 bytes. */
static int
cn_ok(const char *v)
{
	return strlen(v) > 256 ? VALID_E_RANGE : valid_text(v);
}

/* Each checker bounds its value's length, so what passes fits struct filter. */
static const struct valid_field qfields[] = {
	{"status", status_ok, 0, &msg_status, 0},
	{"cn", cn_ok, 0, &msg_cn, 0},
	{"issued_from", valid_date, 0, &msg_date_format, 0},
	{"issued_to", valid_date, 0, &msg_date_format, 0},
	{"sort", sort_ok, 0, &msg_issue_sort, 0},
};
#define NQ (sizeof(qfields) / sizeof(qfields[0]))

struct filter {
	char v[NQ][260]; /* the values, "" when absent */
};

/*
 * Read and check every parameter; failures go to errs, named. Returns their number, or
 * -EINVAL should a value that passed not fit (it cannot: it is an error, not a dropped value).
 */
static int
read_filter(const struct http_req *req, struct filter *f, cJSON *errs)
{
	int bad = valid_query(req->query, qfields, NQ, errs, req->lang);

	if (bad > 0)
		return bad;
	for (size_t i = 0; i < NQ; i++) {
		int rc = http_query_get(req->query, qfields[i].name, f->v[i], sizeof(f->v[i]));
		if (rc != 0 && rc != HTTP_E_ABSENT)
			return -EINVAL;
	}
	if (f->v[2][0] && f->v[3][0] && strcmp(f->v[2], f->v[3]) > 0) {
		json_field_error(errs, "issued_from", i18n_msg(&msg_date_range, req->lang));
		bad++;
	}
	return bad;
}

static void
add_id(cJSON *o, const char *name, const PGresult *res, int r, const char *col)
{
	json_add_int_text(o, name, db_get(res, r, col));
}

/* One certificate as the list shows it. */
static cJSON *
item(const PGresult *res, int r, int lang)
{
	cJSON *o = cJSON_CreateObject();
	const char *dev = db_get(res, r, "device_code");
	const char *status = db_get(res, r, "status");

	add_id(o, "id", res, r, "id");
	add_id(o, "user_id", res, r, "user_id");
	json_add_text(o, "device", dev);
	json_add_text(o, "device_label", dev ? device_label(dev, lang) : NULL);
	json_add_text(o, "cn", db_get(res, r, "cn"));
	json_add_text(o, "email", db_get(res, r, "email"));
	json_add_text(o, "serial", db_get(res, r, "serial"));
	json_add_text(o, "status", status);
	json_add_text(o, "status_label", lifecycle_label(status, lang));
	json_add_text(o, "issued_at", db_get(res, r, "issued_at"));
	json_add_text(o, "expires_at", db_get(res, r, "expires_at"));
	json_add_text(o, "revoked_at", db_get(res, r, "revoked_at"));
	json_add_text(o, "revoke_on", db_get(res, r, "revoke_on"));
	/* a user's certificate: whose and which device, so rows of one CN can be told apart */
	json_add_text(o, "user_name", db_get(res, r, "user_name"));
	json_add_text(o, "device_email", db_get(res, r, "device_email"));
	return o;
}

/* 1 when the list has no CN and no 発行日 condition (the status only chooses the list). */
static int
unfiltered(const struct filter *f)
{
	return !f->v[1][0] && !f->v[2][0] && !f->v[3][0];
}

static const struct db_stmt *
page_stmt(int desc, int reverse)
{
	if (desc)
		return reverse ? &q_list_desc_rev : &q_list_desc;
	return reverse ? &q_list_asc_rev : &q_list_asc;
}

/*
 * The list's total (p: the page's parameters, f: its filter). Without a CN or 発行日 the
 * triggers' count answers (migration 0026); with one, the count is kept in Redis until a
 * certificate of the tenant changes (keyset_count_gen). 0, or what db_exec returns.
 */
static int
list_total(struct svc_thread *t, const struct filter *f, const char *const *p, long long *total,
	   int *est)
{
	PGresult *res = NULL;
	char gen[64];
	long long n;
	int rc;

	if ((rc = db_exec_generic(&t->db, &q_counts, p, &res)) != 0)
		return rc;
	n = db_get_ll(res, 0, "n");
	snprintf(gen, sizeof(gen), "%s", db_get(res, 0, "gen") ? db_get(res, 0, "gen") : "");
	PQclear(res);
	if (unfiltered(f)) {
		keyset_known(n, total, est);
		return 0;
	}
	return keyset_count_gen(&t->db, &t->kv, "certificates", gen, &q_list_count, -1,
				q_list_select, p, total, est);
}

int
issue_list(struct http_req *req, struct svc_thread *t)
{
	char tid[24];
	struct filter f;
	struct keyset ks;
	cJSON *errs = cJSON_CreateArray(), *doc = NULL, *items;
	PGresult *res = NULL;
	char gen[100];
	long long total = 0;
	int rc, est = 0;

	rc = read_filter(req, &f, errs);
	if (rc >= 0)
		rc += keyset_read(req->query, KEYSET_INT, req->lang, errs, &ks);
	if (rc != 0) {
		if (rc < 0) {
			cJSON_Delete(errs);
			return rc;
		}
		svc_invalid(req, errs);
		return 0;
	}
	cJSON_Delete(errs);
	snprintf(tid, sizeof(tid), "%lld", req->tenant_id);
#define OPT(i) (f.v[i][0] ? f.v[i] : NULL)
	const char *p[] = {tid,
			   f.v[0][0] ? f.v[0] : "valid",
			   OPT(1),
			   OPT(2),
			   OPT(3),
			   keyset_key_param(&ks),
			   keyset_id_param(&ks),
			   ks.offset,
			   ks.limit};
#undef OPT
	int desc = strcmp(f.v[4], "-issued_at") == 0;
	/* the same page asked again while nothing it shows changed: as it was (web/pagecache.h) */
	if ((rc = certq_list_gen(&t->db, tid, gen, sizeof(gen))) != 0)
		goto out;
	if (pagecache_answer(&t->kv, "certificates", req, gen))
		goto out;
	if ((rc = list_total(t, &f, p, &total, &est)) != 0)
		goto out;
	keyset_limit(&ks, total, est, ISSUE_PER_PAGE);
	if (unfiltered(&f) && strcmp(ks.offset, "0") == 0 &&
	    strcmp(ks.limit, ISSUE_PER_PAGE_READ_S) == 0) {
		/* no CN, no 発行日, a whole page: a statement of a fixed shape, planned once */
		int cursor = keyset_id_param(&ks) != NULL;
		const struct db_stmt *st = &q_list_fixed[strcmp(p[1], "valid") == 0][cursor]
							[desc * 2 + keyset_reverse(&ks)];
		const char *fp[] = {tid, p[5], p[6]};
		rc = db_exec_generic(&t->db, st, fp, &res);
	} else {
		rc = db_exec(&t->db, page_stmt(desc, keyset_reverse(&ks)), p, &res);
	}
	if (rc != 0)
		goto out;
	doc = cJSON_CreateObject();
	keyset_total(doc, total, est);
	keyset_answer(&ks, res, ISSUE_PER_PAGE, doc);
	items = cJSON_AddArrayToObject(doc, "items");
	int n = PQntuples(res), shown = keyset_rows(&ks, n, ISSUE_PER_PAGE);
	for (int i = 0; i < shown; i++)
		cJSON_AddItemToArray(items,
				     item(res, keyset_row(&ks, n, ISSUE_PER_PAGE, i), req->lang));
	pagecache_send(&t->kv, "certificates", req, gen, doc);
out:
	cJSON_Delete(doc);
	PQclear(res);
	return rc < 0 ? rc : rc > 0 ? -EIO : 0;
}

/* The stored DER (hex from the query) as PEM; NULL when there is none. */
static char *
pem_of(const char *hex)
{
	unsigned char *der = NULL;
	size_t n, len = 0;
	char *pem = NULL;
	X509 *x = NULL;

	if (hex == NULL || (n = strlen(hex)) == 0 || n % 2 || (der = malloc(n / 2)) == NULL)
		return NULL;
	for (size_t i = 0; i < n; i += 2)
		der[i / 2] = (unsigned char)(util_hexval(hex[i]) << 4 | util_hexval(hex[i + 1]));
	if (x509_cert_from_der(der, n / 2, &x) == 0)
		x509_cert_to_pem(x, &pem, &len);
	X509_free(x);
	free(der);
	return pem;
}

int
issue_get(struct http_req *req, struct svc_thread *t)
{
	char id[24], tid[24];
	long long n;
	PGresult *res = NULL;
	cJSON *doc = NULL;
	char *pem = NULL;
	const char *subject;
	int rc;

	if (util_parse_ll(req->args[0], 1, 9007199254740991LL, &n) != 0) {
		svc_fail(req, 404, "not_found", &msg_not_found);
		return 0;
	}
	snprintf(id, sizeof(id), "%lld", n);
	snprintf(tid, sizeof(tid), "%lld", req->tenant_id);
	const char *params[] = {id, tid};
	if ((rc = db_exec(&t->db, &q_one, params, &res)) != 0)
		return rc < 0 ? rc : -EIO;
	if (PQntuples(res) != 1) {
		svc_fail(req, 404, "not_found", &msg_not_found);
		goto out;
	}
	doc = item(res, 0, req->lang);
	subject = db_get(res, 0, "subject");
	json_add_text(doc, "subject", subject && *subject ? subject : NULL);
	json_add_text(doc, "not_before", db_get(res, 0, "not_before"));
	json_add_text(doc, "key_type", db_get(res, 0, "key_type"));
	pem = pem_of(db_get(res, 0, "cert_der"));
	json_add_text(doc, "pem", pem);
	json_add_text(doc, "last_error", db_get(res, 0, "last_error"));
	http_json(req, 200, doc);
out:
	free(pem);
	cJSON_Delete(doc);
	PQclear(res);
	return 0;
}
