/*
 * test-certq.c: quota and the issuance queue. Without a server: a dead connection gives -EIO
 * and leaves the outputs alone, certq_wake with Redis gone and its command (against a scripted
 * fake), the status and device labels. With SHOMEI_TEST_DB, on a scratch schema: counts by
 * status, what an issuing row stores, rows refused, and the tenant lock (held until commit,
 * and a waiter counts what the holder committed).
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/certq.h"
#include "domain/device.h"
#include "domain/lifecycle.h"
#include "web/i18n.h"
#include "db-fixture.h"
#include "fake-redis.h"
#include "tap.h"

static int
untouched(const struct certq_quota *q)
{
	const unsigned char *p = (const unsigned char *)q;

	for (size_t i = 0; i < sizeof(*q); i++)
		if (p[i] != 0x5a)
			return 0;
	return 1;
}

static void
test_dead(void)
{
	struct certq_row row = {
		.tenant_id = 1, .cn = "client_000001", .number = 1, .key_type = "rsa2048"};
	struct certq_quota q;
	long long id = 77;
	struct db db;
	int all = 1;

	db_init(&db, DEAD_DB);
	memset(&q, 0x5a, sizeof(q));
	TAP_OK(certq_lock(&db, 1, &q) == -EIO && untouched(&q),
	       "certq_lock on a dead connection: -EIO, quota untouched");
	TAP_OK(certq_count(&db, 1, &q) == -EIO && untouched(&q),
	       "certq_count on a dead connection: -EIO, quota untouched");
	TAP_OK(certq_insert(&db, &row, &id) == -EIO && id == 77,
	       "certq_insert on a dead connection: -EIO, id untouched");
	for (int i = 0; i < 30 && all; i++)
		all = certq_lock(&db, 1, &q) == -EIO && certq_insert(&db, &row, &id) == -EIO;
	TAP_OK(all, "30 rounds: -EIO each time (leak check)");
	db_done(&db);

	struct kv kv;
	kv_init(&kv, DEAD_REDIS, NULL, 0);
	certq_wake(&kv, 42);
	TAP_OK(kv.c == NULL, "certq_wake with Redis gone: nothing happens, no crash");
	kv_done(&kv);

	static const char *const script[] = {"$15\r\n1700000000000-0\r\n", NULL};
	struct fake_redis f;
	if (fake_start(&f, script) == 0) {
		kv_init(&kv, f.path, NULL, 0);
		certq_wake(&kv, 42);
		TAP_STREQ(fake_cmd(&f, 0), "XADD shomei:issue:wake MAXLEN ~ 10000 * tenant 42",
			  "certq_wake: XADD to " CERTQ_STREAM ", capped, with the tenant");
		kv_done(&kv);
		fake_stop(&f);
	} else {
		TAP_OK(0, "fake Redis started");
	}
}

static void
test_labels(void)
{
	static const struct {
		const char *code, *ja, *en;
	} statuses[] =
		{
			{"issuing", "証明書発行中", "Issuing"},
			{"issued", "証明書発行済", "Issued"},
			{"downloaded", "証明書ダウンロード済", "Downloaded"},
			{"revoke_scheduled", "証明書失効予定", "Revocation scheduled"},
			{"revoked", "証明書失効済", "Revoked"},
			{"failed", "証明書発行失敗", "Issuance failed"},
		},
	  devices[] = {
		  {"01", "WindowsPC", "Windows PC"}, {"11", "iOS(iPhone)", "iOS (iPhone)"},
		  {"12", "iOS(iPad)", "iOS (iPad)"}, {"20", "Android", "Android"},
		  {"99", "その他", "Other"},
	  };

	for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++)
		TAP_OK(strcmp(lifecycle_label(statuses[i].code, I18N_JA), statuses[i].ja) == 0 &&
			       strcmp(lifecycle_label(statuses[i].code, I18N_EN), statuses[i].en) ==
				       0,
		       "status %s: %s / %s", statuses[i].code, statuses[i].ja, statuses[i].en);
	TAP_STREQ(lifecycle_label("issued", 7), "証明書発行済",
		  "a language out of range: Japanese");
	TAP_STREQ(lifecycle_label("archived", I18N_EN), "archived", "an unknown status: itself");
	TAP_OK(lifecycle_label(NULL, I18N_JA) == NULL, "no status: NULL");
	TAP_STREQ(lifecycle_label("Issued", I18N_EN), "Issued", "codes are case-sensitive");
	for (size_t i = 0; i < sizeof(devices) / sizeof(devices[0]); i++)
		TAP_OK(strcmp(device_label(devices[i].code, I18N_JA), devices[i].ja) == 0 &&
			       strcmp(device_label(devices[i].code, I18N_EN), devices[i].en) == 0,
		       "device %s: %s / %s", devices[i].code, devices[i].ja, devices[i].en);
	static const char *const unknown[] = {"1", "001", "02", "", "ios", "11 "};
	for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++)
		TAP_OK(device_label(unknown[i], I18N_JA) == NULL, "device \"%s\": NULL",
		       unknown[i]);
	TAP_OK(device_label(NULL, I18N_EN) == NULL, "no device: NULL");
}

/* ---- against SHOMEI_TEST_DB ---- */

static const char *
row_text(struct db *db, long long id, char *buf, size_t len)
{
	char sid[24];

	snprintf(sid, sizeof(sid), "%lld", id);
	const char *p[] = {sid};
	return sql_text(
		db,
		"SELECT concat_ws('|', status, coalesce(user_id::text, '-'),"
		" coalesce(device_id::text, '-'), coalesce(job_id::text, '-'),"
		" coalesce(replaces_id::text, '-'), coalesce(number::text, '-'), cn,"
		" coalesce(email, '-'), key_type, coalesce(requested_by::text, '-'),"
		" coalesce(host(requested_ip), '-')) FROM certificates WHERE id = $1::bigint",
		1, p, buf, len);
}

static int
quota_is(const struct certq_quota *q, long long quota, long long issued, long long issuing,
	 long long available, const char *kt)
{
	int ok = q->quota == quota && q->issued == issued && q->issuing == issuing &&
		 q->available == available && strcmp(q->key_type, kt) == 0;

	if (!ok)
		printf("# quota %lld issued %lld issuing %lld available %lld key_type %s\n",
		       q->quota, q->issued, q->issuing, q->available, q->key_type);
	return ok;
}

static void
set_status(struct db *db, long long id, const char *status)
{
	char sid[24];

	snprintf(sid, sizeof(sid), "%lld", id);
	const char *p[] = {status, sid};
	sql_run(db, "UPDATE certificates SET status = $1 WHERE id = $2::bigint", 2, p);
}

static void
test_queue(struct db *db, long long t, char *tids)
{
	struct certq_quota q;
	long long id1 = 0, id2 = 0, id, ids[6];
	char buf[512];

	TAP_OK(certq_count(db, t, &q) == 0 && quota_is(&q, 3, 0, 0, 3, "p256"),
	       "server: a new tenant: quota 3, nothing issued, key type p256");
	memset(&q, 0x5a, sizeof(q));
	TAP_OK(certq_count(db, 999999, &q) == DB_E_NOTFOUND && untouched(&q),
	       "server: a tenant that does not exist: DB_E_NOTFOUND, quota untouched");

	struct certq_row numbered = {
		.tenant_id = t, .number = 1, .cn = "client_000001", .key_type = "p256"};
	TAP_OK(certq_insert(db, &numbered, &id1) == 0 && id1 > 0, "server: a numbered row queued");
	TAP_STREQ(row_text(db, id1, buf, sizeof(buf)), "issuing|-|-|-|-|1|client_000001|-|p256|-|-",
		  "server: ... issuing, every optional id NULL");

	const char *p[] = {tids};
	long long uid = sql_ll(db,
			       "INSERT INTO users (tenant_id, email) VALUES ($1::bigint,"
			       " 'taro@example.jp') RETURNING id",
			       1, p);
	char suid[24];
	snprintf(suid, sizeof(suid), "%lld", uid);
	const char *pu[] = {tids, suid};
	long long did =
		sql_ll(db,
		       "INSERT INTO devices (tenant_id, user_id, device_code, email)"
		       " VALUES ($1::bigint, $2::bigint, '11', 'taro@example.jp') RETURNING id",
		       2, pu);
	long long aid = sql_ll(db,
			       "INSERT INTO admins (tenant_id, login_id) VALUES ($1::bigint, 'adm')"
			       " RETURNING id",
			       1, p);
	long long jid =
		sql_ll(db,
		       "INSERT INTO jobs (tenant_id, kind) VALUES ($1::bigint, 'reissue_csv')"
		       " RETURNING id",
		       1, p);
	struct certq_row full = {t,      uid, did,           jid,
				 id1,    0,   "Taro Yamada", "taro@example.jp",
				 "p256", aid, "192.0.2.7"};
	TAP_OK(certq_insert(db, &full, &id2) == 0 && id2 > id1, "server: a row with every field");
	snprintf(buf, sizeof(buf),
		 "issuing|%lld|%lld|%lld|%lld|-|Taro Yamada|taro@example.jp|p256|%lld|192.0.2.7",
		 uid, did, jid, id1, aid);
	char got[512];
	TAP_STREQ(row_text(db, id2, got, sizeof(got)), buf, "server: ... stored as given");
	struct certq_row empties = {
		.tenant_id = t, .cn = "x", .email = "", .key_type = "p256", .requested_ip = ""};
	TAP_OK(certq_insert(db, &empties, &id) == 0 &&
		       strcmp(row_text(db, id, got, sizeof(got)),
			      "issuing|-|-|-|-|-|x|-|p256|-|-") == 0,
	       "server: empty e-mail and address are stored as NULL");
	TAP_OK(certq_count(db, t, &q) == 0 && quota_is(&q, 3, 3, 3, 0, "p256"),
	       "server: 3 issuing of 3: available 0");

	/* which statuses count */
	static const char *const st[] = {"issued",  "downloaded", "revoke_scheduled",
					 "revoked", "failed",     "issuing"};
	struct certq_row more = {.tenant_id = t, .cn = "m", .key_type = "rsa2048"};
	for (int i = 0; i < 6; i++) {
		certq_insert(db, &more, &ids[i]);
		set_status(db, ids[i], st[i]);
	}
	sql_run(db, "UPDATE tenants SET quota = 10", 0, NULL);
	TAP_OK(certq_count(db, t, &q) == 0 && quota_is(&q, 10, 7, 4, 3, "p256"),
	       "server: issuing, issued, downloaded, revoke_scheduled count; revoked, failed not");
	sql_run(db, "UPDATE tenants SET quota = 2", 0, NULL);
	TAP_OK(certq_count(db, t, &q) == 0 && quota_is(&q, 2, 7, 4, 0, "p256"),
	       "server: quota below what is issued: available 0, never negative");

	static const struct {
		const char *what;
		struct certq_row r;
	} refused[] = {
		{"a number the tenant already used",
		 {.number = 1, .cn = "dup", .key_type = "p256"}},
		{"an address that is not one",
		 {.cn = "x", .key_type = "p256", .requested_ip = "1.2.3"}},
		{"a user that does not exist", {.user_id = 999999, .cn = "x", .key_type = "p256"}},
		{"no CN (NOT NULL)", {.cn = NULL, .key_type = "p256"}},
	};
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		struct certq_row r = refused[i].r;
		r.tenant_id = t;
		id = 55;
		TAP_OK(certq_insert(db, &r, &id) == -EIO && id == 55,
		       "server: %s: -EIO, id untouched", refused[i].what);
	}
	/* many at once: each id names its own row, whatever order the INSERT wrote them in */
	struct certq_row many[3] = {
		{.user_id = uid,
		 .device_id = did,
		 .cn = "Many One",
		 .email = "one@example.jp",
		 .key_type = "p256",
		 .requested_ip = "192.0.2.1"},
		{.cn = "Many Two", .key_type = "rsa2048", .job_id = jid},
		{.user_id = uid,
		 .cn = "Many Three",
		 .email = "three@example.jp",
		 .key_type = "p256",
		 .requested_by = aid},
	};
	long long mids[3] = {0, 0, 0};
	TAP_OK(certq_insert_many(db, t, many, 3, mids) == 0 && mids[0] > 0 && mids[1] > 0 &&
		       mids[2] > 0 && mids[0] != mids[1] && mids[1] != mids[2] &&
		       mids[0] != mids[2],
	       "server: certq_insert_many: three rows, three ids");
	snprintf(buf, sizeof(buf),
		 "issuing|%lld|%lld|-|-|-|Many One|one@example.jp|p256|-|192.0.2.1", uid, did);
	TAP_STREQ(row_text(db, mids[0], got, sizeof(got)), buf,
		  "server: ... the first id is the first row");
	snprintf(buf, sizeof(buf), "issuing|-|-|%lld|-|-|Many Two|-|rsa2048|-|-", jid);
	TAP_STREQ(row_text(db, mids[1], got, sizeof(got)), buf,
		  "server: ... the second the second");
	snprintf(buf, sizeof(buf), "issuing|%lld|-|-|-|-|Many Three|three@example.jp|p256|%lld|-",
		 uid, aid);
	TAP_STREQ(row_text(db, mids[2], got, sizeof(got)), buf, "server: ... the third the third");
	sql_run(db, "DELETE FROM certificates WHERE cn LIKE 'Many %'", 0, NULL);
	struct certq_row half[2] = {{.cn = "ok", .key_type = "p256"},
				    {.cn = "bad", .key_type = "p256", .requested_ip = "1.2.3"}};
	long long hids[2] = {7, 7};
	TAP_OK(certq_insert_many(db, t, half, 2, hids) == -EIO && hids[0] == 7 && hids[1] == 7 &&
		       strcmp(sql_text(db, "SELECT count(*) FROM certificates WHERE cn = 'ok'", 0,
				       NULL, got, sizeof(got)),
			      "0") == 0,
	       "server: certq_insert_many with one bad row: -EIO, no row written, ids untouched");
	struct certq_row nobody = {.tenant_id = 999999, .cn = "x", .key_type = "p256"};
	TAP_OK(certq_insert(db, &nobody, &id) == -EIO,
	       "server: a tenant that does not exist: -EIO");
	sql_run(db, "UPDATE tenants SET quota = 3", 0, NULL);
}

/* The waiter: certq_lock in its own transaction, on its own connection. */
struct waiter {
	const char *conninfo;
	long long tenant;
	atomic_int pid; /* its backend, once connected */
	struct certq_quota q;
	int rc;
};

static void *
wait_lock(void *arg)
{
	struct waiter *w = arg;
	struct db db;

	db_init(&db, w->conninfo);
	if ((w->rc = db_begin(&db)) == 0) {
		atomic_store(&w->pid, PQbackendPID(db.conn));
		w->rc = certq_lock(&db, w->tenant, &w->q);
	}
	atomic_store(&w->pid, -1);
	db_rollback(&db);
	db_done(&db);
	return NULL;
}

/* 1 once the waiter's backend waits for a lock (within 10 s), else 0. */
static int
blocked(struct db *other, struct waiter *w)
{
	char pid[24];
	int p;

	for (int i = 0; i < 1000; i++) {
		if ((p = atomic_load(&w->pid)) < 0)
			return 0;
		snprintf(pid, sizeof(pid), "%d", p);
		const char *params[] = {pid};
		if (p > 0 &&
		    sql_ll(other,
			   "SELECT count(*) FROM pg_locks WHERE pid = $1::int AND NOT granted", 1,
			   params) > 0)
			return 1;
		usleep(10000);
	}
	return 0;
}

static void
test_lock(struct db *db, const char *conninfo, long long t, const char *tids)
{
	struct certq_quota q;
	struct db other;
	long long id;
	const char *p[] = {tids};
	static const char nowait[] =
		"SELECT id FROM tenants WHERE id = $1::bigint FOR UPDATE NOWAIT";

	db_init(&other, conninfo);
	memset(&q, 0x5a, sizeof(q));
	TAP_OK(db_begin(db) == 0 && certq_lock(db, 999999, &q) == DB_E_NOTFOUND && untouched(&q),
	       "server: locking a tenant that does not exist: DB_E_NOTFOUND");
	db_rollback(db);
	TAP_OK(db_begin(db) == 0 && certq_lock(db, t, &q) == 0 && q.quota == 3 && q.issued == 7,
	       "server: certq_lock inside a transaction: 0 and the counts");
	TAP_OK(sql_run(&other, nowait, 1, p) == -EIO,
	       "server: ... another connection cannot take the tenant row (NOWAIT: -EIO)");
	db_commit(db);
	TAP_OK(sql_run(&other, nowait, 1, p) == 0, "server: after the commit it can");

	/* a waiter counts what the holder committed while it waited */
	struct waiter w = {.conninfo = conninfo, .tenant = t};
	pthread_t tid;
	struct certq_row r = {.tenant_id = t, .cn = "late", .key_type = "p256"};
	TAP_OK(db_begin(db) == 0 && certq_lock(db, t, &q) == 0 && q.issued == 7 &&
		       certq_insert(db, &r, &id) == 0,
	       "server: the holder locks and queues one more");
	pthread_create(&tid, NULL, wait_lock, &w);
	TAP_OK(blocked(&other, &w), "server: a second transaction's certq_lock waits for it");
	db_commit(db);
	pthread_join(tid, NULL);
	TAP_OK(w.rc == 0 && w.q.issued == 8 && w.q.available == 0,
	       "server: once the holder commits, the waiter counts its row (issued %lld of 3)",
	       w.q.issued);
	db_done(&other);
}

int
main(void)
{
	const char *conninfo = fixture_env("SHOMEI_TEST_DB");
	struct scratch s;
	char tids[24];

	signal(SIGPIPE, SIG_IGN);
	test_dead();
	test_labels();
	if (conninfo == NULL) {
		printf("# SHOMEI_TEST_DB not set: the checks against PostgreSQL did not run\n");
		return tap_done();
	}
	if (scratch_open(&s, conninfo) != 0) {
		TAP_OK(0, "server: a scratch schema with the migrations");
		scratch_close(&s);
		return tap_done();
	}
	long long t = sql_ll(&s.db,
			     "INSERT INTO tenants (slug, name, name_en, quota, key_type)"
			     " VALUES ('q', 'Q', 'Q', 3, 'p256') RETURNING id",
			     0, NULL);
	snprintf(tids, sizeof(tids), "%lld", t);
	test_queue(&s.db, t, tids);
	test_lock(&s.db, s.conninfo, t, tids);
	scratch_close(&s);
	TAP_OK(scratch_gone(&s, conninfo), "server: scratch schema dropped");
	return tap_done();
}
