/*
 * strbuf.h: checked string building into a caller's buffer. An append that does not fit writes
 * nothing, leaves the text as it was and marks the buffer: truncation is an error the caller
 * sees (strbuf_error), never a silently shortened string or an offset past the end.
 */
#ifndef SHOMEI_STRBUF_H
#define SHOMEI_STRBUF_H

#include <stddef.h>

#include "core/err.h"

struct strbuf {
	char *buf;  /* always NUL-terminated */
	size_t cap; /* bytes at buf, the NUL included */
	size_t len; /* bytes of text */
	int over;   /* an append did not fit */
};

/* Start an empty text in buf (cap >= 1). */
void strbuf_init(struct strbuf *b, char *buf, size_t cap);

/* Append formatted text; 0, or -ENOSPC when it does not fit (nothing is appended then). */
int strbuf_printf(struct strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Append s; 0 or -ENOSPC, as strbuf_printf. */
int strbuf_add(struct strbuf *b, const char *s);

/* 0, or -ENOSPC when any append so far did not fit. */
int strbuf_error(const struct strbuf *b);

#endif
