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
 * For answers built row by row (lists): add name with the text v, or null when v is NULL. name is
 * not copied: it must outlive obj (a string literal, a static table's).
 */
void json_add_text(cJSON *obj, const char *name, const char *v);

/*
 * The same for an integer given as its decimal text (a bigint column's value): written as it is,
 * not converted to a double and printed back; null when v is NULL, and a number converted from
 * it when v is not plain digits (with an optional '-').
 */
void json_add_int_text(cJSON *obj, const char *name, const char *v);

/* Sort an array of error objects by their "line", then "column" (absent: 0). */
void json_sort_lines(cJSON *errs);

#endif
