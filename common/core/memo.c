/* memo.c: a small in-process cache of strings by key (see memo.h). */
#include <stdlib.h>
#include <string.h>

#include "core/memo.h"

/* FNV-1a of the key, to pick its slot. */
static unsigned
slot_of(const char *key)
{
	unsigned h = 2166136261u;

	for (const unsigned char *p = (const unsigned char *)key; *p; p++)
		h = (h ^ *p) * 16777619u;
	return h % MEMO_SLOTS;
}

char *
memo_get(struct memo *m, const char *key, long long tag)
{
	unsigned i = slot_of(key);
	char *v = NULL;

	pthread_mutex_lock(&m->lock);
	if (m->slot[i].value != NULL && m->slot[i].tag == tag &&
	    time(NULL) - m->slot[i].at < m->ttl && strcmp(m->slot[i].key, key) == 0)
		v = strdup(m->slot[i].value);
	pthread_mutex_unlock(&m->lock);
	return v;
}

void
memo_put(struct memo *m, const char *key, long long tag, const char *value)
{
	unsigned i = slot_of(key);
	size_t klen = strlen(key);
	char *copy, *old;

	if (klen >= MEMO_KEY_MAX || (copy = strdup(value)) == NULL)
		return;
	pthread_mutex_lock(&m->lock);
	old = m->slot[i].value;
	memcpy(m->slot[i].key, key, klen + 1);
	m->slot[i].tag = tag;
	m->slot[i].at = time(NULL);
	m->slot[i].value = copy;
	pthread_mutex_unlock(&m->lock);
	free(old);
}
