/*
 * renew.c: renewal with the current certificate (issue 13): /dl/<slug>/renew, served by nginx's
 * renewal server, which asks browsers for a client certificate without checking it
 * (ssl_verify_client optional_no_ca) and passes it here. This service checks it against the
 * tenant's CAs and the certificate rows in PostgreSQL (signature, issuer, the exact DER, the
 * status: DECISIONS.md, "Renewal with the current certificate").
 *
 *   GET  /api/dl/{tenant}/renew[?certificate=N]  what the presented certificate may do
 *   POST /api/dl/{tenant}/renew                   queue its new certificate (CSRF)
 *   POST /api/dl/{tenant}/renew/download          the new PKCS#12 and its password, once; the old
 *                                                 certificate is then revoked (superseded)
 *                                                 through shomei-revoke's internal API
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "core/json.h"
#include "core/log.h"
#include "core/util.h"
#include "domain/certq.h"
#include "domain/lifecycle.h"
#include "domain/notice.h"
#include "extern.h"
#include "pki/datakey.h"
#include "pki/x509.h"
#include "web/internal.h"

#define DAY 86400LL

/* The presented certificate as its row has it. */
struct presented {
	long long id, device_id, user_id, new_id, not_after, now;
	int before_days, after_days;
	char cn[256], email[256], serial[80], status[24], expires_at[24], device[4];
	char restriction[8], new_status[24], new_serial[80];
	int superseded;
};

/* clang-format off */
/*
 * $1 tenant, $2 serial (lowercase hex, as stored): the rows of that serial under the tenant's
 * CAs (active or rotated out), each with its CA, its DER and its replacement, if any.
 */
static const struct db_stmt q_rn_presented = {
	"rn_presented",
	"SELECT c.id, c.cn, coalesce(c.email, '') AS email, c.status, c.serial,"
	" coalesce(c.device_id, 0) AS device_id, coalesce(c.user_id, 0) AS user_id,"
	" c.superseded_at IS NOT NULL AS superseded,"
	" extract(epoch FROM c.not_after)::bigint AS not_after, extract(epoch FROM now())::bigint AS now,"
	" to_char(c.not_after AT TIME ZONE 'Asia/Tokyo', 'YYYY/MM/DD HH24:MI') AS expires_at,"
	" encode(c.cert_der, 'hex') AS der_hex, ca.cert_pem,"
	" coalesce(d.device_code, '') AS device_code,"
	" coalesce(d.restriction_mode, 'none') AS restriction_mode,"
	" coalesce(u.deleted_at IS NOT NULL OR u.purged_at IS NOT NULL, false) AS gone,"
	" t.renew_before_days, t.renew_after_days,"
	" coalesce(n.id, 0) AS new_id, coalesce(n.status, '') AS new_status,"
	" coalesce(n.serial, '') AS new_serial"
	" FROM cas ca JOIN certificates c ON c.ca_id = ca.id AND c.serial = $2"
	" JOIN tenants t ON t.id = c.tenant_id"
	" LEFT JOIN devices d ON d.id = c.device_id AND d.tenant_id = c.tenant_id"
	" LEFT JOIN users u ON u.id = c.user_id AND u.tenant_id = c.tenant_id"
	" LEFT JOIN LATERAL (SELECT r.id, r.status, r.serial FROM certificates r"
	"  WHERE r.replaces_id = c.id AND r.tenant_id = c.tenant_id ORDER BY r.id DESC LIMIT 1) n"
	"  ON true"
	" WHERE ca.tenant_id = $1::bigint AND ca.kind = 'tenant' AND c.tenant_id = $1::bigint"
	" AND c.cert_der IS NOT NULL",
	2,
};

/* $1 tenant, $2 certificate: its device (the ?certificate= of a renewal link) */
static const struct db_stmt q_rn_device_of = {
	"rn_device_of",
	"SELECT coalesce(device_id, 0) AS device_id FROM certificates"
	" WHERE tenant_id = $1::bigint AND id = $2::bigint",
	2,
};

/* $1 tenant, $2 certificate: locked for the renewal's transaction */
static const struct db_stmt q_rn_lock = {
	"rn_lock",
	"SELECT status, superseded_at IS NOT NULL AS superseded FROM certificates"
	" WHERE tenant_id = $1::bigint AND id = $2::bigint FOR UPDATE",
	2,
};

/*
 * $1 tenant, $2 device: a renewal drops the device's validity period, so the new certificate
 * runs the tenant's default from its issue instead of ending with the old one.
 */
static const struct db_stmt q_rn_period = {
	"rn_period",
	"UPDATE devices SET valid_from = NULL, valid_to = NULL"
	" WHERE tenant_id = $1::bigint AND id = $2::bigint",
	2,
};

/* $1 certificate, $2 tenant: the new certificate becomes downloaded, once */
static const struct db_stmt q_rn_take = {
	"rn_take",
	"UPDATE certificates SET status = " LC_SQL(LC_DOWNLOADED) ", downloaded_at = now(),"
	" updated_at = now() WHERE id = $1::bigint AND tenant_id = $2::bigint"
	" AND status = " LC_SQL(LC_ISSUED) " RETURNING id",
	2,
};
/* clang-format on */

static const struct i18n_text msg_rn_no_cert = {
	{"証明書が提示されませんでした。更新する証明書をインストールしたブラウザ（端末）でこのページを"
	 "開き、証明書の選択を求められたらその証明書を選んでください。",
	 "No certificate was presented. Open this page in the browser (device) where the "
	 "certificate to renew is installed, and choose it when you are asked for a certificate."}};
static const struct i18n_text msg_rn_foreign = {
	{"提示された証明書はこの利用法人の証明書ではありません。更新する利用法人の URL で開いてください"
	 "。",
	 "The certificate presented is not a certificate of this organisation. Open the renewal "
	 "page of the organisation that issued it."}};
static const struct i18n_text msg_rn_revoked = {
	{"提示された証明書は失効しています（失効予定を含む）。更新できません。管理者にお問い合わせくだ"
	 "さい。",
	 "The certificate presented is revoked (or its revocation is scheduled) and cannot be "
	 "renewed. Please ask your administrator."}};
static const struct i18n_text msg_rn_not_renewable = {
	{"この証明書はこのページでは更新できません（管理者が配付する番号付きの証明書、または削除された"
	 "利用者の証明書です）。管理者にお問い合わせください。",
	 "This certificate cannot be renewed here (it is a numbered certificate the administrator "
	 "hands out, or its user was deleted). Please ask your administrator."}};
static const struct i18n_text msg_rn_restricted = {
	{"この証明書にはインストール制限があるため、このページでは更新できません。管理者にお問い合わ"
	 "せください。",
	 "This certificate has an install restriction and cannot be renewed on this page. Please "
	 "ask your administrator."}};
static const struct i18n_text msg_rn_other_device = {
	{"提示された証明書は、更新する端末の証明書ではありません。更新する端末（その証明書をインストー"
	 "ルしたブラウザ）でこのページを開いてください。",
	 "The certificate presented is not the certificate of the device being renewed. Open this "
	 "page on that device (in the browser where its certificate is installed)."}};
static const struct i18n_text msg_rn_not_yet = {
	{"この証明書はまだ更新できません。有効期限（%s）の %d 日前（%s）から更新できます。",
	 "This certificate cannot be renewed yet: it expires at %s and can be renewed from %d "
	 "days before, that is from %s."}};
static const struct i18n_text msg_rn_expired = {
	{"この証明書は有効期限（%s）から %d 日以上過ぎているため、更新できません。管理者にお問い合わせ"
	 "ください。",
	 "This certificate expired (%s) more than %d days ago and cannot be renewed. Please ask "
	 "your administrator."}};
static const struct i18n_text msg_rn_issuing = {
	{"新しい証明書を発行しています。しばらくしてからもう一度お試しください。",
	 "The new certificate is being issued. Please try again shortly."}};
static const struct i18n_text msg_rn_failed = {
	{"新しい証明書の発行に失敗しました。管理者にお問い合わせください。",
	 "The new certificate could not be issued. Please ask your administrator."}};
static const struct i18n_text msg_rn_taken = {
	{"新しい証明書はすでにダウンロードされています。パスワードは一度だけ表示されます。",
	 "The new certificate has already been downloaded. Its password is shown only once."}};
static const struct i18n_text msg_rn_not_requested = {
	{"更新はまだ申し込まれていません。", "No renewal has been requested yet."}};

/* yyyy/mm/dd hh:mm (JST) of an epoch second. */
static void
jst(long long at, char *buf, size_t len)
{
	time_t t = (time_t)(at + 9 * 3600);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y/%m/%d %H:%M", &tm);
}

/* A refusal: the answer, and one summed history entry per address, kind and minute. */
static int
refuse(struct http_req *req, struct svc_thread *t, const struct dlsite *site, int status,
       const char *code, const char *msg)
{
	struct audit_more m = {NULL, "dl_renew_refused", {code}, 1};

	dlsite_refused(req, t, site->tenant_id, "renew", &m);
	log_msg(LOG_WARN, "event=renew_refused tenant=%lld ip=%s reason=%s", site->tenant_id,
		req->remote_addr, code);
	http_error(req, status, code, msg, NULL);
	return 1;
}

static int
refuse_msg(struct http_req *req, struct svc_thread *t, const struct dlsite *site, int status,
	   const char *code, const struct i18n_text *m)
{
	return refuse(req, t, site, status, code, i18n_msg(m, req->lang));
}

/* nginx's escaped PEM as a certificate; NULL when there is none or it does not parse. */
static X509 *
client_cert(const struct http_req *req)
{
	char pem[8192];
	BIO *bio;
	X509 *x = NULL;

	if (req->client_cert == NULL || req->client_cert[0] == '\0' ||
	    strlen(req->client_cert) >= sizeof(pem))
		return NULL;
	snprintf(pem, sizeof(pem), "%s", req->client_cert);
	if (util_urldecode(pem, 0) != 0 || (bio = BIO_new_mem_buf(pem, -1)) == NULL)
		return NULL;
	x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	BIO_free(bio);
	return x;
}

/*
 * Is row r the certificate x: issued by the row's CA (issuer name and key identifier, and the
 * signature verifies with the CA's key) and the very DER stored? TLS already proved the client
 * holds x's key.
 */
static int
same_cert(const PGresult *res, int r, X509 *x, const char *der_hex)
{
	const char *pem = db_get(res, r, "cert_pem"), *stored = db_get(res, r, "der_hex");
	BIO *bio = pem ? BIO_new_mem_buf(pem, -1) : NULL;
	X509 *ca = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
	EVP_PKEY *pub = ca ? X509_get0_pubkey(ca) : NULL;
	int ok = pub != NULL && stored != NULL && X509_check_issued(ca, x) == X509_V_OK &&
		 X509_verify(x, pub) == 1 && strcmp(stored, der_hex) == 0;

	X509_free(ca);
	BIO_free(bio);
	return ok;
}

static void
fill(const PGresult *res, int r, struct presented *p)
{
	memset(p, 0, sizeof(*p));
	p->id = db_get_ll(res, r, "id");
	p->device_id = db_get_ll(res, r, "device_id");
	p->user_id = db_get_ll(res, r, "user_id");
	p->new_id = db_get_ll(res, r, "new_id");
	p->not_after = db_get_ll(res, r, "not_after");
	p->now = db_get_ll(res, r, "now");
	p->before_days = (int)db_get_ll(res, r, "renew_before_days");
	p->after_days = (int)db_get_ll(res, r, "renew_after_days");
	p->superseded = strcmp(db_get(res, r, "superseded"), "t") == 0;
	snprintf(p->cn, sizeof(p->cn), "%s", db_get(res, r, "cn"));
	snprintf(p->email, sizeof(p->email), "%s", db_get(res, r, "email"));
	snprintf(p->serial, sizeof(p->serial), "%s", db_get(res, r, "serial"));
	snprintf(p->status, sizeof(p->status), "%s", db_get(res, r, "status"));
	snprintf(p->expires_at, sizeof(p->expires_at), "%s", db_get(res, r, "expires_at"));
	snprintf(p->device, sizeof(p->device), "%s", db_get(res, r, "device_code"));
	snprintf(p->restriction, sizeof(p->restriction), "%s", db_get(res, r, "restriction_mode"));
	snprintf(p->new_status, sizeof(p->new_status), "%s", db_get(res, r, "new_status"));
	snprintf(p->new_serial, sizeof(p->new_serial), "%s", db_get(res, r, "new_serial"));
}

/* The presented certificate's row of this tenant: 0 found, 1 refused (answered), -errno. */
static int
find(struct http_req *req, struct svc_thread *t, const struct dlsite *site, struct presented *p,
     int *gone)
{
	X509 *x = client_cert(req);
	unsigned char *der = NULL;
	char serial[80], tid[24], *der_hex = NULL;
	PGresult *res = NULL;
	int len, rc = 1, r;

	if (x == NULL) {
		refuse_msg(req, t, site, 401, "no_certificate", &msg_rn_no_cert);
		goto out;
	}
	if ((len = i2d_X509(x, &der)) <= 0 ||
	    x509_serial_hex(X509_get0_serialNumber(x), serial, sizeof(serial)) != 0 ||
	    (der_hex = malloc((size_t)len * 2 + 1)) == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	util_hex(der, (size_t)len, der_hex);
	snprintf(tid, sizeof(tid), "%lld", site->tenant_id);
	const char *params[] = {tid, serial};
	if ((rc = db_exec(&t->db, &q_rn_presented, params, &res)) != 0) {
		rc = rc < 0 ? rc : -EIO;
		goto out;
	}
	for (r = 0; r < PQntuples(res); r++)
		if (same_cert(res, r, x, der_hex))
			break;
	if (r >= PQntuples(res)) {
		refuse_msg(req, t, site, 403, "foreign_certificate", &msg_rn_foreign);
		rc = 1;
		goto out;
	}
	fill(res, r, p);
	*gone = strcmp(db_get(res, r, "gone"), "t") == 0;
	rc = 0;
out:
	PQclear(res);
	free(der_hex);
	OPENSSL_free(der);
	X509_free(x);
	return rc;
}

/* The old certificate revoked (superseded) through shomei-revoke's internal API. 0 or -EIO. */
static int
revoke_old(struct http_req *req, struct svc_thread *t, const struct dlsite *site, long long id)
{
	cJSON *body = cJSON_CreateObject(), *ids = cJSON_AddArrayToObject(body, "ids"), *ans = NULL;
	int status = 0, rc;

	cJSON_AddNumberToObject(body, "tenant", (double)site->tenant_id);
	cJSON_AddItemToArray(ids, cJSON_CreateNumber((double)id));
	cJSON_AddStringToObject(body, "reason", "superseded");
	if (req->remote_addr != NULL && req->remote_addr[0] != '\0')
		cJSON_AddStringToObject(body, "remote_addr", req->remote_addr);
	rc = internal_post(t->cfg, "download", "/internal/revocations", body, &status, &ans);
	if (rc == 0 && status != 200) {
		const cJSON *e = cJSON_GetObjectItem(ans, "error");
		log_msg(LOG_WARN,
			"event=renew_revocation_refused tenant=%lld certificate=%lld "
			"status=%d code=%s",
			site->tenant_id, id, status, e ? json_str(e, "code") : "-");
		rc = -EIO;
	} else if (rc != 0) {
		log_msg(LOG_WARN,
			"event=renew_revocation_failed tenant=%lld certificate=%lld rc=%d",
			site->tenant_id, id, rc);
	} else {
		log_msg(LOG_INFO, "event=renew_old_revoked tenant=%lld certificate=%lld",
			site->tenant_id, id);
	}
	cJSON_Delete(ans);
	cJSON_Delete(body);
	return rc < 0 ? -EIO : 0;
}

/*
 * Everything a renewal checks, in the order the refusals are told: the certificate (none,
 * another's), its status, whether it can be renewed here, the device the link names, the
 * window. A certificate already renewed (superseded, still valid) skips the window: its renewal
 * was accepted inside it. 0 may go on, 1 refused (answered), -errno.
 */
static int
check(struct http_req *req, struct svc_thread *t, const struct dlsite *site, struct presented *p)
{
	char v[32], tid[24], when[24], msg[600];
	long long named = 0;
	int gone = 0, rc;

	if ((rc = find(req, t, site, p, &gone)) != 0)
		return rc;
	if (!lifecycle_has(p->status, LC_F_VALID) || strcmp(p->status, LC_REVOKE_SCHEDULED) == 0)
		return refuse_msg(req, t, site, 403, "revoked", &msg_rn_revoked);
	if (p->superseded && strcmp(p->new_status, LC_DOWNLOADED) == 0) {
		/* renewed, but the revocation did not go through then: again now */
		revoke_old(req, t, site, p->id);
		return refuse_msg(req, t, site, 403, "revoked", &msg_rn_revoked);
	}
	if (p->device_id == 0 || p->user_id == 0 || gone)
		return refuse_msg(req, t, site, 403, "not_renewable", &msg_rn_not_renewable);
	if (strcmp(p->restriction, "none") != 0)
		return refuse_msg(req, t, site, 403, "install_restricted", &msg_rn_restricted);
	rc = http_query_get(req->query, "certificate", v, sizeof(v));
	if (rc == 0 && util_parse_ll(v, 1, (long long)1 << 53, &named) == 0) {
		PGresult *res = NULL;
		snprintf(tid, sizeof(tid), "%lld", site->tenant_id);
		const char *params[] = {tid, v};
		if ((rc = db_exec(&t->db, &q_rn_device_of, params, &res)) != 0)
			return rc < 0 ? rc : -EIO;
		int same = PQntuples(res) == 1 && db_get_ll(res, 0, "device_id") == p->device_id;
		PQclear(res);
		if (!same)
			return refuse_msg(req, t, site, 403, "other_device", &msg_rn_other_device);
	} else if (rc != HTTP_E_ABSENT) {
		/* a link whose certificate is not a number names no device of anyone's */
		return refuse_msg(req, t, site, 403, "other_device", &msg_rn_other_device);
	}
	if (p->superseded)
		return 0;
	if (p->now < p->not_after - p->before_days * DAY) {
		jst(p->not_after - p->before_days * DAY, when, sizeof(when));
		snprintf(msg, sizeof(msg), i18n_msg(&msg_rn_not_yet, req->lang), p->expires_at,
			 p->before_days, when);
		return refuse(req, t, site, 403, "not_yet", msg);
	}
	if (p->now > p->not_after + p->after_days * DAY) {
		snprintf(msg, sizeof(msg), i18n_msg(&msg_rn_expired, req->lang), p->expires_at,
			 p->after_days);
		return refuse(req, t, site, 403, "expired", msg);
	}
	return 0;
}

/* renewable (not asked yet), issuing, ready (to download), failed */
static const char *
state_of(const struct presented *p)
{
	if (!p->superseded)
		return "renewable";
	if (strcmp(p->new_status, LC_ISSUED) == 0)
		return "ready";
	if (strcmp(p->new_status, LC_FAILED) == 0)
		return "failed";
	return "issuing";
}

/* The session of this page (cookie and CSRF token) granting the presented certificate. */
static int
page_session(struct http_req *req, struct svc_thread *t, const struct dlsite *site,
	     const struct presented *p, struct dlsess *s)
{
	struct dlsess grant;
	int rc = dlsess_get(req, t, s);

	if (rc < 0)
		return rc;
	if (rc == 0 && s->tenant_id == site->tenant_id && dlsess_grants(s, p->id))
		return 0;
	memset(&grant, 0, sizeof(grant));
	grant.tenant_id = site->tenant_id;
	grant.ids[grant.n++] = p->id;
	if ((rc = dlsess_create(t, &grant, s)) != 0)
		return rc;
	dlsess_cookie(req, t, s);
	return 0;
}

static void
answer(struct http_req *req, const struct dlsite *site, const struct presented *p, const char *csrf)
{
	cJSON *doc = cJSON_CreateObject(), *c;

	if (csrf != NULL)
		cJSON_AddStringToObject(doc, "csrf_token", csrf);
	cJSON_AddStringToObject(doc, "tenant", site->slug);
	cJSON_AddStringToObject(doc, "state", state_of(p));
	c = cJSON_AddObjectToObject(doc, "certificate");
	cJSON_AddNumberToObject(c, "id", (double)p->id);
	cJSON_AddStringToObject(c, "cn", p->cn);
	cJSON_AddStringToObject(c, "email", p->email);
	cJSON_AddStringToObject(c, "device", p->device);
	cJSON_AddStringToObject(c, "serial", p->serial);
	cJSON_AddStringToObject(c, "expires_at", p->expires_at);
	cJSON_AddNumberToObject(doc, "renew_before_days", p->before_days);
	cJSON_AddNumberToObject(doc, "renew_after_days", p->after_days);
	http_add_header(req, "Cache-Control", "no-store");
	http_json(req, 200, doc);
	cJSON_Delete(doc);
}

int
dl_renew_status(struct http_req *req, struct svc_thread *t)
{
	struct dlsite site;
	struct presented p;
	struct dlsess s;
	int rc;

	if ((rc = dlsite_open(req, t, &site)) != 0 || (rc = check(req, t, &site, &p)) != 0)
		return rc > 0 ? 0 : rc;
	if ((rc = page_session(req, t, &site, &p, &s)) != 0)
		return rc;
	answer(req, &site, &p, s.csrf);
	return 0;
}

/* The page's session and token, and the certificate checked again: 0, 1 answered, -errno. */
static int
open_post(struct http_req *req, struct svc_thread *t, struct dlsite *site, struct presented *p)
{
	struct dlsess s;
	int rc;

	if ((rc = dlsite_open(req, t, site)) != 0 || (rc = dlsite_session(req, t, site, &s)) != 0)
		return rc;
	if (req->csrf_header == NULL || !util_streq_ct(req->csrf_header, s.csrf)) {
		svc_fail(req, 403, "csrf", &msg_csrf);
		return 1;
	}
	if ((rc = check(req, t, site, p)) != 0)
		return rc;
	if (!dlsess_grants(&s, p->id)) { /* the page was opened with another certificate */
		svc_fail(req, 403, "csrf", &msg_csrf);
		return 1;
	}
	return 0;
}

/* In one transaction: the old row locked, the device's period dropped, the new row queued. */
static int
queue(struct http_req *req, struct svc_thread *t, const struct dlsite *site,
      const struct presented *p, int *queued)
{
	char tid[24], id[24], did[24];
	struct certq_quota q;
	PGresult *res = NULL;
	long long new_id = 0;
	int rc;

	*queued = 0;
	snprintf(tid, sizeof(tid), "%lld", site->tenant_id);
	snprintf(id, sizeof(id), "%lld", p->id);
	snprintf(did, sizeof(did), "%lld", p->device_id);
	const char *pl[] = {tid, id}, *pd[] = {tid, did};
	/* the row first, then the tenant, as reissue locks them (DECISIONS.md, "Reissue") */
	if ((rc = db_begin(&t->db)) != 0)
		return rc;
	if ((rc = db_exec(&t->db, &q_rn_lock, pl, &res)) != 0)
		goto fail;
	if (PQntuples(res) != 1 || !lifecycle_has(db_get(res, 0, "status"), LC_F_VALID) ||
	    strcmp(db_get(res, 0, "superseded"), "t") == 0) {
		PQclear(res);
		db_rollback(&t->db);
		return 0; /* revoked or renewed meanwhile: the caller answers what is now */
	}
	PQclear(res);
	res = NULL;
	if ((rc = certq_lock(&t->db, site->tenant_id, &q)) != 0 ||
	    (rc = db_exec(&t->db, &q_rn_period, pd, &res)) != 0)
		goto fail;
	struct certq_row nr = {
		.tenant_id = site->tenant_id,
		.user_id = p->user_id,
		.device_id = p->device_id,
		.replaces_id = p->id,
		.cn = p->cn,
		.email = p->email,
		.key_type = q.key_type,
		.requested_ip = req->remote_addr,
	};
	if ((rc = certq_replace(&t->db, &nr, &new_id)) != 0)
		goto fail;
	struct audit_more m = {NULL, "cert_renew_accepted", {p->cn, p->serial}, 2};
	struct audit_entry e = {
		site->tenant_id, req->remote_addr, "user", 0, AUDIT_CERTIFICATE_RENEW, NULL};
	if ((rc = audit_write_ex(&t->db, &e, &m)) != 0 || (rc = db_commit(&t->db)) != 0)
		goto fail;
	PQclear(res);
	*queued = 1;
	certq_wake(&t->kv, site->tenant_id);
	log_msg(LOG_INFO, "event=renew_queued tenant=%lld certificate=%lld new=%lld",
		site->tenant_id, p->id, new_id);
	return 0;
fail:
	PQclear(res);
	db_rollback(&t->db);
	return rc < 0 ? rc : -EIO;
}

int
dl_renew_request(struct http_req *req, struct svc_thread *t)
{
	struct dlsite site;
	struct presented p;
	int rc, queued = 0;

	if ((rc = open_post(req, t, &site, &p)) != 0)
		return rc > 0 ? 0 : rc;
	if (!p.superseded) {
		if ((rc = queue(req, t, &site, &p, &queued)) != 0)
			return rc;
		/* what the row is now: queued by us or by a request that ran at the same time */
		if ((rc = check(req, t, &site, &p)) != 0)
			return rc > 0 ? 0 : rc;
	}
	answer(req, &site, &p, NULL);
	return 0;
}

/* Base64 (RFC 4648, padded) of the PKCS#12, malloc'ed. */
static char *
b64(const unsigned char *in, size_t len)
{
	char *out = malloc(4 * ((len + 2) / 3) + 1);

	if (out != NULL)
		EVP_EncodeBlock((unsigned char *)out, in, (int)len);
	return out;
}

/* The new row taken (issued → downloaded), the history entry and the notice; 0, 1 taken, -EIO. */
static int
take(struct http_req *req, struct svc_thread *t, const struct dlsite *site,
     const struct presented *p)
{
	char id[24], tid[24], item[700];
	PGresult *res = NULL;
	int rc;

	snprintf(id, sizeof(id), "%lld", p->new_id);
	snprintf(tid, sizeof(tid), "%lld", site->tenant_id);
	const char *params[] = {id, tid};
	if ((rc = db_begin(&t->db)) != 0)
		return rc;
	if ((rc = db_exec(&t->db, &q_rn_take, params, &res)) != 0)
		goto fail;
	if (PQntuples(res) != 1) {
		PQclear(res);
		db_rollback(&t->db);
		return 1;
	}
	PQclear(res);
	res = NULL;
	snprintf(item, sizeof(item), "%s <%s> (%s -> %s)", p->cn, p->email, p->serial,
		 p->new_serial);
	struct audit_more m = {NULL, "cert_renewed", {p->cn, p->new_serial, p->serial}, 3};
	struct audit_entry e = {
		site->tenant_id, req->remote_addr, "user", 0, AUDIT_CERTIFICATE_RENEW, NULL};
	if ((rc = audit_write_ex(&t->db, &e, &m)) != 0 ||
	    (rc = notice_renewed(&t->db, site->tenant_id, item)) != 0 ||
	    (rc = db_commit(&t->db)) != 0)
		goto fail;
	return 0;
fail:
	PQclear(res);
	db_rollback(&t->db);
	return rc < 0 ? rc : -EIO;
}

int
dl_renew_download(struct http_req *req, struct svc_thread *t)
{
	const unsigned char *key = datakey_get(t->cfg);
	struct dlsite site;
	struct presented p;
	struct dist_cert c;
	PGresult *res = NULL;
	char id[24], tid[24], base[300], file[310], *p12 = NULL;
	cJSON *doc = NULL;
	int rc;

	memset(&c, 0, sizeof(c));
	if (key == NULL) {
		log_msg(LOG_ERROR, "event=data_key_unreadable");
		return -EIO;
	}
	if ((rc = open_post(req, t, &site, &p)) != 0)
		return rc > 0 ? 0 : rc;
	const char *st = state_of(&p);
	if (strcmp(st, "ready") != 0) {
		int asked = strcmp(st, "renewable") != 0;
		const struct i18n_text *m = !asked                      ? &msg_rn_not_requested
					    : strcmp(st, "failed") == 0 ? &msg_rn_failed
									: &msg_rn_issuing;
		http_error(req, 409, asked ? st : "not_requested", i18n_msg(m, req->lang), NULL);
		return 0;
	}
	snprintf(id, sizeof(id), "%lld", p.new_id);
	snprintf(tid, sizeof(tid), "%lld", site.tenant_id);
	const char *params[] = {id, tid};
	if ((rc = db_exec(&t->db, &q_dl_cert, params, &res)) != 0) {
		rc = rc < 0 ? rc : -EIO;
		goto out;
	}
	if (PQntuples(res) != 1 || db_get(res, 0, "p12") == NULL) {
		rc = -EIO; /* an issued row always has its files */
		goto out;
	}
	if ((rc = dist_cert_from_row(res, 0, key, &c)) != 0)
		goto out;
	if ((rc = take(req, t, &site, &p)) != 0) {
		if (rc == 1) {
			svc_fail(req, 409, "taken", &msg_rn_taken);
			rc = 0;
		}
		goto out;
	}
	/* downloaded: the old certificate goes now (a failure is retried by the next visit) */
	revoke_old(req, t, &site, p.id);
	if ((p12 = b64(c.p12, c.p12_len)) == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	dist_base_name(&c, base, sizeof(base));
	snprintf(file, sizeof(file), "%s.p12", base);
	doc = cJSON_CreateObject();
	cJSON_AddStringToObject(doc, "filename", file);
	cJSON_AddStringToObject(doc, "p12", p12);
	cJSON_AddStringToObject(doc, "password", c.password);
	cJSON_AddStringToObject(doc, "serial", p.new_serial);
	cJSON_AddStringToObject(doc, "old_serial", p.serial);
	http_add_header(req, "Cache-Control", "no-store");
	http_json(req, 200, doc);
	log_msg(LOG_INFO, "event=renewed tenant=%lld certificate=%lld new=%lld", site.tenant_id,
		p.id, p.new_id);
	rc = 0;
out:
	if (doc != NULL) {
		cJSON *pw = cJSON_GetObjectItemCaseSensitive(doc, "password");
		if (cJSON_IsString(pw))
			OPENSSL_cleanse(pw->valuestring, strlen(pw->valuestring));
	}
	cJSON_Delete(doc);
	free(p12);
	dist_cert_done(&c);
	PQclear(res);
	return rc;
}
