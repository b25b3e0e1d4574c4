/* queries.c: the SQL of shomei-download. */
#include "extern.h"

const struct db_stmt q_cert_one = {
	"dl_cert_one",
	"SELECT " DIST_COLUMNS ", t.slug, t.name_en, t.mobileconfig_embed_password"
	" FROM certificates c LEFT JOIN devices d ON d.id = c.device_id"
	" JOIN tenants t ON t.id = c.tenant_id WHERE c.id = $1 AND c.tenant_id = $2",
	2,
};

/* issued becomes downloaded; a scheduled revocation keeps its status */
const struct db_stmt q_mark_one = {
	"dl_mark_one",
	"UPDATE certificates SET status = CASE WHEN status = 'issued' THEN 'downloaded' ELSE status END,"
	" downloaded_at = now(), updated_at = now() WHERE id = $1 AND tenant_id = $2",
	2,
};

const struct db_stmt q_mark_many = {
	"dl_mark_many",
	"UPDATE certificates SET status = CASE WHEN status = 'issued' THEN 'downloaded' ELSE status END,"
	" downloaded_at = now(), updated_at = now() WHERE tenant_id = $1 AND id = ANY($2::bigint[])",
	2,
};

#define BULK_FROM                                                                                  \
	" FROM certificates c LEFT JOIN devices d ON d.id = c.device_id"                           \
	" WHERE c.tenant_id = $1 AND c.status IN " DIST_VALID " AND c.p12 IS NOT NULL"             \
	" ORDER BY c.number NULLS LAST, c.id"

/* $1 tenant. The ZIP reads the PKCS#12 files; the password list only the passwords. */
const char q_bulk_zip[] = "DECLARE dl_bulk NO SCROLL CURSOR FOR SELECT " DIST_COLUMNS BULK_FROM;
const char q_bulk_csv[] =
	"DECLARE dl_bulk NO SCROLL CURSOR FOR SELECT c.id, coalesce(c.number, 0) AS number, c.cn,"
	" coalesce(c.email, '') AS email, coalesce(d.device_code, '') AS device_code, c.status,"
	" c.p12_password_enc" BULK_FROM;

const char q_bulk_fetch[] = "FETCH 100 FROM dl_bulk";
