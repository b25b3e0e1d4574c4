/* kv.h: Redis through hiredis, one connection per thread, reconnecting when it is gone. */
#ifndef SHOMEI_KV_H
#define SHOMEI_KV_H

#include <stddef.h>

#include <hiredis/hiredis.h>

struct kv {
	redisContext *c;
	char *socket; /* unix socket path, or NULL for TCP */
	char *host;
	int port;
};

/* Copy the address; connects lazily. 0 or -ENOMEM. */
int kv_init(struct kv *kv, const char *socket, const char *host, int port);
void kv_done(struct kv *kv);

/*
 * Run one command (binary safe). Returns the reply (freeReplyObject it), or
 * NULL when Redis cannot be reached even after one reconnect, or answered an
 * error. The command is retried once after a reconnect.
 */
redisReply *kv_cmd(struct kv *kv, int argc, const char **argv, const size_t *lens);

/* Convenience for NUL-terminated arguments. */
redisReply *kv_cmdv(struct kv *kv, int argc, const char **argv);

/* "shomei:<part>:<part>..." into buf; 0 or -ENAMETOOLONG. */
int kv_key(char *buf, size_t len, const char *a, const char *b);

/* 1 when Redis answers PING. */
int kv_ping(struct kv *kv);

/*
 * Claim key for ms milliseconds (SET key 1 NX PX ms): 1 when this caller holds it now, or when
 * Redis cannot say (the caller then goes ahead as if alone); 0 when another holds it.
 */
int kv_claim(struct kv *kv, const char *key, const char *ms);

/* DEL key (a claim ended, a session gone): 0, or -EIO when Redis did not answer. */
int kv_del(struct kv *kv, const char *key);

#endif
