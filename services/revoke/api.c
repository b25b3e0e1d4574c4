/*
 * api.c: POST /api/certificates/revoke {ids, revoke_on?, reason?} and
 * POST /api/certificates/revoke/cancel {ids} (DECISIONS.md, "Revocation"). One request is one
 * transaction over rows locked FOR UPDATE: every id must be the tenant's and in a status that
 * allows the change, or nothing changes.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/json.h"
#include "core/log.h"
#include "core/strbuf.h"
#include "domain/audit.h"
#include "domain/lifecycle.h"
#include "domain/revocation.h"
#include "extern.h"

enum mode { M_NOW = REVOKE_NOW, M_SCHEDULE = REVOKE_SCHEDULE, M_CANCEL = REVOKE_CANCEL };

static int
cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return (x > y) - (x < y);
}

/* ids: an array of 1..REVOKE_IDS_MAX whole positive numbers, each once. */
static int
parse_ids(const cJSON *v, struct revoke_body *b)
{
	const cJSON *e;

	if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) < 1 ||
	    cJSON_GetArraySize(v) > REVOKE_IDS_MAX)
		return -1;
	b->n = 0;
	cJSON_ArrayForEach(e, v)
	{
		double d = e->valuedouble;
		if (!cJSON_IsNumber(e) || !isfinite(d) || d != floor(d) || d < 1 ||
		    d > 9007199254740991.0)
			return -1;
		b->ids[b->n++] = (long long)d;
	}
	qsort(b->ids, b->n, sizeof(b->ids[0]), cmp_ll);
	for (size_t i = 1; i < b->n; i++)
		if (b->ids[i] == b->ids[i - 1])
			return -1;
	return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
static long
days_from_civil(long y, long m, long d)
{
	long era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* yyyy-mm-dd, a real date: its day number, else -1. */
static long
parse_date(const char *s)
{
	static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int y, m, d;

	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return -1;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return -1;
	y = atoi(s), m = atoi(s + 5), d = atoi(s + 8);
	if (y < 1970 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
		return -1;
	if (m == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return -1;
	return days_from_civil(y, m, d);
}

/* Today's day number in Japan (UTC+9, no daylight saving). */
static long
today_jst(void)
{
	return (long)((time(NULL) + 9 * 3600) / 86400);
}

const struct i18n_text *
revoke_date_problem(const char *s)
{
	long day, diff;

	if ((day = parse_date(s)) < 0)
		return &msg_revoke_on_format;
	diff = day - today_jst();
	if (diff < 1 || diff > REVOKE_DAYS_MAX)
		return &msg_revoke_on_range;
	return NULL;
}

/* revoke_on: null/absent = now, else a date from tomorrow to REVOKE_DAYS_MAX days ahead. */
static void
check_date(const cJSON *v, struct revoke_body *b, cJSON *errs, int lang)
{
	const struct i18n_text *why = &msg_revoke_on_format;

	b->date[0] = '\0';
	if (v == NULL || cJSON_IsNull(v))
		return;
	if (!cJSON_IsString(v) || (why = revoke_date_problem(v->valuestring)) != NULL) {
		json_field_error(errs, "revoke_on", i18n_msg(why, lang));
		return;
	}
	memcpy(b->date, v->valuestring, 11);
}

void
revoke_check_body(const cJSON *body, int cancel, struct revoke_body *b, cJSON *errs, int lang)
{
	enum mode mode = cancel ? M_CANCEL : M_NOW;
	const cJSON *reason = cJSON_GetObjectItemCaseSensitive(body, "reason");

	if (parse_ids(cJSON_GetObjectItemCaseSensitive(body, "ids"), b) != 0)
		json_field_error(errs, "ids", i18n_msg(&msg_ids, lang));
	if (mode == M_CANCEL)
		return;
	check_date(cJSON_GetObjectItemCaseSensitive(body, "revoke_on"), b, errs, lang);
	b->reason = REVOCATION_UNSPECIFIED;
	if (reason != NULL && !cJSON_IsNull(reason) &&
	    (!cJSON_IsString(reason) ||
	     revocation_reason_parse(reason->valuestring, &b->reason) != 0))
		json_field_error(errs, "reason", i18n_msg(&msg_reason, lang));
}

/* One id's field error, a message with a CN or an id in it. */
static void
id_error(cJSON *errs, const struct i18n_text *m, const char *cn, long long id, int lang)
{
	char msg[512];

	if (cn != NULL)
		snprintf(msg, sizeof(msg), i18n_msg(m, lang), cn);
	else
		snprintf(msg, sizeof(msg), i18n_msg(m, lang), id);
	json_field_error(errs, "ids", msg);
}

/* The refusal for a row in status st, or NULL when mode may change it. */
static const struct i18n_text *
refusal(enum mode mode, const char *st, int due)
{
	enum lc_status from;

	if (lifecycle_parse(st, &from) != 0)
		return &msg_bad_status;
	if (mode == M_CANCEL)
		return from != LC_S_REVOKE_SCHEDULED ? &msg_not_scheduled
		       : due                         ? &msg_is_due
						     : NULL;
	if (lifecycle_may(from, mode == M_NOW ? LC_S_REVOKED : LC_S_REVOKE_SCHEDULED) == 0)
		return NULL;
	switch (from) {
	case LC_S_REVOKED:
		return &msg_is_revoked;
	case LC_S_ISSUING:
		return &msg_is_issuing;
	case LC_S_FAILED:
		return &msg_is_failed;
	case LC_S_REVOKE_SCHEDULED:
		return &msg_is_scheduled;
	default:
		return &msg_bad_status;
	}
}

/* Check the locked rows against the ids; 0 when all may change, else 404 or 409. */
static int
check_rows(const PGresult *rows, const struct revoke_body *b, enum mode mode, cJSON *errs, int lang)
{
	int missing = 0, bad = 0, r = 0, n = PQntuples(rows);

	for (size_t i = 0; i < b->n; i++) {
		while (r < n && db_get_ll(rows, r, "id") < b->ids[i])
			r++;
		if (r >= n || db_get_ll(rows, r, "id") != b->ids[i]) {
			id_error(errs, &msg_cert_not_found, NULL, b->ids[i], lang);
			missing++;
			continue;
		}
		const char *due = db_get(rows, r, "due");
		const struct i18n_text *m =
			refusal(mode, db_get(rows, r, "status"), due != NULL && *due == 't');
		if (m != NULL) {
			id_error(errs, m, db_get(rows, r, "cn"), 0, lang);
			bad++;
		}
	}
	return missing ? 404 : bad ? 409 : 0;
}

int
revoke_record(struct db *db, long long tenant_id, const char *ip, long long admin_id,
	      int scheduled_or_cancel, const PGresult *res, int r)
{
	char when[16];
	const char *on = db_get(res, r, "revoke_on");
	struct audit_entry e = {
		tenant_id, ip, admin_id ? "admin" : "system", admin_id, AUDIT_CERTIFICATE_REVOKE,
		NULL};
	struct audit_more m = {NULL, REVOCATION_CODE_CANCELLED, {db_get(res, r, "cn"), when}, 2};
	enum mode mode = (enum mode)scheduled_or_cancel;

	snprintf(when, sizeof(when), "%.4s/%.2s/%.2s", on ? on : "", on ? on + 5 : "",
		 on ? on + 8 : "");
	if (mode == M_NOW)
		m.code = REVOCATION_CODE_DONE;
	else if (mode == M_SCHEDULE)
		m.code = REVOCATION_CODE_SCHEDULED;
	return audit_write_ex(db, &e, &m);
}

/* The ids as a PostgreSQL array literal "{1,2}" (malloc'ed). */
static char *
ids_literal(const struct revoke_body *b)
{
	size_t cap = b->n * 21 + 3;
	char *s = malloc(cap);
	struct strbuf sb;

	if (s == NULL)
		return NULL;
	strbuf_init(&sb, s, cap);
	strbuf_add(&sb, "{");
	for (size_t i = 0; i < b->n; i++)
		strbuf_printf(&sb, i ? ",%lld" : "%lld", b->ids[i]);
	strbuf_add(&sb, "}");
	if (strbuf_error(&sb) != 0) {
		free(s);
		return NULL;
	}
	return s;
}

/* Run the change for checked rows; *res holds the changed rows. */
static int
change(struct db *db, enum mode mode, const struct revoke_body *b, const char *tid, const char *ids,
       PGresult **res)
{
	char reason[8];
	int rc;

	snprintf(reason, sizeof(reason), "%d", b->reason);
	const char *pnow[] = {tid, ids, reason};
	const char *psched[] = {tid, ids, b->date, reason};
	const char *pcancel[] = {tid, ids};
	if (mode == M_NOW)
		rc = db_exec(db, &q_revoke_now, pnow, res);
	else if (mode == M_SCHEDULE)
		rc = db_exec(db, &q_schedule, psched, res);
	else
		rc = db_exec(db, &q_cancel, pcancel, res);
	if (rc == 0 && (size_t)PQntuples(*res) != b->n)
		rc = -EIO; /* cannot happen under the row locks */
	return rc < 0 ? rc : rc > 0 ? -EIO : 0;
}

/* Lock, check, change, record; one transaction. *status 200, 404 or 409. */
int
revoke_apply(struct db *db, const struct revoke_who *w, int mode_, const struct revoke_body *b,
	     PGresult **out, int *status, cJSON *errs)
{
	PGresult *rows = NULL, *res = NULL;
	char tid[24], *ids = ids_literal(b);
	enum mode mode = (enum mode)mode_;
	int rc, committed = 0;

	if (ids == NULL)
		return -ENOMEM;
	snprintf(tid, sizeof(tid), "%lld", w->tenant_id);
	const char *params[] = {tid, ids};
	if ((rc = db_begin(db)) != 0 || (rc = db_exec(db, &q_lock, params, &rows)) != 0)
		goto out;
	if ((*status = check_rows(rows, b, mode, errs, w->lang)) != 0)
		goto out;
	if ((rc = change(db, mode, b, tid, ids, &res)) != 0)
		goto out;
	for (int r = 0; r < PQntuples(res); r++)
		if ((rc = revoke_record(db, w->tenant_id, w->ip, w->admin_id, (int)mode, res, r)) !=
		    0)
			goto out;
	if (mode == M_NOW && (rc = revocation_notify(db, w->tenant_id)) != 0)
		goto out;
	if ((rc = db_commit(db)) != 0)
		goto out;
	committed = 1;
	if (mode == M_NOW)
		ocsp_cache_bump(); /* before the answer: the next OCSP answer here says revoked */
	*status = 200;
	*out = res;
	res = NULL;
out:
	if (!committed)
		db_rollback(db);
	PQclear(rows);
	PQclear(res);
	free(ids);
	return rc < 0 ? rc : rc > 0 ? -EIO : 0;
}

void
revoke_answer(struct http_req *req, const PGresult *res)
{
	cJSON *doc = cJSON_CreateObject(), *items = cJSON_AddArrayToObject(doc, "items");

	cJSON_AddNumberToObject(doc, "count", PQntuples(res));
	for (int r = 0; r < PQntuples(res); r++) {
		cJSON *o = cJSON_CreateObject();
		const char *st = db_get(res, r, "status"), *v;
		cJSON_AddNumberToObject(o, "id", (double)db_get_ll(res, r, "id"));
		cJSON_AddStringToObject(o, "cn", db_get(res, r, "cn"));
		cJSON_AddStringToObject(o, "status", st);
		cJSON_AddStringToObject(o, "status_label", lifecycle_label(st, req->lang));
		if ((v = db_get(res, r, "revoked_at")) != NULL)
			cJSON_AddStringToObject(o, "revoked_at", v);
		if ((v = db_get(res, r, "revoke_on")) != NULL)
			cJSON_AddStringToObject(o, "revoke_on", v);
		if ((v = db_get(res, r, "revocation_reason")) != NULL)
			cJSON_AddStringToObject(o, "reason", revocation_reason_word(atoi(v)));
		cJSON_AddItemToArray(items, o);
	}
	http_json(req, 200, doc);
	cJSON_Delete(doc);
}

static int
handle(struct http_req *req, struct svc_thread *t, int cancel)
{
	cJSON *body = NULL, *errs = cJSON_CreateArray();
	struct revoke_body *b = calloc(1, sizeof(*b));
	PGresult *res = NULL;
	enum mode mode = cancel ? M_CANCEL : M_NOW;
	int status = 0, rc = 0;

	if (b == NULL || errs == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	if (json_parse_object(req->body, req->body_len, &body) != 0) {
		svc_fail(req, 400, "bad_json", &msg_bad_json);
		goto out;
	}
	revoke_check_body(body, cancel, b, errs, req->lang);
	if (cJSON_GetArraySize(errs) > 0) {
		svc_invalid(req, errs);
		errs = NULL;
		goto out;
	}
	if (!cancel && b->date[0] != '\0')
		mode = M_SCHEDULE;
	struct revoke_who w = {req->tenant_id, req->remote_addr, req->admin_id, req->lang};
	if ((rc = revoke_apply(&t->db, &w, mode, b, &res, &status, errs)) != 0)
		goto out;
	if (status != 200) {
		revoke_refuse(req, status, errs);
		errs = NULL;
		goto out;
	}
	log_msg(LOG_INFO, "event=%s tenant=%lld admin=%lld count=%zu on=%s reason=%d",
		mode == M_NOW        ? "revoked"
		: mode == M_SCHEDULE ? "revoke_scheduled"
				     : "revoke_cancelled",
		req->tenant_id, req->admin_id, b->n, b->date[0] ? b->date : "now", b->reason);
	revoke_answer(req, res);
out:
	PQclear(res);
	cJSON_Delete(body);
	cJSON_Delete(errs);
	free(b);
	return rc;
}

void
revoke_refuse(struct http_req *req, int status, cJSON *errs)
{
	http_error(req, status, status == 404 ? "not_found" : "invalid_status",
		   i18n_msg(status == 404 ? &msg_some_not_found : &msg_bad_status, req->lang),
		   errs);
}

int
revoke_post(struct http_req *req, struct svc_thread *t)
{
	return handle(req, t, 0);
}

int
revoke_cancel(struct http_req *req, struct svc_thread *t)
{
	return handle(req, t, 1);
}
