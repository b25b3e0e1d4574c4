/* util.c: small helpers shared by every module (encoding, randomness, hashing). */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "core/util.h"

void
util_hex(const unsigned char *in, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * len] = '\0';
}

void
util_b64url(const unsigned char *in, size_t len, char *out)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	size_t i, o = 0;

	for (i = 0; i + 2 < len; i += 3) {
		unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];
		out[o++] = a[v >> 18];
		out[o++] = a[(v >> 12) & 63];
		out[o++] = a[(v >> 6) & 63];
		out[o++] = a[v & 63];
	}
	if (len - i == 1) {
		unsigned v = (unsigned)in[i] << 16;
		out[o++] = a[v >> 18];
		out[o++] = a[(v >> 12) & 63];
	} else if (len - i == 2) {
		unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8;
		out[o++] = a[v >> 18];
		out[o++] = a[(v >> 12) & 63];
		out[o++] = a[(v >> 6) & 63];
	}
	out[o] = '\0';
}

int
util_random(unsigned char *buf, size_t n)
{
	if (n > INT_MAX || RAND_bytes(buf, (int)n) != 1)
		return -EIO;
	return 0;
}

int
util_token(char out[UTIL_TOKEN_LEN])
{
	unsigned char raw[32];
	int rc;

	if ((rc = util_random(raw, sizeof(raw))) != 0)
		return rc;
	util_b64url(raw, sizeof(raw), out);
	OPENSSL_cleanse(raw, sizeof(raw));
	return 0;
}

void
util_sha256_hex(const void *in, size_t len, char out[65])
{
	unsigned char md[32];
	unsigned int mdlen = 0;

	if (EVP_Digest(in, len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32) {
		out[0] = '\0';
		return;
	}
	util_hex(md, 32, out);
}

int
util_streq_ct(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la != lb)
		return 0;
	return CRYPTO_memcmp(a, b, la) == 0;
}

int
util_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
util_urldecode(char *s, int plus)
{
	char *o = s;

	for (; *s; s++) {
		if (*s == '%') {
			int h = util_hexval((unsigned char)s[1]), l;
			if (h < 0 || (l = util_hexval((unsigned char)s[2])) < 0)
				return -EINVAL;
			*o++ = (char)(h << 4 | l);
			s += 2;
		} else if (*s == '+' && plus) {
			*o++ = ' ';
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
	return 0;
}

int
util_parse_ll(const char *s, long long min, long long max, long long *out)
{
	char *end;
	long long v;

	if (s == NULL || *s == '\0' || *s == ' ' || *s == '+')
		return -EINVAL;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end != '\0' || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

int
util_write_all(int fd, const void *data, size_t len)
{
	const unsigned char *p = data;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
util_write_file(const char *path, const void *data, size_t len, int mode)
{
	char *tmp = NULL;
	int fd = -1, rc;

	if (asprintf(&tmp, "%s.tmpXXXXXX", path) < 0)
		return -ENOMEM;
	/* mkostemp creates the file 0600; fchmod before any byte is written */
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0) {
		rc = -errno;
		goto out;
	}
	if (fchmod(fd, (mode_t)mode) != 0) {
		rc = -errno;
		goto out;
	}
	if ((rc = util_write_all(fd, data, len)) != 0)
		goto out;
	if (fsync(fd) != 0) {
		rc = -errno;
		goto out;
	}
	rc = close(fd) == 0 ? 0 : -errno;
	fd = -1;
	if (rc == 0 && rename(tmp, path) != 0)
		rc = -errno;
out:
	if (fd >= 0)
		close(fd);
	if (rc != 0)
		unlink(tmp);
	free(tmp);
	return rc;
}

char *
util_read_file(const char *path, size_t max, size_t *len)
{
	FILE *f;
	char *buf = NULL;
	long n;

	if ((f = fopen(path, "rb")) == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || (size_t)n > max ||
	    fseek(f, 0, SEEK_SET) != 0)
		goto out;
	if ((buf = malloc((size_t)n + 1)) == NULL)
		goto out;
	if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
		goto out;
	}
	buf[n] = '\0';
	if (len != NULL)
		*len = (size_t)n;
out:
	fclose(f);
	return buf;
}

int
util_chgrp_mode(const char *path, const char *group, int mode)
{
	struct group gr, *found = NULL;
	char buf[4096];
	int rc;

	if (group != NULL && group[0] != '\0') {
		rc = getgrnam_r(group, &gr, buf, sizeof(buf), &found);
		if (rc != 0)
			return -rc;
		if (found == NULL)
			return -ENOENT;
		if (chown(path, (uid_t)-1, gr.gr_gid) != 0)
			return -errno;
	}
	return chmod(path, (mode_t)mode) == 0 ? 0 : -errno;
}

size_t
util_utf8_seq(const unsigned char *p, size_t n)
{
	unsigned cp;
	size_t k;

	if (p[0] < 0x80)
		return p[0] != 0;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		k = 2, cp = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		k = 3, cp = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		k = 4, cp = p[0] & 0x07;
	else
		return 0;
	if (n < k)
		return 0;
	for (size_t i = 1; i < k; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if ((k == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (k == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return k;
}
