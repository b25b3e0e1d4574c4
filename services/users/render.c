/* render.c: users, devices and certificates as the API's JSON. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "domain/certq.h"
#include "extern.h"
#include "domain/lifecycle.h"
#include "domain/device.h"

/* name: a string literal, or a static table's (not copied). */
void
render_opt(cJSON *obj, const char *name, const char *v)
{
	json_add_text(obj, name, v);
}

static void
add_col(cJSON *obj, const PGresult *res, int row, const char *name, const char *col)
{
	render_opt(obj, name, db_get(res, row, col));
}

cJSON *
render_user(const PGresult *res, int row)
{
	static const char *const cols[] = {"family_name",     "given_name",     "family_name_kana",
					   "given_name_kana", "family_name_en", "given_name_en",
					   "email",           "organization",   "applied_at"};
	cJSON *u = cJSON_CreateObject();

	json_add_int_text(u, "id", db_get(res, row, "id"));
	for (size_t i = 0; i < sizeof(cols) / sizeof(cols[0]); i++)
		add_col(u, res, row, cols[i], cols[i]);
	return u;
}

static void
add_device_code(cJSON *obj, const PGresult *res, int row, int lang)
{
	const char *code = db_get(res, row, "device_code");

	render_opt(obj, "device", code);
	render_opt(obj, "device_label", code ? device_label(code, lang) : NULL);
}

cJSON *
render_device(const PGresult *res, int row, int lang)
{
	cJSON *d = cJSON_CreateObject(), *r = cJSON_CreateObject();

	cJSON_AddNumberToObject(d, "id", (double)db_get_ll(res, row, "id"));
	add_device_code(d, res, row, lang);
	add_col(d, res, row, "email", "email");
	add_col(d, res, row, "valid_from", "valid_from");
	add_col(d, res, row, "valid_to", "valid_to");
	add_col(d, res, row, "o", "o");
	add_col(d, res, row, "ou1", "ou1");
	add_col(d, res, row, "ou2", "ou2");
	add_col(r, res, row, "mode", "restriction_mode");
	add_col(r, res, row, "mac", "restrict_mac");
	add_col(r, res, row, "computer", "restrict_computer");
	add_col(r, res, row, "login_user", "restrict_login_user");
	add_col(r, res, row, "bios_serial", "restrict_bios_serial");
	cJSON_AddItemToObject(d, "restriction", r);
	return d;
}

cJSON *
render_certificate(const PGresult *res, int row, int lang)
{
	const char *status = db_get(res, row, "status"), *v;
	cJSON *c = cJSON_CreateObject();

	json_add_int_text(c, "id", db_get(res, row, "id"));
	add_device_code(c, res, row, lang);
	add_col(c, res, row, "cn", "cn");
	add_col(c, res, row, "email", "email");
	add_col(c, res, row, "serial", "serial");
	json_add_text(c, "status", status);
	json_add_text(c, "status_label", lifecycle_label(status, lang));
	add_col(c, res, row, "issued_at", "issued_at");
	add_col(c, res, row, "expires_at", "expires_at");
	add_col(c, res, row, "revoked_at", "revoked_at");
	add_col(c, res, row, "valid_from", "valid_from");
	add_col(c, res, row, "revoke_on", "revoke_on");
	cJSON_AddBoolToObject(c, "superseded",
			      (v = db_get(res, row, "superseded")) != NULL && *v == 't');
	return c;
}

static cJSON *
rows(const PGresult *res, int lang, cJSON *(*fn)(const PGresult *, int, int))
{
	cJSON *a = cJSON_CreateArray();

	for (int i = 0; i < PQntuples(res); i++)
		cJSON_AddItemToArray(a, fn(res, i, lang));
	return a;
}

int
render_user_full(struct db *db, long long tenant_id, long long user_id, int lang, cJSON **out)
{
	char tid[24], uid[24], ids[32];
	PGresult *u = NULL, *d = NULL, *c = NULL;
	cJSON *doc = NULL;
	int rc;

	snprintf(tid, sizeof(tid), "%lld", tenant_id);
	snprintf(uid, sizeof(uid), "%lld", user_id);
	snprintf(ids, sizeof(ids), "{%lld}", user_id);
	const char *p1[] = {tid, uid}, *p2[] = {tid, ids};
	if ((rc = db_exec(db, &q_user_get, p1, &u)) != 0 ||
	    (rc = db_exec(db, &q_user_devices, p1, &d)) != 0 ||
	    (rc = db_exec(db, &q_user_certificates, p2, &c)) != 0) {
		rc = rc < 0 ? rc : -EIO;
		goto out;
	}
	if (PQntuples(u) != 1) {
		rc = DB_E_NOTFOUND;
		goto out;
	}
	doc = render_user(u, 0);
	add_col(doc, u, 0, "deleted_at", "deleted_at");
	add_col(doc, u, 0, "lang", "lang"); /* the language of its notices: one user's page only */
	cJSON_AddItemToObject(doc, "devices", rows(d, lang, render_device));
	cJSON_AddItemToObject(doc, "certificates", rows(c, lang, render_certificate));
	*out = doc;
	doc = NULL;
	rc = 0;
out:
	cJSON_Delete(doc);
	PQclear(u);
	PQclear(d);
	PQclear(c);
	return rc;
}
