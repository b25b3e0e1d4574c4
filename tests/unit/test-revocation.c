/*
 * test-revocation.c: the revocation reasons, and with SHOMEI_TEST_DB, on a scratch schema,
 * applying due revocations: what is due and nothing else, revoked_at, one history entry each, a
 * second run finding nothing, an as_of ahead of the clock, and the NOTIFY per tenant.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db-fixture.h"
#include "domain/revocation.h"
#include "web/valid.h"
#include "tap.h"

static void
test_reasons(void)
{
	static const struct {
		const char *word;
		int code;
	} ok[] = {{"unspecified", 0}, {"keyCompromise", 1},        {"affiliationChanged", 3},
		  {"superseded", 4},  {"cessationOfOperation", 5}, {"privilegeWithdrawn", 9}};
	static const char *const bad[] = {"",
					  "keycompromise",
					  "cACompromise",
					  "certificateHold",
					  "removeFromCRL",
					  "aACompromise",
					  " unspecified",
					  "1"};
	int code;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		TAP_OK(revocation_reason_parse(ok[i].word, &code) == 0 && code == ok[i].code &&
			       revocation_valid_reason(ok[i].word) == 0,
		       "%s is code %d", ok[i].word, ok[i].code);
		TAP_STREQ(revocation_reason_word(ok[i].code), ok[i].word, "code %d is %s",
			  ok[i].code, ok[i].word);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		TAP_OK(revocation_reason_parse(bad[i], &code) == VALID_E_FORMAT &&
			       revocation_valid_reason(bad[i]) == VALID_E_FORMAT,
		       "'%s' is refused", bad[i]);
	TAP_OK(revocation_reason_parse(NULL, &code) == VALID_E_FORMAT, "NULL is refused");
	TAP_OK(revocation_reason_word(2) == NULL && revocation_reason_word(7) == NULL &&
		       revocation_reason_word(-1) == NULL,
	       "codes outside the table have no word");
}

static void
test_dead(void)
{
	struct db db;
	long long n = 42;

	db_init(&db, DEAD_DB);
	TAP_OK(revocation_apply_due(&db, time(NULL), &n) == -EIO && n == 42,
	       "no database: -EIO, nothing counted");
	TAP_OK(revocation_notify(&db, 1) == -EIO, "no database: notify -EIO");
	db_done(&db);
}

/* A certificate of tenant t in status st, revoke_on offset seconds from now (scheduled only). */
static long long
cert(struct db *db, const char *t, const char *cn, const char *st, long long offset)
{
	char off[24];

	snprintf(off, sizeof(off), "%lld", offset);
	const char *p[] = {t, cn, st, off};
	return sql_ll(db,
		      "INSERT INTO certificates (tenant_id, cn, status, serial, revoke_on)"
		      " VALUES ($1::bigint, $2, $3, md5($2), CASE $3 WHEN 'revoke_scheduled' THEN"
		      " now() + make_interval(secs => $4::bigint) END) RETURNING id",
		      4, p);
}

static const char *
status_of(struct db *db, long long id, char *buf, size_t len)
{
	char sid[24];

	snprintf(sid, sizeof(sid), "%lld", id);
	const char *p[] = {sid};
	return sql_text(db,
			"SELECT status || '|' || coalesce((revoked_at = revoke_on)::text, '-')"
			" FROM certificates WHERE id = $1::bigint",
			1, p, buf, len);
}

static void
test_apply(struct db *db, const char *t)
{
	char buf[512];
	long long n = -1;
	long long due1 = cert(db, t, "client_000001", "revoke_scheduled", -3600);
	long long due2 = cert(db, t, "client_000002", "revoke_scheduled", -1);
	long long later = cert(db, t, "client_000003", "revoke_scheduled", 86400);
	long long valid = cert(db, t, "client_000004", "issued", 0);
	const char *p[] = {t};

	TAP_OK(due1 > 0 && due2 > 0 && later > 0 && valid > 0, "server: four certificates");
	sql_run(db, "LISTEN " REVOCATION_CHANNEL, 0, NULL);
	TAP_OK(revocation_apply_due(db, time(NULL), &n) == 0 && n == 2,
	       "server: two were due (%lld)", n);
	TAP_STREQ(status_of(db, due1, buf, sizeof(buf)), "revoked|true",
		  "server: revoked at its scheduled time");
	TAP_STREQ(status_of(db, due2, buf, sizeof(buf)), "revoked|true", "server: the second too");
	TAP_STREQ(status_of(db, later, buf, sizeof(buf)), "revoke_scheduled|-",
		  "server: one scheduled for tomorrow waits");
	TAP_STREQ(status_of(db, valid, buf, sizeof(buf)), "issued|-", "server: a valid one stays");
	TAP_STREQ(sql_text(db,
			   "SELECT string_agg(actor_kind || ' ' || action || ' ' || detail, ','"
			   " ORDER BY detail) FROM audit WHERE tenant_id = $1::bigint",
			   1, p, buf, sizeof(buf)),
		  "system certificate_revoke client_000001: 失効中 -> 失効完了,"
		  "system certificate_revoke client_000002: 失効中 -> 失効完了",
		  "server: one history entry each, by the system");
	PQconsumeInput(db->conn);
	PGnotify *note = PQnotifies(db->conn);
	TAP_OK(note != NULL && strcmp(note->extra, t) == 0, "server: the tenant was notified");
	PQfreemem(note);
	note = PQnotifies(db->conn);
	TAP_OK(note == NULL, "server: once");
	PQfreemem(note);
	TAP_OK(revocation_apply_due(db, time(NULL), &n) == 0 && n == 0,
	       "server: a second run finds nothing");
	TAP_OK(revocation_apply_due(db, time(NULL) + 2 * 86400, &n) == 0 && n == 1,
	       "server: as of the day after tomorrow, the scheduled one is due");
	TAP_STREQ(status_of(db, later, buf, sizeof(buf)), "revoked|false",
		  "server: revoked now, not at its future date");
	sql_run(db, "UNLISTEN *", 0, NULL);
}

int
main(void)
{
	const char *conninfo = fixture_env("SHOMEI_TEST_DB");
	struct scratch s;
	char tid[24];

	signal(SIGPIPE, SIG_IGN);
	test_reasons();
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
	snprintf(tid, sizeof(tid), "%lld",
		 sql_ll(&s.db,
			"INSERT INTO tenants (slug, name, name_en, quota) VALUES ('r', 'R', 'R', 9)"
			" RETURNING id",
			0, NULL));
	test_apply(&s.db, tid);
	scratch_close(&s);
	TAP_OK(scratch_gone(&s, conninfo), "server: scratch schema dropped");
	return tap_done();
}
