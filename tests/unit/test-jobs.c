/*
 * test-jobs.c: jobs_queue(), the one way a checked upload becomes a job. Without a server: a dead
 * connection gives -EIO and leaves *id alone. With SHOMEI_TEST_DB, on a scratch schema: the row
 * holds what was given (kind, file as UTF-8 text, counts, address, encoding, params), its history
 * entry is written with it, params default to {}, and a refused insert (an unknown tenant) leaves
 * neither the job nor the entry.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "domain/jobs.h"
#include "db-fixture.h"
#include "tap.h"

static void
test_dead(void)
{
	struct audit_entry e = {1, NULL, "admin", 1, AUDIT_USER_IMPORT, "受付 x.csv"};
	struct jobs_new n = {.tenant_id = 1,
			     .admin_id = 1,
			     .kind = "user_import",
			     .filename = "x.csv",
			     .input = "a,b\n",
			     .total = 1};
	long long id = 77;
	struct db db;

	db_init(&db, DEAD_DB);
	TAP_OK(jobs_queue(&db, &n, &e, &id) == -EIO && id == 77,
	       "jobs_queue on a dead connection: -EIO, id untouched");
	db_done(&db);
}

static void
test_queue(struct db *db, long long t, const char *tids)
{
	char detail[] = "CSV一括再発行 受付 再発行.csv (証明書 2)", buf[512];
	struct audit_entry e = {t, "192.0.2.7", "admin", 0, AUDIT_CERTIFICATE_REISSUE, detail};
	struct jobs_new n = {.tenant_id = t,
			     .kind = "reissue_csv",
			     .filename = "再発行.csv",
			     .input = "a@example.com,a@example.com,01\n",
			     .ip = "192.0.2.7",
			     .encoding = "CP932",
			     .params = "{\"items\": [1, 2]}",
			     .total = 2,
			     .devices = 2};
	long long id = 0;
	char ids[24];

	TAP_OK(jobs_queue(db, &n, &e, &id) == 0 && id > 0, "server: queued (id %lld)", id);
	snprintf(ids, sizeof(ids), "%lld", id);
	const char *p[] = {ids};
	sql_text(
		db,
		"SELECT kind || '|' || filename || '|' || convert_from(input, 'UTF8') || '|' || total"
		" || '|' || devices || '|' || requested_ip || '|' || encoding || '|' || params::text"
		" || '|' || status FROM jobs WHERE id = $1::bigint",
		1, p, buf, sizeof(buf));
	TAP_OK(strcmp(buf,
		      "reissue_csv|再発行.csv|a@example.com,a@example.com,01\n|2|2|192.0.2.7|CP932|"
		      "{\"items\": [1, 2]}|queued") == 0,
	       "server: the row holds what was given: %s", buf);
	const char *pt[] = {tids};
	TAP_OK(sql_ll(db,
		      "SELECT count(*) FROM audit WHERE tenant_id = $1::bigint"
		      " AND action = 'certificate_reissue' AND detail LIKE 'CSV一括再発行 受付%'",
		      1, pt) == 1,
	       "server: its history entry is written with it");
	n.params = NULL;
	n.kind = "user_import";
	TAP_OK(jobs_queue(db, &n, &e, &id) == 0, "server: queued without params");
	snprintf(ids, sizeof(ids), "%lld", id);
	sql_text(db, "SELECT params::text FROM jobs WHERE id = $1::bigint", 1, p, buf, sizeof(buf));
	TAP_OK(strcmp(buf, "{}") == 0, "server: params default to {} (%s)", buf);
	long long before = sql_ll(db, "SELECT count(*) FROM audit", 0, NULL);
	long long jobs = sql_ll(db, "SELECT count(*) FROM jobs", 0, NULL);
	n.tenant_id = t + 1000;
	id = 55;
	TAP_OK(jobs_queue(db, &n, &e, &id) != 0 && id == 55,
	       "server: an unknown tenant is refused");
	TAP_OK(sql_ll(db, "SELECT count(*) FROM audit", 0, NULL) == before &&
		       sql_ll(db, "SELECT count(*) FROM jobs", 0, NULL) == jobs,
	       "server: nothing of it remains (no job, no history entry)");
}

int
main(void)
{
	const char *conninfo = fixture_env("SHOMEI_TEST_DB");
	struct scratch s;
	char tids[24];

	signal(SIGPIPE, SIG_IGN);
	test_dead();
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
			     " VALUES ('j', 'J', 'J', 3, 'p256') RETURNING id",
			     0, NULL);
	snprintf(tids, sizeof(tids), "%lld", t);
	test_queue(&s.db, t, tids);
	scratch_close(&s);
	TAP_OK(scratch_gone(&s, conninfo), "server: scratch schema dropped");
	return tap_done();
}
