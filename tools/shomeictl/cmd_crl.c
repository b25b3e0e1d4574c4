/* cmd_crl.c: shomeictl crl publish — the root and administrator CA CRLs for nginx's ssl_crl. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/crlpub.h"
#include "extern.h"
#include "core/util.h"

/* crlpub_sign_fn: sign with the CA's own key (shomeictl holds the CA key-encryption key). */
static int
sign_locally(void *arg, const char *kind, const char *key_file, X509_CRL *crl, X509_CRL **out)
{
	struct cmd_ctx *cx = arg;
	struct ctlca ca = {0};
	int rc;

	(void)key_file; /* ca_load finds the same active CA again, key included */
	if ((rc = ca_load(cx, kind, 0, 1, &ca)) == 0 && (rc = x509_crl_sign(crl, ca.key)) == 0 &&
	    X509_CRL_up_ref(crl) == 1)
		*out = crl;
	else if (rc == 0)
		rc = -1;
	ctlca_done(&ca);
	return rc;
}

int
cmd_crl_publish(struct cmd_ctx *cx)
{
	const char *out = opt_get(cx, "out"), *d = opt_get(cx, "days");
	struct crlpub_info info[2];
	long long days = 7;
	char *all = NULL, err[256];
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
	if ((rc = crlpub_build(&cx->db, (int)days, sign_locally, cx, &all, &len, info, err,
			       sizeof(err))) != 0) {
		ctl_err(cx, "%s%s", err, rc == CRLPUB_E_NOCA ? ": run 'shomeictl ca init'" : "");
		goto out;
	}
	if ((rc = ctl_write_file(out, all, len, 0644)) != 0) {
		ctl_err(cx, "--out %s: %s", out, strerror(-rc));
		goto out;
	}
	if ((rc = db_commit(&cx->db)) != 0)
		goto out;
	for (int k = 0; k < 2; k++)
		printf("%s CA: CRL number %lld, %zu revoked, next update in %lld days\n",
		       info[k].kind, info[k].number, info[k].revoked, days);
out:
	if (rc != 0)
		db_rollback(&cx->db);
	free(all);
	return rc == 0 ? CTL_OK : CTL_FAIL;
}
