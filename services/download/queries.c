/* queries.c: the SQL of shomei-download. */
#include "extern.h"
#include "domain/lifecycle.h"
#include "domain/tenant.h"

/* SQL laid out by hand: clang-format would break it around the macros. */
/* clang-format off */
const struct db_stmt q_cert_one = {
	"dl_cert_one",
	"SELECT " DIST_COLUMNS ", t.slug, t.name_en, t.mobileconfig_embed_password,"
	" coalesce(d.restriction_mode, 'none') AS restriction_mode"
	" FROM certificates c LEFT JOIN devices d ON d.id = c.device_id"
	" JOIN tenants t ON t.id = c.tenant_id WHERE c.id = $1 AND c.tenant_id = $2",
	2,
};

/* issued becomes downloaded; a scheduled revocation keeps its status */
const struct db_stmt q_mark_one = {
	"dl_mark_one",
	"UPDATE certificates SET status = CASE WHEN status = " LC_SQL(LC_ISSUED)
	" THEN " LC_SQL(LC_DOWNLOADED) " ELSE status END,"
	" downloaded_at = now(), updated_at = now() WHERE id = $1 AND tenant_id = $2",
	2,
};

const struct db_stmt q_mark_many = {
	"dl_mark_many",
	"UPDATE certificates SET status = CASE WHEN status = " LC_SQL(LC_ISSUED)
	" THEN " LC_SQL(LC_DOWNLOADED) " ELSE status END,"
	" downloaded_at = now(), updated_at = now()"
	" WHERE tenant_id = $1 AND id = ANY($2::bigint[])",
	2,
};

/* What the bulk hand-outs give (DIST_BULK_WHERE, the password notice's too). */
#define BULK_FROM                                                                                  \
	" FROM certificates c LEFT JOIN devices d ON d.id = c.device_id"                           \
	" WHERE c.tenant_id = $1 AND" DIST_BULK_WHERE                                              \
	" AND ($2::bigint[] IS NULL OR c.id = ANY ($2::bigint[]))"                                 \
	" ORDER BY c.number NULLS LAST, c.id"

/*
 * $1 tenant, $2 the ids selected (NULL: every valid one). The ZIP reads the PKCS#12 files; the
 * password list only the passwords.
 */
const char q_bulk_zip[] = "DECLARE dl_bulk NO SCROLL CURSOR FOR SELECT " DIST_COLUMNS BULK_FROM;
const char q_bulk_csv[] =
	"DECLARE dl_bulk NO SCROLL CURSOR FOR SELECT c.id, coalesce(c.number, 0) AS number, c.cn,"
	" coalesce(c.email, '') AS email, coalesce(d.device_code, '') AS device_code, c.status,"
	" c.p12_password_enc" BULK_FROM;

const char q_bulk_fetch[] = "FETCH 100 FROM dl_bulk";

/* The end-user download site (NRA 4-3). $1 slug. */
const struct db_stmt q_dl_tenant = {
	"dl_tenant",
	"SELECT id, slug, name_en, mobileconfig_embed_password,"
	" " TENANT_SQL_HAS("tenants", TENANT_F_DOWNLOAD_SITE) " AS site,"
	" array_to_json(download_allowlist::text[])::text AS allowlist"
	" FROM tenants WHERE slug = $1",
	1,
};

/* $1 tenant, $2 the login ID: the device e-mail of valid certificates (case-insensitive). */
const struct db_stmt q_dl_by_email = {
	"dl_by_email",
	"SELECT c.id, coalesce(c.number, 0) AS number, c.cn, coalesce(c.email, '') AS email,"
	" coalesce(d.device_code, '') AS device_code, c.status, c.p12_password_enc"
	" FROM certificates c LEFT JOIN devices d ON d.id = c.device_id"
	" WHERE c.tenant_id = $1 AND lower(c.email) = lower($2) AND c.status IN " LC_SQL_VALID
	" AND c.p12_password_enc IS NOT NULL ORDER BY c.id LIMIT 100",
	2,
};

/* $1 tenant, $2 the ids a session grants. */
const struct db_stmt q_dl_granted = {
	"dl_granted",
	"SELECT c.id, c.cn, coalesce(c.email, '') AS email, coalesce(d.device_code, '') AS device_code,"
	" c.status, coalesce(d.restriction_mode, 'none') AS restriction_mode,"
	" coalesce(to_char(c.not_after AT TIME ZONE 'Asia/Tokyo', 'YYYY/MM/DD HH24:MI'), '') AS expires_at"
	" FROM certificates c LEFT JOIN devices d ON d.id = c.device_id"
	" WHERE c.tenant_id = $1 AND c.id = ANY($2::bigint[]) ORDER BY c.id",
	2,
};

/* $1 certificate, $2 tenant: the files and the device's install restriction. */
const struct db_stmt q_dl_cert = {
	"dl_cert",
	"SELECT " DIST_COLUMNS ", coalesce(d.restriction_mode, 'none') AS restriction_mode,"
	" coalesce(d.restrict_mac, '') AS restrict_mac,"
	" coalesce(d.restrict_computer, '') AS restrict_computer,"
	" coalesce(d.restrict_login_user, '') AS restrict_login_user,"
	" coalesce(d.restrict_bios_serial, '') AS restrict_bios_serial"
	" FROM certificates c LEFT JOIN devices d ON d.id = c.device_id"
	" WHERE c.id = $1 AND c.tenant_id = $2",
	2,
};

/* $1 tenant: for the administrator's 証明書ダウンロード画面の表示. */
const struct db_stmt q_dl_site = {
	"dl_site",
	"SELECT slug, " TENANT_SQL_HAS("tenants", TENANT_F_DOWNLOAD_SITE) " AS site"
	" FROM tenants WHERE id = $1",
	1,
};

/* clang-format on */