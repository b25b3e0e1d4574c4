/*
 * ocsp.h: OCSP (RFC 6960, profiled by RFC 5019) for shomei: read a request, build the basic
 * response the signer signs, wrap it, and the unsigned error answers.
 */
#ifndef SHOMEI_OCSP_H
#define SHOMEI_OCSP_H

#include "core/err.h"

#include <stddef.h>
#include <time.h>

#include <openssl/ocsp.h>
#include <openssl/x509.h>

/* A request body or a GET's decoded path is at most this long (RFC 5019 requests are ~80 B). */
#define OCSP_REQ_MAX 4096

/* The one certificate a request asks about (RFC 5019 2.1.1: one Request per OCSPRequest). */
struct ocsp_query {
	OCSP_CERTID *id;     /* owned: a copy of the request's CertID, echoed in the response */
	int hash_nid;        /* its hashAlgorithm: NID_sha1, NID_sha256, … */
	char serial_hex[80]; /* as x509_serial_hex writes it */
};

/*
 * Parse an OCSPRequest (DER) into q (release with ocsp_query_done). Exactly one Request, a
 * positive serial; the request's extensions (a nonce) are ignored: answers are pre-signed.
 * 0, X509_E_PARSE (malformed: answer malformedRequest) or -ENOMEM.
 */
int ocsp_query_parse(const unsigned char *der, size_t len, struct ocsp_query *q);
void ocsp_query_done(struct ocsp_query *q);

/* 1 when id names issuer (its hash algorithm over issuer's name and key), else 0. */
int ocsp_id_is_issuer(const OCSP_CERTID *id, const X509 *issuer);

/* A CertID for serial (hex) under issuer, hashed with SHA-1 (RFC 5019); caller frees. */
int ocsp_id_make(const X509 *issuer, const char *serial_hex, OCSP_CERTID **out);

enum ocsp_status {
	OCSP_ST_GOOD,
	OCSP_ST_REVOKED,
	OCSP_ST_UNKNOWN,
	OCSP_ST__MAX,
};

/* What one response says about one certificate. */
struct ocsp_single {
	enum ocsp_status status;
	time_t revoked_at; /* OCSP_ST_REVOKED */
	int reason;        /* CRL_REASON_* or -1: no revocationReason */
	time_t this_update;
	time_t next_update;
};

/*
 * A BasicOCSPResponse for id saying s, with producedAt now and a placeholder signature (the
 * signer re-signs it with the CA key and sets the responderID), as DER in *der (malloc'ed,
 * caller frees). 0, X509_E_INVALID, -ENOMEM or -EIO.
 */
int ocsp_basic_build(const OCSP_CERTID *id, const struct ocsp_single *s, unsigned char **der,
		     size_t *len);

/*
 * The OCSPResponse (successful) carrying the signed BasicOCSPResponse basic; *out malloc'ed,
 * caller frees. 0, X509_E_PARSE (basic is not one), -ENOMEM or -EIO.
 */
int ocsp_response_wrap(const unsigned char *basic, size_t len, unsigned char **out, size_t *outlen);

/*
 * The unsigned OCSPResponse of an error status (OCSP_RESPONSE_STATUS_MALFORMEDREQUEST,
 * _INTERNALERROR, _TRYLATER, _UNAUTHORIZED): 5 static bytes into buf.
 */
#define OCSP_ERROR_LEN 5
void ocsp_response_error(int status, unsigned char buf[OCSP_ERROR_LEN]);

#endif
