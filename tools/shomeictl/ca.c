/* ca.c: shomeictl's CA ceremonies: create a CA (key sealed in ca_dir, row in cas), load one. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "extern.h"

void
ctlca_done(struct ctlca *ca)
{
	X509_free(ca->cert);
	EVP_PKEY_free(ca->key);
	memset(ca, 0, sizeof(*ca));
}

static int
load_key(struct cmd_ctx *cx, const char *key_file, X509 *cert, EVP_PKEY **out)
{
	unsigned char *der = NULL;
	size_t len = 0;
	char path[PATH_MAX];
	int rc;

	if ((rc = ctl_key(cx)) != 0)
		return rc;
	if (snprintf(path, sizeof(path), "%s/%s", cx->cfg.ca_dir, key_file) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	rc = secret_open_file(cx->key, "ca-key", path, &der, &len);
	if (rc == SECRET_E_AUTH)
		ctl_err(cx, "%s: does not open with this CA key-encryption key", path);
	else if (rc != 0)
		ctl_err(cx, "%s: %s", path, rc < 0 ? strerror(-rc) : "not a sealed key file");
	if (rc != 0)
		return CTL_E_REPORTED;
	rc = x509_key_from_der(der, len, out);
	OPENSSL_cleanse(der, len);
	free(der);
	if (rc == 0 && X509_check_private_key(cert, *out) != 1) {
		EVP_PKEY_free(*out);
		*out = NULL;
		rc = X509_E_INVALID;
	}
	if (rc != 0) {
		ctl_err(cx, "%s: not the key of CA certificate in the database", path);
		return CTL_E_REPORTED;
	}
	return 0;
}

int
ca_load(struct cmd_ctx *cx, const char *kind, long long tenant_id, int with_key, struct ctlca *out)
{
	struct ctlca ca = {0};
	PGresult *res = NULL;
	const char *pem;
	int rc;

	if ((rc = q_ca_find(cx, kind, tenant_id, &res)) != 0)
		goto out;
	if (PQntuples(res) == 0) {
		rc = CTL_E_NOTFOUND;
		goto out;
	}
	ca.id = db_get_ll(res, 0, "id");
	pem = db_get(res, 0, "cert_pem");
	if (pem == NULL || x509_cert_from_pem(pem, strlen(pem), &ca.cert) != 0) {
		ctl_err(cx, "CA %lld: unreadable certificate in the database", ca.id);
		rc = CTL_E_REPORTED;
		goto out;
	}
	if (with_key && (rc = load_key(cx, db_get(res, 0, "key_file"), ca.cert, &ca.key)) != 0)
		goto out;
	*out = ca;
	memset(&ca, 0, sizeof(ca));
	rc = 0;
out:
	ctlca_done(&ca);
	PQclear(res);
	return rc;
}

/* mkdir -p for ca_dir (0700). */
static int
make_dir(const char *path)
{
	char buf[PATH_MAX];

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0700) != 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, 0700) != 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/*
 * A key file written by root takes the owner of ca_dir (0600 stays): where the directory
 * belongs to the signer's user, the signer alone reads the keys the ceremony makes.
 */
static int
own_like_dir(const char *path, const char *dir)
{
	struct stat st;

	if (geteuid() != 0)
		return 0;
	if (stat(dir, &st) != 0)
		return -errno;
	if (st.st_uid == 0)
		return 0;
	return chown(path, st.st_uid, st.st_gid) == 0 ? 0 : -errno;
}

/* Seal the key as <id>.key.enc and write the certificate as <id>.crt. */
static int
write_files(struct cmd_ctx *cx, long long id, EVP_PKEY *key, const char *pem, char *key_file,
	    size_t kflen)
{
	unsigned char *der = NULL;
	size_t len = 0;
	char path[PATH_MAX];
	int rc;

	if ((rc = make_dir(cx->cfg.ca_dir)) != 0) {
		ctl_err(cx, "%s: %s", cx->cfg.ca_dir, strerror(-rc));
		return CTL_E_REPORTED;
	}
	snprintf(key_file, kflen, "%lld.key.enc", id);
	if ((rc = x509_key_to_der(key, &der, &len)) != 0)
		return rc;
	snprintf(path, sizeof(path), "%s/%s", cx->cfg.ca_dir, key_file);
	rc = secret_seal_file(cx->key, "ca-key", path, der, len);
	OPENSSL_cleanse(der, len);
	free(der);
	if (rc == 0)
		rc = own_like_dir(path, cx->cfg.ca_dir);
	if (rc == 0) {
		snprintf(path, sizeof(path), "%s/%lld.crt", cx->cfg.ca_dir, id);
		rc = ctl_write_file(path, pem, strlen(pem), 0644);
	}
	if (rc != 0) {
		ctl_err(cx, "%s: %s", path, strerror(-rc));
		return CTL_E_REPORTED;
	}
	return 0;
}

/* Key and signed certificate of a new CA. */
static int
make_cert(const struct ctlca *parent, const struct x509_subject *subj, enum x509_key_type kt,
	  EVP_PKEY **key, X509 **cert)
{
	X509_NAME *name = NULL;
	time_t now = time(NULL), nb = now - X509_BACKDATE, na, pna;
	int rc;

	if ((rc = x509_key_generate(kt, key)) != 0 || (rc = x509_name_build(subj, &name)) != 0)
		goto out;
	if (parent == NULL) {
		na = now + (time_t)X509_ROOT_DAYS * 86400;
		rc = x509_build_root(*key, name, nb, na, 1, cert);
	} else {
		na = now + (time_t)X509_CA_DAYS * 86400;
		/* Never outlive the parent. */
		if (x509_times(parent->cert, &pna, &pna) == 0 && na > pna)
			na = pna;
		rc = x509_build_ca(*key, name, parent->cert, nb, na, cert);
	}
	if (rc == 0)
		rc = x509_sign(*cert, parent ? parent->key : *key);
out:
	X509_NAME_free(name);
	return rc;
}

int
ca_create(struct cmd_ctx *cx, const char *kind, long long tenant_id, const struct ctlca *parent,
	  const struct x509_subject *subj, enum x509_key_type kt, struct ctlca *out)
{
	struct ctlca ca = {0};
	char *pem = NULL, *subject = NULL, serial[64], key_file[64];
	time_t nb, na;
	int rc;

	if ((rc = ctl_key(cx)) != 0 || (rc = q_ca_next_id(cx, &ca.id)) != 0)
		goto out;
	if ((rc = make_cert(parent, subj, kt, &ca.key, &ca.cert)) != 0) {
		ctl_err(cx, "cannot build the %s CA certificate (%d)", kind, rc);
		rc = CTL_E_REPORTED;
		goto out;
	}
	rc = -ENOMEM;
	if (x509_cert_to_pem(ca.cert, &pem, NULL) != 0 ||
	    (subject = x509_name_oneline(X509_get_subject_name(ca.cert))) == NULL ||
	    x509_serial_hex(X509_get0_serialNumber(ca.cert), serial, sizeof(serial)) != 0 ||
	    x509_times(ca.cert, &nb, &na) != 0)
		goto out;
	if ((rc = write_files(cx, ca.id, ca.key, pem, key_file, sizeof(key_file))) != 0)
		goto out;
	if ((rc = q_ca_insert(cx, ca.id, kind, tenant_id, parent ? parent->id : 0, subject, serial,
			      pem, key_file, nb, na)) != 0)
		goto out;
	*out = ca;
	memset(&ca, 0, sizeof(ca));
	rc = 0;
out:
	ctlca_done(&ca);
	free(pem);
	free(subject);
	return rc;
}
