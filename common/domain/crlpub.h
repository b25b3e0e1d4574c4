/*
 * crlpub.h: the root and administrator CA CRLs that nginx checks administrator certificates
 * against (ssl_crl wants a current CRL for every CA of the chain, and refuses every certificate
 * once one has passed its nextUpdate). Built here for `shomeictl crl publish` (signs with the
 * CA keys itself) and for shomei-revoke's keeper (has shomei-signer sign them).
 */
#ifndef SHOMEI_CRLPUB_H
#define SHOMEI_CRLPUB_H

#include "core/err.h"

#include <stddef.h>
#include <time.h>

#include <openssl/x509.h>

#include "store/db.h"

/* The advisory lock every change to the CAs' CRL numbers runs under. */
#define CRLPUB_LOCK "7522517497018826049"

/*
 * SQL: the tenant CA (cas alias a) publishes a CRL and answers OCSP: it is active, or it was
 * rotated out (shomeictl ca rotate) and it and one of its certificates are still valid.
 */
#define CRLPUB_SQL_LIVE(a)                                                                         \
	"(" a ".active OR (" a ".not_after > now() AND EXISTS (SELECT 1 FROM certificates lv"      \
	" WHERE lv.ca_id = " a ".id AND lv.not_after > now())))"

/* thisUpdate is set this far back, for relying parties whose clocks are slightly behind. */
#define CRLPUB_BACKDATE 60

/*
 * Sign crl, the unsigned next CRL of the CA of kind ("root" or "admin") whose sealed key is
 * key_file; *out is the signed CRL (it may be crl itself, up-referenced). 0 or nonzero.
 */
typedef int (*crlpub_sign_fn)(void *arg, const char *kind, const char *key_file, X509_CRL *crl,
			      X509_CRL **out);

struct crlpub_info {
	const char *kind;
	long long number; /* the CRL number just used */
	size_t revoked;
};

/*
 * In db's open transaction: take the CA lock, then for the root and the administrator CA
 * raise the CRL number, build the CRL valid for days (the administrator CA's lists its revoked
 * certificates), have sign sign it, and append its PEM to *pem (malloc'ed, the caller frees).
 * info[0] is the root's, info[1] the administrator CA's. Each CRL is also stored in crls (the
 * table every shomei-revoke serves from). The caller commits. 0, CRLPUB_E_*,
 * DB_E_* or -errno; err says what failed.
 */
int crlpub_build(struct db *db, int days, crlpub_sign_fn sign, void *arg, char **pem, size_t *len,
		 struct crlpub_info info[2], char *err, size_t errlen);

/*
 * Whether the CRL file at path must be published again: it is missing or unreadable, holds
 * fewer than two CRLs, a CRL's nextUpdate is less than margin seconds away (in the file or in
 * the crls table), or the
 * administrator certificates revoked in db are not exactly those its CRLs list. 1 yes, 0 no,
 * -errno (database).
 */
int crlpub_stale(struct db *db, const char *path, time_t margin);

/*
 * In db's open transaction: lock the tenant's issuing CAs that publish (its active one, and
 * those rotated out that still have valid certificates: CRLPUB_SQL_LIVE) and, for each whose
 * CRL stored in crls is missing, lists other than its revoked certificates, or expires within
 * margin seconds (margin < 0: always), raise its CRL number, build the CRL valid for days (each
 * revoked certificate with its time and RFC 5280 reason; none for unspecified), have sign sign it
 * (kind "tenant"; the CRL is already placeholder-signed, x509_crl_build_placeholder, so a
 * signer that needs the DER takes x509_crl_to_der of it as it is), and store it in crls.
 * info->number is the number used (the active CA's when it was signed), 0 when every stored
 * CRL was current. The caller commits. 0,
 * CRLPUB_E_*, DB_E_* or -errno; err says what failed.
 */
int crlpub_tenant(struct db *db, long long tenant_id, int days, time_t margin, crlpub_sign_fn sign,
		  void *arg, struct crlpub_info *info, char *err, size_t errlen);

/*
 * The tenants whose stored CRL is missing, lists other than its CA's revoked certificates, or
 * expires within margin seconds: *ids (malloc'ed, the caller frees; NULL when *n is 0).
 * 0 or -errno.
 */
int crlpub_stale_tenants(struct db *db, time_t margin, long long **ids, size_t *n);

#endif
