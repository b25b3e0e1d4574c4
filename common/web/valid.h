/* valid.h: validators for request fields, and table-driven checking of a whole request. */
#ifndef SHOMEI_VALID_H
#define SHOMEI_VALID_H

#include "core/err.h"

#include <stddef.h>

#include <cjson/cJSON.h>

#include "web/i18n.h"

/* Each returns 0 when v is valid, else VALID_E_*. */
int valid_login_id(const char *v); /* 1–64 of [A-Za-z0-9._@-] */
int valid_password(const char *v); /* 8–16 half-width alphanumerics (the desknet rule) */
int valid_date(const char *v);     /* yyyy/mm/dd, a real calendar date */
int valid_datetime(const char *v); /* yyyy/mm/dd or yyyy/mm/dd hh:mm */
int valid_page(const char *v);     /* 1 .. 1000000 */
int valid_flag(const char *v);     /* 0 or 1 */
int valid_text(const char *v);     /* valid UTF-8 text without control characters */
/* valid_text without the invisible characters that make one text look like another
 * (U+200B-U+200F, U+202A-U+202E, U+2066-U+2069, U+FEFF): for text shown to people. */
int valid_visible_text(const char *v);
int valid_id(const char *v); /* a row id: 1 .. 18 digits, no leading zero */

#define VALID_IDS_MAX 1000 /* ids one ?ids= of a download may name */
/*
 * The query's name=1,2,3 (1 .. VALID_IDS_MAX row ids, valid_id each) as a PostgreSQL array
 * "{1,2,3}" into *out (the caller frees). 0; HTTP_E_ABSENT when the query has no such name
 * (*out NULL); 1 when the list is empty or not such a list; -ENOMEM.
 */
int valid_id_list(const char *query, const char *name, char **out);

/* Users and devices (NRA 4-1); lengths in characters. */
#define VALID_NAME_MAX 50          /* each of the six names */
#define VALID_EMAIL_MAX 128        /* ub-emailaddress-length of the certificate's E */
#define VALID_CN_MAX 64            /* ub-common-name: "<family_en> <given_en>" must fit */
#define VALID_ITEM_MAX 64          /* O, OU1, OU2 and each install-restriction item */
int valid_name(const char *v);     /* 1–50 of visible text (valid_visible_text), no outer space */
int valid_kana(const char *v);     /* 1–50 full-width katakana, ー and full-width space */
int valid_name_en(const char *v);  /* 1–50 of ASCII letters and space . ' -, from a letter */
int valid_email(const char *v);    /* ≤ 128, local [A-Za-z0-9._-], a domain with a dot */
int valid_org_unit(const char *v); /* 1–64 printable ASCII, no outer space (O, OU1, OU2) */
int valid_restriction_mode(const char *v); /* none, or, and */
int valid_mac(const char *v);              /* 12 hex digits, no separators */
int valid_restriction_item(const char *v); /* 1–64 of visible text (valid_visible_text) */
int valid_user_sort(const char *v);        /* a sort key of the user list, '-' prefix descending */

/* Characters (UTF-8 code points) in v, or -1 when v is not valid UTF-8. */
long valid_utf8_len(const char *v);

/* Parse yyyy/mm/dd[ hh:mm] into its parts (hh, mm 0 when absent). */
int valid_parse_datetime(const char *v, int *y, int *mo, int *d, int *h, int *mi);

struct valid_field {
	const char *name;
	int (*fn)(const char *v);
	int required;
	const struct i18n_text *msg; /* the message when fn refuses */
	size_t maxlen;               /* in bytes, 0 = no limit beyond the body's */
};

/*
 * Check the string members of obj against the table; every failure is appended
 * to errs as {field, message}. Returns the number of failures.
 */
int valid_json(const cJSON *obj, const struct valid_field *f, size_t n, cJSON *errs, int lang);

/* The same for a query string. */
int valid_query(const char *query, const struct valid_field *f, size_t n, cJSON *errs, int lang);

#endif
