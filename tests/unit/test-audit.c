/*
 * test-audit.c: the operation history. Without a server: writing and listing on a dead
 * connection give -EIO and leave the output alone. With SHOMEI_TEST_DB, on a scratch schema:
 * what an entry stores, entries refused, the transaction it joins, and the list document with
 * its filters (JST dates, action, text), paging, ordering, labels and cached totals.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "domain/audit.h"
#include "web/i18n.h"
#include "db-fixture.h"
#include "tap.h"

static void
test_dead(void)
{
	static const struct audit_entry entries[] = {
		{1, "192.0.2.1", "admin", 5, AUDIT_LOGIN, "ログイン成功"},
		{1, NULL, "system", 0, AUDIT_CERTIFICATE_ISSUE, NULL},
		{1, "", "user", 0, AUDIT_CERTIFICATE_DOWNLOAD, ""},
	};
	static const struct keyset p1 = {.page = 1, .offset = "0", .limit = "101"};
	static const struct keyset p3 = {.page = 3, .offset = "200", .limit = "101"};
	static const struct audit_filter filters[] = {
		{NULL, NULL, NULL, NULL, &p1},
		{"2026/01/01", "2026/01/31", NULL, NULL, &p1},
		{NULL, NULL, "login", "x", &p3},
	};
	struct db db;
	cJSON *out;
	int all = 1;

	db_init(&db, DEAD_DB);
	for (size_t i = 0; i < sizeof(entries) / sizeof(entries[0]); i++)
		TAP_OK(audit_write(&db, &entries[i]) == -EIO && db.conn == NULL,
		       "audit_write %zu on a dead connection: -EIO", i);
	for (size_t i = 0; i < sizeof(filters) / sizeof(filters[0]); i++) {
		out = (cJSON *)&db; /* any pointer: it must stay as it was */
		TAP_OK(audit_list(&db, 1, &filters[i], I18N_JA, &out) == -EIO &&
			       out == (cJSON *)&db,
		       "audit_list %zu on a dead connection: -EIO, *out untouched", i);
	}
	for (int i = 0; i < 30 && all; i++) {
		out = NULL;
		all = audit_write(&db, &entries[0]) == -EIO &&
		      audit_list(&db, 1, &filters[1], I18N_EN, &out) == -EIO && out == NULL;
	}
	TAP_OK(all, "30 rounds of both: -EIO each time (leak check)");
	db_done(&db);
}

/* audit_text: what a detail may quote of text a client sent. */
static void
test_text(void)
{
	static const struct {
		const char *in;
		size_t max;
		const char *want;
	} cases[] = {
		{"", 64, ""},
		{"user@example.com", 64, "user@example.com"},
		{"abc", 3, "abc"},
		{"abcd", 3, "abc\xe2\x80\xa6"},
		{"あいうえ", 2, "あい…"},
		{"aあ", 1, "a…"},
		{"a\tb\r\nc\x7f", 64, "a?b??c?"},
		{"\x1b[31mred", 64, "?[31mred"},
		{"c1\xc2\x85x\xc2\x9fy\xc2\xa0z", 64, "c1?x?y\xc2\xa0z"}, /* NEL, APC; NBSP kept */
		{"bad\xff\xfeutf8", 64, "bad??utf8"},
		{"cut\xe3\x81", 64, "cut??"},                      /* a character cut short */
		{"over\xc0\xafx\xe0\x80\xafy", 64, "over??x???y"}, /* overlong forms */
		{"sur\xed\xa0\x80x", 64, "sur???x"},               /* a surrogate */
		{"hi\xf4\x90\x80\x80", 64, "hi????"},              /* past U+10FFFF */
		{"emoji\xf0\x9f\x94\x91", 64, "emoji\xf0\x9f\x94\x91"},
		{"\xe2\x80\xae bidi", 64, "\xe2\x80\xae bidi"}, /* not a control character: kept */
	};
	char buf[AUDIT_TEXT_SIZE(AUDIT_TEXT_MAX)], big[400], small[8];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		audit_text(buf, sizeof(buf), cases[i].in, cases[i].max);
		TAP_STREQ(buf, cases[i].want, "audit_text case %zu", i);
	}
	audit_text(buf, sizeof(buf), NULL, 64);
	TAP_STREQ(buf, "", "audit_text: NULL gives \"\"");
	/* 300 characters of three bytes: 64 kept, then …, in the size the macro gives */
	for (int i = 0; i < 300; i++)
		memcpy(big + 3 * i % 390, "あ", 3);
	big[390] = '\0';
	audit_text(buf, sizeof(buf), big, AUDIT_TEXT_MAX);
	TAP_OK(strlen(buf) == 64 * 3 + 3 && strcmp(buf + 64 * 3, "…") == 0,
	       "audit_text: 130 three-byte characters cut to 64 and …");
	/* a buffer too small cuts on a character boundary, still with … and the NUL */
	audit_text(small, sizeof(small), "あいう", 64);
	TAP_STREQ(small, "あ…", "audit_text: an 8-byte buffer holds one character and …");
	audit_text(small, 4, "abcdef", 64);
	TAP_STREQ(small, "…", "audit_text: 4 bytes hold … alone when more than 3 follow");
	audit_text(small, 4, "abc", 64);
	TAP_STREQ(small, "abc", "audit_text: 4 bytes hold \"abc\", nothing more following");
	audit_text(small, 3, "abc", 64);
	TAP_STREQ(small, "ab", "audit_text: 3 bytes: no room for …, cut without it");
	audit_text(small, 1, "abc", 64);
	TAP_STREQ(small, "", "audit_text: 1 byte: the empty string");
}

/* ---- against SHOMEI_TEST_DB ---- */

static long long
tenant(struct db *db, const char *slug)
{
	const char *p[] = {slug};

	return sql_ll(db,
		      "INSERT INTO tenants (slug, name, name_en) VALUES ($1, $1, $1) RETURNING id",
		      1, p);
}

/* An entry at a given time (timestamptz text). */
static int
entry_at(struct db *db, long long t, const char *at, const char *action, const char *detail)
{
	char tid[24];

	snprintf(tid, sizeof(tid), "%lld", t);
	const char *p[] = {tid, at, action, detail};
	return sql_run(db,
		       "INSERT INTO audit (tenant_id, at, actor_kind, action, detail)"
		       " VALUES ($1::bigint, $2::timestamptz, 'system', $3, $4)",
		       4, p);
}

static const cJSON *
item(const cJSON *doc, int i)
{
	return cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(doc, "items"), i);
}

static const char *
field(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double
num(const cJSON *doc, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, name);

	return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

static int
nitems(const cJSON *doc)
{
	return cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(doc, "items"));
}

/* audit_list into a document (NULL on failure). */
static cJSON *
list(struct db *db, long long t, const char *from, const char *to, const char *action,
     const char *q, int page, int lang)
{
	struct keyset ks = {.page = page, .limit = "101"};
	struct audit_filter f = {from, to, action, q, &ks};
	cJSON *doc = NULL;

	snprintf(ks.offset, sizeof(ks.offset), "%d", (page - 1) * 100);
	return audit_list(db, t, &f, lang, &doc) == 0 ? doc : NULL;
}

static void
test_write(struct db *db, long long a)
{
	char buf[128], tid[24];

	snprintf(tid, sizeof(tid), "%lld", a);
	const char *p[] = {tid};
	struct audit_entry full = {a, "192.0.2.1", "admin", 5, AUDIT_LOGIN, "ログイン成功"};
	TAP_OK(audit_write(db, &full) == 0, "server: an entry with every field");
	TAP_STREQ(sql_text(db,
			   "SELECT concat_ws('|', host(ip), actor_kind, actor_id, action, detail)"
			   " FROM audit WHERE tenant_id = $1::bigint ORDER BY id DESC LIMIT 1",
			   1, p, buf, sizeof(buf)),
		  "192.0.2.1|admin|5|login|ログイン成功", "server: ... stored as given");
	struct audit_entry bare = {a, NULL, "system", 0, AUDIT_CERTIFICATE_ISSUE, NULL};
	TAP_OK(audit_write(db, &bare) == 0, "server: an entry without address, actor, detail");
	TAP_STREQ(
		sql_text(db,
			 "SELECT concat_ws('|', ip IS NULL, actor_id IS NULL, '[' || detail || ']')"
			 " FROM audit WHERE tenant_id = $1::bigint ORDER BY id DESC LIMIT 1",
			 1, p, buf, sizeof(buf)),
		"t|t|[]", "server: ... NULL address, NULL actor, empty detail");
	struct audit_entry empty_ip = {a, "", "user", 0, AUDIT_CERTIFICATE_DOWNLOAD, "x"};
	TAP_OK(audit_write(db, &empty_ip) == 0 &&
		       sql_ll(db,
			      "SELECT (ip IS NULL)::int FROM audit WHERE tenant_id = $1::bigint"
			      " ORDER BY id DESC LIMIT 1",
			      1, p) == 1,
	       "server: an empty address is stored as NULL");
	struct audit_entry v6 = {a, "2001:db8::1", "operator", 1, AUDIT_SETTINGS, "v6"};
	TAP_OK(audit_write(db, &v6) == 0, "server: an IPv6 address");

	static const struct {
		const char *what;
		struct audit_entry e;
	} refused[] = {
		{"an address that is not one", {0, "999.1.1.1", "admin", 1, AUDIT_LOGIN, ""}},
		{"an actor kind outside the CHECK", {0, NULL, "robot", 0, AUDIT_LOGIN, ""}},
		{"a tenant that does not exist", {999999, NULL, "admin", 0, AUDIT_LOGIN, ""}},
	};
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		struct audit_entry e = refused[i].e;
		if (e.tenant_id == 0)
			e.tenant_id = a;
		TAP_OK(audit_write(db, &e) == -EIO, "server: %s: -EIO (never a positive code)",
		       refused[i].what);
	}
	struct audit_entry unknown = full;
	unknown.action = AUDIT__MAX;
	TAP_OK(audit_write(db, &unknown) == -EINVAL,
	       "server: an action outside the table: -EINVAL");
	long long before = sql_ll(db, "SELECT count(*) FROM audit", 0, NULL);
	TAP_OK(db_begin(db) == 0 && audit_write(db, &full) == 0,
	       "server: an entry inside a transaction");
	db_rollback(db);
	TAP_OK(sql_ll(db, "SELECT count(*) FROM audit", 0, NULL) == before,
	       "server: ... rolled back with it");
}

static void
test_list(struct db *db, long long a, long long b)
{
	cJSON *doc;

	/* tenant a has the 4 entries test_write left */
	doc = list(db, a, NULL, NULL, NULL, NULL, 1, I18N_JA);
	TAP_OK(doc && num(doc, "total") == 4 && num(doc, "page") == 1 &&
		       num(doc, "per_page") == AUDIT_PER_PAGE && nitems(doc) == 4,
	       "server: list: total 4, page 1, per_page %d, 4 items", AUDIT_PER_PAGE);
	const cJSON *newest = item(doc, 0), *oldest = item(doc, 3);
	TAP_OK(newest && strcmp(field(newest, "action"), "settings") == 0 &&
		       strcmp(field(newest, "ip"), "2001:db8::1") == 0,
	       "server: newest first (the IPv6 one)");
	TAP_OK(oldest && strcmp(field(oldest, "ip"), "192.0.2.1") == 0 &&
		       strcmp(field(oldest, "action_label"), "ログイン") == 0 &&
		       strcmp(field(oldest, "detail"), "ログイン成功") == 0,
	       "server: address without /32, Japanese label and detail");
	const char *at = oldest ? field(oldest, "at") : NULL;
	TAP_OK(at && strlen(at) == 19 && at[4] == '/' && at[7] == '/' && at[10] == ' ' &&
		       at[13] == ':' && at[16] == ':',
	       "server: at is yyyy/mm/dd hh:mm:ss (%s)", at ? at : "-");
	TAP_OK(item(doc, 2) && strcmp(field(item(doc, 2), "ip"), "") == 0,
	       "server: no address: \"\"");
	cJSON_Delete(doc);
	doc = list(db, a, NULL, NULL, NULL, NULL, 1, I18N_EN);
	TAP_OK(doc && strcmp(field(item(doc, 3), "action_label"), "Login") == 0 &&
		       strcmp(field(item(doc, 3), "detail"), "Login succeeded") == 0 &&
		       strcmp(field(item(doc, 0), "action_label"), "Settings change") == 0,
	       "server: in English: labels and the fixed details translated");
	cJSON_Delete(doc);

	/* JST days: 2020/01/01 00:00 JST is 2019-12-31 15:00 UTC */
	entry_at(db, b, "2019-12-31 14:59:59+00", "login", "before midnight");
	entry_at(db, b, "2019-12-31 15:00:00+00", "login", "at midnight");
	entry_at(db, b, "2020-01-01 14:59:59+00", "logout", "end of the day");
	entry_at(db, b, "2020-01-01 15:00:00+00", "custom_code", "next day: Report 50% done");
	entry_at(db, b, "2020-01-01 15:00:00+00", "logout", "same instant: report 500 done_x");
	doc = list(db, b, "2020/01/01", "2020/01/01", NULL, NULL, 1, I18N_JA);
	TAP_OK(doc && num(doc, "total") == 2 && nitems(doc) == 2 &&
		       strcmp(field(item(doc, 0), "detail"), "end of the day") == 0 &&
		       strcmp(field(item(doc, 1), "detail"), "at midnight") == 0 &&
		       strcmp(field(item(doc, 1), "at"), "2020/01/01 00:00:00") == 0,
	       "server: one JST day, both ends included, at in JST");
	cJSON_Delete(doc);
	doc = list(db, b, NULL, "2019/12/31", NULL, NULL, 1, I18N_JA);
	TAP_OK(doc && num(doc, "total") == 1 &&
		       strcmp(field(item(doc, 0), "at"), "2019/12/31 23:59:59") == 0,
	       "server: to 2019/12/31: the entry one second before JST midnight");
	cJSON_Delete(doc);
	doc = list(db, b, "2020/01/02", NULL, NULL, NULL, 1, I18N_JA);
	TAP_OK(doc && num(doc, "total") == 2, "server: from 2020/01/02: the next day's two");
	TAP_OK(doc && strstr(field(item(doc, 0), "detail"), "500") != NULL,
	       "server: the same instant: the later id first");
	TAP_OK(doc && strcmp(field(item(doc, 1), "action_label"), "custom_code") == 0,
	       "server: an unknown action is its own label");
	cJSON_Delete(doc);
	doc = list(db, b, NULL, NULL, "logout", NULL, 1, I18N_JA);
	TAP_OK(doc && num(doc, "total") == 2, "server: action logout: 2");
	cJSON_Delete(doc);
	doc = list(db, b, NULL, NULL, NULL, "50%", 1, I18N_JA);
	TAP_OK(doc && num(doc, "total") == 1, "server: text \"50%%\" is literal, not a pattern");
	cJSON_Delete(doc);
	doc = list(db, b, NULL, NULL, NULL, "REPORT", 1, I18N_JA);
	TAP_OK(doc && num(doc, "total") == 2, "server: text is case-insensitive");
	cJSON_Delete(doc);
	doc = list(db, b, NULL, NULL, NULL, "e_x", 1, I18N_JA);
	TAP_OK(doc && num(doc, "total") == 1, "server: '_' is literal too");
	cJSON_Delete(doc);
	doc = list(db, b, "2020/01/01", "2020/01/01", "logout", "END", 1, I18N_JA);
	TAP_OK(doc && num(doc, "total") == 1, "server: every filter at once");
	cJSON_Delete(doc);
	doc = list(db, b, NULL, NULL, "nothing_like_it", NULL, 1, I18N_JA);
	TAP_OK(doc && num(doc, "total") == 0 && nitems(doc) == 0, "server: no match: total 0, []");
	cJSON_Delete(doc);
	doc = list(db, a, "2020/01/01", "2020/01/01", NULL, NULL, 1, I18N_JA);
	TAP_OK(doc && num(doc, "total") == 0, "server: another tenant's entries are not listed");
	cJSON_Delete(doc);

	/* refused filters: the handler validates them first; here they must fail cleanly */
	cJSON *out = NULL;
	struct keyset p1 = {.page = 1, .offset = "0", .limit = "101"};
	struct keyset p0 = {.page = 0, .offset = "-100", .limit = "101"};
	struct audit_filter bad_date = {"2020/13/45", NULL, NULL, NULL, &p1};
	struct audit_filter page0 = {NULL, NULL, NULL, NULL, &p0};
	TAP_OK(audit_list(db, b, &bad_date, I18N_JA, &out) == -EIO && out == NULL,
	       "server: a date that is not one: -EIO");
	TAP_OK(audit_list(db, b, &page0, I18N_JA, &out) == -EIO && out == NULL,
	       "server: page 0 (a negative OFFSET): -EIO");
}

static void
test_paging(struct db *db, long long c)
{
	char tid[24];
	cJSON *doc;

	snprintf(tid, sizeof(tid), "%lld", c);
	const char *p[] = {tid};
	sql_run(db,
		"INSERT INTO audit (tenant_id, at, actor_kind, action, detail)"
		" SELECT $1::bigint, timestamptz '2021-06-01 00:00+00' + i * interval '1 minute',"
		" 'system', 'settings', 'row ' || i FROM generate_series(1, 150) i",
		1, p);
	doc = list(db, c, NULL, NULL, NULL, NULL, 1, I18N_JA);
	TAP_OK(doc && num(doc, "total") == 150 && nitems(doc) == 100 &&
		       strcmp(field(item(doc, 0), "detail"), "row 150") == 0 &&
		       strcmp(field(item(doc, 99), "detail"), "row 51") == 0,
	       "server: page 1 of 150: rows 150..51");
	cJSON_Delete(doc);
	doc = list(db, c, NULL, NULL, NULL, NULL, 2, I18N_JA);
	TAP_OK(doc && num(doc, "total") == 150 && num(doc, "page") == 2 && nitems(doc) == 50 &&
		       strcmp(field(item(doc, 49), "detail"), "row 1") == 0,
	       "server: page 2: rows 50..1");
	cJSON_Delete(doc);
	doc = list(db, c, NULL, NULL, NULL, NULL, 3, I18N_JA);
	TAP_OK(doc && num(doc, "total") == 150 && nitems(doc) == 0, "server: page 3: empty");
	cJSON_Delete(doc);

	/* the cached total follows a new entry at once */
	struct audit_entry e = {c, NULL, "system", 0, AUDIT_SETTINGS, "one more"};
	audit_write(db, &e);
	doc = list(db, c, NULL, NULL, NULL, NULL, 1, I18N_JA);
	TAP_OK(doc && num(doc, "total") == 151 &&
		       strcmp(field(item(doc, 0), "detail"), "one more") == 0,
	       "server: a new entry: total 151 at once (the cache follows the newest id)");
	cJSON_Delete(doc);
	doc = list(db, c, NULL, NULL, "settings", "row 1", 1, I18N_JA);
	TAP_OK(doc && num(doc, "total") == 62,
	       "server: text \"row 1\": 62 rows (1, 10-19, 100-150)");
	cJSON_Delete(doc);
}

/* The "(N回)" details of tenant t's login entries from ip, oldest first, joined by '|'. */
static const char *
summed_of(struct db *db, long long t, const char *ip, char *buf, size_t len)
{
	char tid[24];

	snprintf(tid, sizeof(tid), "%lld", t);
	const char *p[] = {tid, ip};
	return sql_text(db,
			"SELECT coalesce(string_agg(detail, '|' ORDER BY id), '') FROM audit"
			" WHERE tenant_id = $1::bigint AND host(ip) = $2",
			2, p, buf, len);
}

/* Without Redis every refusal is its own entry: nothing lost, only not summarised. */
static void
test_summed_dead(struct db *db, long long t)
{
	struct kv kv;
	char buf[512];
	struct audit_entry e = {t, "192.0.2.10", "user", 0, AUDIT_LOGIN, "拒否 192.0.2.10"};
	int all = 1;

	kv_init(&kv, DEAD_REDIS, NULL, 0);
	for (int i = 0; i < 3; i++)
		all = all && audit_write_summed(db, &kv, &e, "ip", 1000000) == 0;
	TAP_OK(all, "server: summed without Redis: 0 each time");
	TAP_STREQ(summed_of(db, t, "192.0.2.10", buf, sizeof(buf)),
		  "拒否 192.0.2.10 (1回)|拒否 192.0.2.10 (1回)|拒否 192.0.2.10 (1回)",
		  "server: ... an entry each, counting one");
	kv_done(&kv);
}

/* With Redis: one entry a minute, per address and kind, its count rewritten. */
static void
test_summed(struct db *db, long long t, const char *sock)
{
	struct kv kv;
	char buf[512], ip[32];
	long long now = 60LL * (1000000 + (long long)getpid() % 100000); /* a minute of our own */
	int all = 1;

	kv_init(&kv, sock, NULL, 0);
	snprintf(ip, sizeof(ip), "198.51.100.%d", (int)(getpid() % 200) + 1);
	struct audit_entry e = {t, ip, "user", 0, AUDIT_LOGIN, "拒否\x01"};
	for (int i = 0; i < 12; i++)
		all = all && audit_write_summed(db, &kv, &e, "ip", now + i) == 0;
	TAP_OK(all, "server: 12 refusals in one minute: 0 each time");
	TAP_STREQ(summed_of(db, t, ip, buf, sizeof(buf)), "拒否? (12回)",
		  "server: ... one entry, counting 12, cleaned");
	all = audit_write_summed(db, &kv, &e, "locked", now + 59) == 0 &&
	      audit_write_summed(db, &kv, &e, "ip", now + 60) == 0 &&
	      audit_write_summed(db, &kv, &e, "ip", now + 61) == 0;
	TAP_OK(all, "server: another kind, and the next minute");
	TAP_STREQ(summed_of(db, t, ip, buf, sizeof(buf)), "拒否? (12回)|拒否? (1回)|拒否? (2回)",
		  "server: ... an entry each, counting on their own");
	/* the address is part of the key */
	char tid[24];
	snprintf(tid, sizeof(tid), "%lld", t);
	const char *p[] = {tid, ip};
	long long before =
		sql_ll(db, "SELECT count(*) FROM audit WHERE tenant_id = $1::bigint", 1, p);
	struct audit_entry other = e;
	other.tenant_id = t;
	other.ip = "2001:db8::7";
	TAP_OK(audit_write_summed(db, &kv, &other, "ip", now) == 0 &&
		       sql_ll(db, "SELECT count(*) FROM audit WHERE tenant_id = $1::bigint", 1,
			      p) == before + 1,
	       "server: another address (IPv6) in the same minute: an entry of its own");
	/* a later request's detail (another ID typed) does not replace the first's */
	struct audit_entry later = e;
	later.detail = "別のID";
	TAP_OK(audit_write_summed(db, &kv, &later, "ip", now + 1) == 0,
	       "server: a 13th refusal with another detail");
	TAP_STREQ(summed_of(db, t, ip, buf, sizeof(buf)), "拒否? (13回)|拒否? (1回)|拒否? (2回)",
		  "server: ... counts 13 and keeps the first detail");
	/* past AUDIT_SUM_ADDRESSES addresses a minute, the others share one entry */
	long long t0 = now + 120, mark = sql_ll(db, "SELECT max(id) FROM audit", 0, NULL);
	char a[40], sm[24];
	all = 1;
	for (int i = 0; i < AUDIT_SUM_ADDRESSES + 5; i++)
		for (int j = 0; j < 2; j++) {
			snprintf(a, sizeof(a), "2001:db8:%x::%d", (unsigned)getpid() & 0xffff, i);
			struct audit_entry r = {t, a, "user", 0, AUDIT_LOGIN, "拒否"};
			all = all && audit_write_summed(db, &kv, &r, "ip", t0) == 0;
		}
	TAP_OK(all, "server: %d addresses refused twice each in one minute",
	       AUDIT_SUM_ADDRESSES + 5);
	snprintf(sm, sizeof(sm), "%lld", mark);
	const char *pm[] = {tid, sm};
	TAP_STREQ(sql_text(db,
			   "SELECT count(*) || '|' || count(*) FILTER (WHERE detail = '拒否 (2回)')"
			   " || '|' || string_agg(detail, '' ORDER BY id) FILTER (WHERE detail LIKE"
			   " '%ほか%') FROM audit WHERE tenant_id = $1::bigint AND id > $2::bigint",
			   2, pm, buf, sizeof(buf)),
		  "21|20|拒否 ほか (10回)",
		  "server: ... 20 entries of their own, then one for the rest");
	kv_done(&kv);
}

/* audit_render: coded details in each language, words inside parameters, the buffer's end. */
static void
test_render(void)
{
	static const struct {
		const char *code;
		const char *params[4];
		int n, lang, rc;
		const char *want;
	} cases[] = {
		{"cert_issued",
		 {"client_000001"},
		 1,
		 I18N_JA,
		 0,
		 "client_000001: 発行中 -> 発行完了"},
		{"cert_issued",
		 {"client_000001"},
		 1,
		 I18N_EN,
		 0,
		 "client_000001: issuing -> issued"},
		{"user_registered",
		 {"山田", "太郎", "a@example.com",
		  AUDIT_WORD_IN("dev:01") ", " AUDIT_WORD_IN("dev:11")},
		 4,
		 I18N_EN,
		 0,
		 "山田 太郎 (a@example.com): Windows PC, iOS (iPhone)"},
		{"user_updated",
		 {"山田", "太郎", "a@example.com", AUDIT_WORD_IN("f:email") " a@x.jp -> b@x.jp"},
		 4,
		 I18N_JA,
		 0,
		 "山田 太郎 (a@example.com): メールアドレス a@x.jp -> b@x.jp"},
		{"job_done",
		 {"f.csv", "3", AUDIT_WORD("利用者"), "3"},
		 4,
		 I18N_EN,
		 0,
		 "Done: f.csv (3 lines, users: 3)"},
		/* an unknown word and a device code the table lacks are shown as written */
		{"files",
		 {AUDIT_WORD_IN("nope") "x" AUDIT_WORD("dev:77")},
		 1,
		 I18N_EN,
		 0,
		 "nopexdev:77"},
		{"files", {""}, 1, I18N_JA, 0, ""},
		{"no_such_code", {"x"}, 1, I18N_JA, -EINVAL, NULL},
	};
	char buf[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = audit_render(cases[i].code, cases[i].params, cases[i].n, cases[i].lang,
				      buf, sizeof(buf));
		TAP_OK(rc == cases[i].rc &&
			       (cases[i].want == NULL || strcmp(buf, cases[i].want) == 0),
		       "audit_render %zu (%s): %d, \"%s\"", i, cases[i].code, rc,
		       rc == 0 ? buf : "");
	}
	const char *p[] = {"client_000001"};
	TAP_OK(audit_render("cert_issued", p, 1, I18N_JA, buf, 8) == -ENOSPC && strlen(buf) < 8,
	       "audit_render into 8 bytes: -ENOSPC, cut inside the buffer");
}

int
main(void)
{
	const char *conninfo = fixture_env("SHOMEI_TEST_DB");
	struct scratch s;

	test_dead();
	test_text();
	test_render();
	if (conninfo == NULL) {
		printf("# SHOMEI_TEST_DB not set: the checks against PostgreSQL did not run\n");
		return tap_done();
	}
	if (scratch_open(&s, conninfo) != 0) {
		TAP_OK(0, "server: a scratch schema with the migrations");
		scratch_close(&s);
		return tap_done();
	}
	long long a = tenant(&s.db, "a"), b = tenant(&s.db, "b"), c = tenant(&s.db, "c");
	TAP_OK(a > 0 && b > 0 && c > 0, "server: three tenants in a scratch schema");
	test_write(&s.db, a);
	test_list(&s.db, a, b);
	test_paging(&s.db, c);
	test_summed_dead(&s.db, a);
	if (fixture_env("SHOMEI_TEST_REDIS") != NULL)
		test_summed(&s.db, b, fixture_env("SHOMEI_TEST_REDIS"));
	else
		printf("# SHOMEI_TEST_REDIS not set: the summaries against Redis did not run\n");
	scratch_close(&s);
	TAP_OK(scratch_gone(&s, conninfo), "server: scratch schema dropped");
	return tap_done();
}
