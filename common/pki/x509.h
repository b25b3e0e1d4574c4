/* x509.h: keys, CA and client certificates, CRLs, fingerprints and PEM/DER for shomei. */
#ifndef SHOMEI_X509_H
#define SHOMEI_X509_H

#include "core/err.h"

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

enum x509_key_type {
	X509_KEY_RSA2048,
	X509_KEY_RSA3072,
	X509_KEY_P256,
	X509_KEY__MAX,
};

/* Lifetimes used by shomei (days). */
#define X509_ROOT_DAYS (20 * 365 + 5)
#define X509_CA_DAYS (10 * 365 + 2)
#define X509_ADMIN_CERT_DAYS (2 * 365)
/* notBefore of a CA is set this many seconds in the past, for clocks slightly behind. */
#define X509_BACKDATE 300

/* "rsa2048", "rsa3072", "p256" (the tenants.key_type words); 0 or X509_E_INVALID. */
int x509_key_type_parse(const char *s, enum x509_key_type *out);
const char *x509_key_type_name(enum x509_key_type t);

/* A fresh key pair; *out is the caller's (EVP_PKEY_free). 0, X509_E_INVALID or -EIO. */
int x509_key_generate(enum x509_key_type t, EVP_PKEY **out);

/*
 * A subject, written as docs/ARCHITECTURE.md's "Certificate subject" lists it, most
 * specific first: E, CN, OU[0] (system OU), OU[1], OU[2], O, C. NULL or ""
 * leaves an attribute out. Strings are UTF-8; everything but C (Printable)
 * and E (IA5) is encoded as UTF8String.
 */
struct x509_subject {
	const char *email;
	const char *cn;
	const char *ou[3];
	const char *o;
	const char *c;
};

/* Build the X509_NAME (DER order C, O, OU…, CN, E); caller frees. 0, X509_E_INVALID, -ENOMEM. */
int x509_name_build(const struct x509_subject *s, X509_NAME **out);

/* The first CN of a name as UTF-8 into buf (empty when none); 0 or X509_E_INVALID (too long). */
int x509_name_cn(const X509_NAME *name, char *buf, size_t len);

/* The subject as a one-line UTF-8 RFC 2253 string; malloc'ed, caller frees; NULL on ENOMEM. */
char *x509_name_oneline(const X509_NAME *name);

/*
 * Certificates. Each builder returns a complete but UNSIGNED X509 (caller
 * frees); sign it with x509_sign (holding the CA key) or x509_placeholder_sign
 * (to send it to the signer). Times are seconds since the epoch.
 */

/* Self-signed root: CA:TRUE with pathlen, keyCertSign|cRLSign critical, SKI, AKI. */
int x509_build_root(EVP_PKEY *key, const X509_NAME *subject, time_t not_before, time_t not_after,
		    int pathlen, X509 **out);

/* Intermediate CA (tenant issuing CA, administrator CA) under issuer: CA:TRUE, pathlen 0. */
int x509_build_ca(EVP_PKEY *pub, const X509_NAME *subject, const X509 *issuer, time_t not_before,
		  time_t not_after, X509 **out);

/*
 * End-entity client certificate under issuer: CA:FALSE critical, keyUsage
 * digitalSignature (+keyEncipherment for RSA) critical, EKU clientAuth
 * (+emailProtection and SAN rfc822Name when email is set), SKI, AKI,
 * a random serial; a CRL distribution point and an OCSP responder
 * (authorityInfoAccess) when their URLs are set.
 */
struct x509_client {
	EVP_PKEY *pub; /* the subject's key; only its public half is used */
	const X509_NAME *subject;
	const char *email; /* NULL or "": no SAN, no emailProtection */
	const X509 *issuer;
	time_t not_before;
	time_t not_after;
	const char *crl_url;  /* NULL or "": no cRLDistributionPoints */
	const char *ocsp_url; /* NULL or "": no authorityInfoAccess */
};
int x509_build_client(const struct x509_client *c, X509 **out);

/* Sign (SHA-256) with key; also sets the signature algorithm. 0 or -EIO. */
int x509_sign(X509 *x, EVP_PKEY *key);

/*
 * Take the signature of der (the certificate x became when a CA signed it) into x itself,
 * so that x is that certificate without parsing it again (OpenSSL 3.0 spends ~150 us
 * decoding the public key of every parsed certificate). 0 when x re-encoded is byte for
 * byte der; X509_E_PARSE when der is not x signed (x is then spoiled: parse der instead);
 * -EIO.
 */
int x509_adopt_signature(X509 *x, const unsigned char *der, size_t len);

/*
 * Sign with a placeholder P-256 key (one per process, made on first use, never a CA's) so the
 * certificate can be serialized for the signer, which replaces the signature. 0 or -EIO.
 */
int x509_placeholder_sign(X509 *x);

/* A random serial: 16 bytes from the CSPRNG, top bit clear, never zero. */
int x509_serial_random(ASN1_INTEGER **out);

/* Lowercase hex of the serial's magnitude, even length (e.g. "5f3a…"); len >= 43. */
int x509_serial_hex(const ASN1_INTEGER *serial, char *buf, size_t len);

/* SHA-256 of the DER, lowercase hex. 0 or -EIO. */
int x509_sha256_fingerprint(const X509 *x, char hex[65]);

/* notBefore / notAfter as time_t. 0 or X509_E_INVALID. */
int x509_times(const X509 *x, time_t *not_before, time_t *not_after);

/*
 * CRLs. x509_crl_build returns an UNSIGNED v2 CRL issued by issuer: issuer
 * name, thisUpdate/nextUpdate, CRL number, AKI, and one entry per revoked
 * serial (reason < 0: no reasonCode extension).
 */
struct x509_revoked {
	const char *serial_hex; /* as x509_serial_hex writes it, any case */
	time_t revoked_at;
	int reason; /* CRL_REASON_* from <openssl/x509v3.h>, or -1 */
};
int x509_crl_build(const X509 *issuer, long long crl_number, time_t this_update, time_t next_update,
		   const struct x509_revoked *entries, size_t n, X509_CRL **out);
int x509_crl_sign(X509_CRL *crl, EVP_PKEY *key);
int x509_crl_placeholder_sign(X509_CRL *crl);
/*
 * x509_crl_build then x509_crl_placeholder_sign, fast for many entries: the entries are written
 * as DER by hand and the result parsed once, so its encoding is cached (x509_crl_to_der is a
 * copy). The tbs is the same bytes x509_crl_build's would be. 0, X509_E_INVALID (a serial
 * that is not 1-40 hex digits, times out of order) or -errno.
 */
int x509_crl_build_placeholder(const X509 *issuer, long long crl_number, time_t this_update,
			       time_t next_update, const struct x509_revoked *entries, size_t n,
			       X509_CRL **out);

/*
 * Encodings. *_to_* return malloc'ed buffers the caller frees (PEM strings are
 * NUL-terminated, *len excludes the NUL); *_from_* return objects the caller
 * frees. 0, X509_E_PARSE, -ENOMEM or -EIO.
 */
int x509_cert_to_der(const X509 *x, unsigned char **out, size_t *len);
int x509_cert_from_der(const unsigned char *der, size_t len, X509 **out);
int x509_cert_to_pem(const X509 *x, char **out, size_t *len);
int x509_cert_from_pem(const char *pem, size_t len, X509 **out);
int x509_crl_to_der(const X509_CRL *crl, unsigned char **out, size_t *len);
int x509_crl_from_der(const unsigned char *der, size_t len, X509_CRL **out);
int x509_crl_to_pem(const X509_CRL *crl, char **out, size_t *len);
/* Unencrypted PKCS#8 DER of a private key; the caller wipes (OPENSSL_cleanse) and frees it. */
int x509_key_to_der(EVP_PKEY *key, unsigned char **out, size_t *len);
int x509_key_from_der(const unsigned char *der, size_t len, EVP_PKEY **out);

#endif
