/*
 * reissue.c: 再発行 (NRA 6-1): POST /api/certificates/reissue {ids, revoke_on?, o?, ou1?, ou2?,
 * valid_from?, valid_to?, restriction?}, and reissue_apply(), which CSV一括再発行 (rcsv.c) shares.
 * One transaction under the tenant's lock and the rows' locks: every old certificate still valid
 * is revoked (now, or scheduled for 00:00 JST of revoke_on) exactly as revoke does it, marked
 * superseded, and a new `issuing` row for the same user, device, common name and number is queued
 * for the issuance workers (DECISIONS.md, "Reissue").
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/json.h"
#include "core/log.h"
#include "core/strbuf.h"
#include "domain/audit.h"
#include "domain/certq.h"
#include "domain/lifecycle.h"
#include "domain/notice.h"
#include "domain/revocation.h"
#include "domain/tenant.h"
#include "extern.h"
#include "web/valid.h"

#define JST_OFFSET (9 * 3600)

/* clang-format off */
/* $1 tenant, $2 ids: the rows with what a reissue needs, locked */
static const struct db_stmt q_rlock = {
	"reissue_lock",
	"SELECT c.id, c.cn, c.status, c.user_id, c.device_id, c.number, c.email,"
	" c.superseded_at IS NOT NULL AS superseded, coalesce(c.revoke_on <= now(), false) AS due,"
	" d.device_code, coalesce(u.deleted_at IS NOT NULL OR u.purged_at IS NOT NULL, false) AS gone"
	" FROM certificates c"
	" LEFT JOIN devices d ON d.id = c.device_id AND d.tenant_id = c.tenant_id"
	" LEFT JOIN users u ON u.id = c.user_id AND u.tenant_id = c.tenant_id"
	" WHERE c.tenant_id = $1::bigint AND c.id = ANY ($2::bigint[]) ORDER BY c.id FOR UPDATE OF c",
	2,
};

/* $1 tenant: the features and validity limits a reissue's fields are checked against */
static const struct db_stmt q_rtenant = {
	"reissue_tenant",
	"SELECT array_to_string(t.features, ',') AS features, t.default_validity_days,"
	" t.max_validity_days, t.max_start_ahead_days FROM tenants t WHERE t.id = $1::bigint",
	1,
};

/* $1 tenant, $2 device, $3-$5 O/OU1/OU2 (NULL keeps), $6 period given, $7/$8 from/to,
 * $9 restriction given, $10 mode, $11-$14 items. A period that has ended is dropped. */
static const struct db_stmt q_device = {
	"reissue_device",
	"UPDATE devices d SET o = coalesce($3, d.o), ou1 = coalesce($4, d.ou1),"
	" ou2 = coalesce($5, d.ou2),"
	" valid_from = CASE WHEN $6::boolean THEN $7::timestamptz"
	"  WHEN d.valid_to <= now() THEN NULL ELSE d.valid_from END,"
	" valid_to = CASE WHEN $6::boolean THEN $8::timestamptz"
	"  WHEN d.valid_to <= now() THEN NULL ELSE d.valid_to END,"
	" restriction_mode = CASE WHEN $9::boolean THEN $10 ELSE d.restriction_mode END,"
	" restrict_mac = CASE WHEN $9::boolean THEN $11 ELSE d.restrict_mac END,"
	" restrict_computer = CASE WHEN $9::boolean THEN $12 ELSE d.restrict_computer END,"
	" restrict_login_user = CASE WHEN $9::boolean THEN $13 ELSE d.restrict_login_user END,"
	" restrict_bios_serial = CASE WHEN $9::boolean THEN $14 ELSE d.restrict_bios_serial END"
	" WHERE d.tenant_id = $1::bigint AND d.id = $2::bigint",
	14,
};
/* clang-format on */

int
reissue_tenant(struct db *db, long long tenant_id, struct reissue_tenant *out)
{
	char tid[24];
	const char *p[] = {tid};
	PGresult *res = NULL;
	const char *f;
	int rc;

	snprintf(tid, sizeof(tid), "%lld", tenant_id);
	if ((rc = db_exec(db, &q_rtenant, p, &res)) != 0)
		return rc < 0 ? rc : -EIO;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return DB_E_NOTFOUND;
	}
	memset(out, 0, sizeof(*out));
	f = db_get(res, 0, "features");
	for (int i = 0; i < FEAT__MAX; i++) {
		const char *w = tenant_feature_name((enum tenant_feature)i);
		const char *s = f ? strstr(f, w) : NULL;
		size_t n = strlen(w);
		if (s != NULL && (s == f || s[-1] == ',') && (s[n] == '\0' || s[n] == ','))
			out->features |= 1u << i;
	}
	out->default_days = (int)db_get_ll(res, 0, "default_validity_days");
	out->max_days = (int)db_get_ll(res, 0, "max_validity_days");
	out->start_ahead_days = (int)db_get_ll(res, 0, "max_start_ahead_days");
	PQclear(res);
	return 0;
}

/* yyyy/mm/dd[ hh:mm] in JST as epoch seconds; a date alone is its first or its last second. */
static time_t
jst_epoch(const char *v, int end_of_day)
{
	int y, mo, d, h, mi;
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	valid_parse_datetime(v, &y, &mo, &d, &h, &mi);
	tm.tm_year = y - 1900, tm.tm_mon = mo - 1, tm.tm_mday = d, tm.tm_hour = h, tm.tm_min = mi;
	if (strlen(v) == 10 && end_of_day)
		tm.tm_hour = 23, tm.tm_min = 59, tm.tm_sec = 59;
	return timegm(&tm) - JST_OFFSET;
}

static void
jst_text(time_t t, char *buf, size_t len)
{
	time_t local = t + JST_OFFSET;
	struct tm tm;

	gmtime_r(&local, &tm);
	strftime(buf, len, "%Y-%m-%d %H:%M:%S+09", &tm);
}

/* A string member: NULL when absent, null or ""; *bad when it is something else. */
static const char *
opt_str(const cJSON *obj, const char *name, int *bad)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);

	*bad = 0;
	if (v == NULL || cJSON_IsNull(v))
		return NULL;
	if (!cJSON_IsString(v)) {
		*bad = 1;
		return NULL;
	}
	return v->valuestring[0] ? v->valuestring : NULL;
}

/* One field: refused without its feature, else checked by fn. 1 when it failed. */
static int
field(const char *name, const char *v, int bad, int has, int (*fn)(const char *),
      const struct i18n_text *m, int lang, cJSON *errs)
{
	if ((v != NULL || bad) && !has) {
		json_field_error(errs, name, i18n_msg(&msg_reissue_feature, lang));
		return 1;
	}
	if (bad || (v != NULL && fn(v) != 0)) {
		json_field_error(errs, name, i18n_msg(m, lang));
		return 1;
	}
	return 0;
}

/* From before To, To ahead, From not too far ahead, the span within the tenant's limit. */
static int
period(struct reissue_fields *f, const struct reissue_tenant *tn, time_t now, int lang, cJSON *errs)
{
	time_t from = f->from_in ? jst_epoch(f->from_in, 0) : now;
	time_t to = f->to_in ? jst_epoch(f->to_in, 1) : from + (time_t)tn->default_days * 86400;
	const char *end = f->to_in ? "valid_to" : "valid_from";
	const struct i18n_text *m = NULL;
	const char *where = end;

	if (f->from_in && f->to_in && from >= to)
		m = &msg_reissue_order, where = "valid_from";
	else if (f->from_in && from > now + (time_t)tn->start_ahead_days * 86400)
		m = &msg_reissue_ahead, where = "valid_from";
	else if (to <= now)
		m = &msg_reissue_past;
	else if (to - from > (time_t)tn->max_days * 86400)
		m = &msg_reissue_span;
	if (m != NULL) {
		json_field_error(errs, where, i18n_msg(m, lang));
		return 1;
	}
	f->period = 1;
	if (f->from_in)
		jst_text(from, f->from, sizeof(f->from));
	if (f->to_in)
		jst_text(to, f->to, sizeof(f->to));
	return 0;
}

static int
restriction(const cJSON *r, struct reissue_fields *f, int has, int lang, cJSON *errs)
{
	static const char *const items[] = {"mac", "computer", "login_user", "bios_serial"};
	int bad = 0, b;

	if (r == NULL || cJSON_IsNull(r))
		return 0;
	if (!has) {
		json_field_error(errs, "restriction", i18n_msg(&msg_reissue_feature, lang));
		return 1;
	}
	if (!cJSON_IsObject(r)) {
		json_field_error(errs, "restriction", i18n_msg(&msg_reissue_restriction, lang));
		return 1;
	}
	f->mode = opt_str(r, "mode", &b);
	if (b || f->mode == NULL || valid_restriction_mode(f->mode) != 0) {
		json_field_error(errs, "restriction.mode",
				 i18n_msg(&msg_reissue_restriction, lang));
		bad++;
	}
	for (int i = 0; i < 4; i++) {
		char name[40];
		f->item[i] = opt_str(r, items[i], &b);
		snprintf(name, sizeof(name), "restriction.%s", items[i]);
		if (b ||
		    (f->item[i] != NULL &&
		     (i == 0 ? valid_mac(f->item[i]) : valid_restriction_item(f->item[i])) != 0)) {
			json_field_error(errs, name, i18n_msg(&msg_reissue_restriction, lang));
			bad++;
		}
	}
	if (!bad && strcmp(f->mode, "none") != 0 && !f->item[0] && !f->item[1] && !f->item[2] &&
	    !f->item[3]) {
		json_field_error(errs, "restriction", i18n_msg(&msg_reissue_restriction, lang));
		bad++;
	}
	f->restricted = !bad;
	return bad;
}

int
reissue_check_fields(const cJSON *body, const struct reissue_tenant *tn, int lang, cJSON *errs,
		     struct reissue_fields *f)
{
	static const char *const ou[] = {"o", "ou1", "ou2"};
	int bad = 0, b, orgs = (tn->features & (1u << FEAT_ORG_UNITS)) != 0;
	int period_ok = (tn->features & (1u << FEAT_VALIDITY_PERIOD)) != 0;

	memset(f, 0, sizeof(*f));
	for (int i = 0; i < 3; i++) {
		f->ou[i] = opt_str(body, ou[i], &b);
		bad += field(ou[i], f->ou[i], b, orgs, valid_org_unit, &msg_reissue_org_unit, lang,
			     errs);
	}
	f->from_in = opt_str(body, "valid_from", &b);
	int fb = field("valid_from", f->from_in, b, period_ok, valid_datetime,
		       &msg_reissue_datetime, lang, errs);
	f->to_in = opt_str(body, "valid_to", &b);
	int tb = field("valid_to", f->to_in, b, period_ok, valid_datetime, &msg_reissue_datetime,
		       lang, errs);
	bad += fb + tb;
	if (!fb && !tb && (f->from_in || f->to_in))
		bad += period(f, tn, time(NULL), lang, errs);
	bad += restriction(cJSON_GetObjectItemCaseSensitive(body, "restriction"), f,
			   (tn->features & (1u << FEAT_INSTALL_RESTRICTION)) != 0, lang, errs);
	f->any = f->ou[0] || f->ou[1] || f->ou[2] || f->period || f->restricted;
	return bad;
}

/* The ids as a PostgreSQL array literal "{1,2}" into a malloc'ed string (skip: ids left out). */
static char *
ids_lit(const long long *ids, size_t n)
{
	size_t cap = n * 21 + 3;
	char *s = malloc(cap);
	struct strbuf sb;

	if (s == NULL)
		return NULL;
	strbuf_init(&sb, s, cap);
	strbuf_add(&sb, "{");
	for (size_t i = 0; i < n; i++)
		strbuf_printf(&sb, i ? ",%lld" : "%lld", ids[i]);
	strbuf_add(&sb, "}");
	if (strbuf_error(&sb) != 0) {
		free(s);
		return NULL;
	}
	return s;
}

static void
id_error(cJSON *errs, const struct reissue_item *it, const struct i18n_text *m, const char *cn,
	 int lang)
{
	char msg[512];

	if (cn != NULL)
		snprintf(msg, sizeof(msg), i18n_msg(m, lang), cn);
	else
		snprintf(msg, sizeof(msg), i18n_msg(m, lang), it->id);
	if (it->line > 0) {
		cJSON *e = cJSON_CreateObject();
		cJSON_AddNumberToObject(e, "line", it->line);
		cJSON_AddStringToObject(
			e, "field", lang == I18N_EN ? "Main e-mail address" : "代表メールアドレス");
		cJSON_AddStringToObject(e, "message", msg);
		cJSON_AddItemToArray(errs, e);
	} else {
		json_field_error(errs, "ids", msg);
	}
}

/* Why row r (of item it) cannot be reissued, or NULL. */
static const struct i18n_text *
refusal(const PGresult *rows, int r, const struct reissue_item *it, int scheduled)
{
	const char *st = db_get(rows, r, "status"), *v;
	enum lc_status s;

	if (lifecycle_parse(st, &s) != 0)
		return &msg_bad_status;
	if ((v = db_get(rows, r, "superseded")) != NULL && *v == 't')
		return &msg_reissue_superseded;
	if ((v = db_get(rows, r, "gone")) != NULL && *v == 't')
		return &msg_reissue_user_gone;
	if (s == LC_S_ISSUING)
		return &msg_reissue_issuing;
	if (s == LC_S_FAILED)
		return &msg_is_failed;
	if (s == LC_S_REVOKE_SCHEDULED &&
	    (scheduled || ((v = db_get(rows, r, "due")) && *v == 't')))
		return &msg_is_scheduled;
	if (it->f != NULL && it->f->any && db_get(rows, r, "device_id") == NULL)
		return &msg_reissue_numbered;
	if (it->f != NULL && it->f->restricted &&
	    ((v = db_get(rows, r, "device_code")) == NULL || strcmp(v, "01") != 0))
		return &msg_reissue_not_pc;
	return NULL;
}

/* Check every locked row against the items; *need: the licences the revoked ones take. */
static int
check_rows(const PGresult *rows, struct reissue_req *rq, const struct revoke_who *w, cJSON *errs,
	   long long *need)
{
	int missing = 0, bad = 0, n = PQntuples(rows), r = 0;

	*need = 0;
	for (size_t i = 0; i < rq->n; i++) {
		struct reissue_item *it = &rq->items[i];
		const struct i18n_text *m;

		it->row = -1;
		while (r < n && db_get_ll(rows, r, "id") < it->id)
			r++;
		if (r >= n || db_get_ll(rows, r, "id") != it->id) {
			id_error(errs, it, &msg_cert_not_found, NULL, w->lang);
			missing++;
			continue;
		}
		if ((m = refusal(rows, r, it, rq->date[0] != '\0')) != NULL) {
			if (rq->lenient && m == &msg_reissue_superseded)
				continue; /* a job resumed, or reissued meanwhile: done already */
			id_error(errs, it, m, db_get(rows, r, "cn"), w->lang);
			bad++;
			continue;
		}
		it->row = r;
		*need += strcmp(db_get(rows, r, "status"), LC_REVOKED) == 0;
	}
	return missing ? 404 : bad ? 409 : 0;
}

/* Revoke (now or on the date) the rows still valid; history entries as revoke writes them. */
static int
revoke_old(struct db *db, const struct revoke_who *w, const struct reissue_req *rq,
	   const PGresult *rows, const char *tid)
{
	long long *ids = calloc(rq->n + 1, sizeof(*ids));
	size_t k = 0;
	char *lit = NULL, reason[8];
	PGresult *res = NULL;
	int rc = 0;

	if (ids == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < rq->n; i++)
		if (rq->items[i].row >= 0 &&
		    lifecycle_has(db_get(rows, rq->items[i].row, "status"), LC_F_VALID))
			ids[k++] = rq->items[i].id;
	if (k == 0)
		goto out;
	if ((lit = ids_lit(ids, k)) == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	snprintf(reason, sizeof(reason), "%d", REVOCATION_SUPERSEDED);
	const char *pnow[] = {tid, lit, reason};
	const char *psched[] = {tid, lit, rq->date, reason};
	if ((rc = db_exec(db, rq->date[0] ? &q_schedule : &q_revoke_now,
			  rq->date[0] ? psched : pnow, &res)) != 0)
		goto out;
	if ((size_t)PQntuples(res) != k) {
		rc = -EIO; /* cannot happen under the row locks */
		goto out;
	}
	for (int r = 0; r < PQntuples(res) && rc == 0; r++)
		rc = revoke_record(db, w->tenant_id, w->ip, w->admin_id,
				   rq->date[0] ? REVOKE_SCHEDULE : REVOKE_NOW, res, r);
	if (rc == 0 && !rq->date[0])
		rc = revocation_notify(db, w->tenant_id);
out:
	PQclear(res);
	free(lit);
	free(ids);
	return rc < 0 ? rc : rc > 0 ? -EIO : 0;
}

/* The device's O/OU, period and restriction, as the item asks. */
static int
update_device(struct db *db, const char *tid, const char *did, const struct reissue_fields *f)
{
	const char *p[] = {tid,
			   did,
			   f->ou[0],
			   f->ou[1],
			   f->ou[2],
			   f->period ? "true" : "false",
			   f->from[0] ? f->from : NULL,
			   f->to[0] ? f->to : NULL,
			   f->restricted ? "true" : "false",
			   f->mode,
			   f->item[0],
			   f->item[1],
			   f->item[2],
			   f->item[3]};
	char mac[13] = "";
	PGresult *res = NULL;
	int rc;

	if (f->item[0] != NULL) { /* stored in upper case, as registration stores it */
		for (int i = 0; i < 12 && f->item[0][i]; i++)
			mac[i] = (char)(f->item[0][i] >= 'a' && f->item[0][i] <= 'f'
						? f->item[0][i] - 32
						: f->item[0][i]);
		p[10] = mac;
	}
	rc = db_exec(db, &q_device, p, &res);
	PQclear(res);
	return rc < 0 ? rc : rc > 0 ? -EIO : 0;
}

/* Supersede each old row and queue its new one (certq_replace), one 証明書再発行 entry each. */
static int
queue_new(struct db *db, const struct revoke_who *w, struct reissue_req *rq, const PGresult *rows,
	  const char *tid, const char *key_type)
{
	char when[16];
	int rc = 0;

	snprintf(when, sizeof(when), "%.4s/%.2s/%.2s", rq->date, rq->date + 5, rq->date + 8);
	for (size_t i = 0; i < rq->n && rc == 0; i++) {
		struct reissue_item *it = &rq->items[i];
		int r = it->row;
		if (r < 0)
			continue;
		const char *num = db_get(rows, r, "number"), *did = db_get(rows, r, "device_id");
		int was_revoked = strcmp(db_get(rows, r, "status"), LC_REVOKED) == 0;
		struct certq_row nr = {
			.tenant_id = w->tenant_id,
			.user_id = db_get(rows, r, "user_id") ? db_get_ll(rows, r, "user_id") : 0,
			.device_id = did ? db_get_ll(rows, r, "device_id") : 0,
			.job_id = rq->job_id,
			.replaces_id = it->id,
			.number = num ? atoi(num) : 0,
			.cn = db_get(rows, r, "cn"),
			.email = db_get(rows, r, "email"),
			.key_type = key_type,
			.requested_by = w->admin_id,
			.requested_ip = w->ip,
		};
		if (did != NULL && it->f != NULL && it->f->any &&
		    (rc = update_device(db, tid, did, it->f)) != 0)
			break;
		/* DB_E_CONFLICT cannot happen: the row is locked and was checked not superseded */
		if ((rc = certq_replace(db, &nr, &it->new_id)) != 0)
			break;
		/* the detail as audit.c's code "cert_reissue", rendered in the viewer's language */
		struct audit_entry e = {w->tenant_id,
					w->ip,
					w->admin_id ? "admin" : "system",
					w->admin_id,
					AUDIT_CERTIFICATE_REISSUE,
					NULL};
		struct audit_more m = {NULL,
				       "cert_reissue",
				       {nr.cn, was_revoked   ? AUDIT_WORD("already_revoked")
					       : rq->date[0] ? when
							     : AUDIT_WORD("now")},
				       2};
		rc = audit_write_ex(db, &e, &m);
	}
	return rc < 0 ? rc : rc > 0 ? -EIO : 0;
}

/* The reissued certificates' CNs, one a line, in the administrators' 電子証明書再発行通知. */
static int
notify_admins(struct db *db, long long tenant_id, const PGresult *rows)
{
	size_t len = 1, at = 0;
	char *items;
	int rc, n = PQntuples(rows);

	for (int r = 0; r < n; r++)
		len += (size_t)PQgetlength(rows, r, 1) + 1;
	if ((items = malloc(len)) == NULL)
		return -ENOMEM;
	items[0] = '\0';
	for (int r = 0; r < n; r++) {
		size_t l = (size_t)PQgetlength(rows, r, 1);
		if (r)
			items[at++] = '\n';
		memcpy(items + at, PQgetvalue(rows, r, 1), l);
		at += l;
		items[at] = '\0';
	}
	rc = notice_reissue_accepted(db, tenant_id, n, items, 0);
	free(items);
	return rc;
}

int
reissue_apply(struct db *db, const struct revoke_who *w, struct reissue_req *rq, int *status,
	      cJSON *errs)
{
	PGresult *rows = NULL;
	struct certq_quota q;
	long long *ids = calloc(rq->n + 1, sizeof(*ids)), need = 0;
	char tid[24], *lit = NULL, msg[256];
	int rc, committed = 0;

	if (ids == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < rq->n; i++)
		ids[i] = rq->items[i].id;
	if ((lit = ids_lit(ids, rq->n)) == NULL) {
		free(ids);
		return -ENOMEM;
	}
	snprintf(tid, sizeof(tid), "%lld", w->tenant_id);
	const char *p[] = {tid, lit};
	/*
	 * The rows first, then the tenant (its counts come after both locks). Not the other way
	 * round: a revocation holding a row inserts its history entry, whose foreign key takes a
	 * share lock on the tenant row, and would wait for us while we wait for its row.
	 */
	if ((rc = db_begin(db)) != 0 || (rc = db_exec(db, &q_rlock, p, &rows)) != 0)
		goto out;
	if ((*status = check_rows(rows, rq, w, errs, &need)) != 0)
		goto out;
	if ((rc = certq_lock(db, w->tenant_id, &q)) != 0)
		goto out;
	if (need > q.available) {
		snprintf(msg, sizeof(msg), i18n_msg(&msg_reissue_quota, w->lang), need,
			 q.available);
		json_field_error(errs, "ids", msg);
		*status = 422;
		goto out;
	}
	if ((rc = revoke_old(db, w, rq, rows, tid)) != 0 ||
	    (rc = queue_new(db, w, rq, rows, tid, q.key_type)) != 0)
		goto out;
	if (rq->job_id > 0 && (rc = jobs_progress(db, rq->job_id, rq->progress)) != 0)
		goto out;
	/* 電子証明書再発行通知 to the administrators (a CSV job's comes once, when the job ends) */
	if (rq->job_id <= 0 && (rc = notify_admins(db, w->tenant_id, rows)) != 0)
		goto out;
	if ((rc = db_commit(db)) != 0)
		goto out;
	committed = 1;
	ocsp_cache_bump(); /* the old certificates revoked now: no kept answer may say good */
	*status = 200;
out:
	if (!committed)
		db_rollback(db);
	PQclear(rows);
	free(lit);
	free(ids);
	return rc < 0 ? rc : rc > 0 ? -EIO : 0;
}

static int
cmp_item(const void *a, const void *b)
{
	long long x = ((const struct reissue_item *)a)->id,
		  y = ((const struct reissue_item *)b)->id;

	return (x > y) - (x < y);
}

void
reissue_sort(struct reissue_req *rq)
{
	qsort(rq->items, rq->n, sizeof(rq->items[0]), cmp_item);
}

static void
answer(struct http_req *req, const struct reissue_req *rq)
{
	cJSON *doc = cJSON_CreateObject(), *items = cJSON_AddArrayToObject(doc, "items");

	cJSON_AddNumberToObject(doc, "count", (double)rq->n);
	cJSON_AddStringToObject(doc, "revoke_on", rq->date);
	for (size_t i = 0; i < rq->n; i++) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "id", (double)rq->items[i].id);
		cJSON_AddNumberToObject(o, "new_id", (double)rq->items[i].new_id);
		cJSON_AddItemToArray(items, o);
	}
	http_json(req, 200, doc);
	cJSON_Delete(doc);
}

int
reissue_post(struct http_req *req, struct svc_thread *t)
{
	cJSON *body = NULL, *errs = cJSON_CreateArray();
	struct revoke_body *b = calloc(1, sizeof(*b));
	struct reissue_item *items = NULL;
	struct reissue_fields f;
	struct reissue_tenant tn;
	struct reissue_req rq = {0};
	int status = 0, rc = 0;

	if (b == NULL || errs == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	if (json_parse_object(req->body, req->body_len, &body) != 0) {
		svc_fail(req, 400, "bad_json", &msg_bad_json);
		goto out;
	}
	if ((rc = reissue_tenant(&t->db, req->tenant_id, &tn)) != 0)
		goto out;
	revoke_check_body(body, 0, b, errs, req->lang);
	reissue_check_fields(body, &tn, req->lang, errs, &f);
	if (cJSON_GetArraySize(errs) > 0) {
		svc_invalid(req, errs);
		errs = NULL;
		goto out;
	}
	if ((items = calloc(b->n, sizeof(*items))) == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < b->n; i++)
		items[i].id = b->ids[i], items[i].f = &f;
	rq.items = items, rq.n = b->n;
	memcpy(rq.date, b->date, sizeof(rq.date));
	struct revoke_who w = {req->tenant_id, req->remote_addr, req->admin_id, req->lang};
	if ((rc = reissue_apply(&t->db, &w, &rq, &status, errs)) != 0)
		goto out;
	if (status != 200) {
		if (status == 422)
			http_error(req, 422, "quota", i18n_msg(&msg_reissue_quota_short, req->lang),
				   errs);
		else
			revoke_refuse(req, status, errs);
		errs = NULL;
		goto out;
	}
	certq_wake(&t->kv, req->tenant_id);
	log_msg(LOG_INFO, "event=reissued tenant=%lld admin=%lld count=%zu on=%s", req->tenant_id,
		req->admin_id, b->n, b->date[0] ? b->date : "now");
	answer(req, &rq);
out:
	cJSON_Delete(body);
	cJSON_Delete(errs);
	free(items);
	free(b);
	return rc;
}
