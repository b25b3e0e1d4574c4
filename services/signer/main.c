/* main.c: shomei-signer, the only running process holding CA private keys (wiring only). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "core/cfg.h"
#include "extern.h"
#include "core/log.h"
#include "pki/secret.h"

static struct server *the_server;

static void
on_signal(int sig)
{
	(void)sig;
	if (the_server != NULL)
		server_stop(the_server);
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: shomei-signer [-n] [-c config] [-p pidfile]\n"
		   "  -c FILE  configuration file (default: $SHOMEI_CONFIG)\n"
		   "  -n       check the configuration and the CA key-encryption key, then exit\n"
		   "  -p FILE  write the process id to FILE (removed at exit)\n"
		   "Listens on <socket_dir>/signer.sock; SIGTERM stops it.\n");
}

static int
load_kek(const char *path, unsigned char key[SECRET_KEY_LEN])
{
	int rc = secret_key_load(path, SECRET_KEY_OWNER, key);

	if (rc == SECRET_E_MODE)
		fprintf(stderr, "shomei-signer: %s: readable by group or others (chmod 600)\n",
			path);
	else if (rc == SECRET_E_FORMAT)
		fprintf(stderr, "shomei-signer: %s: not 64 hex digits\n", path);
	else if (rc < 0)
		fprintf(stderr, "shomei-signer: %s: %s\n", path, strerror(-rc));
	return rc;
}

static int
write_pidfile(const char *path)
{
	FILE *f = fopen(path, "we");

	if (f == NULL)
		return -errno;
	fprintf(f, "%ld\n", (long)getpid());
	return fclose(f) == 0 ? 0 : -errno;
}

static void
set_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
}

/* The [signer] allow-lists into s; a bad entry stops the signer with a message. */
static int
allow_lists(struct server *s)
{
	const struct {
		const char *key, *val;
		struct allow *a;
	} l[] = {
		{"allow_cert", signer_cfg.allow_cert, &s->allow_cert},
		{"allow_crl", signer_cfg.allow_crl, &s->allow_crl},
		{"allow_ocsp", signer_cfg.allow_ocsp, &s->allow_ocsp},
		{"allow_ping", signer_cfg.allow_ping, &s->allow_ping},
	};
	char err[160];

	for (size_t i = 0; i < sizeof(l) / sizeof(l[0]); i++) {
		if (allow_parse(l[i].val, l[i].a, err, sizeof(err)) != 0) {
			fprintf(stderr, "shomei-signer: [signer] %s: %s\n", l[i].key, err);
			return -EINVAL;
		}
		log_msg(LOG_INFO, "event=allow op=%s callers=\"%s\"", l[i].key + 6,
			l[i].val[0] ? l[i].val : "(the signer's own user)");
	}
	return 0;
}

/* Listen, serve until SIGTERM, clean up. */
static int
serve(const struct cfg *c, struct store *st, const char *pidfile)
{
	struct server s;
	char path[PATH_MAX];
	int fd = -1, rc;

	if ((rc = cfg_socket_path(c, "signer", path, sizeof(path))) != 0 ||
	    (rc = server_listen(path, c->signer_socket_group, &fd)) != 0) {
		fprintf(stderr, "shomei-signer: cannot listen on %s/signer.sock: %s\n",
			c->socket_dir, strerror(-rc));
		return 1;
	}
	if ((rc = server_init(&s, fd, store_lookup, st)) != 0) {
		close(fd);
		return 1;
	}
	s.retired = store_lookup_retired;
	s.limits = store_limits;
	if ((rc = allow_lists(&s)) != 0) {
		server_done(&s);
		return 1;
	}
	the_server = &s;
	set_signals();
	if (pidfile != NULL && (rc = write_pidfile(pidfile)) != 0)
		log_msg(LOG_WARN, "event=pidfile_failed errno=%d", -rc);
	log_msg(LOG_INFO, "event=start socket=%s", path);
	rc = server_run(&s);
	log_msg(LOG_INFO, "event=stop rc=%d", rc);
	server_done(&s);
	the_server = NULL;
	unlink(path);
	if (pidfile != NULL)
		unlink(pidfile);
	return rc == 0 ? 0 : 1;
}

int
main(int argc, char *argv[])
{
	const char *cfgfile = getenv("SHOMEI_CONFIG"), *pidfile = NULL;
	unsigned char key[SECRET_KEY_LEN];
	struct cfg c;
	struct store *st = NULL;
	char err[512];
	int ch, check = 0, rc = 1;

	while ((ch = getopt(argc, argv, "c:np:h")) != -1) {
		switch (ch) {
		case 'c':
			cfgfile = optarg;
			break;
		case 'n':
			check = 1;
			break;
		case 'p':
			pidfile = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	memset(&c, 0, sizeof(c));
	if (cfg_load(&c, cfgfile, &signer_section, 1, err, sizeof(err)) != 0) {
		fprintf(stderr, "shomei-signer: %s\n", err);
		goto out;
	}
	log_init("shomei-signer", c.log_level, (enum log_format)c.log_format);
	if (load_kek(c.ca_kek_file, key) != 0)
		goto out;
	if (check) {
		struct server probe;

		memset(&probe, 0, sizeof(probe));
		if (allow_lists(&probe) != 0)
			goto out;
		printf("shomei-signer: configuration ok\n");
		rc = 0;
		goto out;
	}
	umask(007);
	/* A signature waits on the CA lookup: never hang on a PostgreSQL that does not answer. */
	setenv("PGCONNECT_TIMEOUT", "5", 0);
	if ((st = store_new(c.db, c.ca_dir, key)) == NULL)
		goto out;
	rc = serve(&c, st, pidfile);
out:
	store_free(st);
	OPENSSL_cleanse(key, sizeof(key));
	cfg_done(&c);
	return rc;
}
