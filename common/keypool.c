/* keypool.c: key pairs for new certificates: fast generation and an in-memory pool per key type. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <gmp.h>
#include <nettle/rsa.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/param_build.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "keypool.h"
#include "rsagen.h"

/* nettle's random source: OpenSSL's CSPRNG; a failure is remembered and fails the key. */
struct rnd {
	int failed;
};

static void
rnd_fill(void *ctx, size_t len, uint8_t *dst)
{
	struct rnd *r = ctx;

	if (len > 0 && RAND_bytes(dst, (int)len) != 1) {
		r->failed = 1;
		memset(dst, 0, len);
	}
}

/* Overwrite the limbs of x before GMP frees them. */
static void
mpz_wipe(mpz_t x)
{
	size_t n = mpz_size(x);

	if (n > 0)
		OPENSSL_cleanse(mpz_limbs_modify(x, (mp_size_t)n), n * sizeof(mp_limb_t));
}

/* x as a BIGNUM (secure memory when secret); NULL on failure. */
static BIGNUM *
mpz_to_bn(const mpz_t x, int secret)
{
	unsigned char buf[1024];
	size_t count = 0;
	BIGNUM *bn;

	if (mpz_sgn(x) <= 0 || (mpz_sizeinbase(x, 2) + 7) / 8 > sizeof(buf))
		return NULL;
	mpz_export(buf, &count, 1, 1, 1, 0, x);
	bn = secret ? BN_secure_new() : BN_new();
	if (bn != NULL && BN_bin2bn(buf, (int)count, bn) == NULL) {
		BN_free(bn);
		bn = NULL;
	}
	OPENSSL_cleanse(buf, count);
	return bn;
}

/* The nettle key as OSSL_PARAMs for EVP_PKEY_fromdata; NULL on failure. */
static OSSL_PARAM *
rsa_params(const struct rsa_public_key *pub, const struct rsa_private_key *key)
{
	static const char *const names[] = {
		OSSL_PKEY_PARAM_RSA_N,         OSSL_PKEY_PARAM_RSA_E,
		OSSL_PKEY_PARAM_RSA_D,         OSSL_PKEY_PARAM_RSA_FACTOR1,
		OSSL_PKEY_PARAM_RSA_FACTOR2,   OSSL_PKEY_PARAM_RSA_EXPONENT1,
		OSSL_PKEY_PARAM_RSA_EXPONENT2, OSSL_PKEY_PARAM_RSA_COEFFICIENT1,
	};
	/* nettle: a = d mod (p-1), b = d mod (q-1), c = q^-1 mod p, as OpenSSL's dP, dQ, qInv */
	const mpz_srcptr v[] = {pub->n, pub->e, key->d, key->p, key->q, key->a, key->b, key->c};
	BIGNUM *bn[8] = {0};
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	int i;

	if ((bld = OSSL_PARAM_BLD_new()) == NULL)
		goto out;
	for (i = 0; i < 8; i++)
		if ((bn[i] = mpz_to_bn(v[i], i >= 2)) == NULL ||
		    !OSSL_PARAM_BLD_push_BN(bld, names[i], bn[i]))
			goto out;
	params = OSSL_PARAM_BLD_to_param(bld);
out:
	for (i = 0; i < 8; i++)
		BN_clear_free(bn[i]);
	OSSL_PARAM_BLD_free(bld);
	return params;
}

int
keypool_rsa_nettle(unsigned bits, EVP_PKEY **out)
{
	struct rsa_public_key pub;
	struct rsa_private_key key;
	struct rnd r = {0};
	OSSL_PARAM *params = NULL;
	int rc = -EIO;

	if (bits < 1024 || bits > 8192)
		return -EIO;
	rsa_public_key_init(&pub);
	rsa_private_key_init(&key);
	mpz_set_ui(pub.e, 65537);
	if (!rsa_generate_keypair(&pub, &key, &r, rnd_fill, NULL, NULL, bits, 0) || r.failed)
		goto out;
	if ((params = rsa_params(&pub, &key)) == NULL)
		goto out;
	rc = rsagen_load(params, out);
out:
	rsagen_params_free(params);
	mpz_wipe(key.d), mpz_wipe(key.p), mpz_wipe(key.q);
	mpz_wipe(key.a), mpz_wipe(key.b), mpz_wipe(key.c);
	rsa_private_key_clear(&key);
	rsa_public_key_clear(&pub);
	return rc;
}

int
keypool_generate(enum x509_key_type t, EVP_PKEY **out)
{
	switch (t) {
	case X509_KEY_RSA2048:
		return rsagen_keypair(2048, out);
	case X509_KEY_RSA3072:
		return rsagen_keypair(3072, out);
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
	size_t size[X509_KEY__MAX];
	size_t n[X509_KEY__MAX];
	EVP_PKEY **keys[X509_KEY__MAX];
};

struct keypool *
keypool_new(const int sizes[X509_KEY__MAX])
{
	struct keypool *p;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
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
		if (keypool_generate((enum x509_key_type)t, &k) != 0)
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
	return keypool_generate(t, out);
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
