/* store.c: the signer's CAs, found in PostgreSQL (table cas) and loaded from sealed key files. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "store/db.h"
#include "extern.h"
#include "core/log.h"
#include "pki/signer.h"
#include "pki/x509.h"

/* The active CA of a kind (and, for 'tenant', of the tenant); its limits are read by q_limits. */
static const char q_find_ca[] =
	"SELECT c.id, c.cert_pem, c.key_file FROM cas c "
	"WHERE c.active AND c.kind = $1 AND ($1 <> 'tenant' OR c.tenant_id = $2::bigint) "
	"ORDER BY c.id DESC LIMIT 1";

/*
 * The tenant's validity limit and how far ahead a validity may start: the tenant's allowance
 * when it has validity_period (its users choose a From date), else none. Read on every
 * certificate, never cached: a limit lowered applies to the very next one.
 */
static const char q_limits[] =
	"SELECT max_validity_days AS max_days, "
	"CASE WHEN 'validity_period' = ANY (features) THEN max_start_ahead_days ELSE 0 END "
	"AS start_days FROM tenants WHERE id = $1::bigint";

static const char *const kind_words[SCA__MAX] = {
	[SCA_TENANT] = "tenant",
	[SCA_ADMIN] = "admin",
	[SCA_ROOT] = "root",
	[SCA_RETIRED] = "tenant",
};

struct entry {
	enum sca_kind kind;
	uint64_t tenant_id;
	time_t loaded;
	struct sca ca;
};

struct store {
	pthread_mutex_t mu;
	struct db db;
	char *ca_dir;
	unsigned char key[SECRET_KEY_LEN];
	struct entry *entries;
	size_t n, cap;
};

void
sca_done(struct sca *ca)
{
	X509_free(ca->cert);
	EVP_PKEY_free(ca->key);
	memset(ca, 0, sizeof(*ca));
}

void
sca_copy(struct sca *dst, const struct sca *src)
{
	*dst = *src;
	if (dst->cert != NULL)
		X509_up_ref(dst->cert);
	if (dst->key != NULL)
		EVP_PKEY_up_ref(dst->key);
}

struct store *
store_new(const char *conninfo, const char *ca_dir, const unsigned char key[SECRET_KEY_LEN])
{
	struct store *st;

	if ((st = calloc(1, sizeof(*st))) == NULL)
		return NULL;
	if (db_init(&st->db, conninfo) != 0 || (st->ca_dir = strdup(ca_dir)) == NULL) {
		db_done(&st->db);
		free(st);
		return NULL;
	}
	pthread_mutex_init(&st->mu, NULL);
	memcpy(st->key, key, SECRET_KEY_LEN);
	return st;
}

void
store_free(struct store *st)
{
	if (st == NULL)
		return;
	for (size_t i = 0; i < st->n; i++)
		sca_done(&st->entries[i].ca);
	free(st->entries);
	db_done(&st->db);
	free(st->ca_dir);
	OPENSSL_cleanse(st->key, sizeof(st->key));
	pthread_mutex_destroy(&st->mu);
	free(st);
}

/* Decrypt <ca_dir>/<key_file> and check that it belongs to cert. */
static int
load_key(struct store *st, const char *key_file, X509 *cert, EVP_PKEY **out)
{
	unsigned char *der = NULL;
	size_t len = 0;
	char path[PATH_MAX];
	int rc;

	if (key_file[0] == '\0' || key_file[0] == '.' || strchr(key_file, '/') != NULL)
		return -EINVAL;
	if (snprintf(path, sizeof(path), "%s/%s", st->ca_dir, key_file) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	if ((rc = secret_open_file(st->key, "ca-key", path, &der, &len)) != 0) {
		log_msg(LOG_ERROR, "event=ca_key_unreadable file=%s rc=%d", key_file, rc);
		return rc > 0 ? -EINVAL : rc;
	}
	rc = x509_key_from_der(der, len, out) == 0 ? 0 : -EINVAL;
	OPENSSL_cleanse(der, len);
	free(der);
	if (rc == 0 && X509_check_private_key(cert, *out) != 1) {
		log_msg(LOG_ERROR, "event=ca_key_mismatch file=%s", key_file);
		EVP_PKEY_free(*out);
		*out = NULL;
		rc = -EINVAL;
	}
	return rc;
}

static struct entry *
find_entry(struct store *st, enum sca_kind kind, uint64_t tenant_id)
{
	for (size_t i = 0; i < st->n; i++)
		if (st->entries[i].kind == kind && st->entries[i].tenant_id == tenant_id)
			return &st->entries[i];
	return NULL;
}

static struct entry *
add_entry(struct store *st, enum sca_kind kind, uint64_t tenant_id)
{
	struct entry *e;

	if (st->n == st->cap) {
		size_t cap = st->cap ? st->cap * 2 : 8;

		if ((e = realloc(st->entries, cap * sizeof(*e))) == NULL)
			return NULL;
		st->entries = e;
		st->cap = cap;
	}
	e = &st->entries[st->n++];
	memset(e, 0, sizeof(*e));
	e->kind = kind;
	e->tenant_id = tenant_id;
	return e;
}

/* Load the CA a result row describes into ca (reusing e's key when the CA is the same). */
static int
load_row(struct store *st, const PGresult *res, const struct entry *e, struct sca *ca)
{
	const char *pem = db_get(res, 0, "cert_pem"), *key_file = db_get(res, 0, "key_file");
	int rc;

	ca->id = db_get_ll(res, 0, "id");
	if (e != NULL && e->ca.id == ca->id && e->ca.key != NULL) {
		ca->cert = e->ca.cert;
		ca->key = e->ca.key;
		X509_up_ref(ca->cert);
		EVP_PKEY_up_ref(ca->key);
		return 0;
	}
	if (pem == NULL || key_file == NULL || x509_cert_from_pem(pem, strlen(pem), &ca->cert) != 0)
		return -EINVAL;
	if ((rc = load_key(st, key_file, ca->cert, &ca->key)) != 0)
		return rc;
	log_msg(LOG_INFO, "event=ca_loaded kind=%s ca=%lld", kind_words[ca->kind], ca->id);
	return 0;
}

/* Ask the database which CA serves (kind, tenant_id) and refresh the cache entry. */
static int
refresh(struct store *st, enum sca_kind kind, uint64_t tenant_id, struct entry **out)
{
	struct entry *e = find_entry(st, kind, tenant_id);
	struct sca ca = {.kind = kind};
	PGresult *res = NULL;
	char tid[24];
	const char *params[2] = {kind_words[kind], tid};
	int rc;

	snprintf(tid, sizeof(tid), "%llu", (unsigned long long)tenant_id);
	if ((rc = db_exec_sql(&st->db, q_find_ca, 2, params, &res)) != 0) {
		rc = rc > 0 ? -EIO : rc;
		goto out;
	}
	if (PQntuples(res) == 0) {
		rc = SIGNER_ST_NOCA;
		goto out;
	}
	if ((rc = load_row(st, res, e, &ca)) != 0)
		goto out;
	/* The administrator CA has no tenant row; the root signs only its CRL; a tenant's limits
	 * come from store_limits. */
	ca.max_days = kind == SCA_ADMIN ? SCA_ADMIN_MAX_DAYS : 0;
	if (e == NULL && (e = add_entry(st, kind, tenant_id)) == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	sca_done(&e->ca);
	e->ca = ca;
	memset(&ca, 0, sizeof(ca));
	e->loaded = time(NULL);
	*out = e;
	rc = 0;
out:
	if (rc == SIGNER_ST_NOCA && e != NULL) {
		sca_done(&e->ca);
		e->loaded = 0;
	}
	sca_done(&ca);
	PQclear(res);
	return rc;
}

int
store_lookup(void *arg, enum sca_kind kind, uint64_t tenant_id, struct sca *out)
{
	struct store *st = arg;
	struct entry *e;
	int rc = 0;

	if (kind >= SCA__MAX)
		return -EINVAL;
	pthread_mutex_lock(&st->mu);
	e = find_entry(st, kind, tenant_id);
	if (e == NULL || e->ca.cert == NULL || time(NULL) - e->loaded >= STORE_TTL)
		rc = refresh(st, kind, tenant_id, &e);
	if (rc == 0)
		sca_copy(out, &e->ca);
	pthread_mutex_unlock(&st->mu);
	return rc;
}

/* sql with $1 the tenant's id, on the store's connection (st->mu held): 0 or -errno. */
static int
by_tenant(struct store *st, const char *sql, uint64_t tenant_id, PGresult **res)
{
	char tid[24];
	const char *params[1] = {tid};
	int rc;

	snprintf(tid, sizeof(tid), "%llu", (unsigned long long)tenant_id);
	if ((rc = db_exec_sql(&st->db, sql, 1, params, res)) != 0)
		return rc > 0 ? -EIO : rc;
	return 0;
}

int
store_limits(void *arg, uint64_t tenant_id, struct sca *ca)
{
	struct store *st = arg;
	PGresult *res = NULL;
	int rc;

	pthread_mutex_lock(&st->mu);
	rc = by_tenant(st, q_limits, tenant_id, &res);
	pthread_mutex_unlock(&st->mu);
	if (rc == 0 && PQntuples(res) == 0)
		rc = SIGNER_ST_NOCA;
	if (rc == 0) {
		ca->max_days = (int)db_get_ll(res, 0, "max_days");
		ca->start_days = (int)db_get_ll(res, 0, "start_days");
	}
	PQclear(res);
	return rc;
}

/* The tenant's rotated-out issuing CAs that are still valid, newest first. */
static const char q_find_retired[] =
	"SELECT c.id, c.cert_pem, c.key_file FROM cas c WHERE NOT c.active AND c.kind = 'tenant' "
	"AND c.tenant_id = $1::bigint AND c.not_after > now() ORDER BY c.id DESC";

int
store_lookup_retired(void *arg, uint64_t tenant_id, sca_match_fn match, const void *match_arg,
		     struct sca *out)
{
	struct store *st = arg;
	PGresult *res = NULL;
	int rc;

	pthread_mutex_lock(&st->mu);
	if ((rc = by_tenant(st, q_find_retired, tenant_id, &res)) != 0)
		goto out;
	rc = SIGNER_ST_NOCA;
	for (int r = 0; r < PQntuples(res) && rc == SIGNER_ST_NOCA; r++) {
		const char *pem = db_get(res, r, "cert_pem"),
			   *key_file = db_get(res, r, "key_file");
		struct sca ca = {.kind = SCA_RETIRED, .id = db_get_ll(res, r, "id")};

		if (pem == NULL || key_file == NULL ||
		    x509_cert_from_pem(pem, strlen(pem), &ca.cert) != 0)
			continue;
		if (match(ca.cert, match_arg) &&
		    (rc = load_key(st, key_file, ca.cert, &ca.key)) == 0) {
			*out = ca;
			break;
		}
		sca_done(&ca);
		if (rc != 0 && rc != SIGNER_ST_NOCA)
			break;
	}
out:
	pthread_mutex_unlock(&st->mu);
	PQclear(res);
	return rc;
}
