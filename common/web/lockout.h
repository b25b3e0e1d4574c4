/* lockout.h: failed-login counters per login ID and per source address, in Redis. */
#ifndef SHOMEI_LOCKOUT_H
#define SHOMEI_LOCKOUT_H

#include "store/kv.h"

/*
 * One login's counters: the administrator login and each tenant's download
 * site count separately (scope: "fail" for administrators, "fail:dl:<tenant
 * id>" for a download site, so an address is counted per tenant there), with
 * the limits and window of the configuration. Keys are
 * shomei:<scope>:id:<sha256(id)> and shomei:<scope>:ip:<sha256(ip)>, so
 * nothing a client typed becomes part of a key.
 *
 * Every change to a counter is one Lua script (EVAL), so a counter never
 * exists without its TTL (the window starts at the first attempt counted) and
 * the check and the count are one step: of N concurrent attempts at most the
 * limit get past lockout_take.
 */
struct lockout {
	struct kv *kv;
	const char *scope;
	int limit_id;
	int limit_ip;
	int window; /* seconds */
};

/*
 * Before checking a password: 1 (locked: nothing counted) when either counter
 * has reached its limit; else count the attempt on both and answer 0. -EIO
 * when Redis cannot say. An attempt counted is a failure unless
 * lockout_clear or lockout_refund takes it back.
 */
int lockout_take(const struct lockout *l, const char *id, const char *ip);

#define LOCKOUT_REACHED_ID 1 /* this attempt brought the ID's counter to its limit */
#define LOCKOUT_REACHED_IP 2 /* and the address's */

/*
 * lockout_take, telling also (when it answers 0) which counters this attempt brought to their
 * limit in *reached: if the attempt fails, that ID or address is locked out from now on. Of
 * concurrent attempts exactly one reaches a limit, so a lockout is reported once.
 */
int lockout_take_ex(const struct lockout *l, const char *id, const char *ip, int *reached);

/* The password was right: forget the ID's failures and give the address its attempt back. */
void lockout_clear(const struct lockout *l, const char *id, const char *ip);

/* The attempt ended without a verdict (an error): give both counters their attempt back. */
void lockout_refund(const struct lockout *l, const char *id, const char *ip);

/* Seconds until a lockout ends: the longer TTL of the two counters, 1 to the window. */
int lockout_retry_after(const struct lockout *l, const char *id, const char *ip);

#endif
