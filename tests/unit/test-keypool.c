/* test-keypool.c: RSA keys (rsagen), P-256 keys, and the pool with its refill
 * thread. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/rsa.h>

#include "pki/keypool.h"
#include "pki-fixture.h"
#include "tap.h"

/* Sign and verify a message with k: the key works as a whole. */
static int
sign_verify(EVP_PKEY *k)
{
	static const unsigned char msg[] = "shomei";
	unsigned char sig[1024];
	size_t siglen = sizeof(sig);
	EVP_MD_CTX *s = EVP_MD_CTX_new(), *v = EVP_MD_CTX_new();
	int ok = s != NULL && v != NULL &&
		 EVP_DigestSignInit(s, NULL, EVP_sha256(), NULL, k) == 1 &&
		 EVP_DigestSign(s, sig, &siglen, msg, sizeof(msg)) == 1 &&
		 EVP_DigestVerifyInit(v, NULL, EVP_sha256(), NULL, k) == 1 &&
		 EVP_DigestVerify(v, sig, siglen, msg, sizeof(msg)) == 1;

	EVP_MD_CTX_free(s);
	EVP_MD_CTX_free(v);
	return ok;
}

static int
full_check(EVP_PKEY *k)
{
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_pkey(NULL, k, NULL);
	int ok = c != NULL && EVP_PKEY_check(c) == 1;

	EVP_PKEY_CTX_free(c);
	return ok;
}

static void
test_generate(enum keypool_rsa how)
{
	static const struct {
		enum x509_key_type t;
		const char *name;
		int bits;
		int rsa;
	} cases[] = {
		{X509_KEY_RSA2048, "rsa2048", 2048, 1},
		{X509_KEY_RSA3072, "rsa3072", 3072, 1},
		{X509_KEY_P256, "p256", 256, 0},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		EVP_PKEY *k = NULL;
		BIGNUM *e = NULL;
		int rc = keypool_generate(cases[i].t, how, &k);
		const char *by = keypool_rsa_words[how];

		TAP_OK(rc == 0 && k != NULL, "%s (%s): generated", cases[i].name, by);
		if (k == NULL)
			continue;
		TAP_OK(EVP_PKEY_is_a(k, cases[i].rsa ? "RSA" : "EC") &&
			       EVP_PKEY_get_bits(k) == cases[i].bits,
		       "%s (%s): type and %d bits", cases[i].name, by, cases[i].bits);
		if (cases[i].rsa)
			TAP_OK(EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_E, &e) == 1 &&
				       BN_is_word(e, 65537),
			       "%s (%s): e = 65537", cases[i].name, by);
		TAP_OK(full_check(k),
		       "%s (%s): OpenSSL's full key check passes (primes, CRT values)",
		       cases[i].name, by);
		TAP_OK(sign_verify(k), "%s (%s): signs and verifies", cases[i].name, by);
		BN_free(e);
		EVP_PKEY_free(k);
	}
	EVP_PKEY *k = NULL;
	TAP_OK(keypool_generate(X509_KEY__MAX, how, &k) == X509_E_INVALID && k == NULL,
	       "unknown key type refused (%s)", keypool_rsa_words[how]);
}

/* Two RSA keys differ (the random source is wired). */
static void
test_distinct(void)
{
	EVP_PKEY *a = NULL, *b = NULL;

	keypool_generate(X509_KEY_RSA2048, KEYPOOL_RSA_RSAGEN, &a);
	keypool_generate(X509_KEY_RSA2048, KEYPOOL_RSA_RSAGEN, &b);
	TAP_OK(a != NULL && b != NULL && EVP_PKEY_eq(a, b) != 1, "two RSA keys differ");
	EVP_PKEY_free(a);
	EVP_PKEY_free(b);
}

/* An rsagen key in a certificate signed by an OpenSSL CA verifies. */
static void
test_in_certificate(void)
{
	struct pki p;
	EVP_PKEY *k = NULL;
	X509 *x = NULL;

	TAP_OK(pki_make(&p, X509_KEY_P256, "Reiwa") == 0, "fixture CA");
	keypool_generate(X509_KEY_RSA2048, KEYPOOL_RSA_RSAGEN, &k);
	TAP_OK(pki_client(&p, k, "client_000001", NULL, 30, &x) == 0 &&
		       x509_sign(x, p.ca_key) == 0 && X509_check_private_key(x, k) == 1,
	       "RSA key in a signed certificate matches it");
	X509_free(x);
	EVP_PKEY_free(k);
	pki_free(&p);
}

static int
wait_ready(struct keypool *p, enum x509_key_type t, size_t n, int seconds)
{
	for (int i = 0; i < seconds * 20; i++) {
		if (keypool_ready(p, t) >= n)
			return 1;
		usleep(50000);
	}
	return keypool_ready(p, t) >= n;
}

static void
test_pool(void)
{
	int sizes[X509_KEY__MAX] = {[X509_KEY_RSA2048] = 3, [X509_KEY_P256] = 5};
	struct keypool *p = keypool_new(sizes, KEYPOOL_RSA_RSAGEN);
	EVP_PKEY *k[8] = {0};
	int distinct = 1;

	TAP_OK(p != NULL, "pool created");
	TAP_OK(keypool_ready(p, X509_KEY_RSA2048) == 0, "empty before the thread starts");
	TAP_OK(keypool_take(p, X509_KEY_P256, &k[0]) == 0 && k[0] != NULL,
	       "take from an empty pool generates on the spot");
	EVP_PKEY_free(k[0]);
	k[0] = NULL;
	TAP_OK(keypool_start(p) == 0, "refill thread started");
	TAP_OK(wait_ready(p, X509_KEY_RSA2048, 3, 60) && wait_ready(p, X509_KEY_P256, 5, 10),
	       "filled to its sizes (3 RSA-2048, 5 P-256)");
	usleep(200000);
	TAP_OK(keypool_ready(p, X509_KEY_RSA2048) == 3 && keypool_ready(p, X509_KEY_P256) == 5,
	       "never above its size");
	TAP_OK(keypool_ready(p, X509_KEY_RSA3072) == 0, "a type of size 0 is not pooled");
	for (int i = 0; i < 3; i++)
		keypool_take(p, X509_KEY_RSA2048, &k[i]);
	TAP_OK(keypool_ready(p, X509_KEY_RSA2048) < 3, "taking empties the pool");
	for (int i = 0; i < 3; i++)
		for (int j = i + 1; j < 3; j++)
			if (k[i] == NULL || k[j] == NULL || EVP_PKEY_eq(k[i], k[j]) == 1)
				distinct = 0;
	TAP_OK(distinct, "each key is handed out once");
	TAP_OK(keypool_take(p, X509_KEY_RSA3072, &k[3]) == 0 && EVP_PKEY_get_bits(k[3]) == 3072,
	       "unpooled type generated on the spot");
	TAP_OK(keypool_take(p, X509_KEY__MAX, &k[4]) == X509_E_INVALID, "unknown type refused");
	TAP_OK(wait_ready(p, X509_KEY_RSA2048, 3, 60), "refilled after taking");
	for (int i = 0; i < 8; i++)
		EVP_PKEY_free(k[i]);
	keypool_free(p);
	keypool_free(NULL);
	TAP_OK(1, "freed with keys inside, and NULL");
	int huge[X509_KEY__MAX] = {[X509_KEY_P256] = KEYPOOL_MAX + 5, [X509_KEY_RSA2048] = -3};
	p = keypool_new(huge, KEYPOOL_RSA_RSAGEN);
	TAP_OK(p != NULL, "sizes out of range clamped");
	keypool_free(p);
}

/* A pool whose RSA keys come from OpenSSL's generator ([issue] rsa_keygen = openssl). */
static void
test_pool_openssl(void)
{
	int sizes[X509_KEY__MAX] = {[X509_KEY_RSA2048] = 2};
	struct keypool *p = keypool_new(sizes, KEYPOOL_RSA_OPENSSL);
	EVP_PKEY *k = NULL, *u = NULL;

	TAP_OK(p != NULL && keypool_start(p) == 0 && wait_ready(p, X509_KEY_RSA2048, 2, 60),
	       "openssl: a pool of 2 RSA-2048 filled");
	TAP_OK(keypool_take(p, X509_KEY_RSA2048, &k) == 0 && full_check(k) && sign_verify(k),
	       "openssl: a pooled key passes the full check and signs");
	TAP_OK(keypool_take(p, X509_KEY_RSA3072, &u) == 0 && EVP_PKEY_get_bits(u) == 3072 &&
		       full_check(u),
	       "openssl: an unpooled RSA-3072 made on the spot");
	EVP_PKEY_free(k);
	EVP_PKEY_free(u);
	keypool_free(p);
}

int
main(void)
{
	test_generate(KEYPOOL_RSA_RSAGEN);
	test_generate(KEYPOOL_RSA_OPENSSL);
	test_distinct();
	test_in_certificate();
	test_pool();
	test_pool_openssl();
	return tap_done();
}
