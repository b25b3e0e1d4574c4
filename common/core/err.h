/* err.h: shomei's error contract, and every module's codes in one table. */
#ifndef SHOMEI_ERR_H
#define SHOMEI_ERR_H

/*
 * Every int function in shomei returns one of three things:
 *
 *   0        success;
 *   -errno   the unexpected (an I/O error, a lost connection, no memory): propagate it
 *            unchanged; err_transient() says which ones may succeed when tried again;
 *   > 0      an expected outcome the caller must handle, one of the codes below. Each module
 *            owns a range of 100 (its base + 1 ..), so no two modules share a value and a code
 *            names its module wherever it ends up.
 *
 * Each code is classified: TRANSIENT (the same call may succeed later: retry, answer 503) or
 * PERMANENT (it never will: fail now, answer 4xx). A new code goes into this table, in its
 * module's range; tests/unit/test-err.c checks that values are unique and inside their range.
 * Mapping outcomes to HTTP statuses is the handlers' business, not this table's.
 */

#define ERR_RANGE 100

/* The module ranges. */
enum err_base {
	ERR_BASE_CFG = 100,
	ERR_BASE_JSON = 200,
	ERR_BASE_DB = 300,
	ERR_BASE_HTTP = 400,
	ERR_BASE_VALID = 500,
	ERR_BASE_SESSION = 600,
	ERR_BASE_NETACL = 700,
	ERR_BASE_PWHASH = 800,
	ERR_BASE_X509 = 900,
	ERR_BASE_P12 = 1000,
	ERR_BASE_SECRET = 1100,
	ERR_BASE_SIGNER = 1200,
	ERR_BASE_CRLPUB = 1300,
	ERR_BASE_ZIPW = 1400, /* services/download/zipw.c */
	ERR_BASE_CTL = 1500,  /* tools/shomeictl */
	ERR_BASE_LIFECYCLE = 1600,
	ERR_BASE_MIGRATE = 1700,
	ERR_BASE_CSV = 1800,
	ERR_BASE_UPLOAD = 1900,
};

/* X(name, value, TRANSIENT or PERMANENT, what it means) */
#define ERR_CODES(X)                                                                               \
	X(CFG_E_FILE, ERR_BASE_CFG + 1, PERMANENT, "the configuration file cannot be read")        \
	X(CFG_E_SYNTAX, ERR_BASE_CFG + 2, PERMANENT, "a configuration line is not key = value")    \
	X(CFG_E_KEY, ERR_BASE_CFG + 3, PERMANENT, "an unknown configuration key or section")       \
	X(CFG_E_VALUE, ERR_BASE_CFG + 4, PERMANENT, "a configuration value outside its range")     \
	X(JSON_E_SYNTAX, ERR_BASE_JSON + 1, PERMANENT, "not JSON, or not an object")               \
	X(JSON_E_LIMIT, ERR_BASE_JSON + 2, PERMANENT, "JSON nested too deep or too many values")   \
	X(DB_E_NOTFOUND, ERR_BASE_DB + 1, PERMANENT, "no row where one was expected")              \
	X(DB_E_CONFLICT, ERR_BASE_DB + 2, PERMANENT, "a constraint refused the change")            \
	X(HTTP_E_TOOBIG, ERR_BASE_HTTP + 1, PERMANENT, "the request body is too large")            \
	X(HTTP_E_ABSENT, ERR_BASE_HTTP + 2, PERMANENT, "no such query parameter")                  \
	X(HTTP_E_TOOLONG, ERR_BASE_HTTP + 3, PERMANENT, "a query value longer than its buffer")    \
	X(HTTP_E_ENCODING, ERR_BASE_HTTP + 4, PERMANENT,                                           \
	  "a query value badly encoded or not UTF-8")                                              \
	X(VALID_E_FORMAT, ERR_BASE_VALID + 1, PERMANENT, "a value without the required form")      \
	X(VALID_E_RANGE, ERR_BASE_VALID + 2, PERMANENT, "a value outside what is allowed")         \
	X(SESSION_E_NONE, ERR_BASE_SESSION + 1, PERMANENT, "no such session, or it has expired")   \
	X(NETACL_E_FORMAT, ERR_BASE_NETACL + 1, PERMANENT, "not an address or network")            \
	X(NETACL_E_PREFIX, ERR_BASE_NETACL + 2, PERMANENT, "a prefix length too long")             \
	X(NETACL_E_HOSTBITS, ERR_BASE_NETACL + 3, PERMANENT, "host bits right of the prefix")      \
	X(PWHASH_E_MISMATCH, ERR_BASE_PWHASH + 1, PERMANENT, "the password does not match")        \
	X(PWHASH_E_BUSY, ERR_BASE_PWHASH + 2, TRANSIENT, "every password check slot is taken")     \
	X(X509_E_INVALID, ERR_BASE_X509 + 1, PERMANENT, "input that cannot be encoded")            \
	X(X509_E_PARSE, ERR_BASE_X509 + 2, PERMANENT, "PEM or DER that does not parse")            \
	X(P12_E_INVALID, ERR_BASE_P12 + 1, PERMANENT, "key and certificate do not match")          \
	X(SECRET_E_MODE, ERR_BASE_SECRET + 1, PERMANENT, "a key file open to group or others")     \
	X(SECRET_E_FORMAT, ERR_BASE_SECRET + 2, PERMANENT, "a key file or blob malformed")         \
	X(SECRET_E_AUTH, ERR_BASE_SECRET + 3, PERMANENT, "a sealed blob does not authenticate")    \
	X(SIGNER_E_REFUSED, ERR_BASE_SIGNER + 1, PERMANENT, "the signer refused (policy)")         \
	X(CRLPUB_E_NOCA, ERR_BASE_CRLPUB + 1, PERMANENT, "no active CA of that kind yet")          \
	X(CRLPUB_E_SIGN, ERR_BASE_CRLPUB + 2, TRANSIENT, "the CRL could not be signed")            \
	X(ZIPW_E_LIMIT, ERR_BASE_ZIPW + 1, PERMANENT, "beyond the ZIP format's limits")            \
	X(CTL_E_NOTFOUND, ERR_BASE_CTL + 1, PERMANENT, "shomeictl: no such object")                \
	X(CTL_E_EXISTS, ERR_BASE_CTL + 2, PERMANENT, "shomeictl: the object exists")               \
	X(CTL_E_REPORTED, ERR_BASE_CTL + 3, PERMANENT, "shomeictl: failed, message printed")       \
	X(LIFECYCLE_E_STATUS, ERR_BASE_LIFECYCLE + 1, PERMANENT, "not a certificate status")       \
	X(LIFECYCLE_E_TRANSITION, ERR_BASE_LIFECYCLE + 2, PERMANENT,                               \
	  "a status change not allowed")                                                           \
	X(MIGRATE_E_DIR, ERR_BASE_MIGRATE + 1, PERMANENT,                                          \
	  "the migrations directory is unreadable")                                                \
	X(MIGRATE_E_TWICE, ERR_BASE_MIGRATE + 2, PERMANENT, "two migrations with one version")     \
	X(MIGRATE_E_FILE, ERR_BASE_MIGRATE + 3, PERMANENT, "a migration file unreadable or large") \
	X(MIGRATE_E_SQL, ERR_BASE_MIGRATE + 4, PERMANENT,                                          \
	  "a migration failed and was rolled back")                                                \
	X(CSV_E_ENCODING, ERR_BASE_CSV + 1, PERMANENT, "text neither UTF-8 nor CP932")             \
	X(CSV_E_QUOTE, ERR_BASE_CSV + 2, PERMANENT, "a quoted CSV field without its end")          \
	X(UPLOAD_E_FORMAT, ERR_BASE_UPLOAD + 1, PERMANENT, "not a multipart/form-data body")       \
	X(UPLOAD_E_ABSENT, ERR_BASE_UPLOAD + 2, PERMANENT, "no form part of that name")

enum err_code {
#define ERR_ENUM_(name, value, kind, text) name = (value),
	ERR_CODES(ERR_ENUM_)
#undef ERR_ENUM_
};

/*
 * 1 when rc may succeed if the same call is made again later: a transient module code, or
 * -EIO, -EAGAIN, -ETIMEDOUT, -EINTR, -ENOMEM, -EPIPE, -ECONNREFUSED, -ECONNRESET, -ENOENT
 * (a socket not there yet), -EBUSY, -ENOTCONN, -ENODATA (a peer that closed before answering),
 * -EPROTO (an answer cut short). 0 for success, permanent codes and other -errno.
 */
int err_transient(int rc);

/* The name of a module code ("DB_E_NOTFOUND"), strerror's text for -errno, "ok" for 0. */
const char *err_name(int rc);

#endif
