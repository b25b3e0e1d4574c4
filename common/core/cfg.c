/* cfg.c: configuration from a key = value file in sections, plus SHOMEI_* environment overrides. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cfg.h"
#include "core/log.h"
#include "core/strbuf.h"
#include "core/util.h"

/* The keys before any section header: what every program reads. */
static const struct cfg_key keys[] = {
	CFG_KEY_STR(struct cfg, db, "dbname=shomei"),
	CFG_KEY_STR(struct cfg, migrate_db, ""),
	CFG_KEY_STR(struct cfg, redis_socket, ""),
	CFG_KEY_STR(struct cfg, redis_host, "127.0.0.1"),
	CFG_KEY_INT(struct cfg, redis_port, 6379, 1, 65535),
	CFG_KEY_STR(struct cfg, socket_dir, "var/run/sock"),
	CFG_KEY_STR(struct cfg, socket_group, ""),
	CFG_KEY_STR(struct cfg, signer_socket_group, ""),
	CFG_KEY_INT(struct cfg, threads, 64, 1, 256),
	CFG_KEY_INT(struct cfg, db_pool, 16, 1, 256),
	CFG_KEY_INT(struct cfg, db_pool_wait, 10, 1, 300),
	CFG_KEY_STR(struct cfg, listen, ""),
	CFG_KEY_STR(struct cfg, ca_kek_file, "var/secrets/ca-kek.key"),
	CFG_KEY_STR(struct cfg, data_key_file, "var/secrets/data.key"),
	CFG_KEY_STR(struct cfg, master_key_file, ""),
	CFG_KEY_STR(struct cfg, ca_dir, "var/ca"),
	CFG_KEY_STR(struct cfg, public_url, "https://localhost:8443"),
	CFG_KEY_STR(struct cfg, revocation_url, ""),
	CFG_KEY_STR(struct cfg, renew_url, ""),
	CFG_KEY_INT(struct cfg, session_idle, 1800, 60, 86400),
	CFG_KEY_INT(struct cfg, session_absolute, 28800, 60, 604800),
	CFG_KEY_INT(struct cfg, max_body, 1048576, 1024, 104857600),
	CFG_KEY_INT(struct cfg, max_upload, 67108864, 1048576, 1073741824),
	CFG_KEY_INT(struct cfg, login_fail_limit_id, 5, 1, 1000),
	CFG_KEY_INT(struct cfg, login_fail_limit_ip, 30, 1, 100000),
	CFG_KEY_INT(struct cfg, login_fail_window, 900, 10, 86400),
	CFG_KEY_STR(struct cfg, migrations_dir, "db/migrations"),
	CFG_KEY_STR(struct cfg, log_level, "info"),
	CFG_KEY_ENUM(struct cfg, log_format, text, log_format_words),
	CFG_KEY_STR(struct cfg, internal_socket, ""),
	CFG_KEY_STR(struct cfg, internal_token_dir, ""),
};

/*
 * Every section some program reads (its keys are declared by the module that owns it), so that
 * a misspelt header is an error in every program, not a section nobody reads.
 */
static const char *const known_sections[] = {
	"auth",   /* services/auth/settings.c */
	"issue",  /* services/issue/settings.c */
	"mail",   /* services/users/mailcfg.c */
	"revoke", /* services/revoke/settings.c */
	"signer", /* services/signer/settings.c */
};

/* Parsing state: the sections in play and the one the current line belongs to. */
struct parse {
	struct cfg_section top;
	const struct cfg_section *secs;
	size_t nsecs;
	const struct cfg_section *cur; /* NULL: a known section this program does not read */
	char *err;
	size_t errlen;
};

static const struct cfg_key *
find_key(const struct cfg_section *s, const char *name, size_t len)
{
	for (size_t i = 0; i < s->nkeys; i++)
		if (strlen(s->keys[i].name) == len && strncmp(s->keys[i].name, name, len) == 0)
			return &s->keys[i];
	return NULL;
}

/* "name" or "section.name", for messages. */
static void
key_label(const struct cfg_section *s, const struct cfg_key *k, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s", s->name[0] ? s->name : "", s->name[0] ? "." : "", k->name);
}

static int
set_value(const struct cfg_section *s, const struct cfg_key *k, const char *v, char *err,
	  size_t errlen, const char *where)
{
	char label[96], *dup, *end;
	long n;

	if (k->type == CFG_STR) {
		if ((dup = strdup(v)) == NULL)
			return -ENOMEM;
		char **slot = (char **)((char *)s->base + k->off);
		free(*slot);
		*slot = dup;
		return 0;
	}
	if (k->type == CFG_ENUM) {
		for (int i = 0; k->words[i] != NULL; i++)
			if (strcmp(k->words[i], v) == 0) {
				*(int *)((char *)s->base + k->off) = i;
				return 0;
			}
		char allowed[256];
		struct strbuf b;
		strbuf_init(&b, allowed, sizeof(allowed));
		for (int i = 0; k->words[i] != NULL; i++)
			strbuf_printf(&b, "%s%s", i ? ", " : "", k->words[i]);
		key_label(s, k, label, sizeof(label));
		snprintf(err, errlen, "%s: %s must be one of %s, not \"%s\"", where, label, allowed,
			 v);
		return CFG_E_VALUE;
	}
	errno = 0;
	n = strtol(v, &end, 10);
	if (errno || end == v || *end != '\0' || n < k->min || n > k->max) {
		key_label(s, k, label, sizeof(label));
		snprintf(err, errlen, "%s: %s must be a whole number from %ld to %ld, not \"%s\"",
			 where, label, k->min, k->max, v);
		return CFG_E_VALUE;
	}
	*(int *)((char *)s->base + k->off) = (int)n;
	return 0;
}

static void
section_free(const struct cfg_section *s)
{
	for (size_t i = 0; i < s->nkeys; i++) {
		if (s->keys[i].type != CFG_STR)
			continue;
		char **slot = (char **)((char *)s->base + s->keys[i].off);
		free(*slot);
		*slot = NULL;
	}
}

static int
section_defaults(const struct cfg_section *s, char *err, size_t errlen)
{
	int rc;

	for (size_t i = 0; i < s->nkeys; i++) {
		if ((rc = set_value(s, &s->keys[i], s->keys[i].def, err, errlen, "default")) != 0)
			return rc;
	}
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

/* A "[name]" header: the section it opens, or NULL for one this program skips. */
static int
parse_header(struct parse *p, char *name, const char *where)
{
	size_t n = strlen(name);

	if (n < 3 || name[n - 1] != ']') {
		snprintf(p->err, p->errlen, "%s: expected [section]", where);
		return CFG_E_SYNTAX;
	}
	name = trim(name + 1, name + n - 1);
	for (size_t i = 0; i < p->nsecs; i++)
		if (strcmp(p->secs[i].name, name) == 0) {
			p->cur = &p->secs[i];
			return 0;
		}
	for (size_t i = 0; i < sizeof(known_sections) / sizeof(known_sections[0]); i++)
		if (strcmp(known_sections[i], name) == 0) {
			p->cur = NULL;
			return 0;
		}
	snprintf(p->err, p->errlen, "%s: unknown section [%s]", where, name);
	return CFG_E_KEY;
}

/* One line; line is modified. */
static int
parse_line(struct parse *p, char *line, int lineno)
{
	char where[32], label[96];
	char *eq, *name, *val;
	const struct cfg_key *k;
	size_t vlen;

	snprintf(where, sizeof(where), "line %d", lineno);
	name = trim(line, line + strlen(line));
	if (*name == '\0' || *name == '#')
		return 0;
	if (*name == '[')
		return parse_header(p, name, where);
	if ((eq = strchr(name, '=')) == NULL) {
		snprintf(p->err, p->errlen, "%s: expected key = value", where);
		return CFG_E_SYNTAX;
	}
	if (p->cur == NULL)
		return 0;
	val = trim(eq + 1, eq + 1 + strlen(eq + 1));
	name = trim(name, eq);
	if ((k = find_key(p->cur, name, strlen(name))) == NULL) {
		if (p->cur->name[0])
			snprintf(label, sizeof(label), " in [%s]", p->cur->name);
		else
			label[0] = '\0';
		snprintf(p->err, p->errlen, "%s: unknown key \"%s\"%s", where, name, label);
		return CFG_E_KEY;
	}
	vlen = strlen(val);
	if (vlen >= 2 && val[0] == '"' && val[vlen - 1] == '"') {
		val[vlen - 1] = '\0';
		val++;
	}
	return set_value(p->cur, k, val, p->err, p->errlen, where);
}

static int
parse_text(struct parse *p, const char *text)
{
	char *copy, *line, *q;
	int lineno = 0, rc = 0;

	if ((copy = strdup(text)) == NULL)
		return -ENOMEM;
	/* strtok_r would skip empty lines and so miscount; walk by hand. */
	p->cur = &p->top;
	line = copy;
	for (q = copy;; q++) {
		if (*q != '\n' && *q != '\0')
			continue;
		int last = *q == '\0';
		*q = '\0';
		lineno++;
		if ((rc = parse_line(p, line, lineno)) != 0)
			break;
		if (last)
			break;
		line = q + 1;
	}
	free(copy);
	return rc;
}

static int
apply_env_section(const struct cfg_section *s, char *err, size_t errlen)
{
	char envname[96], where[112];
	const char *v;
	int rc;

	for (size_t i = 0; i < s->nkeys; i++) {
		snprintf(envname, sizeof(envname), "SHOMEI_%s%s%s", s->name, s->name[0] ? "_" : "",
			 s->keys[i].name);
		for (size_t j = 7; envname[j]; j++)
			envname[j] = (char)toupper((unsigned char)envname[j]);
		if ((v = getenv(envname)) == NULL)
			continue;
		snprintf(where, sizeof(where), "environment %s", envname);
		if ((rc = set_value(s, &s->keys[i], v, err, errlen, where)) != 0)
			return rc;
	}
	return 0;
}

/* Defaults everywhere; on failure nothing is left allocated. */
static int
start(struct parse *p, struct cfg *c, const struct cfg_section *secs, size_t n, char *err,
      size_t errlen)
{
	int rc = 0;
	size_t i;

	memset(c, 0, sizeof(*c));
	p->top = (struct cfg_section){"", keys, sizeof(keys) / sizeof(keys[0]), c};
	p->secs = secs;
	p->nsecs = n;
	p->err = err;
	p->errlen = errlen;
	for (i = 0; i < n; i++)
		for (size_t k = 0; k < secs[i].nkeys; k++)
			if (secs[i].keys[k].type == CFG_STR)
				*(char **)((char *)secs[i].base + secs[i].keys[k].off) = NULL;
	if ((rc = section_defaults(&p->top, err, errlen)) != 0)
		goto fail;
	for (i = 0; i < n; i++)
		if ((rc = section_defaults(&secs[i], err, errlen)) != 0)
			goto fail;
	return 0;
fail:
	section_free(&p->top);
	for (i = 0; i < n; i++)
		section_free(&secs[i]);
	return rc;
}

/* Release everything after a failure. */
static void
release(struct parse *p)
{
	section_free(&p->top);
	for (size_t i = 0; i < p->nsecs; i++)
		section_free(&p->secs[i]);
}

int
cfg_parse(struct cfg *c, const char *text, const struct cfg_section *secs, size_t n, char *err,
	  size_t errlen)
{
	struct parse p;
	int rc;

	if ((rc = start(&p, c, secs, n, err, errlen)) != 0)
		return rc;
	if ((rc = parse_text(&p, text)) != 0)
		release(&p);
	return rc;
}

int
cfg_load(struct cfg *c, const char *path, const struct cfg_section *secs, size_t n, char *err,
	 size_t errlen)
{
	char *text = NULL, tmp[256];
	struct parse p;
	int rc;

	if ((rc = start(&p, c, secs, n, err, errlen)) != 0)
		return rc;
	if (path != NULL) {
		if ((text = util_read_file(path, 1 << 20, NULL)) == NULL) {
			snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
			rc = CFG_E_FILE;
			goto out;
		}
		if ((rc = parse_text(&p, text)) != 0) {
			snprintf(tmp, sizeof(tmp), "%s", err);
			snprintf(err, errlen, "%s: %s", path, tmp);
			goto out;
		}
	}
	if ((rc = apply_env_section(&p.top, err, errlen)) != 0)
		goto out;
	for (size_t i = 0; i < n; i++)
		if ((rc = apply_env_section(&secs[i], err, errlen)) != 0)
			goto out;
out:
	free(text);
	if (rc != 0)
		release(&p);
	return rc;
}

void
cfg_done(struct cfg *c)
{
	struct cfg_section top = {"", keys, sizeof(keys) / sizeof(keys[0]), c};

	section_free(&top);
}

void
cfg_section_done(const struct cfg_section *s)
{
	section_free(s);
}

int
cfg_socket_path(const struct cfg *c, const char *name, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/%s.sock", c->socket_dir, name);

	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	return 0;
}
