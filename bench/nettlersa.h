/* nettlersa.h: RSA key pairs from nettle's rsa_generate_keypair, loaded into OpenSSL (the
 * benchmark's comparison point for common/pki/rsagen.c; no runtime program links nettle). */
#ifndef SHOMEI_NETTLERSA_H
#define SHOMEI_NETTLERSA_H

#include <openssl/evp.h>

/* An RSA key of bits bits (1024..8192) from nettle, checked by a signature. *out is the
 * caller's (EVP_PKEY_free). 0 or -EIO. */
int nettlersa_keypair(unsigned bits, EVP_PKEY **out);

#endif
