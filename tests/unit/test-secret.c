/* test-secret.c: master key files, sealed blobs and generated passwords. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pki/secret.h"
#include "tap.h"

static char dir[] = "/tmp/shomei-test-secret-XXXXXX";

/* Write content to dir/name with mode; returns the path (static buffer). */
static const char *
keyfile(const char *name, const char *content, mode_t mode)
{
	static char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd >= 0) {
		if (write(fd, content, strlen(content)) < 0)
			perror("write");
		close(fd);
	}
	chmod(path, mode);
	return path;
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static const char hex64[] = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

static void
test_key_load(void)
{
	static const struct {
		const char *name, *content;
		mode_t mode;
		int want;       /* as the CA key-encryption key (owner only) */
		int want_group; /* as the data key (its group may read) */
	} cases[] = {
		{"plain", hex64, 0600, 0, 0},
		{"newline", "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n",
		 0600, 0, 0},
		{"crlf", "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\r\n",
		 0600, 0, 0},
		{"upper", "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F", 0400,
		 0, 0},
		{"group-readable", hex64, 0640, SECRET_E_MODE, 0},
		{"group-read-only", hex64, 0440, SECRET_E_MODE, 0},
		{"other-readable", hex64, 0604, SECRET_E_MODE, SECRET_E_MODE},
		{"group-other", hex64, 0644, SECRET_E_MODE, SECRET_E_MODE},
		{"group-writable", hex64, 0620, SECRET_E_MODE, SECRET_E_MODE},
		{"group-rw", hex64, 0660, SECRET_E_MODE, SECRET_E_MODE},
		{"group-exec", hex64, 0650, SECRET_E_MODE, SECRET_E_MODE},
		{"empty", "", 0600, SECRET_E_FORMAT, SECRET_E_FORMAT},
		{"short", "0001020304", 0600, SECRET_E_FORMAT, SECRET_E_FORMAT},
		{"long", "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f00", 0600,
		 SECRET_E_FORMAT, SECRET_E_FORMAT},
		{"non-hex", "g00102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1", 0600,
		 SECRET_E_FORMAT, SECRET_E_FORMAT},
		{"space", " 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", 0600,
		 SECRET_E_FORMAT, SECRET_E_FORMAT},
		{"two-newlines",
		 "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n\n", 0600,
		 SECRET_E_FORMAT, SECRET_E_FORMAT},
	};
	unsigned char key[SECRET_KEY_LEN];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *p = keyfile(cases[i].name, cases[i].content, cases[i].mode);
		int rc = secret_key_load(p, SECRET_KEY_OWNER, key);
		int rcg = secret_key_load(p, SECRET_KEY_GROUP, key);

		TAP_OK(rc == cases[i].want, "key file %s as the KEK: %d (want %d)", cases[i].name,
		       rc, cases[i].want);
		TAP_OK(rcg == cases[i].want_group, "key file %s as the data key: %d (want %d)",
		       cases[i].name, rcg, cases[i].want_group);
		if (rcg == 0)
			TAP_OK(key[0] == 0 && key[15] == 15 && key[31] == 31, "key %s decoded",
			       cases[i].name);
	}
	TAP_OK(secret_key_load("/nonexistent/ca-kek.key", SECRET_KEY_OWNER, key) == -ENOENT, "missing file: -ENOENT");
	TAP_OK(secret_key_load(dir, SECRET_KEY_OWNER, key) == SECRET_E_FORMAT &&
		       secret_key_load(dir, SECRET_KEY_GROUP, key) == SECRET_E_FORMAT,
	       "a directory is refused");
}

static void
test_key_create(void)
{
	unsigned char k1[SECRET_KEY_LEN], k2[SECRET_KEY_LEN];
	char p1[256], p2[256];
	struct stat st;

	snprintf(p1, sizeof(p1), "%s/new1.key", dir);
	snprintf(p2, sizeof(p2), "%s/new2.key", dir);
	TAP_OK(secret_key_create(p1) == 0, "create a key file");
	TAP_OK(stat(p1, &st) == 0 && (st.st_mode & 0777) == 0600, "created 0600");
	TAP_OK(secret_key_create(p1) == -EEXIST, "never overwrites a key");
	TAP_OK(secret_key_create(p2) == 0, "create another");
	TAP_OK(secret_key_load(p1, SECRET_KEY_OWNER, k1) == 0 &&
		       secret_key_load(p2, SECRET_KEY_OWNER, k2) == 0, "both load");
	TAP_OK(memcmp(k1, k2, sizeof(k1)) != 0, "two keys differ");
}

static void
test_seal(void)
{
	unsigned char key[SECRET_KEY_LEN], other[SECRET_KEY_LEN];
	const char msg[] = "-----BEGIN PRIVATE KEY----- secret bytes";
	unsigned char *blob = NULL, *blob2 = NULL, *plain = NULL;
	size_t bloblen = 0, blob2len = 0, plainlen = 0;
	int accepted = 0;

	memset(key, 0x11, sizeof(key));
	memset(other, 0x22, sizeof(other));
	TAP_OK(secret_seal(key, "ca-key", msg, sizeof(msg) - 1, &blob, &bloblen) == 0, "seal");
	TAP_OK(bloblen == sizeof(msg) - 1 + SECRET_OVERHEAD, "blob length = plain + 32");
	TAP_OK(memcmp(blob, "SHM1", 4) == 0, "blob starts with SHM1");
	TAP_OK(memmem(blob, bloblen, "secret", 6) == NULL, "plaintext not visible in the blob");
	TAP_OK(secret_open(key, "ca-key", blob, bloblen, &plain, &plainlen) == 0 &&
		       plainlen == sizeof(msg) - 1 && memcmp(plain, msg, plainlen) == 0 &&
		       plain[plainlen] == '\0',
	       "open gives the plaintext back, NUL-terminated");
	free(plain);
	plain = NULL;
	TAP_OK(secret_open(key, "p12-password", blob, bloblen, &plain, &plainlen) == SECRET_E_AUTH,
	       "another purpose (AAD) fails");
	TAP_OK(secret_open(other, "ca-key", blob, bloblen, &plain, &plainlen) == SECRET_E_AUTH,
	       "another key fails");
	for (size_t i = 4; i < bloblen; i++) {
		blob[i] ^= 0x80;
		if (secret_open(key, "ca-key", blob, bloblen, &plain, &plainlen) != SECRET_E_AUTH) {
			accepted++;
			free(plain);
			plain = NULL;
		}
		blob[i] ^= 0x80;
	}
	TAP_OK(accepted == 0, "a flipped bit anywhere after the magic is refused (%d accepted)",
	       accepted);
	TAP_OK(secret_open(key, "ca-key", blob, bloblen - 1, &plain, &plainlen) == SECRET_E_AUTH,
	       "truncated blob fails");
	TAP_OK(secret_open(key, "ca-key", blob, 10, &plain, &plainlen) == SECRET_E_FORMAT,
	       "too short for a blob");
	blob[0] = 'X';
	TAP_OK(secret_open(key, "ca-key", blob, bloblen, &plain, &plainlen) == SECRET_E_FORMAT,
	       "wrong magic");
	TAP_OK(secret_seal(key, "ca-key", msg, sizeof(msg) - 1, &blob2, &blob2len) == 0 &&
		       memcmp(blob + 4, blob2 + 4, SECRET_NONCE_LEN) != 0,
	       "two seals use different nonces");
	free(blob);
	free(blob2);
	blob = NULL;
	TAP_OK(secret_seal(key, "p12-password", "", 0, &blob, &bloblen) == 0 &&
		       bloblen == SECRET_OVERHEAD,
	       "seal empty plaintext");
	TAP_OK(secret_open(key, "p12-password", blob, bloblen, &plain, &plainlen) == 0 &&
		       plainlen == 0,
	       "open empty plaintext");
	free(plain);
	free(blob);
}

static void
test_seal_file(void)
{
	unsigned char key[SECRET_KEY_LEN], *plain = NULL;
	size_t len = 0;
	char path[256];
	struct stat st;

	memset(key, 0x33, sizeof(key));
	snprintf(path, sizeof(path), "%s/1.key.enc", dir);
	TAP_OK(secret_seal_file(key, "ca-key", path, "DER", 3) == 0, "seal to a file");
	TAP_OK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600, "sealed file is 0600");
	TAP_OK(secret_open_file(key, "ca-key", path, &plain, &len) == 0 && len == 3 &&
		       memcmp(plain, "DER", 3) == 0,
	       "open the file");
	free(plain);
	TAP_OK(secret_open_file(key, "p12-password", path, &plain, &len) == SECRET_E_AUTH,
	       "file under another purpose fails");
}

static void
test_password(void)
{
	static const char allowed[] = "23456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz";
	char pw[SECRET_PASSWORD_LEN + 1], prev[SECRET_PASSWORD_LEN + 1] = "";
	int counts[256] = {0}, ok_alpha = 1, ok_len = 1, distinct = 1, n = 2000;
	int lo = n * SECRET_PASSWORD_LEN, hi = 0;

	for (int i = 0; i < n; i++) {
		if (secret_random_password(pw, sizeof(pw)) != 0)
			ok_len = 0;
		if (strlen(pw) != SECRET_PASSWORD_LEN)
			ok_len = 0;
		if (strspn(pw, allowed) != strlen(pw))
			ok_alpha = 0;
		if (strcmp(pw, prev) == 0)
			distinct = 0;
		for (const char *p = pw; *p; p++)
			counts[(unsigned char)*p]++;
		memcpy(prev, pw, sizeof(pw));
	}
	TAP_OK(ok_len, "passwords are 12 characters");
	TAP_OK(ok_alpha, "only 2-9 A-Z a-z without look-alikes");
	TAP_OK(strpbrk(allowed, "0Oo1lI") == NULL, "alphabet has no 0 O o 1 l I");
	TAP_OK(distinct, "consecutive passwords differ");
	for (const char *a = allowed; *a; a++) {
		if (counts[(unsigned char)*a] < lo)
			lo = counts[(unsigned char)*a];
		if (counts[(unsigned char)*a] > hi)
			hi = counts[(unsigned char)*a];
	}
	/* 24000 draws over 56 symbols: mean ~429, sd ~20; a bias of 2x would show. */
	TAP_OK(lo > 300 && hi < 560, "roughly uniform (min %d, max %d)", lo, hi);
	TAP_OK(secret_random_password(pw, 1) == -EINVAL, "buffer too small");
	TAP_OK(secret_random_password(pw, 9) == 0 && strlen(pw) == 8, "n-1 characters");
}

int
main(void)
{
	if (mkdtemp(dir) == NULL)
		return 1;
	test_key_load();
	test_key_create();
	test_seal();
	test_seal_file();
	test_password();
	nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	return tap_done();
}
