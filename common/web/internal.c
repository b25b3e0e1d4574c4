/* internal.c: calls to another service's internal API over nginx's internal listener (libcurl). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <openssl/crypto.h>

#include "core/util.h"
#include "web/internal.h"

#define ANSWER_MAX (1024 * 1024) /* bytes of an answer kept */
#define TOKEN_MAX 256
#define TIMEOUT_S 60

struct sink {
	char *buf;
	size_t len, cap;
	int over;
};

int
internal_global_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -EIO;
}

static size_t
collect(char *data, size_t size, size_t n, void *arg)
{
	struct sink *s = arg;
	size_t add = size * n;

	if (s->len + add > ANSWER_MAX) {
		s->over = 1;
		return 0;
	}
	if (s->len + add + 1 > s->cap) {
		size_t cap = (s->len + add + 1) * 2;
		char *b = realloc(s->buf, cap);
		if (b == NULL)
			return 0;
		s->buf = b;
		s->cap = cap;
	}
	memcpy(s->buf + s->len, data, add);
	s->len += add;
	s->buf[s->len] = '\0';
	return add;
}

/* The service's token (its file's first line) into tok; 0 or -EIO. */
static int
read_token(const struct cfg *cfg, const char *service, char tok[TOKEN_MAX + 1])
{
	char path[1024];
	size_t len = 0, n;
	char *t;

	if (cfg->internal_token_dir == NULL || cfg->internal_token_dir[0] == '\0' ||
	    snprintf(path, sizeof(path), "%s/%s.token", cfg->internal_token_dir, service) >=
		    (int)sizeof(path))
		return -EIO;
	if ((t = util_read_file(path, TOKEN_MAX + 2, &len)) == NULL)
		return -EIO;
	n = strcspn(t, "\r\n");
	if (n == 0 || n > TOKEN_MAX) {
		OPENSSL_cleanse(t, len);
		free(t);
		return -EIO;
	}
	memcpy(tok, t, n);
	tok[n] = '\0';
	OPENSSL_cleanse(t, len);
	free(t);
	return 0;
}

/* The request's headers; NULL on ENOMEM. */
static struct curl_slist *
headers(const char *service, const char *tok)
{
	char auth[TOKEN_MAX + 32], who[96];
	struct curl_slist *h = NULL, *n;

	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", tok);
	snprintf(who, sizeof(who), "X-Shomei-Service: %s", service);
	if ((n = curl_slist_append(h, "Content-Type: application/json")) == NULL)
		goto fail;
	h = n;
	if ((n = curl_slist_append(h, who)) == NULL)
		goto fail;
	h = n;
	n = curl_slist_append(h, auth);
	OPENSSL_cleanse(auth, sizeof(auth));
	if (n == NULL)
		goto fail;
	return n;
fail:
	curl_slist_free_all(h);
	return NULL;
}

int
internal_post(const struct cfg *cfg, const char *service, const char *path, const cJSON *body,
	      int *status, cJSON **answer)
{
	char tok[TOKEN_MAX + 1], url[512];
	char *text = NULL;
	struct curl_slist *h = NULL;
	struct sink s = {0};
	CURL *c = NULL;
	long code = 0;
	int rc = -EIO;

	if (cfg->internal_socket == NULL || cfg->internal_socket[0] == '\0' ||
	    snprintf(url, sizeof(url), "http://localhost%s", path) >= (int)sizeof(url))
		return -EIO;
	if ((rc = read_token(cfg, service, tok)) != 0)
		return rc;
	rc = -ENOMEM;
	if ((text = cJSON_PrintUnformatted(body)) == NULL || (h = headers(service, tok)) == NULL ||
	    (c = curl_easy_init()) == NULL)
		goto out;
	curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, cfg->internal_socket);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, text);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(text));
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)TIMEOUT_S);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http");
	rc = -EIO;
	if (curl_easy_perform(c) != CURLE_OK || s.over)
		goto out;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	*status = (int)code;
	*answer = s.len ? cJSON_Parse(s.buf) : NULL;
	rc = 0;
out:
	OPENSSL_cleanse(tok, sizeof(tok));
	curl_easy_cleanup(c);
	curl_slist_free_all(h);
	free(text);
	free(s.buf);
	return rc;
}
