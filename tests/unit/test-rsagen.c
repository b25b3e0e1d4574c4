/* test-rsagen.c: RSA keys by FIPS 186-5 A.1.3, checked against OpenSSL's own prime test and key
 * check. */
#include <errno.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>

#include "pki/rsagen.h"
#include "tap.h"

static BIGNUM *
param(EVP_PKEY *k, const char *name)
{
	BIGNUM *b = NULL;

	return EVP_PKEY_get_bn_param(k, name, &b) == 1 ? b : NULL;
}

/* Every property A.1.3 asks of a key of bits bits, tested independently of rsagen.c. */
static void
check_key(EVP_PKEY *k, int bits, int i)
{
	BIGNUM *n = param(k, OSSL_PKEY_PARAM_RSA_N), *e = param(k, OSSL_PKEY_PARAM_RSA_E);
	BIGNUM *d = param(k, OSSL_PKEY_PARAM_RSA_D), *p = param(k, OSSL_PKEY_PARAM_RSA_FACTOR1);
	BIGNUM *q = param(k, OSSL_PKEY_PARAM_RSA_FACTOR2), *t = BN_new(), *u = BN_new();
	BN_CTX *ctx = BN_CTX_new();
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_pkey(NULL, k, NULL);

	TAP_OK(n && e && d && p && q && t && u && ctx && c, "%d/%d: the parts are there", bits, i);
	if (!(n && e && d && p && q && t && u && ctx && c))
		goto out;
	TAP_OK(BN_num_bits(n) == bits && BN_is_word(e, 65537), "%d/%d: n has %d bits, e = 65537",
	       bits, i, bits);
	TAP_OK(BN_check_prime(p, ctx, NULL) == 1 && BN_check_prime(q, ctx, NULL) == 1,
	       "%d/%d: p and q pass OpenSSL's 64-round prime test", bits, i);
	TAP_OK(BN_num_bits(p) == bits / 2 && BN_num_bits(q) == bits / 2,
	       "%d/%d: p and q have %d bits each", bits, i, bits / 2);
	BN_sub(t, p, q);
	BN_set_negative(t, 0);
	TAP_OK(BN_num_bits(t) > bits / 2 - 100, "%d/%d: |p - q| > 2^(nlen/2 - 100)", bits, i);
	TAP_OK(BN_num_bits(d) > bits / 2, "%d/%d: d > 2^(nlen/2)", bits, i);
	/* e * d = 1 mod (p - 1) and mod (q - 1) */
	int ok = 1;
	BN_copy(u, p);
	BN_sub_word(u, 1);
	BN_mod_mul(t, e, d, u, ctx);
	ok &= BN_is_one(t);
	BN_copy(u, q);
	BN_sub_word(u, 1);
	BN_mod_mul(t, e, d, u, ctx);
	ok &= BN_is_one(t);
	TAP_OK(ok, "%d/%d: e * d = 1 mod p-1 and mod q-1", bits, i);
	TAP_OK(EVP_PKEY_pairwise_check(c) == 1 && EVP_PKEY_check(c) == 1,
	       "%d/%d: OpenSSL's SP 800-56B pairwise and full key checks pass", bits, i);
out:
	EVP_PKEY_CTX_free(c);
	BN_CTX_free(ctx);
	BN_free(n), BN_free(e), BN_clear_free(d), BN_clear_free(p), BN_clear_free(q);
	BN_clear_free(t), BN_clear_free(u);
}

static void
test_keys(void)
{
	EVP_PKEY *k[3] = {0};

	for (int i = 0; i < 3; i++) {
		TAP_OK(rsagen_keypair(2048, &k[i]) == 0 && k[i] != NULL, "2048/%d: generated", i);
		if (k[i] != NULL)
			check_key(k[i], 2048, i);
	}
	TAP_OK(k[0] && k[1] && k[2] && EVP_PKEY_eq(k[0], k[1]) != 1 && EVP_PKEY_eq(k[1], k[2]) != 1,
	       "three keys differ");
	for (int i = 0; i < 3; i++)
		EVP_PKEY_free(k[i]);
	EVP_PKEY *big = NULL;
	TAP_OK(rsagen_keypair(3072, &big) == 0 && big != NULL, "3072/0: generated");
	if (big != NULL)
		check_key(big, 3072, 0);
	EVP_PKEY_free(big);
}

static void
test_refusals(void)
{
	EVP_PKEY *k = NULL;

	TAP_OK(rsagen_keypair(1024, &k) == -EINVAL && k == NULL, "1024 bits refused");
	TAP_OK(rsagen_keypair(2049, &k) == -EINVAL && k == NULL, "an odd size refused");
	TAP_OK(rsagen_keypair(16384, &k) == -EINVAL && k == NULL, "16384 bits refused");
}

/* rsagen_load's signature test catches a key whose private half does not match. */
static void
test_load_refuses_mismatch(void)
{
	static const char *const names[] = {
		OSSL_PKEY_PARAM_RSA_N,         OSSL_PKEY_PARAM_RSA_E,
		OSSL_PKEY_PARAM_RSA_D,         OSSL_PKEY_PARAM_RSA_FACTOR1,
		OSSL_PKEY_PARAM_RSA_FACTOR2,   OSSL_PKEY_PARAM_RSA_EXPONENT1,
		OSSL_PKEY_PARAM_RSA_EXPONENT2, OSSL_PKEY_PARAM_RSA_COEFFICIENT1,
	};
	EVP_PKEY *good = NULL, *other = NULL, *out = NULL;
	BIGNUM *v[8] = {0};
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params = NULL;

	rsagen_keypair(2048, &good);
	rsagen_keypair(2048, &other);
	/* the public half of one key with the private half of another */
	for (int i = 0; good != NULL && other != NULL && i < 8; i++)
		v[i] = param(i < 2 ? good : other, names[i]);
	for (int i = 0; bld != NULL && i < 8; i++)
		if (v[i] != NULL)
			OSSL_PARAM_BLD_push_BN(bld, names[i], v[i]);
	params = bld ? OSSL_PARAM_BLD_to_param(bld) : NULL;
	TAP_OK(params != NULL && rsagen_load(params, &out) == -EIO && out == NULL,
	       "a public half with another key's private half fails the consistency test");
	rsagen_params_free(params);
	OSSL_PARAM_BLD_free(bld);
	for (int i = 0; i < 8; i++)
		BN_clear_free(v[i]);
	EVP_PKEY_free(good);
	EVP_PKEY_free(other);
}

int
main(void)
{
	test_keys();
	test_refusals();
	test_load_refuses_mismatch();
	return tap_done();
}
