/* tmpl.c: the notices' template files (see tmpl.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "tmpl.h"

static int
grow(char **p, size_t *cap, size_t need)
{
	char *n;
	size_t c = *cap ? *cap : 1024;

	if (need <= *cap)
		return 0;
	while (c < need)
		c *= 2;
	if ((n = realloc(*p, c)) == NULL)
		return -ENOMEM;
	*p = n, *cap = c;
	return 0;
}

/* The text of a field: a string as it is, a number as an integer, anything else "". */
static const char *
field(const cJSON *vars, const char *name, size_t n, char num[32])
{
	char key[64];
	const cJSON *v;

	if (n == 0 || n >= sizeof(key))
		return "";
	memcpy(key, name, n);
	key[n] = '\0';
	v = cJSON_GetObjectItemCaseSensitive(vars, key);
	if (cJSON_IsString(v))
		return v->valuestring;
	if (cJSON_IsNumber(v)) {
		snprintf(num, 32, "%lld", (long long)v->valuedouble);
		return num;
	}
	return "";
}

int
tmpl_render(const char *src, const cJSON *vars, char **out, const char **subject, const char **body)
{
	char *r = NULL, num[32], *nl, *after;
	size_t len = 0, cap = 0;
	const char *s = src;

	if (strncmp(src, "Subject: ", 9) != 0)
		return EINVAL;
	while (*s != '\0') {
		const char *o = strstr(s, "{{"), *c, *v;
		size_t n = o != NULL ? (size_t)(o - s) : strlen(s);

		if (grow(&r, &cap, len + n + 1) != 0)
			goto nomem;
		memcpy(r + len, s, n);
		len += n;
		if (o == NULL || (c = strstr(o + 2, "}}")) == NULL) {
			if (o != NULL) { /* an unclosed "{{" stays as written */
				n = strlen(o);
				if (grow(&r, &cap, len + n + 1) != 0)
					goto nomem;
				memcpy(r + len, o, n);
				len += n;
			}
			break;
		}
		v = field(vars, o + 2, (size_t)(c - o - 2), num);
		n = strlen(v);
		if (grow(&r, &cap, len + n + 1) != 0)
			goto nomem;
		memcpy(r + len, v, n);
		len += n;
		s = c + 2;
	}
	if (grow(&r, &cap, len + 1) != 0)
		goto nomem;
	r[len] = '\0';
	/* the subject is one line, and the blank line follows it at once */
	if ((nl = strchr(r, '\n')) == NULL) {
		free(r);
		return EINVAL;
	}
	after = nl + 1;
	if (*after == '\r')
		after++;
	if (*after != '\n') {
		free(r);
		return EINVAL;
	}
	*nl = '\0';
	if (nl > r && nl[-1] == '\r')
		nl[-1] = '\0';
	*subject = r + 9;
	*body = after + 1;
	*out = r;
	return 0;
nomem:
	free(r);
	return -ENOMEM;
}

char *
tmpl_load(const char *dir, const char *kind, const char *lang)
{
	char path[4096];
	size_t len;

	for (const char *p = kind; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || *p == '_'))
			return NULL;
	if (snprintf(path, sizeof(path), "%s/%s.%s.txt", dir, kind,
		     strcmp(lang, "en") == 0 ? "en" : "ja") >= (int)sizeof(path))
		return NULL;
	return util_read_file(path, TMPL_MAX, &len);
}
