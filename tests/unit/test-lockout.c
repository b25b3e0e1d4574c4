/*
 * test-lockout.c: failed-login counters. Without a server: Redis unreachable (lockout_check
 * cannot say: -EIO; the others do nothing and do not crash), and against a scripted fake the
 * keys and commands sent and how each kind of reply is read. With SHOMEI_TEST_REDIS: counting
 * to the limits, clearing, TTLs and expiry, with scopes of random names deleted afterwards.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

static void
test_dead(void)
{
	struct kv kv;
	struct lockout l = {&kv, "fail", 5, 30, 900};

	kv_init(&kv, DEAD_REDIS, NULL, 0);
	TAP_OK(lockout_check(&l, "admin01", "192.0.2.1") == -EIO,
	       "Redis unreachable: lockout_check says -EIO");
	lockout_fail(&l, "admin01", "192.0.2.1");
	TAP_OK(kv.c == NULL, "lockout_fail with Redis unreachable: no crash, nothing kept");
	lockout_clear(&l, "admin01");
	TAP_OK(kv.c == NULL, "lockout_clear with Redis unreachable: no crash");
	TAP_OK(lockout_retry_after(&l, "admin01", "192.0.2.1") == 900,
	       "lockout_retry_after with Redis unreachable: the window");
	kv_done(&kv);
}

/* MGET replies and what lockout_check makes of them (limit_id 5, limit_ip 30). */
static const struct {
	const char *what, *reply;
	int want;
} mget_cases[] = {
	{"both counters absent", "*2\r\n$-1\r\n$-1\r\n", 0},
	{"the ID at its limit", "*2\r\n$1\r\n5\r\n$-1\r\n", 1},
	{"the ID past its limit", "*2\r\n$2\r\n17\r\n$-1\r\n", 1},
	{"both one below", "*2\r\n$1\r\n4\r\n$2\r\n29\r\n", 0},
	{"the address at its limit", "*2\r\n$-1\r\n$2\r\n30\r\n", 1},
	{"a counter that is not a number", "*2\r\n$3\r\nabc\r\n$-1\r\n", 0},
	{"a negative counter", "*2\r\n$2\r\n-9\r\n$-1\r\n", 0},
	{"integers instead of strings", "*2\r\n:9\r\n:99\r\n", 0},
	{"an integer instead of an array", ":1\r\n", -EIO},
	{"an array of one", "*1\r\n$1\r\n9\r\n", -EIO},
	{"an array of three", "*3\r\n$-1\r\n$-1\r\n$-1\r\n", -EIO},
	{"an empty array", "*0\r\n", -EIO},
	{"a status", "+OK\r\n", -EIO},
	{"an error", "-ERR no\r\n", -EIO},
};

static void
test_fake(void)
{
	static const char *script[64];
	struct fake_redis f;
	struct kv kv;
	struct lockout l = {&kv, "fail", 5, 30, 900};
	char kid[128], kip[128], want[512], longid[1001];
	size_t n = 0, ncases = sizeof(mget_cases) / sizeof(mget_cases[0]);

	for (size_t i = 0; i < ncases; i++)
		script[n++] = mget_cases[i].reply;
	script[n++] = FAKE_CLOSE; /* hung up twice: -EIO */
	script[n++] = FAKE_CLOSE;
	/* lockout_fail: SET NX then INCR, for the ID and for the address */
	script[n++] = "+OK\r\n";
	script[n++] = ":1\r\n";
	script[n++] = "$-1\r\n"; /* SET NX of a counter that exists */
	script[n++] = ":8\r\n";
	script[n++] = ":1\r\n"; /* lockout_clear: DEL */
	/* lockout_retry_after: TTL of the ID, of the address */
	script[n++] = ":100\r\n";
	script[n++] = ":300\r\n";
	script[n++] = ":-2\r\n"; /* neither exists */
	script[n++] = ":-2\r\n";
	script[n++] = ":-1\r\n"; /* no TTL */
	script[n++] = ":42\r\n";
	script[n++] = "-ERR no\r\n";
	script[n++] = "$2\r\n50\r\n";         /* not an integer */
	script[n++] = "*2\r\n$-1\r\n$-1\r\n"; /* the download site's scope */
	script[n++] = "*2\r\n$-1\r\n$-1\r\n"; /* an ID of 1000 odd characters */
	script[n] = NULL;

	if (fake_start(&f, script) != 0) {
		TAP_OK(0, "fake Redis started");
		return;
	}
	kv_init(&kv, f.path, NULL, 0);
	want_key("fail", "id", "admin01", kid, sizeof(kid));
	want_key("fail", "ip", "192.0.2.1", kip, sizeof(kip));
	for (size_t i = 0; i < ncases; i++)
		TAP_OK(lockout_check(&l, "admin01", "192.0.2.1") == mget_cases[i].want,
		       "MGET answered with %s: %d", mget_cases[i].what, mget_cases[i].want);
	snprintf(want, sizeof(want), "MGET %s %s", kid, kip);
	TAP_OK(strcmp(fake_cmd(&f, 0), want) == 0,
	       "lockout_check asks MGET shomei:fail:id:<sha256(id)> shomei:fail:ip:<sha256(ip)>");
	TAP_OK(lockout_check(&l, "admin01", "192.0.2.1") == -EIO,
	       "the connection dropped twice: -EIO");

	int base = fake_ncmds(&f);
	lockout_fail(&l, "admin01", "192.0.2.1");
	char w0[256], w1[256], w2[256], w3[256];
	snprintf(w0, sizeof(w0), "SET %s 0 EX 900 NX", kid);
	snprintf(w1, sizeof(w1), "INCR %s", kid);
	snprintf(w2, sizeof(w2), "SET %s 0 EX 900 NX", kip);
	snprintf(w3, sizeof(w3), "INCR %s", kip);
	TAP_OK(fake_ncmds(&f) == base + 4 && strcmp(fake_cmd(&f, base), w0) == 0 &&
		       strcmp(fake_cmd(&f, base + 1), w1) == 0 &&
		       strcmp(fake_cmd(&f, base + 2), w2) == 0 &&
		       strcmp(fake_cmd(&f, base + 3), w3) == 0,
	       "lockout_fail: SET <key> 0 EX <window> NX, then INCR, for the ID and the address");
	lockout_clear(&l, "admin01");
	snprintf(w0, sizeof(w0), "DEL %s", kid);
	TAP_OK(strcmp(fake_cmd(&f, base + 4), w0) == 0,
	       "lockout_clear deletes the ID's counter only");
	TAP_OK(lockout_retry_after(&l, "admin01", "192.0.2.1") == 300,
	       "retry after: the longer TTL of the two (100, 300: 300)");
	snprintf(w0, sizeof(w0), "TTL %s", kid);
	snprintf(w1, sizeof(w1), "TTL %s", kip);
	TAP_OK(strcmp(fake_cmd(&f, base + 5), w0) == 0 && strcmp(fake_cmd(&f, base + 6), w1) == 0,
	       "retry after asks TTL of both keys");
	TAP_OK(lockout_retry_after(&l, "admin01", "192.0.2.1") == 900,
	       "retry after, neither counter exists (-2): the window");
	TAP_OK(lockout_retry_after(&l, "admin01", "192.0.2.1") == 42,
	       "retry after, one without TTL (-1), the other 42: 42");
	TAP_OK(lockout_retry_after(&l, "admin01", "192.0.2.1") == 900,
	       "retry after, an error and a string: the window");

	struct lockout dl = {&kv, "fail:dl", 5, 30, 900};
	TAP_OK(lockout_check(&dl, "taro@example.jp", "2001:db8::1") == 0, "scope fail:dl checked");
	want_key("fail:dl", "id", "taro@example.jp", kid, sizeof(kid));
	want_key("fail:dl", "ip", "2001:db8::1", kip, sizeof(kip));
	snprintf(want, sizeof(want), "MGET %s %s", kid, kip);
	TAP_OK(strcmp(fake_cmd(&f, fake_ncmds(&f) - 1), want) == 0,
	       "the download site's keys: shomei:fail:dl:id:..., shomei:fail:dl:ip:...");

	memset(longid, ':', sizeof(longid) - 1);
	longid[sizeof(longid) - 1] = '\0';
	longid[10] = '*';
	longid[20] = ' ';
	TAP_OK(lockout_check(&l, longid, "\r\n") == 0, "an ID of 1000 ':' and a CRLF address");
	want_key("fail", "id", longid, kid, sizeof(kid));
	want_key("fail", "ip", "\r\n", kip, sizeof(kip));
	snprintf(want, sizeof(want), "MGET %s %s", kid, kip);
	TAP_OK(strcmp(fake_cmd(&f, fake_ncmds(&f) - 1), want) == 0 &&
		       strlen(fake_cmd(&f, fake_ncmds(&f) - 1)) == 5 + 2 * (7 + 8 + 64) + 1,
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

static void
test_server(const char *sock)
{
	unsigned char rnd[6];
	char scope[32], scope2[40];
	struct kv kv;
	int locked = 1;

	util_random(rnd, sizeof(rnd));
	snprintf(scope, sizeof(scope), "test-");
	util_hex(rnd, sizeof(rnd), scope + 5);
	snprintf(scope2, sizeof(scope2), "%s:dl", scope);
	kv_init(&kv, sock, NULL, 0);
	struct lockout l = {&kv, scope, 5, 7, 900};
	struct lockout dl = {&kv, scope2, 5, 7, 900};

	TAP_OK(lockout_check(&l, "admin01", "192.0.2.1") == 0, "server: nothing counted: 0");
	TAP_OK(lockout_retry_after(&l, "admin01", "192.0.2.1") == 900,
	       "server: retry after without counters: the window");
	for (int i = 0; i < 4; i++)
		lockout_fail(&l, "admin01", "192.0.2.1");
	TAP_OK(lockout_check(&l, "admin01", "192.0.2.1") == 0, "server: 4 failures (limit 5): 0");
	long long t1 = ttl(&kv, scope, "id", "admin01"), t2 = ttl(&kv, scope, "ip", "192.0.2.1");
	TAP_OK(t1 > 890 && t1 <= 900 && t2 > 890 && t2 <= 900,
	       "server: both counters carry the window's TTL (%lld, %lld)", t1, t2);
	lockout_fail(&l, "admin01", "192.0.2.1");
	TAP_OK(lockout_check(&l, "admin01", "192.0.2.1") == 1, "server: the 5th failure locks");
	TAP_OK(lockout_check(&l, "admin01", "198.51.100.7") == 1,
	       "server: ... the ID from any address");
	TAP_OK(lockout_check(&dl, "admin01", "192.0.2.1") == 0,
	       "server: ... but not in another scope");
	int ra = lockout_retry_after(&l, "admin01", "192.0.2.1");
	TAP_OK(ra > 890 && ra <= 900, "server: retry after %d s", ra);
	lockout_clear(&l, "admin01");
	TAP_OK(lockout_check(&l, "admin01", "192.0.2.1") == 0 &&
		       ttl(&kv, scope, "id", "admin01") == -2 &&
		       ttl(&kv, scope, "ip", "192.0.2.1") > 0,
	       "server: lockout_clear forgets the ID; the address keeps its count (5 of 7)");
	lockout_fail(&l, "other1", "192.0.2.1");
	lockout_fail(&l, "other2", "192.0.2.1");
	TAP_OK(lockout_check(&l, "fresh", "192.0.2.1") == 1,
	       "server: 7 failures from one address lock it for every ID");
	TAP_OK(lockout_check(&l, "fresh", "192.0.2.2") == 0, "server: ... not another address");

	/* a counter ends with its window */
	struct lockout quick = {&kv, scope, 1, 100, 1};
	lockout_fail(&quick, "brief", "203.0.113.9");
	TAP_OK(lockout_check(&quick, "brief", "203.0.113.9") == 1, "server: window 1 s: locked");
	for (int i = 0; i < 40 && locked == 1; i++) {
		usleep(100000);
		locked = lockout_check(&quick, "brief", "203.0.113.9");
	}
	TAP_OK(locked == 0, "server: ... and free again once the window has passed");

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
