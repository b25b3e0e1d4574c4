/*
 * main.c: shomei-crlsync keeps a relying party's CRL bundle current (issue 10, "Relying
 * parties"): a conditional GET every --interval seconds, the body checked as PEM CRLs, the file
 * replaced atomically, then the reload command run without a shell. Errors back off; SIGTERM
 * and SIGINT end it cleanly. One key=value line per event on standard error.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "extern.h"

static volatile sig_atomic_t g_stop;

static void
on_signal(int sig)
{
	(void)sig;
	g_stop = 1;
}

/* One log line: ts, level, event, then the caller's key=value pairs. */
static void
logkv(const char *level, const char *event, const char *fmt, ...)
{
	struct timespec ts;
	struct tm tm;
	char stamp[32], rest[2048] = "";
	va_list ap;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	if (fmt != NULL) {
		va_start(ap, fmt);
		vsnprintf(rest, sizeof(rest), fmt, ap);
		va_end(ap);
	}
	fprintf(stderr, "ts=%s.%03ldZ level=%s event=%s%s%s\n", stamp, ts.tv_nsec / 1000000, level,
		event, rest[0] ? " " : "", rest);
	fflush(stderr);
}

/* s as a double-quoted log value (", \ and control characters escaped). */
static const char *
q(const char *s, char *buf, size_t len)
{
	size_t o = 0;

	buf[o++] = '"';
	for (; s != NULL && *s != '\0' && o + 6 < len; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			buf[o++] = '\\';
			buf[o++] = (char)c;
		} else if (c < 0x20 || c == 0x7f) {
			o += (size_t)snprintf(buf + o, len - o, "\\x%02x", c);
		} else {
			buf[o++] = (char)c;
		}
	}
	buf[o++] = '"';
	buf[o] = '\0';
	return buf;
}

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/* Run argv (execvp, no shell) and wait for it, CRLSYNC_RELOAD_TIMEOUT s at most. 0 when it
 * exited 0; otherwise -1 with its status described in why. */
static int
run_reload(char **argv, char *why, size_t len)
{
	double end = now_ms() + CRLSYNC_RELOAD_TIMEOUT * 1000.0;
	int st = 0;
	pid_t pid, r;

	fflush(NULL);
	if ((pid = fork()) < 0) {
		snprintf(why, len, "fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		struct sigaction sa;
		sigset_t none;
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = SIG_DFL;
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGPIPE, &sa, NULL);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		execvp(argv[0], argv);
		fprintf(stderr, "shomei-crlsync: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	for (;;) {
		r = waitpid(pid, &st, WNOHANG);
		if (r == pid)
			break;
		if (r < 0 && errno != EINTR) {
			snprintf(why, len, "waitpid: %s", strerror(errno));
			return -1;
		}
		if (now_ms() > end) {
			kill(pid, SIGKILL);
			while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
				;
			snprintf(why, len, "killed after %d s", CRLSYNC_RELOAD_TIMEOUT);
			return -1;
		}
		usleep(10000);
	}
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 0;
	if (WIFEXITED(st))
		snprintf(why, len, "exit status %d", WEXITSTATUS(st));
	else
		snprintf(why, len, "killed by signal %d", WIFSIGNALED(st) ? WTERMSIG(st) : 0);
	return -1;
}

struct state {
	struct crlsync_fetch f;
	int reload_pending;
	int polls;
	struct stat known; /* the file as we last wrote or checked it */
	int have_known;
};

/* Remember the file as it is now (it holds what the validators describe). */
static void
remember(const struct crlsync_opts *o, struct state *s)
{
	s->have_known = stat(o->out, &s->known) == 0;
}

/* 1 when the file is no longer the one we wrote (removed, replaced or edited by someone). */
static int
file_changed(const struct crlsync_opts *o, const struct state *s)
{
	struct stat st;

	if (!s->have_known || stat(o->out, &st) != 0)
		return 1;
	return st.st_ino != s->known.st_ino || st.st_dev != s->known.st_dev ||
	       st.st_size != s->known.st_size || st.st_mtim.tv_sec != s->known.st_mtim.tv_sec ||
	       st.st_mtim.tv_nsec != s->known.st_mtim.tv_nsec;
}

static int
reload(const struct crlsync_opts *o, struct state *s)
{
	char why[256], b[512], b2[600];
	double t0 = now_ms();

	if (run_reload(o->reload, why, sizeof(why)) != 0) {
		logkv("error", "reload_failed", "command=%s error=%s",
		      q(o->reload[0], b, sizeof(b)), q(why, b2, sizeof(b2)));
		return -1;
	}
	s->reload_pending = 0;
	logkv("info", "reloaded", "command=%s ms=%.0f", q(o->reload[0], b, sizeof(b)),
	      now_ms() - t0);
	return 0;
}

/* One poll: 0 when everything worked (the file is current and reloaded), -1 otherwise. */
static int
poll_once(const struct crlsync_opts *o, struct state *s)
{
	struct crlsync_pem info;
	char why[512], b1[512], b2[512];
	double t0 = now_ms();
	int rc;

	s->polls++;
	/* a file someone removed or changed is written again: ask for the whole body */
	if (s->f.etag[0] != '\0' || s->f.last_modified[0] != '\0') {
		if (file_changed(o, s)) {
			s->f.etag[0] = s->f.last_modified[0] = '\0';
			logkv("warning", "file_changed", "out=%s", o->out);
		}
	}
	if (crlsync_get(o, &s->f, &g_stop) != 0) {
		if (g_stop)
			return 0;
		logkv("error", "fetch_failed", "url=%s error=%s", q(o->url, b1, sizeof(b1)),
		      q(s->f.error, b2, sizeof(b2)));
		return -1;
	}
	if (s->f.status == 304) {
		if (o->verbose)
			logkv("info", "not_modified", "ms=%.0f", now_ms() - t0);
		return s->reload_pending && o->reload ? reload(o, s) : 0;
	}
	if (s->f.status != 200) {
		logkv("error", "fetch_failed", "url=%s status=%ld", q(o->url, b1, sizeof(b1)),
		      s->f.status);
		return -1;
	}
	if (crlsync_check(s->f.body, s->f.len, &info, why, sizeof(why)) != 0) {
		/* ask for the whole body again next time, and keep the old file */
		s->f.etag[0] = s->f.last_modified[0] = '\0';
		logkv("error", "refused", "url=%s bytes=%zu reason=%s kept=%s",
		      q(o->url, b1, sizeof(b1)), s->f.len, q(why, b2, sizeof(b2)), o->out);
		return -1;
	}
	if (info.earliest_next != 0 && info.earliest_next < time(NULL))
		logkv("warning", "expired", "reason=\"a CRL in the bundle is past its nextUpdate\"");
	if (crlsync_same(o->out, s->f.body, s->f.len)) {
		remember(o, s);
		if (s->polls == 1 || o->verbose)
			logkv("info", "unchanged", "out=%s crls=%d entries=%lld", o->out, info.crls,
			      info.entries);
		return s->reload_pending && o->reload ? reload(o, s) : 0;
	}
	if ((rc = crlsync_write(o->out, s->f.body, s->f.len)) != 0) {
		s->f.etag[0] = s->f.last_modified[0] = '\0';
		logkv("error", "write_failed", "out=%s error=%s", o->out,
		      q(strerror(-rc), b1, sizeof(b1)));
		return -1;
	}
	remember(o, s);
	logkv("info", "updated", "out=%s crls=%d entries=%lld bytes=%zu etag=%s ms=%.0f", o->out,
	      info.crls, info.entries, s->f.len, q(s->f.etag, b1, sizeof(b1)), now_ms() - t0);
	if (o->reload == NULL)
		return 0;
	s->reload_pending = 1;
	return reload(o, s);
}

/* Sleep seconds, in slices, until then or a signal. */
static void
pause_for(int seconds)
{
	double end = now_ms() + seconds * 1000.0;

	while (!g_stop) {
		double left = end - now_ms();
		struct timespec ts;
		if (left <= 0)
			break;
		if (left > 200)
			left = 200;
		ts.tv_sec = 0;
		ts.tv_nsec = (long)(left * 1e6);
		nanosleep(&ts, NULL);
	}
}

int
main(int argc, char **argv)
{
	struct crlsync_opts o;
	struct state s;
	struct sigaction sa;
	char err[512], b[512];
	int rc, failures = 0, result = 0;

	rc = crlsync_parse_args(argc, argv, &o, err, sizeof(err));
	if (rc == 1)
		return 0;
	if (rc != 0) {
		fprintf(stderr, "shomei-crlsync: %s\n(shomei-crlsync --help explains the options)\n",
			err);
		return 1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal; /* no SA_RESTART: a sleep ends at once */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	if (crlsync_fetch_init() != 0) {
		fprintf(stderr, "shomei-crlsync: cannot initialise libcurl\n");
		crlsync_opts_free(&o);
		return 1;
	}
	memset(&s, 0, sizeof(s));
	logkv("info", "start", "url=%s out=%s interval=%d reload=%s once=%d",
	      q(o.url, err, sizeof(err)), o.out, o.interval,
	      q(o.reload ? o.reload[0] : "", b, sizeof(b)), o.once);
	while (!g_stop) {
		if (poll_once(&o, &s) == 0) {
			failures = 0;
		} else {
			failures++;
			result = 2;
		}
		if (o.once)
			break;
		int wait = o.interval;
		for (int k = 0; k < failures && wait < CRLSYNC_MAX_BACKOFF; k++)
			wait *= 2;
		if (wait > CRLSYNC_MAX_BACKOFF && o.interval < CRLSYNC_MAX_BACKOFF)
			wait = CRLSYNC_MAX_BACKOFF;
		if (failures > 0)
			logkv("info", "backoff", "failures=%d wait=%d", failures, wait);
		pause_for(wait);
	}
	logkv("info", "stop", "reason=%s polls=%d", g_stop ? "signal" : "once", s.polls);
	free(s.f.body);
	crlsync_fetch_cleanup();
	crlsync_opts_free(&o);
	return o.once ? result : 0;
}
