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
	return tap_done();
}
