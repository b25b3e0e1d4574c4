/* signer.h: the client of shomei-signer and the frame format both sides share. */
#ifndef SHOMEI_SIGNER_H
#define SHOMEI_SIGNER_H

#include "core/err.h"

#include <stddef.h>
#include <stdint.h>

/* A frame: 4-byte big-endian length (at most SIGNER_MAX_FRAME), then that many bytes. */
/* 32 MiB: a tenant CRL of 100,000 entries is 4.2 MB of DER, so this holds about 750,000. A
 * frame's buffer grows as its bytes arrive, so a length alone allocates nothing large. */
#define SIGNER_MAX_FRAME (32 * 1024 * 1024)
/* Request header: op (1) | tenant_id (8, big-endian). */
#define SIGNER_REQ_HDR 9
/* Send and receive deadline of one request, milliseconds. */
#define SIGNER_TIMEOUT_MS 10000

enum signer_op {
	SIGNER_OP_SIGN_CERT = 1,
	SIGNER_OP_SIGN_CRL = 2,
	SIGNER_OP_PING = 3,
	SIGNER_OP_SIGN_OCSP = 4, /* a BasicOCSPResponse, signed with the tenant's issuing CA */
};

/* The status byte of an answer. */
enum signer_status {
	SIGNER_ST_OK = 0,
	SIGNER_ST_REFUSED = 1,  /* policy forbids it */
	SIGNER_ST_NOCA = 2,     /* no active CA for this tenant */
	SIGNER_ST_BADREQ = 3,   /* malformed request or DER */
	SIGNER_ST_INTERNAL = 4, /* the signer failed (database, key file): try again later */
};

/*
 * Send one request to the signer listening at sockpath and wait for the
 * answer. On 0, *out (malloc'ed, caller frees; NULL with *outlen 0 for PING)
 * holds the signed DER. SIGNER_E_REFUSED: the signer refused, reason holds its
 * explanation (UTF-8, truncated to reasonlen). -EAGAIN: the signer failed
 * internally (reason says what); other -errno: connection, timeout
 * (-ETIMEDOUT), oversized (-EMSGSIZE) or broken (-EPROTO) answer.
 */
int signer_request(const char *sockpath, enum signer_op op, uint64_t tenant_id,
		   const unsigned char *der, size_t len, unsigned char **out, size_t *outlen,
		   char *reason, size_t reasonlen);

/*
 * A connection kept open across requests (one per thread; not shared). signer_call
 * answers as signer_request; when the kept connection turns out closed (the signer's
 * idle timeout or a restart) before an answer came, it reconnects and sends once more.
 * Signing is safe to repeat: the first answer never arrived.
 */
struct signer_conn {
	const char *path;
	int fd;
};
void signer_conn_init(struct signer_conn *c, const char *sockpath);

/* What this process asked of the signer since it started (for /metrics): every call, the
 * refusals (SIGNER_E_REFUSED) and the failures (unreachable, timeout, internal error). */
struct signer_counts {
	unsigned long long calls, refused, failed;
};
void signer_counts(struct signer_counts *out);
/* The same as Prometheus text (HELP, TYPE, the three counters) appended to b. */
struct strbuf;
void signer_metrics(struct strbuf *b);
void signer_conn_close(struct signer_conn *c);
int signer_call(struct signer_conn *c, enum signer_op op, uint64_t tenant_id,
		const unsigned char *der, size_t len, unsigned char **out, size_t *outlen,
		char *reason, size_t reasonlen);

/*
 * Frame I/O on a blocking socket. signer_frame_read returns 0 with a
 * malloc'ed *buf (caller frees), -ENODATA on a clean EOF before any byte,
 * -EMSGSIZE over SIGNER_MAX_FRAME, or -errno (-ETIMEDOUT after SO_RCVTIMEO).
 */
int signer_frame_write(int fd, const unsigned char *a, size_t alen, const unsigned char *b,
		       size_t blen);
int signer_frame_read(int fd, unsigned char **buf, size_t *len);

/* Set SO_RCVTIMEO and SO_SNDTIMEO. 0 or -errno. */
int signer_set_timeout(int fd, int ms);

/*
 * Have the signer sign crl (unsigned: it gets a placeholder signature first; already
 * placeholder-signed, as x509_crl_build_placeholder makes it: sent as it is) for tenant_id
 * (0: the root or the administrator CA, chosen by the CRL's issuer) over c: *out is the signed
 * CRL (the caller frees it). The signer's reason goes to reason on a refusal. 0 or as
 * signer_call.
 */
struct X509_crl_st;
int signer_sign_crl(struct signer_conn *c, uint64_t tenant_id, struct X509_crl_st *crl,
		    struct X509_crl_st **out, char *reason, size_t reasonlen);

#endif
