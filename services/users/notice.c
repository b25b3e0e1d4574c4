/*
 * notice.c: パスワード通知書 (NRA): GET /api/users/notice.pdf?ids=… renders one A4 page per user
 * asked for, in the user's language: the tenant's name, the download site's URL and its QR code,
 * and for each certificate the bulk hand-outs give (DIST_BULK_WHERE, as the password list) its
 * device, the download site's login ID (the device e-mail) and the password, opened by
 * dist_cert_from_row as the password list opens it. Every id must be a user of the tenant that is
 * not purged, or nothing is rendered (404). The download is a history entry (password_notice),
 * committed before the answer is sent.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cairo-pdf.h>
#include <cairo.h>
#include <openssl/crypto.h>
#include <pango/pangocairo.h>

#include "core/json.h"
#include "core/log.h"
#include "domain/audit.h"
#include "domain/device.h"
#include "domain/dist.h"
#include "extern.h"
#include "pki/datakey.h"
#include "qrimg.h"
#include "web/valid.h"

/* clang-format off */
/* $1 tenant, $2 ids: one id that is not a user of the tenant (or is purged), if any. */
static const struct db_stmt q_missing = {
	"notice_missing",
	"SELECT x FROM unnest($2::bigint[]) x WHERE NOT EXISTS (SELECT 1 FROM users u"
	" WHERE u.id = x AND u.tenant_id = $1 AND u.purged_at IS NULL) LIMIT 1",
	2,
};

static const struct db_stmt q_tenant_names = {
	"notice_tenant",
	"SELECT name, name_en, slug, to_char(now() AT TIME ZONE 'Asia/Tokyo', 'YYYY/MM/DD') AS today"
	" FROM tenants WHERE id = $1",
	1,
};

/* $1 tenant, $2 ids: a row per user and certificate (the certificate's columns NULL: none). */
static const struct db_stmt q_rows = {
	"notice_rows",
	"SELECT u.id AS user_id, u.family_name, u.given_name, u.family_name_en, u.given_name_en,"
	" u.lang, c.id, coalesce(c.number, 0) AS number, c.cn, coalesce(c.email, '') AS email,"
	" coalesce(d.device_code, '') AS device_code, c.status, c.p12_password_enc"
	" FROM users u LEFT JOIN (certificates c LEFT JOIN devices d ON d.id = c.device_id)"
	" ON c.user_id = u.id AND c.tenant_id = u.tenant_id AND" DIST_BULK_WHERE
	" WHERE u.tenant_id = $1 AND u.id = ANY ($2::bigint[]) AND u.purged_at IS NULL"
	" ORDER BY u.id, c.id",
	2,
};
/* clang-format on */

#define FONT "IPAGothic"
#define PAGE_W 595.276 /* A4 in points */
#define PAGE_H 841.890
#define MARGIN 56.7 /* 20 mm */
#define TEXT_W (PAGE_W - 2 * MARGIN)
#define QR_SIDE 113.4 /* 40 mm */

static const char *const words[][2] = {
	{"パスワード通知書", "Password notice"},
	{"発行日", "Date"},
	{"発行元", "From"},
	{"%s %s 様", "To: %s %s"},
	{"%s から、あなたの電子証明書が発行されました。下記のダウンロードサイトに、このログイン ID "
	 "とパスワードでログインして電子証明書をダウンロードし、お使いの端末に登録してください。",
	 "%s has issued your certificate. Log in to the download site below with this login ID and "
	 "password, download the certificate and install it on your device."},
	{"ダウンロードサイト", "Download site"},
	{"デバイス", "Device"},
	{"ログイン ID", "Login ID"},
	{"パスワード", "Password"},
	{"ダウンロードできる電子証明書はありません。", "There is no certificate to download."},
	{"この通知書は電子証明書の登録が終わるまで大切に保管し、ほかの人に見せないでください。",
	 "Keep this notice safe until the certificate is installed, and show it to no one."},
};
enum { W_TITLE, W_DATE, W_FROM, W_TO, W_INTRO, W_SITE, W_DEVICE, W_ID, W_PW, W_NONE, W_KEEP };

struct notice {
	cairo_t *cr;
	const char *tenant[2]; /* name, name_en */
	const char *today;
	char url[1024];
	int lang; /* the page's: its user's */
};

static const char *
w(const struct notice *n, int i)
{
	return words[i][n->lang == I18N_EN];
}

/* s at x, y, wrapped in width wd, size points; the height it took. */
static double
text(struct notice *n, const char *s, double x, double y, double wd, double size, int bold,
     PangoAlignment align)
{
	PangoLayout *l = pango_cairo_create_layout(n->cr);
	PangoFontDescription *fd = pango_font_description_from_string(FONT);
	int h = 0;

	pango_font_description_set_absolute_size(fd, size * PANGO_SCALE);
	if (bold)
		pango_font_description_set_weight(fd, PANGO_WEIGHT_BOLD);
	pango_layout_set_font_description(l, fd);
	pango_layout_set_width(l, (int)(wd * PANGO_SCALE));
	pango_layout_set_wrap(l, PANGO_WRAP_WORD_CHAR);
	pango_layout_set_alignment(l, align);
	pango_layout_set_text(l, s, -1);
	cairo_set_source_rgb(n->cr, 0, 0, 0);
	cairo_move_to(n->cr, x, y);
	pango_cairo_show_layout(n->cr, l);
	pango_layout_get_size(l, NULL, &h);
	pango_font_description_free(fd);
	g_object_unref(l);
	return (double)h / PANGO_SCALE;
}

static void
rule(struct notice *n, double y)
{
	cairo_set_source_rgb(n->cr, 0.4, 0.4, 0.4);
	cairo_set_line_width(n->cr, 0.75);
	cairo_move_to(n->cr, MARGIN, y);
	cairo_line_to(n->cr, PAGE_W - MARGIN, y);
	cairo_stroke(n->cr);
}

/* The page's head: title, date and tenant, the user, the text and the download site. */
static double
head(struct notice *n, const PGresult *res, int r)
{
	const char *tenant = n->tenant[n->lang == I18N_EN];
	char buf[1024];
	double y = MARGIN;

	y += text(n, w(n, W_TITLE), MARGIN, y, TEXT_W, 22, 1, PANGO_ALIGN_CENTER) + 18;
	snprintf(buf, sizeof(buf), "%s: %s\n%s: %s", w(n, W_DATE), n->today, w(n, W_FROM), tenant);
	y += text(n, buf, MARGIN, y, TEXT_W, 10, 0, PANGO_ALIGN_RIGHT) + 12;
	if (n->lang == I18N_EN)
		snprintf(buf, sizeof(buf), w(n, W_TO), db_get(res, r, "given_name_en"),
			 db_get(res, r, "family_name_en"));
	else
		snprintf(buf, sizeof(buf), w(n, W_TO), db_get(res, r, "family_name"),
			 db_get(res, r, "given_name"));
	y += text(n, buf, MARGIN, y, TEXT_W, 14, 1, PANGO_ALIGN_LEFT) + 14;
	snprintf(buf, sizeof(buf), w(n, W_INTRO), tenant);
	y += text(n, buf, MARGIN, y, TEXT_W, 11, 0, PANGO_ALIGN_LEFT) + 18;
	rule(n, y);
	y += 14;
	text(n, w(n, W_SITE), MARGIN, y, TEXT_W - QR_SIDE - 12, 11, 1, PANGO_ALIGN_LEFT);
	text(n, n->url, MARGIN, y + 22, TEXT_W - QR_SIDE - 12, 12, 0, PANGO_ALIGN_LEFT);
	if (qrimg_draw(n->cr, n->url, PAGE_W - MARGIN - QR_SIDE, y - 6, QR_SIDE) != 0)
		log_msg(LOG_WARN, "event=notice_qr_failed");
	y += QR_SIDE;
	rule(n, y);
	return y + 16;
}

#define ENTRY_H 84.0 /* what an entry takes at full size (its box and the gap after it) */

/* One certificate's device, login ID and password, f times full size; the height it took. */
static double
entry(struct notice *n, const struct dist_cert *c, double y, double f)
{
	const char *label[] = {w(n, W_DEVICE), w(n, W_ID), w(n, W_PW)};
	const char *value[] = {device_label(c->device, n->lang), c->email, c->password};
	const double size[] = {11, 13, 16};
	double h = 0;

	for (int i = 0; i < 3; i++) {
		text(n, label[i], MARGIN + 12, y + h + 2 * f, 120, 11 * f, 0, PANGO_ALIGN_LEFT);
		h += text(n, value[i], MARGIN + 140, y + h, TEXT_W - 152, size[i] * f, i == 2,
			  PANGO_ALIGN_LEFT) +
		     6 * f;
	}
	cairo_set_source_rgb(n->cr, 0.4, 0.4, 0.4);
	cairo_set_line_width(n->cr, 0.75);
	cairo_rectangle(n->cr, MARGIN, y - 8 * f, TEXT_W, h + 10 * f);
	cairo_stroke(n->cr);
	return h + 22 * f;
}

/* The certificates of the user on row r (its rows follow each other). */
static int
count_certs(const PGresult *res, int r)
{
	const char *uid = db_get(res, r, "user_id");
	int k = 0, col = PQfnumber(res, "id");

	for (; r < PQntuples(res) && strcmp(db_get(res, r, "user_id"), uid) == 0; r++)
		k += !PQgetisnull(res, r, col);
	return k;
}

/* The page of the user on row *r, up to its last row; *certs counts the certificates. */
static int
user_page(struct notice *n, const PGresult *res, int *r, const unsigned char *key, int *certs)
{
	const char *uid = db_get(res, *r, "user_id");
	double y, f;
	int rc = 0, any = 0, k = count_certs(res, *r);

	n->lang = strcmp(db_get(res, *r, "lang"), "en") == 0 ? I18N_EN : I18N_JA;
	y = head(n, res, *r);
	/* every certificate on the one page: smaller when they would not fit at full size */
	f = k > 0 ? (PAGE_H - MARGIN - 40 - y) / (k * ENTRY_H) : 1;
	f = f > 1 ? 1 : f;
	for (; *r < PQntuples(res) && strcmp(db_get(res, *r, "user_id"), uid) == 0; (*r)++) {
		struct dist_cert c;

		if (PQgetisnull(res, *r, PQfnumber(res, "id")))
			continue;
		if ((rc = dist_cert_from_row(res, *r, key, &c)) != 0)
			break;
		y += entry(n, &c, y, f);
		dist_cert_done(&c);
		any = 1;
		(*certs)++;
	}
	if (rc == 0 && !any)
		text(n, w(n, W_NONE), MARGIN, y, TEXT_W, 11, 0, PANGO_ALIGN_LEFT);
	text(n, w(n, W_KEEP), MARGIN, PAGE_H - MARGIN - 14, TEXT_W, 9, 0, PANGO_ALIGN_LEFT);
	cairo_show_page(n->cr);
	return rc;
}

/* The whole PDF of res's users into *out (caller frees, after wiping: it holds passwords). */
static int
render(struct notice *n, const PGresult *res, const unsigned char *key, struct qrimg_buf *out,
       int *users, int *certs)
{
	cairo_surface_t *s =
		cairo_pdf_surface_create_for_stream(qrimg_buf_write, out, PAGE_W, PAGE_H);
	int rc = 0;

	cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_TITLE, words[W_TITLE][0]);
	cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_CREATOR, "shomei");
	n->cr = cairo_create(s);
	for (int r = 0; r < PQntuples(res) && rc == 0; (*users)++)
		rc = user_page(n, res, &r, key, certs);
	cairo_destroy(n->cr);
	cairo_surface_finish(s);
	if (rc == 0 && cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) {
		log_msg(LOG_ERROR, "event=notice_pdf_failed status=%s",
			cairo_status_to_string(cairo_surface_status(s)));
		rc = -EIO;
	}
	cairo_surface_destroy(s);
	return rc;
}

/* The history's list of the users: "family given (id), …", cut to fit. */
static void
names(const PGresult *res, char *buf, size_t len)
{
	size_t o = 0;
	const char *last = "";

	buf[0] = '\0';
	for (int r = 0; r < PQntuples(res) && o + 1 < len; r++) {
		const char *uid = db_get(res, r, "user_id");
		int k;

		if (strcmp(uid, last) == 0)
			continue;
		last = uid;
		k = snprintf(buf + o, len - o, "%s%s %s (%s)", o ? ", " : "",
			     db_get(res, r, "family_name"), db_get(res, r, "given_name"), uid);
		if (k < 0 || (size_t)k >= len - o) {
			buf[o] = '\0';
			break;
		}
		o += (size_t)k;
	}
}

static int
bad_ids(struct http_req *req)
{
	cJSON *errs = cJSON_CreateArray();

	json_field_error(errs, "ids", i18n_msg(&msg_bad_user_ids, req->lang));
	svc_invalid(req, errs);
	return 0;
}

int
users_notice_pdf(struct http_req *req, struct svc_thread *t)
{
	const unsigned char *key = datakey_get(t->cfg);
	struct notice n = {0};
	struct qrimg_buf pdf = {0};
	PGresult *res = NULL, *tn = NULL;
	char tid[24], *ids = NULL, list[1024], nu[16], nc[16];
	int rc, users = 0, certs = 0;

	if ((rc = valid_id_list(req->query, "ids", &ids)) < 0)
		return rc;
	if (rc != 0)
		return bad_ids(req);
	if (key == NULL) {
		free(ids);
		log_msg(LOG_ERROR, "event=data_key_unreadable");
		return -EIO;
	}
	snprintf(tid, sizeof(tid), "%lld", req->tenant_id);
	const char *p[] = {tid, ids};
	if ((rc = db_begin(&t->db)) != 0)
		goto out;
	if ((rc = db_exec(&t->db, &q_missing, p, &res)) != 0)
		goto out;
	if (PQntuples(res) > 0) {
		db_rollback(&t->db);
		svc_fail(req, 404, "not_found", &msg_not_found);
		goto done;
	}
	PQclear(res);
	res = NULL;
	if ((rc = db_exec(&t->db, &q_tenant_names, p, &tn)) != 0 ||
	    (rc = PQntuples(tn) == 1 ? 0 : -EIO) != 0 ||
	    (rc = db_exec(&t->db, &q_rows, p, &res)) != 0)
		goto out;
	n.tenant[0] = db_get(tn, 0, "name");
	n.tenant[1] = db_get(tn, 0, "name_en");
	n.today = db_get(tn, 0, "today");
	snprintf(n.url, sizeof(n.url), "%s/dl/%s/", t->cfg->public_url, db_get(tn, 0, "slug"));
	if ((rc = render(&n, res, key, &pdf, &users, &certs)) != 0)
		goto out;
	names(res, list, sizeof(list));
	snprintf(nu, sizeof(nu), "%d", users);
	snprintf(nc, sizeof(nc), "%d", certs);
	struct audit_entry e = {req->tenant_id, req->remote_addr,      "admin",
				req->admin_id,  AUDIT_PASSWORD_NOTICE, NULL};
	struct audit_more m = {NULL, "password_notice", {nu, nc, list}, 3};
	if ((rc = audit_write_ex(&t->db, &e, &m)) != 0 || (rc = db_commit(&t->db)) != 0)
		goto out;
	log_msg(LOG_INFO, "event=password_notice users=%d certificates=%d bytes=%zu", users, certs,
		pdf.len);
	http_add_header(req, "Content-Disposition", "attachment; filename=\"password-notice.pdf\"");
	http_add_header(req, "Cache-Control", "no-store");
	http_send(req, 200, "application/pdf", (const char *)pdf.p, pdf.len);
	goto done;
out:
	db_rollback(&t->db);
	rc = rc < 0 ? rc : -EIO;
done:
	if (pdf.p != NULL)
		OPENSSL_cleanse(pdf.p, pdf.cap);
	free(pdf.p);
	free(ids);
	PQclear(res);
	PQclear(tn);
	return rc;
}
