/* notice.c: the notice kinds, the expiry reminders that fall due, notices queued from C. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "domain/lifecycle.h"
#include "domain/notice.h"

static const struct notice_kind kinds[] = {
	{"user_issued", "電子証明書の「秘密の鍵」を登録してください",
	 "Please install your certificate", 0},
	{"user_credentials", "ログイン ID とパスワードのご案内", "Your login ID and password", 0},
	{"user_revoked", "電子証明書失効のお知らせ", "Certificate revoked", 0},
	{"user_expiry", "有効期限のお知らせ", "Certificate expiry reminder", 0},
	{"admin_user_registered", "利用者登録受付通知", "User registration accepted", 1},
	{"admin_import_accepted", "利用者一括登録受付通知", "Bulk registration accepted", 1},
	{"admin_import_error", "利用者一括登録受付エラー通知", "Bulk registration error", 1},
	{"admin_bulk_download", "一括ダウンロード URL 通知", "Bulk download URL", 1},
	{"admin_revoked", "電子証明書失効通知", "Certificates revoked", 1},
	{"admin_revoke_accepted", "利用者一括失効受付通知", "Bulk revocation accepted", 1},
	{"admin_reissue_accepted", "電子証明書再発行通知", "Certificates reissued", 1},
	{"admin_renewed", "電子証明書更新通知", "Certificate renewed", 1},
	{"admin_bulk_reissue_accepted", "利用者一括再発行受付通知", "Bulk reissue accepted", 1},
	{"admin_user_deleted", "利用者 1次削除通知", "User deleted (1st step)", 1},
	{"admin_user_purged", "利用者マスター削除通知", "User master deletion", 1},
	{"admin_purge_done", "利用者マスター削除完了通知", "Bulk master deletion done", 1},
	{"admin_expiry_digest", "有効期限のお知らせ (一覧)", "Expiry digest", 1},
};

const struct notice_kind *
notice_kind_at(size_t i)
{
	return i < sizeof(kinds) / sizeof(kinds[0]) ? &kinds[i] : NULL;
}

const struct notice_kind *
notice_kind_find(const char *code)
{
	for (size_t i = 0; code != NULL && i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(kinds[i].code, code) == 0)
			return &kinds[i];
	return NULL;
}

#define NOTICE_EXPIRING                                                                            \
	" c.status IN " LC_SQL_VALID " AND c.not_after > to_timestamp($1::bigint)"                 \
	" AND c.not_after <= to_timestamp($1::bigint) + interval '30 days'"
#define NOTICE_JST(col) "to_char((" col ") AT TIME ZONE 'Asia/Tokyo', 'YYYY/MM/DD HH24:MI')"

/* clang-format off */
static const struct db_stmt q_reminders = {
	"notice_reminders",
	"WITH due AS ("
	"  SELECT c.id, (SELECT min(th) FROM unnest('" NOTICE_THRESHOLDS "'::int[]) th"
	"   WHERE c.not_after - make_interval(days => th) <= to_timestamp($1::bigint)) AS th"
	"  FROM certificates c WHERE" NOTICE_EXPIRING "),"
	" ins AS (INSERT INTO expiry_reminders (certificate_id, threshold)"
	"  SELECT id, th FROM due WHERE th IS NOT NULL ON CONFLICT DO NOTHING"
	"  RETURNING certificate_id, threshold)"
	" SELECT coalesce(sum(notice_user(c, 'user_expiry', jsonb_build_object('days', i.threshold,"
	"  'expires_at', " NOTICE_JST("c.not_after") "))), 0) AS n"
	" FROM ins i JOIN certificates c ON c.id = i.certificate_id",
	1,
};

static const struct db_stmt q_digests = {
	"notice_digests",
	"WITH ins AS (INSERT INTO expiry_digests (tenant_id, day)"
	"  SELECT DISTINCT c.tenant_id, (to_timestamp($1::bigint) AT TIME ZONE 'Asia/Tokyo')::date"
	"  FROM certificates c JOIN tenants t ON t.id = c.tenant_id"
	"  WHERE t.notice_address <> '' AND" NOTICE_EXPIRING
	"  ON CONFLICT DO NOTHING RETURNING tenant_id)"
	" SELECT coalesce(sum(notice_admin(ins.tenant_id, 'admin_expiry_digest', ("
	"  SELECT jsonb_build_object('count', count(*), 'items', string_agg(c.cn || ' <'"
	"   || coalesce(c.email, '') || '> ' || " NOTICE_JST("c.not_after") ", E'\\n'"
	"   ORDER BY c.not_after, c.id))"
	"  FROM certificates c WHERE c.tenant_id = ins.tenant_id AND" NOTICE_EXPIRING "))), 0) AS n"
	" FROM ins",
	1,
};

static const struct db_stmt q_admin = {
	"notice_admin",
	"SELECT notice_admin($1::bigint, $2, jsonb_build_object('count', $3::bigint,"
	" 'items', coalesce($4, '')))",
	4,
};
/* clang-format on */

static int
count_of(struct db *db, const struct db_stmt *st, const char *at, long long *n)
{
	const char *p[] = {at};
	PGresult *res = NULL;
	int rc;

	if ((rc = db_exec(db, st, p, &res)) != 0)
		return rc < 0 ? rc : -EIO;
	*n = db_get_ll(res, 0, "n");
	PQclear(res);
	return 0;
}

int
notice_due(struct db *db, time_t as_of, long long *reminders, long long *digests)
{
	char at[24];
	long long r = 0, d = 0;
	int rc;

	snprintf(at, sizeof(at), "%lld", (long long)as_of);
	if ((rc = db_begin(db)) != 0)
		return rc < 0 ? rc : -EIO;
	if ((rc = count_of(db, &q_reminders, at, &r)) != 0 ||
	    (rc = count_of(db, &q_digests, at, &d)) != 0 || (rc = db_commit(db)) != 0) {
		db_rollback(db);
		return rc < 0 ? rc : -EIO;
	}
	*reminders = r;
	*digests = d;
	return 0;
}

int
notice_reissue_accepted(struct db *db, long long tenant_id, long long count, const char *items,
			int bulk)
{
	char tid[24], n[24];
	const char *p[] = {tid, bulk ? "admin_bulk_reissue_accepted" : "admin_reissue_accepted", n,
			   items};
	PGresult *res = NULL;
	int rc;

	snprintf(tid, sizeof(tid), "%lld", tenant_id);
	snprintf(n, sizeof(n), "%lld", count);
	if ((rc = db_exec(db, &q_admin, p, &res)) != 0)
		return rc < 0 ? rc : -EIO;
	PQclear(res);
	return 0;
}

int
notice_renewed(struct db *db, long long tenant_id, const char *item)
{
	char tid[24];
	const char *p[] = {tid, "admin_renewed", "1", item};
	PGresult *res = NULL;
	int rc;

	snprintf(tid, sizeof(tid), "%lld", tenant_id);
	if ((rc = db_exec(db, &q_admin, p, &res)) != 0)
		return rc < 0 ? rc : -EIO;
	PQclear(res);
	return 0;
}
