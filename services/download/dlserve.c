/* dlserve.c: the download site serves a granted certificate to a browser or to shomei-enroll. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "domain/audit.h"
#include "domain/certq.h"
#include "extern.h"
#include "web/i18n.h"
#include "core/json.h"
#include "core/log.h"
#include "pki/datakey.h"
#include "web/valid.h"
#include "domain/lifecycle.h"
#include "core/strbuf.h"

/* The install restriction items (NRA 4-1 制限項目①-④), in the order the answer names them. */
enum ritem {
	RITEM_MAC,
	RITEM_COMPUTER,
	RITEM_LOGIN_USER,
	RITEM_BIOS_SERIAL,
	RITEM__MAX,
};

static const char *const ritem_names[RITEM__MAX] = {"mac", "computer", "login_user", "bios_serial"};
static const char *const ritem_cols[RITEM__MAX] = {"restrict_mac", "restrict_computer",
						   "restrict_login_user", "restrict_bios_serial"};
static const char *const ritem_labels[RITEM__MAX][I18N__MAX] = {
	{"MACアドレス", "MAC address"},
	{"コンピュータ名", "computer name"},
	{"ログインユーザ名", "login user name"},
	{"端末(BIOS)シリアル番号", "device (BIOS) serial number"},
};

#define ENROLL_MAX_MACS 64

/* What shomei-enroll says about the machine, pointing into the request body. */
struct facts {
	const char *macs[ENROLL_MAX_MACS];
	int nmacs;
	const char *v[RITEM__MAX]; /* computer, login_user, bios_serial; [RITEM_MAC] unused */
};

/* Load a certificate the session grants; answers 404/409 itself and returns 1 then. */
static int
load(struct http_req *req, struct svc_thread *t, const struct dlsite *site, const struct dlsess *s,
     long long id, struct dist_cert *c, PGresult **res)
{
	const unsigned char *key = datakey_get(t->cfg);
	char ids[24], tid[24], msg[200];
	int rc;

	if (key == NULL) {
		log_msg(LOG_ERROR, "event=data_key_unreadable");
		return -EIO;
	}
	/* another user's certificate does not exist for this session */
	if (!dlsess_grants(s, id)) {
		svc_fail(req, 404, "not_found", &msg_not_found);
		return 1;
	}
	snprintf(ids, sizeof(ids), "%lld", id);
	snprintf(tid, sizeof(tid), "%lld", site->tenant_id);
	const char *params[] = {ids, tid};
	if ((rc = db_exec(&t->db, &q_dl_cert, params, res)) != 0)
		return rc < 0 ? rc : -EIO;
	if (PQntuples(*res) != 1) {
		svc_fail(req, 404, "not_found", &msg_not_found);
		return 1;
	}
	const char *st = db_get(*res, 0, "status");
	if (!lifecycle_has(st, LC_F_VALID) || db_get(*res, 0, "p12") == NULL) {
		snprintf(msg, sizeof(msg), "%s (%s)", i18n_msg(&msg_not_available, req->lang),
			 lifecycle_label(st, req->lang));
		http_error(req, 409, "not_available", msg, NULL);
		return 1;
	}
	return dist_cert_from_row(*res, 0, key, c);
}

/* Mark downloaded and write the history entry, in one transaction, before anything is sent. */
static int
record(struct http_req *req, struct svc_thread *t, const struct dlsite *site,
       const struct dist_cert *c, const char *how, const char *file) /* how: a code of audit.c */
{
	char id[24], tid[24];
	PGresult *res = NULL;
	int rc;

	snprintf(id, sizeof(id), "%lld", c->id);
	snprintf(tid, sizeof(tid), "%lld", site->tenant_id);
	const char *params[] = {id, tid};
	if ((rc = db_begin(&t->db)) != 0)
		return rc;
	if ((rc = db_exec(&t->db, &q_mark_one, params, &res)) != 0 ||
	    (rc = dlsite_audit(req, t, site->tenant_id, AUDIT_CERTIFICATE_DOWNLOAD, how, file,
			       c->email)) != 0 ||
	    (rc = db_commit(&t->db)) != 0) {
		PQclear(res);
		db_rollback(&t->db);
		return rc < 0 ? rc : -EIO;
	}
	PQclear(res);
	log_msg(LOG_INFO, "event=dl_site_download tenant=%lld certificate=%lld", site->tenant_id,
		c->id);
	return 0;
}

static int
send_p12(struct http_req *req, struct svc_thread *t, const struct dlsite *site,
	 const struct dist_cert *c, const char *how)
{
	char base[300], file[310];
	int rc;

	dist_base_name(c, base, sizeof(base));
	snprintf(file, sizeof(file), "%s.p12", base);
	if ((rc = record(req, t, site, c, how, file)) != 0)
		return rc;
	dl_attachment(req, base, "p12");
	http_add_header(req, "Cache-Control", "no-store");
	http_send(req, 200, "application/x-pkcs12", (const char *)c->p12, c->p12_len);
	return 0;
}

static int
send_mobileconfig(struct http_req *req, struct svc_thread *t, const struct dlsite *site,
		  const struct dist_cert *c)
{
	struct dist_chain ch;
	char *xml = NULL, base[300], file[320];
	size_t len = 0;
	int rc;

	if (strcmp(c->device, "11") != 0 && strcmp(c->device, "12") != 0) {
		http_error(req, 409, "not_ios", i18n_msg(&msg_not_ios, req->lang), NULL);
		return 0;
	}
	if ((rc = dist_chain_load(&t->db, site->tenant_id, &ch)) != 0)
		return rc < 0 ? rc : -EIO;
	rc = dist_mobileconfig(c, site->slug, site->name_en, ch.root_der, ch.root_der_len,
			       site->embed_password, &xml, &len);
	dist_chain_done(&ch);
	dist_base_name(c, base, sizeof(base));
	snprintf(file, sizeof(file), "%s.mobileconfig", base);
	if (rc == 0 && (rc = record(req, t, site, c, "dl_site_file", file)) == 0) {
		dl_attachment(req, base, "mobileconfig");
		http_add_header(req, "Cache-Control", "no-store");
		http_send(req, 200, "application/x-apple-aspen-config", xml, len);
	}
	free(xml);
	return rc;
}

/* ?id=N&format=p12|mobileconfig; answers 404/422 itself (returns 1 then). */
static int
query_args(struct http_req *req, long long *id, char *format, size_t len)
{
	char v[32];
	int rc;

	/* an id that is absent, too long or badly encoded names no certificate */
	if (http_query_get(req->query, "id", v, sizeof(v)) != 0 ||
	    util_parse_ll(v, 1, (long long)1 << 53, id) != 0) {
		svc_fail(req, 404, "not_found", &msg_not_found);
		return 1;
	}
	rc = http_query_get(req->query, "format", format, len);
	if ((rc != 0 && rc != HTTP_E_ABSENT) ||
	    (rc == 0 && strcmp(format, "p12") != 0 && strcmp(format, "mobileconfig") != 0)) {
		cJSON *errs = cJSON_CreateArray();
		json_field_error(errs, "format", "p12 | mobileconfig");
		svc_invalid(req, errs);
		return 1;
	}
	return 0;
}

int
dl_site_certificate(struct http_req *req, struct svc_thread *t)
{
	struct dlsite site;
	struct dlsess s;
	struct dist_cert c;
	PGresult *res = NULL;
	char format[16];
	long long id = 0;
	int rc;

	memset(&c, 0, sizeof(c));
	if ((rc = dlsite_open(req, t, &site)) != 0 ||
	    (rc = dlsite_session(req, t, &site, &s)) != 0 ||
	    (rc = query_args(req, &id, format, sizeof(format))) != 0 ||
	    (rc = load(req, t, &site, &s, id, &c, &res)) != 0)
		goto out;
	if (strcmp(db_get(res, 0, "restriction_mode"), "none") != 0) {
		/* NRA 4-1: a restricted certificate is installed by enroll, which checks the
		 * machine */
		dlsite_audit(req, t, site.tenant_id, AUDIT_CERTIFICATE_DOWNLOAD, "dl_restricted",
			     c.cn, NULL);
		svc_fail(req, 403, "install_restricted", &msg_dl_restricted);
		goto out;
	}
	if (format[0] == '\0')
		snprintf(format, sizeof(format), "%s",
			 strcmp(c.device, "11") == 0 || strcmp(c.device, "12") == 0 ? "mobileconfig"
										    : "p12");
	if (strcmp(format, "mobileconfig") == 0)
		rc = send_mobileconfig(req, t, &site, &c);
	else
		rc = send_p12(req, t, &site, &c, "dl_site_file");
out:
	dist_cert_done(&c);
	PQclear(res);
	return rc > 0 ? 0 : rc;
}

/* "00-11-22-aa-bb-cc" → "001122AABBCC"; 0, or -EINVAL for anything else. */
static int
mac_norm(const char *in, char out[13])
{
	size_t o = 0;

	for (; *in; in++) {
		if (*in == ':' || *in == '-' || *in == '.')
			continue;
		if (!isxdigit((unsigned char)*in) || o >= 12)
			return -EINVAL;
		out[o++] = (char)toupper((unsigned char)*in);
	}
	out[o] = '\0';
	return o == 12 ? 0 : -EINVAL;
}

/* Parse the facts; every bad field is reported together (answers 400/422, returns 1). */
static int
enroll_body(struct http_req *req, cJSON **body, long long *id, struct facts *f)
{
	static const char *const text[] = {NULL, "computer", "login_user", "bios_serial"};
	cJSON *errs, *macs, *m, *idv;
	char field[32], norm[13];

	memset(f, 0, sizeof(*f));
	if (json_parse_object(req->body, req->body_len, body) != 0) {
		svc_fail(req, 400, "bad_json", &msg_bad_json);
		return 1;
	}
	errs = cJSON_CreateArray();
	idv = cJSON_GetObjectItemCaseSensitive(*body, "id");
	if (!cJSON_IsNumber(idv) || idv->valuedouble < 1 || idv->valuedouble > 9007199254740992.0)
		json_field_error(errs, "id", i18n_msg(&msg_required, req->lang));
	else
		*id = (long long)idv->valuedouble;
	macs = cJSON_GetObjectItemCaseSensitive(*body, "macs");
	if (macs != NULL && (!cJSON_IsArray(macs) || cJSON_GetArraySize(macs) > ENROLL_MAX_MACS))
		json_field_error(errs, "macs", i18n_msg(&msg_not_list, req->lang));
	else
		cJSON_ArrayForEach(m, macs)
		{
			snprintf(field, sizeof(field), "macs[%d]", f->nmacs);
			if (!cJSON_IsString(m) || mac_norm(m->valuestring, norm) != 0)
				json_field_error(errs, field, i18n_msg(&msg_mac, req->lang));
			else
				f->macs[f->nmacs++] = m->valuestring;
		}
	for (int i = RITEM_COMPUTER; i < RITEM__MAX; i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(*body, text[i]);
		if (v == NULL || cJSON_IsNull(v))
			continue;
		if (!cJSON_IsString(v) || strlen(v->valuestring) > 256 ||
		    valid_text(v->valuestring))
			json_field_error(errs, text[i], i18n_msg(&msg_restriction_item, req->lang));
		else
			f->v[i] = v->valuestring;
	}
	if (cJSON_GetArraySize(errs) > 0) {
		svc_invalid(req, errs);
		return 1;
	}
	cJSON_Delete(errs);
	return 0;
}

/* Does the machine meet one item? MAC: any of its addresses; names: ASCII case-insensitive. */
static int
item_ok(const struct facts *f, int i, const char *want)
{
	char norm[13];

	if (i == RITEM_MAC) {
		for (int k = 0; k < f->nmacs; k++)
			if (mac_norm(f->macs[k], norm) == 0 && strcasecmp(norm, want) == 0)
				return 1;
		return 0;
	}
	if (f->v[i] == NULL)
		return 0;
	/* the serial number is compared as written; names the way Windows compares them */
	return i == RITEM_BIOS_SERIAL ? strcmp(f->v[i], want) == 0 : strcasecmp(f->v[i], want) == 0;
}

/*
 * The AND/OR rule of NRA 4-1: empty restriction items are not checked; AND
 * needs every given item to match, OR at least one. *failed gets a bit per
 * item that did not match. 1 when the machine may install the certificate.
 */
static int
restriction_ok(const PGresult *res, const struct facts *f, unsigned *failed)
{
	int and = strcmp(db_get(res, 0, "restriction_mode"), "and") == 0, given = 0, matched = 0;

	*failed = 0;
	for (int i = 0; i < RITEM__MAX; i++) {
		const char *want = db_get(res, 0, ritem_cols[i]);
		if (want == NULL || *want == '\0')
			continue;
		given++;
		if (item_ok(f, i, want))
			matched++;
		else
			*failed |= 1u << i;
	}
	if (given == 0)
		return 1;
	return and? matched == given : matched > 0;
}

/* 403 naming the failed conditions, and the history entry. */
static int
refuse(struct http_req *req, struct svc_thread *t, const struct dlsite *site,
       const struct dist_cert *c, unsigned failed)
{
	char msg[600], names[128];
	struct strbuf m, nm;
	cJSON *doc = cJSON_CreateObject(), *err = cJSON_AddObjectToObject(doc, "error");
	cJSON *list = cJSON_CreateArray();

	/* the message and the names list every item of the manual's four at most: they fit */
	strbuf_init(&m, msg, sizeof(msg));
	strbuf_init(&nm, names, sizeof(names));
	strbuf_printf(&m, "%s (", i18n_msg(&msg_restriction_failed, req->lang));
	for (int i = 0; i < RITEM__MAX; i++) {
		if (!(failed & (1u << i)))
			continue;
		cJSON_AddItemToArray(list, cJSON_CreateString(ritem_names[i]));
		strbuf_printf(&m, "%s%s", nm.len ? ", " : "",
			      ritem_labels[i][req->lang == I18N_EN]);
		strbuf_printf(&nm, "%s%s", nm.len ? "," : "", ritem_names[i]);
	}
	strbuf_add(&m, ")");
	cJSON_AddStringToObject(err, "code", "restriction_failed");
	cJSON_AddStringToObject(err, "message", msg);
	cJSON_AddItemToObject(err, "failed", list);
	dlsite_audit(req, t, site->tenant_id, AUDIT_CERTIFICATE_DOWNLOAD, "enroll_refused", c->cn,
		     names);
	log_msg(LOG_WARN, "event=enroll_refused tenant=%lld certificate=%lld failed=%s",
		site->tenant_id, c->id, names);
	http_json(req, 403, doc);
	cJSON_Delete(doc);
	return 0;
}

int
dl_site_enroll(struct http_req *req, struct svc_thread *t)
{
	struct dlsite site;
	struct dlsess s;
	struct dist_cert c;
	struct facts f;
	PGresult *res = NULL;
	cJSON *body = NULL;
	long long id = 0;
	unsigned failed = 0;
	int rc;

	memset(&c, 0, sizeof(c));
	if ((rc = dlsite_open(req, t, &site)) != 0 || (rc = dlsite_session(req, t, &site, &s)) != 0)
		goto out;
	if (req->csrf_header == NULL || !util_streq_ct(req->csrf_header, s.csrf)) {
		svc_fail(req, 403, "csrf", &msg_csrf);
		goto out;
	}
	if ((rc = enroll_body(req, &body, &id, &f)) != 0 ||
	    (rc = load(req, t, &site, &s, id, &c, &res)) != 0)
		goto out;
	if (!restriction_ok(res, &f, &failed))
		rc = refuse(req, t, &site, &c, failed);
	else
		rc = send_p12(req, t, &site, &c, "enroll_file");
out:
	dist_cert_done(&c);
	PQclear(res);
	cJSON_Delete(body);
	return rc > 0 ? 0 : rc;
}
