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

int
session_create(struct kv *kv, const struct session_kind *k, const char *data,
	       char token[UTIL_TOKEN_LEN], struct session *out)
{
	char key[96], ttl[16], *val = NULL;
	struct session s;
	redisReply *r;
	size_t dlen = strlen(data);
	int rc;

	if (dlen == 0 || dlen >= SESSION_DATA_MAX)
		return -EINVAL;
	memset(&s, 0, sizeof(s));
	s.created = (long long)time(NULL);
	memcpy(s.data, data, dlen + 1);
	if ((rc = util_token(token)) != 0 || (rc = util_token(s.csrf)) != 0 ||
	    (rc = session_key(k, token, key, sizeof(key))) != 0)
		return rc;
	if ((val = malloc(VALUE_MAX)) == NULL)
		return -ENOMEM;
	snprintf(val, VALUE_MAX, "v2 %lld %s %s", s.created, s.csrf, s.data);
	snprintf(ttl, sizeof(ttl), "%d", k->idle);
	const char *argv[] = {"SET", key, val, "EX", ttl};
	r = kv_cmdv(kv, 5, argv);
	OPENSSL_cleanse(val, VALUE_MAX);
	free(val);
	if (r == NULL)
		return -EIO;
	freeReplyObject(r);
	*out = s;
	return 0;
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
	struct session s;
	redisReply *r;
	int rc;

	if (session_key(k, token, key, sizeof(key)) != 0)
		return SESSION_E_NONE;
	snprintf(ttl, sizeof(ttl), "%d", k->idle);
	const char *argv[] = {"GETEX", key, "EX", ttl};
	if ((r = kv_cmdv(kv, 4, argv)) == NULL)
		return -EIO;
	memset(&s, 0, sizeof(s));
	rc = r->type == REDIS_REPLY_STRING ? parse_value(r->str, r->len, &s) : SESSION_E_NONE;
	freeReplyObject(r);
	if (rc != 0)
		return rc;
	if ((long long)time(NULL) - s.created > k->absolute) {
		session_destroy(kv, k, token);
		return SESSION_E_NONE;
	}
	*out = s;
	return 0;
}

int
session_destroy(struct kv *kv, const struct session_kind *k, const char *token)
{
	char key[96];
	redisReply *r;

	if (session_key(k, token, key, sizeof(key)) != 0)
		return -EINVAL;
	const char *argv[] = {"DEL", key};
	if ((r = kv_cmdv(kv, 2, argv)) == NULL)
		return -EIO;
	freeReplyObject(r);
	return 0;
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
