/*
 * fake-redis.h: a scripted stand-in for Redis on a unix socket, for the tests of kv and of what
 * uses it: each command received is logged (its arguments joined by spaces) and answered with
 * the next line of the script, raw RESP, or FAKE_CLOSE (hang up without answering, as a Redis
 * that went away does). Past the end of the script every command is answered with an error.
 * One connection is served at a time.
 */
#ifndef SHOMEI_FAKE_REDIS_H
#define SHOMEI_FAKE_REDIS_H

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define FAKE_CLOSE "<close>"
#define FAKE_LOG_MAX 32
#define FAKE_LINE_MAX 1024

struct fake_redis {
	char dir[64];
	char path[100]; /* fits sun_path */
	int fd;
	pthread_t tid;
	atomic_int stop;
	pthread_mutex_t lock;
	const char *const *script; /* NULL-terminated */
	int next;
	int conns; /* connections accepted */
	int ncmds;
	char log[FAKE_LOG_MAX][FAKE_LINE_MAX];
};

/* Read one byte from fd through a small buffer; -1 at EOF, on an error or when stopped. */
struct fake_in {
	int fd;
	atomic_int *stop;
	unsigned char buf[4096];
	size_t len, pos;
};

static inline int
fake_getc(struct fake_in *in)
{
	struct pollfd p = {.fd = in->fd, .events = POLLIN};

	if (in->pos == in->len) {
		while (poll(&p, 1, 50) != 1)
			if (atomic_load(in->stop))
				return -1;
		ssize_t n = read(in->fd, in->buf, sizeof(in->buf));
		if (n <= 0)
			return -1;
		in->len = (size_t)n;
		in->pos = 0;
	}
	return in->buf[in->pos++];
}

/* A RESP line ("*3", "$4") without its CRLF as a number after the type byte; -1 on EOF. */
static inline long
fake_number(struct fake_in *in, int type)
{
	long v = 0;
	int c = fake_getc(in);

	if (c != type)
		return -1;
	while ((c = fake_getc(in)) >= '0' && c <= '9')
		v = v * 10 + (c - '0');
	return c == '\r' && fake_getc(in) == '\n' ? v : -1;
}

/* One command (a RESP array of bulk strings) as "ARG ARG ..." into line; 0, -1 at EOF. */
static inline int
fake_command(struct fake_in *in, char *line, size_t len)
{
	long argc = fake_number(in, '*');
	size_t used = 0;

	if (argc < 0)
		return -1;
	line[0] = '\0';
	for (long i = 0; i < argc; i++) {
		long n = fake_number(in, '$');
		if (n < 0)
			return -1;
		for (long j = 0; j < n + 2; j++) { /* the bytes and their CRLF */
			int c = fake_getc(in);
			if (c < 0)
				return -1;
			if (j < n && used + 2 < len)
				line[used++] = c == '\0' ? '0' : (char)c;
		}
		if (i + 1 < argc && used + 2 < len)
			line[used++] = ' ';
		line[used] = '\0';
	}
	return 0;
}

/* The next scripted answer, and the command into the log. */
static inline const char *
fake_next(struct fake_redis *f, const char *cmd)
{
	const char *a = "-ERR the fake's script has ended\r\n";

	pthread_mutex_lock(&f->lock);
	if (f->ncmds < FAKE_LOG_MAX)
		snprintf(f->log[f->ncmds], sizeof(f->log[0]), "%s", cmd);
	f->ncmds++;
	if (f->script[f->next] != NULL)
		a = f->script[f->next++];
	pthread_mutex_unlock(&f->lock);
	return a;
}

static inline void
fake_serve(struct fake_redis *f, int c)
{
	struct fake_in in = {.fd = c, .stop = &f->stop};
	char line[FAKE_LINE_MAX];

	while (fake_command(&in, line, sizeof(line)) == 0) {
		const char *a = fake_next(f, line);
		if (strcmp(a, FAKE_CLOSE) == 0)
			break;
		if (write(c, a, strlen(a)) < 0)
			break;
	}
	close(c);
}

static inline void *
fake_main(void *arg)
{
	struct fake_redis *f = arg;
	struct pollfd p = {.fd = f->fd, .events = POLLIN};

	while (!atomic_load(&f->stop)) {
		if (poll(&p, 1, 50) != 1)
			continue;
		int c = accept(f->fd, NULL, NULL);
		if (c < 0)
			continue;
		pthread_mutex_lock(&f->lock);
		f->conns++;
		pthread_mutex_unlock(&f->lock);
		fake_serve(f, c);
	}
	return NULL;
}

/* Listen on a fresh socket in a temporary directory and answer with script. 0 or -1. */
static inline int
fake_start(struct fake_redis *f, const char *const *script)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};

	memset(f, 0, sizeof(*f));
	f->fd = -1;
	f->script = script;
	pthread_mutex_init(&f->lock, NULL);
	snprintf(f->dir, sizeof(f->dir), "/tmp/shomei-fake-redis-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/redis.sock", f->dir);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", f->path);
	if ((f->fd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0 ||
	    bind(f->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(f->fd, 8) != 0 ||
	    pthread_create(&f->tid, NULL, fake_main, f) != 0) {
		if (f->fd >= 0)
			close(f->fd);
		f->fd = -1;
		unlink(f->path);
		rmdir(f->dir);
		return -1;
	}
	return 0;
}

/* Stop answering, remove the socket and its directory. */
static inline void
fake_stop(struct fake_redis *f)
{
	if (f->fd < 0)
		return;
	atomic_store(&f->stop, 1);
	pthread_join(f->tid, NULL);
	close(f->fd);
	f->fd = -1;
	unlink(f->path);
	rmdir(f->dir);
	pthread_mutex_destroy(&f->lock);
}

/* The number of commands received so far. */
static inline int
fake_ncmds(struct fake_redis *f)
{
	int n;

	pthread_mutex_lock(&f->lock);
	n = f->ncmds;
	pthread_mutex_unlock(&f->lock);
	return n;
}

/* The number of connections accepted so far. */
static inline int
fake_conns(struct fake_redis *f)
{
	int n;

	pthread_mutex_lock(&f->lock);
	n = f->conns;
	pthread_mutex_unlock(&f->lock);
	return n;
}

/* The i-th command received ("" when there was none). */
static inline const char *
fake_cmd(struct fake_redis *f, int i)
{
	return i >= 0 && i < fake_ncmds(f) && i < FAKE_LOG_MAX ? f->log[i] : "";
}

#endif
