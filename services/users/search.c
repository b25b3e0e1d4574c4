/* search.c: GET /api/users, the 利用者 list with the manual's search conditions (4-1 補足). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/certq.h"
#include "extern.h"
#include "core/json.h"
#include "web/keyset.h"
#include "web/pagecache.h"
#include "web/valid.h"
#include "domain/lifecycle.h"
#include "domain/device.h"
#include "core/strbuf.h"

/* In the order of the statements' parameters $2..$12 (search.c's params[1..11]). */
static const struct valid_field fields[] = {
	{"family_name", valid_text, 0, &msg_text_too_long, 200},
	{"given_name", valid_text, 0, &msg_text_too_long, 200},
	{"email", valid_text, 0, &msg_text_too_long, 200},
	{"applied_from", valid_date, 0, &msg_date_format, 10},
	{"applied_to", valid_date, 0, &msg_date_format, 10},
	{"issued_from", valid_date, 0, &msg_date_format, 10},
	{"issued_to", valid_date, 0, &msg_date_format, 10},
	{"expires_from", valid_date, 0, &msg_date_format, 10},
	{"expires_to", valid_date, 0, &msg_date_format, 10},
	{"status", lifecycle_valid_list, 0, &msg_status_list, 200},
	{"device", device_valid_list, 0, &msg_device_list, 100},
	{"sort", valid_user_sort, 0, &msg_sort, 32},
	{"deleted", valid_flag, 0, &msg_flag, 1},
};
#define NFIELDS (sizeof(fields) / sizeof(fields[0]))
#define NCOND 11 /* family_name .. device */
#define F_STATUS 9
#define F_DEVICE 10
#define F_SORT 11
#define F_DELETED 12

struct search {
	char v[NFIELDS][256]; /* decoded values; "" = not given */
	const char *params[18];
	char tenant[24];
	const struct sort_stmt *sort;
	struct keyset ks;
	char gen[100]; /* the tenant's (certq_list_gen), read before anything else */
};

static const struct sort_stmt *
sort_of(const char *sort)
{
	if (*sort == '\0')
		sort = "-applied_at";
	for (size_t i = 0; i < q_search_npages; i++)
		if (strcmp(q_search_pages[i].sort, sort) == 0)
			return &q_search_pages[i];
	return &q_search_pages[1];
}

/* A date range: from after to is refused on the _from field. */
static void
range(const struct search *s, int from, int lang, cJSON *errs)
{
	if (s->v[from][0] && s->v[from + 1][0] && strcmp(s->v[from], s->v[from + 1]) > 0)
		json_field_error(errs, fields[from].name, i18n_msg(&msg_date_range, lang));
}

/* Read and check the query; the statement parameters. 1 when errs has failures, or -errno. */
static int
parse(const char *query, int lang, cJSON *errs, long long tenant_id, struct search *s)
{
	if (valid_query(query, fields, NFIELDS, errs, lang) > 0)
		return 1;
	/* each field's maxlen fits s->v[i]: after valid_query only absence is left */
	for (size_t i = 0; i < NFIELDS; i++) {
		int rc = http_query_get(query, fields[i].name, s->v[i], sizeof(s->v[i]));
		if (rc != 0 && rc != HTTP_E_ABSENT)
			return -EINVAL;
	}
	for (int f = 3; f < 9; f += 2)
		range(s, f, lang, errs);
	if (cJSON_GetArraySize(errs) > 0)
		return 1;
	/* comma lists become array literals; their items were checked against fixed sets */
	for (int f = F_STATUS; f <= F_DEVICE; f++) {
		size_t n = strlen(s->v[f]); /* at most the field's maxlen, 200 */
		if (n == 0)
			continue;
		memmove(s->v[f] + 1, s->v[f], n);
		s->v[f][0] = '{';
		s->v[f][n + 1] = '}';
		s->v[f][n + 2] = '\0';
	}
	s->sort = sort_of(s->v[F_SORT]);
	if (keyset_read(query, (enum keyset_key)s->sort->key, lang, errs, &s->ks) > 0)
		return 1;
	snprintf(s->tenant, sizeof(s->tenant), "%lld", tenant_id);
	s->params[0] = s->tenant;
	for (int i = 0; i < NCOND; i++)
		s->params[1 + i] = s->v[i][0] ? s->v[i] : NULL;
	s->params[12] = s->ks.offset;
	s->params[13] = strcmp(s->v[F_DELETED], "1") == 0 ? "true" : "false";
	s->params[14] = "false"; /* e-mail in many users' addresses: email_many() */
	s->params[15] = keyset_key_param(&s->ks);
	s->params[16] = keyset_id_param(&s->ks);
	s->params[17] = s->ks.limit;
	return 0;
}

/* "{1,2,3}": the ids of the page's users. Caller frees. */
static char *
id_array(const PGresult *res)
{
	size_t len = 3 + (size_t)PQntuples(res) * 21;
	char *buf = malloc(len);
	struct strbuf b;

	if (buf == NULL)
		return NULL;
	strbuf_init(&b, buf, len);
	strbuf_add(&b, "{");
	for (int i = 0; i < PQntuples(res); i++)
		strbuf_printf(&b, "%s%s", i ? "," : "", db_get(res, i, "id"));
	if (strbuf_add(&b, "}") != 0 || strbuf_error(&b) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/*
 * The user id of each row of certs, read once (a page has some 400 certificates for its 100
 * users: looking the column up per pair was 40,000 lookups). Caller frees.
 */
static long long *
owners(const PGresult *certs)
{
	int n = PQntuples(certs), col = PQfnumber(certs, "user_id");
	long long *o = calloc(n > 0 ? (size_t)n : 1, sizeof(*o));

	if (o == NULL || col < 0)
		return o;
	for (int c = 0; c < n; c++)
		o[c] = strtoll(PQgetvalue(certs, c, col), NULL, 10);
	return o;
}

/* The page's items, each with all of its certificates (owner: owners()). */
static cJSON *
items(const PGresult *users, const struct keyset *ks, const PGresult *certs, const long long *owner,
      int lang)
{
	cJSON *a = cJSON_CreateArray();
	int n = PQntuples(users), shown = keyset_rows(ks, n, USERS_PER_PAGE), nc = PQntuples(certs);

	for (int j = 0; j < shown; j++) {
		int i = keyset_row(ks, n, USERS_PER_PAGE, j);
		cJSON *u = render_user(users, i), *list = cJSON_CreateArray();
		long long id = db_get_ll(users, i, "id");
		for (int c = 0; c < nc; c++)
			if (owner[c] == id)
				cJSON_AddItemToArray(list, render_certificate(certs, c, lang));
		cJSON_AddItemToObject(u, "certificates", list);
		cJSON_AddItemToArray(a, u);
	}
	return a;
}

/*
 * 1 for the statements with the semi-join: a status or device condition ($11, $12) and no date
 * of the certificates' ($7-$10) is given (queries.c).
 */
static int
with_certs(const struct search *s)
{
	for (int i = 6; i <= 9; i++)
		if (s->params[i] != NULL)
			return 0;
	return s->params[10] != NULL || s->params[11] != NULL;
}

/*
 * With an e-mail condition, whether PostgreSQL expects it in more than USERS_EMAIL_MANY addresses
 * of users and devices: then each user read is tested ($15, queries.c), else the matching users are
 * gathered first.
 */
static void
email_many(struct db *db, struct search *s)
{
	const char *p[] = {s->tenant, s->params[3]};

	if (s->params[3] != NULL && keyset_estimate(db, q_email_estimate, 2, p) > USERS_EMAIL_MANY)
		s->params[14] = "true";
}

/*
 * 1 when the page has a statement of a fixed shape (struct sort_stmt's fixed): no condition, the
 * users not deleted, a whole page (no ?page=N jump, not a short last page).
 */
static int
plain(const struct search *s)
{
	for (int i = 0; i < NCOND; i++)
		if (s->params[1 + i] != NULL)
			return 0;
	return s->sort->fixed[0][0].name != NULL && strcmp(s->params[13], "false") == 0 &&
	       strcmp(s->ks.offset, "0") == 0 && strcmp(s->ks.limit, USERS_PER_PAGE_READ_S) == 0;
}

static int
run(struct svc_thread *t, struct search *s, int lang, cJSON **out)
{
	int c = with_certs(s);
	PGresult *res = NULL, *certs = NULL;
	long long *owner = NULL;
	char *ids = NULL;
	cJSON *doc = NULL;
	long long total;
	int rc, est;

	email_many(&t->db, s);
	if ((rc = keyset_count_gen(&t->db, &t->kv, "users", s->gen, &q_search_count, 12,
				   q_search_select[c], s->params, &total, &est)) != 0)
		goto out;
	keyset_limit(&s->ks, total, est, USERS_PER_PAGE);
	s->params[12] = s->ks.offset;
	s->params[17] = s->ks.limit;
	if (plain(s)) {
		/* no condition, a whole page, an order an index keeps: planned once */
		int cursor = s->params[16] != NULL;
		const char *fp[] = {s->tenant, s->params[15], s->params[16]};
		rc = db_exec_generic(&t->db, &s->sort->fixed[cursor][keyset_reverse(&s->ks)], fp,
				     &res);
	} else {
		rc = db_exec(&t->db, keyset_reverse(&s->ks) ? &s->sort->rev[c] : &s->sort->st[c],
			     s->params, &res);
	}
	if (rc != 0)
		goto out;
	if ((ids = id_array(res)) == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	const char *p[] = {s->tenant, ids};
	if ((rc = db_exec_generic(&t->db, &q_user_certificates, p, &certs)) != 0)
		goto out;
	if ((owner = owners(certs)) == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	doc = cJSON_CreateObject();
	keyset_total(doc, total, est);
	keyset_answer(&s->ks, res, USERS_PER_PAGE, doc);
	cJSON_AddItemToObject(doc, "items", items(res, &s->ks, certs, owner, lang));
	*out = doc;
	rc = 0;
out:
	PQclear(res);
	PQclear(certs);
	free(owner);
	free(ids);
	return rc < 0 ? rc : rc > 0 ? -EIO : 0;
}

int
users_search(struct http_req *req, struct svc_thread *t)
{
	struct search *s = calloc(1, sizeof(*s));
	cJSON *errs = cJSON_CreateArray(), *doc = NULL;
	int rc = 0;

	if (s == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	if ((rc = parse(req->query, req->lang, errs, req->tenant_id, s)) < 0)
		goto out;
	if (rc > 0) {
		rc = 0;
		svc_invalid(req, errs);
		errs = NULL;
		goto out;
	}
	/* the same page asked again while nothing it shows changed: as it was (web/pagecache.h) */
	if ((rc = certq_list_gen(&t->db, s->tenant, s->gen, sizeof(s->gen))) != 0)
		goto out;
	if (pagecache_answer(&t->kv, "users", req, s->gen))
		goto out;
	if ((rc = run(t, s, req->lang, &doc)) != 0)
		goto out;
	pagecache_send(&t->kv, "users", req, s->gen, doc);
out:
	free(s);
	cJSON_Delete(errs);
	cJSON_Delete(doc);
	return rc;
}
