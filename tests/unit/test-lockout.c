/*
 * test-lockout.c: failed-login counters. Without a server: Redis unreachable (lockout_take
 * cannot say: -EIO; the others do nothing and do not crash), and against a scripted fake the
 * keys and commands sent (every change one EVAL) and how each kind of reply is read. With
 * SHOMEI_TEST_REDIS: counting to the limits, clearing, giving back, TTLs and expiry, that no
 * sequence leaves a counter without its TTL, and that of 40 concurrent attempts at most the
 * limit get through; under scopes of random names deleted afterwards.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "web/lockout.h"
#include "core/util.h"
#include "db-fixture.h"
#include "fake-redis.h"
#include "tap.h"

/* The key lockout uses: shomei:<scope>:<kind>:<sha256(v)>. */
static void
want_key(const char *scope, const char *kind, const char *v, char *buf, size_t len)
{
	char hash[65];

	util_sha256_hex(v, strlen(v), hash);
	snprintf(buf, len, "shomei:%s:%s:%s", scope, kind, hash);
}

/* 1 when s starts with "EVAL " and ends with tail. */
static int
is_eval(const char *s, const char *tail)
{
	size_t n = strlen(s), m = strlen(tail);

	return strncmp(s, "EVAL ", 5) == 0 && n > m && strcmp(s + n - m, tail) == 0;
}

static void
test_dead(void)
{
	struct kv kv;
	struct lockout l = {&kv, "fail", 5, 30, 900};

	kv_init(&kv, DEAD_REDIS, NULL, 0);
	TAP_OK(lockout_take(&l, "admin01", "192.0.2.1") == -EIO,
	       "Redis unreachable: lockout_take says -EIO");
	lockout_refund(&l, "admin01", "192.0.2.1");
	TAP_OK(kv.c == NULL, "lockout_refund with Redis unreachable: no crash, nothing kept");
	lockout_clear(&l, "admin01", "192.0.2.1");
	TAP_OK(kv.c == NULL, "lockout_clear with Redis unreachable: no crash");
	TAP_OK(lockout_retry_after(&l, "admin01", "192.0.2.1") == 900,
	       "lockout_retry_after with Redis unreachable: the window");
	kv_done(&kv);
}

/* The script's replies and what lockout_take makes of them. */
static const struct {
	const char *what, *reply;
	int want;
} take_cases[] = {
	{"0 (counted)", ":0\r\n", 0},
	{"1 (locked)", ":1\r\n", 1},
	{"2", ":2\r\n", -EIO},
	{"-1", ":-1\r\n", -EIO},
	{"a string \"0\"", "$1\r\n0\r\n", -EIO},
	{"nil", "$-1\r\n", -EIO},
	{"an array", "*1\r\n:0\r\n", -EIO},
	{"a status", "+OK\r\n", -EIO},
	{"an error (NOSCRIPT, a script error)", "-ERR no\r\n", -EIO},
};

static void
test_fake(void)
{
	static const char *script[64];
	struct fake_redis f;
	struct kv kv;
	struct lockout l = {&kv, "fail", 5, 30, 900};
	char kid[128], kip[128], want[512], longid[1001];
	size_t n = 0, ncases = sizeof(take_cases) / sizeof(take_cases[0]);

	for (size_t i = 0; i < ncases; i++)
		script[n++] = take_cases[i].reply;
	script[n++] = FAKE_CLOSE; /* hung up twice: -EIO */
	script[n++] = FAKE_CLOSE;
	script[n++] = ":0\r\n"; /* lockout_clear */
	script[n++] = ":0\r\n"; /* lockout_refund */
	/* lockout_retry_after: TTL of the ID, of the address */
	script[n++] = ":100\r\n";
	script[n++] = ":300\r\n";
	script[n++] = ":-2\r\n"; /* neither exists */
	script[n++] = ":-2\r\n";
	script[n++] = ":-1\r\n"; /* no TTL */
	script[n++] = ":42\r\n";
	script[n++] = "-ERR no\r\n";
	script[n++] = "$2\r\n50\r\n"; /* not an integer */
	script[n++] = ":5000\r\n";    /* longer than the window */
	script[n++] = ":10\r\n";
	script[n++] = ":0\r\n"; /* a download site's scope */
	script[n++] = ":0\r\n"; /* an ID of 1000 odd characters */
	script[n] = NULL;

	if (fake_start(&f, script) != 0) {
		TAP_OK(0, "fake Redis started");
		return;
	}
	kv_init(&kv, f.path, NULL, 0);
	want_key("fail", "id", "admin01", kid, sizeof(kid));
	want_key("fail", "ip", "192.0.2.1", kip, sizeof(kip));
	for (size_t i = 0; i < ncases; i++)
		TAP_OK(lockout_take(&l, "admin01", "192.0.2.1") == take_cases[i].want,
		       "the script answered %s: %d", take_cases[i].what, take_cases[i].want);
	snprintf(want, sizeof(want), " 2 %s %s 5 30 900", kid, kip);
	TAP_OK(is_eval(fake_cmd(&f, 0), want),
	       "lockout_take is one EVAL of KEYS shomei:fail:id:<sha256(id)> shomei:fail:ip:<sha256(ip)>,"
	       " ARGV limit_id limit_ip window");
	TAP_OK(strstr(fake_cmd(&f, 0), "'EX'") != NULL &&
		       strstr(fake_cmd(&f, 0), "'EXPIRE'") != NULL,
	       "... whose script creates a counter with its TTL and repairs one without");
	TAP_OK(lockout_take(&l, "admin01", "192.0.2.1") == -EIO,
	       "the connection dropped twice: -EIO");

	int base = fake_ncmds(&f);
	lockout_clear(&l, "admin01", "192.0.2.1");
	snprintf(want, sizeof(want), " 2 %s %s 900 del", kid, kip);
	TAP_OK(is_eval(fake_cmd(&f, base), want),
	       "lockout_clear: one EVAL deleting the ID's counter, giving the address one back");
	lockout_refund(&l, "admin01", "192.0.2.1");
	snprintf(want, sizeof(want), " 2 %s %s 900 one", kid, kip);
	TAP_OK(is_eval(fake_cmd(&f, base + 1), want),
	       "lockout_refund: one EVAL giving each counter one back");
	TAP_OK(lockout_retry_after(&l, "admin01", "192.0.2.1") == 300,
	       "retry after: the longer TTL of the two (100, 300: 300)");
	snprintf(want, sizeof(want), "TTL %s", kid);
	TAP_OK(strcmp(fake_cmd(&f, base + 2), want) == 0, "retry after asks TTL of the ID's key");
	snprintf(want, sizeof(want), "TTL %s", kip);
	TAP_OK(strcmp(fake_cmd(&f, base + 3), want) == 0, "... and of the address's");
	TAP_OK(lockout_retry_after(&l, "admin01", "192.0.2.1") == 900,
	       "retry after, neither counter exists (-2): the window");
	TAP_OK(lockout_retry_after(&l, "admin01", "192.0.2.1") == 42,
	       "retry after, one without TTL (-1), the other 42: 42");
	TAP_OK(lockout_retry_after(&l, "admin01", "192.0.2.1") == 900,
	       "retry after, an error and a string: the window");
	TAP_OK(lockout_retry_after(&l, "admin01", "192.0.2.1") == 900,
	       "retry after, a TTL of 5000 with a window of 900: capped at the window");

	struct lockout dl = {&kv, "fail:dl:7", 5, 30, 900};
	TAP_OK(lockout_take(&dl, "taro@example.jp", "2001:db8::1") == 0, "scope fail:dl:7 taken");
	want_key("fail:dl:7", "id", "taro@example.jp", kid, sizeof(kid));
	want_key("fail:dl:7", "ip", "2001:db8::1", kip, sizeof(kip));
	snprintf(want, sizeof(want), " 2 %s %s 5 30 900", kid, kip);
	TAP_OK(is_eval(fake_cmd(&f, fake_ncmds(&f) - 1), want),
	       "a download site's keys: shomei:fail:dl:<tenant>:id:..., shomei:fail:dl:<tenant>:ip:...");

	memset(longid, ':', sizeof(longid) - 1);
	longid[sizeof(longid) - 1] = '\0';
	longid[10] = '*';
	longid[20] = ' ';
	TAP_OK(lockout_take(&l, longid, "\r\n") == 0, "an ID of 1000 ':' and a CRLF address");
	want_key("fail", "id", longid, kid, sizeof(kid));
	want_key("fail", "ip", "\r\n", kip, sizeof(kip));
	snprintf(want, sizeof(want), " 2 %s %s 5 30 900", kid, kip);
	TAP_OK(is_eval(fake_cmd(&f, fake_ncmds(&f) - 1), want) && strlen(kid) == 7 + 8 + 64 &&
		       strlen(kip) == 7 + 8 + 64,
	       "nothing a client typed becomes part of a key (fixed-length hashes)");
	kv_done(&kv);
	fake_stop(&f);
}

/* ---- against SHOMEI_TEST_REDIS ---- */

static long long
ttl(struct kv *kv, const char *scope, const char *kind, const char *v)
{
	char k[256];
	long long t = -3;

	want_key(scope, kind, v, k, sizeof(k));
	const char *argv[] = {"TTL", k};
	redisReply *r = kv_cmdv(kv, 2, argv);
	if (r != NULL && r->type == REDIS_REPLY_INTEGER)
		t = r->integer;
	freeReplyObject(r);
	return t;
}

/* Delete every key under shomei:<scope>:; the number of keys left afterwards. */
static long long
sweep(struct kv *kv, const char *scope)
{
	char pattern[128];
	long long left = -1;

	snprintf(pattern, sizeof(pattern), "shomei:%s:*", scope);
	for (int pass = 0; pass < 2; pass++) {
		const char *scan[] = {"SCAN", "0", "MATCH", pattern, "COUNT", "100000"};
		redisReply *r = kv_cmdv(kv, 6, scan);
		if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
			freeReplyObject(r);
			return -1;
		}
		left = (long long)r->element[1]->elements;
		for (size_t i = 0; pass == 0 && i < r->element[1]->elements; i++) {
			const char *del[] = {"DEL", r->element[1]->element[i]->str};
			freeReplyObject(kv_cmdv(kv, 2, del));
		}
		freeReplyObject(r);
	}
	return left;
}

/* The value of a counter, -1 when it does not exist. */
static long long
count(struct kv *kv, const char *scope, const char *kind, const char *v)
{
	char k[256];
	long long c = -1;

	want_key(scope, kind, v, k, sizeof(k));
	const char *argv[] = {"GET", k};
	redisReply *r = kv_cmdv(kv, 2, argv);
	if (r != NULL && r->type == REDIS_REPLY_STRING)
		c = strtoll(r->str, NULL, 10);
	freeReplyObject(r);
	return c;
}

/* The number of keys under shomei:<scope>:* without a TTL (-1 when Redis cannot say). */
static long long
without_ttl(struct kv *kv, const char *scope)
{
	char pattern[128];
	long long n = 0;

	snprintf(pattern, sizeof(pattern), "shomei:%s:*", scope);
	const char *scan[] = {"SCAN", "0", "MATCH", pattern, "COUNT", "100000"};
	redisReply *r = kv_cmdv(kv, 6, scan);
	if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
		freeReplyObject(r);
		return -1;
	}
	for (size_t i = 0; i < r->element[1]->elements; i++) {
		const char *argv[] = {"TTL", r->element[1]->element[i]->str};
		redisReply *t = kv_cmdv(kv, 2, argv);
		if (t == NULL || t->type != REDIS_REPLY_INTEGER || t->integer == -1)
			n++;
		freeReplyObject(t);
	}
	freeReplyObject(r);
	return n;
}

static void
set_plain(struct kv *kv, const char *scope, const char *kind, const char *v, const char *val)
{
	char k[256];

	want_key(scope, kind, v, k, sizeof(k));
	const char *argv[] = {"SET", k, val};
	freeReplyObject(kv_cmdv(kv, 3, argv));
}

/* One thread of a race: its own connection, what it does and what it saw. */
struct racer {
	const char *sock;
	const char *scope;
	int mode; /* 0: take once; 1: take, clear and refund until deadline */
	int window;
	time_t deadline;
	int rc;
	int errors;
	pthread_t tid;
};

static void *
race(void *arg)
{
	struct racer *r = arg;
	struct kv kv;
	struct lockout l = {&kv, r->scope, 5, 1000, r->window};

	kv_init(&kv, r->sock, NULL, 0);
	if (r->mode == 0)
		r->rc = lockout_take(&l, "crowd", "192.0.2.40");
	while (r->mode == 1 && time(NULL) < r->deadline) {
		int rc = lockout_take(&l, "churn", "192.0.2.41");
		if (rc < 0)
			r->errors++;
		if (rc == 0 && (rand() & 1))
			lockout_clear(&l, "churn", "192.0.2.41");
		else if (rc == 0)
			lockout_refund(&l, "churn", "192.0.2.41");
	}
	kv_done(&kv);
	return NULL;
}

static void
test_races(const char *sock, struct kv *kv, const char *scope)
{
	struct racer rs[40];
	char s1[48], s2[48];
	int passed = 0, locked = 0, errors = 0;
	long long bad = 0;

	snprintf(s1, sizeof(s1), "%s:crowd", scope);
	for (int i = 0; i < 40; i++) {
		rs[i] = (struct racer){sock, s1, 0, 900, 0, -99, 0, 0};
		pthread_create(&rs[i].tid, NULL, race, &rs[i]);
	}
	for (int i = 0; i < 40; i++) {
		pthread_join(rs[i].tid, NULL);
		passed += rs[i].rc == 0;
		locked += rs[i].rc == 1;
	}
	TAP_OK(passed == 5 && locked == 35,
	       "server: 40 concurrent attempts on one ID (limit 5): %d through, %d locked", passed,
	       locked);
	TAP_OK(count(kv, s1, "id", "crowd") == 5 && count(kv, s1, "ip", "192.0.2.40") == 5,
	       "server: ... and only the 5 counted");

	/* counters of a 1 s window expiring under 8 threads taking, clearing and refunding */
	snprintf(s2, sizeof(s2), "%s:churn", scope);
	for (int i = 0; i < 8; i++) {
		rs[i] = (struct racer){sock, s2, 1, 1, time(NULL) + 3, 0, 0, 0};
		pthread_create(&rs[i].tid, NULL, race, &rs[i]);
	}
	for (int k = 0; k < 60; k++) {
		long long n = without_ttl(kv, s2);
		bad += n != 0;
		usleep(40000);
	}
	for (int i = 0; i < 8; i++) {
		pthread_join(rs[i].tid, NULL);
		errors += rs[i].errors;
	}
	TAP_OK(bad == 0 && errors == 0 && without_ttl(kv, s2) == 0,
	       "server: expiring counters under concurrent take/clear/refund: never one without "
	       "a TTL (%lld samples with one, %d errors)",
	       bad, errors);
}

static void
test_server(const char *sock)
{
	unsigned char rnd[6];
	char scope[32], scope2[40], scope3[40];
	struct kv kv;
	int locked = 1;

	util_random(rnd, sizeof(rnd));
	snprintf(scope, sizeof(scope), "test-");
	util_hex(rnd, sizeof(rnd), scope + 5);
	snprintf(scope2, sizeof(scope2), "%s:dl:1", scope);
	snprintf(scope3, sizeof(scope3), "%s:dl:2", scope);
	kv_init(&kv, sock, NULL, 0);
	struct lockout l = {&kv, scope, 5, 7, 900};
	struct lockout dl1 = {&kv, scope2, 5, 3, 900};
	struct lockout dl2 = {&kv, scope3, 5, 3, 900};

	TAP_OK(lockout_retry_after(&l, "admin01", "192.0.2.1") == 900,
	       "server: retry after without counters: the window");
	int got = 0;
	for (int i = 0; i < 5; i++)
		got += lockout_take(&l, "admin01", "192.0.2.1") == 0;
	TAP_OK(got == 5, "server: 5 attempts (limit 5) all taken");
	long long t1 = ttl(&kv, scope, "id", "admin01"), t2 = ttl(&kv, scope, "ip", "192.0.2.1");
	TAP_OK(t1 > 890 && t1 <= 900 && t2 > 890 && t2 <= 900,
	       "server: both counters carry the window's TTL (%lld, %lld)", t1, t2);
	TAP_OK(lockout_take(&l, "admin01", "192.0.2.1") == 1, "server: the 6th attempt is locked");
	TAP_OK(count(&kv, scope, "id", "admin01") == 5 && count(&kv, scope, "ip", "192.0.2.1") == 5,
	       "server: ... and not counted");
	TAP_OK(lockout_take(&l, "admin01", "198.51.100.7") == 1,
	       "server: ... the ID from any address");
	TAP_OK(lockout_take(&dl1, "admin01", "192.0.2.1") == 0,
	       "server: ... but not in another scope");
	int ra = lockout_retry_after(&l, "admin01", "192.0.2.1");
	TAP_OK(ra > 890 && ra <= 900, "server: retry after %d s", ra);
	lockout_clear(&l, "admin01", "192.0.2.1");
	TAP_OK(lockout_take(&l, "admin01", "192.0.2.1") == 0 &&
		       count(&kv, scope, "id", "admin01") == 1 &&
		       count(&kv, scope, "ip", "192.0.2.1") == 5,
	       "server: lockout_clear forgets the ID; the address gives back only that attempt");
	lockout_refund(&l, "admin01", "192.0.2.1");
	TAP_OK(ttl(&kv, scope, "id", "admin01") == -2 &&
		       count(&kv, scope, "ip", "192.0.2.1") == 4 &&
		       ttl(&kv, scope, "ip", "192.0.2.1") > 0,
	       "server: lockout_refund gives both back (a counter at 1 is deleted, not left at 0)");
	lockout_refund(&l, "gone", "192.0.2.99");
	lockout_clear(&l, "gone", "192.0.2.99");
	TAP_OK(ttl(&kv, scope, "id", "gone") == -2 && ttl(&kv, scope, "ip", "192.0.2.99") == -2,
	       "server: refund and clear of counters that are gone (expired) create nothing");
	lockout_take(&l, "other1", "192.0.2.1");
	lockout_take(&l, "other2", "192.0.2.1");
	lockout_take(&l, "other3", "192.0.2.1");
	TAP_OK(lockout_take(&l, "fresh", "192.0.2.1") == 1,
	       "server: 7 attempts from one address lock it for every ID");
	TAP_OK(lockout_take(&l, "fresh", "192.0.2.2") == 0, "server: ... not another address");

	/* a download site counts an address per tenant */
	for (int i = 0; i < 3; i++)
		lockout_take(&dl1, "u@example.jp", "192.0.2.50");
	TAP_OK(lockout_take(&dl1, "v@example.jp", "192.0.2.50") == 1 &&
		       lockout_take(&dl2, "v@example.jp", "192.0.2.50") == 0,
	       "server: an address locked at one tenant's site is not at another's");

	/* counters left without a TTL (by an older version) are repaired, not kept forever */
	set_plain(&kv, scope, "id", "legacy", "2");
	set_plain(&kv, scope, "ip", "192.0.2.60", "garbage");
	TAP_OK(lockout_take(&l, "legacy", "192.0.2.60") == 0 &&
		       count(&kv, scope, "id", "legacy") == 3 &&
		       count(&kv, scope, "ip", "192.0.2.60") == 1,
	       "server: a counter without TTL counts on; one that is not a number starts again");
	t1 = ttl(&kv, scope, "id", "legacy");
	t2 = ttl(&kv, scope, "ip", "192.0.2.60");
	TAP_OK(t1 > 0 && t1 <= 900 && t2 > 0 && t2 <= 900,
	       "server: ... and both get the window's TTL (%lld, %lld)", t1, t2);
	set_plain(&kv, scope, "ip", "192.0.2.61", "3");
	lockout_refund(&l, "legacy", "192.0.2.61");
	t1 = ttl(&kv, scope, "id", "legacy");
	t2 = ttl(&kv, scope, "ip", "192.0.2.61");
	TAP_OK(t1 > 0 && t2 > 0 && count(&kv, scope, "ip", "192.0.2.61") == 2,
	       "server: a refund leaves a TTL on what it keeps (%lld, %lld)", t1, t2);
	TAP_OK(without_ttl(&kv, scope) == 0, "server: no key of the scope without a TTL");

	/* a counter ends with its window */
	struct lockout quick = {&kv, scope, 1, 100, 1};
	lockout_take(&quick, "brief", "203.0.113.9");
	TAP_OK(lockout_take(&quick, "brief", "203.0.113.9") == 1, "server: window 1 s: locked");
	for (int i = 0; i < 40 && locked == 1; i++) {
		usleep(100000);
		locked = lockout_take(&quick, "brief", "203.0.113.9");
	}
	TAP_OK(locked == 0, "server: ... and free again once the window has passed");

	test_races(sock, &kv, scope);
	TAP_OK(sweep(&kv, scope) == 0, "server: every key under shomei:%s: deleted", scope);
	kv_done(&kv);
}

int
main(void)
{
	const char *sock = fixture_env("SHOMEI_TEST_REDIS");

	signal(SIGPIPE, SIG_IGN); /* as svc_main does */
	test_dead();
	test_fake();
	if (sock == NULL) {
		printf("# SHOMEI_TEST_REDIS not set: the checks against Redis did not run\n");
		return tap_done();
	}
	test_server(sock);
	return tap_done();
}
