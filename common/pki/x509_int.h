/* x509_int.h: helpers shared by the x509_*.c files; private to common/pki, not part of x509.h. */
#ifndef SHOMEI_X509_INT_H
#define SHOMEI_X509_INT_H

#include <stddef.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

/*
 * Error codes are x509.h's: 0, X509_E_INVALID for input that cannot be encoded, -ENOMEM,
 * -EIO. The x509_int_add_* functions add one extension to a certificate being built,
 * replacing one of the same type (X509V3_ADD_REPLACE).
 */

/* x509_ext.c */

/* subjectKeyIdentifier = SHA-1 of x's public key bits (RFC 5280 4.2.1.2, method 1). 0, -EIO. */
int x509_int_add_ski(X509 *x);

/*
 * An AUTHORITY_KEYID holding only issuer's SKI (read from its extension list, so issuer may
 * be a certificate still being built); *out is the caller's (AUTHORITY_KEYID_free).
 * 0, X509_E_INVALID (issuer has no SKI), -ENOMEM.
 */
int x509_int_make_akid(const X509 *issuer, AUTHORITY_KEYID **out);

/*
 * authorityKeyIdentifier holding issuer's SKI (issuer == x for a root).
 * 0, X509_E_INVALID (issuer has no SKI), -ENOMEM, -EIO.
 */
int x509_int_add_aki(X509 *x, const X509 *issuer);

/* basicConstraints, critical; cA when ca, pathLen when ca and pathlen >= 0. 0, -ENOMEM, -EIO. */
int x509_int_add_bc(X509 *x, int ca, int pathlen);

/*
 * keyUsage, critical; bits are the n KU bit numbers to set (0 digitalSignature … 6 cRLSign).
 * 0, -ENOMEM, -EIO.
 */
int x509_int_add_ku(X509 *x, const int *bits, size_t n);

/* extendedKeyUsage clientAuth, and emailProtection when email. 0, -ENOMEM, -EIO. */
int x509_int_add_eku(X509 *x, int email);

/* subjectAltName with one rfc822Name. 0, X509_E_INVALID (not an address), -ENOMEM, -EIO. */
int x509_int_add_san_email(X509 *x, const char *email);

/*
 * cRLDistributionPoints, one point with fullName url. 0, X509_E_INVALID (not an http(s) URL
 * of printable ASCII without spaces), -ENOMEM, -EIO.
 */
int x509_int_add_crl_dp(X509 *x, const char *url);

/*
 * authorityInfoAccess with one OCSP responder url, checked as for x509_int_add_crl_dp.
 * 0, X509_E_INVALID, -ENOMEM, -EIO.
 */
int x509_int_add_aia_ocsp(X509 *x, const char *url);

/* x509_name.c */

/* 1 when s is an address for E= and SAN: printable ASCII without spaces, one '@' inside. */
int x509_int_email_ok(const char *s);

/*
 * A serial from hex as x509_serial_hex writes it (either case, 1–40 digits); *out is the
 * caller's (ASN1_INTEGER_free). 0, X509_E_INVALID, -ENOMEM.
 */
int x509_int_serial_from_hex(const char *hex, ASN1_INTEGER **out);

/* x509_codec.c */

/*
 * The contents of memory BIO b as a malloc'ed NUL-terminated string the caller frees; *len
 * (if len is not NULL) excludes the NUL. 0, -ENOMEM, -EIO.
 */
int x509_int_bio_take(BIO *b, char **out, size_t *len);

/* x509_adopt.c (OpenSSL 3.0 workarounds) */

/* A fresh P-256 key held as a legacy EC_KEY; the caller's (EVP_PKEY_free); NULL on failure. */
EVP_PKEY *x509_int_p256_legacy(void);

/*
 * The process's placeholder P-256 key, made on first use; never freed, not the caller's to
 * free; NULL when it could not be made.
 */
EVP_PKEY *x509_int_placeholder_key(void);

#endif
