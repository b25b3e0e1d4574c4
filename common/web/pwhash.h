/* pwhash.h: administrator password hashing (argon2id via libsodium) and the password rule. */
#ifndef SHOMEI_PWHASH_H
#define SHOMEI_PWHASH_H

#include "core/err.h"

#include <stddef.h>

#define PWHASH_LEN 128

/* argon2id, t=2, 19 MiB, a fresh random salt; out is a NUL-terminated encoded string. */
int pwhash_hash(const char *pw, char out[PWHASH_LEN]);

/* 0 when pw matches, PWHASH_E_MISMATCH when not (also for a malformed hash). */
int pwhash_verify(const char *hash, const char *pw);

/* A hash of a random password, to spend the same time for unknown login IDs. */
const char *pwhash_dummy(void);

#endif
