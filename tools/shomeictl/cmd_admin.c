/* cmd_admin.c: shomeictl admin create / admin cert / admin cert-revoke / admin disable. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "extern.h"
#include "pki/p12.h"
#include "web/pwhash.h"
#include "web/session.h"
#include "core/util.h"
#include "web/valid.h"

int
cmd_admin_create(struct cmd_ctx *cx)
{
	const char *slug = opt_get(cx, "tenant"), *login = opt_get(cx, "login-id");
	const char *given = opt_get(cx, "password");
	char pw[32], hash[PWHASH_LEN];
	PGresult *t = NULL;
	int rc = CTL_FAIL;

	if (valid_login_id(login) != 0) {
		ctl_err(cx, "--login-id: '%s' must be 1-64 of A-Z a-z 0-9 . _ @ -", login);
		return CTL_USAGE;
	}
	if (given != NULL && valid_password(given) != 0) {
		ctl_err(cx, "--password: must be 8-16 half-width alphanumerics (A-Z a-z 0-9)");
		return CTL_USAGE;
	}
	if (given == NULL && secret_random_password(pw, SECRET_PASSWORD_LEN + 1) != 0)
		return CTL_FAIL;
	if (given != NULL)
		snprintf(pw, sizeof(pw), "%s", given);
	if (ctl_db(cx) != 0 || q_tenant_find(cx, slug, &t) != 0)
		goto out;
	if (PQntuples(t) == 0) {
		ctl_err(cx, "--tenant: no tenant '%s' ('shomeictl tenant list')", slug);
		goto out;
	}
	if (pwhash_hash(pw, hash) != 0) {
		ctl_err(cx, "cannot hash the password (out of memory?)");
		goto out;
	}
	rc = q_admin_insert(cx, db_get_ll(t, 0, "id"), login, hash);
	if (rc == CTL_E_EXISTS) {
		ctl_err(cx, "login ID '%s' already exists", login);
		rc = CTL_EXISTS;
		goto out;
	}
	if (rc != 0) {
		rc = CTL_FAIL;
		goto out;
	}
	printf("admin %s created (tenant %s)\n", login, slug);
	if (given == NULL)
		printf("password: %s\n", pw);
	rc = CTL_OK;
out:
	OPENSSL_cleanse(pw, sizeof(pw));
	OPENSSL_cleanse(hash, sizeof(hash));
	PQclear(t);
	return rc;
}

/* Key, certificate from the administrator CA (signed here: shomeictl holds the CA keys). */
static int
issue(struct cmd_ctx *cx, const struct ctlca *ca, const PGresult *admin, enum x509_key_type kt,
      EVP_PKEY **key, X509 **cert)
{
	struct x509_subject s = {
		.cn = db_get(admin, 0, "login_id"), .o = db_get(admin, 0, "name_en"), .c = "JP"};
	struct x509_client c = {.issuer = ca->cert};
	X509_NAME *name = NULL;
	time_t now = time(NULL), ca_nb, ca_na;
	int rc;

	c.not_before = now - X509_BACKDATE;
	c.not_after = now + (time_t)X509_ADMIN_CERT_DAYS * 86400;
	if (x509_times(ca->cert, &ca_nb, &ca_na) == 0 && c.not_after > ca_na)
		c.not_after = ca_na;
	if ((rc = x509_key_generate(kt, key)) != 0 || (rc = x509_name_build(&s, &name)) != 0)
		goto out;
	c.pub = *key;
	c.subject = name;
	if ((rc = x509_build_client(&c, cert)) != 0 || (rc = x509_sign(*cert, ca->key)) != 0)
		goto out;
out:
	X509_NAME_free(name);
	if (rc != 0)
		ctl_err(cx, "cannot build the certificate (%d)", rc);
	return rc;
}

/* Record the certificate in admin_certificates. */
static int
record(struct cmd_ctx *cx, const PGresult *admin, const struct ctlca *ca, X509 *cert, char fp[65],
       char *serial, size_t slen)
{
	char *pem = NULL, *subject = NULL;
	time_t nb, na;
	int rc = -ENOMEM;

	if (x509_sha256_fingerprint(cert, fp) != 0 ||
	    x509_serial_hex(X509_get0_serialNumber(cert), serial, slen) != 0 ||
	    x509_cert_to_pem(cert, &pem, NULL) != 0 ||
	    (subject = x509_name_oneline(X509_get_subject_name(cert))) == NULL ||
	    x509_times(cert, &nb, &na) != 0)
		goto out;
	rc = q_admin_cert_insert(cx, db_get_ll(admin, 0, "id"), ca->id, serial, fp, subject, nb, na,
				 pem);
out:
	free(pem);
	free(subject);
	return rc;
}

static int
cert_opts(struct cmd_ctx *cx, enum x509_key_type *kt, enum p12_mode *mode)
{
	const char *k = opt_get(cx, "key-type"), *m = opt_get(cx, "p12");

	*kt = X509_KEY_P256;
	*mode = P12_MODERN;
	if (k != NULL && (x509_key_type_parse(k, kt) != 0 || *kt == X509_KEY_RSA3072)) {
		ctl_err(cx, "--key-type: '%s' is not one of p256, rsa2048", k);
		return CTL_USAGE;
	}
	if (m != NULL && p12_mode_parse(m, mode) != 0) {
		ctl_err(cx, "--p12: '%s' is not one of modern, compat", m);
		return CTL_USAGE;
	}
	return 0;
}

/* Build the .p12 (with the administrator CA and root) and write it 0600. */
static int
write_p12(struct cmd_ctx *cx, EVP_PKEY *key, X509 *cert, X509 *const *chain, enum p12_mode mode,
	  const char *pw)
{
	const char *out = opt_get(cx, "out");
	unsigned char *der = NULL;
	size_t len = 0;
	int rc;

	if ((rc = p12_build(key, cert, chain, 2, pw, mode, &der, &len)) != 0) {
		ctl_err(cx, "cannot build the PKCS#12 (%d)", rc);
		return CTL_E_REPORTED;
	}
	if ((rc = ctl_write_file(out, der, len, 0600)) != 0) {
		ctl_err(cx, "--out %s: %s", out, strerror(-rc));
		rc = CTL_E_REPORTED;
	}
	OPENSSL_cleanse(der, len);
	free(der);
	return rc;
}

int
cmd_admin_cert(struct cmd_ctx *cx)
{
	const char *login = opt_get(cx, "login-id");
	struct ctlca ca = {0}, root = {0};
	enum x509_key_type kt;
	enum p12_mode mode;
	EVP_PKEY *key = NULL;
	X509 *cert = NULL, *chain[2];
	PGresult *admin = NULL;
	char pw[SECRET_PASSWORD_LEN + 1], fp[65], serial[64];
	int rc;

	if ((rc = cert_opts(cx, &kt, &mode)) != 0)
		return rc;
	if (strcmp(opt_get(cx, "out"), "-") == 0) {
		ctl_err(cx, "--out: a file name is required (the .p12 is binary)");
		return CTL_USAGE;
	}
	if ((rc = ctl_key(cx)) != 0 || (rc = ctl_db(cx)) != 0 ||
	    (rc = q_admin_find(cx, login, &admin)) != 0)
		goto out;
	if (PQntuples(admin) == 0) {
		ctl_err(cx, "--login-id: no administrator '%s' ('shomeictl admin create')", login);
		rc = CTL_E_REPORTED;
		goto out;
	}
	if ((rc = ca_load(cx, "admin", 0, 1, &ca)) == 0)
		rc = ca_load(cx, "root", 0, 0, &root);
	if (rc == CTL_E_NOTFOUND)
		ctl_err(cx, "no administrator CA yet: run 'shomeictl ca init'");
	if (rc != 0 || (rc = issue(cx, &ca, admin, kt, &key, &cert)) != 0 ||
	    (rc = secret_random_password(pw, sizeof(pw))) != 0)
		goto out;
	chain[0] = ca.cert;
	chain[1] = root.cert;
	if ((rc = db_begin(&cx->db)) != 0 ||
	    (rc = record(cx, admin, &ca, cert, fp, serial, sizeof(serial))) != 0 ||
	    (rc = write_p12(cx, key, cert, chain, mode, pw)) != 0)
		goto out;
	if ((rc = db_commit(&cx->db)) != 0) {
		/* Not recorded: the certificate would not log in, so do not leave it around. */
		unlink(opt_get(cx, "out"));
		goto out;
	}
	printf("file: %s\nserial: %s\nfingerprint: %s\npassword: %s\n", opt_get(cx, "out"), serial,
	       fp, pw);
	rc = 0;
out:
	if (rc != 0)
		db_rollback(&cx->db);
	OPENSSL_cleanse(pw, sizeof(pw));
	PQclear(admin);
	ctlca_done(&ca);
	ctlca_done(&root);
	EVP_PKEY_free(key);
	X509_free(cert);
	return rc == 0 ? CTL_OK : CTL_FAIL;
}

/* End every session indexed under owner (shomei-auth's index in Redis); 0 or -errno. */
static int
end_sessions(struct cmd_ctx *cx, const char *owner, long long *ended)
{
	struct session_kind k = {SESSION_ADMIN_PREFIX, NULL, 0, 0};
	struct kv kv;
	int rc;

	if ((rc = kv_init(&kv, cx->cfg.redis_socket, cx->cfg.redis_host, cx->cfg.redis_port)) != 0)
		return rc;
	rc = session_end_owner(&kv, &k, owner, NULL, ended);
	kv_done(&kv);
	return rc;
}

/*
 * Revoked first, then the sessions opened with the certificate ended: a certificate login
 * meanwhile finds the revocation after creating its session (services/auth/login.c) or had
 * indexed it before. The administrator's other sessions stay. Running it again ends them again.
 */
int
cmd_admin_cert_revoke(struct cmd_ctx *cx)
{
	const char *serial = opt_get(cx, "serial");
	size_t n = strlen(serial);
	char owner[32];
	long long id = 0, ended = 0;
	int rc;

	for (size_t i = 0; i < n; i++)
		if (util_hexval((unsigned char)serial[i]) < 0)
			n = 0;
	if (n == 0 || n > 64) {
		ctl_err(cx,
			"--serial: '%s' must be the certificate's serial in hex (as 'admin cert' "
			"printed it)",
			serial);
		return CTL_USAGE;
	}
	if (ctl_db(cx) != 0)
		return CTL_FAIL;
	rc = q_admin_cert_revoke(cx, serial, &id);
	if (rc == CTL_E_NOTFOUND) {
		ctl_err(cx, "--serial: no administrator certificate with serial %s", serial);
		return CTL_FAIL;
	}
	if (rc != 0)
		return CTL_FAIL;
	snprintf(owner, sizeof(owner), SESSION_ADMIN_CERT_OWNER, id);
	if (end_sessions(cx, owner, &ended) != 0) {
		ctl_err(cx,
			"%s is revoked, but Redis could not be reached to end the sessions opened "
			"with it: run this again",
			serial);
		return CTL_FAIL;
	}
	printf("revoked %s; %lld session(s) opened with it ended; shomei-revoke publishes the CRL "
	       "and reloads nginx within [revoke] crl_check_interval (or run 'shomeictl crl "
	       "publish' and reload nginx)\n",
	       serial, ended);
	return CTL_OK;
}

/*
 * Disabled first, then the sessions ended: a login that was checking the password meanwhile
 * finds the flag after creating its session (services/auth/login.c) or had indexed it before
 * the sessions were ended. Running it again ends them again.
 */
int
cmd_admin_disable(struct cmd_ctx *cx)
{
	const char *login = opt_get(cx, "login-id");
	char owner[24];
	long long id = 0, ended = 0;
	int rc;

	if (valid_login_id(login) != 0) {
		ctl_err(cx, "--login-id: '%s' must be 1-64 of A-Z a-z 0-9 . _ @ -", login);
		return CTL_USAGE;
	}
	if (ctl_db(cx) != 0)
		return CTL_FAIL;
	if ((rc = q_admin_disable(cx, login, &id)) == CTL_E_NOTFOUND) {
		ctl_err(cx, "--login-id: no administrator '%s'", login);
		return CTL_FAIL;
	}
	if (rc != 0)
		return CTL_FAIL;
	snprintf(owner, sizeof(owner), "%lld", id);
	if (end_sessions(cx, owner, &ended) != 0) {
		ctl_err(cx,
			"%s is disabled, but Redis could not be reached to end its sessions: run "
			"this again",
			login);
		return CTL_FAIL;
	}
	printf("admin %s disabled; %lld session(s) ended\n", login, ended);
	return CTL_OK;
}
