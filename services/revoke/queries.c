/* queries.c: shomei-revoke's SQL, as named prepared statements. */
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

/* $1 slug: the CRLs of the chain, the tenant CA's first, then its parent's (the root) */
const struct db_stmt q_chain_crls = {
	"revoke_chain_crls",
	"SELECT r.ca_id, r.number, encode(r.der, 'hex') AS der,"
	" extract(epoch FROM r.published_at)::bigint AS at, 0 AS depth"
	TENANT_CA " JOIN crls r ON r.ca_id = c.id WHERE t.slug = $1"
	" UNION ALL SELECT r.ca_id, r.number, encode(r.der, 'hex'),"
	" extract(epoch FROM r.published_at)::bigint, 1"
	TENANT_CA " JOIN crls r ON r.ca_id = c.parent_id WHERE t.slug = $1 ORDER BY depth",
	1,
};

/* $1 slug: the tenant CA and its parent (the root) */
const struct db_stmt q_chain = {
	"revoke_chain",
	"SELECT c.id, c.cert_pem, p.cert_pem AS parent_pem,"
	" extract(epoch FROM c.created_at)::bigint AS at"
	TENANT_CA " LEFT JOIN cas p ON p.id = c.parent_id WHERE t.slug = $1",
	1,
};
/* clang-format on */
