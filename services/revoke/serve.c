/*
 * serve.c: the public revocation documents (no session), the same bytes from every
 * shomei-revoke because they come from PostgreSQL: GET /crl/<slug>.crl (the active tenant CA's
 * CRL, DER), /crl/<slug>.<ca id>.crl (the CRL of that CA of the tenant, active or rotated out:
 * the URL new certificates name), /crl/<slug>.pem (the CRLs of the chain, the root's included,
 * as one PEM for nginx's ssl_crl), /ca/<slug>.pem (the chain) and /ca/<slug>.crt (the issuing
 * CA, DER). Each answers with Last-Modified and a strong ETag, and 304 to a conditional GET that
 * matches.
 */
#define _XOPEN_SOURCE 700 /* strptime */
#define _DEFAULT_SOURCE   /* timegm */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/util.h"
#include "extern.h"
#include "pki/x509.h"

/* 1 when the n bytes at s are a tenant slug: a-z, 0-9 and '-' (not first), at most 63. */
static int
slug_ok(const char *s, size_t n)
{
	if (n == 0 || n > 63)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c == '-' && i > 0)))
			return 0;
	}
	return 1;
}

/* The slug and the extension of "<slug>.<ext>", or -1 when the name is not of that form. */
static int
split_name(const char *file, char *slug, size_t len, const char **ext)
{
	const char *dot = strrchr(file, '.');
	size_t n = dot ? (size_t)(dot - file) : 0;

	if (dot == NULL || n >= len || !slug_ok(file, n))
		return -1;
	memcpy(slug, file, n);
	slug[n] = '\0';
	*ext = dot + 1;
	return 0;
}

/*
 * The slug and the CA id of "<slug>.<ca id>.crl" (the per-CA name new certificates give as
 * their CRL distribution point: a slug has no dot), or -1 when the name is not of that form.
 * The id is decimal without a leading zero (one name per CA) and at most 18 digits (a bigint).
 */
static int
split_ca_name(const char *file, char *slug, size_t len, char *id, size_t idlen)
{
	const char *dot = strchr(file, '.'), *d;
	size_t n = dot ? (size_t)(dot - file) : 0, k;

	if (dot == NULL || n >= len || !slug_ok(file, n))
		return -1;
	for (d = dot + 1; *d >= '0' && *d <= '9'; d++)
		;
	k = (size_t)(d - (dot + 1));
	if (k == 0 || k > 18 || k >= idlen || dot[1] == '0' || strcmp(d, ".crl") != 0)
		return -1;
	memcpy(slug, file, n);
	slug[n] = '\0';
	memcpy(id, dot + 1, k);
	id[k] = '\0';
	return 0;
}

/* 1 when the request's validators match (If-None-Match first, RFC 9110 13.2.2). */
static int
not_modified(struct http_req *req, const char *etag, time_t at)
{
	const char *inm = FCGX_GetParam("HTTP_IF_NONE_MATCH", req->envp);
	const char *ims = FCGX_GetParam("HTTP_IF_MODIFIED_SINCE", req->envp);
	struct tm tm;

	if (inm != NULL)
		return strstr(inm, etag) != NULL || strcmp(inm, "*") == 0;
	memset(&tm, 0, sizeof(tm));
	if (ims == NULL || strptime(ims, "%a, %d %b %Y %H:%M:%S GMT", &tm) == NULL)
		return 0;
	return at <= timegm(&tm);
}

/* Send body (or 304) with the caching headers of a published document. */
static void
send_doc(struct http_req *req, const char *ctype, const char *etag, time_t at, const void *body,
	 size_t len, const char *cache)
{
	char lm[64];
	struct tm tm;

	gmtime_r(&at, &tm);
	strftime(lm, sizeof(lm), "%a, %d %b %Y %H:%M:%S GMT", &tm);
	http_add_header(req, "Cache-Control", cache);
	http_add_header(req, "ETag", etag);
	http_add_header(req, "Last-Modified", lm);
	if (not_modified(req, etag, at)) {
		http_send(req, 304, NULL, NULL, 0);
		return;
	}
	http_send(req, 200, ctype, strcmp(req->method, "HEAD") == 0 ? NULL : body,
		  strcmp(req->method, "HEAD") == 0 ? 0 : len);
}

/* Hex to bytes (malloc'ed into *out). */
static int
unhex(const char *hex, unsigned char **out, size_t *len)
{
	size_t n = hex ? strlen(hex) / 2 : 0;
	unsigned char *b = malloc(n ? n : 1);

	if (b == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		int hi = util_hexval(hex[2 * i]), lo = util_hexval(hex[2 * i + 1]);
		if (hi < 0 || lo < 0) {
			free(b);
			return -EINVAL;
		}
		b[i] = (unsigned char)(hi << 4 | lo);
	}
	*out = b;
	*len = n;
	return 0;
}

/* Append the PEM of the DER CRL in hex to all. */
static int
append_pem(char **all, size_t *alen, const char *hex)
{
	unsigned char *der = NULL;
	X509_CRL *crl = NULL;
	char *pem = NULL, *grown;
	size_t len = 0, plen = 0;
	int rc;

	if ((rc = unhex(hex, &der, &len)) != 0 || (rc = x509_crl_from_der(der, len, &crl)) != 0 ||
	    (rc = x509_crl_to_pem(crl, &pem, &plen)) != 0)
		goto out;
	if ((grown = realloc(*all, *alen + plen + 1)) == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	memcpy(grown + *alen, pem, plen + 1);
	*all = grown;
	*alen += plen;
out:
	free(pem);
	X509_CRL_free(crl);
	free(der);
	return rc < 0 ? rc : rc > 0 ? -EINVAL : 0;
}

/* /crl/<slug>.crl (q_tenant_crl: the active CA's) and /crl/<slug>.<ca id>.crl (q_ca_crl: that
 * CA's, active or rotated out): one CRL in DER. */
static int
crl_der(struct http_req *req, struct svc_thread *t, const struct db_stmt *q,
	const char *const *params)
{
	PGresult *res = NULL;
	unsigned char *der = NULL;
	size_t len = 0;
	char etag[96];
	int rc;

	if ((rc = db_exec(&t->db, q, params, &res)) != 0)
		goto out;
	if (PQntuples(res) != 1) {
		svc_fail(req, 404, "not_found", &msg_not_found);
		goto out;
	}
	if ((rc = unhex(db_get(res, 0, "der"), &der, &len)) != 0)
		goto out;
	snprintf(etag, sizeof(etag), "\"crl-%s-%s\"", db_get(res, 0, "ca_id"),
		 db_get(res, 0, "number"));
	send_doc(req, "application/pkix-crl", etag, (time_t)db_get_ll(res, 0, "at"), der, len,
		 "public, no-cache");
out:
	free(der);
	PQclear(res);
	return rc < 0 ? rc : rc > 0 ? -EIO : 0;
}

/* /crl/<slug>.pem: the CRLs of the chain, the root's included, and those of the tenant's
 * rotated-out CAs while their certificates are valid. */
static int
crl_pem(struct http_req *req, struct svc_thread *t, const char *slug)
{
	PGresult *res = NULL;
	char *all = NULL, etag[512];
	size_t len = 0, o;
	time_t at = 0;
	const char *params[] = {slug};
	int rc;

	if ((rc = db_exec(&t->db, &q_chain_crls, params, &res)) != 0)
		goto out;
	/* the active tenant CA's first, the root's last; without either the file is not ready */
	if (PQntuples(res) < 2 || db_get_ll(res, 0, "depth") != 0 ||
	    db_get_ll(res, PQntuples(res) - 1, "depth") != 2) {
		svc_fail(req, 404, "not_found", &msg_not_found);
		goto out;
	}
	o = (size_t)snprintf(etag, sizeof(etag), "\"crls");
	for (int r = 0; r < PQntuples(res); r++) {
		if ((rc = append_pem(&all, &len, db_get(res, r, "der"))) != 0)
			goto out;
		if (db_get_ll(res, r, "at") > (long long)at)
			at = (time_t)db_get_ll(res, r, "at");
		if (o < sizeof(etag) - 48)
			o += (size_t)snprintf(etag + o, sizeof(etag) - o, "-%s.%s",
					      db_get(res, r, "ca_id"), db_get(res, r, "number"));
	}
	snprintf(etag + o, sizeof(etag) - o, "\"");
	send_doc(req, "application/x-pem-file", etag, at, all, len, "public, no-cache");
out:
	free(all);
	PQclear(res);
	return rc < 0 ? rc : rc > 0 ? -EIO : 0;
}

int
serve_crl(struct http_req *req, struct svc_thread *t)
{
	char slug[64], id[24];
	const char *ext;

	if (split_name(req->args[0], slug, sizeof(slug), &ext) == 0) {
		const char *params[] = {slug};
		if (strcmp(ext, "crl") == 0)
			return crl_der(req, t, &q_tenant_crl, params);
		if (strcmp(ext, "pem") == 0)
			return crl_pem(req, t, slug);
	} else if (split_ca_name(req->args[0], slug, sizeof(slug), id, sizeof(id)) == 0) {
		const char *params[] = {slug, id};
		return crl_der(req, t, &q_ca_crl, params);
	}
	svc_fail(req, 404, "not_found", &msg_not_found);
	return 0;
}

int
serve_ca(struct http_req *req, struct svc_thread *t)
{
	PGresult *res = NULL;
	X509 *ca = NULL;
	unsigned char *der = NULL;
	size_t len = 0;
	char slug[64], etag[64], *chain = NULL;
	const char *ext, *pem, *parent, *old;
	int rc = 0, want_der;

	if (split_name(req->args[0], slug, sizeof(slug), &ext) != 0 ||
	    (strcmp(ext, "pem") != 0 && strcmp(ext, "crt") != 0)) {
		svc_fail(req, 404, "not_found", &msg_not_found);
		return 0;
	}
	want_der = strcmp(ext, "crt") == 0;
	const char *params[] = {slug};
	if ((rc = db_exec(&t->db, &q_chain, params, &res)) != 0)
		goto out;
	if (PQntuples(res) != 1 || (pem = db_get(res, 0, "cert_pem")) == NULL) {
		svc_fail(req, 404, "not_found", &msg_not_found);
		goto out;
	}
	parent = db_get(res, 0, "parent_pem");
	old = db_get(res, 0, "old_pem");
	snprintf(etag, sizeof(etag), "\"ca-%s-%s%s\"", db_get(res, 0, "id"),
		 want_der ? "crt" : "pem", want_der ? "" : db_get(res, 0, "old_ids"));
	if (want_der) {
		if ((rc = x509_cert_from_pem(pem, strlen(pem), &ca)) != 0 ||
		    (rc = x509_cert_to_der(ca, &der, &len)) != 0)
			goto out;
		send_doc(req, "application/pkix-cert", etag, (time_t)db_get_ll(res, 0, "at"), der,
			 len, "public, max-age=3600");
		goto out;
	}
	len = strlen(pem) + (old ? strlen(old) : 0) + (parent ? strlen(parent) : 0);
	if ((chain = malloc(len + 4)) == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	len = (size_t)snprintf(chain, len + 4, "%s%s%s%s", pem,
			       pem[strlen(pem) - 1] != '\n' ? "\n" : "", old ? old : "",
			       parent ? parent : "");
	send_doc(req, "application/x-pem-file", etag, (time_t)db_get_ll(res, 0, "at"), chain, len,
		 "public, max-age=3600");
out:
	free(chain);
	free(der);
	X509_free(ca);
	PQclear(res);
	return rc < 0 ? rc : rc > 0 ? -EIO : 0;
}
