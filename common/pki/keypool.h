/* keypool.h: key pairs for new certificates: fast generation and an in-memory pool per key type. */
#ifndef SHOMEI_KEYPOOL_H
#define SHOMEI_KEYPOOL_H

#include <stddef.h>

#include <openssl/evp.h>

#include "pki/x509.h"

/* Most keys a pool of one type may hold. */
#define KEYPOOL_MAX 100000

/*
 * How RSA keys are made: shomei's rsagen (FIPS 186-5 A.1.3 on OpenSSL's bignums, about six
 * times faster than OpenSSL 3.0 here, the default) or OpenSSL's own generator (EVP_PKEY_Q_keygen:
 * for deployments that must use a validated module for key generation). [issue] rsa_keygen.
 */
enum keypool_rsa {
	KEYPOOL_RSA_RSAGEN,
	KEYPOOL_RSA_OPENSSL,
	KEYPOOL_RSA__MAX,
};

/* The words of [issue] rsa_keygen, in enum order, NULL-terminated. */
extern const char *const keypool_rsa_words[KEYPOOL_RSA__MAX + 1];

/*
 * A fresh key pair of type t: RSA as how says (rsagen's checked by a signature before use);
 * EC P-256 from OpenSSL.
 * *out is the caller's (EVP_PKEY_free). Returns 0, X509_E_INVALID (unknown type) or -EIO.
 */
int keypool_generate(enum x509_key_type t, enum keypool_rsa how, EVP_PKEY **out);

/*
 * A pool keeps up to sizes[t] keys of each type ready in memory (never
 * written anywhere); a thread at nice 19 refills it. Keys are handed out at
 * most once. keypool_new returns NULL on ENOMEM; sizes outside
 * 0..KEYPOOL_MAX are clamped.
 */
struct keypool;
struct keypool *keypool_new(const int sizes[X509_KEY__MAX], enum keypool_rsa how);

/* Start the refill thread. 0 or -errno. */
int keypool_start(struct keypool *p);

/*
 * A key of type t, taken from the pool when one is ready, else generated in
 * the calling thread. *out is the caller's. 0, X509_E_INVALID or -EIO.
 */
int keypool_take(struct keypool *p, enum x509_key_type t, EVP_PKEY **out);

/* Keys of type t ready now. */
size_t keypool_ready(struct keypool *p, enum x509_key_type t);

/* Stop the refill thread (waits for the key it is making) and free every key; NULL is fine. */
void keypool_free(struct keypool *p);

#endif
