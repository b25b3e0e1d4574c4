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

/*
 * The process's bound on concurrent verifications (each costs 19 MiB and tens of ms of CPU):
 * at most n slots (n < 1: the number of online CPUs, at least 1). Call once before the threads
 * start; until then the bound is 1.
 */
void pwhash_limit(int n);

/* The bound in force (for a log line). */
int pwhash_slots(void);

/* Take a slot at once: 0, or PWHASH_E_BUSY when all are taken (never waits). */
int pwhash_slot_take(void);

/* Give back a slot pwhash_slot_take gave. */
void pwhash_slot_give(void);

/* A hash of a random password, to spend the same time for unknown login IDs. */
const char *pwhash_dummy(void);

#endif
