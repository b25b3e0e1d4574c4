/*
 * settings.c: PUT /api/tenant/settings (利用法人 詳細設定): mail to users, the allow-list, the
 * administrators' notice address and its language.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/audit.h"
#include "extern.h"
#include "web/i18n.h"
#include "core/json.h"
#include "core/log.h"
#include "web/netacl.h"
#include "core/strbuf.h"
#include "web/valid.h"

#define SETTINGS_MAX_ALLOW 100

/* What the request asks for, checked. */
struct settings_in {
	int notify;                                     /* -1 not given, else 0/1 */
	int has_list;                                   /* download_allowlist given */
	char list[SETTINGS_MAX_ALLOW][NETACL_TEXT_MAX]; /* canonical texts */
	int n;
	const char *notice_address; /* NULL not given, "" none */
	const char *notice_lang;    /* NULL not given, "ja", "en" */
	char renew[2][8];           /* renew_before_days, renew_after_days; "" not given */
	cJSON *warnings;
};

static const struct db_stmt q_settings_update = {
	"users_settings_update",
	"WITH old AS (SELECT id, notify_users, download_allowlist, notice_address, notice_lang,"
	" renew_before_days, renew_after_days FROM tenants WHERE id = $1 FOR UPDATE)"
	" UPDATE tenants t SET notify_users = coalesce($2::boolean, t.notify_users),"
	" download_allowlist = coalesce($3::cidr[], t.download_allowlist),"
	" notice_address = coalesce($4, t.notice_address), notice_lang = coalesce($5, t.notice_lang),"
	" renew_before_days = coalesce($6::integer, t.renew_before_days),"
	" renew_after_days = coalesce($7::integer, t.renew_after_days), updated_at = now()"
	" FROM old WHERE t.id = old.id RETURNING t.notify_users, t.notice_address, t.notice_lang,"
	" t.renew_before_days, t.renew_after_days, old.renew_before_days AS old_renew_before,"
	" old.renew_after_days AS old_renew_after,"
	" old.notice_address AS old_notice_address, old.notice_lang AS old_notice_lang,"
	" array_to_json(t.download_allowlist::text[])::text AS download_allowlist,"
	" old.notify_users AS old_notify_users,"
	" array_to_string(old.download_allowlist::text[], ', ') AS old_allowlist,"
	" array_to_string(t.download_allowlist::text[], ', ') AS new_allowlist",
	7,
};

/* The message for each netacl_parse refusal. */
static const struct i18n_text *
netacl_msg(int rc)
{
	switch (rc) {
	case NETACL_E_PREFIX:
		return &msg_allowlist_prefix;
	case NETACL_E_HOSTBITS:
		return &msg_allowlist_hostbits;
	default:
		return &msg_allowlist_format;
	}
}

/* One entry of the list: parsed, not seen before; an error names it by index. */
static void
check_entry(const cJSON *item, int i, struct settings_in *in, int lang, cJSON *errs)
{
	char field[48];
	struct netacl_net net;
	int rc;

	snprintf(field, sizeof(field), "download_allowlist[%d]", i);
	if (!cJSON_IsString(item)) {
		json_field_error(errs, field, i18n_msg(&msg_not_string, lang));
		return;
	}
	if ((rc = netacl_parse(item->valuestring, &net)) != 0) {
		json_field_error(errs, field, i18n_msg(netacl_msg(rc), lang));
		return;
	}
	netacl_format(&net, in->list[in->n], sizeof(in->list[0]));
	for (int k = 0; k < in->n; k++)
		if (strcmp(in->list[k], in->list[in->n]) == 0) {
			json_field_error(errs, field, i18n_msg(&msg_allowlist_twice, lang));
			return;
		}
	if (netacl_is_any(&net))
		json_field_error(in->warnings, field, i18n_msg(&msg_allowlist_any, lang));
	in->n++;
}

static void
check_list(const cJSON *body, struct settings_in *in, int lang, cJSON *errs)
{
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(body, "download_allowlist"), *item;
	int i = 0;

	if (list == NULL)
		return;
	in->has_list = 1;
	if (!cJSON_IsArray(list)) {
		json_field_error(errs, "download_allowlist", i18n_msg(&msg_not_list, lang));
		return;
	}
	if (cJSON_GetArraySize(list) > SETTINGS_MAX_ALLOW) {
		json_field_error(errs, "download_allowlist", i18n_msg(&msg_allowlist_count, lang));
		return;
	}
	cJSON_ArrayForEach(item, list) check_entry(item, i++, in, lang, errs);
}

static void
check_notify(const cJSON *body, const struct tenant *tn, struct settings_in *in, int lang,
	     cJSON *errs)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, "notify_users");

	in->notify = -1;
	if (v == NULL)
		return;
	if (!cJSON_IsBool(v)) {
		json_field_error(errs, "notify_users", i18n_msg(&msg_not_bool, lang));
		return;
	}
	in->notify = cJSON_IsTrue(v);
	if (in->notify && !(tn->features & (1u << FEAT_NOTIFY_USERS)))
		json_field_error(errs, "notify_users", i18n_msg(&msg_no_notify_users, lang));
}

/* The administrators' notice address ("" = none) and the language of their notices. */
static void
check_notice(const cJSON *body, struct settings_in *in, int lang, cJSON *errs)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(body, "notice_address");
	const cJSON *l = cJSON_GetObjectItemCaseSensitive(body, "notice_lang");

	if (a != NULL) {
		if (!cJSON_IsString(a) ||
		    (a->valuestring[0] != '\0' && valid_email(a->valuestring) != 0))
			json_field_error(errs, "notice_address",
					 i18n_msg(&msg_notice_address, lang));
		else
			in->notice_address = a->valuestring;
	}
	if (l != NULL) {
		if (!cJSON_IsString(l) ||
		    (strcmp(l->valuestring, "ja") != 0 && strcmp(l->valuestring, "en") != 0))
			json_field_error(errs, "notice_lang", i18n_msg(&msg_notice_lang, lang));
		else
			in->notice_lang = l->valuestring;
	}
}

/* The renewal window (days before and after a certificate's 有効期限 a user may renew it on the
 * download site): whole numbers 0..3650, as the columns' CHECK allows. */
static void
check_renew(const cJSON *body, struct settings_in *in, int lang, cJSON *errs)
{
	static const char *const names[2] = {"renew_before_days", "renew_after_days"};

	for (int i = 0; i < 2; i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, names[i]);

		if (v == NULL)
			continue;
		/* the range first: casting a double out of int's range is undefined */
		if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0 && v->valuedouble <= 3650) ||
		    v->valuedouble != (double)(int)v->valuedouble)
			json_field_error(errs, names[i], i18n_msg(&msg_renew_days, lang));
		else
			snprintf(in->renew[i], sizeof(in->renew[i]), "%d", v->valueint);
	}
}

/* "{a,b}": canonical texts hold neither quotes nor commas. Caller frees. */
static char *
pg_array(const struct settings_in *in)
{
	size_t cap = 3 + (size_t)in->n * NETACL_TEXT_MAX;
	char *s = malloc(cap);
	struct strbuf b;

	if (s == NULL)
		return NULL;
	strbuf_init(&b, s, cap);
	strbuf_add(&b, "{");
	for (int i = 0; i < in->n; i++)
		strbuf_printf(&b, "%s%s", i ? "," : "", in->list[i]);
	if (strbuf_add(&b, "}") != 0 || strbuf_error(&b) != 0) {
		free(s);
		return NULL;
	}
	return s;
}

/*
 * The history: one entry for each setting the request changed, old → new (the list as the
 * manual's 許可IPアドレス, an empty one as なし); nothing for a setting given unchanged.
 */
static int
write_history(struct http_req *req, struct svc_thread *t, const PGresult *res)
{
	const char *old_list = db_get(res, 0, "old_allowlist");
	const char *new_list = db_get(res, 0, "new_allowlist");
	int old_notify = db_get(res, 0, "old_notify_users")[0] == 't';
	int new_notify = db_get(res, 0, "notify_users")[0] == 't';
	int rc;

	if (strcmp(old_list, new_list) != 0) {
		struct audit_entry e = {req->tenant_id, req->remote_addr,     "admin",
					req->admin_id,  AUDIT_IP_RESTRICTION, NULL};
		struct audit_more m = {NULL,
				       "setting_allowlist",
				       {*old_list ? old_list : AUDIT_WORD("none"),
					*new_list ? new_list : AUDIT_WORD("none")},
				       2};
		if ((rc = audit_write_ex(&t->db, &e, &m)) != 0)
			return rc;
	}
	if (strcmp(db_get(res, 0, "old_notice_address"), db_get(res, 0, "notice_address")) != 0 ||
	    strcmp(db_get(res, 0, "old_notice_lang"), db_get(res, 0, "notice_lang")) != 0) {
		const char *o = db_get(res, 0, "old_notice_address");
		const char *n = db_get(res, 0, "notice_address");
		char from[160], to[160];
		struct audit_entry e = {req->tenant_id, req->remote_addr, "admin",
					req->admin_id,  AUDIT_SETTINGS,   NULL};

		snprintf(from, sizeof(from), "%s (%s)", *o ? o : "-",
			 db_get(res, 0, "old_notice_lang"));
		snprintf(to, sizeof(to), "%s (%s)", *n ? n : "-", db_get(res, 0, "notice_lang"));
		struct audit_more m = {NULL, "setting_notice_address", {from, to}, 2};
		if ((rc = audit_write_ex(&t->db, &e, &m)) != 0)
			return rc;
	}
	if (strcmp(db_get(res, 0, "old_renew_before"), db_get(res, 0, "renew_before_days")) != 0 ||
	    strcmp(db_get(res, 0, "old_renew_after"), db_get(res, 0, "renew_after_days")) != 0) {
		struct audit_entry e = {req->tenant_id, req->remote_addr, "admin",
					req->admin_id,  AUDIT_SETTINGS,   NULL};
		struct audit_more m = {
			NULL,
			"setting_renew_window",
			{db_get(res, 0, "old_renew_before"), db_get(res, 0, "old_renew_after"),
			 db_get(res, 0, "renew_before_days"), db_get(res, 0, "renew_after_days")},
			4};
		if ((rc = audit_write_ex(&t->db, &e, &m)) != 0)
			return rc;
	}
	if (old_notify != new_notify) {
		struct audit_entry e = {req->tenant_id, req->remote_addr, "admin",
					req->admin_id,  AUDIT_SETTINGS,   NULL};
		struct audit_more m = {NULL,
				       "setting_notify",
				       {old_notify ? AUDIT_WORD("mail") : AUDIT_WORD("no_mail"),
					new_notify ? AUDIT_WORD("mail") : AUDIT_WORD("no_mail")},
				       2};
		if ((rc = audit_write_ex(&t->db, &e, &m)) != 0)
			return rc;
	}
	return 0;
}

/* Update and write the history in one transaction; *res is the updated row. */
static int
store(struct http_req *req, struct svc_thread *t, const struct settings_in *in, PGresult **res)
{
	char tid[24], *arr = NULL;
	int rc;

	snprintf(tid, sizeof(tid), "%lld", req->tenant_id);
	if (in->has_list && (arr = pg_array(in)) == NULL)
		return -ENOMEM;
	const char *params[] = {tid,
				in->notify < 0 ? NULL : (in->notify ? "true" : "false"),
				arr,
				in->notice_address,
				in->notice_lang,
				in->renew[0][0] ? in->renew[0] : NULL,
				in->renew[1][0] ? in->renew[1] : NULL};
	if ((rc = db_begin(&t->db)) != 0)
		goto out;
	if ((rc = db_exec(&t->db, &q_settings_update, params, res)) != 0 ||
	    (rc = PQntuples(*res) == 1 ? 0 : DB_E_NOTFOUND) != 0 ||
	    (rc = write_history(req, t, *res)) != 0 || (rc = db_commit(&t->db)) != 0)
		db_rollback(&t->db);
out:
	free(arr);
	return rc < 0 ? rc : (rc ? -EIO : 0);
}

static cJSON *
answer(const PGresult *res, cJSON *warnings)
{
	cJSON *doc = cJSON_CreateObject(), *list;
	const char *v = db_get(res, 0, "notify_users");

	cJSON_AddBoolToObject(doc, "notify_users", v != NULL && v[0] == 't');
	cJSON_AddStringToObject(doc, "notice_address", db_get(res, 0, "notice_address"));
	cJSON_AddStringToObject(doc, "notice_lang", db_get(res, 0, "notice_lang"));
	cJSON_AddNumberToObject(doc, "renew_before_days",
				(double)db_get_ll(res, 0, "renew_before_days"));
	cJSON_AddNumberToObject(doc, "renew_after_days",
				(double)db_get_ll(res, 0, "renew_after_days"));
	list = cJSON_Parse(
		db_get(res, 0, "download_allowlist") ? db_get(res, 0, "download_allowlist") : "[]");
	cJSON_AddItemToObject(doc, "download_allowlist", list ? list : cJSON_CreateArray());
	cJSON_AddItemToObject(doc, "warnings", warnings);
	return doc;
}

int
users_settings(struct http_req *req, struct svc_thread *t)
{
	struct settings_in *in = NULL;
	struct tenant tn;
	cJSON *body = NULL, *errs = NULL, *doc = NULL;
	PGresult *res = NULL;
	int rc;

	if (json_parse_object(req->body, req->body_len, &body) != 0) {
		svc_fail(req, 400, "bad_json", &msg_bad_json);
		rc = 0;
		goto out;
	}
	if ((rc = tenant_load(&t->db, req->tenant_id, &tn)) != 0)
		goto out;
	if ((in = calloc(1, sizeof(*in))) == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	in->warnings = cJSON_CreateArray();
	errs = cJSON_CreateArray();
	check_notify(body, &tn, in, req->lang, errs);
	check_list(body, in, req->lang, errs);
	check_notice(body, in, req->lang, errs);
	check_renew(body, in, req->lang, errs);
	if (cJSON_GetArraySize(errs) > 0) {
		svc_invalid(req, errs);
		errs = NULL;
		goto out;
	}
	if ((rc = store(req, t, in, &res)) != 0)
		goto out;
	doc = answer(res, in->warnings);
	in->warnings = NULL;
	http_json(req, 200, doc);
	log_msg(LOG_INFO, "event=settings tenant=%lld allowlist=%d", req->tenant_id,
		in->has_list ? in->n : -1);
out:
	if (in != NULL)
		cJSON_Delete(in->warnings);
	free(in);
	cJSON_Delete(errs);
	cJSON_Delete(doc);
	cJSON_Delete(body);
	PQclear(res);
	return rc < 0 ? rc : (rc == DB_E_NOTFOUND ? -EIO : rc);
}
