/* keyset.h: paging by key (the sort key plus id): a list's cursors, its count, its answer. */
#ifndef SHOMEI_KEYSET_H
#define SHOMEI_KEYSET_H

#include <cjson/cJSON.h>

#include "store/db.h"
#include "store/kv.h"

/*
 * A list answers ?after=C (the page after the row C), ?before=C (the page before it), ?last=1
 * (the last page) or neither (the first page; ?page=N alone jumps N-1 pages, which only this
 * reads row by row). C is the cursor a previous answer gave as "next" or "prev": the JSON text
 * [key, id], key the row's sort key as a string (or null), id its id. Rows are read by an index
 * range from the cursor on, so every page costs the same however deep it is; rows that exist
 * throughout neither repeat nor vanish while rows are added or change status.
 */
enum keyset_dir { KEYSET_FIRST, KEYSET_AFTER, KEYSET_BEFORE, KEYSET_LAST };
enum keyset_key { KEYSET_TEXT, KEYSET_INT }; /* what a cursor's key must be */

#define KEYSET_KEY_MAX 400     /* bytes of a cursor's key */
#define KEYSET_EXACT_MAX 10000 /* a total above is estimated (約) */
#define KEYSET_EXACT_MAX_S "10000"
#define KEYSET_PAGE_MAX 1000000

struct keyset {
	enum keyset_dir dir;
	int has_key;                  /* the cursor's key is not null */
	char key[KEYSET_KEY_MAX + 1]; /* the cursor's key, "" when none */
	char id[24];                  /* the cursor's id, "" when none */
	long page;                    /* the page number the client shows (1 when not given) */
	char offset[24];              /* rows to skip: "0", or a ?page=N jump without a cursor */
	char limit[24];               /* rows to read: the page's and one more (keyset_limit) */
};

/*
 * Read after, before, last and page from a query string into ks; a bad one is appended to errs
 * as {field, message}. Returns the number of failures (0 when ks is set).
 */
int keyset_read(const char *query, enum keyset_key kind, int lang, cJSON *errs, struct keyset *ks);

/* The statement parameters: the cursor's key and id (NULL for none). */
const char *keyset_key_param(const struct keyset *ks);
const char *keyset_id_param(const struct keyset *ks);

/* 1 when the page is read against the list's order (before, last): use the reverse statement. */
int keyset_reverse(const struct keyset *ks);

/*
 * Set ks->limit for a page of per_page rows of a list of total rows (exact when !estimated):
 * the last page of an exact total holds what is left after the full pages, as page numbers
 * expect. One more row is read to learn whether more follow.
 */
void keyset_limit(struct keyset *ks, long long total, int estimated, int per_page);

/*
 * The number of rows of a page, given the n rows the statement returned, and the result row
 * of its i-th row (0-based, in the list's order).
 */
int keyset_rows(const struct keyset *ks, int n, int per_page);
int keyset_row(const struct keyset *ks, int n, int per_page, int i);

/*
 * Add "page", "per_page", "next" and "prev" (cursors, or null when there is no such page) to
 * doc, from the result rows' columns k (the sort key as text, may be NULL) and id.
 */
void keyset_answer(const struct keyset *ks, const PGresult *res, int per_page, cJSON *doc);

/*
 * The number of rows a list's filter matches: exact up to KEYSET_EXACT_MAX (count_st counts at
 * most one more than that), else PostgreSQL's estimate from EXPLAIN of select_sql ("SELECT 1 FROM
 * … WHERE …", the same parameters), and *estimated = 1. 0, or what db_exec returns.
 */
int keyset_count(struct db *db, const struct db_stmt *count_st, const char *select_sql,
		 const char *const *params, long long *total, int *estimated);

/* PostgreSQL's estimate of the rows select_sql ("SELECT 1 FROM … WHERE …") returns, from EXPLAIN
 * with the nparams params; -1 when it cannot say. */
long long keyset_estimate(struct db *db, const char *select_sql, int nparams,
			  const char *const *params);

/*
 * keyset_count, remembered in Redis per (list, filter: the count's parameters, the tenant
 * first) for KEYSET_COUNT_TTL seconds. The first page (no cursor, ?page=N jumps included)
 * counts afresh and stores what it counted unless the stored total is an estimate (past
 * KEYSET_EXACT_MAX, which a few rows more or fewer do not change), so a row added or changed
 * shows in an exact total on the next request of the first page at the latest; a page reached
 * by a cursor (after, before, last) shows the stored total when there is one, else counts and
 * stores.
 * offset_param is the index among the count's parameters of the page's offset (rows to skip,
 * which the count ignores), or -1. Without Redis it counts every time.
 */
#define KEYSET_COUNT_TTL "30"
int keyset_count_cached(struct db *db, struct kv *kv, const char *list, const struct keyset *ks,
			const struct db_stmt *count_st, int offset_param, const char *select_sql,
			const char *const *params, long long *total, int *estimated);

/*
 * keyset_count, remembered in Redis per (list, filter) as of gen, a short text (under 100
 * bytes) the caller reads from the database and that changes whenever a row the filter could
 * count is added, removed or changes what the filter looks at (for the certificates, the
 * tenant's rows of certificate_counts). Every page, the first included, reuses a total stored
 * with the same gen, for up to KEYSET_GEN_TTL seconds; any other is counted afresh and stored.
 */
#define KEYSET_GEN_TTL "600"

/*
 * One request counts (keyset_count_cached, keyset_count_gen): a filter's count is claimed in
 * Redis for KEYSET_CLAIM_MS milliseconds while it runs. Every request of the same filter meanwhile
 * shows the last total counted (kept KEYSET_LAST_TTL seconds) when that was an estimate, or
 * PostgreSQL's estimate when there is none, marked estimated; 16 requests of a list whose count
 * takes a second (a status of a million certificates) each counting at once took the machine for
 * sixteen. A last total that was exact is counted again by each request (at most
 * KEYSET_EXACT_MAX + 1 rows): an exact total stays exact.
 */
#define KEYSET_CLAIM_MS "30000"
#define KEYSET_LAST_TTL "600"
int keyset_count_gen(struct db *db, struct kv *kv, const char *list, const char *gen,
		     const struct db_stmt *count_st, int offset_param, const char *select_sql,
		     const char *const *params, long long *total, int *estimated);

/*
 * A total known exactly however large (a count the writers keep), shown as the rule for every
 * list has it: exact up to KEYSET_EXACT_MAX, marked estimated (約) above, the number itself kept.
 */
void keyset_known(long long n, long long *total, int *estimated);

/* Add "total" and "total_estimated" to doc. */
void keyset_total(cJSON *doc, long long total, int estimated);

#endif
