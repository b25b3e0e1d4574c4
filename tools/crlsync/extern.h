/* extern.h: cross-file prototypes of shomei-crlsync (the relying party's CRL keeper). */
#ifndef SHOMEI_CRLSYNC_EXTERN_H
#define SHOMEI_CRLSYNC_EXTERN_H

#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <time.h>

/* The largest body accepted (a CRL of a million entries is about 40 MiB of PEM). */
#define CRLSYNC_MAX_BODY (64L * 1024 * 1024)
/* The longest wait between attempts while errors repeat (the interval doubles up to this). */
#define CRLSYNC_MAX_BACKOFF 300
/* The reload command may run this long before it is killed. */
#define CRLSYNC_RELOAD_TIMEOUT 60
/* The reload command's argv: at most this many words. */
#define CRLSYNC_MAX_ARGS 64

struct crlsync_opts {
	const char *url;    /* http:// or https://…/crl/<tenant>.pem */
	const char *out;    /* the bundle the relying party reads */
	const char *cacert; /* trust for an https URL; NULL: the system's */
	char **reload;      /* the reload command's argv (NULL-terminated, malloc'ed); NULL: none */
	int interval;       /* seconds between polls */
	int once;           /* one poll, then exit */
	int verbose;
};

/* crlsync.c: the parts without a network, unit-tested (tests/unit/test-crlsync.c). */

/*
 * The command line into o (getopt_long; optind is reset). 0, 1 for --help (usage already
 * printed to stdout), -1 with a message in err.
 */
int crlsync_parse_args(int argc, char **argv, struct crlsync_opts *o, char *err, size_t errlen);
void crlsync_opts_free(struct crlsync_opts *o);
void crlsync_usage(FILE *fp);

/*
 * Split a command line into words without a shell: words are separated by spaces and tabs;
 * '…' keeps everything inside as it is; "…" too, except that \" and \\ stand for " and \;
 * outside quotes a backslash takes the next character as it is. Nothing else is special
 * (no variables, globs, pipes, redirections or ~). *argv is malloc'ed, NULL-terminated, each
 * word malloc'ed (free with crlsync_argv_free). 0, or -1 for an empty command, an unfinished
 * quote or escape, or more than CRLSYNC_MAX_ARGS words.
 */
int crlsync_split(const char *cmd, char ***argv);
void crlsync_argv_free(char **argv);

/* What crlsync_check found in a body. */
struct crlsync_pem {
	int crls;                /* CRLs in it (>= 1 when accepted) */
	long long entries;       /* revoked entries, summed */
	time_t earliest_next;    /* the soonest nextUpdate (0: a CRL without one) */
};

/*
 * Whether body is a bundle of PEM CRLs: one or more "X509 CRL" blocks, each a DER CRL that
 * OpenSSL parses whole, with nothing but white space around them. 0 and *info, or -1 with the
 * reason in why.
 */
int crlsync_check(const char *body, size_t len, struct crlsync_pem *info, char *why, size_t whylen);

/*
 * Replace path with body atomically: a temporary file in the same directory, written whole,
 * given the old file's mode (0644 when there is none), fsync'ed, renamed over path, and the
 * directory fsync'ed. On failure path is left as it was and no temporary file remains.
 * 0 or -errno.
 */
int crlsync_write(const char *path, const char *body, size_t len);

/* 1 when the file at path holds exactly body, 0 when not (or unreadable). */
int crlsync_same(const char *path, const char *body, size_t len);

/* fetch.c: one conditional GET. */
struct crlsync_fetch {
	long status;        /* 200, 304, another HTTP status, or 0 on a transport error */
	char *body;         /* 200: the body (malloc'ed, NUL-terminated) */
	size_t len;
	char etag[256];     /* the validators to send next time (kept when the answer has none) */
	char last_modified[64];
	char error[256];    /* a transport error */
};

/* Global set-up and tear-down of libcurl. */
int crlsync_fetch_init(void);
void crlsync_fetch_cleanup(void);
/*
 * GET o->url with If-None-Match: f->etag and If-Modified-Since: f->last_modified when set;
 * on 200 the body and the new validators are in f. stop is polled during the transfer: when
 * it becomes nonzero the transfer is abandoned. 0 when an HTTP answer came, -1 otherwise.
 */
int crlsync_get(const struct crlsync_opts *o, struct crlsync_fetch *f,
		volatile sig_atomic_t *stop);

#endif
