/* strbuf.c: checked string building: an append fits whole or not at all. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/strbuf.h"

void
strbuf_init(struct strbuf *b, char *buf, size_t cap)
{
	b->buf = buf;
	b->cap = cap;
	b->len = 0;
	b->over = cap == 0;
	if (cap > 0)
		buf[0] = '\0';
}

int
strbuf_printf(struct strbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->cap == 0) {
		b->over = 1;
		return -ENOSPC;
	}
	va_start(ap, fmt);
	n = vsnprintf(b->buf + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= b->cap - b->len) {
		b->buf[b->len] = '\0';
		b->over = 1;
		return -ENOSPC;
	}
	b->len += (size_t)n;
	return 0;
}

int
strbuf_add(struct strbuf *b, const char *s)
{
	return strbuf_printf(b, "%s", s);
}

int
strbuf_error(const struct strbuf *b)
{
	return b->over ? -ENOSPC : 0;
}
