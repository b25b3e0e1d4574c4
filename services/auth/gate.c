/* gate.c: nginx auth_request: is there a session, and for a change, the right CSRF token? */
#include <stdio.h>
#include <string.h>

#include "extern.h"
#include "web/i18n.h"
#include "core/log.h"
#include "web/session.h"
#include "core/util.h"

/* The origin ("https://host:port") of a URL: its length up to the path. */
static size_t
origin_len(const char *url)
{
	const char *p = strstr(url, "://");
	const char *slash = p ? strchr(p + 3, '/') : NULL;

	return slash ? (size_t)(slash - url) : strlen(url);
}

/*
 * A browser names the page that sent a request in Origin and Sec-Fetch-Site;
 * when it does, they must be this site (the configured public_url). Scripts
 * send neither and rely on the CSRF token (or, for login, have no session).
 */
int
auth_same_site(const struct http_req *req, const struct svc_thread *t)
{
	const char *pub = t->cfg->public_url;
	size_t n = origin_len(pub);

	if (req->sec_fetch_site != NULL && strcmp(req->sec_fetch_site, "same-origin") != 0 &&
	    strcmp(req->sec_fetch_site, "none") != 0)
		return 0;
	if (req->origin == NULL)
		return 1;
	return strlen(req->origin) == n && strncmp(req->origin, pub, n) == 0;
}

int
auth_gate(struct http_req *req, struct svc_thread *t)
{
	char v[24];
	struct admin_sess s;
	int rc;

	rc = admin_sess_get(req, t, &s);
	admin_sess_done(&s);
	if (rc != 0) {
		/* Redis down counts as logged out: auth_request knows only 2xx/401/403. */
		http_send(req, 401, NULL, NULL, 0);
		return 0;
	}
	if (http_is_state_changing(req->method)) {
		if (req->csrf_header == NULL || !util_streq_ct(req->csrf_header, s.s.csrf) ||
		    !auth_same_site(req, t)) {
			log_msg(LOG_WARN, "event=csrf_refused admin=%lld ip=%s", s.admin_id,
				req->remote_addr);
			http_send(req, 403, NULL, NULL, 0);
			return 0;
		}
	}
	snprintf(v, sizeof(v), "%lld", s.admin_id);
	http_add_header(req, "X-Shomei-Admin", v);
	snprintf(v, sizeof(v), "%lld", s.tenant_id);
	http_add_header(req, "X-Shomei-Tenant", v);
	http_send(req, 204, NULL, NULL, 0);
	return 0;
}
