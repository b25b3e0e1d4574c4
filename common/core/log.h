/* log.h: one line per event to standard error: key=value text, or a JSON object (log_format). */
#ifndef SHOMEI_LOG_H
#define SHOMEI_LOG_H

#include <stdarg.h>
#include <stddef.h>

enum log_level {
	LOG_DEBUG,
	LOG_INFO,
	LOG_WARN,
	LOG_ERROR,
	LOG__MAX,
};

/* The configuration key log_format: "text" (key=value) or "json" (one object per line). */
enum log_format {
	LOG_FORMAT_TEXT,
	LOG_FORMAT_JSON,
};
extern const char *const log_format_words[]; /* "text", "json", NULL: for CFG_KEY_ENUM */

/* Set the process name, the lowest level written ("debug".."error") and the format. */
void log_init(const char *prog, const char *level, enum log_format format);

/* The request id of this thread, included in every line while set (NULL clears). */
void log_set_request(const char *id);

/*
 * fmt is key=value pairs separated by spaces, a value that may hold spaces in double quotes
 * (reason=\"%s\"); never pass secrets. In JSON every pair becomes a string member; what a
 * conversion (%s, %d, ...) gives is always part of a value, whatever characters it holds.
 */
void log_msg(enum log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * The line log_msg writes, without the newline, into out (cap bytes, NUL-terminated): ts is
 * the time (RFC 3339), req the request id ("" none); a JSON line needs cap >= 256. A JSON line
 * always ends with its closing brace: a line longer than cap is cut at a whole character inside a
 * value and marked "truncated":"true". Returns the length written.
 */
size_t log_render(char *out, size_t cap, enum log_format format, const char *ts, const char *prog,
		  enum log_level lvl, const char *req, const char *fmt, va_list ap)
	__attribute__((format(printf, 8, 0)));

#endif
