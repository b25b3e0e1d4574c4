/* lockout.c: failed-login counters per login ID and per source address, in Redis. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extern.h"
#include "util.h"

/* Keys hash the login ID so nothing a client typed becomes part of a key. */
static void
id_key(const char *login_id, char *buf, size_t len)
{
	char hash[65];

	util_sha256_hex(login_id, strlen(login_id), hash);
	kv_key(buf, len, "fail:id", hash);
}

static void
ip_key(const char *ip, char *buf, size_t len)
{
	char hash[65];

	util_sha256_hex(ip, strlen(ip), hash);
	kv_key(buf, len, "fail:ip", hash);
}

static long long
reply_count(const redisReply *r)
{
	if (r == NULL || r->type != REDIS_REPLY_STRING)
		return 0;
	return strtoll(r->str, NULL, 10);
}

/* 1 when locked out, 0 when not, -EIO when Redis cannot say. */
int
lockout_check(struct svc_thread *t, const char *login_id, const char *ip)
{
	char k1[96], k2[96];
	redisReply *r;
	int locked;

	id_key(login_id, k1, sizeof(k1));
	ip_key(ip, k2, sizeof(k2));
	const char *argv[] = {"MGET", k1, k2};
	if ((r = kv_cmdv(&t->kv, 3, argv)) == NULL || r->type != REDIS_REPLY_ARRAY ||
	    r->elements != 2) {
		freeReplyObject(r);
		return -EIO;
	}
	locked = reply_count(r->element[0]) >= t->cfg->login_fail_limit_id ||
		 reply_count(r->element[1]) >= t->cfg->login_fail_limit_ip;
	freeReplyObject(r);
	return locked;
}

static void
bump(struct svc_thread *t, const char *key)
{
	char ttl[16];

	/* The window starts at the first failure; the key never exists without a TTL. */
	snprintf(ttl, sizeof(ttl), "%d", t->cfg->login_fail_window);
	const char *init[] = {"SET", key, "0", "EX", ttl, "NX"};
	freeReplyObject(kv_cmdv(&t->kv, 6, init));
	const char *incr[] = {"INCR", key};
	freeReplyObject(kv_cmdv(&t->kv, 2, incr));
}

void
lockout_fail(struct svc_thread *t, const char *login_id, const char *ip)
{
	char key[96];

	id_key(login_id, key, sizeof(key));
	bump(t, key);
	ip_key(ip, key, sizeof(key));
	bump(t, key);
}

void
lockout_clear(struct svc_thread *t, const char *login_id)
{
	char key[96];

	id_key(login_id, key, sizeof(key));
	const char *argv[] = {"DEL", key};
	freeReplyObject(kv_cmdv(&t->kv, 2, argv));
}

/* Seconds until a lockout ends: the longer TTL of the two counters (the window at most). */
int
lockout_retry_after(struct svc_thread *t, const char *login_id, const char *ip)
{
	char k[96];
	redisReply *r;
	int best = 0;

	for (int i = 0; i < 2; i++) {
		if (i == 0)
			id_key(login_id, k, sizeof(k));
		else
			ip_key(ip, k, sizeof(k));
		const char *argv[] = {"TTL", k};
		if ((r = kv_cmdv(&t->kv, 2, argv)) != NULL && r->type == REDIS_REPLY_INTEGER &&
		    r->integer > best)
			best = (int)r->integer;
		freeReplyObject(r);
	}
	return best > 0 ? best : t->cfg->login_fail_window;
}
