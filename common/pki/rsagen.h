/* rsagen.h: RSA key pairs by FIPS 186-5 A.1.3 (random probable primes) on OpenSSL's bignums. */
#ifndef SHOMEI_RSAGEN_H
#define SHOMEI_RSAGEN_H

#include <openssl/evp.h>
#include <openssl/params.h>

/*
 * A fresh RSA key pair of bits bits (2048..8192, even), e = 65537, checked by
 * signing and verifying with it. *out is the caller's (EVP_PKEY_free). 0, -EINVAL
 * (bits), -ENOMEM or -EIO.
 */
int rsagen_keypair(unsigned bits, EVP_PKEY **out);

/* Load n, e, d, p, q, dP, dQ, qInv params as an RSA key pair, checked by a signature. 0 or -EIO. */
int rsagen_load(OSSL_PARAM *params, EVP_PKEY **out);

/* Wipe the values of params, then free them; NULL is fine. */
void rsagen_params_free(OSSL_PARAM *params);

#endif
