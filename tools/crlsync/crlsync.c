/*
 * crlsync.c: what shomei-crlsync does without a network: its command line, the reload
 * command split into an argv (no shell), the check that a body is PEM CRLs, and the atomic
 * replacement of the bundle. tests/unit/test-crlsync.c tests each.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "extern.h"

void
crlsync_usage(FILE *fp)
{
	fprintf(fp,
		"usage: shomei-crlsync --url URL --out FILE [--interval SECONDS] [--reload COMMAND]\n"
		"                      [--cacert FILE] [--once] [-v]\n"
		"\n"
		"Keeps a relying party's CRL bundle current: fetches URL (http:// or https://, such\n"
		"as https://<shomei>/crl/<tenant>.pem, the CRLs of the tenant's chain as one PEM file)\n"
		"every SECONDS (default 5) with a conditional GET (If-None-Match, If-Modified-Since).\n"
		"A new body must be PEM CRLs that OpenSSL parses, with nothing else in it; anything\n"
		"else is refused and FILE keeps its old contents. A good new bundle replaces FILE\n"
		"atomically (a temporary file in the same directory, fsync, rename; the old file's\n"
		"mode, 0644 for a new one; a FILE someone removed or edited is written again),\n"
		"then COMMAND runs, e.g.\n"
		"    --reload \"nginx -s reload\"      --reload \"apachectl -k graceful\"\n"
		"COMMAND is not given to a shell: it is split into words at spaces and tabs, '...'\n"
		"and \"...\" group words (inside \"...\", \\\" and \\\\ stand for \" and \\), a backslash\n"
		"outside quotes takes the next character as it is, and nothing else is special (no\n"
		"variables, ~, globs, pipes or redirections); the first word is looked up in PATH.\n"
		"A failed reload is tried again at the next poll.\n"
		"\n"
		"  --url URL          where the bundle is published\n"
		"  --out FILE         the file the server reads (its directory must exist)\n"
		"  --interval SECONDS between polls, 1-86400 (default 5); after an error the wait\n"
		"                     doubles up to %d s and returns to SECONDS on success\n"
		"  --reload COMMAND   run after FILE changed (exit status 0 expected, %d s at most)\n"
		"  --cacert FILE      CA certificates to check an https server with (default: the\n"
		"                     system's)\n"
		"  --once             fetch once (unconditionally), replace and reload if it changed,\n"
		"                     and exit\n"
		"  -v, --verbose      also log every poll answered 304\n"
		"\n"
		"Logs one key=value line per event on standard error. SIGTERM or SIGINT ends it\n"
		"cleanly (exit 0). Exit: 0 done, 1 usage, 2 --once failed.\n",
		CRLSYNC_MAX_BACKOFF, CRLSYNC_RELOAD_TIMEOUT);
}

void
crlsync_argv_free(char **argv)
{
	for (size_t i = 0; argv != NULL && argv[i] != NULL; i++)
		free(argv[i]);
	free(argv);
}

void
crlsync_opts_free(struct crlsync_opts *o)
{
	crlsync_argv_free(o->reload);
	o->reload = NULL;
}

/* Append c to the word being built. */
static int
word_add(char **w, size_t *len, size_t *cap, char c)
{
	if (*len + 2 > *cap) {
		size_t ncap = *cap ? *cap * 2 : 32;
		char *p = realloc(*w, ncap);
		if (p == NULL)
			return -1;
		*w = p;
		*cap = ncap;
	}
	(*w)[(*len)++] = c;
	(*w)[*len] = '\0';
	return 0;
}

int
crlsync_split(const char *cmd, char ***argv)
{
	char **out = calloc(CRLSYNC_MAX_ARGS + 1, sizeof(*out));
	char *w = NULL;
	size_t n = 0, len = 0, cap = 0;
	int in_word = 0;
	const char *p = cmd;

	*argv = NULL;
	if (out == NULL || cmd == NULL)
		goto fail;
	for (;;) {
		char c = *p;
		if (c == '\0' || c == ' ' || c == '\t') {
			if (in_word) {
				if (n == CRLSYNC_MAX_ARGS)
					goto fail;
				if (w == NULL && (w = strdup("")) == NULL)
					goto fail;
				out[n++] = w;
				w = NULL;
				len = cap = 0;
				in_word = 0;
			}
			if (c == '\0')
				break;
			p++;
			continue;
		}
		in_word = 1;
		if (c == '\'') {
			const char *q = strchr(p + 1, '\'');
			if (q == NULL)
				goto fail;
			if (w == NULL && (w = strdup("")) == NULL)
				goto fail;
			for (p++; p < q; p++)
				if (word_add(&w, &len, &cap, *p) != 0)
					goto fail;
			p = q + 1;
		} else if (c == '"') {
			if (w == NULL && (w = strdup("")) == NULL)
				goto fail;
			for (p++; *p != '"'; p++) {
				if (*p == '\0')
					goto fail;
				if (*p == '\\' && (p[1] == '"' || p[1] == '\\'))
					p++;
				if (word_add(&w, &len, &cap, *p) != 0)
					goto fail;
			}
			p++;
		} else if (c == '\\') {
			if (p[1] == '\0' || word_add(&w, &len, &cap, p[1]) != 0)
				goto fail;
			p += 2;
		} else {
			if (word_add(&w, &len, &cap, c) != 0)
				goto fail;
			p++;
		}
	}
	if (n == 0)
		goto fail;
	*argv = out;
	return 0;
fail:
	free(w);
	crlsync_argv_free(out);
	return -1;
}

enum { OPT_URL = 256, OPT_OUT, OPT_INTERVAL, OPT_RELOAD, OPT_CACERT, OPT_ONCE };

int
crlsync_parse_args(int argc, char **argv, struct crlsync_opts *o, char *err, size_t errlen)
{
	static const struct option lo[] = {
		{"url", required_argument, NULL, OPT_URL},
		{"out", required_argument, NULL, OPT_OUT},
		{"interval", required_argument, NULL, OPT_INTERVAL},
		{"reload", required_argument, NULL, OPT_RELOAD},
		{"cacert", required_argument, NULL, OPT_CACERT},
		{"once", no_argument, NULL, OPT_ONCE},
		{"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int ch;
	char *end;
	long v;

	memset(o, 0, sizeof(*o));
	o->interval = 5;
	err[0] = '\0';
	optind = 0; /* glibc: a full re-initialisation, so the parser can run again */
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "vh", lo, NULL)) != -1) {
		switch (ch) {
		case 'h':
			crlsync_usage(stdout);
			crlsync_opts_free(o);
			return 1;
		case 'v':
			o->verbose = 1;
			break;
		case OPT_URL:
			o->url = optarg;
			break;
		case OPT_OUT:
			o->out = optarg;
			break;
		case OPT_CACERT:
			o->cacert = optarg;
			break;
		case OPT_ONCE:
			o->once = 1;
			break;
		case OPT_INTERVAL:
			errno = 0;
			v = strtol(optarg, &end, 10);
			if (errno != 0 || end == optarg || *end != '\0' || v < 1 || v > 86400) {
				snprintf(err, errlen, "--interval: '%s' is not a number of seconds "
					 "from 1 to 86400", optarg);
				goto fail;
			}
			o->interval = (int)v;
			break;
		case OPT_RELOAD:
			crlsync_argv_free(o->reload);
			if (crlsync_split(optarg, &o->reload) != 0) {
				snprintf(err, errlen, "--reload: cannot split '%s' into words (empty, "
					 "an unfinished quote or backslash, or more than %d words)",
					 optarg, CRLSYNC_MAX_ARGS);
				goto fail;
			}
			break;
		default:
			snprintf(err, errlen, "unknown option or missing value: %s",
				 optind > 0 && optind <= argc ? argv[optind - 1] : "?");
			goto fail;
		}
	}
	if (optind != argc) {
		snprintf(err, errlen, "unexpected argument: %s", argv[optind]);
		goto fail;
	}
	if (o->url == NULL || o->out == NULL) {
		snprintf(err, errlen, "--url and --out are required");
		goto fail;
	}
	if (strncmp(o->url, "http://", 7) != 0 && strncmp(o->url, "https://", 8) != 0) {
		snprintf(err, errlen, "--url: must start with http:// or https://");
		goto fail;
	}
	if (strlen(o->url) > 2048 || strpbrk(o->url, " \t\r\n") != NULL) {
		snprintf(err, errlen, "--url: too long or contains white space");
		goto fail;
	}
	if (o->out[0] == '\0' || o->out[strlen(o->out) - 1] == '/') {
		snprintf(err, errlen, "--out: must name a file");
		goto fail;
	}
	return 0;
fail:
	crlsync_opts_free(o);
	return -1;
}

static const char PEM_BEGIN[] = "-----BEGIN X509 CRL-----";
static const char PEM_END[] = "-----END X509 CRL-----";

static int
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Parse one PEM block [p, end) that must be a whole CRL. */
static int
check_block(const char *p, size_t len, struct crlsync_pem *info, char *why, size_t whylen)
{
	BIO *bio = BIO_new_mem_buf(p, (int)len);
	char *name = NULL, *header = NULL;
	unsigned char *data = NULL;
	const unsigned char *q;
	long dlen = 0;
	X509_CRL *crl = NULL;
	int rc = -1;

	if (bio == NULL || !PEM_read_bio(bio, &name, &header, &data, &dlen)) {
		snprintf(why, whylen, "CRL %d: bad PEM (base64)", info->crls + 1);
		goto out;
	}
	if (strcmp(name, "X509 CRL") != 0 || header[0] != '\0') {
		snprintf(why, whylen, "CRL %d: not a plain X509 CRL block", info->crls + 1);
		goto out;
	}
	q = data;
	if ((crl = d2i_X509_CRL(NULL, &q, dlen)) == NULL || q != data + dlen) {
		snprintf(why, whylen, "CRL %d: not a DER CRL OpenSSL can parse", info->crls + 1);
		goto out;
	}
	STACK_OF(X509_REVOKED) *rev = X509_CRL_get_REVOKED(crl);
	const ASN1_TIME *next = X509_CRL_get0_nextUpdate(crl);
	struct tm tm;
	info->entries += rev ? sk_X509_REVOKED_num(rev) : 0;
	if (next != NULL && ASN1_TIME_to_tm(next, &tm)) {
		time_t t = timegm(&tm);
		if (info->crls == 0 || (info->earliest_next != 0 && t < info->earliest_next))
			info->earliest_next = t;
	} else {
		info->earliest_next = 0;
	}
	info->crls++;
	rc = 0;
out:
	ERR_clear_error();
	X509_CRL_free(crl);
	OPENSSL_free(name);
	OPENSSL_free(header);
	OPENSSL_free(data);
	BIO_free(bio);
	return rc;
}

int
crlsync_check(const char *body, size_t len, struct crlsync_pem *info, char *why, size_t whylen)
{
	const char *p = body, *end = body + len;

	memset(info, 0, sizeof(*info));
	why[0] = '\0';
	if (body == NULL || len == 0) {
		snprintf(why, whylen, "empty body");
		return -1;
	}
	if (len > (size_t)CRLSYNC_MAX_BODY) {
		snprintf(why, whylen, "body larger than %ld bytes", CRLSYNC_MAX_BODY);
		return -1;
	}
	for (;;) {
		while (p < end && is_space(*p))
			p++;
		if (p == end)
			break;
		if ((size_t)(end - p) < sizeof(PEM_BEGIN) - 1 ||
		    memcmp(p, PEM_BEGIN, sizeof(PEM_BEGIN) - 1) != 0) {
			snprintf(why, whylen, "%s at byte %zu",
				 (size_t)(end - p) > 11 && memcmp(p, "-----BEGIN ", 11) == 0
					 ? "a PEM block that is not a CRL"
					 : "text that is not a PEM CRL",
				 (size_t)(p - body));
			return -1;
		}
		const char *e = memmem(p, (size_t)(end - p), PEM_END, sizeof(PEM_END) - 1);
		if (e == NULL) {
			snprintf(why, whylen, "CRL %d has no END line", info->crls + 1);
			return -1;
		}
		e += sizeof(PEM_END) - 1;
		if (check_block(p, (size_t)(e - p), info, why, whylen) != 0)
			return -1;
		p = e;
	}
	if (info->crls == 0) {
		snprintf(why, whylen, "no CRL in the body");
		return -1;
	}
	return 0;
}

int
crlsync_same(const char *path, const char *body, size_t len)
{
	FILE *fp = fopen(path, "rb");
	char buf[65536];
	size_t off = 0, n;
	int same = 1;

	if (fp == NULL)
		return 0;
	while (same && (n = fread(buf, 1, sizeof(buf), fp)) > 0) {
		if (off + n > len || memcmp(buf, body + off, n) != 0)
			same = 0;
		off += n;
	}
	if (ferror(fp) || off != len)
		same = 0;
	fclose(fp);
	return same;
}

int
crlsync_write(const char *path, const char *body, size_t len)
{
	char dcopy[PATH_MAX], bcopy[PATH_MAX], tmp[PATH_MAX];
	const char *dir, *base;
	struct stat st;
	mode_t mode = 0644;
	size_t off = 0;
	int fd = -1, dfd, rc = 0, have_old;

	if (strlen(path) >= sizeof(dcopy))
		return -ENAMETOOLONG;
	snprintf(dcopy, sizeof(dcopy), "%s", path);
	snprintf(bcopy, sizeof(bcopy), "%s", path);
	dir = dirname(dcopy);
	base = basename(bcopy);
	if (snprintf(tmp, sizeof(tmp), "%s/.%s.XXXXXX", dir, base) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	have_old = stat(path, &st) == 0;
	if (have_old && !S_ISREG(st.st_mode))
		return -EISDIR;
	if (have_old)
		mode = st.st_mode & 07777;
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0)
		return -errno;
	while (off < len) {
		ssize_t w = write(fd, body + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			rc = w < 0 ? -errno : -EIO;
			goto fail;
		}
		off += (size_t)w;
	}
	/* the old file's owner when we may (root), its mode in any case */
	if (have_old && (st.st_uid != geteuid() || st.st_gid != getegid()) &&
	    fchown(fd, st.st_uid, st.st_gid) != 0) {
		/* not root: the file becomes ours, which the mode still describes */
	}
	if (fchmod(fd, mode) != 0 || fsync(fd) != 0) {
		rc = -errno;
		goto fail;
	}
	if (close(fd) != 0) {
		fd = -1;
		rc = -errno;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) != 0) {
		rc = -errno;
		goto fail;
	}
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		if (fsync(dfd) != 0)
			rc = -errno; /* renamed, but perhaps not yet durable */
		close(dfd);
	}
	return rc;
fail:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return rc;
}
