/* log.h: one line per event, key=value, to standard error. */
#ifndef SHOMEI_LOG_H
#define SHOMEI_LOG_H

enum log_level {
	LOG_DEBUG,
	LOG_INFO,
	LOG_WARN,
	LOG_ERROR,
	LOG__MAX,
};

/* Set the process name and the lowest level written ("debug".."error"). */
void log_init(const char *prog, const char *level);

/* The request id of this thread, included in every line while set (NULL clears). */
void log_set_request(const char *id);

/* fmt is key=value pairs; never pass secrets. */
void log_msg(enum log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
