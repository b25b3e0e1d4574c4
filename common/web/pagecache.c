/* pagecache.c: list pages kept in Redis by generation (pagecache.h). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <zlib.h>

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

/* 1 when the client takes a gzip answer (every browser does). */
static int
takes_gzip(const struct http_req *req)
{
	return http_accepts_gzip(req->envp ? FCGX_GetParam("HTTP_ACCEPT_ENCODING", req->envp)
					   : NULL);
}

/* 1 when text is gzip (its magic number: a JSON text never starts with 0x1f). */
static int
is_gzip(const char *text, size_t len)
{
	return len >= 18 && (unsigned char)text[0] == 0x1f && (unsigned char)text[1] == 0x8b;
}

/* text (len <= PAGECACHE_MAX) compressed as gzip at zlib's fastest level (a 100 kB 利用者 page:
 * 0.5 ms, 16 kB): 0 and *out (malloc'd), *olen; -1. */
static int
gzip_text(const char *text, size_t len, char **out, size_t *olen)
{
	z_stream z;
	uLong bound;
	int rc;

	memset(&z, 0, sizeof(z));
	if (deflateInit2(&z, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return -1;
	bound = deflateBound(&z, (uLong)len);
	if ((*out = malloc(bound)) == NULL) {
		deflateEnd(&z);
		return -1;
	}
	z.next_in = (Bytef *)(uintptr_t)text;
	z.avail_in = (uInt)len;
	z.next_out = (Bytef *)*out;
	z.avail_out = (uInt)bound;
	rc = deflate(&z, Z_FINISH);
	*olen = (size_t)z.total_out;
	deflateEnd(&z);
	if (rc != Z_STREAM_END) {
		free(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}

/* A kept gzip page as text, for a client that does not take gzip: 0 and *out (malloc'd, NUL
 * ended), *olen; -1 when it does not inflate to the length its trailer gives. */
static int
gunzip_text(const char *gz, size_t len, char **out, size_t *olen)
{
	const unsigned char *t = (const unsigned char *)gz + len - 4;
	size_t n = (size_t)t[0] | (size_t)t[1] << 8 | (size_t)t[2] << 16 | (size_t)t[3] << 24;
	z_stream z;
	int rc;

	if (n > PAGECACHE_MAX || (*out = malloc(n + 1)) == NULL)
		return -1;
	memset(&z, 0, sizeof(z));
	if (inflateInit2(&z, 15 + 16) != Z_OK) {
		free(*out);
		return -1;
	}
	z.next_in = (Bytef *)(uintptr_t)gz;
	z.avail_in = (uInt)len;
	z.next_out = (Bytef *)*out;
	z.avail_out = (uInt)n;
	rc = inflate(&z, Z_FINISH);
	inflateEnd(&z);
	if (rc != Z_STREAM_END || z.total_out != n) {
		free(*out);
		*out = NULL;
		return -1;
	}
	(*out)[n] = '\0';
	*olen = n;
	return 0;
}

/* Answer req (200) with a page, text or gzip (is_gzip), as the client takes it: 0, or -1 when
 * a gzip page could not be inflated (nothing sent). */
static int
send_page(struct http_req *req, const char *body, size_t len)
{
	char *plain = NULL;
	int gzip = is_gzip(body, len) && takes_gzip(req);

	if (is_gzip(body, len) && !gzip) {
		if (gunzip_text(body, len, &plain, &len) != 0)
			return -1;
		body = plain;
	}
	http_add_header(req, "Vary", "Accept-Encoding");
	if (gzip)
		http_add_header(req, "Content-Encoding", "gzip");
	http_send(req, 200, HTTP_JSON_TYPE, body, len);
	free(plain);
	return 0;
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
	if (found && send_page(req, body, len) != 0)
		found = 0; /* kept but unreadable: the caller makes it */
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
	char *owned, *gz = NULL;
	size_t len, gzlen = 0;
	const char *text = http_json_text(doc, &len, &owned);

	if (text == NULL) {
		http_json(req, 200, doc);
		return;
	}
	/* kept as the client took it: gzip for a browser (sent and kept in a sixth of the bytes),
	 * text for a client that does not take gzip (it is not made to pay for compressing) */
	if (takes_gzip(req) && len <= PAGECACHE_MAX && gzip_text(text, len, &gz, &gzlen) == 0) {
		send_page(req, gz, gzlen);
		put(kv, list, req, gen, gz, gzlen);
	} else {
		send_page(req, text, len);
		put(kv, list, req, gen, text, len);
	}
	free(gz);
	cJSON_free(owned);
}
