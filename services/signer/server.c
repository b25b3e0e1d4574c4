/* server.c: the signer's socket: accept, read frames, check, sign, answer, log. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "extern.h"
#include "core/log.h"
#include "core/util.h"
#include "pki/ocsp.h"
#include "pki/signer.h"
#include "pki/x509.h"

#define REASON_MAX 256

struct conn {
	struct server *s;
	int fd;
	struct caller who;
};

/* The answer being built for one request. */
struct answer {
	int status;
	char reason[REASON_MAX];
	unsigned char *der; /* malloc'ed */
	size_t len;
};

static const char *
op_name(int op)
{
	switch (op) {
	case SIGNER_OP_SIGN_CERT:
		return "cert";
	case SIGNER_OP_SIGN_CRL:
		return "crl";
	case SIGNER_OP_PING:
		return "ping";
	case SIGNER_OP_SIGN_OCSP:
		return "ocsp";
	default:
		return "unknown";
	}
}

/* Copy s into buf for a quoted log value: no quotes, backslashes or control bytes. */
static void
log_safe(const char *s, char *buf, size_t len)
{
	size_t j = 0;

	for (; *s != '\0' && j + 1 < len; s++)
		buf[j++] = ((unsigned char)*s < 0x20 || *s == 0x7f || *s == '"' || *s == '\\') ? '?'
											       : *s;
	buf[j] = '\0';
}

static int
set_status(struct answer *a, int status, const char *reason)
{
	a->status = status;
	snprintf(a->reason, sizeof(a->reason), "%s", reason);
	return status;
}

static void
log_cert(const struct caller *who, uint64_t tenant, const struct sca *ca, X509 *x)
{
	char serial[64] = "?", cn[260], safe[260];

	x509_serial_hex(X509_get0_serialNumber(x), serial, sizeof(serial));
	if (x509_name_cn(X509_get_subject_name(x), cn, sizeof(cn)) != 0)
		cn[0] = '\0';
	log_safe(cn, safe, sizeof(safe));
	log_msg(LOG_INFO,
		"event=sign op=cert tenant=%llu ca=%lld serial=%s cn=\"%s\" caller=%s "
		"caller_uid=%u caller_pid=%ld",
		(unsigned long long)tenant, ca->id, serial, safe, who->name, (unsigned)who->uid,
		(long)who->pid);
}

static void
log_crl(const struct caller *who, uint64_t tenant, const struct sca *ca, X509_CRL *crl)
{
	ASN1_INTEGER *num = X509_CRL_get_ext_d2i(crl, NID_crl_number, NULL, NULL);
	STACK_OF(X509_REVOKED) *revoked = X509_CRL_get_REVOKED(crl);

	log_msg(LOG_INFO,
		"event=sign op=crl tenant=%llu ca=%lld crl_number=%ld entries=%d caller=%s "
		"caller_uid=%u caller_pid=%ld",
		(unsigned long long)tenant, ca->id, num ? ASN1_INTEGER_get(num) : -1L,
		revoked ? sk_X509_REVOKED_num(revoked) : 0, who->name, (unsigned)who->uid,
		(long)who->pid);
	ASN1_INTEGER_free(num);
}

/* Find the CA; a lookup failure becomes the answer's status. */
static int
find_ca(struct server *s, enum sca_kind kind, uint64_t tenant, struct sca *ca, struct answer *a)
{
	int rc = s->lookup(s->lookup_arg, kind, tenant, ca);

	if (rc == SIGNER_ST_NOCA)
		return set_status(a, SIGNER_ST_NOCA, "no active CA for this tenant");
	if (rc != 0)
		return set_status(a, SIGNER_ST_INTERNAL, "CA unavailable");
	return 0;
}

/* The tenant's limits as they are now into ca; a failure becomes the answer's status. */
static int
tenant_limits(struct server *s, uint64_t tenant, struct sca *ca, struct answer *a)
{
	int rc = s->limits != NULL ? s->limits(s->lookup_arg, tenant, ca) : 0;

	if (rc == SIGNER_ST_NOCA)
		return set_status(a, SIGNER_ST_NOCA, "no such tenant");
	if (rc != 0)
		return set_status(a, SIGNER_ST_INTERNAL, "tenant limits unavailable");
	return 0;
}

static int
sign_cert(struct server *s, const struct caller *who, uint64_t tenant, const unsigned char *der,
	  size_t len, struct answer *a)
{
	struct sca ca = {0};
	X509 *x = NULL;
	int rc;

	if (x509_cert_from_der(der, len, &x) != 0) {
		rc = set_status(a, SIGNER_ST_BADREQ, "not a DER certificate");
		goto out;
	}
	if ((rc = find_ca(s, SCA_TENANT, tenant, &ca, a)) != 0 ||
	    (rc = tenant_limits(s, tenant, &ca, a)) != 0)
		goto out;
	if ((rc = policy_check_cert(&ca, x, time(NULL), a->reason, sizeof(a->reason))) != 0) {
		a->status = rc;
		goto out;
	}
	if (x509_sign(x, ca.key) != 0 || x509_cert_to_der(x, &a->der, &a->len) != 0) {
		rc = set_status(a, SIGNER_ST_INTERNAL, "signing failed");
		goto out;
	}
	log_cert(who, tenant, &ca, x);
	rc = 0;
out:
	sca_done(&ca);
	X509_free(x);
	return rc;
}

/* tenant 0: the administrator CA's CRL, or the root's when the CRL names the root. */
static int
crl_ca(struct server *s, uint64_t tenant, X509_CRL *crl, struct sca *ca, struct answer *a)
{
	int rc;

	if ((rc = find_ca(s, tenant ? SCA_TENANT : SCA_ADMIN, tenant, ca, a)) != 0 || tenant != 0)
		return rc;
	if (X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(ca->cert)) == 0)
		return 0;
	sca_done(ca);
	a->status = SIGNER_ST_OK;
	return find_ca(s, SCA_ROOT, 0, ca, a);
}

/* sca_match_fn: the CRL's AKI is cert's SKI. */
static int
crl_names(X509 *cert, const void *arg)
{
	AUTHORITY_KEYID *akid = X509_CRL_get_ext_d2i(arg, NID_authority_key_identifier, NULL, NULL);
	const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(cert);
	int ok = akid != NULL && akid->keyid != NULL && ski != NULL &&
		 ASN1_OCTET_STRING_cmp(akid->keyid, ski) == 0;

	AUTHORITY_KEYID_free(akid);
	return ok;
}

/* sca_match_fn: the answer's CertID names cert as its issuer (SHA-1 or SHA-256 hashes). */
static int
ocsp_names(X509 *cert, const void *arg)
{
	const OCSP_CERTID *id = OCSP_SINGLERESP_get0_id(OCSP_resp_get0((OCSP_BASICRESP *)arg, 0));
	ASN1_OBJECT *md = NULL;
	OCSP_CERTID *mine;
	int ok;

	if (id == NULL || OCSP_id_get0_info(NULL, &md, NULL, NULL, (OCSP_CERTID *)id) != 1)
		return 0;
	mine = OCSP_cert_to_id(EVP_get_digestbyobj(md), NULL, cert);
	ok = mine != NULL && OCSP_id_issuer_cmp(mine, id) == 0;
	OCSP_CERTID_free(mine);
	return ok;
}

/*
 * A tenant's CRL or OCSP answer that names another CA than the active one: the tenant's
 * rotated-out CA it names signs it, while that CA is valid. ca holds the active CA on entry.
 */
static int
retired_ca(struct server *s, uint64_t tenant, sca_match_fn match, const void *obj, struct sca *ca,
	   struct answer *a)
{
	int rc;

	if (tenant == 0 || s->retired == NULL || match(ca->cert, obj))
		return 0;
	sca_done(ca);
	if ((rc = s->retired(s->lookup_arg, tenant, match, obj, ca)) == SIGNER_ST_NOCA)
		return set_status(a, SIGNER_ST_REFUSED,
				  "names neither this tenant's CA nor a rotated-out one");
	if (rc != 0)
		return set_status(a, SIGNER_ST_INTERNAL, "CA unavailable");
	return 0;
}

static int
sign_crl(struct server *s, const struct caller *who, uint64_t tenant, const unsigned char *der,
	 size_t len, struct answer *a)
{
	struct sca ca = {0};
	X509_CRL *crl = NULL;
	int rc;

	if (x509_crl_from_der(der, len, &crl) != 0) {
		rc = set_status(a, SIGNER_ST_BADREQ, "not a DER CRL");
		goto out;
	}
	if ((rc = crl_ca(s, tenant, crl, &ca, a)) != 0 ||
	    (rc = retired_ca(s, tenant, crl_names, crl, &ca, a)) != 0)
		goto out;
	if ((rc = policy_check_crl(&ca, crl, time(NULL), a->reason, sizeof(a->reason))) != 0) {
		a->status = rc;
		goto out;
	}
	if (x509_crl_sign(crl, ca.key) != 0 || x509_crl_to_der(crl, &a->der, &a->len) != 0) {
		rc = set_status(a, SIGNER_ST_INTERNAL, "signing failed");
		goto out;
	}
	log_crl(who, tenant, &ca, crl);
	rc = 0;
out:
	sca_done(&ca);
	X509_CRL_free(crl);
	return rc;
}

static void
log_ocsp(const struct caller *who, uint64_t tenant, const struct sca *ca, OCSP_BASICRESP *bs)
{
	OCSP_SINGLERESP *one = OCSP_resp_get0(bs, 0);
	ASN1_INTEGER *sn = NULL;
	char serial[64] = "?";
	int why = -1;
	int st = OCSP_single_get0_status(one, &why, NULL, NULL, NULL);

	OCSP_id_get0_info(NULL, NULL, NULL, &sn, (OCSP_CERTID *)OCSP_SINGLERESP_get0_id(one));
	if (sn != NULL)
		x509_serial_hex(sn, serial, sizeof(serial));
	log_msg(LOG_INFO,
		"event=sign op=ocsp tenant=%llu ca=%lld serial=%s status=%s caller=%s "
		"caller_uid=%u caller_pid=%ld",
		(unsigned long long)tenant, ca->id, serial, OCSP_cert_status_str(st), who->name,
		(unsigned)who->uid, (long)who->pid);
}

/*
 * The response the CA signs, made afresh from the checked one's single response: nothing
 * unchecked passes, and OpenSSL 3.0's OCSP_RESPID_set_by_key would leak the responderID of a
 * parsed response it overwrote. producedAt is the signer's clock.
 */
static OCSP_BASICRESP *
ocsp_remake(OCSP_BASICRESP *bs, const struct sca *ca)
{
	OCSP_SINGLERESP *one = OCSP_resp_get0(bs, 0);
	ASN1_GENERALIZEDTIME *rev = NULL, *tu = NULL, *nu = NULL;
	OCSP_BASICRESP *out = OCSP_BASICRESP_new();
	int why = OCSP_REVOKED_STATUS_NOSTATUS;
	int st = OCSP_single_get0_status(one, &why, &rev, &tu, &nu);

	if (out == NULL ||
	    OCSP_basic_add1_status(out, (OCSP_CERTID *)OCSP_SINGLERESP_get0_id(one), st, why, rev,
				   tu, nu) == NULL ||
	    OCSP_basic_sign(out, ca->cert, ca->key, EVP_sha256(), NULL,
			    OCSP_NOCERTS | OCSP_RESPID_KEY) != 1) {
		OCSP_BASICRESP_free(out);
		return NULL;
	}
	return out;
}

/* OCSP: the tenant's issuing CA signs, responderID by key, no certificates in the answer. */
static int
sign_ocsp(struct server *s, const struct caller *who, uint64_t tenant, const unsigned char *der,
	  size_t len, struct answer *a)
{
	const unsigned char *p = der;
	unsigned char *w;
	struct sca ca = {0};
	OCSP_BASICRESP *bs = NULL, *out = NULL;
	int n, rc;

	if ((bs = d2i_OCSP_BASICRESP(NULL, &p, (long)len)) == NULL || p != der + len) {
		rc = set_status(a, SIGNER_ST_BADREQ, "not a DER BasicOCSPResponse");
		goto out;
	}
	if ((rc = find_ca(s, SCA_TENANT, tenant, &ca, a)) != 0 ||
	    (rc = retired_ca(s, tenant, ocsp_names, bs, &ca, a)) != 0)
		goto out;
	if ((rc = policy_check_ocsp(&ca, bs, time(NULL), a->reason, sizeof(a->reason))) != 0) {
		a->status = rc;
		goto out;
	}
	rc = set_status(a, SIGNER_ST_INTERNAL, "signing failed");
	if ((out = ocsp_remake(bs, &ca)) == NULL || (n = i2d_OCSP_BASICRESP(out, NULL)) <= 0 ||
	    (a->der = malloc((size_t)n)) == NULL)
		goto out;
	w = a->der;
	i2d_OCSP_BASICRESP(out, &w);
	a->len = (size_t)n;
	a->status = SIGNER_ST_OK;
	log_ocsp(who, tenant, &ca, out);
	rc = 0;
out:
	sca_done(&ca);
	OCSP_BASICRESP_free(out);
	OCSP_BASICRESP_free(bs);
	return rc;
}

static uint64_t
get_be64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/*
 * The caller may ask for op: its uid is on the operation's allow-list. Certificates are signed
 * only with a tenant's issuing CA: the administrator CA and the root sign certificates in
 * shomeictl's ceremonies alone, never through this socket (DECISIONS.md, "Signer callers").
 */
static int
permitted(const struct server *s, const struct caller *who, int op, uint64_t tenant,
	  struct answer *a)
{
	const struct allow *al = op == SIGNER_OP_SIGN_CERT   ? &s->allow_cert
				 : op == SIGNER_OP_SIGN_CRL  ? &s->allow_crl
				 : op == SIGNER_OP_SIGN_OCSP ? &s->allow_ocsp
				 : op == SIGNER_OP_PING      ? &s->allow_ping
							     : NULL;
	char msg[REASON_MAX];

	if (al == NULL)
		return set_status(a, SIGNER_ST_BADREQ, "unknown op");
	if (!allow_has(al, who->uid)) {
		snprintf(msg, sizeof(msg), "caller %s (uid %u) may not ask for op %s", who->name,
			 (unsigned)who->uid, op_name(op));
		return set_status(a, SIGNER_ST_REFUSED, msg);
	}
	if (op == SIGNER_OP_SIGN_OCSP && tenant == 0)
		return set_status(a, SIGNER_ST_REFUSED,
				  "OCSP responses are signed with a tenant's CA only");
	if (op == SIGNER_OP_SIGN_CERT && tenant == 0)
		return set_status(
			a, SIGNER_ST_REFUSED,
			"certificates are signed with a tenant's CA only (tenant_id 0: the "
			"administrator CA signs in shomeictl's ceremony)");
	return 0;
}

static void
dispatch(struct server *s, const struct caller *who, const unsigned char *req, size_t len,
	 struct answer *a)
{
	uint64_t tenant = 0;
	int op = -1;

	if (len < SIGNER_REQ_HDR) {
		set_status(a, SIGNER_ST_BADREQ, "short request");
		goto out;
	}
	op = req[0];
	tenant = get_be64(req + 1);
	if (tenant > INT64_MAX) {
		set_status(a, SIGNER_ST_BADREQ, "tenant_id out of range");
		goto out;
	}
	if (permitted(s, who, op, tenant, a) != 0)
		goto out;
	switch (op) {
	case SIGNER_OP_SIGN_CERT:
		sign_cert(s, who, tenant, req + SIGNER_REQ_HDR, len - SIGNER_REQ_HDR, a);
		break;
	case SIGNER_OP_SIGN_CRL:
		sign_crl(s, who, tenant, req + SIGNER_REQ_HDR, len - SIGNER_REQ_HDR, a);
		break;
	case SIGNER_OP_SIGN_OCSP:
		sign_ocsp(s, who, tenant, req + SIGNER_REQ_HDR, len - SIGNER_REQ_HDR, a);
		break;
	default: /* SIGNER_OP_PING */
		break;
	}
out:
	if (a->status != SIGNER_ST_OK) {
		char safe[REASON_MAX];

		log_safe(a->reason, safe, sizeof(safe));
		log_msg(a->status == SIGNER_ST_INTERNAL ? LOG_ERROR : LOG_WARN,
			"event=refuse op=%s tenant=%llu status=%d reason=\"%s\" caller=%s "
			"caller_uid=%u caller_pid=%ld",
			op_name(op), (unsigned long long)tenant, a->status, safe, who->name,
			(unsigned)who->uid, (long)who->pid);
	}
}

int
server_handle(struct server *s, const struct caller *who, const unsigned char *req, size_t len,
	      unsigned char **ans, size_t *anslen)
{
	struct answer a = {.status = SIGNER_ST_OK};
	const unsigned char *body;
	unsigned char *buf = NULL;
	size_t blen;
	int rc = -ENOMEM;

	dispatch(s, who, req, len, &a);
	body = a.status == SIGNER_ST_OK ? a.der : (const unsigned char *)a.reason;
	blen = a.status == SIGNER_ST_OK ? a.len : strlen(a.reason);
	if ((buf = malloc(1 + blen)) == NULL)
		goto out;
	buf[0] = (unsigned char)a.status;
	if (blen > 0)
		memcpy(buf + 1, body, blen);
	*ans = buf;
	*anslen = 1 + blen;
	rc = 0;
out:
	free(a.der);
	return rc;
}

static void
conn_serve(struct conn *c)
{
	unsigned char *req = NULL, *ans = NULL;
	size_t len, anslen;

	signer_set_timeout(c->fd, SERVER_IDLE_MS);
	while (signer_frame_read(c->fd, &req, &len) == 0) {
		if (server_handle(c->s, &c->who, req, len, &ans, &anslen) != 0 ||
		    signer_frame_write(c->fd, ans, anslen, NULL, 0) != 0) {
			free(ans);
			break;
		}
		free(req);
		free(ans);
		req = ans = NULL;
	}
	free(req);
}

static void *
conn_main(void *arg)
{
	struct conn *c = arg;
	struct server *s = c->s;

	conn_serve(c);
	close(c->fd);
	free(c);
	pthread_mutex_lock(&s->mu);
	s->active--;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

int
caller_of(int fd, struct caller *who)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);
	struct passwd pw, *res = NULL;
	char buf[1024];

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) != 0)
		return -errno;
	who->uid = cr.uid;
	who->gid = cr.gid;
	who->pid = cr.pid;
	if (getpwuid_r(cr.uid, &pw, buf, sizeof(buf), &res) == 0 && res != NULL &&
	    strlen(pw.pw_name) < sizeof(who->name))
		snprintf(who->name, sizeof(who->name), "%s", pw.pw_name);
	else
		snprintf(who->name, sizeof(who->name), "%u", (unsigned)cr.uid);
	return 0;
}

/* Start a detached thread for fd; waits while SERVER_MAX_CONN are busy. */
static int
conn_start(struct server *s, int fd)
{
	pthread_attr_t attr;
	pthread_t t;
	struct conn *c;
	int rc;

	if ((c = malloc(sizeof(*c))) == NULL)
		return -ENOMEM;
	c->s = s;
	c->fd = fd;
	if ((rc = caller_of(fd, &c->who)) != 0) {
		free(c);
		return rc;
	}
	pthread_mutex_lock(&s->mu);
	while (s->active >= SERVER_MAX_CONN)
		pthread_cond_wait(&s->cv, &s->mu);
	s->active++;
	pthread_mutex_unlock(&s->mu);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	rc = pthread_create(&t, &attr, conn_main, c);
	pthread_attr_destroy(&attr);
	if (rc != 0) {
		free(c);
		pthread_mutex_lock(&s->mu);
		s->active--;
		pthread_mutex_unlock(&s->mu);
		return -rc;
	}
	return 0;
}

/* 1 when something accepts connections at path. */
static int
socket_alive(const struct sockaddr_un *sun)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), alive;

	if (fd < 0)
		return 0;
	alive = connect(fd, (const struct sockaddr *)sun, sizeof(*sun)) == 0;
	close(fd);
	return alive;
}

int
server_listen(const char *path, const char *group, int *out)
{
	struct sockaddr_un sun;
	mode_t old;
	int fd = -1, rc;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	memcpy(sun.sun_path, path, strlen(path) + 1); /* fits: checked above */
	if (socket_alive(&sun))
		return -EADDRINUSE;
	if (unlink(path) != 0 && errno != ENOENT)
		return -errno;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -errno;
	/* born 0600, then its group and 0660: nobody else can connect before listen() */
	old = umask(0177);
	rc = bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0 ? 0 : -errno;
	umask(old);
	if (rc == 0)
		rc = util_chgrp_mode(path, group, 0660);
	if (rc == 0 && listen(fd, 128) != 0)
		rc = -errno;
	if (rc != 0) {
		close(fd);
		unlink(path);
		return rc;
	}
	*out = fd;
	return 0;
}

int
server_init(struct server *s, int listen_fd, sca_lookup_fn lookup, void *arg)
{
	char err[128];

	memset(s, 0, sizeof(*s));
	if (allow_parse("", &s->allow_cert, err, sizeof(err)) != 0 ||
	    allow_parse("", &s->allow_crl, err, sizeof(err)) != 0 ||
	    allow_parse("", &s->allow_ocsp, err, sizeof(err)) != 0 ||
	    allow_parse("*", &s->allow_ping, err, sizeof(err)) != 0)
		return -ENOMEM;
	if (pipe2(s->stop_pipe, O_CLOEXEC | O_NONBLOCK) != 0)
		return -errno;
	s->listen_fd = listen_fd;
	s->lookup = lookup;
	s->lookup_arg = arg;
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	return 0;
}

void
server_stop(struct server *s)
{
	int saved = errno;
	ssize_t n = write(s->stop_pipe[1], "x", 1);

	(void)n;
	errno = saved;
}

int
server_run(struct server *s)
{
	struct pollfd pfd[2] = {{.fd = s->listen_fd, .events = POLLIN},
				{.fd = s->stop_pipe[0], .events = POLLIN}};
	int fd, rc;

	for (;;) {
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (pfd[1].revents)
			return 0;
		if (!(pfd[0].revents & POLLIN))
			continue;
		if ((fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC)) < 0) {
			if (errno == EINTR || errno == ECONNABORTED || errno == EAGAIN)
				continue;
			log_msg(LOG_ERROR, "event=accept_failed errno=%d", errno);
			/* EMFILE and the like: back off instead of spinning. */
			poll(NULL, 0, 100);
			continue;
		}
		if ((rc = conn_start(s, fd)) != 0) {
			log_msg(LOG_ERROR, "event=thread_failed rc=%d", rc);
			close(fd);
		}
	}
}

void
server_done(struct server *s)
{
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 5;
	pthread_mutex_lock(&s->mu);
	while (s->active > 0 && pthread_cond_timedwait(&s->cv, &s->mu, &until) == 0)
		;
	pthread_mutex_unlock(&s->mu);
	if (s->listen_fd >= 0)
		close(s->listen_fd);
	close(s->stop_pipe[0]);
	close(s->stop_pipe[1]);
	s->listen_fd = -1;
}
