/* queries.c: the SQL of shomei-users. Every statement filters by the tenant ($1). */
#include "extern.h"
#include "web/keyset.h"
#include "domain/lifecycle.h"

/*
 * clang-format would split the SQL text at the JST()/CONTAINS() macros and misalign it;
 * the statements are laid out by hand, one clause a line.
 */
/* clang-format off */

/*
 * A timestamp as the API writes it: yyyy/mm/dd hh:mm in Asia/Tokyo. Japan has kept UTC+9 all
 * year since 1952, so the fixed offset gives the same text for every date shomei stores, without
 * looking the zone up by name for each value (a page of 利用者 converts some 2,000: a fifth of
 * its certificates statement's time went to that lookup).
 */
#define JST_AT(col) "(" col ") AT TIME ZONE INTERVAL '+09:00'"
#define JST(col) "to_char(" JST_AT(col) ", 'YYYY/MM/DD HH24:MI')"

const struct db_stmt q_tenant = {
	"users_tenant",
	"SELECT t.id, t.slug, t.name, t.name_en, t.domain, t.quota,"
	" array_to_json(t.features)::text AS features, t.key_type, t.p12_compat,"
	" t.default_validity_days, t.max_validity_days, t.max_start_ahead_days, t.notify_users,"
	" t.notice_address, t.notice_lang, t.renew_before_days, t.renew_after_days,"
	" array_to_json(t.download_allowlist::text[])::text AS download_allowlist,"
	" coalesce((SELECT o.name FROM organizations o WHERE o.tenant_id = t.id"
	"  ORDER BY o.name = '本社' DESC, o.id LIMIT 1), '本社') AS organization,"
	" coalesce((SELECT extract(epoch FROM max(c.not_after))::bigint FROM cas c"
	"  WHERE c.tenant_id = t.id AND c.kind = 'tenant' AND c.active), 0) AS ca_not_after"
	" FROM tenants t WHERE t.id = $1",
	1,
};

/* The tenant's 本社, created if the tenant was made without it. */
const struct db_stmt q_org_id = {
	"users_org_id",
	"INSERT INTO organizations (tenant_id, name) VALUES ($1, '本社')"
	" ON CONFLICT (tenant_id, name) DO UPDATE SET name = EXCLUDED.name RETURNING id",
	1,
};

/*
 * Users, devices (and certificates, domain/certq.c) are inserted many at a time: a CSV job's
 * chunk in a few statements. Their ids are taken from the sequence first ($1 how many), so each
 * row's id is known whatever order the INSERT writes them in; the rows come as one JSON array
 * ($3 / $2; ids as strings, a double would round a large bigint).
 */
const struct db_stmt q_user_ids = {
	"users_user_ids",
	"SELECT nextval('users_id_seq') AS id FROM generate_series(1, $1::integer)",
	1,
};

const struct db_stmt q_user_insert = {
	"users_user_insert",
	"INSERT INTO users (id, tenant_id, organization_id, family_name, given_name,"
	" family_name_kana, given_name_kana, family_name_en, given_name_en, email, lang)"
	" SELECT x.id, $1::bigint, $2::bigint, x.f, x.g, x.fk, x.gk, x.fe, x.ge, x.e,"
	" coalesce(x.l, 'ja') FROM json_to_recordset($3::json)"
	" AS x(id bigint, f text, g text, fk text, gk text, fe text, ge text, e text, l text)",
	3,
};

const struct db_stmt q_device_ids = {
	"users_device_ids",
	"SELECT nextval('devices_id_seq') AS id FROM generate_series(1, $1::integer)",
	1,
};

const struct db_stmt q_device_insert = {
	"users_device_insert",
	"INSERT INTO devices (id, tenant_id, user_id, device_code, email, valid_from, valid_to, o,"
	" ou1, ou2, restriction_mode, restrict_mac, restrict_computer, restrict_login_user,"
	" restrict_bios_serial, service_id, principal_name)"
	" SELECT x.id, $1::bigint, x.user_id, x.code, x.email, x.valid_from::timestamptz,"
	" x.valid_to::timestamptz, x.o, x.ou1, x.ou2, x.mode, x.mac, x.computer, x.login_user,"
	" x.bios_serial, x.service_id, x.upn"
	" FROM json_to_recordset($2::json) AS x(id bigint, user_id bigint, code text, email text,"
	" valid_from text, valid_to text, o text, ou1 text, ou2 text, mode text, mac text,"
	" computer text, login_user text, bios_serial text, service_id text, upn text)",
	2,
};

/*
 * $1 tenant, $2 a JSON array of {i, e, c} (a caller's number, an e-mail, a device code): the i of
 * each pair a device of the tenant's users that are not deleted already has (e-mail compared
 * case-insensitively, as the download site's login does), in order. Run under the tenant's lock
 * (certq_lock), which every registration takes: no unique index can say "of users not
 * deleted", the deletion being on users (index devices_pair, 0004).
 */
const struct db_stmt q_device_pairs = {
	"users_device_pairs",
	"SELECT x.i FROM json_to_recordset($2::json) AS x(i integer, e text, c text)"
	" WHERE EXISTS (SELECT 1 FROM devices d JOIN users u ON u.id = d.user_id"
	"  WHERE d.tenant_id = $1 AND d.device_code = x.c AND lower(d.email) = lower(x.e)"
	"  AND u.deleted_at IS NULL AND u.purged_at IS NULL) ORDER BY x.i",
	2,
};

#define USER_COLUMNS                                                                               \
	"u.id, u.family_name, u.given_name, u.family_name_kana, u.given_name_kana,"                \
	" u.family_name_en, u.given_name_en, u.email, u.lang,"                                     \
	" coalesce((SELECT o.name FROM organizations o WHERE o.id = u.organization_id), '')"       \
	" AS organization, " JST("u.applied_at") " AS applied_at, " JST("u.deleted_at")            \
	" AS deleted_at"

const struct db_stmt q_user_get = {
	"users_user_get",
	"SELECT " USER_COLUMNS " FROM users u"
	" WHERE u.tenant_id = $1 AND u.id = $2 AND u.purged_at IS NULL",
	2,
};

const struct db_stmt q_user_lock = {
	"users_user_lock",
	"SELECT " USER_COLUMNS " FROM users u"
	" WHERE u.tenant_id = $1 AND u.id = $2 AND u.purged_at IS NULL FOR UPDATE OF u",
	2,
};

const struct db_stmt q_user_update = {
	"users_user_update",
	"UPDATE users SET family_name = $3, given_name = $4, family_name_kana = $5,"
	" given_name_kana = $6, family_name_en = $7, given_name_en = $8, email = $9, lang = $10,"
	" updated_at = now() WHERE tenant_id = $1 AND id = $2",
	10,
};

const struct db_stmt q_user_devices = {
	"users_user_devices",
	"SELECT d.id, d.device_code, d.email, " JST("d.valid_from") " AS valid_from, "
	JST("d.valid_to") " AS valid_to, d.o, d.ou1, d.ou2, d.restriction_mode, d.restrict_mac,"
	" d.restrict_computer, d.restrict_login_user, d.restrict_bios_serial"
	" FROM devices d WHERE d.tenant_id = $1 AND d.user_id = $2 ORDER BY d.device_code, d.id",
	2,
};

/* The certificates of a set of users ($2 a bigint array), grouped by user. */
const struct db_stmt q_user_certificates = {
	"users_user_certificates",
	"SELECT c.id, c.user_id, d.device_code, c.cn, c.email, c.serial, c.status,"
	" " JST("c.issued_at") " AS issued_at, " JST("c.not_after") " AS expires_at, "
	JST("c.revoked_at") " AS revoked_at, " JST("c.not_before") " AS valid_from,"
	" to_char(" JST_AT("c.revoke_on") ", 'YYYY/MM/DD') AS revoke_on,"
	" c.superseded_at IS NOT NULL AS superseded"
	" FROM certificates c LEFT JOIN devices d ON d.id = c.device_id AND d.tenant_id = c.tenant_id"
	" WHERE c.tenant_id = $1 AND c.user_id = ANY ($2::bigint[])"
	" ORDER BY c.user_id, d.device_code, c.id",
	2,
};

/* A JST calendar day's bounds. */
#define DAY_FROM(p) "(" p "::date)::timestamp AT TIME ZONE 'Asia/Tokyo'"
#define DAY_END(p) "(" p "::date + 1)::timestamp AT TIME ZONE 'Asia/Tokyo'"

/*
 * $2 family name, $3 given name (kanji, kana in either script or half-width, or English),
 * $4 e-mail (the user's or a device's), $5/$6 applied, $7/$8 issued, $9/$10 expires (JST days,
 * inclusive), $11 statuses, $12 device codes (text arrays). A user matches the certificate
 * conditions ($7-$12) when any of its certificates matches them all. Names are compared
 * folded (kana_fold, migration 0016) by trigram indexes, e-mail addresses likewise; an absent
 * condition folds away (db.c plans each execution with its parameters). The users an e-mail
 * matches are gathered first as an array of ids (trigram indexes over users and devices): a
 * condition under OR is never turned into a join; unless $15 says the text is in many
 * addresses (q_email_estimate), when each user read is tested instead.
 *
 * The certificate conditions take two forms (docs/DECISIONS.md, "Issue 12: the 利用者 list's
 * status and device conditions"). Gathered into an array of the user ids the matching
 * certificates name (CERT_ARRAY), which PostgreSQL takes for ten rows, a condition that matches
 * many users (status=revoked, a device code) had every page fetch all of those users by primary
 * key and sort them. A page with status or device conditions and no date reads them instead as
 * a semi-join (CERT_EXISTS: EXISTS at the top of the WHERE, planned as a join from statistics),
 * in statements of their own (the _c ones): the list's index is read in order and each user's
 * certificates probed (certificates_status_user, certificates_user_fk) until the page is full.
 * Date ranges select few certificates (an index range over their dates), and keep the array,
 * which the semi-join's plan, reading the list's index in order, would probe user by user. The
 * count keeps the array and the list's order (an index range; the semi-join's count, or one
 * without the order, reading more than half the users, is planned as a whole-table scan), and
 * runs for first pages only (keyset_count_cached).
 */
/*
 * A name part (family or given) containing p: three characters or more anywhere in the folded
 * names (trigram index on <part>_fold); fewer, at the start of the kanji, the kana or the
 * English name (btree prefixes on the stored folds, migrations 0017 and 0024), since no trigram
 * fits in them. No row's name is folded while the list is read.
 */
#define NAME(part, p)                                                                              \
	"(CASE WHEN length(" p "::text) >= 3"                                                      \
	" THEN u." part "_fold LIKE like_contains(kana_fold(" p "::text))"                          \
	" ELSE u." part "_name_fold LIKE like_prefix(kana_fold(" p "::text))"                      \
	"  OR u." part "_kana_fold LIKE like_prefix(kana_fold(" p "::text))"                       \
	"  OR lower(u." part "_name_en) LIKE like_prefix(lower(" p "::text)) END)"

/*
 * The certificate conditions of one certificate c of the user's ($7-$12, each optional); the
 * device codes as a probe of the certificate's device (a page's) or as the array of the devices
 * with those codes (the count's, read by certificates_device).
 */
#define DEVICE_PROBE                                                                               \
	" AND ($12::text[] IS NULL OR EXISTS (SELECT 1 FROM devices d WHERE d.id = c.device_id"    \
	"  AND d.tenant_id = $1 AND d.device_code = ANY ($12::text[])))"
#define DEVICE_ARRAY                                                                               \
	" AND ($12::text[] IS NULL OR c.device_id = ANY (ARRAY (SELECT d.id FROM devices d"       \
	"  WHERE d.tenant_id = $1 AND d.device_code = ANY ($12::text[]))))"
#define CERT_CONDS(device)                                                                         \
	" AND ($7::date IS NULL OR c.issued_at >= " DAY_FROM("$7") ")"                             \
	" AND ($8::date IS NULL OR c.issued_at < " DAY_END("$8") ")"                               \
	" AND ($9::date IS NULL OR c.not_after >= " DAY_FROM("$9") ")"                             \
	" AND ($10::date IS NULL OR c.not_after < " DAY_END("$10") ")"                             \
	" AND ($11::text[] IS NULL OR c.status = ANY ($11::text[]))" device
#define CERT_ANY_NULL                                                                              \
	"$7::date IS NULL AND $8::date IS NULL AND $9::date IS NULL AND $10::date IS NULL"         \
	" AND $11::text[] IS NULL AND $12::text[] IS NULL"
/* Some certificate of the user's matches every condition given: a semi-join. */
#define CERT_EXISTS                                                                                \
	" AND EXISTS (SELECT 1 FROM certificates c WHERE c.tenant_id = $1 AND c.user_id = u.id"    \
	CERT_CONDS(DEVICE_PROBE) ")"
/* The same, as the array of the users the matching certificates name; true without any. */
#define CERT_ARRAY                                                                                 \
	" AND ((" CERT_ANY_NULL ") OR u.id = ANY (ARRAY (SELECT c.user_id FROM certificates c"    \
	" WHERE c.tenant_id = $1 AND c.user_id IS NOT NULL" CERT_CONDS(DEVICE_ARRAY) ")))"

#define SEARCH_WHERE(certs)                                                                        \
	" FROM users u WHERE u.tenant_id = $1 AND u.purged_at IS NULL"                            \
	" AND (u.deleted_at IS NOT NULL) = coalesce($14::boolean, false)"                         \
	" AND ($2::text IS NULL OR " NAME("family", "$2") ")"                                      \
	" AND ($3::text IS NULL OR " NAME("given", "$3") ")"                                       \
	" AND ($4::text IS NULL OR (CASE WHEN $15::boolean"                                       \
	"  THEN lower(u.email) LIKE like_contains(lower($4::text))"                                \
	"  OR EXISTS (SELECT 1 FROM devices e WHERE e.tenant_id = $1 AND e.user_id = u.id"         \
	"  AND lower(e.email) LIKE like_contains(lower($4::text)) OFFSET 0)"                       \
	"  ELSE u.id = ANY (ARRAY (SELECT m.id FROM users m"                                       \
	"  WHERE m.tenant_id = $1 AND lower(m.email) LIKE like_contains(lower($4::text))"          \
	"  UNION SELECT e.user_id FROM devices e WHERE e.tenant_id = $1"                           \
	"  AND lower(e.email) LIKE like_contains(lower($4::text)))) END))"                         \
	" AND ($5::date IS NULL OR u.applied_at >= " DAY_FROM("$5") ")"                            \
	" AND ($6::date IS NULL OR u.applied_at < " DAY_END("$6") ")"                              \
	certs                                                                                      \
	" AND $13::bigint >= 0" /* rows to skip: the page statements' */

/* At most one more than an exact total shows (web/keyset.h). */
const struct db_stmt q_search_count = {
	"users_search_count",
	"SELECT count(*) AS n FROM (SELECT 1" SEARCH_WHERE(CERT_ARRAY)
	" ORDER BY u.applied_at, u.id LIMIT " KEYSET_EXACT_MAX_S " + 1) s",
	15,
};
/*
 * How many addresses of users and devices contain $2 (PostgreSQL's estimate, from the statistics
 * of lower(email)): past USERS_EMAIL_MANY, $15 is true and an e-mail condition is tested on each
 * user the list's order reads (its own address, then its devices' by devices_user; OFFSET 0
 * keeps that a probe per user, not a hash of every matching device) rather than gathered first: an address every user has (example.jp) made every page gather and sort them
 * all. Either form finds the same users.
 */
const char q_email_estimate[] = "SELECT 1 FROM users u WHERE u.tenant_id = $1"
				" AND lower(u.email) LIKE like_contains(lower($2::text))"
				" UNION ALL SELECT 1 FROM devices e WHERE e.tenant_id = $1"
				" AND lower(e.email) LIKE like_contains(lower($2::text))";

/* For PostgreSQL's estimate past that: the page's form (the semi-join's is from statistics). */
const char *const q_search_select[2] = {"SELECT 1" SEARCH_WHERE(CERT_ARRAY),
					"SELECT 1" SEARCH_WHERE(CERT_EXISTS)};

/* The sort keys over a user's certificates: the latest issue, the earliest end still valid. */
#define K_ISSUED                                                                                   \
	"(SELECT max(k.issued_at) FROM certificates k WHERE k.tenant_id = u.tenant_id"             \
	" AND k.user_id = u.id)"
#define K_EXPIRES                                                                                  \
	"(SELECT min(k.not_after) FROM certificates k WHERE k.tenant_id = u.tenant_id"             \
	" AND k.user_id = u.id AND k.status <> " LC_SQL(LC_REVOKED) ")"

/*
 * A page from a cursor: $16 its key, $17 its id (NULL: from the start), $13 rows to skip,
 * $18 rows to read. Each sort is a key (sk, the cursor's key k as text) read forwards or
 * backwards by (sk, id); the keys of a user's own columns are indexes (migration 0016).
 * A timestamp's cursor key is microseconds since the epoch; NULL (no certificate) sorts last.
 */
#define US(col) "(extract(epoch FROM " col ") * 1000000)::bigint::text"
#define TS_CURSOR "('epoch'::timestamptz + $16::bigint * interval '1 microsecond')"
#define PAGE_SQL(key, out, cur, op, dir, certs)                                                    \
	"SELECT * FROM (SELECT " USER_COLUMNS ", " key " AS sk, " out " AS k" SEARCH_WHERE(certs)  \
	") s"                                                                                      \
	" WHERE ($17::bigint IS NULL OR (s.sk, s.id) " op " (" cur ", $17::bigint))"               \
	" ORDER BY s.sk " dir ", s.id " dir " OFFSET $13 LIMIT $18"
/*
 * The fixed-shape pages (struct sort_stmt's fixed): the users listed, no condition, a whole page
 * of USERS_PER_PAGE and one more written in the SQL (a generic plan takes a LIMIT parameter for
 * a tenth of the table and sorts it all); $2/$3 the cursor's key and id.
 */
#define FIXED_SQL(key, out, cursor, dir)                                                           \
	"SELECT * FROM (SELECT " USER_COLUMNS ", " key " AS sk, " out " AS k FROM users u"          \
	" WHERE u.tenant_id = $1 AND u.purged_at IS NULL AND u.deleted_at IS NULL) s" cursor        \
	" ORDER BY s.sk " dir ", s.id " dir " LIMIT " USERS_PER_PAGE_READ_S
#define FIXED_AFTER(cur, op) " WHERE (s.sk, s.id) " op " (" cur ", $3::bigint)"
#define FIXED(name, key, out, fcur, op, dir, rop, rdir)                                           \
	{{{"users_fx_" name, FIXED_SQL(key, out, "", dir), 1},                                      \
	  {"users_fx_" name "_rev", FIXED_SQL(key, out, "", rdir), 1}},                             \
	 {{"users_fx_" name "_c", FIXED_SQL(key, out, FIXED_AFTER(fcur, op), dir), 3},              \
	  {"users_fx_" name "_rev_c", FIXED_SQL(key, out, FIXED_AFTER(fcur, rop), rdir), 3}}}
/* A sort's statements with its filters: forwards and backwards, each with and without the semi-join. */
#define SORT_STMTS(name, sortkey, kind, key, out, cur, op, dir, rop, rdir)                          \
	sortkey, kind,                                                                             \
	    {{"users_search_" name, PAGE_SQL(key, out, cur, op, dir, CERT_ARRAY), 18},               \
	     {"users_search_" name "_c", PAGE_SQL(key, out, cur, op, dir, CERT_EXISTS), 18}},       \
	    {{"users_search_" name "_rev", PAGE_SQL(key, out, cur, rop, rdir, CERT_ARRAY), 18},      \
	     {"users_search_" name "_rev_c", PAGE_SQL(key, out, cur, rop, rdir, CERT_EXISTS), 18}}
#define SORT2(name, sortkey, kind, key, out, cur, op, dir, rop, rdir)                               \
	{SORT_STMTS(name, sortkey, kind, key, out, cur, op, dir, rop, rdir),                        \
	 {{{NULL, NULL, 0}, {NULL, NULL, 0}}, {{NULL, NULL, 0}, {NULL, NULL, 0}}}}
#define SORT(name, sortkey, kind, key, out, cur, asc) SORT_##asc(name, sortkey, kind, key, out, cur)
#define SORT_1(name, sortkey, kind, key, out, cur)                                                 \
	SORT2(name, sortkey, kind, key, out, cur, ">", "ASC", "<", "DESC")
#define SORT_0(name, sortkey, kind, key, out, cur)                                                 \
	SORT2(name, sortkey, kind, key, out, cur, "<", "DESC", ">", "ASC")
/* An order an index keeps: with its fixed-shape pages (fcur: the cursor's key from $2). */
#define SORTF(name, sortkey, kind, key, out, cur, fcur, asc)                                       \
	SORTF_##asc(name, sortkey, kind, key, out, cur, fcur)
#define SORTF_1(name, sortkey, kind, key, out, cur, fcur)                                          \
	SORTF2(name, sortkey, kind, key, out, cur, fcur, ">", "ASC", "<", "DESC")
#define SORTF_0(name, sortkey, kind, key, out, cur, fcur)                                          \
	SORTF2(name, sortkey, kind, key, out, cur, fcur, "<", "DESC", ">", "ASC")
#define SORTF2(name, sortkey, kind, key, out, cur, fcur, op, dir, rop, rdir)                        \
	{SORT_STMTS(name, sortkey, kind, key, out, cur, op, dir, rop, rdir),                        \
	 FIXED(name, key, out, fcur, op, dir, rop, rdir)}
#define KANA "(u.family_name_kana || chr(31) || u.given_name_kana)"
#define TS_CURSOR_2 "('epoch'::timestamptz + $2::bigint * interval '1 microsecond')"

const struct sort_stmt q_search_pages[] = {
	SORTF("applied", "applied_at", KEYSET_INT, "u.applied_at", US("u.applied_at"), TS_CURSOR,
	      TS_CURSOR_2, 1),
	SORTF("applied_desc", "-applied_at", KEYSET_INT, "u.applied_at", US("u.applied_at"),
	      TS_CURSOR, TS_CURSOR_2, 0),
	SORTF("kana", "family_name_kana", KEYSET_TEXT, KANA, KANA, "$16::text", "$2::text", 1),
	SORTF("kana_desc", "-family_name_kana", KEYSET_TEXT, KANA, KANA, "$16::text", "$2::text", 0),
	SORTF("email", "email", KEYSET_TEXT, "lower(u.email)", "lower(u.email)", "$16::text",
	      "$2::text", 1),
	SORTF("email_desc", "-email", KEYSET_TEXT, "lower(u.email)", "lower(u.email)", "$16::text",
	      "$2::text", 0),
	SORT("issued", "issued_at", KEYSET_INT, "coalesce(" K_ISSUED ", 'infinity')", US(K_ISSUED),
	     "coalesce(" TS_CURSOR ", 'infinity')", 1),
	SORT("issued_desc", "-issued_at", KEYSET_INT, "coalesce(" K_ISSUED ", '-infinity')",
	     US(K_ISSUED), "coalesce(" TS_CURSOR ", '-infinity')", 0),
	SORT("expires", "expires_at", KEYSET_INT, "coalesce(" K_EXPIRES ", 'infinity')",
	     US(K_EXPIRES), "coalesce(" TS_CURSOR ", 'infinity')", 1),
	SORT("expires_desc", "-expires_at", KEYSET_INT, "coalesce(" K_EXPIRES ", '-infinity')",
	     US(K_EXPIRES), "coalesce(" TS_CURSOR ", '-infinity')", 0),
};
const size_t q_search_npages = sizeof(q_search_pages) / sizeof(q_search_pages[0]);
/* clang-format on */
