/* log.c: one line per event to standard error: key=value text, or a JSON object. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>

#include "core/log.h"
#include "core/util.h"

static const char *log_prog = "shomei";
static enum log_level log_min = LOG_INFO;
static enum log_format log_fmt = LOG_FORMAT_TEXT;
static _Thread_local char log_req[40];

static const char *const level_names[LOG__MAX] = {"debug", "info", "warn", "error"};
const char *const log_format_words[] = {"text", "json", NULL};

void
log_init(const char *prog, const char *level, enum log_format format)
{
	log_prog = prog;
	log_fmt = format;
	for (int i = 0; i < LOG__MAX; i++)
		if (level != NULL && strcmp(level, level_names[i]) == 0)
			log_min = (enum log_level)i;
}

void
log_set_request(const char *id)
{
	snprintf(log_req, sizeof(log_req), "%s", id ? id : "");
}

/* --- the message split into fields -------------------------------------------------------- */

#define LOG_FIELDS 32
#define LOG_KEY 40
#define LOG_VALUES 4096

struct lfield {
	char key[LOG_KEY];
	size_t off, len; /* of the value in vals */
};

struct lsplit {
	struct lfield f[LOG_FIELDS];
	int n;
	char vals[LOG_VALUES];
	size_t used;
	int cut;   /* a value or a field did not fit */
	int vfull; /* the values' buffer is full: nothing more is taken */
	/* the parser */
	enum { S_SPACE, S_KEY, S_VSTART, S_VALUE, S_QUOTED } st;
	char key[LOG_KEY];
	size_t klen;
};

static int
is_key_char(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '.' || c == '-';
}

/* Full: the last value loses a UTF-8 sequence it holds only part of. */
static void
cut_values(struct lsplit *s)
{
	struct lfield *f = &s->f[s->n - 1];
	size_t i = s->used, need;
	unsigned char lead;

	s->cut = 1;
	s->vfull = 1;
	while (i > f->off && ((unsigned char)s->vals[i - 1] & 0xc0) == 0x80)
		i--;
	if (i == f->off)
		return;
	lead = (unsigned char)s->vals[i - 1];
	need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
	if (s->used - (i - 1) < need) {
		f->len -= s->used - (i - 1);
		s->used = i - 1;
	}
}

static void
add_byte(struct lsplit *s, char c)
{
	if (s->n == 0 || s->vfull) {
		s->cut = 1;
		return;
	}
	if (s->used >= sizeof(s->vals)) {
		cut_values(s);
		return;
	}
	/* only the last field grows: its value ends where the used bytes end */
	s->vals[s->used++] = c;
	s->f[s->n - 1].len++;
}

static void
new_field(struct lsplit *s, const char *key, size_t klen)
{
	if (s->n == LOG_FIELDS || s->vfull) {
		s->cut = 1;
		return;
	}
	if (klen >= LOG_KEY)
		klen = LOG_KEY - 1;
	memcpy(s->f[s->n].key, key, klen);
	s->f[s->n].key[klen] = '\0';
	s->f[s->n].off = s->used;
	s->f[s->n].len = 0;
	s->n++;
}

/* Text outside any key=value: joined with a space to the last value (or a field "msg"). */
static void
stray(struct lsplit *s, const char *text, size_t len)
{
	if (s->n == 0)
		new_field(s, "msg", 3);
	else if (s->f[s->n - 1].len > 0)
		add_byte(s, ' ');
	for (size_t i = 0; i < len; i++)
		add_byte(s, text[i]);
}

/* One byte of the formatted message; lit: it comes from fmt itself, not from a conversion. */
static void
feed(struct lsplit *s, char c, int lit)
{
	switch (s->st) {
	case S_SPACE:
		if (lit && c == ' ')
			return;
		if (lit && is_key_char((unsigned char)c)) {
			s->key[0] = c;
			s->klen = 1;
			s->st = S_KEY;
			return;
		}
		stray(s, "", 0);
		add_byte(s, c);
		s->st = S_VALUE;
		return;
	case S_KEY:
		if (lit && c == '=') {
			new_field(s, s->key, s->klen);
			s->st = S_VSTART;
			return;
		}
		if (lit && is_key_char((unsigned char)c) && s->klen < sizeof(s->key) - 1) {
			s->key[s->klen++] = c;
			return;
		}
		/* not a key after all: a word of text */
		stray(s, s->key, s->klen);
		s->st = S_VALUE;
		feed(s, c, lit);
		return;
	case S_VSTART:
		if (lit && c == '"') {
			s->st = S_QUOTED;
			return;
		}
		s->st = S_VALUE;
		feed(s, c, lit);
		return;
	case S_VALUE:
		if (lit && c == ' ') {
			s->st = S_SPACE;
			return;
		}
		add_byte(s, c);
		return;
	case S_QUOTED:
		if (lit && c == '"') {
			s->st = S_VALUE; /* anything up to the next space still belongs to it */
			return;
		}
		add_byte(s, c);
		return;
	}
}

static void
feed_str(struct lsplit *s, const char *p, int lit)
{
	for (; *p; p++)
		feed(s, *p, lit);
}

/*
 * Walk fmt: its own characters are the structure, each conversion is formatted alone (with its
 * flags, width, precision and length) and fed as value bytes.
 */
static void
split_message(struct lsplit *s, const char *fmt, va_list ap)
{
	char spec[32], tmp[1024];

	while (*fmt) {
		const char *start = fmt;
		size_t sl = 0;
		int len = 0; /* 0 none, 1 hh, 2 h, 3 l, 4 ll, 5 z, 6 j, 7 t, 8 L */

		if (*fmt != '%') {
			feed(s, *fmt++, 1);
			continue;
		}
		fmt++;
		if (*fmt == '%') {
			feed(s, '%', 1);
			fmt++;
			continue;
		}
		spec[sl++] = '%';
		while (*fmt && strchr("-+ #0", *fmt) && sl < 8)
			spec[sl++] = *fmt++;
		if (*fmt == '*') {
			sl += (size_t)snprintf(spec + sl, sizeof(spec) - sl, "%d", va_arg(ap, int));
			fmt++;
		} else {
			while (*fmt >= '0' && *fmt <= '9' && sl < 16)
				spec[sl++] = *fmt++;
		}
		if (*fmt == '.') {
			spec[sl++] = *fmt++;
			if (*fmt == '*') {
				sl += (size_t)snprintf(spec + sl, sizeof(spec) - sl, "%d",
						       va_arg(ap, int));
				fmt++;
			} else {
				while (*fmt >= '0' && *fmt <= '9' && sl < 26)
					spec[sl++] = *fmt++;
			}
		}
		if (sl > sizeof(spec) - 4)
			sl = sizeof(spec) - 4;
		if (fmt[0] == 'h' && fmt[1] == 'h') {
			len = 1;
			fmt += 2;
		} else if (fmt[0] == 'l' && fmt[1] == 'l') {
			len = 4;
			fmt += 2;
		} else {
			switch (*fmt) {
			case 'h':
				len = 2;
				break;
			case 'l':
				len = 3;
				break;
			case 'z':
				len = 5;
				break;
			case 'j':
				len = 6;
				break;
			case 't':
				len = 7;
				break;
			case 'L':
				len = 8;
				break;
			default:
				len = 0;
				break;
			}
			if (len)
				fmt++;
		}
		tmp[0] = '\0';
		switch (*fmt) {
		case 'd':
		case 'i':
			spec[sl++] = 'j';
			spec[sl++] = *fmt;
			spec[sl] = '\0';
			{
				intmax_t v = len == 3   ? (intmax_t)va_arg(ap, long)
					     : len == 4 ? (intmax_t)va_arg(ap, long long)
					     : len == 5 ? (intmax_t)va_arg(ap, ssize_t)
					     : len == 6 ? va_arg(ap, intmax_t)
					     : len == 7 ? (intmax_t)va_arg(ap, ptrdiff_t)
							: (intmax_t)va_arg(ap, int);
				snprintf(tmp, sizeof(tmp), spec, v);
			}
			break;
		case 'u':
		case 'x':
		case 'X':
		case 'o':
			spec[sl++] = 'j';
			spec[sl++] = *fmt;
			spec[sl] = '\0';
			{
				uintmax_t v = len == 3   ? (uintmax_t)va_arg(ap, unsigned long)
					      : len == 4 ? (uintmax_t)va_arg(ap, unsigned long long)
					      : len == 5 ? (uintmax_t)va_arg(ap, size_t)
					      : len == 6 ? va_arg(ap, uintmax_t)
					      : len == 7 ? (uintmax_t)va_arg(ap, ptrdiff_t)
							 : (uintmax_t)va_arg(ap, unsigned int);
				snprintf(tmp, sizeof(tmp), spec, v);
			}
			break;
		case 'c':
			spec[sl++] = 'c';
			spec[sl] = '\0';
			snprintf(tmp, sizeof(tmp), spec, va_arg(ap, int));
			break;
		case 's':
			spec[sl++] = 's';
			spec[sl] = '\0';
			{
				const char *v = va_arg(ap, const char *);

				if (sl == 2) { /* plain %s: the whole string, however long */
					feed_str(s, v ? v : "(null)", 0);
					fmt++;
					continue;
				}
				if (snprintf(tmp, sizeof(tmp), spec, v ? v : "(null)") >=
				    (int)sizeof(tmp))
					s->cut = 1;
			}
			break;
		case 'p':
			spec[sl++] = 'p';
			spec[sl] = '\0';
			snprintf(tmp, sizeof(tmp), spec, va_arg(ap, void *));
			break;
		case 'f':
		case 'F':
		case 'e':
		case 'E':
		case 'g':
		case 'G':
		case 'a':
		case 'A':
			if (len == 8) {
				spec[sl++] = 'L';
				spec[sl++] = *fmt;
				spec[sl] = '\0';
				snprintf(tmp, sizeof(tmp), spec, va_arg(ap, long double));
			} else {
				spec[sl++] = *fmt;
				spec[sl] = '\0';
				snprintf(tmp, sizeof(tmp), spec, va_arg(ap, double));
			}
			break;
		default: /* %n or unknown: the rest of fmt as it is, no more arguments read */
			feed_str(s, start, 1);
			return;
		}
		fmt++;
		feed_str(s, tmp, 0);
	}
}

/* --- JSON out ------------------------------------------------------------------------------ */

struct jout {
	char *buf;
	size_t cap; /* what text may use: room for the closing is kept back */
	size_t len;
	int full;
};

static int
jraw(struct jout *o, const char *p, size_t n)
{
	if (o->full || o->len + n > o->cap) {
		o->full = 1;
		return -1;
	}
	memcpy(o->buf + o->len, p, n);
	o->len += n;
	return 0;
}

/* A JSON string's content: ", \ and control characters escaped, valid UTF-8 kept as it is,
 * any other byte as U+FFFD. Each character goes in whole or not at all. */
static void
jstr(struct jout *o, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;

	for (size_t i = 0; i < n && !o->full;) {
		char esc[8];
		size_t l;

		if (p[i] == '"' || p[i] == '\\') {
			esc[0] = '\\';
			esc[1] = (char)p[i];
			jraw(o, esc, 2);
			i++;
		} else if (p[i] < 0x20 || p[i] == 0x7f) {
			const char *named = p[i] == '\n'   ? "\\n"
					    : p[i] == '\r' ? "\\r"
					    : p[i] == '\t' ? "\\t"
							   : NULL;

			if (named)
				jraw(o, named, 2);
			else {
				snprintf(esc, sizeof(esc), "\\u%04x", p[i]);
				jraw(o, esc, 6);
			}
			i++;
		} else if ((l = util_utf8_seq(p + i, n - i)) > 0) {
			jraw(o, s + i, l);
			i += l;
		} else {
			jraw(o, "\\ufffd", 6);
			i++;
		}
	}
}

static void
jmember(struct jout *o, const char *prefix, const char *key, const char *val, size_t vlen)
{
	size_t mark = o->len;

	if (o->full)
		return;
	jraw(o, ",\"", 2);
	jstr(o, prefix, strlen(prefix));
	jstr(o, key, strlen(key));
	jraw(o, "\":\"", 3);
	if (o->full) { /* not even the name fitted: the member is left out */
		o->len = mark;
		return;
	}
	jstr(o, val, vlen);
	/* the value may be cut, but the string is always closed (room kept back for it) */
	o->buf[o->len++] = '"';
}

/* The members the line has anyway; a field of the message with one of these names is written
 * as field_<name>. */
static const char *const reserved[] = {"time",  "level",     "service", "req",
				       "event", "truncated", NULL};

static int
is_reserved(const char *k)
{
	for (int i = 0; reserved[i]; i++)
		if (strcmp(k, reserved[i]) == 0)
			return 1;
	return 0;
}

static size_t
render_json(char *out, size_t cap, const char *ts, const char *prog, enum log_level lvl,
	    const char *req, const char *fmt, va_list ap)
{
	/* kept back: a closing quote, ,"truncated":"true"} and the NUL */
	static const char tail[] = ",\"truncated\":\"true\"}";
	struct lsplit *s, mem;
	struct jout o;
	int ev = -1;

	if (cap < 256) {
		if (cap > 0)
			out[0] = '\0';
		return 0;
	}
	s = &mem;
	memset(s, 0, sizeof(*s));
	s->st = S_SPACE;
	split_message(s, fmt, ap);
	if (s->st == S_KEY) /* a last word with no '=' */
		stray(s, s->key, s->klen);
	for (int i = 0; i < s->n && ev < 0; i++)
		if (strcmp(s->f[i].key, "event") == 0)
			ev = i;

	o.buf = out;
	o.cap = cap - sizeof(tail) - 1;
	o.len = 0;
	o.full = 0;
	jraw(&o, "{\"time\":\"", 9);
	jstr(&o, ts, strlen(ts));
	jraw(&o, "\",\"level\":\"", 11);
	jstr(&o, level_names[lvl], strlen(level_names[lvl]));
	jraw(&o, "\",\"service\":\"", 13);
	jstr(&o, prog, strlen(prog));
	jraw(&o, "\"", 1);
	if (req && req[0])
		jmember(&o, "", "req", req, strlen(req));
	if (ev >= 0)
		jmember(&o, "", "event", s->vals + s->f[ev].off, s->f[ev].len);
	else
		jmember(&o, "", "event", "log", 3);
	for (int i = 0; i < s->n; i++) {
		if (i == ev)
			continue;
		jmember(&o, is_reserved(s->f[i].key) ? "field_" : "", s->f[i].key,
			s->vals + s->f[i].off, s->f[i].len);
	}
	if (o.full || s->cut) {
		memcpy(out + o.len, tail, sizeof(tail));
		o.len += sizeof(tail) - 1;
	} else {
		out[o.len++] = '}';
		out[o.len] = '\0';
	}
	return o.len;
}

size_t
log_render(char *out, size_t cap, enum log_format format, const char *ts, const char *prog,
	   enum log_level lvl, const char *req, const char *fmt, va_list ap)
{
	int n;

	if ((unsigned)lvl >= LOG__MAX)
		lvl = LOG_ERROR;
	if (format == LOG_FORMAT_JSON)
		return render_json(out, cap, ts, prog, lvl, req, fmt, ap);
	n = snprintf(out, cap, "ts=%s prog=%s level=%s%s%s ", ts, prog, level_names[lvl],
		     req[0] ? " req=" : "", req);
	if (n < 0 || (size_t)n >= cap)
		return cap > 0 ? strlen(out) : 0;
	vsnprintf(out + n, cap - (size_t)n, fmt, ap);
	return strlen(out);
}

void
log_msg(enum log_level lvl, const char *fmt, ...)
{
	char line[8192], ts[48], sec[32];
	struct timespec now;
	struct tm tm;
	va_list ap;
	size_t n;

	if (lvl < log_min || lvl >= LOG__MAX)
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(sec, sizeof(sec), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(ts, sizeof(ts), "%s.%03ldZ", sec, now.tv_nsec / 1000000);
	va_start(ap, fmt);
	/* text lines as before: at most 1023 bytes */
	n = log_render(line, log_fmt == LOG_FORMAT_JSON ? sizeof(line) : 1024, log_fmt, ts,
		       log_prog, lvl, log_req, fmt, ap);
	va_end(ap);
	line[n] = '\n';
	fwrite(line, 1, n + 1, stderr);
}
