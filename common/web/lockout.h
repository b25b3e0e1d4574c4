/* lockout.h: failed-login counters per login ID and per source address, in Redis. */
#ifndef SHOMEI_LOCKOUT_H
#define SHOMEI_LOCKOUT_H

#include "store/kv.h"

/*
 * One login's counters: the administrator login and each tenant's download
 * site count separately (scope), with the limits and window of the
 * configuration. Keys are shomei:<scope>:id:<sha256(id)> and
 * shomei:<scope>:ip:<sha256(ip)>, so nothing a client typed becomes part of a
 * key; a counter never exists without its TTL (the window starts at the first
 * failure).
 */
struct lockout {
	struct kv *kv;
	const char *scope; /* "fail" (administrators), "fail:dl" (download sites) */
	int limit_id;
	int limit_ip;
	int window; /* seconds */
};

/* 1 when either counter reached its limit, 0 when not, -EIO when Redis cannot say. */
int lockout_check(const struct lockout *l, const char *id, const char *ip);

/* Count one failure for the ID and for the address. */
void lockout_fail(const struct lockout *l, const char *id, const char *ip);

/* Forget the ID's failures (after a success); the address keeps its count. */
void lockout_clear(const struct lockout *l, const char *id);

/* Seconds until a lockout ends: the longer TTL of the two counters (the window at most). */
int lockout_retry_after(const struct lockout *l, const char *id, const char *ip);

#endif
