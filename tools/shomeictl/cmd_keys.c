/*
 * cmd_keys.c: shomeictl key create, and keys split: an installation sealed by one master key
 * moved to a CA key-encryption key (CA keys) and a data key (PKCS#12 passwords).
 * DECISIONS.md, "One key per purpose".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "extern.h"
#include "core/util.h"

/* Rows re-sealed per transaction: a crash loses at most one batch, which the next run redoes. */
#define SPLIT_BATCH 500 /* the LIMIT of sql_pw_batch */

static const char sql_cas[] = "SELECT id, key_file FROM cas ORDER BY id";

static const char sql_pw_batch[] =
	"SELECT id, encode(p12_password_enc, 'hex') AS enc FROM certificates "
	"WHERE p12_password_enc IS NOT NULL AND id > $1::bigint ORDER BY id LIMIT 500 FOR UPDATE";

static const char sql_pw_update[] =
	"UPDATE certificates SET p12_password_enc = decode($2, 'hex') WHERE id = $1::bigint";

int
cmd_key_create(struct cmd_ctx *cx)
{
	const char *out = opt_get(cx, "out");
	int rc = secret_key_create(out);

	if (rc == -EEXIST) {
		ctl_err(cx, "--out %s: exists; a key is never overwritten", out);
		return CTL_EXISTS;
	}
	if (rc != 0) {
		ctl_err(cx, "--out %s: %s", out, strerror(-rc));
		return CTL_FAIL;
	}
	printf("key written to %s (mode 0600)\n", out);
	return CTL_OK;
}

/* The three keys of a split: the old master key, the new KEK and the new data key. */
struct split {
	struct cmd_ctx *cx;
	unsigned char old[SECRET_KEY_LEN], kek[SECRET_KEY_LEN], data[SECRET_KEY_LEN];
	long ca_moved, ca_kept, pw_moved, pw_kept;
};

/* Load path, creating it first when absent (*created = 1). */
static int
key_get(struct split *s, const char *what, const char *path, enum secret_key_access acc,
	unsigned char key[SECRET_KEY_LEN], int *created)
{
	int rc;

	*created = 0;
	if (access(path, F_OK) != 0) {
		if ((rc = secret_key_create(path)) != 0) {
			ctl_err(s->cx, "%s %s: cannot create: %s", what, path, strerror(-rc));
			return CTL_E_REPORTED;
		}
		*created = 1;
	}
	if ((rc = secret_key_load(path, acc, key)) != 0) {
		ctl_err(s->cx, "%s %s: %s", what, path,
			rc == SECRET_E_MODE	? "open to others (chmod 600, or 640 for the data key)"
			: rc == SECRET_E_FORMAT ? "not 64 hex digits"
						: strerror(-rc));
		return CTL_E_REPORTED;
	}
	return 0;
}

/*
 * Move one sealed blob from the old key to the new one. *out is NULL when the blob already
 * opens with the new key (a second run, or one that died half-way). SECRET_E_AUTH when it
 * opens with neither.
 */
static int
reseal(const unsigned char *old, const unsigned char *new, const char *purpose,
       const unsigned char *blob, size_t len, unsigned char **out, size_t *outlen)
{
	unsigned char *plain = NULL;
	size_t plen = 0;
	int rc;

	*out = NULL;
	if ((rc = secret_open(new, purpose, blob, len, &plain, &plen)) == 0)
		goto out;
	if ((rc = secret_open(old, purpose, blob, len, &plain, &plen)) != 0)
		return rc;
	rc = secret_seal(new, purpose, plain, plen, out, outlen);
out:
	secret_wipe(plain, plen);
	free(plain);
	return rc;
}

static int
split_ca_keys(struct split *s)
{
	PGresult *res = NULL;
	char path[4096];
	int rc;

	if ((rc = db_exec_sql(&s->cx->db, sql_cas, 0, NULL, &res)) != 0)
		return rc;
	for (int r = 0; r < PQntuples(res); r++) {
		const char *kf = db_get(res, r, "key_file");
		unsigned char *blob = NULL, *sealed = NULL;
		size_t len = 0, slen = 0;

		if (kf == NULL || kf[0] == '\0' || kf[0] == '.' || strchr(kf, '/') != NULL ||
		    snprintf(path, sizeof(path), "%s/%s", s->cx->cfg.ca_dir, kf) >=
			    (int)sizeof(path)) {
			ctl_err(s->cx, "CA %s: key file name '%s' refused", db_get(res, r, "id"),
				kf ? kf : "");
			rc = CTL_E_REPORTED;
			break;
		}
		/* the file as it is, sealed: read it with a key that cannot fail to "open" it */
		if ((blob = (unsigned char *)util_read_file(path, SECRET_FILE_MAX, &len)) == NULL) {
			ctl_err(s->cx, "%s: cannot read", path);
			rc = CTL_E_REPORTED;
			break;
		}
		rc = reseal(s->old, s->kek, "ca-key", blob, len, &sealed, &slen);
		free(blob);
		if (rc == SECRET_E_AUTH || rc == SECRET_E_FORMAT) {
			ctl_err(s->cx, "%s: opens with neither the master key nor the new CA "
				       "key-encryption key",
				path);
			rc = CTL_E_REPORTED;
			break;
		}
		if (rc != 0)
			break;
		if (sealed == NULL) {
			s->ca_kept++;
			continue;
		}
		rc = util_write_file(path, sealed, slen, 0600);
		free(sealed);
		if (rc != 0) {
			ctl_err(s->cx, "%s: cannot write: %s", path, strerror(-rc));
			rc = CTL_E_REPORTED;
			break;
		}
		s->ca_moved++;
	}
	PQclear(res);
	return rc;
}

/* One batch of PKCS#12 passwords after id *last, in one transaction. *n: rows seen. */
static int
split_pw_batch(struct split *s, long long *last, int *n)
{
	struct db *db = &s->cx->db;
	PGresult *res = NULL;
	char lastbuf[24];
	const char *p[1] = {lastbuf};
	int rc;

	snprintf(lastbuf, sizeof(lastbuf), "%lld", *last);
	if ((rc = db_begin(db)) != 0)
		return rc;
	if ((rc = db_exec_sql(db, sql_pw_batch, 1, p, &res)) != 0)
		goto out;
	*n = PQntuples(res);
	for (int r = 0; r < *n && rc == 0; r++) {
		const char *id = db_get(res, r, "id"), *hex = db_get(res, r, "enc");
		size_t len = strlen(hex) / 2, slen = 0;
		unsigned char *blob = malloc(len + 1), *sealed = NULL;
		char *shex = NULL;

		*last = db_get_ll(res, r, "id");
		if (blob == NULL) {
			rc = -ENOMEM;
			break;
		}
		for (size_t i = 0; i < len; i++)
			blob[i] = (unsigned char)(util_hexval(hex[2 * i]) << 4 |
						  util_hexval(hex[2 * i + 1]));
		rc = reseal(s->old, s->data, "p12-password", blob, len, &sealed, &slen);
		free(blob);
		if (rc == SECRET_E_AUTH || rc == SECRET_E_FORMAT) {
			ctl_err(s->cx, "certificate %s: its PKCS#12 password opens with neither the "
				       "master key nor the new data key",
				id);
			rc = CTL_E_REPORTED;
			break;
		}
		if (rc != 0)
			break;
		if (sealed == NULL) {
			s->pw_kept++;
			continue;
		}
		if ((shex = malloc(2 * slen + 1)) == NULL) {
			free(sealed);
			rc = -ENOMEM;
			break;
		}
		util_hex(sealed, slen, shex);
		free(sealed);
		const char *up[2] = {id, shex};
		PGresult *ur = NULL;

		rc = db_exec_sql(db, sql_pw_update, 2, up, &ur);
		PQclear(ur);
		free(shex);
		s->pw_moved++;
	}
	if (rc == 0)
		rc = db_commit(db);
out:
	if (rc != 0)
		db_rollback(db);
	PQclear(res);
	return rc;
}

/*
 * keys split: create the KEK and the data key when absent, re-seal every CA key file under the
 * KEK and every PKCS#12 password under the data key (what already opens with the new key is
 * left alone, so a second run, or a run after a crash, finishes the work), then delete the
 * master key file. The CA key files are rewritten atomically; the passwords in batches.
 */
int
cmd_keys_split(struct cmd_ctx *cx)
{
	const struct cfg *c = &cx->cfg;
	struct split s = {.cx = cx};
	long long last = 0;
	int rc, n, made_kek = 0, made_data = 0;

	if (c->master_key_file[0] == '\0') {
		ctl_err(cx, "master_key_file is not set in the configuration: nothing to split "
			    "(this installation already has ca_kek_file and data_key_file)");
		return CTL_USAGE;
	}
	if (strcmp(c->ca_kek_file, c->data_key_file) == 0 ||
	    strcmp(c->ca_kek_file, c->master_key_file) == 0 ||
	    strcmp(c->data_key_file, c->master_key_file) == 0) {
		ctl_err(cx, "master_key_file, ca_kek_file and data_key_file must be three "
			    "different files");
		return CTL_USAGE;
	}
	if (access(c->master_key_file, F_OK) != 0) {
		ctl_err(cx, "master key %s: %s (already split? then remove master_key_file from "
			    "the configuration)",
			c->master_key_file, strerror(errno));
		return CTL_FAIL;
	}
	if ((rc = secret_key_load(c->master_key_file, SECRET_KEY_OWNER, s.old)) != 0) {
		ctl_err(cx, "master key %s: %s", c->master_key_file,
			rc == SECRET_E_MODE ? "open to group or others (chmod 600)"
					    : "not a key file");
		return CTL_FAIL;
	}
	if ((rc = key_get(&s, "CA key-encryption key", c->ca_kek_file, SECRET_KEY_OWNER, s.kek,
			  &made_kek)) != 0 ||
	    (rc = key_get(&s, "data key", c->data_key_file, SECRET_KEY_GROUP, s.data,
			  &made_data)) != 0 ||
	    (rc = ctl_db(cx)) != 0)
		goto out;
	if (CRYPTO_memcmp(s.kek, s.data, SECRET_KEY_LEN) == 0 ||
	    CRYPTO_memcmp(s.kek, s.old, SECRET_KEY_LEN) == 0 ||
	    CRYPTO_memcmp(s.data, s.old, SECRET_KEY_LEN) == 0) {
		ctl_err(cx, "the master key, the CA key-encryption key and the data key must be "
			    "three different keys");
		rc = CTL_E_REPORTED;
		goto out;
	}
	if ((rc = split_ca_keys(&s)) != 0)
		goto out;
	do {
		n = 0;
		if ((rc = split_pw_batch(&s, &last, &n)) != 0)
			goto out;
	} while (n == SPLIT_BATCH);
	if (unlink(c->master_key_file) != 0) {
		ctl_err(cx, "master key %s: everything is re-sealed, but it cannot be removed: %s",
			c->master_key_file, strerror(errno));
		rc = CTL_E_REPORTED;
		goto out;
	}
	printf("CA key-encryption key: %s%s\n", c->ca_kek_file, made_kek ? " (new)" : "");
	printf("data key:              %s%s\n", c->data_key_file, made_data ? " (new)" : "");
	printf("CA keys re-sealed: %ld (already done: %ld)\n", s.ca_moved, s.ca_kept);
	printf("PKCS#12 passwords re-sealed: %ld (already done: %ld)\n", s.pw_moved, s.pw_kept);
	printf("master key %s removed; remove master_key_file from the configuration and back up "
	       "both new keys (README, \"Backups\")\n",
	       c->master_key_file);
out:
	OPENSSL_cleanse(&s, sizeof(s));
	if (rc == CTL_E_REPORTED)
		return CTL_FAIL;
	if (rc != 0) {
		ctl_err(cx, "failed (%s); run it again: what is done stays done", err_name(rc));
		return CTL_FAIL;
	}
	return CTL_OK;
}
