/*
 * creds.c: the one-time page of 「ログイン ID とパスワードのご案内」: GET /credentials/{token}
 * says whether the link still works (a button), POST shows the download site's login ID and the
 * certificate's password once and uses the link up; a used or expired link answers 410, an
 * unknown one 404. The mail carries the link only; the token is stored as its SHA-256.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "core/log.h"
#include "core/util.h"
#include "domain/audit.h"
#include "domain/dist.h"
#include "domain/lifecycle.h"
#include "domain/tenant.h"
#include "extern.h"
#include "pki/datakey.h"
#include "web/netacl.h"

/* clang-format off */
static const struct db_stmt q_look = {
	"creds_look",
	"SELECT (l.used_at IS NULL AND l.expires_at > now()) AS usable, l.tenant_id,"
	" " TENANT_SQL_HAS("t", TENANT_F_DOWNLOAD_SITE) " AS site,"
	" array_to_json(t.download_allowlist::text[])::text AS allowlist"
	" FROM notice_links l JOIN tenants t ON t.id = l.tenant_id"
	" WHERE l.token_sha256 = decode($1, 'hex')",
	1,
};

/* Uses the link up, with what the allow-list check needs (q_look's; rolled back on refusal). */
static const struct db_stmt q_use = {
	"creds_use",
	"UPDATE notice_links l SET used_at = now(), used_ip = $2 FROM tenants t"
	" WHERE t.id = l.tenant_id AND l.token_sha256 = decode($1, 'hex')"
	" AND l.used_at IS NULL AND l.expires_at > now()"
	" RETURNING l.tenant_id, l.certificate_id,"
	" " TENANT_SQL_HAS("t", TENANT_F_DOWNLOAD_SITE) " AS site,"
	" array_to_json(t.download_allowlist::text[])::text AS allowlist",
	2,
};

static const struct db_stmt q_cert = {
	"creds_cert",
	"SELECT " DIST_COLUMNS ", t.slug FROM certificates c LEFT JOIN devices d ON d.id = c.device_id"
	" JOIN tenants t ON t.id = c.tenant_id"
	" WHERE c.tenant_id = $1 AND c.id = $2 AND c.status IN " LC_SQL_VALID
	" AND c.p12_password_enc IS NOT NULL",
	2,
};
/* clang-format on */

static const char *const words[][2] = {
	{"ID およびパスワード通知", "Your login ID and password"},
	{"このページは一度だけ表示できます。表示したパスワードは控えてから閉じてください。",
	 "This page can be shown once. Note the password before you close it."},
	{"表示する", "Show"},
	{"このリンクは使用済みか、有効期限が切れています。管理者にお問い合わせください。",
	 "This link has been used or has expired. Please ask your administrator."},
	{"このリンクは無効です。", "This link is not valid."},
	{"ログイン ID", "Login ID"},
	{"パスワード", "Password"},
	{"ダウンロードサイト", "Download site"},
	{"このネットワークからは表示できません。ダウンロードサイトを利用できるネットワーク（社内など）から開いてください。",
	 "This page cannot be shown on this network. Please open it from a network where the download "
	 "site can be used (such as your office)."},
};
enum { W_TITLE, W_ONCE, W_SHOW, W_GONE, W_UNKNOWN, W_ID, W_PW, W_SITE, W_NETWORK };

static const char *
w(int i, int lang)
{
	return words[i][lang == I18N_EN];
}

/* A page: the title, then body (already HTML). */
static void
page(struct http_req *req, int status, const char *body)
{
	char buf[4096];
	int n = snprintf(buf, sizeof(buf),
			 "<!DOCTYPE html>\n<html lang=\"%s\"><head><meta charset=\"utf-8\">"
			 "<meta name=\"viewport\" content=\"width=device-width\">"
			 "<meta name=\"robots\" content=\"noindex\"><title>%s</title>"
			 "<link rel=\"stylesheet\" href=\"/dl/dl.css\"></head>\n"
			 "<body><main class=\"credentials\"><h1>%s</h1>\n%s</main></body></html>\n",
			 req->lang == I18N_EN ? "en" : "ja", w(W_TITLE, req->lang),
			 w(W_TITLE, req->lang), body);

	http_add_header(req, "Cache-Control", "no-store");
	http_send(req, status, "text/html; charset=utf-8", buf,
		  n > 0 && (size_t)n < sizeof(buf) ? (size_t)n : 0);
}

static void
page_msg(struct http_req *req, int status, int word)
{
	char body[512];

	snprintf(body, sizeof(body), "<p class=\"error\">%s</p>", w(word, req->lang));
	page(req, status, body);
}

/* The token's SHA-256 in hex; 0, or 1 when it is not a token the worker makes. */
static int
token_hash(const char *tok, char hex[2 * SHA256_DIGEST_LENGTH + 1])
{
	unsigned char h[SHA256_DIGEST_LENGTH];
	size_t n = strlen(tok);

	if (n != 43)
		return 1;
	for (size_t i = 0; i < n; i++)
		if (!((tok[i] >= 'A' && tok[i] <= 'Z') || (tok[i] >= 'a' && tok[i] <= 'z') ||
		      (tok[i] >= '0' && tok[i] <= '9') || tok[i] == '-' || tok[i] == '_'))
			return 1;
	SHA256((const unsigned char *)tok, n, h);
	util_hex(h, sizeof(h), hex);
	return 0;
}

/*
 * 1 when the tenant has the download site and the client's address is outside its allow-list
 * (a row of q_look or q_use): the ID and password are for that site, and are shown only where it
 * may be used, as the site itself would refuse them (an empty list refuses everyone there too).
 */
static int
outside(const struct http_req *req, const PGresult *row)
{
	return strcmp(db_get(row, 0, "site"), "t") == 0 &&
	       !netacl_json_allows(db_get(row, 0, "allowlist"), req->remote_addr);
}

/*
 * The refusal in the history, as the download site's are (one entry an address and minute),
 * written outside any transaction; then the page that says where to open the link.
 */
static void
refuse(struct http_req *req, struct svc_thread *t, long long tenant)
{
	const char *ip = req->remote_addr ? req->remote_addr : "";
	struct audit_entry e = {tenant, req->remote_addr, "user", 0, AUDIT_DOWNLOAD_REFUSED, NULL};
	struct audit_more m = {NULL, "dl_refused_ip", {ip}, 1};
	int rc;

	log_msg(LOG_WARN, "event=creds_ip_refused tenant=%lld ip=%s", tenant, ip);
	if ((rc = audit_write_summed_ex(&t->db, &t->kv, &e, &m, "ip", (long long)time(NULL))) != 0)
		log_msg(LOG_WARN, "event=audit_failed tenant=%lld kind=ip rc=%s", tenant,
			err_name(rc));
	page_msg(req, 403, W_NETWORK);
}

int
creds_get(struct http_req *req, struct svc_thread *t)
{
	char hex[2 * SHA256_DIGEST_LENGTH + 1], body[1024];
	PGresult *res = NULL;
	int rc;

	if (token_hash(req->args[0], hex) != 0) {
		page_msg(req, 404, W_UNKNOWN);
		return 0;
	}
	const char *p[] = {hex};
	if ((rc = db_exec(&t->db, &q_look, p, &res)) != 0)
		return rc < 0 ? rc : -EIO;
	if (PQntuples(res) != 1)
		page_msg(req, 404, W_UNKNOWN);
	else if (strcmp(db_get(res, 0, "usable"), "t") != 0)
		page_msg(req, 410, W_GONE);
	else if (outside(req, res))
		refuse(req, t, db_get_ll(res, 0, "tenant_id"));
	else {
		/* the form posts to this same address: the token never leaves the path */
		snprintf(
			body, sizeof(body),
			"<p>%s</p>\n<form method=\"post\"><button type=\"submit\">%s</button></form>",
			w(W_ONCE, req->lang), w(W_SHOW, req->lang));
		page(req, 200, body);
	}
	PQclear(res);
	return 0;
}

/* The page with the ID and the password (both ASCII without markup characters). */
static void
show(struct http_req *req, const struct dist_cert *c, const char *slug, const char *base)
{
	char body[2048];

	snprintf(body, sizeof(body),
		 "<p>%s</p>\n<dl><dt>%s</dt><dd id=\"login-id\">%s</dd>"
		 "<dt>%s</dt><dd id=\"password\">%s</dd>"
		 "<dt>%s</dt><dd><a href=\"%s/dl/%s/\">%s/dl/%s/</a></dd></dl>",
		 w(W_ONCE, req->lang), w(W_ID, req->lang), c->email, w(W_PW, req->lang),
		 c->password, w(W_SITE, req->lang), base, slug, base, slug);
	page(req, 200, body);
	OPENSSL_cleanse(body, sizeof(body));
}

int
creds_post(struct http_req *req, struct svc_thread *t)
{
	const unsigned char *key = datakey_get(t->cfg);
	char hex[2 * SHA256_DIGEST_LENGTH + 1];
	struct dist_cert c = {0};
	PGresult *res = NULL, *cr = NULL;
	int rc;

	if (token_hash(req->args[0], hex) != 0) {
		page_msg(req, 404, W_UNKNOWN);
		return 0;
	}
	if (key == NULL) {
		log_msg(LOG_ERROR, "event=data_key_unreadable");
		return -EIO;
	}
	const char *p[] = {hex, req->remote_addr ? req->remote_addr : ""};
	if ((rc = db_begin(&t->db)) != 0)
		return rc < 0 ? rc : -EIO;
	if ((rc = db_exec(&t->db, &q_use, p, &res)) != 0)
		goto out;
	if (PQntuples(res) != 1) {
		db_rollback(&t->db);
		PQclear(res);
		return creds_get(req, t); /* 404 or 410, as the page would say */
	}
	/* outside the allow-list the link is not used up: the page says where to open it */
	if (outside(req, res)) {
		db_rollback(&t->db);
		refuse(req, t, db_get_ll(res, 0, "tenant_id"));
		rc = 0;
		goto done;
	}
	const char *pc[] = {db_get(res, 0, "tenant_id"), db_get(res, 0, "certificate_id")};
	if ((rc = db_exec(&t->db, &q_cert, pc, &cr)) != 0)
		goto out;
	if (PQntuples(cr) != 1) { /* revoked since, or gone: nothing to show */
		rc = 0;
		db_rollback(&t->db);
		page_msg(req, 410, W_GONE);
		goto done;
	}
	if ((rc = dist_cert_from_row(cr, 0, key, &c)) != 0)
		goto out;
	struct audit_entry e = {db_get_ll(res, 0, "tenant_id"),
				req->remote_addr,
				"user",
				0,
				AUDIT_CERTIFICATE_DOWNLOAD,
				NULL};
	struct audit_more m = {NULL, "creds_shown", {c.cn, c.email}, 2};
	if ((rc = audit_write_ex(&t->db, &e, &m)) != 0 || (rc = db_commit(&t->db)) != 0)
		goto out;
	show(req, &c, db_get(cr, 0, "slug"), t->cfg->public_url);
	goto done;
out:
	db_rollback(&t->db);
	rc = rc < 0 ? rc : -EIO;
done:
	dist_cert_done(&c);
	PQclear(res);
	PQclear(cr);
	return rc;
}
