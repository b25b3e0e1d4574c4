/* util.h: small helpers shared by every module (encoding, randomness, hashing). */
#ifndef SHOMEI_UTIL_H
#define SHOMEI_UTIL_H

#include <stddef.h>

/* Lowercase hex of len bytes into out (2*len+1 bytes). */
void util_hex(const unsigned char *in, size_t len, char *out);

/* Unpadded base64url of len bytes into out (at least 4*len/3+3 bytes). */
void util_b64url(const unsigned char *in, size_t len, char *out);

/* n random bytes from the CSPRNG; 0 or -EIO. */
int util_random(unsigned char *buf, size_t n);

/* A random 256-bit token, base64url (43 chars + NUL). */
#define UTIL_TOKEN_LEN 44

/* A macro's value as a string literal: UTIL_STR(PER_PAGE) is "100" (for SQL written at compile
 * time). */
#define UTIL_STR_(x) #x
#define UTIL_STR(x) UTIL_STR_(x)
int util_token(char out[UTIL_TOKEN_LEN]);

/* SHA-256 of len bytes, lowercase hex (65 bytes with NUL). */
void util_sha256_hex(const void *in, size_t len, char out[65]);

/* Constant-time equality of two NUL-terminated strings (time depends only on the lengths). */
int util_streq_ct(const char *a, const char *b);

/* Decode %XX and (when plus) '+' in place; returns -EINVAL on a bad escape. */
int util_urldecode(char *s, int plus);

/* The value of one hex digit, or -1. */
int util_hexval(int c);

/* Write all of len bytes to fd, retrying after EINTR; 0 or -errno. */
int util_write_all(int fd, const void *data, size_t len);

/*
 * Replace the file at path with len bytes of data, mode mode: written to a temporary file
 * beside it, fsync'ed and renamed over it, so a reader sees the old file or the new one whole.
 * 0 or -errno.
 */
int util_write_file(const char *path, const void *data, size_t len, int mode);

/*
 * The whole file at path, NUL-terminated and malloc'ed (its length in *len when len is not
 * NULL); NULL when it cannot be read or is larger than max bytes.
 */
char *util_read_file(const char *path, size_t max, size_t *len);

/*
 * Give the file at path the group named group (none when group is NULL or empty) and mode
 * mode. For a listening socket, called between bind() and listen(): nobody can connect before
 * it has its final owner and mode. 0, -ENOENT for an unknown group, or -errno (-EPERM when the
 * process is not a member of the group).
 */
int util_chgrp_mode(const char *path, const char *group, int mode);

/* Bytes of the valid UTF-8 sequence at p (at most n), or 0 when it is not one (a NUL byte, an
 * overlong form, a surrogate, past U+10FFFF, cut short). */
size_t util_utf8_seq(const unsigned char *p, size_t n);

/* Parse a whole decimal long long in [min, max]; 0 or -EINVAL. */
int util_parse_ll(const char *s, long long min, long long max, long long *out);

#endif
