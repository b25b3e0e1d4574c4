/* test-pwhash.c: argon2id hashing: verify, refuse, unique salts, parameters. */
#include "web/pwhash.h"
#include "tap.h"
#include "core/util.h"

int
main(void)
{
	char h1[PWHASH_LEN], h2[PWHASH_LEN];

	TAP_OK(pwhash_hash("abcd1234", h1) == 0, "hash");
	TAP_OK(strncmp(h1, "$argon2id$v=19$m=19456,t=2,", 27) == 0, "argon2id, 19 MiB, t=2 (%s)",
	       h1);
	TAP_OK(pwhash_verify(h1, "abcd1234") == 0, "right password verifies");
	TAP_OK(pwhash_verify(h1, "abcd1235") == PWHASH_E_MISMATCH, "wrong password refused");
	TAP_OK(pwhash_verify(h1, "") == PWHASH_E_MISMATCH, "empty password refused");
	TAP_OK(pwhash_verify("garbage", "abcd1234") == PWHASH_E_MISMATCH, "malformed hash refused");
	TAP_OK(pwhash_verify(NULL, "abcd1234") == PWHASH_E_MISMATCH, "no hash refused");
	TAP_OK(pwhash_hash("abcd1234", h2) == 0 && strcmp(h1, h2) != 0, "same password, new salt");
	TAP_OK(pwhash_dummy()[0] == '$' && pwhash_verify(pwhash_dummy(), "abcd1234") != 0,
	       "dummy hash never matches");
	TAP_OK(util_streq_ct("abc", "abc") && !util_streq_ct("abc", "abd") &&
		       !util_streq_ct("abc", "ab"),
	       "constant-time string equality");
	char tok[UTIL_TOKEN_LEN], tok2[UTIL_TOKEN_LEN];
	TAP_OK(util_token(tok) == 0 && strlen(tok) == 43 && util_token(tok2) == 0 &&
		       strcmp(tok, tok2) != 0,
	       "256-bit tokens, 43 base64url characters, different each time");
	TAP_OK(pwhash_slots() == 1 && pwhash_slot_take() == 0 &&
		       pwhash_slot_take() == PWHASH_E_BUSY,
	       "one slot before pwhash_limit: the second take is busy");
	pwhash_slot_give();
	pwhash_limit(3);
	int taken = 0;
	for (int i = 0; i < 5; i++)
		taken += pwhash_slot_take() == 0;
	TAP_OK(pwhash_slots() == 3 && taken == 3, "limit 3: 3 of 5 takes succeed (%d)", taken);
	pwhash_slot_give();
	TAP_OK(pwhash_slot_take() == 0 && pwhash_slot_take() == PWHASH_E_BUSY,
	       "a slot given back can be taken again, once");
	for (int i = 0; i < 3; i++)
		pwhash_slot_give();
	pwhash_limit(0);
	TAP_OK(pwhash_slots() >= 1, "limit 0: the number of CPUs (%d)", pwhash_slots());
	pwhash_limit(-5);
	TAP_OK(pwhash_slots() >= 1, "a negative limit: the number of CPUs too");
	TAP_OK(err_transient(PWHASH_E_BUSY) && !err_transient(PWHASH_E_MISMATCH),
	       "busy is transient, a mismatch permanent");
	return tap_done();
}
