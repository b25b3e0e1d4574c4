/* sess.c: the administrators' sessions: the session store's "sess" kind, granting one admin of one
 * tenant. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "extern.h"

/* The kind with this process's lifetimes (session_idle, session_absolute). */
static void
admin_kind(const struct svc_thread *t, struct session_kind *k)
{
	k->prefix = SESSION_ADMIN_PREFIX;
	k->cookie = ADMIN_COOKIE;
	k->idle = t->cfg->session_idle;
	k->absolute = t->cfg->session_absolute;
}

int
admin_sess_create(struct svc_thread *t, long long admin_id, long long tenant_id, long long cert_id,
		  struct admin_sess *out)
{
	char data[48], owner[24], cert[32], token[UTIL_TOKEN_LEN];
	struct session_kind k;
	int rc;

	admin_kind(t, &k);
	snprintf(data, sizeof(data), "%lld %lld", admin_id, tenant_id);
	snprintf(owner, sizeof(owner), "%lld", admin_id);
	snprintf(cert, sizeof(cert), SESSION_ADMIN_CERT_OWNER, cert_id);
	rc = cert_id > 0 ? session_create_for2(&t->kv, &k, owner, cert, data, token, &out->s)
			 : session_create_for(&t->kv, &k, owner, data, token, &out->s);
	if (rc != 0)
		return rc;
	out->admin_id = admin_id;
	out->tenant_id = tenant_id;
	memcpy(out->token, token, sizeof(token));
	OPENSSL_cleanse(token, sizeof(token));
	return 0;
}

int
admin_sess_get(struct http_req *req, struct svc_thread *t, struct admin_sess *out)
{
	struct session_kind k;
	int rc;

	out->admin_id = out->tenant_id = 0;
	out->token[0] = '\0';
	admin_kind(t, &k);
	if (!session_token(req, &k, out->token, sizeof(out->token)))
		return SESSION_E_NONE;
	if ((rc = session_get(&t->kv, &k, out->token, &out->s)) != 0)
		return rc;
	if (sscanf(out->s.data, "%lld %lld", &out->admin_id, &out->tenant_id) != 2)
		return SESSION_E_NONE;
	return 0;
}

void
admin_sess_cookie(struct http_req *req, struct svc_thread *t, const struct admin_sess *s)
{
	struct session_kind k;

	admin_kind(t, &k);
	session_cookie(req, &k, s != NULL ? s->token : NULL);
}

void
admin_sess_destroy(struct svc_thread *t, const struct admin_sess *s)
{
	struct session_kind k;

	admin_kind(t, &k);
	session_destroy(&t->kv, &k, s->token);
}

void
admin_sess_done(struct admin_sess *s)
{
	OPENSSL_cleanse(s->token, sizeof(s->token));
}

int
admin_sess_end_others(struct svc_thread *t, long long admin_id, const char *keep)
{
	char owner[24];
	struct session_kind k;

	admin_kind(t, &k);
	snprintf(owner, sizeof(owner), "%lld", admin_id);
	return session_end_owner(&t->kv, &k, owner, keep, NULL);
}
