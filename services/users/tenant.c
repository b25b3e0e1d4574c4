/* tenant.c: GET /api/tenant, the summary (契約数/発行数/追加発行可能数) and the tenant's settings.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/certq.h"
#include "extern.h"
#include "web/i18n.h"
#include "core/json.h"

/* A JSON array from a text column (array_to_json), [] when NULL or unreadable. Caller owns it. */
static cJSON *
json_array_col(const PGresult *res, const char *col)
{
	const char *v = db_get(res, 0, col);
	cJSON *a = v ? cJSON_Parse(v) : NULL;

	if (!cJSON_IsArray(a)) {
		cJSON_Delete(a);
		a = cJSON_CreateArray();
	}
	return a;
}

static unsigned
feature_bits(const cJSON *names)
{
	const cJSON *n;
	unsigned bits = 0;
	int f;

	cJSON_ArrayForEach(n, names)
	{
		if (cJSON_IsString(n) &&
		    (f = tenant_feature_find(n->valuestring, strlen(n->valuestring))) >= 0)
			bits |= 1u << f;
	}
	return bits;
}

static int
tenant_row(struct db *db, long long tenant_id, PGresult **res)
{
	char tid[24];
	int rc;

	snprintf(tid, sizeof(tid), "%lld", tenant_id);
	const char *params[] = {tid};
	if ((rc = db_exec(db, &q_tenant, params, res)) != 0)
		return rc < 0 ? rc : -EIO;
	if (PQntuples(*res) != 1) {
		PQclear(*res);
		*res = NULL;
		return DB_E_NOTFOUND;
	}
	return 0;
}

int
tenant_load(struct db *db, long long tenant_id, struct tenant *out)
{
	PGresult *res = NULL;
	cJSON *features;
	int rc;

	if ((rc = tenant_row(db, tenant_id, &res)) != 0)
		return rc;
	features = json_array_col(res, "features");
	memset(out, 0, sizeof(*out));
	out->id = tenant_id;
	out->features = feature_bits(features);
	out->default_validity_days = (int)db_get_ll(res, 0, "default_validity_days");
	out->max_validity_days = (int)db_get_ll(res, 0, "max_validity_days");
	out->max_start_ahead_days = (int)db_get_ll(res, 0, "max_start_ahead_days");
	out->ca_not_after = db_get_ll(res, 0, "ca_not_after");
	cJSON_Delete(features);
	PQclear(res);
	return 0;
}

static void
add_bool(cJSON *doc, const PGresult *res, const char *col)
{
	const char *v = db_get(res, 0, col);

	cJSON_AddBoolToObject(doc, col, v != NULL && v[0] == 't');
}

static cJSON *
summary(const PGresult *res, const struct certq_quota *q)
{
	cJSON *doc = cJSON_CreateObject();

	cJSON_AddStringToObject(doc, "slug", db_get(res, 0, "slug"));
	cJSON_AddStringToObject(doc, "name", db_get(res, 0, "name"));
	cJSON_AddStringToObject(doc, "name_en", db_get(res, 0, "name_en"));
	cJSON_AddStringToObject(doc, "domain", db_get(res, 0, "domain"));
	cJSON_AddNumberToObject(doc, "quota", (double)q->quota);
	cJSON_AddNumberToObject(doc, "issued", (double)q->issued);
	cJSON_AddNumberToObject(doc, "available", (double)q->available);
	cJSON_AddNumberToObject(doc, "issuing", (double)q->issuing);
	cJSON_AddItemToObject(doc, "features", json_array_col(res, "features"));
	cJSON_AddStringToObject(doc, "key_type", db_get(res, 0, "key_type"));
	add_bool(doc, res, "p12_compat");
	cJSON_AddNumberToObject(doc, "default_validity_days",
				(double)db_get_ll(res, 0, "default_validity_days"));
	cJSON_AddNumberToObject(doc, "max_validity_days",
				(double)db_get_ll(res, 0, "max_validity_days"));
	cJSON_AddNumberToObject(doc, "max_start_ahead_days",
				(double)db_get_ll(res, 0, "max_start_ahead_days"));
	add_bool(doc, res, "notify_users");
	cJSON_AddStringToObject(doc, "notice_address", db_get(res, 0, "notice_address"));
	cJSON_AddStringToObject(doc, "notice_lang", db_get(res, 0, "notice_lang"));
	cJSON_AddNumberToObject(doc, "renew_before_days",
				(double)db_get_ll(res, 0, "renew_before_days"));
	cJSON_AddNumberToObject(doc, "renew_after_days",
				(double)db_get_ll(res, 0, "renew_after_days"));
	cJSON_AddItemToObject(doc, "download_allowlist", json_array_col(res, "download_allowlist"));
	cJSON_AddStringToObject(doc, "organization", db_get(res, 0, "organization"));
	return doc;
}

int
users_tenant(struct http_req *req, struct svc_thread *t)
{
	struct certq_quota q;
	PGresult *res = NULL;
	cJSON *doc = NULL;
	int rc;

	if ((rc = tenant_row(&t->db, req->tenant_id, &res)) == DB_E_NOTFOUND ||
	    (rc == 0 && (rc = certq_count(&t->db, req->tenant_id, &q)) == DB_E_NOTFOUND)) {
		svc_fail(req, 404, "not_found", &msg_not_found);
		rc = 0;
		goto out;
	}
	if (rc != 0)
		goto out;
	doc = summary(res, &q);
	http_json(req, 200, doc);
	rc = 0;
out:
	cJSON_Delete(doc);
	PQclear(res);
	return rc;
}
