/* http.h: a FastCGI request as the handlers see it, and the responses they send. */
#ifndef SHOMEI_HTTP_H
#define SHOMEI_HTTP_H

#include "core/err.h"

#include <stddef.h>

#include <fcgiapp.h>
#include <cjson/cJSON.h>

#define HTTP_MAX_ARGS 4

struct http_req {
	FCGX_Stream *out;
	FCGX_ParamArray envp;
	const char *method;
	const char *path;
	const char *query;
	const char *remote_addr;
	const char *cookie;
	const char *csrf_header;
	const char *origin;
	const char *sec_fetch_site;
	const char *accept_language;
	const char *content_type;
	const char *client_verify; /* SSL_CLIENT_VERIFY from nginx */
	const char *client_cert;   /* SSL_CLIENT_CERT (escaped PEM) from nginx */
	long long admin_id;        /* SHOMEI_ADMIN_ID from nginx auth_request, 0 if none */
	long long tenant_id;       /* SHOMEI_TENANT_ID */
	int lang;                  /* I18N_JA or I18N_EN */
	char *body;                /* NUL-terminated, owned */
	size_t body_len;
	char reqid[17];
	const char *args[HTTP_MAX_ARGS]; /* {placeholders} of the matched route */
	int nargs;
	char argbuf[256];
	char headers[2048]; /* extra response headers, CRLF-separated */
	size_t hlen;
	int status; /* the status sent, 0 before */
};

/* Fill the request fields from FastCGI params (getparam may be a test stub). */
void http_req_init(struct http_req *req, FCGX_Stream *out, FCGX_ParamArray envp);
void http_req_done(struct http_req *req);

/* Read CONTENT_LENGTH bytes (at most max) from in; 0, HTTP_E_TOOBIG or -EIO. */
int http_read_body(struct http_req *req, FCGX_Stream *in, size_t max);

/*
 * Find name in an application/x-www-form-urlencoded string and decode its value into buf.
 * 0 found (a name without '=' has the value ""); HTTP_E_ABSENT when not there; HTTP_E_TOOLONG
 * when the decoded value does not fit len; HTTP_E_ENCODING when its percent-encoding is bad,
 * it decodes to a NUL or it is not UTF-8. buf is "" on every outcome but 0; a value is
 * never dropped silently: present but unusable is an error, not absence.
 */
int http_query_get(const char *query, const char *name, char *buf, size_t len);

/* Find a cookie by name in a Cookie header into buf. 1 found, 0 not. */
int http_cookie_get(const char *header, const char *name, char *buf, size_t len);

/* Match "/api/users/{id}" against a path; captured segments go to req->args. 1 match. */
int http_route_match(struct http_req *req, const char *pattern, const char *path);

/* Add one response header line ("Name: value"); -ENOSPC when full. */
int http_add_header(struct http_req *req, const char *name, const char *value);

/* Start a streamed answer: status and headers now, the body through http_write. */
void http_begin(struct http_req *req, int status, const char *ctype);

/* Append to the body; 0, or -EPIPE when the client (nginx) has gone. */
int http_write(struct http_req *req, const void *buf, size_t len);

/* Send status, the extra headers and a body. */
void http_send(struct http_req *req, int status, const char *ctype, const char *body, size_t len);

/* Send a JSON document (not freed). */
void http_json(struct http_req *req, int status, const cJSON *doc);

#define HTTP_JSON_TYPE "application/json; charset=utf-8"

/*
 * doc as http_json sends it: the text and its length; valid until the thread's next call, or,
 * when *owned is set, until the caller frees *owned (cJSON_free). NULL when it cannot be printed.
 */
const char *http_json_text(const cJSON *doc, size_t *len, char **owned);

/* Send {"error":{"code","message","fields"}}; fields (owned, may be NULL) is an array. */
void http_error(struct http_req *req, int status, const char *code, const char *message,
		cJSON *fields);

/*
 * 1 when an Accept-Encoding header (may be NULL) takes gzip: a "gzip", "x-gzip" or "*" coding
 * whose q is not 0 (RFC 9110 12.5.3; an explicit "gzip;q=0" refuses it even beside "*").
 */
int http_accepts_gzip(const char *accept_encoding);

/* True for POST, PUT, PATCH and DELETE. */
int http_is_state_changing(const char *method);

#endif
