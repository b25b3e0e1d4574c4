/*
 * session.h: login sessions in Redis, keyed by the SHA-256 of the cookie's token. One store
 * for every kind of login (the administrators' portal, each tenant's download site): a kind is
 * a key prefix, a cookie name and two lifetimes; what a login grants is the caller's text.
 */
#ifndef SHOMEI_SESSION_H
#define SHOMEI_SESSION_H

#include <stddef.h>

#include "core/err.h"
#include "core/util.h"
#include "store/kv.h"
#include "web/http.h"

struct session_kind {
	const char *prefix; /* Redis key shomei:<prefix>:<sha256(token)> */
	const char *cookie; /* the cookie's name (__Host-…: Secure, Path=/, no Domain) */
	int idle;           /* seconds without a request before the session ends */
	int absolute;       /* seconds after the login when it ends anyway */
};

/* The longest grant a session holds (the download site's 100 certificate ids fit). */
#define SESSION_DATA_MAX 2100

struct session {
	long long created; /* unix seconds */
	char csrf[UTIL_TOKEN_LEN];
	char data[SESSION_DATA_MAX]; /* what the login grants, as the caller wrote it */
};

/*
 * Start a session of kind k granting data (printable, at most SESSION_DATA_MAX - 1 bytes)
 * with a fresh 256-bit token (written to token) and CSRF token. 0, -EINVAL (data too long
 * or empty) or -EIO.
 */
int session_create(struct kv *kv, const struct session_kind *k, const char *data,
		   char token[UTIL_TOKEN_LEN], struct session *out);

/* The administrators' kind's key prefix (shomei-auth logs in, shomeictl ends sessions). */
#define SESSION_ADMIN_PREFIX "sess"
/*
 * The owner under which a certificate login's session is also indexed: the admin_certificates
 * row's id (shomei-auth indexes, shomeictl admin cert-revoke ends them).
 */
#define SESSION_ADMIN_CERT_OWNER "cert-%lld"

/*
 * session_create for an owner (an administrator's id): the session is also indexed in the
 * owner's set shomei:<prefix>-owner:<owner> (the SHA-256 of each of its tokens, kept as long
 * as the kind's absolute lifetime; sessions that have ended are pruned from it here), so that
 * session_end_owner can find them. One round trip (a Lua script). Returns as session_create.
 */
int session_create_for(struct kv *kv, const struct session_kind *k, const char *owner,
		       const char *data, char token[UTIL_TOKEN_LEN], struct session *out);

/*
 * session_create_for with two owners (an administrator and the certificate it logged in with):
 * the session is in both indexes, so either session_end_owner ends it. Returns as
 * session_create_for.
 */
int session_create_for2(struct kv *kv, const struct session_kind *k, const char *owner,
			const char *owner2, const char *data, char token[UTIL_TOKEN_LEN],
			struct session *out);

/*
 * End every session session_create_for indexed for owner, except the one of token keep
 * (NULL: all of them), at once (one Lua script); how many into *ended (when not NULL).
 * 0, -EINVAL (an owner that cannot be one) or -EIO.
 */
int session_end_owner(struct kv *kv, const struct session_kind *k, const char *owner,
		      const char *keep, long long *ended);

/*
 * Look a token up and extend its idle timeout (one round trip); a session older than the
 * kind's absolute lifetime is ended. 0, SESSION_E_NONE or -EIO; *out holds the session only
 * on 0 (it is parsed in place, so it may be partly written otherwise).
 */
int session_get(struct kv *kv, const struct session_kind *k, const char *token,
		struct session *out);

/* End a session; 0, -EINVAL (a token that cannot be one) or -EIO. */
int session_destroy(struct kv *kv, const struct session_kind *k, const char *token);

/* The token of the request's cookie of kind k into buf (wipe it after use); 1 found, 0 not. */
int session_token(const struct http_req *req, const struct session_kind *k, char *buf, size_t len);

/* Add the Set-Cookie header that hands out token, or (token NULL) that clears the cookie. */
void session_cookie(struct http_req *req, const struct session_kind *k, const char *token);

#endif
