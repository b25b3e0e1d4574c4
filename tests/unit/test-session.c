/*
 * test-session.c: the session store. Without a server: tokens that cannot be sessions, Redis
 * away (-EIO), the cookie headers. With SHOMEI_TEST_REDIS (a unix socket, as scripts/test sets
 * it once the stack is up): create, read, the record under the token's hash, idle and absolute
 * lifetimes, two kinds apart, destroy.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/util.h"
#include "web/session.h"
#include "tap.h"

static const struct session_kind admin = {"test-sess", "__Host-test", 1800, 28800};
static const struct session_kind other = {"test-other", "__Host-test-o", 60, 120};

static void
test_offline(void)
{
	char token[UTIL_TOKEN_LEN], buf[64];
	struct session s;
	struct http_req req;
	struct kv kv;

	TAP_OK(kv_init(&kv, "/nonexistent/redis.sock", NULL, 0) == 0,
	       "kv to a socket that is not there");
	TAP_OK(session_get(&kv, &admin, "short", &s) == SESSION_E_NONE,
	       "a token of the wrong length is no session (Redis not asked)");
	TAP_OK(session_get(&kv, &admin, NULL, &s) == SESSION_E_NONE, "no token is no session");
	memset(token, 'A', sizeof(token) - 1);
	token[sizeof(token) - 1] = '\0';
	TAP_OK(session_get(&kv, &admin, token, &s) == -EIO, "Redis away: -EIO, not 'logged out'");
	TAP_OK(session_create(&kv, &admin, "1 2", token, &s) == -EIO,
	       "create with Redis away: -EIO");
	TAP_OK(session_destroy(&kv, &admin, "short") == -EINVAL,
	       "destroy a token that cannot be one");
	TAP_OK(session_create(&kv, &admin, "", token, &s) == -EINVAL, "an empty grant is refused");
	TAP_OK(session_create_for(&kv, &admin, "7", "7 3", token, &s) == -EIO,
	       "create for an owner with Redis away: -EIO");
	TAP_OK(session_end_owner(&kv, &admin, "7", NULL, NULL) == -EIO,
	       "ending an owner's sessions with Redis away: -EIO, not 'none'");
	TAP_OK(session_end_owner(&kv, &admin, "7:x", NULL, NULL) == -EINVAL &&
		       session_end_owner(&kv, &admin, "", NULL, NULL) == -EINVAL &&
		       session_create_for(&kv, &admin, NULL, "7 3", token, &s) == -EINVAL,
	       "an owner that cannot be one (empty, NULL, with ':') is refused");
	{
		char big[SESSION_DATA_MAX + 1];
		memset(big, '1', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		TAP_OK(session_create(&kv, &admin, big, token, &s) == -EINVAL,
		       "a grant over SESSION_DATA_MAX is refused");
	}
	kv_done(&kv);

	memset(&req, 0, sizeof(req));
	req.cookie = "a=1; __Host-test=tok123; __Host-test-o=zzz";
	TAP_OK(session_token(&req, &admin, buf, sizeof(buf)) && strcmp(buf, "tok123") == 0,
	       "the kind's cookie is found among others");
	TAP_OK(session_token(&req, &other, buf, sizeof(buf)) && strcmp(buf, "zzz") == 0,
	       "another kind reads its own cookie");
	session_cookie(&req, &admin, "tok123");
	TAP_OK(strstr(req.headers, "Set-Cookie: __Host-test=tok123; Path=/; Secure; HttpOnly; "
				   "SameSite=Strict") != NULL,
	       "Set-Cookie hands out the token: Secure, HttpOnly, SameSite=Strict, Path=/");
	req.hlen = 0;
	req.headers[0] = '\0';
	session_cookie(&req, &admin, NULL);
	TAP_OK(strstr(req.headers, "__Host-test=; ") != NULL && strstr(req.headers, "Max-Age=0"),
	       "a cleared cookie expires at once");
}

static char *
redis_get(struct kv *kv, const char *prefix, const char *token)
{
	char key[128], hash[65];
	redisReply *r;
	char *v = NULL;

	util_sha256_hex(token, strlen(token), hash);
	kv_key(key, sizeof(key), prefix, hash);
	const char *argv[] = {"GET", key};
	if ((r = kv_cmdv(kv, 2, argv)) != NULL && r->type == REDIS_REPLY_STRING)
		v = strdup(r->str);
	freeReplyObject(r);
	return v;
}

static long long
redis_ttl(struct kv *kv, const char *prefix, const char *token)
{
	char key[128], hash[65];
	redisReply *r;
	long long t = -9;

	util_sha256_hex(token, strlen(token), hash);
	kv_key(key, sizeof(key), prefix, hash);
	const char *argv[] = {"TTL", key};
	if ((r = kv_cmdv(kv, 2, argv)) != NULL && r->type == REDIS_REPLY_INTEGER)
		t = r->integer;
	freeReplyObject(r);
	return t;
}

static void
redis_set(struct kv *kv, const char *prefix, const char *token, const char *value)
{
	char key[128], hash[65];

	util_sha256_hex(token, strlen(token), hash);
	kv_key(key, sizeof(key), prefix, hash);
	const char *argv[] = {"SET", key, value, "EX", "100"};
	freeReplyObject(kv_cmdv(kv, 5, argv));
}

static void
test_redis(const char *sock)
{
	char token[UTIL_TOKEN_LEN], token2[UTIL_TOKEN_LEN], *v, forged[256];
	struct session s, g;
	struct kv kv;

	kv_init(&kv, sock, NULL, 0);
	TAP_OK(session_create(&kv, &admin, "7 3", token, &s) == 0 && strlen(token) == 43 &&
		       strlen(s.csrf) == 43 && strcmp(s.data, "7 3") == 0,
	       "a session: 256-bit token and CSRF token, the grant");
	v = redis_get(&kv, admin.prefix, token);
	TAP_OK(v != NULL && strncmp(v, "v2 ", 3) == 0 && strstr(v, token) == NULL &&
		       strstr(v, s.csrf) != NULL,
	       "Redis holds it under the token's hash, never the token");
	free(v);
	TAP_OK(redis_ttl(&kv, admin.prefix, token) > 1790, "its TTL is the idle time");
	TAP_OK(session_get(&kv, &admin, token, &g) == 0 && strcmp(g.data, "7 3") == 0 &&
		       strcmp(g.csrf, s.csrf) == 0 && g.created == s.created,
	       "read back whole");
	TAP_OK(session_get(&kv, &other, token, &g) == SESSION_E_NONE,
	       "another kind does not see it (its own prefix)");

	TAP_OK(session_create(&kv, &other, "5 10,11,12", token2, &s) == 0 &&
		       session_get(&kv, &other, token2, &g) == 0 &&
		       strcmp(g.data, "5 10,11,12") == 0 &&
		       redis_ttl(&kv, other.prefix, token2) <= 60,
	       "the other kind: its grant and its own idle time");

	snprintf(forged, sizeof(forged), "v2 %lld %s 7 3", (long long)time(NULL) - 28801, s.csrf);
	redis_set(&kv, admin.prefix, token, forged);
	TAP_OK(session_get(&kv, &admin, token, &g) == SESSION_E_NONE,
	       "older than the absolute lifetime: ended however active");
	TAP_OK(redis_get(&kv, admin.prefix, token) == NULL, "and removed from Redis");

	redis_set(&kv, admin.prefix, token, "v1 7 3 1700000000 abc");
	TAP_OK(session_get(&kv, &admin, token, &g) == SESSION_E_NONE,
	       "a record of the old format is no session");
	redis_set(&kv, admin.prefix, token, "garbage");
	TAP_OK(session_get(&kv, &admin, token, &g) == SESSION_E_NONE, "nor is garbage");

	TAP_OK(session_destroy(&kv, &other, token2) == 0 &&
		       session_get(&kv, &other, token2, &g) == SESSION_E_NONE,
	       "destroyed: gone");
	session_destroy(&kv, &admin, token);
	kv_done(&kv);
}

/* The members of shomei:<prefix>-owner:<owner> (-1: no answer) and its TTL. */
static long long
index_of(struct kv *kv, const char *owner, long long *ttl)
{
	char key[128];
	redisReply *r;
	long long n = -1;

	snprintf(key, sizeof(key), "shomei:%s-owner:%s", admin.prefix, owner);
	const char *card[] = {"SCARD", key};
	if ((r = kv_cmdv(kv, 2, card)) != NULL && r->type == REDIS_REPLY_INTEGER)
		n = r->integer;
	freeReplyObject(r);
	const char *t[] = {"TTL", key};
	*ttl = -9;
	if ((r = kv_cmdv(kv, 2, t)) != NULL && r->type == REDIS_REPLY_INTEGER)
		*ttl = r->integer;
	freeReplyObject(r);
	return n;
}

/* An owner's sessions: the index, ending all but one, ending all, pruning. */
static void
test_owner(const char *sock)
{
	char tk[4][UTIL_TOKEN_LEN], theirs[UTIL_TOKEN_LEN], owner[24], owner2[32];
	unsigned char rnd[4];
	struct session s, g;
	struct kv kv;
	long long ended = -1, ttl = -1;
	int ok = 1;

	util_random(rnd, sizeof(rnd));
	snprintf(owner, sizeof(owner), "%u", (unsigned)(rnd[0] | rnd[1] << 8 | rnd[2] << 16));
	snprintf(owner2, sizeof(owner2), "%sx", owner);
	kv_init(&kv, sock, NULL, 0);
	for (int i = 0; i < 3; i++)
		ok &= session_create_for(&kv, &admin, owner, "7 3", tk[i], &s) == 0;
	ok &= session_create_for(&kv, &admin, owner2, "8 3", theirs, &s) == 0;
	TAP_OK(ok && index_of(&kv, owner, &ttl) == 3 && ttl > 28790 && ttl <= 28800,
	       "owner: three sessions in the owner's index, kept for the absolute lifetime (%lld)",
	       ttl);
	TAP_OK(session_get(&kv, &admin, tk[1], &g) == 0, "owner: an indexed session is a session");
	TAP_OK(session_end_owner(&kv, &admin, owner, tk[0], &ended) == 0 && ended == 2,
	       "owner: ending all but one ends the other two (%lld)", ended);
	TAP_OK(session_get(&kv, &admin, tk[0], &g) == 0 &&
		       session_get(&kv, &admin, tk[1], &g) == SESSION_E_NONE &&
		       session_get(&kv, &admin, tk[2], &g) == SESSION_E_NONE,
	       "owner: the one kept lives, the others are gone");
	TAP_OK(session_get(&kv, &admin, theirs, &g) == 0, "owner: another owner's session lives");
	TAP_OK(index_of(&kv, owner, &ttl) == 1, "owner: the index holds the one left");
	session_destroy(&kv, &admin, tk[0]);
	TAP_OK(session_create_for(&kv, &admin, owner, "7 3", tk[3], &s) == 0 &&
		       index_of(&kv, owner, &ttl) == 1,
	       "owner: a login prunes the sessions that ended from the index");
	TAP_OK(session_end_owner(&kv, &admin, owner, NULL, &ended) == 0 && ended == 1 &&
		       session_get(&kv, &admin, tk[3], &g) == SESSION_E_NONE &&
		       index_of(&kv, owner, &ttl) == 0,
	       "owner: ending all (keep NULL) ends the last one and empties the index");
	TAP_OK(session_end_owner(&kv, &admin, owner, NULL, &ended) == 0 && ended == 0,
	       "owner: ending an owner without sessions: 0 ended");
	session_end_owner(&kv, &admin, owner2, NULL, NULL);
	kv_done(&kv);
}

/* Two owners (an administrator and a certificate): either index ends the session. */
static void
test_two_owners(const char *sock)
{
	char by_cert[UTIL_TOKEN_LEN], by_pw[UTIL_TOKEN_LEN], owner[24], cert[32], cert2[32];
	unsigned char rnd[4];
	struct session s, g;
	struct kv kv;
	long long ended = -1, ttl = -1;
	int ok = 1;

	util_random(rnd, sizeof(rnd));
	snprintf(owner, sizeof(owner), "%u", (unsigned)(rnd[0] | rnd[1] << 8 | rnd[2] << 16));
	snprintf(cert, sizeof(cert), "cert-%s", owner);
	snprintf(cert2, sizeof(cert2), "cert-%sx", owner);
	kv_init(&kv, sock, NULL, 0);
	ok &= session_create_for2(&kv, &admin, owner, cert, "7 3", by_cert, &s) == 0;
	ok &= session_create_for(&kv, &admin, owner, "7 3", by_pw, &s) == 0;
	TAP_OK(ok && index_of(&kv, owner, &ttl) == 2 && index_of(&kv, cert, &ttl) == 1 &&
		       ttl > 28790 && ttl <= 28800,
	       "two owners: the session is in both indexes, the certificate's for the absolute "
	       "lifetime (%lld)",
	       ttl);
	TAP_OK(session_end_owner(&kv, &admin, cert, NULL, &ended) == 0 && ended == 1 &&
		       session_get(&kv, &admin, by_cert, &g) == SESSION_E_NONE &&
		       session_get(&kv, &admin, by_pw, &g) == 0,
	       "two owners: ending the certificate's ends its session only (%lld)", ended);
	ok = session_create_for2(&kv, &admin, owner, cert2, "7 3", by_cert, &s) == 0;
	TAP_OK(ok && session_end_owner(&kv, &admin, owner, NULL, &ended) == 0 && ended == 2 &&
		       session_get(&kv, &admin, by_cert, &g) == SESSION_E_NONE,
	       "two owners: ending the administrator's ends the certificate's session too");
	TAP_OK(session_end_owner(&kv, &admin, cert2, NULL, &ended) == 0 && ended == 0,
	       "two owners: nothing left under the certificate then");
	TAP_OK(session_create_for2(&kv, &admin, owner, NULL, "7 3", by_cert, &s) == -EINVAL &&
		       session_create_for2(&kv, &admin, owner, "c:1", "7 3", by_cert, &s) ==
			       -EINVAL,
	       "two owners: a second owner that cannot be one is refused");
	kv_done(&kv);
}

int
main(void)
{
	const char *sock = getenv("SHOMEI_TEST_REDIS");

	test_offline();
	if (sock != NULL && *sock != '\0')
		test_redis(sock);
	if (sock != NULL && *sock != '\0')
		test_owner(sock);
	if (sock != NULL && *sock != '\0')
		test_two_owners(sock);
	return tap_done();
}
