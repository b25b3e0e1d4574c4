/* test-nettlersa.c: the benchmark's nettle RSA generator (bench/nettlersa.c) makes keys OpenSSL
 * accepts, and refuses sizes outside 1024..8192. */
#include <errno.h>

#include <openssl/evp.h>

#include "nettlersa.h"
#include "tap.h"

int
main(void)
{
	EVP_PKEY *k = NULL;
	EVP_PKEY_CTX *ctx = NULL;

	TAP_OK(nettlersa_keypair(512, &k) == -EIO && k == NULL, "RSA below 1024 bits refused");
	TAP_OK(nettlersa_keypair(16384, &k) == -EIO && k == NULL, "RSA above 8192 bits refused");
	TAP_OK(nettlersa_keypair(2048, &k) == 0 && k != NULL && EVP_PKEY_is_a(k, "RSA") &&
		       EVP_PKEY_get_bits(k) == 2048,
	       "a 2048-bit RSA key");
	if (k != NULL && (ctx = EVP_PKEY_CTX_new(k, NULL)) != NULL)
		TAP_OK(EVP_PKEY_check(ctx) == 1, "OpenSSL's full key check passes");
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(k);
	return tap_done();
}
