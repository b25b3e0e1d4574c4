/* queries.c: the SQL of shomei-issue. Every query a request runs is filtered by its tenant. */
#include "domain/certq.h"
#include "extern.h"
#include "domain/lifecycle.h"
#include "domain/tenant.h"
#include "web/keyset.h"

/* SQL laid out by hand: clang-format would break it around the macros. */
/* clang-format off */
/*
 * Numbers for a batch: on from the tenant's counter (or past the highest
 * number in use, should a row have been written another way); never reused.
 * $1 tenant, $2 how many. Runs under certq_lock's row lock.
 */
const struct db_stmt q_next_numbers = {
	"issue_next_numbers",
	"UPDATE tenants SET next_client_number = GREATEST(next_client_number,"
	" (SELECT coalesce(max(number), 0) + 1 FROM certificates WHERE tenant_id = $1))"
	" + $2::int, updated_at = now() WHERE id = $1"
	" RETURNING next_client_number - $2::int AS first",
	2,
};

/*
 * Claim up to $1 rows still to issue (the caller's transaction holds them until
 * commit or rollback). A row whose last attempt failed for a transient reason waits
 * 2^attempts seconds (2, 4, 8, … at most ISSUE_BACKOFF_MAX) before its next attempt.
 */
const struct db_stmt q_claim = {
	"issue_claim",
	"SELECT c.id, c.tenant_id, c.number, c.cn, coalesce(c.email, d.email) AS email,"
	" c.key_type, c.attempts, host(c.requested_ip) AS requested_ip, c.requested_by,"
	" d.device_code, d.o, d.ou1, d.ou2,"
	" extract(epoch FROM d.valid_from)::bigint AS valid_from,"
	" extract(epoch FROM d.valid_to)::bigint AS valid_to,"
	" t.slug, t.name_en, t.p12_compat, t.default_validity_days,"
	" " TENANT_SQL_HAS("t", TENANT_F_ORG_UNITS) " AS org_units"
	" FROM certificates c JOIN tenants t ON t.id = c.tenant_id"
	" LEFT JOIN devices d ON d.id = c.device_id AND d.tenant_id = c.tenant_id"
	" WHERE c.status = " LC_SQL(LC_ISSUING)
	" AND (c.claimed_at IS NULL"
	"  OR c.claimed_at < now() - make_interval(secs => least(" ISSUE_BACKOFF_MAX ","
	"                                                        2 ^ least(c.attempts, 30))))"
	" ORDER BY c.id LIMIT $1::int FOR UPDATE OF c SKIP LOCKED",
	1,
};

/* The tenant's active issuing CA and its parent (the root). */
const struct db_stmt q_ca = {
	"issue_ca",
	"SELECT ca.id, ca.cert_pem, r.cert_pem AS root_pem FROM cas ca"
	" LEFT JOIN cas r ON r.id = ca.parent_id"
	" WHERE ca.tenant_id = $1 AND ca.kind = 'tenant' AND ca.active",
	1,
};

/* $1 id, $2 ca, $3 serial, $4 DER, $5 PKCS#12, $6 sealed password (hex), $7 subject, $8-9 epoch */
const struct db_stmt q_store = {
	"issue_store",
	"UPDATE certificates SET status = " LC_SQL(LC_ISSUED) ", ca_id = $2, serial = $3,"
	" cert_der = decode($4, 'hex'), p12 = decode($5, 'hex'),"
	" p12_password_enc = decode($6, 'hex'), subject = $7,"
	" not_before = to_timestamp($8::bigint), not_after = to_timestamp($9::bigint),"
	" issued_at = date_trunc('second', now()), claimed_at = now(), last_error = NULL,"
	" updated_at = now()"
	" WHERE id = $1 AND status = " LC_SQL(LC_ISSUING),
	9,
};

/* One failed attempt; $3 true (a permanent refusal): the row becomes failed. Returns its status. */
const struct db_stmt q_fail = {
	"issue_fail",
	"UPDATE certificates SET attempts = attempts + 1, last_error = $2, claimed_at = now(),"
	" updated_at = now(),"
	" status = CASE WHEN $3::boolean THEN " LC_SQL(LC_FAILED) " ELSE status END"
	" WHERE id = $1 AND status = " LC_SQL(LC_ISSUING) " RETURNING status, cn, tenant_id, attempts",
	3,
};

/* Certificate $1 of tenant $2, locked for the retry's transaction. */
const struct db_stmt q_retry_lock = {
	"issue_retry_lock",
	"SELECT id, cn, status FROM certificates WHERE id = $1 AND tenant_id = $2 FOR UPDATE",
	2,
};

/* A failed certificate ($1, of tenant $2) back to issuing for admin $3 at address $4. */
const struct db_stmt q_retry = {
	"issue_retry",
	"UPDATE certificates SET status = " LC_SQL(LC_ISSUING) ", attempts = 0, last_error = NULL,"
	" claimed_at = NULL, requested_by = $3, requested_ip = $4::inet, updated_at = now()"
	" WHERE id = $1 AND tenant_id = $2 AND status = " LC_SQL(LC_FAILED),
	4,
};

/*
 * $1 tenant, $2 'valid'|'all', $3 CN part, $4 issued from, $5 issued to (JST dates). Every
 * condition narrows the list's index range (certificates_list, the key LIST_KEY) or is a
 * trigram search (certificates_cn_trgm); an absent one folds away (db.c plans each execution
 * with its parameters).
 */
#define LIST_KEY "coalesce(c.issued_at, 'infinity')"
#define LIST_WHERE                                                                                 \
	" WHERE c.tenant_id = $1"                                                                  \
	" AND ($2::text = 'all' OR c.status IN " LC_SQL_COUNTED ")"                                 \
	" AND ($3::text IS NULL OR lower(c.cn) LIKE like_contains(lower($3::text)))"               \
	" AND ($4::date IS NULL OR (" LIST_KEY " >= ($4::date)::timestamp AT TIME ZONE 'Asia/Tokyo'" \
	"  AND " LIST_KEY " < 'infinity'))"                                                        \
	" AND ($5::date IS NULL"                                                                   \
	"  OR " LIST_KEY " < ($5::date + 1)::timestamp AT TIME ZONE 'Asia/Tokyo')"

#define JST(col) "to_char(" col " AT TIME ZONE 'Asia/Tokyo', 'YYYY/MM/DD HH24:MI:SS')"

#define ITEM_COLUMNS                                                                               \
	"c.id, c.user_id, d.device_code, c.cn, c.email, c.serial, c.status,"                       \
	" " JST("c.issued_at") " AS issued_at,"                                                    \
	" " JST("c.not_after") " AS expires_at,"                                                   \
	" " JST("c.revoked_at") " AS revoked_at,"                                                 \
	" to_char(c.revoke_on AT TIME ZONE 'Asia/Tokyo', 'YYYY-MM-DD') AS revoke_on,"              \
	" nullif(btrim(u.family_name || ' ' || u.given_name), '') AS user_name,"                  \
	" d.email AS device_email"

#define ITEM_FROM                                                                                  \
	" FROM certificates c"                                                                     \
	" LEFT JOIN devices d ON d.id = c.device_id AND d.tenant_id = c.tenant_id"                 \
	" LEFT JOIN users u ON u.id = c.user_id AND u.tenant_id = c.tenant_id"

/* At most one more than an exact total shows (web/keyset.h). */
const struct db_stmt q_list_count = {
	"issue_list_count",
	"SELECT count(*) AS n FROM (SELECT 1 FROM certificates c" LIST_WHERE
	" ORDER BY " LIST_KEY ", c.id LIMIT " KEYSET_EXACT_MAX_S " + 1) s",
	5,
};

/* What the count counts, for PostgreSQL's estimate when it is more than an exact total. */
const char q_list_select[] = "SELECT 1 FROM certificates c" LIST_WHERE;

/*
 * The tenant's ($1) certificates by the triggers' count (migration 0026): n those of the list
 * $2 ('valid' or 'all'), gen what changes with every statement that changes a certificate's
 * status, CN or 発行日 (the filtered totals' cache). The rows are folded by certq_list_gen, which
 * every request of the list runs first.
 */
const struct db_stmt q_counts = {
	"issue_counts",
	"SELECT coalesce(sum(n) FILTER (WHERE $2::text = 'all' OR status IN " LC_SQL_COUNTED "), 0)"
	" AS n, coalesce(max(id), 0) || '.' || count(*) AS gen"
	" FROM certificate_counts WHERE tenant_id = $1",
	2,
};


/*
 * A page from a cursor: $6 its key (microseconds since the epoch, NULL for a certificate still
 * issuing), $7 its id (NULL: from the start), $8 rows to skip, $9 rows to read. The key is the
 * cursor's key of each row. The page's rows are taken first and only they are joined to their
 * devices and users: planned and run as one three-table join, the page cost twice as much.
 */
#define CURSOR_AT(p) "coalesce('epoch'::timestamptz + " p "::bigint * interval '1 microsecond', 'infinity')"
#define CURSOR CURSOR_AT("$6")
#define PAGE_COLUMNS                                                                               \
	"c.id, c.tenant_id, c.user_id, c.device_id, c.cn, c.email, c.serial, c.status,"            \
	" c.issued_at, c.not_after, c.revoked_at, c.revoke_on"
#define PAGE_SQL(op, dir)                                                                          \
	"SELECT " ITEM_COLUMNS ", (extract(epoch FROM c.issued_at) * 1000000)::bigint::text AS k" \
	" FROM (SELECT " PAGE_COLUMNS " FROM certificates c" LIST_WHERE                            \
	" AND ($7::bigint IS NULL OR (" LIST_KEY ", c.id) " op " (" CURSOR ", $7::bigint))"         \
	" ORDER BY " LIST_KEY " " dir ", c.id " dir " OFFSET $8 LIMIT $9) c"                       \
	" LEFT JOIN devices d ON d.id = c.device_id AND d.tenant_id = c.tenant_id"                 \
	" LEFT JOIN users u ON u.id = c.user_id AND u.tenant_id = c.tenant_id"                     \
	" ORDER BY " LIST_KEY " " dir ", c.id " dir

/* 発行日 ascending (rows still issuing last), and read backwards */
const struct db_stmt q_list_asc = {"issue_list_asc", PAGE_SQL(">", "ASC"), 9};
const struct db_stmt q_list_asc_rev = {"issue_list_asc_rev", PAGE_SQL("<", "DESC"), 9};
/* 発行日 descending (rows still issuing first: they are the newest), and read backwards */
const struct db_stmt q_list_desc = {"issue_list_desc", PAGE_SQL("<", "DESC"), 9};
const struct db_stmt q_list_desc_rev = {"issue_list_desc_rev", PAGE_SQL(">", "ASC"), 9};

/*
 * The same pages without a CN or 発行日 (the list as it opens, and as most page through it), one
 * statement for each shape, so that a generic plan serves each (db_exec_generic): $1 tenant,
 * with a cursor $2 its key and $3 its id. A page of ISSUE_PER_PAGE and one more row, written in
 * the SQL: a generic plan takes a LIMIT or OFFSET parameter for a tenth of the table and sorts it
 * all (a ?page=N jump and a short last page go through the statements above).
 */
#define FIXED_CURSOR(op) " AND (" LIST_KEY ", c.id) " op " (" CURSOR_AT("$2") ", $3::bigint)"
#define FIXED_SQL(valid, cursor, dir)                                                            \
	"SELECT " ITEM_COLUMNS ", (extract(epoch FROM c.issued_at) * 1000000)::bigint::text AS k" \
	" FROM (SELECT " PAGE_COLUMNS " FROM certificates c WHERE c.tenant_id = $1" valid cursor \
	" ORDER BY " LIST_KEY " " dir ", c.id " dir " LIMIT " ISSUE_PER_PAGE_READ_S ") c"        \
	" LEFT JOIN devices d ON d.id = c.device_id AND d.tenant_id = c.tenant_id"                 \
	" LEFT JOIN users u ON u.id = c.user_id AND u.tenant_id = c.tenant_id"                     \
	" ORDER BY " LIST_KEY " " dir ", c.id " dir
#define FIXED_VALID " AND c.status IN " LC_SQL_COUNTED
#define FIXED_FIRST(name, valid, dir) {name, FIXED_SQL(valid, "", dir), 1}
#define FIXED_AFTER(name, valid, op, dir) {name, FIXED_SQL(valid, FIXED_CURSOR(op), dir), 3}

/* [valid][cursor][asc, asc reversed, desc, desc reversed] */
const struct db_stmt q_list_fixed[2][2][4] = {
	{{FIXED_FIRST("issue_fx_all_asc", "", "ASC"),
	  FIXED_FIRST("issue_fx_all_asc_rev", "", "DESC"),
	  FIXED_FIRST("issue_fx_all_desc", "", "DESC"),
	  FIXED_FIRST("issue_fx_all_desc_rev", "", "ASC")},
	 {FIXED_AFTER("issue_fx_all_asc_c", "", ">", "ASC"),
	  FIXED_AFTER("issue_fx_all_asc_rev_c", "", "<", "DESC"),
	  FIXED_AFTER("issue_fx_all_desc_c", "", "<", "DESC"),
	  FIXED_AFTER("issue_fx_all_desc_rev_c", "", ">", "ASC")}},
	{{FIXED_FIRST("issue_fx_valid_asc", FIXED_VALID, "ASC"),
	  FIXED_FIRST("issue_fx_valid_asc_rev", FIXED_VALID, "DESC"),
	  FIXED_FIRST("issue_fx_valid_desc", FIXED_VALID, "DESC"),
	  FIXED_FIRST("issue_fx_valid_desc_rev", FIXED_VALID, "ASC")},
	 {FIXED_AFTER("issue_fx_valid_asc_c", FIXED_VALID, ">", "ASC"),
	  FIXED_AFTER("issue_fx_valid_asc_rev_c", FIXED_VALID, "<", "DESC"),
	  FIXED_AFTER("issue_fx_valid_desc_c", FIXED_VALID, "<", "DESC"),
	  FIXED_AFTER("issue_fx_valid_desc_rev_c", FIXED_VALID, ">", "ASC")}},
};

/* $1 id, $2 tenant */
const struct db_stmt q_one = {
	"issue_one",
	"SELECT " ITEM_COLUMNS ", c.subject,"
	" " JST("c.not_before") " AS not_before,"
	" c.key_type, encode(c.cert_der, 'hex') AS cert_der, c.last_error"
	ITEM_FROM
	" WHERE c.id = $1 AND c.tenant_id = $2",
	2,
};
/* clang-format on */
