/* session.c: administrator sessions in Redis, keyed by the SHA-256 of the cookie token. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "web/session.h"

static int
session_key(const char *token, char *key, size_t len)
{
	char hash[65];

	util_sha256_hex(token, strlen(token), hash);
	return kv_key(key, len, "sess", hash);
}

int
session_create(struct kv *kv, long long admin_id, long long tenant_id, int idle,
	       char token[UTIL_TOKEN_LEN], struct session *out)
{
	char key[96], val[160], ttl[16];
	struct session s;
	redisReply *r;
	int rc;

	memset(&s, 0, sizeof(s));
	s.admin_id = admin_id;
	s.tenant_id = tenant_id;
	s.created = (long long)time(NULL);
	if ((rc = util_token(token)) != 0 || (rc = util_token(s.csrf)) != 0)
		return rc;
	if ((rc = session_key(token, key, sizeof(key))) != 0)
		return rc;
	snprintf(val, sizeof(val), "v1 %lld %lld %lld %s", s.admin_id, s.tenant_id, s.created,
		 s.csrf);
	snprintf(ttl, sizeof(ttl), "%d", idle);
	const char *argv[] = {"SET", key, val, "EX", ttl};
	r = kv_cmdv(kv, 5, argv);
	OPENSSL_cleanse(val, sizeof(val));
	if (r == NULL)
		return -EIO;
	freeReplyObject(r);
	*out = s;
	return 0;
}

int
session_get(struct kv *kv, const char *token, int idle, int absolute, struct session *out)
{
	char key[96], ttl[16];
	struct session s;
	redisReply *r;
	int rc, n = 0;

	if (token == NULL || strlen(token) != UTIL_TOKEN_LEN - 1)
		return SESSION_E_NONE;
	if ((rc = session_key(token, key, sizeof(key))) != 0)
		return rc;
	snprintf(ttl, sizeof(ttl), "%d", idle);
	const char *argv[] = {"GETEX", key, "EX", ttl};
	if ((r = kv_cmdv(kv, 4, argv)) == NULL)
		return -EIO;
	memset(&s, 0, sizeof(s));
	if (r->type == REDIS_REPLY_STRING && r->len < 160)
		n = sscanf(r->str, "v1 %lld %lld %lld %43s", &s.admin_id, &s.tenant_id, &s.created,
			   s.csrf);
	freeReplyObject(r);
	if (n != 4)
		return SESSION_E_NONE;
	if ((long long)time(NULL) - s.created > absolute) {
		session_destroy(kv, token);
		return SESSION_E_NONE;
	}
	*out = s;
	return 0;
}

int
session_destroy(struct kv *kv, const char *token)
{
	char key[96];
	redisReply *r;

	if (session_key(token, key, sizeof(key)) != 0)
		return -EINVAL;
	const char *argv[] = {"DEL", key};
	if ((r = kv_cmdv(kv, 2, argv)) == NULL)
		return -EIO;
	freeReplyObject(r);
	return 0;
}
