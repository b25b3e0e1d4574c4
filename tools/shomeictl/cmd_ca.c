/* cmd_ca.c: shomeictl ca init / ca chain / ca export. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
