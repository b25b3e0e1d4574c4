/* queries.c: shomei-revoke's SQL, as named prepared statements. */
#include "domain/crlpub.h"
#include "domain/lifecycle.h"
#include "extern.h"

#define JST(col) "to_char(" col " AT TIME ZONE 'Asia/Tokyo', 'YYYY/MM/DD HH24:MI:SS')"

/* clang-format off */
/* $1 tenant, $2 ids ('{1,2}'): the rows, locked for the rest of the transaction */
const struct db_stmt q_lock = {
	"revoke_lock",
	"SELECT id, cn, status, coalesce(revoke_on <= now(), false) AS due FROM certificates"
	" WHERE tenant_id = $1::bigint AND id = ANY ($2::bigint[]) ORDER BY id FOR UPDATE",
	2,
};

#define RETURNING                                                                                  \
	" RETURNING id, cn, status, " JST("revoked_at") " AS revoked_at,"                          \
	" to_char(revoke_on AT TIME ZONE 'Asia/Tokyo', 'YYYY-MM-DD') AS revoke_on,"                \
	" revocation_reason"

/* $1 tenant, $2 ids, $3 reason */
const struct db_stmt q_revoke_now = {
	"revoke_now",
	"UPDATE certificates SET status = " LC_SQL(LC_REVOKED) ", revoked_at = now(),"
	" revocation_reason = $3::int, revoke_on = NULL, updated_at = now()"
	" WHERE tenant_id = $1::bigint AND id = ANY ($2::bigint[])"
	" AND status IN " LC_SQL_VALID RETURNING,
	3,
};

/* $1 tenant, $2 ids, $3 date (yyyy-mm-dd, 00:00 JST), $4 reason */
const struct db_stmt q_schedule = {
	"revoke_schedule",
	"UPDATE certificates SET status = " LC_SQL(LC_REVOKE_SCHEDULED) ","
	" revoke_on = ($3::date)::timestamp AT TIME ZONE 'Asia/Tokyo',"
	" revocation_reason = $4::int, updated_at = now()"
	" WHERE tenant_id = $1::bigint AND id = ANY ($2::bigint[])"
	" AND status IN (" LC_SQL(LC_ISSUED) ", " LC_SQL(LC_DOWNLOADED) ")" RETURNING,
	4,
};

/* $1 tenant, $2 ids: back to downloaded or issued, as before the schedule */
const struct db_stmt q_cancel = {
	"revoke_cancel",
	"UPDATE certificates SET status = CASE WHEN downloaded_at IS NOT NULL"
	" THEN " LC_SQL(LC_DOWNLOADED) " ELSE " LC_SQL(LC_ISSUED) " END,"
	" revoke_on = NULL, revocation_reason = NULL, updated_at = now()"
	" WHERE tenant_id = $1::bigint AND id = ANY ($2::bigint[])"
	" AND status = " LC_SQL(LC_REVOKE_SCHEDULED) " AND revoke_on > now()" RETURNING,
	2,
};

#define TENANT_CA                                                                                  \
	" FROM tenants t JOIN cas c ON c.tenant_id = t.id AND c.kind = 'tenant' AND c.active"

/* $1 slug: the tenant CA's published CRL */
const struct db_stmt q_tenant_crl = {
	"revoke_tenant_crl",
	"SELECT r.ca_id, r.number, encode(r.der, 'hex') AS der,"
	" extract(epoch FROM r.published_at)::bigint AS at"
	TENANT_CA " JOIN crls r ON r.ca_id = c.id WHERE t.slug = $1",
	1,
};

/* $1 slug, $2 CA id: the published CRL of that issuing CA of the tenant, active or rotated out
 * (another tenant's CA, or the root, is absent) */
const struct db_stmt q_ca_crl = {
	"revoke_ca_crl",
	"SELECT r.ca_id, r.number, encode(r.der, 'hex') AS der,"
	" extract(epoch FROM r.published_at)::bigint AS at"
	" FROM tenants t JOIN cas c ON c.tenant_id = t.id AND c.kind = 'tenant' AND c.id = $2::bigint"
	" JOIN crls r ON r.ca_id = c.id WHERE t.slug = $1",
	2,
};

/* $1 slug: the CRLs of the chain, the active tenant CA's first (depth 0), then those of the
 * tenant's rotated-out CAs that still publish (depth 1), then the root's (depth 2) */
const struct db_stmt q_chain_crls = {
	"revoke_chain_crls",
	"SELECT r.ca_id, r.number, encode(r.der, 'hex') AS der,"
	" extract(epoch FROM r.published_at)::bigint AS at, 0 AS depth"
	TENANT_CA " JOIN crls r ON r.ca_id = c.id WHERE t.slug = $1"
	" UNION ALL SELECT r.ca_id, r.number, encode(r.der, 'hex'),"
	" extract(epoch FROM r.published_at)::bigint, 1"
	" FROM tenants t JOIN cas o ON o.tenant_id = t.id AND o.kind = 'tenant' AND NOT o.active"
	" AND " CRLPUB_SQL_LIVE("o") " JOIN crls r ON r.ca_id = o.id WHERE t.slug = $1"
	" UNION ALL SELECT r.ca_id, r.number, encode(r.der, 'hex'),"
	" extract(epoch FROM r.published_at)::bigint, 2"
	TENANT_CA " JOIN crls r ON r.ca_id = c.parent_id WHERE t.slug = $1 ORDER BY depth, ca_id",
	1,
};

/* $1 slug: the tenant CA, its rotated-out CAs that still have valid certificates (each PEM
 * ending in a newline), and its parent (the root) */
const struct db_stmt q_chain = {
	"revoke_chain",
	"SELECT c.id, c.cert_pem, p.cert_pem AS parent_pem,"
	" (SELECT string_agg(rtrim(o.cert_pem, E'\\n') || E'\\n', '' ORDER BY o.id DESC) FROM cas o"
	"  WHERE o.tenant_id = t.id AND o.kind = 'tenant' AND NOT o.active AND "
	CRLPUB_SQL_LIVE("o") ") AS old_pem,"
	" coalesce((SELECT '-' || string_agg(o.id::text, '.' ORDER BY o.id) FROM cas o"
	"  WHERE o.tenant_id = t.id AND o.kind = 'tenant' AND NOT o.active AND "
	CRLPUB_SQL_LIVE("o") "), '') AS old_ids,"
	" extract(epoch FROM c.created_at)::bigint AS at"
	TENANT_CA " LEFT JOIN cas p ON p.id = c.parent_id WHERE t.slug = $1",
	1,
};
/* The tenants' issuing CAs that answer (active, or rotated out with valid certificates). */
const struct db_stmt q_ocsp_cas = {
	"revoke_ocsp_cas",
	"SELECT c.id, c.tenant_id, c.cert_pem FROM cas c WHERE c.kind = 'tenant'"
	" AND " CRLPUB_SQL_LIVE("c") " ORDER BY c.id",
	0,
};

/* $1 CA, $2 serial: the certificate's status now and its stored response (either may lack) */
const struct db_stmt q_ocsp_lookup = {
	"revoke_ocsp_lookup",
	"SELECT c.serial AS serial_known, c.status,"
	" extract(epoch FROM coalesce(c.revoked_at, c.updated_at))::bigint AS revoked_at,"
	" coalesce(c.revocation_reason, 0) AS reason, encode(r.der, 'hex') AS der, r.revoked,"
	" extract(epoch FROM r.next_update)::bigint AS next_update,"
	" extract(epoch FROM r.signed_at)::bigint AS signed_at"
	" FROM (SELECT 1) one"
	" LEFT JOIN certificates c ON c.ca_id = $1::bigint AND c.serial = $2"
	" LEFT JOIN ocsp_responses r ON r.ca_id = $1::bigint AND r.serial = $2",
	2,
};

/* $1 CA, $2 serial, $3 revoked, $4 DER (hex), $5 thisUpdate, $6 nextUpdate (epoch): a revoked
 * response is final, a good one (signed from a read made before the revocation) never
 * replaces it */
const struct db_stmt q_ocsp_store = {
	"revoke_ocsp_store",
	"INSERT INTO ocsp_responses (ca_id, serial, revoked, der, this_update, next_update)"
	" VALUES ($1::bigint, $2, $3::boolean, decode($4, 'hex'), to_timestamp($5::bigint),"
	" to_timestamp($6::bigint))"
	" ON CONFLICT (ca_id, serial) DO UPDATE SET revoked = EXCLUDED.revoked, der = EXCLUDED.der,"
	" this_update = EXCLUDED.this_update, next_update = EXCLUDED.next_update, signed_at = now()"
	" WHERE EXCLUDED.revoked OR NOT ocsp_responses.revoked",
	6,
};

/* $1 tenant (0: every tenant), $2 epoch: certificates of the tenant CAs that answer whose response is
 * missing, says another status, or expires before $2 */
const struct db_stmt q_ocsp_stale = {
	"revoke_ocsp_stale",
	"SELECT c.id, c.ca_id, c.serial, c.status = " LC_SQL(LC_REVOKED) " AS revoked,"
	" extract(epoch FROM coalesce(c.revoked_at, c.updated_at))::bigint AS revoked_at,"
	" coalesce(c.revocation_reason, 0) AS reason"
	" FROM certificates c JOIN cas a ON a.id = c.ca_id AND a.kind = 'tenant'"
	" AND " CRLPUB_SQL_LIVE("a")
	" LEFT JOIN ocsp_responses r ON r.ca_id = c.ca_id AND r.serial = c.serial"
	" WHERE c.serial IS NOT NULL AND ($1::bigint = 0 OR c.tenant_id = $1::bigint)"
	" AND (c.status IN " LC_SQL_VALID " OR c.status = " LC_SQL(LC_REVOKED) ")"
	" AND (r.serial IS NULL OR r.revoked <> (c.status = " LC_SQL(LC_REVOKED) ")"
	"  OR r.next_update <= to_timestamp($2::bigint))"
	" AND c.id <> ALL ($3::bigint[])"
	" ORDER BY c.status = " LC_SQL(LC_REVOKED) " DESC, c.id LIMIT 200",
	3,
};
/* clang-format on */
