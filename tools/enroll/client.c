/* client.c: HTTPS to the download site with libcurl: verified TLS, the session cookie, JSON. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "extern.h"

#define CLIENT_MAX_BODY (16 * 1024 * 1024)

struct client {
	CURL *curl;
	char *base; /* "https://host:port/api/dl/<tenant>/" */
};

struct client *
client_new(const char *base, const char *cacert, int verbose)
{
	struct client *c = calloc(1, sizeof(*c));

	if (c == NULL || (c->base = strdup(base)) == NULL || (c->curl = curl_easy_init()) == NULL) {
		client_free(c);
		return NULL;
	}
	curl_easy_setopt(c->curl, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(c->curl, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c->curl, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(c->curl, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	if (cacert != NULL)
		curl_easy_setopt(c->curl, CURLOPT_CAINFO, cacert);
	/* the session cookie lives in memory only, for this run */
	curl_easy_setopt(c->curl, CURLOPT_COOKIEFILE, "");
	curl_easy_setopt(c->curl, CURLOPT_CONNECTTIMEOUT, 15L);
	curl_easy_setopt(c->curl, CURLOPT_TIMEOUT, 120L);
	curl_easy_setopt(c->curl, CURLOPT_USERAGENT, "shomei-enroll/1");
	curl_easy_setopt(c->curl, CURLOPT_VERBOSE, verbose ? 1L : 0L);
	return c;
}

void
client_free(struct client *c)
{
	if (c == NULL)
		return;
	if (c->curl != NULL)
		curl_easy_cleanup(c->curl);
	free(c->base);
	free(c);
}

void
buf_free(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = 0;
}

static size_t
sink(char *ptr, size_t size, size_t n, void *ctx)
{
	struct buf *b = ctx;
	size_t add = size * n;
	char *p;

	if (b->len + add > CLIENT_MAX_BODY || (p = realloc(b->data, b->len + add + 1)) == NULL)
		return 0;
	memcpy(p + b->len, ptr, add);
	b->len += add;
	p[b->len] = '\0';
	b->data = p;
	return add;
}

long
client_post(struct client *c, const char *path, const char *json, const char *csrf, struct buf *out)
{
	struct curl_slist *h = NULL;
	char url[2048], hdr[128];
	long status = -1;
	CURLcode rc;

	memset(out, 0, sizeof(*out));
	snprintf(url, sizeof(url), "%s%s", c->base, path);
	h = curl_slist_append(h, "Content-Type: application/json");
	h = curl_slist_append(h, "Accept-Language: ja");
	if (csrf != NULL) {
		snprintf(hdr, sizeof(hdr), "X-CSRF-Token: %s", csrf);
		h = curl_slist_append(h, hdr);
	}
	curl_easy_setopt(c->curl, CURLOPT_URL, url);
	curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, json);
	curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, sink);
	curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, out);
	if ((rc = curl_easy_perform(c->curl)) != CURLE_OK)
		fprintf(stderr, "shomei-enroll: %s: %s\n", url, curl_easy_strerror(rc));
	else
		curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(h);
	return status;
}
