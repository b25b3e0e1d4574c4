/* lockout.c: failed-login counters per login ID and per source address, in Redis. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "web/lockout.h"
#include "core/util.h"

/*
 * KEYS: the ID's and the address's counter; ARGV: their limits, the window.
 * Locked (1) when either is at its limit; else both counted, each with a TTL.
 */
static const char take_lua[] =
	"local n={}\n"
	"for i=1,2 do n[i]=tonumber(redis.call('GET',KEYS[i]) or '') end\n"
	"if (n[1] or 0)>=tonumber(ARGV[1]) or (n[2] or 0)>=tonumber(ARGV[2]) then return 1 end\n"
	"for i=1,2 do\n"
	" if n[i]==nil then redis.call('SET',KEYS[i],1,'EX',ARGV[3])\n"
	" else redis.call('INCRBY',KEYS[i],1)\n"
	"  if redis.call('TTL',KEYS[i])<0 then redis.call('EXPIRE',KEYS[i],ARGV[3]) end end\n"
	"end\n"
	"return 0\n";

/*
 * take_lua, answering which counters the attempt brought to their limit: 1 locked (nothing
 * counted), else 0 + 2 (the ID's counter reached its limit) + 4 (the address's).
 */
static const char take_ex_lua[] =
	"local n={}\n"
	"for i=1,2 do n[i]=tonumber(redis.call('GET',KEYS[i]) or '') end\n"
	"if (n[1] or 0)>=tonumber(ARGV[1]) or (n[2] or 0)>=tonumber(ARGV[2]) then return 1 end\n"
	"local r=0\n"
	"for i=1,2 do\n"
	" local v\n"
	" if n[i]==nil then redis.call('SET',KEYS[i],1,'EX',ARGV[3]) v=1\n"
	" else v=redis.call('INCRBY',KEYS[i],1)\n"
	"  if redis.call('TTL',KEYS[i])<0 then redis.call('EXPIRE',KEYS[i],ARGV[3]) end end\n"
	" if v==tonumber(ARGV[i]) then r=r+2*i end\n"
	"end\n"
	"return r\n";

/*
 * KEYS: counters to give one attempt back; ARGV: the window, then "del" to
 * delete the first key instead. A counter that is gone stays gone.
 */
static const char undo_lua[] =
	"for i=1,#KEYS do\n"
	" local v=tonumber(redis.call('GET',KEYS[i]) or '')\n"
	" if (i==1 and ARGV[2]=='del') or (v~=nil and v<=1) then redis.call('DEL',KEYS[i])\n"
	" elseif v~=nil then redis.call('DECRBY',KEYS[i],1)\n"
	"  if redis.call('TTL',KEYS[i])<0 then redis.call('EXPIRE',KEYS[i],ARGV[1]) end end\n"
	"end\n"
	"return 0\n";

/* shomei:<scope>:<kind>:<sha256(v)> */
static void
key(const struct lockout *l, const char *kind, const char *v, char *buf, size_t len)
{
	char hash[65], part[80];

	util_sha256_hex(v, strlen(v), hash);
	snprintf(part, sizeof(part), "%s:%s", l->scope, kind);
	kv_key(buf, len, part, hash);
}

/* One EVAL of script over the two counters; its integer answer, or -EIO. */
static long long
take(const struct lockout *l, const char *script, const char *id, const char *ip)
{
	char k1[160], k2[160], lid[16], lip[16], win[16];
	redisReply *r;
	long long v;

	key(l, "id", id, k1, sizeof(k1));
	key(l, "ip", ip, k2, sizeof(k2));
	snprintf(lid, sizeof(lid), "%d", l->limit_id);
	snprintf(lip, sizeof(lip), "%d", l->limit_ip);
	snprintf(win, sizeof(win), "%d", l->window);
	const char *argv[] = {"EVAL", script, "2", k1, k2, lid, lip, win};
	if ((r = kv_cmdv(l->kv, 8, argv)) == NULL || r->type != REDIS_REPLY_INTEGER) {
		freeReplyObject(r);
		return -EIO;
	}
	v = r->integer;
	freeReplyObject(r);
	return v;
}

int
lockout_take_ex(const struct lockout *l, const char *id, const char *ip, int *reached)
{
	long long v = take(l, take_ex_lua, id, ip);

	if (v < 0 || v > 7 || (v & 1 && v != 1))
		return -EIO;
	if (v == 1)
		return 1;
	*reached = (v & 2 ? LOCKOUT_REACHED_ID : 0) | (v & 4 ? LOCKOUT_REACHED_IP : 0);
	return 0;
}

int
lockout_take(const struct lockout *l, const char *id, const char *ip)
{
	char k1[160], k2[160], lid[16], lip[16], win[16];
	redisReply *r;
	int rc;

	key(l, "id", id, k1, sizeof(k1));
	key(l, "ip", ip, k2, sizeof(k2));
	snprintf(lid, sizeof(lid), "%d", l->limit_id);
	snprintf(lip, sizeof(lip), "%d", l->limit_ip);
	snprintf(win, sizeof(win), "%d", l->window);
	const char *argv[] = {"EVAL", take_lua, "2", k1, k2, lid, lip, win};
	if ((r = kv_cmdv(l->kv, 8, argv)) == NULL || r->type != REDIS_REPLY_INTEGER ||
	    (r->integer != 0 && r->integer != 1)) {
		freeReplyObject(r);
		return -EIO;
	}
	rc = (int)r->integer;
	freeReplyObject(r);
	return rc;
}

static void
undo(const struct lockout *l, const char *id, const char *ip, const char *mode)
{
	char k1[160], k2[160], win[16];

	key(l, "id", id, k1, sizeof(k1));
	key(l, "ip", ip, k2, sizeof(k2));
	snprintf(win, sizeof(win), "%d", l->window);
	const char *argv[] = {"EVAL", undo_lua, "2", k1, k2, win, mode};
	freeReplyObject(kv_cmdv(l->kv, 7, argv));
}

void
lockout_clear(const struct lockout *l, const char *id, const char *ip)
{
	undo(l, id, ip, "del");
}

void
lockout_refund(const struct lockout *l, const char *id, const char *ip)
{
	undo(l, id, ip, "one");
}

int
lockout_retry_after(const struct lockout *l, const char *id, const char *ip)
{
	char k[160];
	redisReply *r;
	int best = 0;

	for (int i = 0; i < 2; i++) {
		key(l, i == 0 ? "id" : "ip", i == 0 ? id : ip, k, sizeof(k));
		const char *argv[] = {"TTL", k};
		if ((r = kv_cmdv(l->kv, 2, argv)) != NULL && r->type == REDIS_REPLY_INTEGER &&
		    r->integer > best)
			best = r->integer < l->window ? (int)r->integer : l->window;
		freeReplyObject(r);
	}
	return best > 0 ? best : l->window;
}
