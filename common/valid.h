/* valid.h: validators for request fields, and table-driven checking of a whole request. */
#ifndef SHOMEI_VALID_H
#define SHOMEI_VALID_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "i18n.h"

enum {
	VALID_E_FORMAT = 1, /* the value does not have the required form */
	VALID_E_RANGE = 2,  /* well-formed but outside what is allowed */
};

/* Each returns 0 when v is valid, else VALID_E_*. */
int valid_login_id(const char *v);  /* 1–64 of [A-Za-z0-9._@-] */
int valid_password(const char *v);  /* 8–16 half-width alphanumerics (the desknet rule) */
int valid_date(const char *v);      /* yyyy/mm/dd, a real calendar date */
int valid_datetime(const char *v);  /* yyyy/mm/dd or yyyy/mm/dd hh:mm */
int valid_page(const char *v);      /* 1 .. 1000000 */
int valid_text(const char *v);      /* any UTF-8 text without control characters */
int valid_action(const char *v);    /* an operation-history action code */

/* Parse yyyy/mm/dd[ hh:mm] into its parts (hh, mm 0 when absent). */
int valid_parse_datetime(const char *v, int *y, int *mo, int *d, int *h, int *mi);

struct valid_field {
	const char *name;
	int (*fn)(const char *v);
	int required;
	enum msg msg;  /* the message when fn refuses */
	size_t maxlen; /* in bytes, 0 = no limit beyond the body's */
};

/*
 * Check the string members of obj against the table; every failure is appended
 * to errs as {field, message}. Returns the number of failures.
 */
int valid_json(const cJSON *obj, const struct valid_field *f, size_t n, cJSON *errs, int lang);

/* The same for a query string. */
int valid_query(const char *query, const struct valid_field *f, size_t n, cJSON *errs, int lang);

#endif
