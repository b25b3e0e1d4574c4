/* test-err.c: the error contract: every code unique, inside its module's range, classified. */
#include <errno.h>
#include <string.h>

#include "core/err.h"
#include "tap.h"

static const struct {
	int code;
	const char *name;
} codes[] = {
#define ROW_(name, value, kind, text) {(value), #name},
	ERR_CODES(ROW_)
#undef ROW_
};
#define NCODES (sizeof(codes) / sizeof(codes[0]))

int
main(void)
{
	int dup = 0, range = 0, named = 0;

	for (size_t i = 0; i < NCODES; i++) {
		for (size_t j = i + 1; j < NCODES; j++)
			dup += codes[i].code == codes[j].code;
		/* the range's base is the hundreds; a code is never the base itself */
		range += codes[i].code % ERR_RANGE == 0 || codes[i].code < ERR_RANGE;
		named += strcmp(err_name(codes[i].code), codes[i].name) == 0;
	}
	TAP_OK(NCODES >= 30, "%zu module codes in the table", NCODES);
	TAP_OK(dup == 0, "no two codes share a value");
	TAP_OK(range == 0, "every code lies inside a module's range, past its base");
	TAP_OK((size_t)named == NCODES, "err_name names every code");
	TAP_OK(DB_E_NOTFOUND != SIGNER_E_REFUSED && DB_E_NOTFOUND != X509_E_INVALID &&
		       P12_E_INVALID != SESSION_E_NONE && X509_E_INVALID != SESSION_E_NONE,
	       "the codes that were all 1 before differ now");
	TAP_OK(DB_E_NOTFOUND / ERR_RANGE == ERR_BASE_DB / ERR_RANGE &&
		       SIGNER_E_REFUSED / ERR_RANGE == ERR_BASE_SIGNER / ERR_RANGE,
	       "a code's hundreds name its module");

	TAP_OK(err_transient(-EIO) && err_transient(-EAGAIN) && err_transient(-ETIMEDOUT) &&
		       err_transient(-ECONNREFUSED) && err_transient(-ENOENT),
	       "lost connections, time-outs and a socket not there yet are transient");
	TAP_OK(err_transient(-ENODATA) && err_transient(-EPROTO),
	       "a peer that closed or cut its answer short is transient");
	TAP_OK(!err_transient(-EINVAL) && !err_transient(-EMSGSIZE) &&
		       !err_transient(-ENAMETOOLONG),
	       "bad arguments, oversized messages and names too long are permanent");
	TAP_OK(!err_transient(0), "success is not an error to retry");
	TAP_OK(!err_transient(DB_E_NOTFOUND) && !err_transient(SIGNER_E_REFUSED) &&
		       !err_transient(X509_E_INVALID) && !err_transient(VALID_E_FORMAT),
	       "refusals and missing rows are permanent");
	TAP_OK(err_transient(CRLPUB_E_SIGN), "a CRL the signer could not sign is transient");
	TAP_OK(!err_transient(123456), "an unknown code is not retried");
	TAP_OK(strcmp(err_name(0), "ok") == 0 && strcmp(err_name(-ENOENT), strerror(ENOENT)) == 0 &&
		       strcmp(err_name(99999), "unknown") == 0,
	       "err_name for success, -errno and an unknown code");
	return tap_done();
}
