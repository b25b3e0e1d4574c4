/* json.h: the one place request bodies in JSON are parsed, with hard limits. */
#ifndef SHOMEI_JSON_H
#define SHOMEI_JSON_H

#include "core/err.h"

#include <stddef.h>

#include <cjson/cJSON.h>

#define JSON_MAX_DEPTH 16
#define JSON_MAX_ITEMS 10000

/* Parse an object from text, NUL-terminated at len; *out is owned by the caller (cJSON_Delete).
 * Empty text gives {}. A NUL in the text, or the escape \u0000 in any string, is JSON_E_SYNTAX
 * (a string cut short at its NUL would be a value changed silently). */
int json_parse_object(const char *text, size_t len, cJSON **out);

/* The string member name of obj, or NULL when absent or not a string. */
const char *json_str(const cJSON *obj, const char *name);

/* Append {"field": field, "message": msg} to the array errs. */
void json_field_error(cJSON *errs, const char *field, const char *msg);

/*
 * Members for answers built in bulk (a list's page), without copying name, which must outlive
 * obj (a string constant): the string v (NULL: ""), and an integer already written in decimal
 * (a PostgreSQL integer column's text), printed as it is, without a conversion to double and
 * back (anything but an optional minus and digits, NULL included, gives 0).
 */
void json_add_str_const(cJSON *obj, const char *name, const char *v);
void json_add_int_text(cJSON *obj, const char *name, const char *digits);

/* Sort an array of error objects by their "line", then "column" (absent: 0). */
void json_sort_lines(cJSON *errs);

#endif
