/* dlsess.c: end-user sessions of the download site: the session store's "dlsess" kind. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "extern.h"
#include "core/strbuf.h"

/*
 * Separate from the administrators' sessions: another cookie, another key prefix
 * (shomei:dlsess:), and what it grants is a list of certificate ids of one tenant, never an
 * administrator. The grant: "<tenant> <id,id,...>".
 */
_Static_assert(24 + DLSESS_MAX_CERTS * 20 < SESSION_DATA_MAX, "the grant fits a session");

static void
dl_kind(const struct svc_thread *t, struct session_kind *k)
{
	k->prefix = "dlsess";
	k->cookie = DLSESS_COOKIE;
	k->idle = DLSESS_IDLE;
	k->absolute = t->cfg->session_absolute;
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

/* The session record as the grant it holds; 0 or SESSION_E_NONE. */
static int
decode(const struct session *rec, struct dlsess *s)
{
	int off = 0;

	memset(s, 0, sizeof(*s));
	if (sscanf(rec->data, "%lld %n", &s->tenant_id, &off) != 1 || off == 0 ||
	    parse_ids(rec->data + off, s) != 0)
		return SESSION_E_NONE;
	s->created = rec->created;
	memcpy(s->csrf, rec->csrf, sizeof(s->csrf));
	return 0;
}

int
dlsess_create(struct svc_thread *t, const struct dlsess *in, struct dlsess *out)
{
	char data[SESSION_DATA_MAX], token[UTIL_TOKEN_LEN];
	struct session_kind k;
	struct session rec;
	struct strbuf b;
	int rc;

	dl_kind(t, &k);
	strbuf_init(&b, data, sizeof(data));
	strbuf_printf(&b, "%lld ", in->tenant_id);
	for (int i = 0; i < in->n; i++)
		strbuf_printf(&b, "%s%lld", i ? "," : "", in->ids[i]);
	if ((rc = strbuf_error(&b)) != 0 ||
	    (rc = session_create(&t->kv, &k, data, token, &rec)) != 0)
		return rc;
	if (decode(&rec, out) != 0) {
		session_destroy(&t->kv, &k, token);
		OPENSSL_cleanse(token, sizeof(token));
		return -EIO;
	}
	memcpy(out->token, token, sizeof(token));
	OPENSSL_cleanse(token, sizeof(token));
	return 0;
}

void
dlsess_cookie(struct http_req *req, struct svc_thread *t, struct dlsess *s)
{
	struct session_kind k;

	dl_kind(t, &k);
	session_cookie(req, &k, s->token);
	OPENSSL_cleanse(s->token, sizeof(s->token));
}

int
dlsess_get(struct http_req *req, struct svc_thread *t, struct dlsess *out)
{
	char token[UTIL_TOKEN_LEN + 8];
	struct session_kind k;
	struct session rec;
	int rc = SESSION_E_NONE;

	dl_kind(t, &k);
	if (session_token(req, &k, token, sizeof(token)))
		rc = session_get(&t->kv, &k, token, &rec);
	OPENSSL_cleanse(token, sizeof(token));
	return rc != 0 ? rc : decode(&rec, out);
}

void
dlsess_end(struct http_req *req, struct svc_thread *t, struct dlsess *s)
{
	char token[UTIL_TOKEN_LEN + 8];
	struct session_kind k;

	dl_kind(t, &k);
	if (s != NULL) {
		session_destroy(&t->kv, &k, s->token);
		OPENSSL_cleanse(s->token, sizeof(s->token));
		return;
	}
	if (session_token(req, &k, token, sizeof(token)))
		session_destroy(&t->kv, &k, token);
	OPENSSL_cleanse(token, sizeof(token));
	session_cookie(req, &k, NULL);
}

int
dlsess_grants(const struct dlsess *s, long long id)
{
	for (int i = 0; i < s->n; i++)
		if (s->ids[i] == id)
			return 1;
	return 0;
}
