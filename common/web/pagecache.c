/* pagecache.c: list pages kept in Redis by generation (pagecache.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "web/pagecache.h"
#include "core/util.h"

/* The page's key: a digest of the list, tenant, language, generation and query. 0 or -1. */
static int
page_key(const char *list, const struct http_req *req, const char *gen, char *key, size_t len)
{
	char hex[65], part[160];
	size_t n = strlen(req->query ? req->query : "") + strlen(gen) + 96;
	char *text = malloc(n);
	int w;

	if (text == NULL)
		return -1;
	w = snprintf(text, n, "%lld\n%d\n%s\n%s", req->tenant_id, req->lang, gen,
		     req->query ? req->query : "");
	if (w < 0 || (size_t)w >= n) {
		free(text);
		return -1;
	}
	util_sha256_hex(text, (size_t)w, hex);
	free(text);
	snprintf(part, sizeof(part), "%s:%s", list, hex);
	return kv_key(key, len, "page", part) == 0 ? 0 : -1;
}

/* 1 when the request asks for an answer made afresh. */
static int
no_cache(const struct http_req *req)
{
	const char *cc = req->envp ? FCGX_GetParam("HTTP_CACHE_CONTROL", req->envp) : NULL;

	return cc != NULL && strstr(cc, "no-cache") != NULL;
}

/* The page stored under key: 1 and *body, *len; else 0. */
static int
fetch(struct kv *kv, const char *key, char **body, size_t *len)
{
	const char *get[] = {"GET", key};
	redisReply *r = kv_cmdv(kv, 2, get);
	int found = 0;

	if (r != NULL && r->type == REDIS_REPLY_STRING && r->len > 0 &&
	    (*body = malloc((size_t)r->len + 1)) != NULL) {
		memcpy(*body, r->str, (size_t)r->len);
		(*body)[r->len] = '\0';
		*len = (size_t)r->len;
		found = 1;
	}
	freeReplyObject(r);
	return found;
}

/* 1 when this request makes the page keyed key (no other is making it), or Redis cannot say. */
static int
claim(struct kv *kv, const char *key)
{
	char k[300];

	snprintf(k, sizeof(k), "%s:making", key);
	return kv_claim(kv, k, PAGECACHE_CLAIM_MS);
}

int
pagecache_answer(struct kv *kv, const char *list, struct http_req *req, const char *gen)
{
	char key[256], *body = NULL;
	size_t len = 0;
	int found = 0;

	if (gen == NULL || *gen == '\0' || no_cache(req) ||
	    page_key(list, req, gen, key, sizeof(key)))
		return 0;
	found = fetch(kv, key, &body, &len);
	/* another request is making it: wait for it rather than make it a second time */
	if (!found && !claim(kv, key))
		for (int waited = 0; !found && waited < PAGECACHE_WAIT_MS; waited += 5) {
			struct timespec ts = {0, 5 * 1000 * 1000};
			nanosleep(&ts, NULL);
			found = fetch(kv, key, &body, &len);
		}
	if (found)
		http_send(req, 200, HTTP_JSON_TYPE, body, len);
	free(body);
	return found;
}

/* Keep body (len bytes) as that page for PAGECACHE_TTL seconds, and end its claim; errors are
 * ignored. */
static void
put(struct kv *kv, const char *list, const struct http_req *req, const char *gen, const char *body,
    size_t len)
{
	char key[256], k[300];

	if (gen == NULL || *gen == '\0' || page_key(list, req, gen, key, sizeof(key)))
		return;
	if (len > 0 && len <= PAGECACHE_MAX) {
		const char *set[] = {"SET", key, body, "EX", PAGECACHE_TTL};
		const size_t lens[] = {3, strlen(key), len, 2, strlen(PAGECACHE_TTL)};
		freeReplyObject(kv_cmd(kv, 5, set, lens));
	}
	/* the claim ends (a page too large to keep: the next request makes it again) */
	snprintf(k, sizeof(k), "%s:making", key);
	kv_del(kv, k);
}

void
pagecache_send(struct kv *kv, const char *list, struct http_req *req, const char *gen,
	       const cJSON *doc)
{
	char *owned;
	size_t len;
	const char *text = http_json_text(doc, &len, &owned);

	if (text == NULL) {
		http_json(req, 200, doc);
		return;
	}
	http_send(req, 200, HTTP_JSON_TYPE, text, len);
	put(kv, list, req, gen, text, len);
	cJSON_free(owned);
}
