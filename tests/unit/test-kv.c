/*
 * test-kv.c: the Redis layer. Without a server: unreachable sockets and ports give NULL and
 * leave no connection behind, kv_key's limits, and (against a scripted fake on a unix socket)
 * the retry after a dropped connection and error replies. With SHOMEI_TEST_REDIS (a unix
 * socket path): binary-safe values, error replies, reconnecting after the server closed the
 * connection, with keys under a random prefix that are deleted afterwards.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "store/kv.h"
#include "core/util.h"
#include "db-fixture.h"
#include "fake-redis.h"
#include "tap.h"

static void
test_init(void)
{
	struct kv kv;

	TAP_OK(kv_init(&kv, "/run/x.sock", NULL, 6379) == 0 && kv.socket != NULL &&
		       strcmp(kv.socket, "/run/x.sock") == 0 && strcmp(kv.host, "127.0.0.1") == 0 &&
		       kv.port == 6379 && kv.c == NULL,
	       "kv_init copies the socket, defaults the host, does not connect");
	kv_done(&kv);
	TAP_OK(kv.socket == NULL && kv.host == NULL && kv.c == NULL, "kv_done clears the struct");
	kv_done(&kv);
	TAP_OK(kv.host == NULL, "kv_done twice is harmless");
	TAP_OK(kv_init(&kv, "", "::1", 1) == 0 && kv.socket == NULL && strcmp(kv.host, "::1") == 0,
	       "an empty socket means TCP");
	kv_done(&kv);
	TAP_OK(kv_init(&kv, NULL, NULL, 1) == 0 && kv.socket == NULL, "no socket means TCP");
	kv_done(&kv);
}

/* A unix socket file nobody listens on (a Redis that died and left it): connect is refused. */
static int
stale_socket(char *dir, char *path, size_t len)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd;

	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(path, len, "%s/stale.sock", dir);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

static void
test_unreachable(void)
{
	char dir[] = "/tmp/shomei-test-kv-XXXXXX", stale[100];
	const char *get[] = {"GET", "shomei:x"};
	const size_t lens[] = {3, 8};
	struct {
		const char *what, *socket, *host;
		int port;
	} cases[] = {
		{"a socket in a directory that does not exist", DEAD_REDIS, NULL, 0},
		{"a socket file nobody listens on", stale, NULL, 0},
		{"a TCP port nobody listens on", NULL, "127.0.0.1", 1},
	};
	struct kv kv;

	TAP_OK(stale_socket(dir, stale, sizeof(stale)) == 0, "a stale socket file made");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		kv_init(&kv, cases[i].socket, cases[i].host, cases[i].port);
		TAP_OK(kv_cmd(&kv, 2, get, lens) == NULL && kv.c == NULL,
		       "%s: kv_cmd answers NULL, no context kept", cases[i].what);
		TAP_OK(kv_cmdv(&kv, 2, get) == NULL && kv.c == NULL, "%s: kv_cmdv NULL",
		       cases[i].what);
		TAP_OK(kv_ping(&kv) == 0, "%s: kv_ping 0", cases[i].what);
		kv_done(&kv);
	}
	int all = 1;
	kv_init(&kv, DEAD_REDIS, NULL, 0);
	for (int i = 0; i < 50 && all; i++)
		all = kv_cmdv(&kv, 2, get) == NULL && kv.c == NULL;
	TAP_OK(all, "50 attempts in a row: NULL each time, nothing kept (leak check)");
	kv_done(&kv);
	unlink(stale);
	rmdir(dir);
}

static void
test_key(void)
{
	static const struct {
		const char *a, *b;
		size_t len;
		int want;
		const char *out;
	} cases[] = {
		{"session", "abc", 64, 0, "shomei:session:abc"},
		{"issue:wake", NULL, 64, 0, "shomei:issue:wake"},
		{"", NULL, 64, 0, "shomei:"},
		{"", "", 64, 0, "shomei::"},
		{"a", "b", sizeof("shomei:a:b"), 0, "shomei:a:b"},         /* exactly fits */
		{"a", "b", sizeof("shomei:a:b") - 1, -ENAMETOOLONG, NULL}, /* one short */
		{"a", NULL, sizeof("shomei:a"), 0, "shomei:a"},
		{"a", NULL, sizeof("shomei:a") - 1, -ENAMETOOLONG, NULL},
		{"a", "b", 1, -ENAMETOOLONG, NULL},
	};
	char buf[64], big[300];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(buf, 'Z', sizeof(buf));
		int rc = kv_key(buf, cases[i].len, cases[i].a, cases[i].b);
		if (cases[i].want == 0)
			TAP_OK(rc == 0 && strcmp(buf, cases[i].out) == 0,
			       "kv_key(\"%s\", %s%s%s, %zu): %s", cases[i].a,
			       cases[i].b ? "\"" : "", cases[i].b ? cases[i].b : "NULL",
			       cases[i].b ? "\"" : "", cases[i].len, cases[i].out);
		else
			TAP_OK(rc == -ENAMETOOLONG && buf[cases[i].len] == 'Z' &&
				       memchr(buf, '\0', cases[i].len) != NULL,
			       "kv_key(\"%s\", %zu): -ENAMETOOLONG, nothing written past len, "
			       "NUL-terminated",
			       cases[i].a, cases[i].len);
	}
	TAP_OK(kv_key(NULL, 0, "a", "b") == -ENAMETOOLONG, "len 0: -ENAMETOOLONG, buf not touched");
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	TAP_OK(kv_key(buf, sizeof(buf), "fail", big) == -ENAMETOOLONG,
	       "a 299-byte part into 64 bytes: -ENAMETOOLONG");

	const char *many[17];
	struct kv kv;
	for (int i = 0; i < 17; i++)
		many[i] = "x";
	kv_init(&kv, DEAD_REDIS, NULL, 0);
	TAP_OK(kv_cmdv(&kv, 17, many) == NULL && kv.c == NULL,
	       "kv_cmdv with 17 arguments: NULL without connecting");
	TAP_OK(kv_claim(&kv, "shomei:x", "1000") == 1,
	       "kv_claim without Redis: 1 (the caller goes ahead as if alone)");
	kv_done(&kv);
}

/* Against the scripted fake: what kv does with a connection that drops, and with errors. */
static void
test_fake(void)
{
	static const char *const script[] = {
		"+PONG\r\n",                /* 1 PING */
		FAKE_CLOSE,                 /* 2 GET: hung up ... */
		"$5\r\nhello\r\n",          /* 2 ... answered after the reconnect */
		FAKE_CLOSE,                 /* 3 GET: hung up ... */
		FAKE_CLOSE,                 /* 3 ... and again after the reconnect: NULL */
		"-ERR wrong kind\r\n",      /* 4 INCR: an error reply is NULL */
		"$-1\r\n",                  /* 5 GET of a missing key: a nil reply, not NULL */
		"?garbage\r\n",             /* 6 a protocol error: dropped, retried ... */
		":7\r\n",                   /* 6 ... answered */
		"*2\r\n$1\r\na\r\n$-1\r\n", /* 7 MGET */
		NULL,
	};
	const char *get[] = {"GET", "k"}, *incr[] = {"INCR", "k"};
	const char *set[] = {"SET", "k\0x", "v\r\nv"};
	const size_t setlens[] = {3, 3, 4};
	struct fake_redis f;
	struct kv kv;
	redisReply *r;
	int conns;

	if (fake_start(&f, script) != 0) {
		TAP_OK(0, "fake Redis started");
		return;
	}
	kv_init(&kv, f.path, NULL, 0);
	TAP_OK(kv_ping(&kv) == 1 && kv.c != NULL && strcmp(fake_cmd(&f, 0), "PING") == 0,
	       "fake: PING answered, the connection kept");
	r = kv_cmdv(&kv, 2, get);
	TAP_OK(r != NULL && r->type == REDIS_REPLY_STRING && r->len == 5 &&
		       memcmp(r->str, "hello", 5) == 0 && fake_conns(&f) == 2 &&
		       strcmp(fake_cmd(&f, 2), "GET k") == 0,
	       "fake: hung up on GET, kv reconnected once and sent it again");
	freeReplyObject(r);
	conns = fake_conns(&f);
	TAP_OK(kv_cmdv(&kv, 2, get) == NULL && kv.c == NULL && fake_conns(&f) == conns + 1,
	       "fake: hung up twice: NULL after one retry, no context kept");
	TAP_OK(kv_cmdv(&kv, 2, incr) == NULL && kv.c != NULL,
	       "fake: an error reply is NULL, the connection stays");
	r = kv_cmdv(&kv, 2, get);
	TAP_OK(r != NULL && r->type == REDIS_REPLY_NIL, "fake: a nil reply is a reply, not NULL");
	freeReplyObject(r);
	conns = fake_conns(&f);
	r = kv_cmdv(&kv, 2, incr);
	TAP_OK(r != NULL && r->type == REDIS_REPLY_INTEGER && r->integer == 7 &&
		       fake_conns(&f) == conns + 1,
	       "fake: a reply that is not RESP: reconnected and retried");
	freeReplyObject(r);
	const char *mget[] = {"MGET", "a", "b"};
	r = kv_cmdv(&kv, 3, mget);
	TAP_OK(r != NULL && r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
		       r->element[1]->type == REDIS_REPLY_NIL,
	       "fake: an array reply");
	freeReplyObject(r);
	r = kv_cmd(&kv, 3, set, setlens);
	TAP_OK(r == NULL && strcmp(fake_cmd(&f, fake_ncmds(&f) - 1), "SET k0x v\r\nv") == 0,
	       "fake: arguments with NUL and CRLF are sent whole (binary safe); script end: NULL");
	freeReplyObject(r);
	kv_done(&kv);
	fake_stop(&f);
}

/* ---- against SHOMEI_TEST_REDIS ---- */

static void
test_server(const char *sock)
{
	unsigned char rnd[6];
	char prefix[32], k1[128], k2[128], pattern[160];
	struct kv kv, other;
	redisReply *r;

	util_random(rnd, sizeof(rnd));
	snprintf(prefix, sizeof(prefix), "test-");
	util_hex(rnd, sizeof(rnd), prefix + 5);
	kv_key(k1, sizeof(k1), prefix, "bin");
	kv_key(k2, sizeof(k2), prefix, "n");
	snprintf(pattern, sizeof(pattern), "shomei:%s:*", prefix);

	TAP_OK(kv_init(&kv, sock, NULL, 0) == 0 && kv_ping(&kv) == 1,
	       "server: PING over SHOMEI_TEST_REDIS");
	const char *set[] = {"SET", k1, "a\0b\r\nc"};
	const size_t setlens[] = {3, strlen(k1), 6};
	r = kv_cmd(&kv, 3, set, setlens);
	TAP_OK(r != NULL && r->type == REDIS_REPLY_STATUS && strcmp(r->str, "OK") == 0,
	       "server: SET a value with NUL and CRLF");
	freeReplyObject(r);
	const char *get[] = {"GET", k1};
	r = kv_cmdv(&kv, 2, get);
	TAP_OK(r != NULL && r->type == REDIS_REPLY_STRING && r->len == 6 &&
		       memcmp(r->str, "a\0b\r\nc", 6) == 0,
	       "server: GET gives the same 6 bytes back");
	freeReplyObject(r);
	const char *incr[] = {"INCR", k1};
	TAP_OK(kv_cmdv(&kv, 2, incr) == NULL && kv.c != NULL && kv_ping(&kv) == 1,
	       "server: INCR of a non-number: NULL (error reply), connection still good");
	const char *unknown[] = {"NOSUCHCOMMAND"};
	TAP_OK(kv_cmdv(&kv, 1, unknown) == NULL && kv_ping(&kv) == 1,
	       "server: an unknown command: NULL");
	const char *incr2[] = {"INCR", k2};
	r = kv_cmdv(&kv, 2, incr2);
	TAP_OK(r != NULL && r->type == REDIS_REPLY_INTEGER && r->integer == 1, "server: INCR: 1");
	freeReplyObject(r);

	/* the server closes the connection (CLIENT KILL from another client) */
	const char *id[] = {"CLIENT", "ID"};
	r = kv_cmdv(&kv, 2, id);
	long long cid = r != NULL && r->type == REDIS_REPLY_INTEGER ? r->integer : -1;
	freeReplyObject(r);
	char cids[24];
	snprintf(cids, sizeof(cids), "%lld", cid);
	const char *kill[] = {"CLIENT", "KILL", "ID", cids};
	kv_init(&other, sock, NULL, 0);
	r = kv_cmdv(&other, 4, kill);
	TAP_OK(r != NULL && r->type == REDIS_REPLY_INTEGER && r->integer == 1,
	       "server: the first connection killed");
	freeReplyObject(r);
	kv_done(&other);
	r = kv_cmdv(&kv, 2, incr2);
	TAP_OK(r != NULL && r->type == REDIS_REPLY_INTEGER && r->integer == 2,
	       "server: the next command reconnects and runs once (INCR: 2, not 3)");
	freeReplyObject(r);

	/* a claim: one holder at a time, until it ends or lapses */
	char k3[128];
	kv_key(k3, sizeof(k3), prefix, "claim");
	TAP_OK(kv_claim(&kv, k3, "60000") == 1, "server: kv_claim of a free key: 1 (held)");
	TAP_OK(kv_claim(&kv, k3, "60000") == 0, "server: kv_claim again while held: 0");
	const char *pttl[] = {"PTTL", k3};
	r = kv_cmdv(&kv, 2, pttl);
	TAP_OK(r != NULL && r->type == REDIS_REPLY_INTEGER && r->integer > 0 && r->integer <= 60000,
	       "server: the claim lapses by itself (PTTL %lld)", r ? r->integer : -1);
	freeReplyObject(r);
	const char *del3[] = {"DEL", k3};
	freeReplyObject(kv_cmdv(&kv, 2, del3));
	TAP_OK(kv_claim(&kv, k3, "1") == 1, "server: once it ended, a claim is 1 again");
	struct timespec ts = {0, 20 * 1000 * 1000};
	nanosleep(&ts, NULL);
	TAP_OK(kv_claim(&kv, k3, "60000") == 1, "server: a claim that lapsed (1 ms) can be taken");
	freeReplyObject(kv_cmdv(&kv, 2, del3));

	/* clean up, and check nothing under the prefix is left */
	const char *del[] = {"DEL", k1, k2};
	r = kv_cmdv(&kv, 3, del);
	TAP_OK(r != NULL && r->type == REDIS_REPLY_INTEGER && r->integer == 2,
	       "server: the test's two keys deleted");
	freeReplyObject(r);
	const char *scan[] = {"SCAN", "0", "MATCH", pattern, "COUNT", "100000"};
	r = kv_cmdv(&kv, 6, scan);
	TAP_OK(r != NULL && r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
		       r->element[1]->elements == 0,
	       "server: no key left under %s", pattern);
	freeReplyObject(r);
	kv_done(&kv);
}

int
main(void)
{
	const char *sock = fixture_env("SHOMEI_TEST_REDIS");

	/* as in every process that uses kv (svc_main): a write to a closed socket is an error */
	signal(SIGPIPE, SIG_IGN);
	test_init();
	test_unreachable();
	test_key();
	test_fake();
	if (sock == NULL) {
		printf("# SHOMEI_TEST_REDIS not set: the checks against Redis did not run\n");
		return tap_done();
	}
	test_server(sock);
	return tap_done();
}
