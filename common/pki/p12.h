/* p12.h: PKCS#12 files for end users and administrators (modern and compat profiles). */
#ifndef SHOMEI_P12_H
#define SHOMEI_P12_H

#include "core/err.h"

#include <stddef.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

enum p12_mode {
	P12_MODERN, /* PBES2 AES-256-CBC + PBKDF2-HMAC-SHA256, SHA-256 MAC (Windows 10+, browsers)
		     */
	P12_COMPAT, /* pbeWithSHA1And3-KeyTripleDES-CBC for key and certs, SHA-1 MAC (iOS, Android)
		     */
	P12_MODE__MAX,
};

#define P12_ITER 2048

/* "modern" / "compat"; 0 or P12_E_INVALID. */
int p12_mode_parse(const char *s, enum p12_mode *out);
const char *p12_mode_name(enum p12_mode m);

/*
 * DER of a PKCS#12 holding key, cert (friendly name = the certificate's CN,
 * with a localKeyId) and chain[0..nchain) (the issuing CA first, up to the
 * root), protected by password. *out is malloc'ed; the caller frees it.
 * Returns 0, P12_E_INVALID, -ENOMEM or -EIO.
 */
int p12_build(EVP_PKEY *key, X509 *cert, X509 *const *chain, size_t nchain, const char *password,
	      enum p12_mode mode, unsigned char **out, size_t *outlen);

#endif
