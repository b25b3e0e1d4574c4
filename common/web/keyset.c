/* keyset.c: paging by key (the sort key plus id): a list's cursors, its count, its answer. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/strbuf.h"
#include "core/util.h"
#include "web/http.h"
#include "web/i18n.h"
#include "web/keyset.h"
#include "web/valid.h"

/* An integer key: an optional minus and 1-18 digits. */
static int
int_key(const char *v)
{
	size_t n;

	if (*v == '-')
		v++;
	n = strspn(v, "0123456789");
	return n >= 1 && n <= 18 && v[n] == '\0';
}

/* Parse a cursor "[key, id]" into ks; 0, or VALID_E_FORMAT. */
static int
parse_cursor(const char *text, enum keyset_key kind, struct keyset *ks)
{
	cJSON *a = cJSON_Parse(text), *k, *id;
	int rc = VALID_E_FORMAT;

	if (a == NULL || !cJSON_IsArray(a) || cJSON_GetArraySize(a) != 2)
		goto out;
	k = cJSON_GetArrayItem(a, 0);
	id = cJSON_GetArrayItem(a, 1);
	if (!cJSON_IsNumber(id) || id->valuedouble < 1 || id->valuedouble > 9007199254740991.0 ||
	    id->valuedouble != (double)(long long)id->valuedouble)
		goto out;
	if (cJSON_IsString(k)) {
		if (strlen(k->valuestring) > KEYSET_KEY_MAX || valid_utf8_len(k->valuestring) < 0 ||
		    (kind == KEYSET_INT && !int_key(k->valuestring)))
			goto out;
		snprintf(ks->key, sizeof(ks->key), "%s", k->valuestring);
		ks->has_key = 1;
	} else if (!cJSON_IsNull(k)) {
		goto out;
	}
	snprintf(ks->id, sizeof(ks->id), "%lld", (long long)id->valuedouble);
	rc = 0;
out:
	cJSON_Delete(a);
	return rc;
}

static void
field_error(cJSON *errs, const char *name, const struct i18n_text *msg, int lang)
{
	json_field_error(errs, name, i18n_msg(msg, lang));
}

/* One of after/before into buf: 1 present, 0 absent, -1 unusable (an error is added). */
static int
query_cursor(const char *query, const char *name, char *buf, size_t len, int lang, cJSON *errs)
{
	int rc = http_query_get(query, name, buf, len);

	if (rc == HTTP_E_ABSENT || (rc == 0 && *buf == '\0'))
		return 0;
	if (rc != 0) {
		field_error(errs, name, &msg_cursor, lang);
		return -1;
	}
	return 1;
}

int
keyset_read(const char *query, enum keyset_key kind, int lang, cJSON *errs, struct keyset *ks)
{
	static const struct valid_field f[] = {
		{"page", valid_page, 0, &msg_page, 7},
		{"last", valid_flag, 0, &msg_flag, 1},
	};
	char after[KEYSET_KEY_MAX + 64], before[KEYSET_KEY_MAX + 64], page[16], last[4];
	int bad = valid_query(query, f, 2, errs, lang), a, b;

	memset(ks, 0, sizeof(*ks));
	ks->page = 1;
	snprintf(ks->offset, sizeof(ks->offset), "0");
	a = query_cursor(query, "after", after, sizeof(after), lang, errs);
	b = query_cursor(query, "before", before, sizeof(before), lang, errs);
	if (a < 0 || b < 0)
		bad++;
	if (bad > 0)
		return bad;
	if (http_query_get(query, "page", page, sizeof(page)) == 0 && *page)
		ks->page = atol(page);
	if (http_query_get(query, "last", last, sizeof(last)) == 0 && strcmp(last, "1") == 0)
		ks->dir = KEYSET_LAST;
	if (a + b + (ks->dir == KEYSET_LAST) > 1) {
		field_error(errs, a ? "after" : "before", &msg_cursor_one, lang);
		return 1;
	}
	if (a || b) {
		if (parse_cursor(a ? after : before, kind, ks) != 0) {
			field_error(errs, a ? "after" : "before", &msg_cursor, lang);
			return 1;
		}
		ks->dir = a ? KEYSET_AFTER : KEYSET_BEFORE;
	} else if (ks->dir == KEYSET_FIRST && ks->page > 1) {
		snprintf(ks->offset, sizeof(ks->offset), "%ld", (ks->page - 1) * 100L);
	}
	snprintf(ks->limit, sizeof(ks->limit), "101");
	return 0;
}

const char *
keyset_key_param(const struct keyset *ks)
{
	return ks->has_key ? ks->key : NULL;
}

const char *
keyset_id_param(const struct keyset *ks)
{
	return ks->id[0] ? ks->id : NULL;
}

int
keyset_reverse(const struct keyset *ks)
{
	return ks->dir == KEYSET_BEFORE || ks->dir == KEYSET_LAST;
}

void
keyset_limit(struct keyset *ks, long long total, int estimated, int per_page)
{
	long long n = per_page;

	if (ks->dir == KEYSET_LAST && !estimated && total % per_page != 0)
		n = total % per_page;
	if (ks->dir == KEYSET_FIRST && ks->page > 1)
		snprintf(ks->offset, sizeof(ks->offset), "%lld",
			 (long long)(ks->page - 1) * per_page);
	snprintf(ks->limit, sizeof(ks->limit), "%lld", n + 1);
}

int
keyset_rows(const struct keyset *ks, int n, int per_page)
{
	int want = atoi(ks->limit) - 1;

	if (want < 1 || want > per_page)
		want = per_page;
	return n < want ? n : want;
}

int
keyset_row(const struct keyset *ks, int n, int per_page, int i)
{
	int shown = keyset_rows(ks, n, per_page);

	return keyset_reverse(ks) ? shown - 1 - i : i;
}

/* The cursor of result row r as JSON text, or a JSON null. */
static cJSON *
cursor_of(const PGresult *res, int r)
{
	cJSON *a = cJSON_CreateArray();
	const char *k = db_get(res, r, "k");
	char *text;

	cJSON_AddItemToArray(a, k ? cJSON_CreateString(k) : cJSON_CreateNull());
	cJSON_AddItemToArray(a, cJSON_CreateNumber((double)db_get_ll(res, r, "id")));
	text = cJSON_PrintUnformatted(a);
	cJSON_Delete(a);
	if (text == NULL)
		return cJSON_CreateNull();
	a = cJSON_CreateString(text);
	free(text);
	return a;
}

void
keyset_answer(const struct keyset *ks, const PGresult *res, int per_page, cJSON *doc)
{
	int n = PQntuples(res), shown = keyset_rows(ks, n, per_page), more = n > shown;
	int has_prev, has_next;

	switch (ks->dir) {
	case KEYSET_AFTER:
		has_prev = 1, has_next = more;
		break;
	case KEYSET_BEFORE:
		has_prev = more, has_next = 1;
		break;
	case KEYSET_LAST:
		has_prev = more, has_next = 0;
		break;
	default:
		has_prev = ks->page > 1, has_next = more;
		break;
	}
	cJSON_AddNumberToObject(doc, "page", (double)ks->page);
	cJSON_AddNumberToObject(doc, "per_page", per_page);
	/* the first row in the list's order is the last read when reading backwards */
	if (has_next && shown > 0)
		cJSON_AddItemToObject(doc, "next",
				      cursor_of(res, keyset_row(ks, n, per_page, shown - 1)));
	else
		cJSON_AddNullToObject(doc, "next");
	if (has_prev && shown > 0)
		cJSON_AddItemToObject(doc, "prev", cursor_of(res, keyset_row(ks, n, per_page, 0)));
	else
		cJSON_AddNullToObject(doc, "prev");
}

long long
keyset_estimate(struct db *db, const char *select_sql, int nparams, const char *const *params)
{
	char sql[8192];
	PGresult *res = NULL;
	cJSON *plan = NULL, *rows;
	long long n = -1;

	if (snprintf(sql, sizeof(sql), "EXPLAIN (FORMAT JSON) %s", select_sql) >= (int)sizeof(sql))
		return -1;
	if (db_exec_sql(db, sql, nparams, params, &res) != 0 || PQntuples(res) < 1)
		goto out;
	plan = cJSON_Parse(PQgetvalue(res, 0, 0));
	rows = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetArrayItem(plan, 0), "Plan"),
				   "Plan Rows");
	if (cJSON_IsNumber(rows))
		n = (long long)rows->valuedouble;
out:
	cJSON_Delete(plan);
	PQclear(res);
	return n;
}

int
keyset_count(struct db *db, const struct db_stmt *count_st, const char *select_sql,
	     const char *const *params, long long *total, int *estimated)
{
	PGresult *res = NULL;
	long long n, e;
	int rc;

	if ((rc = db_exec(db, count_st, params, &res)) != 0)
		return rc;
	n = db_get_ll(res, 0, "n");
	PQclear(res);
	*estimated = 0;
	if (n > KEYSET_EXACT_MAX) {
		e = keyset_estimate(db, select_sql, count_st->nparams, params);
		n = e > KEYSET_EXACT_MAX ? e : KEYSET_EXACT_MAX + 1;
		*estimated = 1;
	}
	*total = n;
	return 0;
}

/*
 * The Redis key of a list's filter: a digest of its parameters, each length-prefixed (NULL
 * apart). -ENOSPC for a filter too long to key (it is then counted every time).
 */
static int
count_key(const char *list, const struct db_stmt *count_st, int offset_param,
	  const char *const *params, char *key, size_t len)
{
	char text[8192], hex[65], part[128];
	struct strbuf b;

	strbuf_init(&b, text, sizeof(text));
	for (int i = 0; i < count_st->nparams; i++) {
		if (i == offset_param)
			continue;
		if (params[i] == NULL)
			strbuf_add(&b, "N;");
		else
			strbuf_printf(&b, "%zu:%s;", strlen(params[i]), params[i]);
	}
	if (strbuf_error(&b) != 0)
		return -ENOSPC;
	util_sha256_hex(b.buf, b.len, hex);
	snprintf(part, sizeof(part), "%s:%s", list, hex);
	return kv_key(key, len, "count", part);
}

/* A stored total "[gen/]N" or "[gen/]~N" of the generation gen (NULL: none); 1 when it is one. */
static int
stored_total(const redisReply *r, const char *gen, long long *total, int *estimated)
{
	const char *s;
	char *end;
	size_t g = gen ? strlen(gen) + 1 : 0; /* with its '/' */
	long long n;
	int est;

	if (r->type != REDIS_REPLY_STRING || (size_t)r->len <= g ||
	    strlen(r->str) != (size_t)r->len)
		return 0;
	if (gen && (memcmp(r->str, gen, g - 1) != 0 || r->str[g - 1] != '/'))
		return 0;
	s = r->str + g;
	est = *s == '~';
	n = strtoll(s + est, &end, 10);
	if (*end != '\0' || end == s + est || n < 0)
		return 0;
	*total = n;
	*estimated = est;
	return 1;
}

/* The total of the filter keyed key, stored as of gen (may be NULL); 1 when there is one. */
static int
cache_get(struct kv *kv, const char *key, const char *gen, long long *total, int *estimated)
{
	const char *get[] = {"GET", key};
	redisReply *r = kv_cmdv(kv, 2, get);
	int found = r != NULL && stored_total(r, gen, total, estimated);

	freeReplyObject(r);
	return found;
}

static void
cache_put(struct kv *kv, const char *key, const char *gen, long long total, int estimated,
	  const char *ttl)
{
	char val[160];
	redisReply *r;

	snprintf(val, sizeof(val), "%s%s%s%lld", gen ? gen : "", gen ? "/" : "",
		 estimated ? "~" : "", total);
	const char *set[] = {"SET", key, val, "EX", ttl};
	if ((r = kv_cmdv(kv, 5, set)) != NULL)
		freeReplyObject(r);
}

/*
 * The last total stored for key whatever its generation or age (kept KEYSET_LAST_TTL seconds
 * under key + ":last"); 1 when there is one.
 */
static int
last_get(struct kv *kv, const char *key, long long *total, int *estimated)
{
	char k[300];

	snprintf(k, sizeof(k), "%s:last", key);
	return cache_get(kv, k, NULL, total, estimated);
}

/*
 * Store a total just counted: for its readers (cache_put) and as the last one. The counter's
 * claim (count_claim) goes.
 */
static void
count_store(struct kv *kv, const char *key, const char *gen, long long total, int estimated,
	    const char *ttl)
{
	char k[300];

	cache_put(kv, key, gen, total, estimated, ttl);
	snprintf(k, sizeof(k), "%s:last", key);
	cache_put(kv, k, NULL, total, estimated, KEYSET_LAST_TTL);
	snprintf(k, sizeof(k), "%s:counting", key);
	kv_del(kv, k);
}

/*
 * 1 when this request may count the filter keyed key: no other is counting it (a claim in
 * Redis for at most KEYSET_CLAIM_MS, should the counter die), or Redis cannot say.
 */
static int
count_claim(struct kv *kv, const char *key)
{
	char k[300];

	snprintf(k, sizeof(k), "%s:counting", key);
	return kv_claim(kv, k, KEYSET_CLAIM_MS);
}

/*
 * A total to show while another request counts the filter (keyset.h, "one request counts"):
 * the last one stored when it was an estimate, else PostgreSQL's estimate when there is none;
 * both marked estimated. 0 when the request must count after all: the last total was exact (a
 * count of at most KEYSET_EXACT_MAX + 1 rows, which every first page makes), or no estimate.
 */
static int
while_counting(struct db *db, struct kv *kv, const char *key, const struct db_stmt *count_st,
	       const char *select_sql, const char *const *params, long long *total, int *estimated)
{
	long long n;
	int est;

	if (last_get(kv, key, &n, &est)) {
		if (!est)
			return 0;
	} else if ((n = keyset_estimate(db, select_sql, count_st->nparams, params)) < 0) {
		return 0;
	}
	*total = n;
	*estimated = 1;
	return 1;
}

/* Count for key (have: it could be keyed), one request at a time; then store the total. */
static int
count_once(struct db *db, struct kv *kv, int have, const char *key, const char *gen,
	   const char *ttl, const struct db_stmt *count_st, const char *select_sql,
	   const char *const *params, long long *total, int *estimated)
{
	int rc;

	if (have && !count_claim(kv, key) &&
	    while_counting(db, kv, key, count_st, select_sql, params, total, estimated))
		return 0;
	if ((rc = keyset_count(db, count_st, select_sql, params, total, estimated)) != 0)
		return rc;
	if (have)
		count_store(kv, key, gen, *total, *estimated, ttl);
	return 0;
}

int
keyset_count_cached(struct db *db, struct kv *kv, const char *list, const struct keyset *ks,
		    const struct db_stmt *count_st, int offset_param, const char *select_sql,
		    const char *const *params, long long *total, int *estimated)
{
	char key[256];
	long long n;
	int est, have = count_key(list, count_st, offset_param, params, key, sizeof(key)) == 0;

	/* a first page recounts an exact total, reuses an estimate (keyset.h) */
	if (have && cache_get(kv, key, NULL, &n, &est) && (est || ks->dir != KEYSET_FIRST)) {
		*total = n;
		*estimated = est;
		return 0;
	}
	return count_once(db, kv, have, key, NULL, KEYSET_COUNT_TTL, count_st, select_sql, params,
			  total, estimated);
}

int
keyset_count_gen(struct db *db, struct kv *kv, const char *list, const char *gen,
		 const struct db_stmt *count_st, int offset_param, const char *select_sql,
		 const char *const *params, long long *total, int *estimated)
{
	char key[256];
	int have = strlen(gen) < 100 &&
		   count_key(list, count_st, offset_param, params, key, sizeof(key)) == 0;

	if (have && cache_get(kv, key, gen, total, estimated))
		return 0;
	return count_once(db, kv, have, key, gen, KEYSET_GEN_TTL, count_st, select_sql, params,
			  total, estimated);
}

void
keyset_known(long long n, long long *total, int *estimated)
{
	*total = n;
	*estimated = n > KEYSET_EXACT_MAX;
}

void
keyset_total(cJSON *doc, long long total, int estimated)
{
	cJSON_AddNumberToObject(doc, "total", (double)total);
	cJSON_AddBoolToObject(doc, "total_estimated", estimated);
}
