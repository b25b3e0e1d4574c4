/* signer.c: the client of shomei-signer and the frame format both sides share. */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "pki/signer.h"
#include "core/strbuf.h"
#include "pki/x509.h"

static int
write_all(int fd, const unsigned char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ? -ETIMEDOUT : -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Read exactly len bytes; -ENODATA when EOF comes first (got says how many arrived). */
static int
read_all(int fd, unsigned char *p, size_t len, size_t *got)
{
	size_t off = 0;

	while (off < len) {
		ssize_t n = recv(fd, p + off, len - off, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			*got = off;
			return errno == EAGAIN || errno == EWOULDBLOCK ? -ETIMEDOUT : -errno;
		}
		if (n == 0) {
			*got = off;
			return -ENODATA;
		}
		off += (size_t)n;
	}
	*got = off;
	return 0;
}

int
signer_frame_write(int fd, const unsigned char *a, size_t alen, const unsigned char *b, size_t blen)
{
	unsigned char hdr[4];
	size_t len = alen + blen;
	int rc;

	if (len > SIGNER_MAX_FRAME || len < alen)
		return -EMSGSIZE;
	hdr[0] = (unsigned char)(len >> 24);
	hdr[1] = (unsigned char)(len >> 16);
	hdr[2] = (unsigned char)(len >> 8);
	hdr[3] = (unsigned char)len;
	if ((rc = write_all(fd, hdr, 4)) != 0)
		return rc;
	if (alen > 0 && (rc = write_all(fd, a, alen)) != 0)
		return rc;
	if (blen > 0 && (rc = write_all(fd, b, blen)) != 0)
		return rc;
	return 0;
}

int
signer_frame_read(int fd, unsigned char **buf, size_t *len)
{
	unsigned char hdr[4], *p = NULL;
	size_t n, got, cap, off;
	int rc;

	if ((rc = read_all(fd, hdr, 4, &got)) != 0)
		return rc == -ENODATA && got > 0 ? -EPROTO : rc;
	n = (size_t)hdr[0] << 24 | (size_t)hdr[1] << 16 | (size_t)hdr[2] << 8 | hdr[3];
	if (n > SIGNER_MAX_FRAME)
		return -EMSGSIZE;
	/* The buffer grows as the bytes arrive (64 KiB, doubling), so a peer that announces a
	 * large frame must send it to make us hold it; +1 so a zero-length frame still gets a
	 * buffer, and text can be NUL-terminated. */
	cap = n < 65536 ? n : 65536;
	if ((p = malloc(cap + 1)) == NULL)
		return -ENOMEM;
	for (off = 0; off < n; off = cap) {
		if (off == cap) {
			unsigned char *grown;
			cap = cap * 2 < n ? cap * 2 : n;
			if ((grown = realloc(p, cap + 1)) == NULL) {
				free(p);
				return -ENOMEM;
			}
			p = grown;
		}
		if ((rc = read_all(fd, p + off, cap - off, &got)) != 0) {
			free(p);
			return rc == -ENODATA ? -EPROTO : rc;
		}
	}
	p[n] = '\0';
	*buf = p;
	*len = n;
	return 0;
}

int
signer_set_timeout(int fd, int ms)
{
	struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};

	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) != 0)
		return -errno;
	return 0;
}

static int
connect_unix(const char *path, int *out)
{
	struct sockaddr_un sun;
	int fd, rc;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path) >= (int)sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -errno;
	if ((rc = signer_set_timeout(fd, SIGNER_TIMEOUT_MS)) != 0)
		goto fail;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		rc = -errno;
		goto fail;
	}
	*out = fd;
	return 0;
fail:
	close(fd);
	return rc;
}

static void
copy_reason(char *reason, size_t reasonlen, const unsigned char *p, size_t n)
{
	if (reason == NULL || reasonlen == 0)
		return;
	if (n >= reasonlen)
		n = reasonlen - 1;
	memcpy(reason, p, n);
	reason[n] = '\0';
}

/*
 * One request on an open connection. 0, SIGNER_E_REFUSED or -errno; *answered says whether an
 * answer came (a kept connection the signer had closed fails before that).
 */
static int
exchange(int fd, enum signer_op op, uint64_t tenant_id, const unsigned char *der, size_t len,
	 unsigned char **out, size_t *outlen, char *reason, size_t reasonlen, int *answered)
{
	unsigned char hdr[SIGNER_REQ_HDR], *ans = NULL, *body = NULL;
	size_t anslen = 0;
	int rc;

	*answered = 0;
	hdr[0] = (unsigned char)op;
	for (int i = 0; i < 8; i++)
		hdr[1 + i] = (unsigned char)(tenant_id >> (56 - 8 * i));
	if ((rc = signer_frame_write(fd, hdr, sizeof(hdr), der, len)) != 0 ||
	    (rc = signer_frame_read(fd, &ans, &anslen)) != 0)
		goto out;
	*answered = 1;
	rc = -EPROTO;
	if (anslen < 1)
		goto out;
	if (ans[0] != SIGNER_ST_OK) {
		copy_reason(reason, reasonlen, ans + 1, anslen - 1);
		rc = ans[0] == SIGNER_ST_INTERNAL ? -EAGAIN : SIGNER_E_REFUSED;
		goto out;
	}
	if (anslen > 1) {
		if ((body = malloc(anslen - 1)) == NULL) {
			rc = -ENOMEM;
			goto out;
		}
		memcpy(body, ans + 1, anslen - 1);
	}
	*out = body;
	*outlen = anslen - 1;
	body = NULL;
	rc = 0;
out:
	free(ans);
	free(body);
	return rc;
}

void
signer_conn_init(struct signer_conn *c, const char *sockpath)
{
	c->path = sockpath;
	c->fd = -1;
}

void
signer_conn_close(struct signer_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

static atomic_ullong n_calls, n_refused, n_failed;

void
signer_counts(struct signer_counts *out)
{
	out->calls = n_calls;
	out->refused = n_refused;
	out->failed = n_failed;
}

void
signer_metrics(struct strbuf *b)
{
	struct signer_counts sc;

	signer_counts(&sc);
	strbuf_printf(
		b,
		"# HELP shomei_signer_calls_total Requests to the signer.\n"
		"# TYPE shomei_signer_calls_total counter\n"
		"shomei_signer_calls_total %llu\n"
		"# HELP shomei_signer_refusals_total Requests the signer refused (policy).\n"
		"# TYPE shomei_signer_refusals_total counter\n"
		"shomei_signer_refusals_total %llu\n"
		"# HELP shomei_signer_failures_total Requests that got no signature (unreachable, timeout, error).\n"
		"# TYPE shomei_signer_failures_total counter\n"
		"shomei_signer_failures_total %llu\n",
		sc.calls, sc.refused, sc.failed);
}

static int call(struct signer_conn *c, enum signer_op op, uint64_t tenant_id,
		const unsigned char *der, size_t len, unsigned char **out, size_t *outlen,
		char *reason, size_t reasonlen);

int
signer_call(struct signer_conn *c, enum signer_op op, uint64_t tenant_id, const unsigned char *der,
	    size_t len, unsigned char **out, size_t *outlen, char *reason, size_t reasonlen)
{
	int rc = call(c, op, tenant_id, der, len, out, outlen, reason, reasonlen);

	n_calls++;
	if (rc == SIGNER_E_REFUSED)
		n_refused++;
	else if (rc != 0)
		n_failed++;
	return rc;
}

static int
call(struct signer_conn *c, enum signer_op op, uint64_t tenant_id, const unsigned char *der,
     size_t len, unsigned char **out, size_t *outlen, char *reason, size_t reasonlen)
{
	int rc, answered, kept;

	copy_reason(reason, reasonlen, (const unsigned char *)"", 0);
	for (int attempt = 0; attempt < 2; attempt++) {
		kept = c->fd >= 0;
		if (!kept && (rc = connect_unix(c->path, &c->fd)) != 0)
			return rc;
		rc = exchange(c->fd, op, tenant_id, der, len, out, outlen, reason, reasonlen,
			      &answered);
		if (answered)
			return rc;
		signer_conn_close(c);
		/* a kept connection may have been closed by the signer (idle, restart): once more
		 */
		if (!kept)
			return rc;
	}
	return rc;
}

int
signer_request(const char *sockpath, enum signer_op op, uint64_t tenant_id,
	       const unsigned char *der, size_t len, unsigned char **out, size_t *outlen,
	       char *reason, size_t reasonlen)
{
	struct signer_conn c;
	int rc;

	signer_conn_init(&c, sockpath);
	rc = signer_call(&c, op, tenant_id, der, len, out, outlen, reason, reasonlen);
	signer_conn_close(&c);
	return rc;
}

int
signer_sign_crl(struct signer_conn *c, uint64_t tenant_id, X509_CRL *crl, X509_CRL **out,
		char *reason, size_t reasonlen)
{
	unsigned char *der = NULL, *signed_der = NULL;
	const ASN1_BIT_STRING *sig = NULL;
	size_t len = 0, slen = 0;
	int rc;

	/* an unsigned CRL gets a placeholder signature; one that has it already (a tenant's CRL
	 * from x509_crl_build_placeholder, whose encoding is cached) is sent as it is: encoding a
	 * CRL of 100,000 entries again costs about a second */
	X509_CRL_get0_signature(crl, &sig, NULL);
	rc = sig != NULL && ASN1_STRING_length(sig) > 0 ? 0 : x509_crl_placeholder_sign(crl);
	if (rc == 0 && (rc = x509_crl_to_der(crl, &der, &len)) == 0 &&
	    (rc = signer_call(c, SIGNER_OP_SIGN_CRL, tenant_id, der, len, &signed_der, &slen,
			      reason, reasonlen)) == 0)
		rc = x509_crl_from_der(signed_der, slen, out);
	free(der);
	free(signed_der);
	return rc;
}
