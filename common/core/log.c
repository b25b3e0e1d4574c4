/* log.c: one line per event, key=value, to standard error. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/log.h"

static const char *log_prog = "shomei";
static enum log_level log_min = LOG_INFO;
static _Thread_local char log_req[40];

static const char *const level_names[LOG__MAX] = {"debug", "info", "warn", "error"};

void
log_init(const char *prog, const char *level)
{
	log_prog = prog;
	for (int i = 0; i < LOG__MAX; i++)
		if (level != NULL && strcmp(level, level_names[i]) == 0)
			log_min = (enum log_level)i;
}

void
log_set_request(const char *id)
{
	snprintf(log_req, sizeof(log_req), "%s", id ? id : "");
}

void
log_msg(enum log_level lvl, const char *fmt, ...)
{
	char line[1024], ts[32];
	struct timespec now;
	struct tm tm;
	va_list ap;
	int n;

	if (lvl < log_min || lvl >= LOG__MAX)
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	n = snprintf(line, sizeof(line), "ts=%s.%03ldZ prog=%s level=%s%s%s ", ts,
		     now.tv_nsec / 1000000, log_prog, level_names[lvl], log_req[0] ? " req=" : "",
		     log_req);
	if (n < 0 || (size_t)n >= sizeof(line))
		return;
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s\n", line);
}
