/* err.c: which outcomes are worth retrying, and the names of the module codes. */
#include <errno.h>
#include <string.h>

#include "core/err.h"

static const struct {
	int code;
	int transient;
	const char *name;
} codes[] = {
#define TRANSIENT 1
#define PERMANENT 0
#define ERR_ROW_(name, value, kind, text) {(value), kind, #name},
	ERR_CODES(ERR_ROW_)
#undef ERR_ROW_
#undef TRANSIENT
#undef PERMANENT
};

int
err_transient(int rc)
{
	switch (rc) {
	case -EIO:
	case -EAGAIN:
	case -ETIMEDOUT:
	case -EINTR:
	case -ENOMEM:
	case -EPIPE:
	case -ECONNREFUSED:
	case -ECONNRESET:
	case -ENOENT:
	case -EBUSY:
	case -ENOTCONN:
	case -ENODATA:
	case -EPROTO:
		return 1;
	default:
		break;
	}
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (codes[i].code == rc)
			return codes[i].transient;
	return 0;
}

const char *
err_name(int rc)
{
	if (rc == 0)
		return "ok";
	if (rc < 0)
		return strerror(-rc);
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (codes[i].code == rc)
			return codes[i].name;
	return "unknown";
}
