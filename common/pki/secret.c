/* secret.c: key files, sealed blobs (AES-256-GCM) and generated passwords. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "pki/secret.h"
#include "core/util.h"

/* Long enough for 64 hex digits, a CRLF and one byte that proves the file is too long. */
#define KEYFILE_MAX 68

static const char pw_alphabet[] = "23456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz";

void
secret_wipe(void *p, size_t n)
{
	if (p != NULL && n > 0)
		OPENSSL_cleanse(p, n);
}

/* Decode exactly 2*SECRET_KEY_LEN hex digits, then allow only "\n" or "\r\n". */
static int
parse_key(const char *buf, size_t len, unsigned char key[SECRET_KEY_LEN])
{
	unsigned char tmp[SECRET_KEY_LEN];
	size_t i;
	int rc = SECRET_E_FORMAT;

	if (len > 2 * SECRET_KEY_LEN && buf[len - 1] == '\n')
		len--;
	if (len > 2 * SECRET_KEY_LEN && buf[len - 1] == '\r')
		len--;
	if (len != 2 * SECRET_KEY_LEN)
		goto out;
	for (i = 0; i < SECRET_KEY_LEN; i++) {
		int hi = util_hexval((unsigned char)buf[2 * i]);
		int lo = util_hexval((unsigned char)buf[2 * i + 1]);

		if (hi < 0 || lo < 0)
			goto out;
		tmp[i] = (unsigned char)(hi << 4 | lo);
	}
	memcpy(key, tmp, SECRET_KEY_LEN);
	rc = 0;
out:
	OPENSSL_cleanse(tmp, sizeof(tmp));
	return rc;
}

int
secret_key_load(const char *path, enum secret_key_access access, unsigned char key[SECRET_KEY_LEN])
{
	const mode_t refused =
		access == SECRET_KEY_GROUP ? (S_IWGRP | S_IXGRP | S_IRWXO) : (S_IRWXG | S_IRWXO);
	char buf[KEYFILE_MAX];
	struct stat st;
	size_t len = 0;
	ssize_t n;
	int fd = -1, rc;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0) {
		rc = -errno;
		goto out;
	}
	if (fstat(fd, &st) != 0) {
		rc = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = SECRET_E_FORMAT;
		goto out;
	}
	if (st.st_mode & refused) {
		rc = SECRET_E_MODE;
		goto out;
	}
	while (len < sizeof(buf)) {
		n = read(fd, buf + len, sizeof(buf) - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	rc = len < sizeof(buf) ? parse_key(buf, len, key) : SECRET_E_FORMAT;
out:
	OPENSSL_cleanse(buf, sizeof(buf));
	if (fd >= 0)
		close(fd);
	return rc;
}

int
secret_key_create(const char *path)
{
	unsigned char key[SECRET_KEY_LEN];
	char hex[2 * SECRET_KEY_LEN + 2];
	size_t off = 0, len = sizeof(hex) - 1;
	ssize_t n;
	int fd = -1, rc;

	if (RAND_priv_bytes(key, sizeof(key)) != 1) {
		rc = -EIO;
		goto out;
	}
	for (size_t i = 0; i < SECRET_KEY_LEN; i++) {
		hex[2 * i] = "0123456789abcdef"[key[i] >> 4];
		hex[2 * i + 1] = "0123456789abcdef"[key[i] & 15];
	}
	hex[2 * SECRET_KEY_LEN] = '\n';
	hex[2 * SECRET_KEY_LEN + 1] = '\0';
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0) {
		rc = -errno;
		goto out;
	}
	while (off < len) {
		n = write(fd, hex + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			goto out;
		}
		off += (size_t)n;
	}
	if (fsync(fd) != 0) {
		rc = -errno;
		goto out;
	}
	rc = 0;
out:
	if (fd >= 0 && close(fd) != 0 && rc == 0)
		rc = -errno;
	if (rc != 0 && rc != -EEXIST && fd >= 0)
		unlink(path);
	OPENSSL_cleanse(key, sizeof(key));
	OPENSSL_cleanse(hex, sizeof(hex));
	return rc;
}

/* One AES-256-GCM pass; enc selects the direction. tag is written (enc) or checked. */
static int
gcm(int enc, const unsigned char *key, const unsigned char *nonce, const char *aad,
    const unsigned char *in, size_t len, unsigned char *out, unsigned char *tag)
{
	EVP_CIPHER_CTX *ctx = NULL;
	int n, rc = -EIO;

	if (len > INT32_MAX || strlen(aad) > INT32_MAX)
		return -EINVAL;
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL)
		return -ENOMEM;
	if (EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL, enc) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, SECRET_NONCE_LEN, NULL) != 1 ||
	    EVP_CipherInit_ex(ctx, NULL, NULL, key, nonce, enc) != 1)
		goto out;
	if (EVP_CipherUpdate(ctx, NULL, &n, (const unsigned char *)aad, (int)strlen(aad)) != 1)
		goto out;
	if (len > 0 && EVP_CipherUpdate(ctx, out, &n, in, (int)len) != 1)
		goto out;
	if (!enc && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, SECRET_TAG_LEN, tag) != 1)
		goto out;
	if (EVP_CipherFinal_ex(ctx, out + len, &n) != 1) {
		rc = enc ? -EIO : SECRET_E_AUTH;
		goto out;
	}
	if (enc && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, SECRET_TAG_LEN, tag) != 1)
		goto out;
	rc = 0;
out:
	EVP_CIPHER_CTX_free(ctx);
	return rc;
}

int
secret_seal(const unsigned char key[SECRET_KEY_LEN], const char *purpose, const void *plain,
	    size_t len, unsigned char **out, size_t *outlen)
{
	unsigned char *blob = NULL, *nonce;
	size_t total;
	int rc;

	if (len > SIZE_MAX - SECRET_OVERHEAD - 16)
		return -EINVAL;
	total = SECRET_OVERHEAD + len;
	/* +16: room for EVP_CipherFinal_ex, which writes nothing for GCM. */
	if ((blob = malloc(total + 16)) == NULL)
		return -ENOMEM;
	memcpy(blob, SECRET_MAGIC, 4);
	nonce = blob + 4;
	if (RAND_bytes(nonce, SECRET_NONCE_LEN) != 1) {
		rc = -EIO;
		goto out;
	}
	rc = gcm(1, key, nonce, purpose, plain, len, nonce + SECRET_NONCE_LEN,
		 nonce + SECRET_NONCE_LEN + len);
	if (rc != 0)
		goto out;
	*out = blob;
	*outlen = total;
	blob = NULL;
	rc = 0;
out:
	free(blob);
	return rc;
}

int
secret_open(const unsigned char key[SECRET_KEY_LEN], const char *purpose, const unsigned char *blob,
	    size_t bloblen, unsigned char **out, size_t *outlen)
{
	unsigned char *plain = NULL, tag[SECRET_TAG_LEN];
	const unsigned char *nonce, *ct;
	size_t len;
	int rc;

	if (bloblen < SECRET_OVERHEAD || memcmp(blob, SECRET_MAGIC, 4) != 0)
		return SECRET_E_FORMAT;
	len = bloblen - SECRET_OVERHEAD;
	nonce = blob + 4;
	ct = nonce + SECRET_NONCE_LEN;
	memcpy(tag, ct + len, SECRET_TAG_LEN);
	if ((plain = malloc(len + 17)) == NULL)
		return -ENOMEM;
	if ((rc = gcm(0, key, nonce, purpose, ct, len, plain, tag)) != 0)
		goto out;
	plain[len] = '\0';
	*out = plain;
	*outlen = len;
	plain = NULL;
	rc = 0;
out:
	if (plain != NULL) {
		OPENSSL_cleanse(plain, len + 17);
		free(plain);
	}
	return rc;
}

int
secret_random_password(char *buf, size_t n)
{
	/* 56 * 4 = 224: bytes at or above it are dropped so every character is equally likely. */
	const unsigned limit = (256 / (sizeof(pw_alphabet) - 1)) * (sizeof(pw_alphabet) - 1);
	unsigned char rnd[32];
	size_t i = 0, j = sizeof(rnd);
	int rc = -EIO;

	if (n < 2)
		return -EINVAL;
	while (i < n - 1) {
		if (j == sizeof(rnd)) {
			if (RAND_priv_bytes(rnd, sizeof(rnd)) != 1)
				goto out;
			j = 0;
		}
		if (rnd[j] < limit)
			buf[i++] = pw_alphabet[rnd[j] % (sizeof(pw_alphabet) - 1)];
		j++;
	}
	buf[i] = '\0';
	rc = 0;
out:
	OPENSSL_cleanse(rnd, sizeof(rnd));
	if (rc != 0)
		OPENSSL_cleanse(buf, n);
	return rc;
}

int
secret_seal_file(const unsigned char key[SECRET_KEY_LEN], const char *purpose, const char *path,
		 const void *plain, size_t len)
{
	unsigned char *blob = NULL;
	size_t bloblen = 0;
	int rc;

	if ((rc = secret_seal(key, purpose, plain, len, &blob, &bloblen)) == 0)
		rc = util_write_file(path, blob, bloblen, 0600);
	free(blob);
	return rc;
}

int
secret_open_file(const unsigned char key[SECRET_KEY_LEN], const char *purpose, const char *path,
		 unsigned char **out, size_t *outlen)
{
	unsigned char *buf = NULL;
	struct stat st;
	size_t len = 0;
	ssize_t n;
	int fd = -1, rc;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0) {
		rc = -errno;
		goto out;
	}
	if (fstat(fd, &st) != 0) {
		rc = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > SECRET_FILE_MAX) {
		rc = SECRET_E_FORMAT;
		goto out;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	/* Read one byte more than expected to notice a file that grew. */
	while (len <= (size_t)st.st_size) {
		n = read(fd, buf + len, (size_t)st.st_size + 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len != (size_t)st.st_size) {
		rc = SECRET_E_FORMAT;
		goto out;
	}
	rc = secret_open(key, purpose, buf, len, out, outlen);
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	return rc;
}
