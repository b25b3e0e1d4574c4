/* batch.c: POST /api/certificates/batch {count}: add N numbered certificates (client_NNNNNN). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "domain/certq.h"
#include "extern.h"
#include "web/i18n.h"
#include "core/json.h"
#include "core/log.h"

/* A body field: a JSON value checked by fn, which writes the typed value. */
struct bfield {
	const char *name;
	int required;
	int (*fn)(const cJSON *v, long long *out);
};

/* A whole JSON number (not a string, not a fraction, not a boolean) from 1 to ISSUE_BATCH_MAX. */
static int
whole_count(const cJSON *v, long long *out)
{
	double d;

	if (!cJSON_IsNumber(v))
		return -1;
	d = v->valuedouble;
	if (!isfinite(d) || d != floor(d) || d < 1 || d > ISSUE_BATCH_MAX)
		return -1;
	*out = (long long)d;
	return 0;
}

static const struct bfield fields[] = {
	{"count", 1, whole_count},
};

/* The count message names the limit the tenant has now. */
static void
count_error(cJSON *errs, long long available, int lang)
{
	char msg[256];

	snprintf(msg, sizeof(msg), i18n_msg(&msg_count_range, lang), available);
	json_field_error(errs, "count", msg);
}

/* Check the body against the table; *count is set when valid. Returns the failures. */
static int
check_body(const cJSON *body, long long *count, long long available, cJSON *errs, int lang)
{
	int bad = 0;

	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, fields[i].name);
		if ((v == NULL || cJSON_IsNull(v)) && !fields[i].required)
			continue;
		if (v == NULL || fields[i].fn(v, count) != 0) {
			count_error(errs, available, lang);
			bad++;
		}
	}
	return bad;
}

/* Insert count rows numbered from first, their ids into ids. */
static int
insert_rows(struct http_req *req, struct svc_thread *t, const struct certq_quota *q,
	    long long first, long long count, cJSON *ids)
{
	char cn[32];
	long long id;
	int rc;

	for (long long i = 0; i < count; i++) {
		struct certq_row r = {
			.tenant_id = req->tenant_id,
			.number = (int)(first + i),
			.cn = cn,
			.key_type = q->key_type,
			.requested_by = req->admin_id,
			.requested_ip = req->remote_addr,
		};
		snprintf(cn, sizeof(cn), "client_%06lld", first + i);
		if ((rc = certq_insert(&t->db, &r, &id)) != 0)
			return rc;
		cJSON_AddItemToArray(ids, cJSON_CreateNumber((double)id));
	}
	return 0;
}

/* Take the numbers and insert the rows; positive outcomes: 409 (issuing), 422 (range). */
static int
take(struct http_req *req, struct svc_thread *t, const cJSON *body, cJSON *ids, long long *count,
     int *status, cJSON *errs)
{
	char tid[24], n[24];
	struct certq_quota q;
	PGresult *res = NULL;
	int rc;

	if ((rc = certq_lock(&t->db, req->tenant_id, &q)) != 0)
		return rc == DB_E_NOTFOUND ? -ENOENT : rc;
	if (q.issuing > 0) {
		*status = 409;
		return 0;
	}
	if (check_body(body, count, q.available, errs, req->lang) > 0 || *count > q.available) {
		if (cJSON_GetArraySize(errs) == 0)
			count_error(errs, q.available, req->lang);
		*status = 422;
		return 0;
	}
	snprintf(tid, sizeof(tid), "%lld", req->tenant_id);
	snprintf(n, sizeof(n), "%lld", *count);
	const char *params[] = {tid, n};
	if ((rc = db_exec(&t->db, &q_next_numbers, params, &res)) != 0)
		return rc < 0 ? rc : -EIO;
	rc = insert_rows(req, t, &q, db_get_ll(res, 0, "first"), *count, ids);
	PQclear(res);
	*status = 202;
	return rc < 0 ? rc : rc > 0 ? -EIO : 0;
}

static void
answer(struct http_req *req, int status, long long count, cJSON *ids, cJSON *errs)
{
	cJSON *doc;

	if (status == 409) {
		http_error(req, 409, "issuing_in_progress", i18n_msg(&msg_issuing, req->lang),
			   NULL);
		return;
	}
	if (status == 422) {
		svc_invalid(req, cJSON_Duplicate(errs, 1));
		return;
	}
	doc = cJSON_CreateObject();
	cJSON_AddNumberToObject(doc, "count", (double)count);
	cJSON_AddItemReferenceToObject(doc, "ids", ids);
	http_json(req, 202, doc);
	cJSON_Delete(doc);
}

int
issue_batch(struct http_req *req, struct svc_thread *t)
{
	cJSON *body = NULL, *ids = cJSON_CreateArray(), *errs = cJSON_CreateArray();
	long long count = 0;
	int status = 0, rc;

	if (json_parse_object(req->body, req->body_len, &body) != 0) {
		svc_fail(req, 400, "bad_json", &msg_bad_json);
		rc = 0;
		goto out;
	}
	if ((rc = db_begin(&t->db)) != 0)
		goto out;
	rc = take(req, t, body, ids, &count, &status, errs);
	if (rc != 0 || status != 202 || (rc = db_commit(&t->db)) != 0) {
		db_rollback(&t->db);
		if (rc != 0)
			goto out;
	}
	if (status == 202) {
		certq_wake(&t->kv, req->tenant_id);
		log_msg(LOG_INFO, "event=batch tenant=%lld admin=%lld count=%lld", req->tenant_id,
			req->admin_id, count);
	}
	answer(req, status, count, ids, errs);
out:
	cJSON_Delete(body);
	cJSON_Delete(ids);
	cJSON_Delete(errs);
	return rc;
}
