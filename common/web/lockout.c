/* lockout.c: failed-login counters per login ID and per source address, in Redis. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "web/lockout.h"
#include "core/util.h"

/* shomei:<scope>:<kind>:<sha256(v)> */
static void
key(const struct lockout *l, const char *kind, const char *v, char *buf, size_t len)
{
	char hash[65], part[64];

	util_sha256_hex(v, strlen(v), hash);
	snprintf(part, sizeof(part), "%s:%s", l->scope, kind);
	kv_key(buf, len, part, hash);
}

static long long
reply_count(const redisReply *r)
{
	if (r == NULL || r->type != REDIS_REPLY_STRING)
		return 0;
	return strtoll(r->str, NULL, 10);
}

int
lockout_check(const struct lockout *l, const char *id, const char *ip)
{
	char k1[128], k2[128];
	redisReply *r;
	int locked;

	key(l, "id", id, k1, sizeof(k1));
	key(l, "ip", ip, k2, sizeof(k2));
	const char *argv[] = {"MGET", k1, k2};
	if ((r = kv_cmdv(l->kv, 3, argv)) == NULL || r->type != REDIS_REPLY_ARRAY ||
	    r->elements != 2) {
		freeReplyObject(r);
		return -EIO;
	}
	locked = reply_count(r->element[0]) >= l->limit_id ||
		 reply_count(r->element[1]) >= l->limit_ip;
	freeReplyObject(r);
	return locked;
}

static void
bump(const struct lockout *l, const char *k)
{
	char ttl[16];

	snprintf(ttl, sizeof(ttl), "%d", l->window);
	const char *init[] = {"SET", k, "0", "EX", ttl, "NX"};
	freeReplyObject(kv_cmdv(l->kv, 6, init));
	const char *incr[] = {"INCR", k};
	freeReplyObject(kv_cmdv(l->kv, 2, incr));
}

void
lockout_fail(const struct lockout *l, const char *id, const char *ip)
{
	char k[128];

	key(l, "id", id, k, sizeof(k));
	bump(l, k);
	key(l, "ip", ip, k, sizeof(k));
	bump(l, k);
}

void
lockout_clear(const struct lockout *l, const char *id)
{
	char k[128];

	key(l, "id", id, k, sizeof(k));
	const char *argv[] = {"DEL", k};
	freeReplyObject(kv_cmdv(l->kv, 2, argv));
}

int
lockout_retry_after(const struct lockout *l, const char *id, const char *ip)
{
	char k[128];
	redisReply *r;
	int best = 0;

	for (int i = 0; i < 2; i++) {
		key(l, i == 0 ? "id" : "ip", i == 0 ? id : ip, k, sizeof(k));
		const char *argv[] = {"TTL", k};
		if ((r = kv_cmdv(l->kv, 2, argv)) != NULL && r->type == REDIS_REPLY_INTEGER &&
		    r->integer > best)
			best = (int)r->integer;
		freeReplyObject(r);
	}
	return best > 0 ? best : l->window;
}
