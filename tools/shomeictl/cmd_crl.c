/* cmd_crl.c: shomeictl crl publish — the root and administrator CA CRLs for nginx's ssl_crl. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509v3.h>

#include "extern.h"
#include "util.h"

/* thisUpdate is set this far back, for relying parties whose clocks are slightly behind. */
#define CRL_BACKDATE 60

/* Revoked administrator certificates of ca as CRL entries; *entries owned by res. */
static int
admin_entries(struct cmd_ctx *cx, long long ca_id, PGresult **res, struct x509_revoked **entries,
	      size_t *n)
{
	struct x509_revoked *e;
	int rc;

	*entries = NULL;
	*n = 0;
	if ((rc = q_admin_revoked(cx, ca_id, res)) != 0)
		return rc;
	if (PQntuples(*res) == 0)
		return 0;
	if ((e = calloc((size_t)PQntuples(*res), sizeof(*e))) == NULL)
		return -ENOMEM;
	for (int r = 0; r < PQntuples(*res); r++) {
		e[r].serial_hex = db_get(*res, r, "serial");
		e[r].revoked_at = (time_t)db_get_ll(*res, r, "revoked_at");
		e[r].reason = -1;
	}
	*entries = e;
	*n = (size_t)PQntuples(*res);
	return 0;
}

/* Sign the next CRL of the CA of kind and append its PEM to *all. */
static int
one_crl(struct cmd_ctx *cx, const char *kind, int days, char **all, size_t *len)
{
	struct ctlca ca = {0};
	struct x509_revoked *entries = NULL;
	PGresult *res = NULL;
	X509_CRL *crl = NULL;
	time_t now = time(NULL);
	long long number;
	size_t n = 0, plen;
	char *pem = NULL, *grown;
	int rc;

	if ((rc = ca_load(cx, kind, 0, 1, &ca)) == CTL_E_NOTFOUND)
		ctl_err(cx, "no %s CA yet: run 'shomeictl ca init'", kind);
	if (rc != 0 || (rc = q_ca_bump_crl(cx, ca.id, &number)) != 0)
		goto out;
	if (strcmp(kind, "admin") == 0 && (rc = admin_entries(cx, ca.id, &res, &entries, &n)) != 0)
		goto out;
	if ((rc = x509_crl_build(ca.cert, number, now - CRL_BACKDATE, now + (time_t)days * 86400,
				 entries, n, &crl)) != 0 ||
	    (rc = x509_crl_sign(crl, ca.key)) != 0 || (rc = x509_crl_to_pem(crl, &pem, &plen)) != 0)
		goto out;
	if ((grown = realloc(*all, *len + plen + 1)) == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	*all = grown;
	memcpy(*all + *len, pem, plen + 1);
	*len += plen;
	printf("%s CA: CRL number %lld, %zu revoked, next update in %d days\n", kind, number, n,
	       days);
out:
	if (rc != 0 && rc != CTL_E_REPORTED)
		ctl_err(cx, "cannot build the %s CA CRL (%d)", kind, rc);
	free(pem);
	free(entries);
	X509_CRL_free(crl);
	PQclear(res);
	ctlca_done(&ca);
	return rc;
}

int
cmd_crl_publish(struct cmd_ctx *cx)
{
	const char *out = opt_get(cx, "out"), *d = opt_get(cx, "days");
	long long days = 7;
	char *all = NULL;
	size_t len = 0;
	int rc;

	if (d != NULL && util_parse_ll(d, 1, 30, &days) != 0) {
		ctl_err(cx, "--days: '%s' is not a whole number from 1 to 30", d);
		return CTL_USAGE;
	}
	if (strcmp(out, "-") == 0) {
		ctl_err(cx, "--out: a file name is required (the summary goes to standard output)");
		return CTL_USAGE;
	}
	if ((rc = ctl_key(cx)) != 0 || (rc = ctl_db(cx)) != 0 || (rc = db_begin(&cx->db)) != 0)
		goto out;
	if ((rc = q_lock(cx)) != 0 || (rc = one_crl(cx, "root", (int)days, &all, &len)) != 0 ||
	    (rc = one_crl(cx, "admin", (int)days, &all, &len)) != 0)
		goto out;
	if ((rc = ctl_write_file(out, all, len, 0644)) != 0) {
		ctl_err(cx, "--out %s: %s", out, strerror(-rc));
		goto out;
	}
	rc = db_commit(&cx->db);
out:
	if (rc != 0)
		db_rollback(&cx->db);
	free(all);
	return rc == 0 ? CTL_OK : CTL_FAIL;
}
