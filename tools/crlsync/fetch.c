/* fetch.c: one conditional GET of the bundle with libcurl (verified TLS, no redirects). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "extern.h"

struct sink {
	struct crlsync_fetch *f;
	char etag[256];
	char last_modified[64];
	int too_big;
};

static size_t
on_body(char *ptr, size_t size, size_t n, void *ctx)
{
	struct sink *s = ctx;
	struct crlsync_fetch *f = s->f;
	size_t add = size * n;
	char *p;

	if (f->len + add > (size_t)CRLSYNC_MAX_BODY) {
		s->too_big = 1;
		return 0;
	}
	if ((p = realloc(f->body, f->len + add + 1)) == NULL)
		return 0;
	memcpy(p + f->len, ptr, add);
	f->len += add;
	p[f->len] = '\0';
	f->body = p;
	return add;
}

/* "Name: value\r\n" → value into dst when the name matches (case-insensitive). */
static void
header_value(const char *line, size_t len, const char *name, char *dst, size_t dlen)
{
	size_t nl = strlen(name), vl;
	const char *v;

	if (len <= nl || strncasecmp(line, name, nl) != 0 || line[nl] != ':')
		return;
	v = line + nl + 1;
	vl = len - nl - 1;
	while (vl > 0 && (*v == ' ' || *v == '\t')) {
		v++;
		vl--;
	}
	while (vl > 0 && isspace((unsigned char)v[vl - 1]))
		vl--;
	if (vl == 0 || vl >= dlen)
		return;
	for (size_t i = 0; i < vl; i++)
		if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
			return; /* never send back a control character */
	memcpy(dst, v, vl);
	dst[vl] = '\0';
}

static size_t
on_header(char *buf, size_t size, size_t n, void *ctx)
{
	struct sink *s = ctx;
	size_t len = size * n;

	/* a new response (after 100 Continue, say) starts afresh */
	if (len > 5 && strncmp(buf, "HTTP/", 5) == 0) {
		s->etag[0] = '\0';
		s->last_modified[0] = '\0';
	}
	header_value(buf, len, "ETag", s->etag, sizeof(s->etag));
	header_value(buf, len, "Last-Modified", s->last_modified, sizeof(s->last_modified));
	return len;
}

static int
on_progress(void *ctx, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	volatile sig_atomic_t *stop = ctx;

	(void)dt;
	(void)dn;
	(void)ut;
	(void)un;
	return stop != NULL && *stop ? 1 : 0;
}

int
crlsync_fetch_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

void
crlsync_fetch_cleanup(void)
{
	curl_global_cleanup();
}

int
crlsync_get(const struct crlsync_opts *o, struct crlsync_fetch *f, volatile sig_atomic_t *stop)
{
	struct sink s = {.f = f};
	struct curl_slist *h = NULL;
	char line[320];
	CURL *c;
	CURLcode rc;
	int ret = -1;

	free(f->body);
	f->body = NULL;
	f->len = 0;
	f->status = 0;
	f->error[0] = '\0';
	if ((c = curl_easy_init()) == NULL) {
		snprintf(f->error, sizeof(f->error), "curl_easy_init failed");
		return -1;
	}
	if (f->etag[0] != '\0') {
		snprintf(line, sizeof(line), "If-None-Match: %s", f->etag);
		h = curl_slist_append(h, line);
	}
	if (f->last_modified[0] != '\0') {
		snprintf(line, sizeof(line), "If-Modified-Since: %s", f->last_modified);
		h = curl_slist_append(h, line);
	}
	curl_easy_setopt(c, CURLOPT_URL, o->url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(c, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	if (o->cacert != NULL)
		curl_easy_setopt(c, CURLOPT_CAINFO, o->cacert);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 120L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "shomei-crlsync/1");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &s);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, (void *)stop);
	curl_easy_setopt(c, CURLOPT_VERBOSE, o->verbose > 1 ? 1L : 0L);
	rc = curl_easy_perform(c);
	if (rc != CURLE_OK) {
		snprintf(f->error, sizeof(f->error), "%s",
			 s.too_big ? "body too large" : curl_easy_strerror(rc));
		free(f->body);
		f->body = NULL;
		f->len = 0;
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &f->status);
	if (f->status == 200) {
		/* the validators of this body (none sent: none kept) */
		snprintf(f->etag, sizeof(f->etag), "%s", s.etag);
		snprintf(f->last_modified, sizeof(f->last_modified), "%s", s.last_modified);
		if (f->body == NULL && (f->body = strdup("")) == NULL)
			goto out;
	} else {
		free(f->body);
		f->body = NULL;
		f->len = 0;
	}
	ret = 0;
out:
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	return ret;
}
