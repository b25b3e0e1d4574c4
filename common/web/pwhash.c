/* pwhash.c: administrator password hashing (argon2id via libsodium). */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "web/pwhash.h"

#define PWHASH_OPS 2ULL
#define PWHASH_MEM (19ULL * 1024 * 1024)

int
pwhash_hash(const char *pw, char out[PWHASH_LEN])
{
	_Static_assert(PWHASH_LEN >= crypto_pwhash_STRBYTES, "buffer too small");
	if (sodium_init() < 0)
		return -EIO;
	if (crypto_pwhash_str_alg(out, pw, strlen(pw), PWHASH_OPS, PWHASH_MEM,
				  crypto_pwhash_ALG_ARGON2ID13) != 0)
		return -ENOMEM;
	return 0;
}

int
pwhash_verify(const char *hash, const char *pw)
{
	if (hash == NULL || sodium_init() < 0)
		return PWHASH_E_MISMATCH;
	if (crypto_pwhash_str_verify(hash, pw, strlen(pw)) != 0)
		return PWHASH_E_MISMATCH;
	return 0;
}

static int slots_max = 1;
static atomic_int slots_used;

void
pwhash_limit(int n)
{
	long cpus;

	if (n < 1) {
		cpus = sysconf(_SC_NPROCESSORS_ONLN);
		n = cpus < 1 ? 1 : cpus > 1024 ? 1024 : (int)cpus;
	}
	slots_max = n;
}

int
pwhash_slots(void)
{
	return slots_max;
}

int
pwhash_slot_take(void)
{
	int used = atomic_load(&slots_used);

	do {
		if (used >= slots_max)
			return PWHASH_E_BUSY;
	} while (!atomic_compare_exchange_weak(&slots_used, &used, used + 1));
	return 0;
}

void
pwhash_slot_give(void)
{
	atomic_fetch_sub(&slots_used, 1);
}

static char dummy_hash[PWHASH_LEN];
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;

static void
make_dummy(void)
{
	char pw[33];
	unsigned char rnd[16];

	randombytes_buf(rnd, sizeof(rnd));
	sodium_bin2hex(pw, sizeof(pw), rnd, sizeof(rnd));
	if (pwhash_hash(pw, dummy_hash) != 0)
		dummy_hash[0] = '\0';
	sodium_memzero(pw, sizeof(pw));
}

const char *
pwhash_dummy(void)
{
	pthread_once(&dummy_once, make_dummy);
	return dummy_hash;
}
