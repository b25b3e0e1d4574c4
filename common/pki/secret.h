/* secret.h: key files, sealed blobs (AES-256-GCM) and generated passwords. */
#ifndef SHOMEI_SECRET_H
#define SHOMEI_SECRET_H

#include "core/err.h"

#include <stddef.h>

#define SECRET_KEY_LEN 32
#define SECRET_MAGIC "SHM1"
#define SECRET_NONCE_LEN 12
#define SECRET_TAG_LEN 16
/* Bytes a sealed blob adds to its plaintext. */
#define SECRET_OVERHEAD (4 + SECRET_NONCE_LEN + SECRET_TAG_LEN)
/* Length of a generated password (secret_random_password with a 13-byte buffer). */
#define SECRET_PASSWORD_LEN 12

/* Who may read a key file besides its owner (DECISIONS.md, "One key per purpose"). */
enum secret_key_access {
	SECRET_KEY_OWNER, /* the CA key-encryption key: mode 0600 or 0400 */
	SECRET_KEY_GROUP, /* the data key: the group of the services that use it may read (0640) */
};

/*
 * Read a key from path: exactly 64 hex digits, optionally followed by a
 * newline. Refuses a file with a permission bit that access does not allow
 * (SECRET_E_MODE: any group/other bit for SECRET_KEY_OWNER, any bit but
 * group-read for SECRET_KEY_GROUP) or of another shape (SECRET_E_FORMAT);
 * -errno when it cannot be read. key is written only on success.
 */
int secret_key_load(const char *path, enum secret_key_access access,
		    unsigned char key[SECRET_KEY_LEN]);

/*
 * Create path (mode 0600, must not exist) holding a fresh random key, hex.
 * Returns 0, -EEXIST, or another -errno.
 */
int secret_key_create(const char *path);

/*
 * Seal len bytes for purpose (the AAD, e.g. "ca-key", "p12-password"):
 * "SHM1" | nonce(12) | ciphertext | tag(16). *out is malloc'ed; the caller
 * frees it. Returns 0, -ENOMEM or -EIO.
 */
int secret_seal(const unsigned char key[SECRET_KEY_LEN], const char *purpose, const void *plain,
		size_t len, unsigned char **out, size_t *outlen);

/*
 * Open a blob made by secret_seal with the same key and purpose. *out is
 * malloc'ed with one extra NUL byte after *outlen (handy for strings); the
 * caller wipes (OPENSSL_cleanse) and frees it. Returns 0, SECRET_E_FORMAT,
 * SECRET_E_AUTH, -ENOMEM or -EIO.
 */
int secret_open(const unsigned char key[SECRET_KEY_LEN], const char *purpose,
		const unsigned char *blob, size_t bloblen, unsigned char **out, size_t *outlen);

/*
 * Fill buf with n-1 characters drawn uniformly from the 56 characters
 * 2-9 A-Z a-z without 0 O o 1 l I, and a NUL. Use n = SECRET_PASSWORD_LEN + 1.
 * Returns 0, -EINVAL (n < 2) or -EIO (no randomness).
 */
int secret_random_password(char *buf, size_t n);

/*
 * Seal plain for purpose and write it to path atomically (a temporary file in
 * the same directory, mode 0600, fsync, rename). 0 or -errno.
 */
int secret_seal_file(const unsigned char key[SECRET_KEY_LEN], const char *purpose, const char *path,
		     const void *plain, size_t len);

/*
 * Read a sealed file (at most SECRET_FILE_MAX bytes) and open it; *out as
 * secret_open's (wipe and free). 0, SECRET_E_FORMAT, SECRET_E_AUTH or -errno.
 */
#define SECRET_FILE_MAX (256 * 1024)
int secret_open_file(const unsigned char key[SECRET_KEY_LEN], const char *purpose, const char *path,
		     unsigned char **out, size_t *outlen);

/* Wipe n bytes (never optimised away). */
void secret_wipe(void *p, size_t n);

#endif
