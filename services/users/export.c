/* export.c: GET /api/users/export.csv (利用者リスト): a row per certificate, with ID and password.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/audit.h"
#include "domain/certq.h"
#include "domain/dist.h"
#include "extern.h"
#include "web/csv.h"
#include "web/i18n.h"
#include "core/log.h"
#include "pki/datakey.h"
#include "domain/lifecycle.h"
#include "domain/device.h"

#define JST(col) "coalesce(to_char((" col ") AT TIME ZONE 'Asia/Tokyo', 'YYYY/MM/DD HH24:MI'), '')"

/* clang-format off */
/* $1 tenant: every certificate of users not purged, and the numbered ones, oldest user first. */
static const char q_export_open[] =
	"DECLARE users_export NO SCROLL CURSOR FOR SELECT c.id, coalesce(c.number, 0) AS number,"
	" c.cn, coalesce(c.email, '') AS email, coalesce(d.device_code, '') AS device_code,"
	" c.status, c.p12_password_enc, coalesce(c.serial, '') AS serial,"
	" coalesce(o.name, '本社') AS organization, coalesce(u.family_name, '') AS family_name,"
	" coalesce(u.given_name, '') AS given_name,"
	" coalesce(u.family_name_kana, '') AS family_name_kana,"
	" coalesce(u.given_name_kana, '') AS given_name_kana,"
	" coalesce(u.family_name_en, '') AS family_name_en,"
	" coalesce(u.given_name_en, '') AS given_name_en, coalesce(u.email, '') AS user_email, "
	JST("u.applied_at") " AS applied_at, " JST("c.issued_at") " AS issued_at, "
	JST("c.not_after") " AS expires_at, " JST("c.downloaded_at") " AS downloaded_at, "
	JST("c.revoked_at") " AS revoked_at"
	" FROM certificates c LEFT JOIN devices d ON d.id = c.device_id"
	" LEFT JOIN users u ON u.id = c.user_id LEFT JOIN organizations o ON o.id = u.organization_id"
	" WHERE c.tenant_id = $1 AND u.purged_at IS NULL"
	" ORDER BY u.id NULLS LAST, c.number NULLS LAST, c.id";
static const char q_export_fetch[] = "FETCH 200 FROM users_export";
/* clang-format on */

enum col {
	COL_ORG,
	COL_FAMILY,
	COL_GIVEN,
	COL_FAMILY_KANA,
	COL_GIVEN_KANA,
	COL_FAMILY_EN,
	COL_GIVEN_EN,
	COL_EMAIL,
	COL_DEVICE,
	COL_CERT_EMAIL,
	COL_PASSWORD,
	COL_CN,
	COL_SERIAL,
	COL_STATUS,
	COL_APPLIED,
	COL_ISSUED,
	COL_EXPIRES,
	COL_DOWNLOADED,
	COL_REVOKED,
	COL__MAX,
};

/* The header (the manual's words) and the query column of each. */
static const struct {
	const char *label;
	const char *col; /* NULL: computed */
} cols[COL__MAX] = {
	[COL_ORG] = {"組織名", "organization"},
	[COL_FAMILY] = {"氏名(姓)", "family_name"},
	[COL_GIVEN] = {"氏名(名)", "given_name"},
	[COL_FAMILY_KANA] = {"氏名(姓)フリガナ", "family_name_kana"},
	[COL_GIVEN_KANA] = {"氏名(名)フリガナ", "given_name_kana"},
	[COL_FAMILY_EN] = {"氏名(姓)英語表記", "family_name_en"},
	[COL_GIVEN_EN] = {"氏名(名)英語表記", "given_name_en"},
	[COL_EMAIL] = {"メールアドレス", "user_email"},
	[COL_DEVICE] = {"利用デバイス", NULL},
	[COL_CERT_EMAIL] = {"証明書メールアドレス", "email"},
	[COL_PASSWORD] = {"証明書ダウンロード用パスワード", NULL},
	[COL_CN] = {"CN", "cn"},
	[COL_SERIAL] = {"シリアル番号", "serial"},
	[COL_STATUS] = {"証明書ステータス", NULL},
	[COL_APPLIED] = {"申請日", "applied_at"},
	[COL_ISSUED] = {"発行日", "issued_at"},
	[COL_EXPIRES] = {"有効期限", "expires_at"},
	[COL_DOWNLOADED] = {"ダウンロード日", "downloaded_at"},
	[COL_REVOKED] = {"失効日", "revoked_at"},
};

static int
header(struct http_req *req)
{
	int rc = http_write(req, "\xEF\xBB\xBF", 3);

	for (int i = 0; i < COL__MAX && rc == 0; i++)
		rc = csv_field(req, cols[i].label, i == COL__MAX - 1);
	return rc;
}

/* One row; the password only for a certificate that can still be downloaded. */
static int
row(struct http_req *req, const PGresult *res, int r, const unsigned char *key, long *rows)
{
	struct dist_cert c;
	const char *st = db_get(res, r, "status");
	int rc = 0, have = 0;

	memset(&c, 0, sizeof(c));
	if (lifecycle_has(st, LC_F_VALID) && db_get(res, r, "p12_password_enc") != NULL) {
		if ((rc = dist_cert_from_row(res, r, key, &c)) != 0)
			return rc;
		have = 1;
	}
	for (int i = 0; i < COL__MAX && rc == 0; i++) {
		const char *v;
		if (i == COL_DEVICE)
			v = device_label(db_get(res, r, "device_code"), I18N_JA);
		else if (i == COL_PASSWORD)
			v = have ? c.password : "";
		else if (i == COL_STATUS)
			v = lifecycle_label(st, I18N_JA);
		else
			v = db_get(res, r, cols[i].col);
		rc = csv_field(req, v ? v : "", i == COL__MAX - 1);
	}
	if (have)
		dist_cert_done(&c);
	(*rows)++;
	return rc;
}

static int
drain(struct http_req *req, struct svc_thread *t, const unsigned char *key, long *rows)
{
	PGresult *res = NULL;
	int rc, n;

	do {
		if ((rc = db_exec_sql(&t->db, q_export_fetch, 0, NULL, &res)) != 0)
			return rc < 0 ? rc : -EIO;
		n = PQntuples(res);
		for (int i = 0; i < n && rc == 0; i++)
			rc = row(req, res, i, key, rows);
		PQclear(res);
	} while (rc == 0 && n > 0);
	return rc;
}

/* The history entry and commit, after the last row. */
static int
finish(struct http_req *req, struct svc_thread *t, long rows)
{
	char n[24];
	int rc;

	snprintf(n, sizeof(n), "%ld", rows);
	struct audit_entry e = {req->tenant_id, req->remote_addr,   "admin",
				req->admin_id,  AUDIT_PASSWORD_CSV, NULL};
	struct audit_more m = {NULL, "user_list_csv", {n}, 1};
	if ((rc = audit_write_ex(&t->db, &e, &m)) == 0)
		rc = db_commit(&t->db);
	return rc < 0 ? rc : (rc ? -EIO : 0);
}

int
users_export(struct http_req *req, struct svc_thread *t)
{
	const unsigned char *key = datakey_get(t->cfg);
	PGresult *res = NULL;
	char tid[24];
	long rows = 0;
	int rc;

	if (key == NULL) {
		log_msg(LOG_ERROR, "event=data_key_unreadable");
		return -EIO;
	}
	snprintf(tid, sizeof(tid), "%lld", req->tenant_id);
	const char *params[] = {tid};
	if ((rc = db_begin(&t->db)) != 0)
		return rc;
	if ((rc = db_exec_sql(&t->db, q_export_open, 1, params, &res)) != 0) {
		db_rollback(&t->db);
		return rc < 0 ? rc : -EIO;
	}
	PQclear(res);
	http_add_header(
		req, "Content-Disposition",
		"attachment; filename=\"users.csv\"; "
		"filename*=UTF-8''%E5%88%A9%E7%94%A8%E8%80%85%E3%83%AA%E3%82%B9%E3%83%88.csv");
	http_add_header(req, "Cache-Control", "no-store");
	http_begin(req, 200, "text/csv; charset=utf-8");
	/* From here on the answer streams: an error can only cut it short (no history then). */
	if ((rc = header(req)) == 0 && (rc = drain(req, t, key, &rows)) == 0)
		rc = finish(req, t, rows);
	if (rc != 0) {
		db_rollback(&t->db);
		log_msg(LOG_WARN, "event=users_export_aborted rc=%d rows=%ld", rc, rows);
	} else {
		log_msg(LOG_INFO, "event=users_export rows=%ld", rows);
	}
	return 0;
}
