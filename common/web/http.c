/* http.c: a FastCGI request as the handlers see it, and the responses they send. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "web/http.h"
#include "web/i18n.h"
#include "web/valid.h"
#include "core/util.h"

/* What http_json prints into without allocating (per FastCGI thread, touched as used). */
#define HTTP_JSON_BUF (1024 * 1024)

static const char *
param(FCGX_ParamArray envp, const char *name)
{
	return envp ? FCGX_GetParam(name, envp) : NULL;
}

static long long
param_id(FCGX_ParamArray envp, const char *name)
{
	long long v = 0;

	if (util_parse_ll(param(envp, name), 1, (long long)1 << 53, &v) != 0)
		return 0;
	return v;
}

void
http_req_init(struct http_req *req, FCGX_Stream *out, FCGX_ParamArray envp)
{
	unsigned char rnd[8];
	const char *p;

	memset(req, 0, sizeof(*req));
	req->out = out;
	req->envp = envp;
	req->method = (p = param(envp, "REQUEST_METHOD")) ? p : "GET";
	/* nginx names an internal route in SHOMEI_ROUTE (a client cannot set a FastCGI param) */
	if ((p = param(envp, "SHOMEI_ROUTE")) == NULL)
		p = param(envp, "DOCUMENT_URI");
	req->path = p ? p : "/";
	req->query = (p = param(envp, "QUERY_STRING")) ? p : "";
	req->remote_addr = (p = param(envp, "REMOTE_ADDR")) ? p : "";
	req->cookie = param(envp, "HTTP_COOKIE");
	req->csrf_header = param(envp, "HTTP_X_CSRF_TOKEN");
	req->origin = param(envp, "HTTP_ORIGIN");
	req->sec_fetch_site = param(envp, "HTTP_SEC_FETCH_SITE");
	req->accept_language = param(envp, "HTTP_ACCEPT_LANGUAGE");
	req->content_type = param(envp, "CONTENT_TYPE");
	req->client_verify = param(envp, "SSL_CLIENT_VERIFY");
	req->client_cert = param(envp, "SSL_CLIENT_CERT");
	req->admin_id = param_id(envp, "SHOMEI_ADMIN_ID");
	req->tenant_id = param_id(envp, "SHOMEI_TENANT_ID");
	req->lang = i18n_lang(req->accept_language);
	/* nginx's $request_id (32 hex digits), cut to the log's 16: drawing an id of our own
	 * instead cost a RAND_bytes call on every request nginx had already paid one for */
	if ((p = param(envp, "REQUEST_ID")) != NULL && *p != '\0') {
		snprintf(req->reqid, sizeof(req->reqid), "%.*s", (int)sizeof(req->reqid) - 1, p);
	} else if (util_random(rnd, sizeof(rnd)) == 0) {
		util_hex(rnd, sizeof(rnd), req->reqid);
	}
}

void
http_req_done(struct http_req *req)
{
	free(req->body);
	req->body = NULL;
}

int
http_read_body(struct http_req *req, FCGX_Stream *in, size_t max)
{
	const char *cl = param(req->envp, "CONTENT_LENGTH");
	long long n = 0;
	char *buf;
	int got;

	if (cl != NULL && *cl != '\0' && util_parse_ll(cl, 0, (long long)1 << 40, &n) != 0)
		return -EIO;
	if ((size_t)n > max)
		return HTTP_E_TOOBIG;
	if ((buf = malloc((size_t)n + 1)) == NULL)
		return -ENOMEM;
	got = n > 0 ? FCGX_GetStr(buf, (int)n, in) : 0;
	if (got != (int)n) {
		free(buf);
		return -EIO;
	}
	buf[n] = '\0';
	free(req->body);
	req->body = buf;
	req->body_len = (size_t)n;
	return 0;
}

/* Decode [s, e) into buf (len > 0): 0, HTTP_E_TOOLONG or HTTP_E_ENCODING. */
static int
decode(const char *s, const char *e, char *buf, size_t len)
{
	size_t n = 0;
	int rc = 0;

	while (s < e && rc == 0) {
		int c = (unsigned char)*s++, h, l;
		if (c == '%') {
			if (e - s < 2 || (h = util_hexval((unsigned char)s[0])) < 0 ||
			    (l = util_hexval((unsigned char)s[1])) < 0 || (h | l) == 0)
				rc = HTTP_E_ENCODING;
			else
				c = h << 4 | l, s += 2;
		} else if (c == '+') {
			c = ' ';
		}
		if (rc == 0 && n + 1 >= len)
			rc = HTTP_E_TOOLONG;
		if (rc == 0)
			buf[n++] = (char)c;
	}
	buf[n] = '\0';
	if (rc == 0 && valid_utf8_len(buf) < 0)
		rc = HTTP_E_ENCODING;
	if (rc != 0)
		buf[0] = '\0';
	return rc;
}

int
http_query_get(const char *query, const char *name, char *buf, size_t len)
{
	size_t nlen = strlen(name);
	const char *p = query;

	if (len == 0)
		return HTTP_E_TOOLONG;
	buf[0] = '\0';
	while (p != NULL && *p) {
		const char *amp = strchr(p, '&');
		const char *end = amp ? amp : p + strlen(p);
		const char *eq = memchr(p, '=', (size_t)(end - p));
		const char *kend = eq ? eq : end;

		if ((size_t)(kend - p) == nlen && strncmp(p, name, nlen) == 0)
			return decode(eq ? eq + 1 : end, end, buf, len);
		p = amp ? amp + 1 : NULL;
	}
	return HTTP_E_ABSENT;
}

int
http_cookie_get(const char *header, const char *name, char *buf, size_t len)
{
	size_t nlen = strlen(name);
	const char *p = header;

	while (p != NULL && *p) {
		while (*p == ' ' || *p == ';')
			p++;
		const char *semi = strchr(p, ';');
		const char *end = semi ? semi : p + strlen(p);
		if ((size_t)(end - p) > nlen && strncmp(p, name, nlen) == 0 && p[nlen] == '=') {
			size_t n = (size_t)(end - p - (ptrdiff_t)nlen - 1);
			if (n >= len)
				return 0;
			memcpy(buf, p + nlen + 1, n);
			buf[n] = '\0';
			return 1;
		}
		p = semi;
	}
	return 0;
}

int
http_route_match(struct http_req *req, const char *pattern, const char *path)
{
	size_t used = 0;
	int nargs = 0;

	while (*pattern && *path) {
		if (*pattern == '{') {
			const char *pe = strchr(pattern, '}');
			const char *se = strchr(path, '/');
			size_t n = se ? (size_t)(se - path) : strlen(path);
			if (pe == NULL || n == 0 || nargs >= HTTP_MAX_ARGS ||
			    used + n + 1 > sizeof(req->argbuf))
				return 0;
			memcpy(req->argbuf + used, path, n);
			req->argbuf[used + n] = '\0';
			req->args[nargs++] = req->argbuf + used;
			used += n + 1;
			pattern = pe + 1;
			path += n;
			continue;
		}
		if (*pattern++ != *path++)
			return 0;
	}
	if (*pattern || *path)
		return 0;
	req->nargs = nargs;
	return 1;
}

int
http_add_header(struct http_req *req, const char *name, const char *value)
{
	size_t room = sizeof(req->headers) - req->hlen;
	int n = snprintf(req->headers + req->hlen, room, "%s: %s\r\n", name, value);

	if (n < 0 || (size_t)n >= room) {
		req->headers[req->hlen] = '\0';
		return -ENOSPC;
	}
	req->hlen += (size_t)n;
	return 0;
}

void
http_begin(struct http_req *req, int status, const char *ctype)
{
	req->status = status;
	if (req->out == NULL)
		return;
	FCGX_FPrintF(req->out, "Status: %d\r\n", status);
	if (ctype != NULL)
		FCGX_FPrintF(req->out, "Content-Type: %s\r\n", ctype);
	/* no-store unless the handler chose its own caching (public CRLs and CA certificates) */
	if (strncmp(req->headers, "Cache-Control:", 14) != 0 &&
	    strstr(req->headers, "\r\nCache-Control:") == NULL)
		FCGX_FPrintF(req->out, "Cache-Control: no-store\r\n");
	FCGX_FPrintF(req->out, "%s\r\n", req->headers);
}

int
http_write(struct http_req *req, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		int n = len > (1 << 20) ? 1 << 20 : (int)len;
		if (req->out != NULL && FCGX_PutStr(p, n, req->out) != n)
			return -EPIPE;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

void
http_send(struct http_req *req, int status, const char *ctype, const char *body, size_t len)
{
	http_begin(req, status, ctype);
	http_write(req, body, len);
}

static pthread_key_t json_key;
static pthread_once_t json_once = PTHREAD_ONCE_INIT;

static void
json_key_make(void)
{
	if (pthread_key_create(&json_key, free) != 0)
		json_key = (pthread_key_t)-1;
}

/* The calling thread's print buffer of HTTP_JSON_BUF bytes (freed with the thread), or NULL. */
static char *
json_buf(void)
{
	char *buf;

	pthread_once(&json_once, json_key_make);
	if (json_key == (pthread_key_t)-1)
		return NULL;
	if ((buf = pthread_getspecific(json_key)) == NULL &&
	    (buf = malloc(HTTP_JSON_BUF)) != NULL && pthread_setspecific(json_key, buf) != 0) {
		free(buf);
		buf = NULL;
	}
	return buf;
}

const char *
http_json_text(const cJSON *doc, size_t *len, char **owned)
{
	/*
	 * Printed into the thread's own buffer, kept from one answer to the next: a list's page of
	 * 40-100 kB grew its buffer by reallocation each time, a large allocation after the tree's
	 * many small ones were freed (malloc consolidating them: a tenth of shomei-users' CPU).
	 * An answer that does not fit is printed the usual way.
	 */
	char *buf = json_buf(), *s;

	*owned = NULL;
	if (buf != NULL && cJSON_PrintPreallocated((cJSON *)doc, buf, HTTP_JSON_BUF, 0)) {
		*len = strlen(buf);
		return buf;
	}
	if ((s = cJSON_PrintUnformatted(doc)) == NULL)
		return NULL;
	*owned = s;
	*len = strlen(s);
	return s;
}

void
http_json(struct http_req *req, int status, const cJSON *doc)
{
	char *owned;
	size_t len;
	const char *s = http_json_text(doc, &len, &owned);

	if (s == NULL) {
		http_send(req, 500, "application/json", "{}", 2);
		return;
	}
	http_send(req, status, HTTP_JSON_TYPE, s, len);
	cJSON_free(owned);
}

void
http_error(struct http_req *req, int status, const char *code, const char *message, cJSON *fields)
{
	cJSON *doc = cJSON_CreateObject();
	cJSON *err = cJSON_AddObjectToObject(doc, "error");

	cJSON_AddStringToObject(err, "code", code);
	cJSON_AddStringToObject(err, "message", message);
	if (fields != NULL)
		cJSON_AddItemToObject(err, "fields", fields);
	http_json(req, status, doc);
	cJSON_Delete(doc);
}

/* The q of a coding's parameters (the text after its name, to the next ','): 0 when q=0. */
static int
coding_q_nonzero(const char *p, const char *end)
{
	while (p < end) {
		const char *semi = memchr(p, ';', (size_t)(end - p));
		if (semi == NULL)
			return 1;
		p = semi + 1;
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (end - p >= 2 && (p[0] == 'q' || p[0] == 'Q') && p[1] == '=') {
			/* "0", "0.", "0.0", "0.00", "0.000": zero; anything else weighs */
			p += 2;
			if (p >= end || *p != '0')
				return 1;
			for (p++; p < end && (*p == '.' || *p == '0'); p++)
				;
			while (p < end && (*p == ' ' || *p == '\t'))
				p++;
			return p < end && *p != ';';
		}
	}
	return 1;
}

int
http_accepts_gzip(const char *ae)
{
	int gzip = -1, star = -1;

	while (ae != NULL && *ae != '\0') {
		const char *end = strchr(ae, ','), *name, *ne;
		if (end == NULL)
			end = ae + strlen(ae);
		for (name = ae; name < end && (*name == ' ' || *name == '\t'); name++)
			;
		for (ne = name; ne < end && *ne != ';' && *ne != ' ' && *ne != '\t'; ne++)
			;
		if ((ne - name == 4 && strncasecmp(name, "gzip", 4) == 0) ||
		    (ne - name == 6 && strncasecmp(name, "x-gzip", 6) == 0))
			gzip = coding_q_nonzero(ne, end);
		else if (ne - name == 1 && *name == '*')
			star = coding_q_nonzero(ne, end);
		ae = *end ? end + 1 : end;
	}
	return gzip >= 0 ? gzip : star > 0;
}

int
http_is_state_changing(const char *method)
{
	return strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0 ||
	       strcmp(method, "PATCH") == 0 || strcmp(method, "DELETE") == 0;
}
