/*
 * memo.h: a small in-process cache of strings by key, for values that are costly to compute and
 * may lag a few seconds (the names `me` shows, the history's totals). A fixed number of slots
 * (a key lands in one slot, replacing whatever was there), one mutex, an age limit, and a tag
 * the caller compares: a value stored under another tag is not returned.
 */
#ifndef SHOMEI_MEMO_H
#define SHOMEI_MEMO_H

#include <pthread.h>
#include <time.h>

#define MEMO_SLOTS 128
#define MEMO_KEY_MAX 512 /* longer keys are never cached */

struct memo {
	pthread_mutex_t lock;
	int ttl; /* seconds a value is returned after it was stored */
	struct {
		char key[MEMO_KEY_MAX];
		long long tag;
		time_t at;
		char *value;
	} slot[MEMO_SLOTS];
};

/* one line each: clang-format would spread these initialiser macros over five */
/* clang-format off */
#define MEMO_INIT(seconds) {.lock = PTHREAD_MUTEX_INITIALIZER, .ttl = (seconds)}
/* clang-format on */

/* A malloc'ed copy of the value stored for key under tag within ttl seconds, or NULL. */
char *memo_get(struct memo *m, const char *key, long long tag);

/* Store a copy of value for key under tag (nothing happens for a key too long or on ENOMEM). */
void memo_put(struct memo *m, const char *key, long long tag, const char *value);

#endif
