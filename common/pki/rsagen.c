/*
 * rsagen.c: RSA key pairs by FIPS 186-5 appendix A.1.3 (random probable primes), on OpenSSL's
 * bignum arithmetic.
 *
 * Why not RSA_generate / EVP_PKEY_keygen: OpenSSL 3.0 takes the SP 800-56B path (auxiliary
 * primes, 64 Miller-Rabin rounds on every prime), about 165 ms a key here; nettle about 70 ms.
 * The time goes into Miller-Rabin: one exponentiation per candidate that survives the sieve,
 * then the confirming rounds. Table B.1 of FIPS 186-5 asks for 5 rounds on the 1024-bit
 * primes of RSA-2048 (error 2^-112) and 4 on the 1536-bit primes of RSA-3072 (2^-128) when the
 * candidates are random, as they are here; we run 5 on both. The candidate search is the
 * incremental one of OpenSSL's probable_prime and GMP's nextprime: a random odd start (top two
 * bits set, so p >= sqrt(2) * 2^(k-1) and n has exactly nlen bits) and a sieve by the small
 * primes below 2^16, stepping by 2, a fresh start every SEARCH_SPAN steps.
 *
 * The rest is A.1.3 and 186-5 A.1.1: e = 65537, gcd(p-1, e) = 1, |p - q| > 2^(nlen/2 - 100),
 * d = e^-1 mod lcm(p-1, q-1) with d > 2^(nlen/2), CRT parameters; the key is loaded into
 * OpenSSL and must pass a sign-and-verify consistency test before it is used.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/param_build.h>
#include <openssl/params.h>
#include <openssl/rsa.h>

#include "pki/rsagen.h"

#define MR_ROUNDS 5
#define SEARCH_SPAN 4096 /* odd steps from one random start */
#define SMALL_LIMIT 65536

static uint16_t small[6542];
static int nsmall;
static CRYPTO_ONCE small_once = CRYPTO_ONCE_STATIC_INIT;

/* The odd primes below SMALL_LIMIT (a sieve of Eratosthenes, once). */
static void
small_init(void)
{
	static unsigned char comp[SMALL_LIMIT];

	for (int i = 3; i < SMALL_LIMIT && nsmall < (int)(sizeof(small) / sizeof(small[0]));
	     i += 2) {
		if (comp[i])
			continue;
		small[nsmall++] = (uint16_t)i;
		for (long j = (long)i * i; j < SMALL_LIMIT; j += 2L * i)
			comp[j] = 1;
	}
}

/* rounds of Miller-Rabin with random bases (FIPS 186-5 B.3.1). 1 probably prime, 0 composite, -1
 * error. */
static int
miller_rabin(const BIGNUM *w, int rounds, BN_CTX *ctx)
{
	BIGNUM *w1, *m, *b, *z;
	BN_MONT_CTX *mont = NULL;
	int a = 0, rc = -1;

	BN_CTX_start(ctx);
	w1 = BN_CTX_get(ctx), m = BN_CTX_get(ctx), b = BN_CTX_get(ctx), z = BN_CTX_get(ctx);
	if (z == NULL || BN_copy(w1, w) == NULL || !BN_sub_word(w1, 1))
		goto out;
	while (!BN_is_bit_set(w1, a))
		a++;
	if (!BN_rshift(m, w1, a) || (mont = BN_MONT_CTX_new()) == NULL ||
	    !BN_MONT_CTX_set(mont, w, ctx))
		goto out;
	for (int r = 0; r < rounds; r++) {
		/* b in [2, w-2]: a random below w-3, plus 2 */
		if (!BN_sub_word(w1, 2) || !BN_priv_rand_range_ex(b, w1, 0, ctx) ||
		    !BN_add_word(w1, 2) || !BN_add_word(b, 2))
			goto out;
		if (!BN_mod_exp_mont_consttime(z, b, m, w, ctx, mont))
			goto out;
		if (BN_is_one(z) || BN_cmp(z, w1) == 0)
			continue;
		int j;
		for (j = 1; j < a; j++) {
			if (!BN_mod_mul(z, z, z, w, ctx))
				goto out;
			if (BN_cmp(z, w1) == 0)
				break;
			if (BN_is_one(z)) {
				j = a; /* a nontrivial square root of 1: composite */
				break;
			}
		}
		if (j >= a) {
			rc = 0;
			goto out;
		}
	}
	rc = 1;
out:
	BN_MONT_CTX_free(mont);
	BN_CTX_end(ctx);
	return rc;
}

/*
 * A probable prime of bits bits with the top two bits set and p - 1 prime to 65537, into p.
 * 0 or -EIO.
 */
static int
prime(BIGNUM *p, int bits, BN_CTX *ctx)
{
	uint16_t rem[sizeof(small) / sizeof(small[0])];

	for (;;) {
		if (!BN_priv_rand_ex(p, bits, BN_RAND_TOP_TWO, BN_RAND_BOTTOM_ODD, 0, ctx))
			return -EIO;
		for (int i = 0; i < nsmall; i++) {
			BN_ULONG r = BN_mod_word(p, small[i]);
			if (r == (BN_ULONG)-1)
				return -EIO;
			rem[i] = (uint16_t)r;
		}
		for (unsigned delta = 0; delta < 2 * SEARCH_SPAN; delta += 2) {
			int i;
			for (i = 0; i < nsmall; i++)
				if ((rem[i] + delta) % small[i] == 0)
					break;
			if (i < nsmall)
				continue;
			/* the top two bits stay set: a start this close to 2^bits is vanishingly
			 * rare */
			if (!BN_add_word(p, delta))
				return -EIO;
			if (BN_num_bits(p) == bits && BN_mod_word(p, 65537) != 1) {
				int mr = miller_rabin(p, 1, ctx);
				if (mr < 0)
					return -EIO;
				if (mr == 1 && (mr = miller_rabin(p, MR_ROUNDS - 1, ctx)) < 0)
					return -EIO;
				if (mr == 1)
					return 0;
			}
			if (!BN_sub_word(p, delta))
				return -EIO;
		}
	}
}

/* The key's parts as OSSL_PARAMs: n, e, d, p, q, dP, dQ, qInv. */
static OSSL_PARAM *
params_of(BIGNUM *const v[8])
{
	static const char *const names[] = {
		OSSL_PKEY_PARAM_RSA_N,         OSSL_PKEY_PARAM_RSA_E,
		OSSL_PKEY_PARAM_RSA_D,         OSSL_PKEY_PARAM_RSA_FACTOR1,
		OSSL_PKEY_PARAM_RSA_FACTOR2,   OSSL_PKEY_PARAM_RSA_EXPONENT1,
		OSSL_PKEY_PARAM_RSA_EXPONENT2, OSSL_PKEY_PARAM_RSA_COEFFICIENT1,
	};
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params = NULL;

	if (bld == NULL)
		return NULL;
	for (int i = 0; i < 8; i++)
		if (!OSSL_PARAM_BLD_push_BN(bld, names[i], v[i]))
			goto out;
	params = OSSL_PARAM_BLD_to_param(bld);
out:
	OSSL_PARAM_BLD_free(bld);
	return params;
}

/*
 * The pairwise consistency test of FIPS 140-3 (IG 10.3.A): sign a digest with the private key,
 * CRT parameters included, and verify it with the public one. Not EVP_PKEY_pairwise_check:
 * for RSA, OpenSSL 3.0 runs SP 800-56B's key-pair check there, 64 Miller-Rabin rounds on p and
 * q again, which doubled the time of every key (rsagen 53 -> 25 ms, nettle 70 -> 45 ms).
 */
static int
sign_verify(EVP_PKEY *pk)
{
	static const unsigned char digest[32] = "shomei pairwise consistency";
	unsigned char sig[1024];
	size_t siglen = sizeof(sig);
	EVP_PKEY_CTX *ctx = NULL;
	int ok = 0;

	if ((ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pk, NULL)) == NULL ||
	    EVP_PKEY_sign_init(ctx) != 1 ||
	    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) != 1 ||
	    EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) != 1 ||
	    EVP_PKEY_sign(ctx, sig, &siglen, digest, sizeof(digest)) != 1)
		goto out;
	EVP_PKEY_CTX_free(ctx);
	if ((ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pk, NULL)) == NULL ||
	    EVP_PKEY_verify_init(ctx) != 1 ||
	    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) != 1 ||
	    EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) != 1)
		goto out;
	ok = EVP_PKEY_verify(ctx, sig, siglen, digest, sizeof(digest)) == 1;
out:
	EVP_PKEY_CTX_free(ctx);
	return ok;
}

int
rsagen_load(OSSL_PARAM *params, EVP_PKEY **out)
{
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pk = NULL;
	int rc = -EIO;

	if ((ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_KEYPAIR, params) != 1 || !sign_verify(pk))
		goto out;
	*out = pk;
	pk = NULL;
	rc = 0;
out:
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(pk);
	return rc;
}

void
rsagen_params_free(OSSL_PARAM *params)
{
	for (OSSL_PARAM *q = params; q != NULL && q->key != NULL; q++)
		OPENSSL_cleanse(q->data, q->data_size);
	OSSL_PARAM_free(params);
}

int
rsagen_keypair(unsigned bits, EVP_PKEY **out)
{
	BIGNUM *v[8] = {0}; /* n e d p q dP dQ qInv */
	BIGNUM *p1, *q1, *g, *lambda, *diff;
	OSSL_PARAM *params = NULL;
	BN_CTX *ctx = NULL;
	int half = (int)bits / 2, rc = -EIO;

	if (bits < 2048 || bits > 8192 || bits % 2 != 0)
		return -EINVAL;
	CRYPTO_THREAD_run_once(&small_once, small_init);
	if ((ctx = BN_CTX_secure_new()) == NULL)
		return -ENOMEM;
	BN_CTX_start(ctx);
	p1 = BN_CTX_get(ctx), q1 = BN_CTX_get(ctx), g = BN_CTX_get(ctx);
	lambda = BN_CTX_get(ctx), diff = BN_CTX_get(ctx);
	for (int i = 0; i < 8; i++)
		if ((v[i] = i < 2 ? BN_new() : BN_secure_new()) == NULL)
			goto out;
	if (diff == NULL || !BN_set_word(v[1], 65537))
		goto out;
	for (;;) {
		if (prime(v[3], half, ctx) != 0 || prime(v[4], half, ctx) != 0)
			goto out;
		/* |p - q| > 2^(nlen/2 - 100) */
		if (!BN_sub(diff, v[3], v[4]))
			goto out;
		BN_set_negative(diff, 0);
		if (BN_num_bits(diff) <= half - 100)
			continue;
		if (!BN_sub(p1, v[3], BN_value_one()) || !BN_sub(q1, v[4], BN_value_one()) ||
		    !BN_gcd(g, p1, q1, ctx) || !BN_mul(diff, p1, q1, ctx) ||
		    !BN_div(lambda, NULL, diff, g, ctx))
			goto out;
		BN_set_flags(lambda, BN_FLG_CONSTTIME);
		if (BN_mod_inverse(v[2], v[1], lambda, ctx) == NULL)
			goto out;
		if (BN_num_bits(v[2]) <= half) /* d > 2^(nlen/2) */
			continue;
		break;
	}
	BN_set_flags(v[3], BN_FLG_CONSTTIME);
	if (!BN_mul(v[0], v[3], v[4], ctx) || BN_num_bits(v[0]) != (int)bits ||
	    !BN_mod(v[5], v[2], p1, ctx) || !BN_mod(v[6], v[2], q1, ctx) ||
	    BN_mod_inverse(v[7], v[4], v[3], ctx) == NULL)
		goto out;
	if ((params = params_of(v)) == NULL)
		goto out;
	rc = rsagen_load(params, out);
out:
	rsagen_params_free(params);
	for (int i = 0; i < 8; i++)
		BN_clear_free(v[i]);
	BN_CTX_end(ctx);
	BN_CTX_free(ctx);
	return rc;
}
