/* session.h: administrator sessions in Redis, keyed by the SHA-256 of the cookie token. */
#ifndef SHOMEI_SESSION_H
#define SHOMEI_SESSION_H

#include "store/kv.h"
#include "core/util.h"

#define SESSION_COOKIE "__Host-shomei"

enum {
	SESSION_E_NONE = 1, /* no such session, or it has expired */
};

struct session {
	long long admin_id;
	long long tenant_id;
	long long created; /* unix seconds */
	char csrf[UTIL_TOKEN_LEN];
};

/*
 * Start a session with a fresh 256-bit token (written to token) and CSRF
 * token; idle is the idle timeout in seconds. 0 or -EIO.
 */
int session_create(struct kv *kv, long long admin_id, long long tenant_id, int idle,
		   char token[UTIL_TOKEN_LEN], struct session *out);

/*
 * Look a token up and extend its idle timeout (one round trip). Sessions older
 * than absolute seconds are ended. 0, SESSION_E_NONE or -EIO.
 */
int session_get(struct kv *kv, const char *token, int idle, int absolute, struct session *out);

/* End a session; 0 or -EIO. */
int session_destroy(struct kv *kv, const char *token);

#endif
