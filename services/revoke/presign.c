/*
 * presign.c: keeps a signed OCSP response in ocsp_responses for every certificate of the
 * tenants' active CAs (DECISIONS.md, "OCSP"), so that the responder (ocsp.c) answers with a
 * lookup. Run by the publisher thread after a revocation's notification (that tenant) and on
 * its sweep (every tenant): a certificate without a response, one whose response says another
 * status, or one whose response expires within ocsp_validity/2 is signed again through
 * shomei-signer, in batches of PRESIGN_BATCH.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "extern.h"

#define PRESIGN_BATCH 200
/* Batches per call: the publisher goes back to its notifications in between. */
#define PRESIGN_ROUNDS 5 /* 1,000 signatures at most, so a CRL waits seconds, not tens of them */

/* Sign and store row r of the stale list; 0 or nonzero. */
static int
one(struct db *db, struct signer_conn *sc, const PGresult *res, int r, time_t now)
{
	struct ocsp_issuer is = {0};
	struct ocsp_single s;
	OCSP_CERTID *id = NULL;
	unsigned char *der = NULL;
	size_t len = 0;
	const char *serial = db_get(res, r, "serial");
	int revoked = db_get(res, r, "revoked")[0] == 't', rc;

	if ((rc = ocsp_issuer_find(db, NULL, db_get_ll(res, r, "ca_id"), &is)) != 0 ||
	    (rc = ocsp_id_make(is.cert, serial, &id)) != 0)
		goto out;
	ocsp_single_for(revoked ? OCSP_ST_REVOKED : OCSP_ST_GOOD,
			(time_t)db_get_ll(res, r, "revoked_at"), (int)db_get_ll(res, r, "reason"),
			now, &s);
	if ((rc = ocsp_sign(sc, is.tenant_id, id, &s, &der, &len)) != 0)
		goto out;
	rc = ocsp_store(db, is.ca_id, serial, revoked, der, len, s.this_update, s.next_update);
out:
	free(der);
	OCSP_CERTID_free(id);
	X509_free(is.cert);
	return rc;
}

int
presign_run(struct db *db, struct signer_conn *sc, long long tenant_id, size_t *signed_n)
{
	char tid[24], limit[24];
	PGresult *res = NULL;
	size_t done = 0;
	int rc = 0, n = PRESIGN_BATCH;

	snprintf(tid, sizeof(tid), "%lld", tenant_id);
	for (int round = 0; round < PRESIGN_ROUNDS && n == PRESIGN_BATCH && rc == 0; round++) {
		time_t now = time(NULL);

		snprintf(limit, sizeof(limit), "%lld",
			 (long long)now + revoke_cfg.ocsp_validity / 2);
		const char *params[] = {tid, limit};
		if ((rc = db_exec(db, &q_ocsp_stale, params, &res)) != 0) {
			rc = rc < 0 ? rc : -EIO;
			break;
		}
		n = PQntuples(res);
		/* a row that fails would come back first in the next batch: stop the round */
		for (int r = 0; r < n && rc == 0; r++)
			if ((rc = one(db, sc, res, r, now)) == 0)
				done++;
		PQclear(res);
		res = NULL;
	}
	*signed_n = done;
	return rc;
}
