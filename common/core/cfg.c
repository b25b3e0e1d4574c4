/* cfg.c: configuration from a key = value file plus SHOMEI_<KEY> environment overrides. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cfg.h"
#include "core/util.h"

enum cfg_type {
	CFG_STR,
	CFG_INT,
};

struct cfg_key {
	const char *name;
	enum cfg_type type;
	const char *def;
	long min;
	long max;
	size_t off;
};

/* one line each: clang-format would spread these initialiser macros over five */
/* clang-format off */
#define S(n, d) {#n, CFG_STR, d, 0, 0, offsetof(struct cfg, n)}
#define I(n, d, lo, hi) {#n, CFG_INT, #d, lo, hi, offsetof(struct cfg, n)}
/* clang-format on */

static const struct cfg_key keys[] = {
	S(db, "dbname=shomei"),
	S(redis_socket, ""),
	S(redis_host, "127.0.0.1"),
	I(redis_port, 6379, 1, 65535),
	S(socket_dir, "var/run/sock"),
	I(threads, 64, 1, 256),
	S(master_key_file, "var/secrets/master.key"),
	S(ca_dir, "var/ca"),
	S(public_url, "https://localhost:8443"),
	I(session_idle, 1800, 60, 86400),
	I(session_absolute, 28800, 60, 604800),
	I(max_body, 1048576, 1024, 104857600),
	I(login_fail_limit_id, 5, 1, 1000),
	I(login_fail_limit_ip, 30, 1, 100000),
	I(login_fail_window, 900, 10, 86400),
	S(migrations_dir, "db/migrations"),
	S(log_level, "info"),
	I(issue_workers, 4, 1, 64),
	I(key_pool_rsa2048, 100, 0, 100000),
	I(key_pool_rsa3072, 10, 0, 100000),
	I(key_pool_p256, 200, 0, 100000),
	S(admin_crl_file, ""),
	S(nginx_pid_file, ""),
	I(crl_days, 7, 1, 30),
	I(crl_check_interval, 60, 1, 86400),
};

#define NKEYS (sizeof(keys) / sizeof(keys[0]))

static const struct cfg_key *
find_key(const char *name, size_t len)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (strlen(keys[i].name) == len && strncmp(keys[i].name, name, len) == 0)
			return &keys[i];
	return NULL;
}

static int
set_value(struct cfg *c, const struct cfg_key *k, const char *v, char *err, size_t errlen,
	  const char *where)
{
	char *dup;
	long n;
	char *end;

	if (k->type == CFG_STR) {
		if ((dup = strdup(v)) == NULL)
			return -ENOMEM;
		char **slot = (char **)((char *)c + k->off);
		free(*slot);
		*slot = dup;
		return 0;
	}
	errno = 0;
	n = strtol(v, &end, 10);
	if (errno || end == v || *end != '\0' || n < k->min || n > k->max) {
		snprintf(err, errlen, "%s: %s must be a whole number from %ld to %ld, not \"%s\"",
			 where, k->name, k->min, k->max, v);
		return CFG_E_VALUE;
	}
	*(int *)((char *)c + k->off) = (int)n;
	return 0;
}

static int
set_defaults(struct cfg *c, char *err, size_t errlen)
{
	int rc;

	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < NKEYS; i++)
		if ((rc = set_value(c, &keys[i], keys[i].def, err, errlen, "default")) != 0)
			return rc;
	return 0;
}

static char *
trim(char *s, char *e)
{
	while (s < e && isspace((unsigned char)*s))
		s++;
	while (e > s && isspace((unsigned char)e[-1]))
		e--;
	*e = '\0';
	return s;
}

/* One "key = value" line; line is modified. */
static int
parse_line(struct cfg *c, char *line, int lineno, char *err, size_t errlen)
{
	char where[32];
	char *eq, *name, *val;
	const struct cfg_key *k;
	size_t vlen;

	snprintf(where, sizeof(where), "line %d", lineno);
	name = trim(line, line + strlen(line));
	if (*name == '\0' || *name == '#')
		return 0;
	if ((eq = strchr(name, '=')) == NULL) {
		snprintf(err, errlen, "%s: expected key = value", where);
		return CFG_E_SYNTAX;
	}
	val = trim(eq + 1, eq + 1 + strlen(eq + 1));
	name = trim(name, eq);
	if ((k = find_key(name, strlen(name))) == NULL) {
		snprintf(err, errlen, "%s: unknown key \"%s\"", where, name);
		return CFG_E_KEY;
	}
	vlen = strlen(val);
	if (vlen >= 2 && val[0] == '"' && val[vlen - 1] == '"') {
		val[vlen - 1] = '\0';
		val++;
	}
	return set_value(c, k, val, err, errlen, where);
}

static int
parse_text(struct cfg *c, const char *text, char *err, size_t errlen)
{
	char *copy, *line, *p;
	int lineno = 0, rc = 0;

	if ((copy = strdup(text)) == NULL)
		return -ENOMEM;
	/* strtok_r would skip empty lines and so miscount; walk by hand. */
	line = copy;
	for (p = copy;; p++) {
		if (*p != '\n' && *p != '\0')
			continue;
		int last = *p == '\0';
		*p = '\0';
		lineno++;
		if ((rc = parse_line(c, line, lineno, err, errlen)) != 0)
			break;
		if (last)
			break;
		line = p + 1;
	}
	free(copy);
	return rc;
}

static int
apply_env(struct cfg *c, char *err, size_t errlen)
{
	char envname[64], where[80];
	const char *v;
	int rc;

	for (size_t i = 0; i < NKEYS; i++) {
		size_t j;
		snprintf(envname, sizeof(envname), "SHOMEI_%s", keys[i].name);
		for (j = 7; envname[j]; j++)
			envname[j] = (char)toupper((unsigned char)envname[j]);
		if ((v = getenv(envname)) == NULL)
			continue;
		snprintf(where, sizeof(where), "environment %s", envname);
		if ((rc = set_value(c, &keys[i], v, err, errlen, where)) != 0)
			return rc;
	}
	return 0;
}

int
cfg_parse(struct cfg *c, const char *text, char *err, size_t errlen)
{
	int rc;

	if ((rc = set_defaults(c, err, errlen)) != 0)
		return rc;
	if ((rc = parse_text(c, text, err, errlen)) != 0)
		cfg_done(c);
	return rc;
}

int
cfg_load(struct cfg *c, const char *path, char *err, size_t errlen)
{
	char *text = NULL;
	int rc;

	if ((rc = set_defaults(c, err, errlen)) != 0)
		return rc;
	if (path != NULL) {
		if ((text = util_read_file(path, 1 << 20, NULL)) == NULL) {
			snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
			rc = CFG_E_FILE;
			goto out;
		}
		if ((rc = parse_text(c, text, err, errlen)) != 0) {
			char tmp[256];
			snprintf(tmp, sizeof(tmp), "%s", err);
			snprintf(err, errlen, "%s: %s", path, tmp);
			goto out;
		}
	}
	rc = apply_env(c, err, errlen);
out:
	free(text);
	if (rc != 0)
		cfg_done(c);
	return rc;
}

void
cfg_done(struct cfg *c)
{
	for (size_t i = 0; i < NKEYS; i++) {
		if (keys[i].type != CFG_STR)
			continue;
		char **slot = (char **)((char *)c + keys[i].off);
		free(*slot);
		*slot = NULL;
	}
}

int
cfg_socket_path(const struct cfg *c, const char *name, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/%s.sock", c->socket_dir, name);

	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	return 0;
}
