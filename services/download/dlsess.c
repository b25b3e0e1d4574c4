/* dlsess.c: end-user sessions of the download site, in Redis, keyed by the SHA-256 of the token. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "extern.h"

/*
 * Separate from the administrators' sessions (common/session.c): another
 * cookie, another key prefix (shomei:dlsess:), and what it grants is a list of
 * certificate ids of one tenant, never an administrator.
 * Value: "v1 <tenant> <created> <csrf> <id,id,...>".
 */
#define DLSESS_VALUE_MAX (64 + UTIL_TOKEN_LEN + DLSESS_MAX_CERTS * 20)
/* dlsess_get reads the id list with %2000s: 20 characters an id at most */
_Static_assert(DLSESS_MAX_CERTS * 20 == 2000, "the sscanf width follows DLSESS_MAX_CERTS");

static int
dlsess_key(const char *token, char *key, size_t len)
{
	char hash[65];

	util_sha256_hex(token, strlen(token), hash);
	return kv_key(key, len, "dlsess", hash);
}

int
dlsess_create(struct kv *kv, const struct dlsess *in, char token[UTIL_TOKEN_LEN],
	      struct dlsess *out)
{
	char key[96], ttl[16], *val;
	struct dlsess s = *in;
	redisReply *r;
	size_t o;
	int rc;

	s.created = (long long)time(NULL);
	if ((rc = util_token(token)) != 0 || (rc = util_token(s.csrf)) != 0)
		return rc;
	if ((rc = dlsess_key(token, key, sizeof(key))) != 0)
		return rc;
	if ((val = malloc(DLSESS_VALUE_MAX)) == NULL)
		return -ENOMEM;
	o = (size_t)snprintf(val, DLSESS_VALUE_MAX, "v1 %lld %lld %s ", s.tenant_id, s.created,
			     s.csrf);
	for (int i = 0; i < s.n; i++)
		o += (size_t)snprintf(val + o, DLSESS_VALUE_MAX - o, "%s%lld", i ? "," : "",
				      s.ids[i]);
	snprintf(ttl, sizeof(ttl), "%d", DLSESS_IDLE);
	const char *argv[] = {"SET", key, val, "EX", ttl};
	r = kv_cmdv(kv, 5, argv);
	OPENSSL_cleanse(val, DLSESS_VALUE_MAX);
	free(val);
	if (r == NULL)
		return -EIO;
	freeReplyObject(r);
	*out = s;
	return 0;
}

/* "1,2,3" into s->ids; 0 or -EINVAL. */
static int
parse_ids(const char *p, struct dlsess *s)
{
	long long v;
	char *end;

	s->n = 0;
	while (*p && s->n < DLSESS_MAX_CERTS) {
		v = strtoll(p, &end, 10);
		if (end == p || v <= 0)
			return -EINVAL;
		s->ids[s->n++] = v;
		p = *end == ',' ? end + 1 : end;
	}
	return *p == '\0' ? 0 : -EINVAL;
}

int
dlsess_get(struct kv *kv, const char *token, int absolute, struct dlsess *out)
{
	char key[96], ttl[16], ids[DLSESS_MAX_CERTS * 20 + 1];
	struct dlsess s;
	redisReply *r;
	int rc, n = 0;

	if (token == NULL || strlen(token) != UTIL_TOKEN_LEN - 1)
		return DLSESS_E_NONE;
	if ((rc = dlsess_key(token, key, sizeof(key))) != 0)
		return rc;
	snprintf(ttl, sizeof(ttl), "%d", DLSESS_IDLE);
	const char *argv[] = {"GETEX", key, "EX", ttl};
	if ((r = kv_cmdv(kv, 4, argv)) == NULL)
		return -EIO;
	memset(&s, 0, sizeof(s));
	ids[0] = '\0';
	if (r->type == REDIS_REPLY_STRING && r->len < DLSESS_VALUE_MAX)
		n = sscanf(r->str, "v1 %lld %lld %43s %2000s", &s.tenant_id, &s.created, s.csrf,
			   ids);
	freeReplyObject(r);
	if (n != 4 || parse_ids(ids, &s) != 0)
		return DLSESS_E_NONE;
	if ((long long)time(NULL) - s.created > absolute) {
		dlsess_destroy(kv, token);
		return DLSESS_E_NONE;
	}
	*out = s;
	return 0;
}

int
dlsess_destroy(struct kv *kv, const char *token)
{
	char key[96];
	redisReply *r;

	if (dlsess_key(token, key, sizeof(key)) != 0)
		return -EINVAL;
	const char *argv[] = {"DEL", key};
	if ((r = kv_cmdv(kv, 2, argv)) == NULL)
		return -EIO;
	freeReplyObject(r);
	return 0;
}

int
dlsess_grants(const struct dlsess *s, long long id)
{
	for (int i = 0; i < s->n; i++)
		if (s->ids[i] == id)
			return 1;
	return 0;
}
