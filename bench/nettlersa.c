/* nettlersa.c: RSA key pairs from nettle, for the key-generation benchmark and its test. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <gmp.h>
#include <nettle/rsa.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/param_build.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "nettlersa.h"
#include "pki/rsagen.h"

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
nettlersa_keypair(unsigned bits, EVP_PKEY **out)
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
