/* session.c: login sessions in Redis, keyed by the SHA-256 of the cookie's token. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "web/session.h"

/* Value: "v2 <created> <csrf> <data>". */
#define VALUE_MAX (32 + UTIL_TOKEN_LEN + SESSION_DATA_MAX)

static int
session_key(const struct session_kind *k, const char *token, char *key, size_t len)
{
	char hash[65];

	if (token == NULL || strlen(token) != UTIL_TOKEN_LEN - 1)
		return -EINVAL;
	util_sha256_hex(token, strlen(token), hash);
	return kv_key(key, len, k->prefix, hash);
}

/*
 * KEYS: the session, then each owner's index; ARGV: the record, idle, absolute, the token's
 * hash, "shomei:<prefix>:". The session and its place in every index in one step; each index
 * pruned of sessions that have ended and kept for the absolute lifetime from the latest login.
 */
static const char create_lua[] =
	"redis.call('SET',KEYS[1],ARGV[1],'EX',ARGV[2])\n"
	"for i=2,#KEYS do\n"
	" for _,m in ipairs(redis.call('SMEMBERS',KEYS[i])) do\n"
	"  if redis.call('EXISTS',ARGV[5]..m)==0 then redis.call('SREM',KEYS[i],m) end\n"
	" end\n"
	" redis.call('SADD',KEYS[i],ARGV[4])\n"
	" if redis.call('TTL',KEYS[i])<tonumber(ARGV[3]) then redis.call('EXPIRE',KEYS[i],ARGV[3]) end\n"
	"end\n"
	"return 1\n";

/* KEYS: the owner's index; ARGV: "shomei:<prefix>:", the hash to keep (or ""). */
static const char end_lua[] = "local n=0\n"
			      "for _,m in ipairs(redis.call('SMEMBERS',KEYS[1])) do\n"
			      " if m~=ARGV[2] then\n"
			      "  n=n+redis.call('DEL',ARGV[1]..m)\n"
			      "  redis.call('SREM',KEYS[1],m)\n"
			      " end\n"
			      "end\n"
			      "return n\n";

/* shomei:<prefix>-owner:<owner>; 0 or -EINVAL / -ENAMETOOLONG. */
static int
owner_key(const struct session_kind *k, const char *owner, char *key, size_t len)
{
	char part[64];

	if (owner == NULL || *owner == '\0' || strpbrk(owner, ": \r\n") != NULL ||
	    snprintf(part, sizeof(part), "%s-owner", k->prefix) >= (int)sizeof(part))
		return -EINVAL;
	return kv_key(key, len, part, owner);
}

/* Store s under token's key and in the indexes of the nowners owners (at most 2). */
static int
store(struct kv *kv, const struct session_kind *k, const char *const *owners, size_t nowners,
      const char *token, const struct session *s)
{
	char key[96], idx[2][160], ttl[16], abs[16], hash[65], pfx[80], nk[4], *val = NULL;
	redisReply *r;
	int rc;

	if (nowners > 2 || (rc = session_key(k, token, key, sizeof(key))) != 0)
		return nowners > 2 ? -EINVAL : rc;
	for (size_t i = 0; i < nowners; i++)
		if ((rc = owner_key(k, owners[i], idx[i], sizeof(idx[i]))) != 0)
			return rc;
	if ((val = malloc(VALUE_MAX)) == NULL)
		return -ENOMEM;
	snprintf(val, VALUE_MAX, "v2 %lld %s %s", s->created, s->csrf, s->data);
	snprintf(ttl, sizeof(ttl), "%d", k->idle);
	snprintf(abs, sizeof(abs), "%d", k->absolute);
	snprintf(pfx, sizeof(pfx), "shomei:%s:", k->prefix);
	snprintf(nk, sizeof(nk), "%zu", 1 + nowners);
	util_sha256_hex(token, strlen(token), hash);
	const char *plain[] = {"SET", key, val, "EX", ttl};
	const char *one[] = {"EVAL", create_lua, nk, key, idx[0], val, ttl, abs, hash, pfx};
	const char *two[] = {"EVAL", create_lua, nk, key, idx[0], idx[1], val, ttl, abs, hash, pfx};
	r = nowners == 0   ? kv_cmdv(kv, 5, plain)
	    : nowners == 1 ? kv_cmdv(kv, 10, one)
			   : kv_cmdv(kv, 11, two);
	OPENSSL_cleanse(val, VALUE_MAX);
	free(val);
	if (r == NULL)
		return -EIO;
	freeReplyObject(r);
	return 0;
}

static int
create(struct kv *kv, const struct session_kind *k, const char *const *owners, size_t nowners,
       const char *data, char token[UTIL_TOKEN_LEN], struct session *out)
{
	struct session s;
	size_t dlen = strlen(data);
	int rc;

	if (dlen == 0 || dlen >= SESSION_DATA_MAX)
		return -EINVAL;
	memset(&s, 0, sizeof(s));
	s.created = (long long)time(NULL);
	memcpy(s.data, data, dlen + 1);
	if ((rc = util_token(token)) != 0 || (rc = util_token(s.csrf)) != 0 ||
	    (rc = store(kv, k, owners, nowners, token, &s)) != 0)
		return rc;
	*out = s;
	return 0;
}

int
session_create(struct kv *kv, const struct session_kind *k, const char *data,
	       char token[UTIL_TOKEN_LEN], struct session *out)
{
	return create(kv, k, NULL, 0, data, token, out);
}

int
session_create_for(struct kv *kv, const struct session_kind *k, const char *owner, const char *data,
		   char token[UTIL_TOKEN_LEN], struct session *out)
{
	const char *owners[] = {owner};

	if (owner == NULL)
		return -EINVAL;
	return create(kv, k, owners, 1, data, token, out);
}

int
session_create_for2(struct kv *kv, const struct session_kind *k, const char *owner,
		    const char *owner2, const char *data, char token[UTIL_TOKEN_LEN],
		    struct session *out)
{
	const char *owners[] = {owner, owner2};

	if (owner == NULL || owner2 == NULL)
		return -EINVAL;
	return create(kv, k, owners, 2, data, token, out);
}

int
session_end_owner(struct kv *kv, const struct session_kind *k, const char *owner, const char *keep,
		  long long *ended)
{
	char idx[160], hash[65] = "", pfx[80];
	redisReply *r;
	int rc;

	if ((rc = owner_key(k, owner, idx, sizeof(idx))) != 0)
		return rc;
	if (keep != NULL)
		util_sha256_hex(keep, strlen(keep), hash);
	snprintf(pfx, sizeof(pfx), "shomei:%s:", k->prefix);
	const char *argv[] = {"EVAL", end_lua, "1", idx, pfx, hash};
	if ((r = kv_cmdv(kv, 6, argv)) == NULL)
		return -EIO;
	rc = r->type == REDIS_REPLY_INTEGER ? 0 : -EIO;
	if (rc == 0 && ended != NULL)
		*ended = r->integer;
	freeReplyObject(r);
	return rc;
}

/* Parse a stored value into *s; 0 or SESSION_E_NONE. */
static int
parse_value(const char *v, size_t len, struct session *s)
{
	int off = 0;

	if (len >= VALUE_MAX || sscanf(v, "v2 %lld %43s %n", &s->created, s->csrf, &off) != 2 ||
	    off == 0 || strlen(s->csrf) != UTIL_TOKEN_LEN - 1 ||
	    strlen(v + off) >= SESSION_DATA_MAX || v[off] == '\0')
		return SESSION_E_NONE;
	memcpy(s->data, v + off, strlen(v + off) + 1);
	return 0;
}

int
session_get(struct kv *kv, const struct session_kind *k, const char *token, struct session *out)
{
	char key[96], ttl[16];
	redisReply *r;
	int rc;

	if (session_key(k, token, key, sizeof(key)) != 0)
		return SESSION_E_NONE;
	snprintf(ttl, sizeof(ttl), "%d", k->idle);
	const char *argv[] = {"GETEX", key, "EX", ttl};
	if ((r = kv_cmdv(kv, 4, argv)) == NULL)
		return -EIO;
	/* parsed into *out directly: the record is 2 KB, copied on every request otherwise */
	rc = r->type == REDIS_REPLY_STRING ? parse_value(r->str, r->len, out) : SESSION_E_NONE;
	freeReplyObject(r);
	if (rc != 0)
		return rc;
	if ((long long)time(NULL) - out->created > k->absolute) {
		session_destroy(kv, k, token);
		return SESSION_E_NONE;
	}
	return 0;
}

int
session_destroy(struct kv *kv, const struct session_kind *k, const char *token)
{
	char key[96];

	if (session_key(k, token, key, sizeof(key)) != 0)
		return -EINVAL;
	return kv_del(kv, key);
}

int
session_token(const struct http_req *req, const struct session_kind *k, char *buf, size_t len)
{
	return http_cookie_get(req->cookie, k->cookie, buf, len);
}

void
session_cookie(struct http_req *req, const struct session_kind *k, const char *token)
{
	char cookie[160];

	if (token != NULL)
		snprintf(cookie, sizeof(cookie), "%s=%s; Path=/; Secure; HttpOnly; SameSite=Strict",
			 k->cookie, token);
	else
		snprintf(cookie, sizeof(cookie),
			 "%s=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0", k->cookie);
	http_add_header(req, "Set-Cookie", cookie);
	OPENSSL_cleanse(cookie, sizeof(cookie));
}
