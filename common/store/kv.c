/* kv.c: Redis through hiredis, one connection per thread, reconnecting when it is gone. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/kv.h"
#include "core/log.h"

int
kv_init(struct kv *kv, const char *socket, const char *host, int port)
{
	memset(kv, 0, sizeof(*kv));
	if (socket != NULL && *socket != '\0' && (kv->socket = strdup(socket)) == NULL)
		return -ENOMEM;
	if ((kv->host = strdup(host ? host : "127.0.0.1")) == NULL) {
		free(kv->socket);
		return -ENOMEM;
	}
	kv->port = port;
	return 0;
}

static void
kv_drop(struct kv *kv)
{
	if (kv->c != NULL)
		redisFree(kv->c);
	kv->c = NULL;
}

void
kv_done(struct kv *kv)
{
	kv_drop(kv);
	free(kv->socket);
	free(kv->host);
	memset(kv, 0, sizeof(*kv));
}

static int
kv_connect(struct kv *kv)
{
	struct timeval tv = {2, 0};

	if (kv->c != NULL && kv->c->err == 0)
		return 0;
	kv_drop(kv);
	if (kv->socket != NULL)
		kv->c = redisConnectUnixWithTimeout(kv->socket, tv);
	else
		kv->c = redisConnectWithTimeout(kv->host, kv->port, tv);
	if (kv->c == NULL || kv->c->err) {
		log_msg(LOG_DEBUG, "event=redis_connect_failed");
		kv_drop(kv);
		return -EIO;
	}
	redisSetTimeout(kv->c, tv);
	return 0;
}

redisReply *
kv_cmd(struct kv *kv, int argc, const char **argv, const size_t *lens)
{
	redisReply *r = NULL;

	for (int attempt = 0; attempt < 2; attempt++) {
		if (kv_connect(kv) != 0)
			continue;
		r = redisCommandArgv(kv->c, argc, argv, lens);
		if (r != NULL)
			break;
		kv_drop(kv); /* NULL reply: the connection is gone */
	}
	if (r != NULL && r->type == REDIS_REPLY_ERROR) {
		log_msg(LOG_WARN, "event=redis_error cmd=%s", argv[0]);
		freeReplyObject(r);
		r = NULL;
	}
	return r;
}

redisReply *
kv_cmdv(struct kv *kv, int argc, const char **argv)
{
	size_t lens[16];

	if (argc > 16)
		return NULL;
	for (int i = 0; i < argc; i++)
		lens[i] = strlen(argv[i]);
	return kv_cmd(kv, argc, argv, lens);
}

int
kv_key(char *buf, size_t len, const char *a, const char *b)
{
	int n = b ? snprintf(buf, len, "shomei:%s:%s", a, b) : snprintf(buf, len, "shomei:%s", a);

	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	return 0;
}

int
kv_ping(struct kv *kv)
{
	const char *argv[] = {"PING"};
	redisReply *r = kv_cmdv(kv, 1, argv);
	int ok = r != NULL && r->type == REDIS_REPLY_STATUS;

	freeReplyObject(r);
	return ok;
}

int
kv_claim(struct kv *kv, const char *key, const char *ms)
{
	const char *set[] = {"SET", key, "1", "NX", "PX", ms};
	redisReply *r = kv_cmdv(kv, 6, set);
	int mine = r == NULL || r->type != REDIS_REPLY_NIL;

	freeReplyObject(r);
	return mine;
}

int
kv_del(struct kv *kv, const char *key)
{
	const char *argv[] = {"DEL", key};
	redisReply *r = kv_cmdv(kv, 2, argv);

	if (r == NULL)
		return -EIO;
	freeReplyObject(r);
	return 0;
}
