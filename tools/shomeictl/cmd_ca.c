/* cmd_ca.c: shomeictl ca init / ca chain / ca export. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "extern.h"

static const struct x509_subject root_subject = {.cn = "shomei Root CA", .o = "shomei", .c = "JP"};
static const struct x509_subject admin_subject = {
	.cn = "shomei Administrator CA", .o = "shomei", .c = "JP"};

/* --name TYPE into *kt (def when absent); prints the error. */
static int
key_type_opt(struct cmd_ctx *cx, const char *name, enum x509_key_type def, enum x509_key_type *kt)
{
	const char *v = opt_get(cx, name);

	*kt = def;
	if (v != NULL && x509_key_type_parse(v, kt) != 0) {
		ctl_err(cx, "--%s: '%s' is not one of rsa2048, rsa3072, p256", name, v);
		return CTL_USAGE;
	}
	return 0;
}

/* Load the CA of kind, or create it (under parent) when there is none. */
static int
ensure_ca(struct cmd_ctx *cx, const char *kind, const struct ctlca *parent,
	  const struct x509_subject *subj, enum x509_key_type kt, struct ctlca *out)
{
	int rc = ca_load(cx, kind, 0, 1, out);

	if (rc == 0) {
		printf("%s CA: exists (id %lld)\n", kind, out->id);
		return 0;
	}
	if (rc != CTL_E_NOTFOUND)
		return rc;
	if ((rc = ca_create(cx, kind, 0, parent, subj, kt, out)) != 0)
		return rc;
	printf("%s CA: created (id %lld, %s)\n", kind, out->id, x509_key_type_name(kt));
	return 0;
}

int
cmd_ca_init(struct cmd_ctx *cx)
{
	struct ctlca root = {0}, admin = {0};
	enum x509_key_type rkt, akt;
	int rc;

	if ((rc = key_type_opt(cx, "root-key-type", X509_KEY_RSA3072, &rkt)) != 0 ||
	    (rc = key_type_opt(cx, "key-type", X509_KEY_RSA2048, &akt)) != 0)
		return rc;
	if ((rc = ctl_key(cx)) != 0 || (rc = ctl_db(cx)) != 0 || (rc = db_begin(&cx->db)) != 0)
		goto out;
	if ((rc = q_lock(cx)) != 0 ||
	    (rc = ensure_ca(cx, "root", NULL, &root_subject, rkt, &root)) != 0 ||
	    (rc = ensure_ca(cx, "admin", &root, &admin_subject, akt, &admin)) != 0 ||
	    (rc = db_commit(&cx->db)) != 0)
		goto out;
	rc = 0;
out:
	if (rc != 0)
		db_rollback(&cx->db);
	ctlca_done(&root);
	ctlca_done(&admin);
	return rc == 0 ? CTL_OK : CTL_FAIL;
}

/* Write the PEMs of cas[0..n) to --out. */
static int
write_chain(struct cmd_ctx *cx, struct ctlca *cas, size_t n)
{
	char *all = NULL, *pem = NULL;
	size_t len = 0, plen;
	const char *out = opt_get(cx, "out");
	int rc = 0;

	for (size_t i = 0; i < n && rc == 0; i++) {
		char *grown;

		if (x509_cert_to_pem(cas[i].cert, &pem, &plen) != 0 ||
		    (grown = realloc(all, len + plen + 1)) == NULL) {
			rc = -ENOMEM;
			break;
		}
		all = grown;
		memcpy(all + len, pem, plen + 1);
		len += plen;
		free(pem);
		pem = NULL;
	}
	if (rc == 0 && (rc = ctl_write_file(out, all, len, 0644)) != 0)
		ctl_err(cx, "--out %s: %s", out, strerror(-rc));
	free(pem);
	free(all);
	return rc == 0 ? 0 : CTL_E_REPORTED;
}

static int
not_found(struct cmd_ctx *cx, const char *what)
{
	ctl_err(cx, "no %s CA yet: run 'shomeictl ca init'%s", what,
		strcmp(what, "tenant") == 0 ? " and 'shomeictl tenant create'" : "");
	return CTL_FAIL;
}

int
cmd_ca_chain(struct cmd_ctx *cx)
{
	struct ctlca cas[2] = {{0}, {0}};
	int rc;

	if ((rc = ctl_db(cx)) != 0)
		goto out;
	if ((rc = ca_load(cx, "admin", 0, 0, &cas[0])) == CTL_E_NOTFOUND ||
	    (rc == 0 && (rc = ca_load(cx, "root", 0, 0, &cas[1])) == CTL_E_NOTFOUND)) {
		rc = not_found(cx, "administrator");
		goto out;
	}
	if (rc == 0)
		rc = write_chain(cx, cas, opt_get(cx, "ca-only") != NULL ? 1 : 2);
out:
	ctlca_done(&cas[0]);
	ctlca_done(&cas[1]);
	return rc == 0 ? CTL_OK : CTL_FAIL;
}

int
cmd_ca_export(struct cmd_ctx *cx)
{
	struct ctlca cas[2] = {{0}, {0}};
	const char *slug = opt_get(cx, "tenant");
	PGresult *t = NULL;
	int rc;

	if ((rc = ctl_db(cx)) != 0 || (rc = q_tenant_find(cx, slug, &t)) != 0)
		goto out;
	if (PQntuples(t) == 0) {
		ctl_err(cx, "--tenant: no tenant with slug '%s' ('shomeictl tenant list')", slug);
		rc = CTL_E_REPORTED;
		goto out;
	}
	rc = ca_load(cx, "tenant", db_get_ll(t, 0, "id"), 0, &cas[0]);
	if (rc == 0)
		rc = ca_load(cx, "root", 0, 0, &cas[1]);
	if (rc == CTL_E_NOTFOUND) {
		rc = not_found(cx, "tenant");
		goto out;
	}
	if (rc == 0)
		rc = write_chain(cx, cas, 2);
out:
	PQclear(t);
	ctlca_done(&cas[0]);
	ctlca_done(&cas[1]);
	return rc == 0 ? CTL_OK : CTL_FAIL;
}

/* The key type of a CA's certificate (a rotation keeps it). */
static enum x509_key_type
key_type_of(X509 *cert)
{
	EVP_PKEY *k = X509_get0_pubkey(cert);

	if (k != NULL && EVP_PKEY_get_base_id(k) == EVP_PKEY_EC)
		return X509_KEY_P256;
	return k != NULL && EVP_PKEY_get_bits(k) >= 3072 ? X509_KEY_RSA3072 : X509_KEY_RSA2048;
}

/*
 * ca rotate: in one transaction, the tenant's issuing CA becomes inactive (it signs nothing new;
 * shomei-revoke keeps its CRL and its certificates' OCSP answers while any of them is unexpired)
 * and a new one, "<name_en> Issuing CA <UTC yyyymmddhhmmss>" under the root, becomes active. The
 * signer and shomei-issue take it within 30 s.
 */
int
cmd_ca_rotate(struct cmd_ctx *cx)
{
	const char *slug = opt_get(cx, "tenant");
	struct ctlca root = {0}, old = {0}, ca = {0};
	PGresult *t = NULL;
	char cn[160];
	long long tid, old_id = 0;
	int rc;

	if ((rc = ctl_key(cx)) != 0 || (rc = ctl_db(cx)) != 0 ||
	    (rc = q_tenant_find(cx, slug, &t)) != 0)
		goto out;
	if (PQntuples(t) == 0) {
		ctl_err(cx, "--tenant: no tenant with slug '%s' ('shomeictl tenant list')", slug);
		rc = CTL_E_REPORTED;
		goto out;
	}
	tid = db_get_ll(t, 0, "id");
	if ((rc = db_begin(&cx->db)) != 0 || (rc = q_lock(cx)) != 0)
		goto out;
	if ((rc = ca_load(cx, "tenant", tid, 0, &old)) != 0 ||
	    (rc = ca_load(cx, "root", 0, 1, &root)) != 0) {
		if (rc == CTL_E_NOTFOUND)
			rc = not_found(cx, "tenant");
		goto out;
	}
	if ((rc = q_ca_retire(cx, tid, &old_id)) != 0)
		goto out;
	/* another name than the old CA's, so that relying parties never mix their CRLs up */
	time_t now = time(NULL);
	struct tm tm;
	char when[16];
	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y%m%d%H%M%S", &tm);
	snprintf(cn, sizeof(cn), "%s Issuing CA %s", db_get(t, 0, "name_en"), when);
	struct x509_subject subj = {.cn = cn, .o = db_get(t, 0, "name_en"), .c = "JP"};
	if ((rc = ca_create(cx, "tenant", tid, &root, &subj, key_type_of(old.cert), &ca)) != 0 ||
	    (rc = db_commit(&cx->db)) != 0)
		goto out;
	printf("tenant %s: issuing CA %lld replaced by %lld (%s)\n", slug, old_id, ca.id, cn);
out:
	if (rc != 0)
		db_rollback(&cx->db);
	PQclear(t);
	ctlca_done(&root);
	ctlca_done(&old);
	ctlca_done(&ca);
	return rc == 0 ? CTL_OK : CTL_FAIL;
}
