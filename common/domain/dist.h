/* dist.h: what distribution hands out: a certificate's .p12, its password, file names, profiles. */
#ifndef SHOMEI_DIST_H
#define SHOMEI_DIST_H

#include <stddef.h>

#include <libpq-fe.h>

#include "store/db.h"
#include "pki/secret.h"
#include "domain/lifecycle.h"

struct dist_cert {
	long long id;
	long long number; /* 0 for named certificates */
	char cn[256];
	char email[256];
	char device[4]; /* "" for numbered certificates */
	char status[24];
	unsigned char *p12;
	size_t p12_len;
	char password[64]; /* wiped by dist_cert_done */
};

/*
 * Fill *c from the current row of res (columns id, number, cn, email,
 * device_code, status, p12_password_enc and, when present, p12), opening the sealed password
 * with the master key. 0, -EIO (a blob that does not open), -ENOMEM.
 */
int dist_cert_from_row(const PGresult *res, int row, const unsigned char key[SECRET_KEY_LEN],
		       struct dist_cert *c);

/* Wipe the password and free the PKCS#12. */
void dist_cert_done(struct dist_cert *c);

/* The columns dist_cert_from_row reads, for a SELECT over certificates c LEFT JOIN devices d. */
#define DIST_COLUMNS                                                                               \
	"c.id, coalesce(c.number, 0) AS number, c.cn, coalesce(c.email, '') AS email,"             \
	" coalesce(d.device_code, '') AS device_code, c.status, c.p12, c.p12_password_enc"

/*
 * The certificates the administrator's bulk hand-outs give (the ZIP, the password list, the
 * password notice), in a WHERE over certificates c LEFT JOIN devices d: valid, with their files,
 * and not of a device with an install restriction (NRA: 管理者一括ダウンロードをご利用の場合は、
 * インストール制限機能はご利用いただけません: shomei-enroll installs those on the device).
 */
#define DIST_BULK_WHERE                                                                            \
	" c.status IN " LC_SQL_VALID " AND c.p12 IS NOT NULL"                                      \
	" AND coalesce(d.restriction_mode, 'none') = 'none'"

/*
 * The file name without extension: the CN of a numbered certificate
 * (client_000001), else "<e-mail>_<device code>". Characters a file system
 * refuses become '_'.
 */
void dist_base_name(const struct dist_cert *c, char *buf, size_t len);

/*
 * An Apple configuration profile (.mobileconfig) holding the PKCS#12
 * (com.apple.security.pkcs12) and the root CA (com.apple.security.root), with
 * UUIDs and identifiers derived from the tenant and certificate so a profile
 * downloaded twice replaces itself. The password is embedded only when
 * embed_password is set. *out (NUL-terminated XML) is malloc'ed; caller frees.
 */
int dist_mobileconfig(const struct dist_cert *c, const char *slug, const char *org,
		      const unsigned char *root_der, size_t root_len, int embed_password,
		      char **out, size_t *len);

/* The tenant's CA chain: PEM of issuing CA + root, DER of the issuing CA and of the root. */
struct dist_chain {
	char *pem;
	size_t pem_len;
	unsigned char *ca_der;
	size_t ca_der_len;
	unsigned char *root_der;
	size_t root_der_len;
};

/* Load the chain of tenant_id from the cas table. 0, DB_E_NOTFOUND, -EIO, -ENOMEM. */
int dist_chain_load(struct db *db, long long tenant_id, struct dist_chain *ch);
void dist_chain_done(struct dist_chain *ch);

#endif
