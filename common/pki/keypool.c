/* keypool.c: key pairs for new certificates: fast generation and an in-memory pool per key type. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/param_build.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "pki/keypool.h"
#include "pki/rsagen.h"

const char *const keypool_rsa_words[KEYPOOL_RSA__MAX + 1] = {
	[KEYPOOL_RSA_RSAGEN] = "rsagen",
	[KEYPOOL_RSA_OPENSSL] = "openssl",
	[KEYPOOL_RSA__MAX] = NULL,
};

int
keypool_generate(enum x509_key_type t, enum keypool_rsa how, EVP_PKEY **out)
{
	switch (t) {
	case X509_KEY_RSA2048:
		return how == KEYPOOL_RSA_OPENSSL ? x509_key_generate(t, out)
						  : rsagen_keypair(2048, out);
	case X509_KEY_RSA3072:
		return how == KEYPOOL_RSA_OPENSSL ? x509_key_generate(t, out)
						  : rsagen_keypair(3072, out);
	case X509_KEY_P256:
		return x509_key_generate(t, out);
	default:
		return X509_E_INVALID;
	}
}

struct keypool {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t thread;
	int started;
	int stop;
	enum keypool_rsa how;
	size_t size[X509_KEY__MAX];
	size_t n[X509_KEY__MAX];
	EVP_PKEY **keys[X509_KEY__MAX];
};

struct keypool *
keypool_new(const int sizes[X509_KEY__MAX], enum keypool_rsa how)
{
	struct keypool *p;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	p->how = how;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	for (int t = 0; t < X509_KEY__MAX; t++) {
		int s = sizes[t] < 0 ? 0 : sizes[t] > KEYPOOL_MAX ? KEYPOOL_MAX : sizes[t];
		p->size[t] = (size_t)s;
		if (s > 0 && (p->keys[t] = calloc((size_t)s, sizeof(EVP_PKEY *))) == NULL) {
			keypool_free(p);
			return NULL;
		}
	}
	return p;
}

/* The type most short of its target (relative to its size), or -1 when every pool is full. */
static int
neediest(const struct keypool *p)
{
	int best = -1;
	double gap = 0;

	for (int t = 0; t < X509_KEY__MAX; t++) {
		if (p->n[t] >= p->size[t])
			continue;
		double g = (double)(p->size[t] - p->n[t]) / (double)p->size[t];
		if (best < 0 || g > gap)
			best = t, gap = g;
	}
	return best;
}

static void *
refill(void *arg)
{
	struct keypool *p = arg;
	EVP_PKEY *k;
	int t;

	/* Below every request-serving and issuing thread: it only uses idle CPU. */
	setpriority(PRIO_PROCESS, (id_t)gettid(), 19);
	pthread_mutex_lock(&p->mu);
	while (!p->stop) {
		if ((t = neediest(p)) < 0) {
			pthread_cond_wait(&p->cv, &p->mu);
			continue;
		}
		pthread_mutex_unlock(&p->mu);
		k = NULL;
		if (keypool_generate((enum x509_key_type)t, p->how, &k) != 0)
			sleep(1);
		pthread_mutex_lock(&p->mu);
		if (k != NULL && !p->stop && p->n[t] < p->size[t]) {
			p->keys[t][p->n[t]++] = k;
			k = NULL;
		}
		EVP_PKEY_free(k);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

int
keypool_start(struct keypool *p)
{
	int rc;

	if ((rc = pthread_create(&p->thread, NULL, refill, p)) != 0)
		return -rc;
	p->started = 1;
	return 0;
}

int
keypool_take(struct keypool *p, enum x509_key_type t, EVP_PKEY **out)
{
	EVP_PKEY *k = NULL;

	if ((unsigned)t >= X509_KEY__MAX)
		return X509_E_INVALID;
	pthread_mutex_lock(&p->mu);
	if (p->n[t] > 0) {
		k = p->keys[t][--p->n[t]];
		p->keys[t][p->n[t]] = NULL;
	}
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
	if (k != NULL) {
		*out = k;
		return 0;
	}
	return keypool_generate(t, p->how, out);
}

size_t
keypool_ready(struct keypool *p, enum x509_key_type t)
{
	size_t n;

	if ((unsigned)t >= X509_KEY__MAX)
		return 0;
	pthread_mutex_lock(&p->mu);
	n = p->n[t];
	pthread_mutex_unlock(&p->mu);
	return n;
}

void
keypool_free(struct keypool *p)
{
	if (p == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	p->stop = 1;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	if (p->started)
		pthread_join(p->thread, NULL);
	for (int t = 0; t < X509_KEY__MAX; t++) {
		for (size_t i = 0; i < p->n[t]; i++)
			EVP_PKEY_free(p->keys[t][i]);
		free(p->keys[t]);
	}
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->cv);
	free(p);
}
