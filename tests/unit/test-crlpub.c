/*
 * test-crlpub.c: the root and administrator CA CRLs for nginx. Without a server: a dead
 * connection gives -EIO from crlpub_build (nothing signed, nothing returned) and from
 * crlpub_stale whatever the file holds, since both read the CAs first. With SHOMEI_TEST_DB, on
 * a scratch schema with a root and an administrator CA made by pki/x509: building (numbers,
 * times, revoked serials, the lock, signing failures, unreadable CAs) and every reason a file
 * is stale (missing, garbage, fewer than two CRLs, wrong issuer or key, expiring, revoked
 * certificates it does not list).
 */
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "domain/crlpub.h"
#include "core/util.h"
#include "pki/x509.h"
#include "db-fixture.h"
/* pki-fixture.h's client-certificate helper is not needed here */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#include "pki-fixture.h"
#pragma GCC diagnostic pop
#include "tap.h"

struct signer {
	EVP_PKEY *root_key, *admin_key, *tenant_key;
	int calls;
	int fail;
};

/* Sign with the key matching kind and key_file, as the signer would. */
static int
sign_cb(void *arg, const char *kind, const char *key_file, X509_CRL *crl, X509_CRL **out)
{
	struct signer *s = arg;
	EVP_PKEY *k = NULL;

	s->calls++;
	if (strcmp(kind, "root") == 0 && strcmp(key_file, "root.key") == 0)
		k = s->root_key;
	else if (strcmp(kind, "admin") == 0 && strcmp(key_file, "admin.key") == 0)
		k = s->admin_key;
	else if (strcmp(kind, "tenant") == 0 && strcmp(key_file, "tenant.key") == 0)
		k = s->tenant_key;
	if (s->fail || k == NULL || x509_crl_sign(crl, k) != 0)
		return -1;
	X509_CRL_up_ref(crl);
	*out = crl;
	return 0;
}

static char dir[] = "/tmp/shomei-test-crlpub-XXXXXX";

static const char *
path_of(const char *name)
{
	static char p[4][160];
	static int n;

	n = (n + 1) % 4;
	snprintf(p[n], sizeof(p[n]), "%s/%s", dir, name);
	return p[n];
}

static const char *
write_file(const char *name, const void *data, size_t len)
{
	const char *p = path_of(name);

	util_write_file(p, data, len, 0644);
	return p;
}

static void
test_dead(void)
{
	struct signer s = {0};
	struct crlpub_info info[2];
	char err[128], *pem = (char *)&s;
	size_t len = 12345;
	struct db db;

	db_init(&db, DEAD_DB);
	TAP_OK(crlpub_build(&db, 7, sign_cb, &s, &pem, &len, info, err, sizeof(err)) == -EIO &&
		       pem == (char *)&s && len == 12345 && s.calls == 0,
	       "crlpub_build on a dead connection: -EIO, nothing signed, nothing returned");
	TAP_STREQ(err, "cannot take the CA lock", "... err says why");
	const char *missing = path_of("missing.pem");
	const char *garbage = write_file("garbage.pem", "garbage", 7);
	TAP_OK(crlpub_stale(&db, missing, 3600) == -EIO,
	       "crlpub_stale on a dead connection, file missing: -EIO (the CAs come first)");
	TAP_OK(crlpub_stale(&db, garbage, 3600) == -EIO,
	       "crlpub_stale on a dead connection, garbage file: -EIO");
	int all = 1;
	for (int i = 0; i < 30 && all; i++)
		all = crlpub_stale(&db, garbage, 0) == -EIO &&
		      crlpub_build(&db, 1, sign_cb, &s, &pem, &len, info, err, sizeof(err)) == -EIO;
	TAP_OK(all, "30 rounds of both: -EIO each time (leak check)");
	db_done(&db);
}

/* ---- against SHOMEI_TEST_DB ---- */

/* The CRLs of a PEM text, in order; caller frees with sk_X509_CRL_pop_free. */
static STACK_OF(X509_CRL) * crls_of(const char *pem, size_t len)
{
	STACK_OF(X509_CRL) *sk = sk_X509_CRL_new_null();
	BIO *b = BIO_new_mem_buf(pem, (int)len);
	X509_CRL *c;

	while (b != NULL && sk != NULL && (c = PEM_read_bio_X509_CRL(b, NULL, NULL, NULL)) != NULL)
		sk_X509_CRL_push(sk, c);
	BIO_free(b);
	return sk;
}

static long
crl_number(X509_CRL *c)
{
	ASN1_INTEGER *n = X509_CRL_get_ext_d2i(c, NID_crl_number, NULL, NULL);
	long v = n ? ASN1_INTEGER_get(n) : -1;

	ASN1_INTEGER_free(n);
	return v;
}

static time_t
asn1_time(const ASN1_TIME *t)
{
	struct tm tm;

	if (t == NULL || !ASN1_TIME_to_tm(t, &tm))
		return 0;
	return timegm(&tm);
}

/* One CRL of issuer, signed with key, valid from..to; PEM appended to buf. */
static void
add_crl(char *buf, size_t cap, const X509 *issuer, EVP_PKEY *key, time_t from, time_t to,
	const struct x509_revoked *entries, size_t n)
{
	X509_CRL *crl = NULL;
	char *pem = NULL;
	size_t len;

	if (x509_crl_build(issuer, 99, from, to, entries, n, &crl) == 0 &&
	    x509_crl_sign(crl, key) == 0 && x509_crl_to_pem(crl, &pem, &len) == 0)
		snprintf(buf + strlen(buf), cap - strlen(buf), "%s", pem);
	free(pem);
	X509_CRL_free(crl);
}

static long long
insert_ca(struct db *db, const char *kind, const char *parent, const X509 *cert,
	  const char *key_file)
{
	char *pem = NULL;
	size_t n;
	long long id;

	if (x509_cert_to_pem(cert, &pem, &n) != 0)
		return -1;
	const char *p[] = {kind, parent, pem, key_file};
	id = sql_ll(db,
		    "INSERT INTO cas (kind, parent_id, subject, serial, cert_pem, key_file,"
		    " not_before, not_after) VALUES ($1, $2::bigint, 'CN=x', '01', $3, $4, now(),"
		    " now() + interval '1 year') RETURNING id",
		    4, p);
	free(pem);
	return id;
}

/* An administrator certificate row of CA ca_id; revoked_at NULL: not revoked. */
static long long
insert_admin_cert(struct db *db, long long admin, long long ca_id, const char *serial,
		  const char *revoked_at)
{
	char a[24], c[24], fp[65];

	snprintf(a, sizeof(a), "%lld", admin);
	snprintf(c, sizeof(c), "%lld", ca_id);
	util_sha256_hex(serial, strlen(serial), fp);
	const char *p[] = {a, c, serial, fp, revoked_at};
	return sql_ll(db,
		      "INSERT INTO admin_certificates (admin_id, ca_id, serial, fingerprint_sha256,"
		      " subject, not_before, not_after, cert_pem, revoked_at) VALUES ($1::bigint,"
		      " $2::bigint, $3, $4, 'CN=a', now(), now() + interval '1 year', 'x',"
		      " $5::timestamptz) RETURNING id",
		      5, p);
}

/* crlpub_build in its own transaction, committed; the PEM (malloc'ed) or NULL. */
static char *
build(struct db *db, struct signer *s, int days, struct crlpub_info info[2], size_t *len, int *rc)
{
	char err[256], *pem = NULL;

	if ((*rc = db_begin(db)) == 0 &&
	    (*rc = crlpub_build(db, days, sign_cb, s, &pem, len, info, err, sizeof(err))) == 0)
		*rc = db_commit(db);
	if (*rc != 0) {
		printf("# crlpub_build: %d %s\n", *rc, err);
		db_rollback(db);
		free(pem);
		pem = NULL;
	}
	return pem;
}

static void
test_no_ca(struct db *db, struct signer *s, struct pki *p, long long *root_id)
{
	struct crlpub_info info[2];
	char err[128], *pem = NULL;
	size_t len = 0;

	TAP_OK(crlpub_stale(db, path_of("missing.pem"), 3600) == 0,
	       "server: no CA yet: nothing to publish (0), even without a file");
	s->calls = 0;
	TAP_OK(db_begin(db) == 0 &&
		       crlpub_build(db, 7, sign_cb, s, &pem, &len, info, err, sizeof(err)) ==
			       CRLPUB_E_NOCA &&
		       pem == NULL && s->calls == 0,
	       "server: crlpub_build without CAs: CRLPUB_E_NOCA, nothing signed");
	TAP_STREQ(err, "no root CA yet", "server: ... err names the root");
	db_rollback(db);
	*root_id = insert_ca(db, "root", NULL, p->root, "root.key");
	TAP_OK(db_begin(db) == 0 &&
		       crlpub_build(db, 7, sign_cb, s, &pem, &len, info, err, sizeof(err)) ==
			       CRLPUB_E_NOCA &&
		       pem == NULL && s->calls == 1,
	       "server: a root but no administrator CA: CRLPUB_E_NOCA after the root's CRL");
	TAP_STREQ(err, "no admin CA yet", "server: ... err names the administrator CA");
	db_rollback(db);
	TAP_OK(crlpub_stale(db, path_of("missing.pem"), 3600) == 0,
	       "server: no administrator CA yet: nothing to publish");
}

static void
test_build(struct db *db, struct signer *s, struct pki *p, const char *conninfo, char **good,
	   size_t *good_len)
{
	struct crlpub_info info[2];
	char err[128], *pem = NULL;
	size_t len = 0;
	time_t now = time(NULL);
	struct db other;
	int rc;

	s->calls = 0;
	TAP_OK(db_begin(db) == 0 &&
		       crlpub_build(db, 7, sign_cb, s, &pem, &len, info, err, sizeof(err)) == 0 &&
		       s->calls == 2 && err[0] == '\0',
	       "server: crlpub_build: 0, both CRLs signed");
	db_init(&other, conninfo);
	TAP_OK(sql_ll(&other, "SELECT pg_try_advisory_xact_lock(" CRLPUB_LOCK ")::int", 0, NULL) ==
		       0,
	       "server: ... the CA lock is held until the caller commits");
	TAP_OK(db_commit(db) == 0 &&
		       sql_ll(&other, "SELECT pg_try_advisory_xact_lock(" CRLPUB_LOCK ")::int", 0,
			      NULL) == 1,
	       "server: ... and free after");
	db_done(&other);
	TAP_OK(strcmp(info[0].kind, "root") == 0 && info[0].number == 1 && info[0].revoked == 0 &&
		       strcmp(info[1].kind, "admin") == 0 && info[1].number == 1 &&
		       info[1].revoked == 0,
	       "server: info: root #1, admin #1, nothing revoked");
	STACK_OF(X509_CRL) *sk = pem ? crls_of(pem, len) : NULL;
	X509_CRL *r = sk && sk_X509_CRL_num(sk) == 2 ? sk_X509_CRL_value(sk, 0) : NULL;
	X509_CRL *a = sk && sk_X509_CRL_num(sk) == 2 ? sk_X509_CRL_value(sk, 1) : NULL;
	TAP_OK(pem && strlen(pem) == len && r && a, "server: the PEM holds two CRLs (%zu bytes)",
	       len);
	TAP_OK(r && X509_NAME_cmp(X509_CRL_get_issuer(r), X509_get_subject_name(p->root)) == 0 &&
		       X509_CRL_verify(r, p->root_key) == 1 && crl_number(r) == 1,
	       "server: the first is the root's, signed by its key, number 1");
	TAP_OK(a && X509_NAME_cmp(X509_CRL_get_issuer(a), X509_get_subject_name(p->ca)) == 0 &&
		       X509_CRL_verify(a, p->ca_key) == 1 && crl_number(a) == 1 &&
		       (X509_CRL_get_REVOKED(a) == NULL ||
			sk_X509_REVOKED_num(X509_CRL_get_REVOKED(a)) == 0),
	       "server: the second the administrator CA's, empty");
	time_t tu = r ? asn1_time(X509_CRL_get0_lastUpdate(r)) : 0;
	time_t nu = r ? asn1_time(X509_CRL_get0_nextUpdate(r)) : 0;
	TAP_OK(labs((long)(tu - (now - CRLPUB_BACKDATE))) <= 5 &&
		       labs((long)(nu - (now + 7 * 86400))) <= 5,
	       "server: thisUpdate %d s back, nextUpdate in 7 days", CRLPUB_BACKDATE);
	sk_X509_CRL_pop_free(sk, X509_CRL_free);

	/* a failing signer: nothing returned, the numbers not raised once rolled back */
	s->fail = 1;
	char *none = NULL;
	rc = db_begin(db) == 0
		     ? crlpub_build(db, 7, sign_cb, s, &none, &len, info, err, sizeof(err))
		     : -1;
	TAP_OK(rc == CRLPUB_E_SIGN && none == NULL, "server: the signer fails: CRLPUB_E_SIGN");
	TAP_STREQ(err, "root CA: the CRL was not signed", "server: ... err says which");
	db_rollback(db);
	s->fail = 0;
	free(pem);
	pem = build(db, s, 7, info, &len, &rc);
	TAP_OK(pem && info[0].number == 2 && info[1].number == 2,
	       "server: the next build is #2 (the failed one rolled back)");
	*good = pem;
	*good_len = len;
}

static void
test_stale(struct db *db, struct signer *s, struct pki *p, const char *good, size_t good_len)
{
	static char buf[64 * 1024];
	time_t now = time(NULL);
	const char *f = write_file("crl.pem", good, good_len);
	STACK_OF(X509_CRL) *sk = crls_of(good, good_len);
	char *root_pem = NULL, *admin_pem = NULL;
	size_t rl = 0, al = 0;

	x509_crl_to_pem(sk_X509_CRL_value(sk, 0), &root_pem, &rl);
	x509_crl_to_pem(sk_X509_CRL_value(sk, 1), &admin_pem, &al);
	sk_X509_CRL_pop_free(sk, X509_CRL_free);

	TAP_OK(crlpub_stale(db, f, 3 * 86400) == 0, "server: the file just built is current");
	TAP_OK(crlpub_stale(db, f, 8 * 86400) == 1,
	       "server: ... stale when nextUpdate is within the margin");
	TAP_OK(crlpub_stale(db, path_of("missing.pem"), 60) == 1, "server: a missing file: stale");
	TAP_OK(crlpub_stale(db, write_file("empty.pem", "", 0), 60) == 1, "server: an empty file");
	TAP_OK(crlpub_stale(db, write_file("garbage.pem", "garbage\n", 8), 60) == 1,
	       "server: garbage");
	TAP_OK(crlpub_stale(db, write_file("root.pem", root_pem, rl), 60) == 1,
	       "server: only the root's CRL (fewer than two)");
	TAP_OK(crlpub_stale(db, write_file("admin.pem", admin_pem, al), 60) == 1,
	       "server: only the administrator CA's");
	snprintf(buf, sizeof(buf), "%s%s", root_pem, root_pem);
	TAP_OK(crlpub_stale(db, write_file("rootx2.pem", buf, strlen(buf)), 60) == 1,
	       "server: the root's twice");
	snprintf(buf, sizeof(buf), "%s%s", admin_pem, root_pem);
	TAP_OK(crlpub_stale(db, write_file("reversed.pem", buf, strlen(buf)), 60) == 0,
	       "server: both, in the other order: current");
	snprintf(buf, sizeof(buf), "junk before\n%sjunk between\n%s", root_pem, admin_pem);
	TAP_OK(crlpub_stale(db, write_file("junk.pem", buf, strlen(buf)), 60) == 0,
	       "server: text around the PEM blocks is ignored");

	/* CRLs made here with pki/x509 */
	buf[0] = '\0';
	add_crl(buf, sizeof(buf), p->root, p->root_key, now - 60, now + 7 * 86400, NULL, 0);
	add_crl(buf, sizeof(buf), p->ca, p->root_key, now - 60, now + 7 * 86400, NULL, 0);
	TAP_OK(crlpub_stale(db, write_file("wrongkey.pem", buf, strlen(buf)), 60) == 1,
	       "server: the administrator CA's CRL signed with another key");
	struct pki q;
	if (pki_make(&q, X509_KEY_P256, "Other") == 0) {
		buf[0] = '\0';
		add_crl(buf, sizeof(buf), p->root, p->root_key, now - 60, now + 7 * 86400, NULL, 0);
		add_crl(buf, sizeof(buf), q.ca, q.ca_key, now - 60, now + 7 * 86400, NULL, 0);
		TAP_OK(crlpub_stale(db, write_file("otherca.pem", buf, strlen(buf)), 60) == 1,
		       "server: a CRL of another CA instead of the administrator CA's");
		pki_free(&q);
	}
	buf[0] = '\0';
	add_crl(buf, sizeof(buf), p->root, p->root_key, now - 60, now + 7 * 86400, NULL, 0);
	add_crl(buf, sizeof(buf), p->ca, p->ca_key, now - 60, now + 600, NULL, 0);
	const char *expiring = write_file("expiring.pem", buf, strlen(buf));
	TAP_OK(crlpub_stale(db, expiring, 3600) == 1,
	       "server: the administrator CA's CRL ends in 10 minutes, margin 1 hour: stale");
	TAP_OK(crlpub_stale(db, expiring, 60) == 0, "server: ... margin 1 minute: current");
	buf[0] = '\0';
	add_crl(buf, sizeof(buf), p->root, p->root_key, now - 7200, now - 3600, NULL, 0);
	add_crl(buf, sizeof(buf), p->ca, p->ca_key, now - 60, now + 7 * 86400, NULL, 0);
	TAP_OK(crlpub_stale(db, write_file("expired.pem", buf, strlen(buf)), 0) == 1,
	       "server: the root's CRL expired an hour ago: stale at margin 0");
	free(root_pem);
	free(admin_pem);
}

static void
test_revoked(struct db *db, struct signer *s, struct pki *p, long long root_id, long long admin_ca)
{
	struct crlpub_info info[2];
	size_t len = 0;
	char *pem;
	int rc;
	const char *f;

	long long tenant = sql_ll(
		db, "INSERT INTO tenants (slug, name, name_en) VALUES ('t', 'T', 'T') RETURNING id",
		0, NULL);
	char tid[24];
	snprintf(tid, sizeof(tid), "%lld", tenant);
	const char *pt[] = {tid};
	long long admin = sql_ll(
		db,
		"INSERT INTO admins (tenant_id, login_id) VALUES ($1::bigint, 'a') RETURNING id", 1,
		pt);
	pem = build(db, s, 7, info, &len, &rc);
	f = write_file("crl.pem", pem, len);
	free(pem);
	TAP_OK(crlpub_stale(db, f, 60) == 0, "server: current before anything is revoked");
	insert_admin_cert(db, admin, admin_ca, "5f3a01", NULL);
	insert_admin_cert(db, admin, root_id, "77aa", "2026-01-02 03:04:05+00");
	TAP_OK(crlpub_stale(db, f, 60) == 0,
	       "server: a valid certificate, and a revoked one of another CA: still current");
	insert_admin_cert(db, admin, admin_ca, "0a1b2c3d4e5f", "2026-01-02 03:04:05+00");
	TAP_OK(crlpub_stale(db, f, 60) == 1,
	       "server: an administrator certificate revoked since: stale");
	pem = build(db, s, 7, info, &len, &rc);
	TAP_OK(pem && info[1].revoked == 1 && info[0].revoked == 0,
	       "server: rebuilt: the administrator CA's lists one");
	STACK_OF(X509_CRL) *sk = pem ? crls_of(pem, len) : NULL;
	X509_CRL *a = sk && sk_X509_CRL_num(sk) == 2 ? sk_X509_CRL_value(sk, 1) : NULL;
	STACK_OF(X509_REVOKED) *rv = a ? X509_CRL_get_REVOKED(a) : NULL;
	X509_REVOKED *e = rv && sk_X509_REVOKED_num(rv) == 1 ? sk_X509_REVOKED_value(rv, 0) : NULL;
	char hex[80] = "";
	struct tm tm = {
		.tm_year = 126, .tm_mon = 0, .tm_mday = 2, .tm_hour = 3, .tm_min = 4, .tm_sec = 5};
	if (e != NULL)
		x509_serial_hex(X509_REVOKED_get0_serialNumber(e), hex, sizeof(hex));
	TAP_OK(e && strcmp(hex, "0a1b2c3d4e5f") == 0 &&
		       asn1_time(X509_REVOKED_get0_revocationDate(e)) == timegm(&tm),
	       "server: ... its serial and revocation time");
	sk_X509_CRL_pop_free(sk, X509_CRL_free);
	f = write_file("crl.pem", pem, len);
	free(pem);
	TAP_OK(crlpub_stale(db, f, 60) == 0, "server: the rebuilt file is current");
	sql_run(db, "UPDATE admin_certificates SET serial = upper(serial)", 0, NULL);
	TAP_OK(crlpub_stale(db, f, 60) == 0, "server: serials compare in any case");
	insert_admin_cert(db, admin, admin_ca, "0b", "2026-01-03 00:00:00+00");
	TAP_OK(crlpub_stale(db, f, 60) == 1, "server: a second revocation: stale again");
	pem = build(db, s, 7, info, &len, &rc);
	f = write_file("crl.pem", pem, len);
	free(pem);
	TAP_OK(info[1].revoked == 2 && crlpub_stale(db, f, 60) == 0, "server: rebuilt with both");
	sql_run(db, "UPDATE admin_certificates SET revoked_at = NULL WHERE serial = '0b'", 0, NULL);
	TAP_OK(crlpub_stale(db, f, 60) == 1,
	       "server: a CRL listing more than is revoked is stale too");

	/* a serial that is not hex: the CRL cannot be built */
	char err[256], *none = NULL;
	insert_admin_cert(db, admin, admin_ca, "xyz", "2026-01-03 00:00:00+00");
	rc = db_begin(db) == 0
		     ? crlpub_build(db, 7, sign_cb, s, &none, &len, info, err, sizeof(err))
		     : -1;
	TAP_OK(rc == -EINVAL && none == NULL &&
		       strstr(err, "admin CA: cannot build the CRL") != NULL,
	       "server: a stored serial that is not hex: -EINVAL, not x509's code (%d: %s)", rc,
	       err);
	db_rollback(db);
	sql_run(db, "DELETE FROM admin_certificates WHERE serial = 'xyz'", 0, NULL);
}

static void
test_unreadable(struct db *db, struct signer *s, const char *f)
{
	struct crlpub_info info[2];
	char err[128], *pem = NULL;
	size_t len;
	int rc;

	TAP_OK(db_begin(db) == 0 &&
		       sql_run(db, "UPDATE cas SET cert_pem = 'garbage' WHERE kind = 'admin'", 0,
			       NULL) == 0,
	       "server: the administrator CA's certificate spoiled (in a transaction)");
	rc = crlpub_build(db, 7, sign_cb, s, &pem, &len, info, err, sizeof(err));
	TAP_OK(rc < 0 && pem == NULL, "server: crlpub_build: %d, nothing returned", rc);
	TAP_STREQ(err, "admin CA: unreadable", "server: ... err says which CA");
	db_rollback(db);
	TAP_OK(db_begin(db) == 0 &&
		       sql_run(db, "UPDATE cas SET cert_pem = 'garbage' WHERE kind = 'root'", 0,
			       NULL) == 0 &&
		       crlpub_stale(db, f, 60) < 0,
	       "server: crlpub_stale with an unreadable root: an error, not 0 or 1");
	db_rollback(db);
	TAP_OK(crlpub_stale(db, f, 60) >= 0, "server: rolled back: readable again");
}

/* crlpub_tenant in its own transaction, committed; its code. */
static int
tenant_crl(struct db *db, struct signer *s, long long tid, time_t margin, struct crlpub_info *info)
{
	char err[256];
	int rc;

	if ((rc = db_begin(db)) == 0 &&
	    (rc = crlpub_tenant(db, tid, 7, margin, sign_cb, s, info, err, sizeof(err))) == 0)
		rc = db_commit(db);
	if (rc != 0) {
		printf("# crlpub_tenant: %d %s\n", rc, err);
		db_rollback(db);
	}
	return rc;
}

/* The stored CRL of CA ca (a string) as an X509_CRL, or NULL. */
static X509_CRL *
stored_crl(struct db *db, const char *ca)
{
	char hex[8192];
	unsigned char der[4096];
	X509_CRL *crl = NULL;
	size_t n;
	const char *p[] = {ca};

	sql_text(db, "SELECT encode(der, 'hex') FROM crls WHERE ca_id = $1::bigint", 1, p, hex,
		 sizeof(hex));
	n = strlen(hex) / 2;
	if (n == 0 || n > sizeof(der))
		return NULL;
	for (size_t i = 0; i < n; i++)
		der[i] =
			(unsigned char)(util_hexval(hex[2 * i]) << 4 | util_hexval(hex[2 * i + 1]));
	return x509_crl_from_der(der, n, &crl) == 0 ? crl : NULL;
}

/* 1 when the tenant is among the stale ones. */
static int
is_stale(struct db *db, long long tid, time_t margin)
{
	long long *ids = NULL;
	size_t n = 0;
	int found = 0;

	if (crlpub_stale_tenants(db, margin, &ids, &n) != 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		found |= ids[i] == tid;
	free(ids);
	return found;
}

/* A tenant CA's CRL: built when missing or stale only, listing its revoked certificates. */
static void
test_tenant(struct db *db, struct signer *s, const char *root_id)
{
	struct crlpub_info info;
	struct pki t;
	X509_CRL *crl = NULL;
	char *pem = NULL, ca[24], tid_s[24];
	size_t n;
	int calls;

	if (pki_make(&t, X509_KEY_P256, "Tenant T") != 0 || x509_cert_to_pem(t.ca, &pem, &n) != 0) {
		TAP_OK(0, "server: a tenant PKI");
		return;
	}
	s->tenant_key = t.ca_key;
	long long tid = sql_ll(db,
			       "INSERT INTO tenants (slug, name, name_en) VALUES ('tc', 'TC', 'TC')"
			       " RETURNING id",
			       0, NULL);
	snprintf(tid_s, sizeof(tid_s), "%lld", tid);
	TAP_OK(tenant_crl(db, s, tid, 3600, &info) == CRLPUB_E_NOCA,
	       "server: a tenant without a CA: CRLPUB_E_NOCA");
	const char *p[] = {tid_s, root_id, pem};
	snprintf(
		ca, sizeof(ca), "%lld",
		sql_ll(db,
		       "INSERT INTO cas (kind, tenant_id, parent_id, subject, serial, cert_pem,"
		       " key_file, not_before, not_after) VALUES ('tenant', $1::bigint, $2::bigint,"
		       " 'CN=t', '02', $3, 'tenant.key', now(), now() + interval '1 year')"
		       " RETURNING id",
		       3, p));
	TAP_OK(is_stale(db, tid, 3600) == 1, "server: a tenant CA without a CRL is stale");
	TAP_OK(tenant_crl(db, s, tid, 3600, &info) == 0 && info.number == 1 && info.revoked == 0,
	       "server: its first CRL: number 1, empty");
	TAP_OK(is_stale(db, tid, 3600) == 0, "server: then it is current");
	calls = s->calls;
	TAP_OK(tenant_crl(db, s, tid, 3600, &info) == 0 && info.number == 0 && s->calls == calls,
	       "server: a current CRL is not signed again");
	const char *pc[] = {tid_s, ca};
	sql_run(db,
		"INSERT INTO certificates (tenant_id, ca_id, cn, status, serial, revoked_at,"
		" revocation_reason) VALUES ($1::bigint, $2::bigint, 'a', 'revoked',"
		" '4a5b6c7d8e9f0a1b', now() - interval '1 minute', 1), ($1::bigint, $2::bigint, 'b',"
		" 'revoked', '5a5b6c7d8e9f0a1b', now(), 0), ($1::bigint, $2::bigint, 'c', 'issued',"
		" '6a5b6c7d8e9f0a1b', NULL, NULL)",
		2, pc);
	TAP_OK(is_stale(db, tid, 3600) == 1, "server: two revocations make it stale");
	TAP_OK(tenant_crl(db, s, tid, 3600, &info) == 0 && info.number == 2 && info.revoked == 2,
	       "server: signed again: number 2, two entries");
	crl = stored_crl(db, ca);
	STACK_OF(X509_REVOKED) *rev = crl ? X509_CRL_get_REVOKED(crl) : NULL;
	int reasons = 0;
	for (int i = 0; rev != NULL && i < sk_X509_REVOKED_num(rev); i++) {
		ASN1_ENUMERATED *r = X509_REVOKED_get_ext_d2i(sk_X509_REVOKED_value(rev, i),
							      NID_crl_reason, NULL, NULL);
		reasons += r != NULL && ASN1_ENUMERATED_get(r) == 1;
		ASN1_ENUMERATED_free(r);
	}
	TAP_OK(crl != NULL && X509_CRL_verify(crl, t.ca_key) == 1 && crl_number(crl) == 2 &&
		       rev != NULL && sk_X509_REVOKED_num(rev) == 2 && reasons == 1,
	       "server: stored, signed by the tenant CA, keyCompromise with its reason, "
	       "unspecified without");
	X509_CRL_free(crl);
	TAP_OK(tenant_crl(db, s, tid, -1, &info) == 0 && info.number == 3,
	       "server: margin < 0 signs anyway: number 3");
	sql_run(db, "UPDATE crls SET next_update = now() + interval '10 minutes'", 0, NULL);
	TAP_OK(is_stale(db, tid, 3600) == 1 && tenant_crl(db, s, tid, 3600, &info) == 0 &&
		       info.number == 4,
	       "server: expiring within the margin: signed again");
	free(pem);
	pki_free(&t);
}

static void
test_server(const char *conninfo)
{
	struct scratch sc;
	struct pki p;
	struct signer s = {0};
	char *good = NULL;
	size_t good_len = 0;
	long long root_id = 0, admin_ca;
	char rid[24];

	if (scratch_open(&sc, conninfo) != 0 || pki_make(&p, X509_KEY_P256, "shomei Admin") != 0) {
		TAP_OK(0, "server: a scratch schema and a PKI");
		scratch_close(&sc);
		return;
	}
	s.root_key = p.root_key;
	s.admin_key = p.ca_key;
	test_no_ca(&sc.db, &s, &p, &root_id);
	snprintf(rid, sizeof(rid), "%lld", root_id);
	admin_ca = insert_ca(&sc.db, "admin", rid, p.ca, "admin.key");
	TAP_OK(root_id > 0 && admin_ca > 0, "server: root and administrator CA rows");
	test_build(&sc.db, &s, &p, sc.conninfo, &good, &good_len);
	if (good != NULL) {
		test_stale(&sc.db, &s, &p, good, good_len);
		test_revoked(&sc.db, &s, &p, root_id, admin_ca);
		test_unreadable(&sc.db, &s, path_of("crl.pem"));
		const char *ids[] = {rid};
		TAP_OK(sql_ll(&sc.db,
			      "SELECT count(*) FROM crls r JOIN cas c ON c.id = r.ca_id"
			      " WHERE c.kind IN ('root', 'admin') AND r.number = c.crl_number"
			      " AND (c.id = $1::bigint OR c.parent_id = $1::bigint)",
			      1, ids) == 2,
		       "server: crlpub_build stored the root's and the administrator CA's last CRLs");
		test_tenant(&sc.db, &s, rid);
	}
	free(good);
	pki_free(&p);
	scratch_close(&sc);
	TAP_OK(scratch_gone(&sc, conninfo), "server: scratch schema dropped");
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

int
main(void)
{
	const char *conninfo = fixture_env("SHOMEI_TEST_DB");

	if (mkdtemp(dir) == NULL) {
		TAP_OK(0, "a temporary directory");
		return tap_done();
	}
	test_dead();
	if (conninfo == NULL)
		printf("# SHOMEI_TEST_DB not set: crlpub_stale's file checks need the CAs from "
		       "PostgreSQL and did not run\n");
	else
		test_server(conninfo);
	nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	return tap_done();
}
