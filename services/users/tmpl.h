/* tmpl.h: the notices' template files: "Subject: …", a blank line, the body; {{name}} fields. */
#ifndef SHOMEI_USERS_TMPL_H
#define SHOMEI_USERS_TMPL_H

#include <cjson/cJSON.h>

#define TMPL_MAX 65536 /* bytes of a template file */

/*
 * src with every {{name}} replaced by vars' member name (a string, or a number printed as an
 * integer; absent: ""), then cut into *subject (the first line's text after "Subject: ") and
 * *body (after the blank line). Both point into *out, which the caller frees. 0, EINVAL when
 * src does not start with "Subject: " or has no blank line after it, -ENOMEM.
 */
int tmpl_render(const char *src, const cJSON *vars, char **out, const char **subject,
		const char **body);

/* The file <dir>/<kind>.<lang>.txt, read whole (NULL: missing, unreadable or too big). */
char *tmpl_load(const char *dir, const char *kind, const char *lang);

#endif
