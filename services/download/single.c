/* single.c: one certificate's .p12, its password (.PIN) and, for iOS, its .mobileconfig. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/audit.h"
#include "domain/certq.h"
#include "extern.h"
#include "web/i18n.h"
#include "core/log.h"
#include "pki/datakey.h"
#include "core/util.h"
#include "domain/lifecycle.h"

enum kind {
	KIND_P12,
	KIND_PIN,
	KIND_MOBILECONFIG,
};

/* Content-Disposition with an ASCII fallback and the UTF-8 name (RFC 6266 / 5987). */
void
dl_attachment(struct http_req *req, const char *base, const char *ext)
{
	char v[1400], enc[900], ascii[300];
	size_t o = 0, a = 0;

	for (const unsigned char *p = (const unsigned char *)base; *p && o < sizeof(enc) - 4; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || strchr("-_.@", *p) != NULL) {
			enc[o++] = (char)*p;
			if (a < sizeof(ascii) - 1)
				ascii[a++] = (char)*p;
		} else {
			enc[o++] = '%';
			enc[o++] = "0123456789ABCDEF"[*p >> 4];
			enc[o++] = "0123456789ABCDEF"[*p & 15];
			if (a < sizeof(ascii) - 1)
				ascii[a++] = '_';
		}
	}
	enc[o] = '\0';
	ascii[a] = '\0';
	snprintf(v, sizeof(v), "attachment; filename=\"%s.%s\"; filename*=UTF-8''%s.%s", ascii, ext,
		 enc, ext);
	http_add_header(req, "Content-Disposition", v);
}

/* Load the certificate of the URL for this tenant; answers 404/409 itself (returns 1 then). */
static int
load(struct http_req *req, struct svc_thread *t, const unsigned char *key, struct dist_cert *c,
     PGresult **res)
{
	char id[24], tid[24];
	long long v = 0;
	int rc;

	if (util_parse_ll(req->args[0], 1, (long long)1 << 53, &v) != 0) {
		svc_fail(req, 404, "not_found", &msg_not_found);
		return 1;
	}
	snprintf(id, sizeof(id), "%lld", v);
	snprintf(tid, sizeof(tid), "%lld", req->tenant_id);
	const char *params[] = {id, tid};
	if ((rc = db_exec(&t->db, &q_cert_one, params, res)) != 0)
		return rc < 0 ? rc : -EIO;
	if (PQntuples(*res) != 1) {
		svc_fail(req, 404, "not_found", &msg_not_found);
		return 1;
	}
	const char *st = db_get(*res, 0, "status");
	if (!lifecycle_has(st, LC_F_VALID) || db_get(*res, 0, "p12") == NULL) {
		char msg[200];
		snprintf(msg, sizeof(msg), "%s (%s)", i18n_msg(&msg_not_available, req->lang),
			 lifecycle_label(st, req->lang));
		http_error(req, 409, "not_available", msg, NULL);
		return 1;
	}
	return dist_cert_from_row(*res, 0, key, c);
}

/* Mark downloaded and write the history entry before anything is sent. */
static int
record(struct http_req *req, struct svc_thread *t, const struct dist_cert *c, int mark,
       enum audit_action action, const char *detail)
{
	char id[24], tid[24];
	struct audit_entry e = {req->tenant_id, req->remote_addr, "admin",
				req->admin_id,  action,           NULL};
	struct audit_more m = {NULL, "files", {detail}, 1};
	PGresult *res = NULL;
	int rc;

	snprintf(id, sizeof(id), "%lld", c->id);
	snprintf(tid, sizeof(tid), "%lld", req->tenant_id);
	const char *params[] = {id, tid};
	if ((rc = db_begin(&t->db)) != 0)
		return rc;
	if ((mark && (rc = db_exec(&t->db, &q_mark_one, params, &res)) != 0) ||
	    (rc = audit_write_ex(&t->db, &e, &m)) != 0 || (rc = db_commit(&t->db)) != 0) {
		PQclear(res);
		db_rollback(&t->db);
		return rc < 0 ? rc : -EIO;
	}
	PQclear(res);
	return 0;
}

static int
send_mobileconfig(struct http_req *req, struct svc_thread *t, const struct dist_cert *c,
		  const PGresult *res, const char *base)
{
	struct dist_chain ch;
	char *xml = NULL, detail[320];
	size_t len = 0;
	int rc;

	if (strcmp(c->device, "11") != 0 && strcmp(c->device, "12") != 0) {
		http_error(req, 409, "not_ios", i18n_msg(&msg_not_ios, req->lang), NULL);
		return 0;
	}
	if ((rc = dist_chain_load(&t->db, req->tenant_id, &ch)) != 0)
		return rc < 0 ? rc : -EIO;
	rc = dist_mobileconfig(
		c, db_get(res, 0, "slug"), db_get(res, 0, "name_en"), ch.root_der, ch.root_der_len,
		strcmp(db_get(res, 0, "mobileconfig_embed_password"), "t") == 0, &xml, &len);
	dist_chain_done(&ch);
	snprintf(detail, sizeof(detail), "%s.mobileconfig", base);
	if (rc == 0 && (rc = record(req, t, c, 1, AUDIT_CERTIFICATE_DOWNLOAD, detail)) == 0) {
		dl_attachment(req, base, "mobileconfig");
		http_send(req, 200, "application/x-apple-aspen-config", xml, len);
	}
	free(xml);
	return rc;
}

static int
serve(struct http_req *req, struct svc_thread *t, enum kind kind)
{
	const unsigned char *key = datakey_get(t->cfg);
	struct dist_cert c;
	PGresult *res = NULL;
	char base[300], detail[320];
	int rc;

	memset(&c, 0, sizeof(c));
	if (key == NULL)
		return -EIO;
	if ((rc = load(req, t, key, &c, &res)) != 0) {
		PQclear(res);
		return rc > 0 ? 0 : rc;
	}
	dist_base_name(&c, base, sizeof(base));
	/* the file is for shomei-enroll on the device; the password (.PIN) is what it asks for */
	if (kind != KIND_PIN && strcmp(db_get(res, 0, "restriction_mode"), "none") != 0) {
		http_error(req, 403, "install_restricted",
			   i18n_msg(&msg_admin_restricted, req->lang), NULL);
		rc = 0;
	} else if (kind == KIND_P12) {
		if ((rc = record(req, t, &c, 1, AUDIT_CERTIFICATE_DOWNLOAD, base)) == 0) {
			dl_attachment(req, base, "p12");
			http_send(req, 200, "application/x-pkcs12", (const char *)c.p12, c.p12_len);
		}
	} else if (kind == KIND_PIN) {
		snprintf(detail, sizeof(detail), "%s.PIN", base);
		if ((rc = record(req, t, &c, 0, AUDIT_PASSWORD_CSV, detail)) == 0) {
			dl_attachment(req, base, "PIN");
			http_send(req, 200, "text/plain; charset=utf-8", c.password,
				  strlen(c.password));
		}
	} else {
		rc = send_mobileconfig(req, t, &c, res, base);
	}
	log_msg(LOG_INFO, "event=download kind=%d certificate=%lld rc=%d", (int)kind, c.id, rc);
	dist_cert_done(&c);
	PQclear(res);
	return rc;
}

int
dl_p12(struct http_req *req, struct svc_thread *t)
{
	return serve(req, t, KIND_P12);
}

int
dl_pin(struct http_req *req, struct svc_thread *t)
{
	return serve(req, t, KIND_PIN);
}

int
dl_mobileconfig(struct http_req *req, struct svc_thread *t)
{
	return serve(req, t, KIND_MOBILECONFIG);
}
