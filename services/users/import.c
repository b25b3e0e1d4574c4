/*
 * import.c: CSV一括登録 (NRA 4-2). The file is read whole (UTF-8 with or without BOM, or CP932)
 * into users, one per 代表メールアドレス, each with the devices of its lines, and checked with the
 * rules of POST /api/users plus duplicates in the file, pairs already taken and the quota. Every
 * error names its line and column; with none, the file becomes a job (jobs.c) that a worker of
 * any shomei-users commits chunk by chunk. The same parse serves the upload and the worker.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/json.h"
#include "core/log.h"
#include "domain/audit.h"
#include "domain/device.h"
#include "extern.h"
#include "web/csv.h"
#include "web/upload.h"
#include "web/valid.h"

/* The columns a line may have (NRA 4-2), in no particular order. */
enum col {
	C_EMAIL,
	C_FAMILY,
	C_GIVEN,
	C_FAMILY_KANA,
	C_GIVEN_KANA,
	C_FAMILY_EN,
	C_GIVEN_EN,
	C_DEV_EMAIL,
	C_O,
	C_OU1,
	C_OU2,
	C_DEVICE,
	C_FROM,
	C_TO,
	C_SERVICE_ID,
	C_UPN,
	C_MODE,
	C_MAC,
	C_COMPUTER,
	C_LOGIN_USER,
	C_BIOS,
	C__MAX,
};

/* The manual's names of the columns (ja, en). */
static const char *const col_label[C__MAX][2] = {
	[C_EMAIL] = {"代表メールアドレス", "Main e-mail address"},
	[C_FAMILY] = {"利用者（姓）", "Family name"},
	[C_GIVEN] = {"利用者（名）", "Given name"},
	[C_FAMILY_KANA] = {"利用者（姓）フリガナ", "Family name (kana)"},
	[C_GIVEN_KANA] = {"利用者（名）フリガナ", "Given name (kana)"},
	[C_FAMILY_EN] = {"利用者（姓）英語表記", "Family name (English)"},
	[C_GIVEN_EN] = {"利用者（名）英語表記", "Given name (English)"},
	[C_DEV_EMAIL] = {"利用デバイス用メールアドレス", "Device e-mail address"},
	[C_O] = {"Organization", "Organization"},
	[C_OU1] = {"OrganizationUnit1", "OrganizationUnit1"},
	[C_OU2] = {"OrganizationUnit2", "OrganizationUnit2"},
	[C_DEVICE] = {"デバイスコード", "Device code"},
	[C_FROM] = {"証明書有効期限(From)", "Validity from"},
	[C_TO] = {"証明書有効期限(To)", "Validity to"},
	[C_SERVICE_ID] = {"サービス連携用ID", "Service ID"},
	[C_UPN] = {"プリンシパル名", "Principal name"},
	[C_MODE] = {"インストール端末制限", "Install restriction"},
	[C_MAC] = {"端末制限項目① MACアドレス", "Restriction 1: MAC address"},
	[C_COMPUTER] = {"端末制限項目② コンピュータ名", "Restriction 2: computer name"},
	[C_LOGIN_USER] = {"端末制限項目③ ログインユーザ名", "Restriction 3: login user"},
	[C_BIOS] = {"端末制限項目④ 端末(BIOS)シリアル番号", "Restriction 4: BIOS serial"},
};

/* The four layouts; the first `required` columns must be there, the rest may be left out. */
struct layout {
	const enum col *cols;
	int n, required;
};

static const enum col basic[] = {
	C_EMAIL,     C_FAMILY, C_GIVEN, C_FAMILY_KANA, C_GIVEN_KANA, C_FAMILY_EN, C_GIVEN_EN,
	C_DEV_EMAIL, C_DEVICE, C_FROM,  C_TO,          C_SERVICE_ID, C_UPN};
static const enum col org[] = {C_EMAIL,      C_FAMILY,    C_GIVEN,      C_FAMILY_KANA,
			       C_GIVEN_KANA, C_FAMILY_EN, C_GIVEN_EN,   C_DEV_EMAIL,
			       C_O,          C_OU1,       C_OU2,        C_DEVICE,
			       C_FROM,       C_TO,        C_SERVICE_ID, C_UPN};
static const enum col restr[] = {
	C_EMAIL,    C_FAMILY,    C_GIVEN,  C_FAMILY_KANA, C_GIVEN_KANA, C_FAMILY_EN,
	C_GIVEN_EN, C_DEV_EMAIL, C_DEVICE, C_FROM,        C_TO,         C_SERVICE_ID,
	C_UPN,      C_MODE,      C_MAC,    C_COMPUTER,    C_LOGIN_USER, C_BIOS};
static const enum col org_restr[] = {
	C_EMAIL,      C_FAMILY, C_GIVEN, C_FAMILY_KANA, C_GIVEN_KANA, C_FAMILY_EN,  C_GIVEN_EN,
	C_DEV_EMAIL,  C_O,      C_OU1,   C_OU2,         C_DEVICE,     C_FROM,       C_TO,
	C_SERVICE_ID, C_UPN,    C_MODE,  C_MAC,         C_COMPUTER,   C_LOGIN_USER, C_BIOS};

#define LAYOUT(a, req)                                                                             \
	{                                                                                          \
		a, (int)(sizeof(a) / sizeof(a[0])), req                                            \
	}

/* By the tenant's features, as NRA picks the layout by contract. */
static struct layout
layout_of(unsigned features)
{
	int o = (features & (1u << FEAT_ORG_UNITS)) != 0;
	int r = (features & (1u << FEAT_INSTALL_RESTRICTION)) != 0;
	struct layout l[4] = {LAYOUT(basic, 9), LAYOUT(org, 12), LAYOUT(restr, 9),
			      LAYOUT(org_restr, 12)};

	return l[o + 2 * r];
}

/*
 * A small open-addressing map from a string key to an int (a user's index, a line). The keys
 * live in blocks of one arena (no allocation per key) and each slot keeps its key's hash, so a
 * probe compares strings only when the hashes are equal: 10,000 lines are a few milliseconds.
 */
#define SMAP_BLOCK 65536

struct smap_block {
	struct smap_block *next;
	size_t used;
	char text[];
};

struct smap {
	const char **keys;
	unsigned long *hashes;
	int *vals;
	size_t cap, n;
	struct smap_block *blocks;
};

/* FNV-1a, then a final mix: keys that differ only in a few digits spread over the table. */
static unsigned long
hash(const char *s)
{
	unsigned long long h = 1469598103934665603ULL;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 32;
	return (unsigned long)h;
}

static void
smap_done(struct smap *m)
{
	while (m->blocks != NULL) {
		struct smap_block *b = m->blocks;
		m->blocks = b->next;
		free(b);
	}
	free(m->keys);
	free(m->hashes);
	free(m->vals);
	memset(m, 0, sizeof(*m));
}

/* A copy of key in the arena, or NULL. */
static const char *
smap_keep(struct smap *m, const char *key)
{
	size_t len = strlen(key) + 1;
	struct smap_block *b = m->blocks;

	if (b == NULL || b->used + len > SMAP_BLOCK) {
		size_t size = len > SMAP_BLOCK ? len : SMAP_BLOCK;
		if ((b = malloc(sizeof(*b) + size)) == NULL)
			return NULL;
		b->next = m->blocks;
		b->used = 0;
		m->blocks = b;
	}
	memcpy(b->text + b->used, key, len);
	b->used += len;
	return b->text + b->used - len;
}

/* Room for about n keys without growing. */
static int
smap_grow(struct smap *m, size_t n)
{
	size_t cap = m->cap ? m->cap : 256;
	const char **keys;
	unsigned long *hashes;
	int *vals;

	while (cap < 2 * n)
		cap *= 2;
	if (cap == m->cap)
		return 0;
	keys = calloc(cap, sizeof(*keys));
	hashes = malloc(cap * sizeof(*hashes));
	vals = malloc(cap * sizeof(*vals));
	if (keys == NULL || hashes == NULL || vals == NULL) {
		free(keys);
		free(hashes);
		free(vals);
		return -ENOMEM;
	}
	for (size_t i = 0; i < m->cap; i++) {
		if (m->keys[i] == NULL)
			continue;
		size_t j = m->hashes[i] & (cap - 1);
		while (keys[j] != NULL)
			j = (j + 1) & (cap - 1);
		keys[j] = m->keys[i];
		hashes[j] = m->hashes[i];
		vals[j] = m->vals[i];
	}
	free(m->keys);
	free(m->hashes);
	free(m->vals);
	m->keys = keys;
	m->hashes = hashes;
	m->vals = vals;
	m->cap = cap;
	return 0;
}

/* The slot of key (hash h): where it is, or the empty one where it would go. */
static size_t
smap_slot(const struct smap *m, const char *key, unsigned long h)
{
	size_t i = h & (m->cap - 1);

	while (m->keys[i] != NULL && (m->hashes[i] != h || strcmp(m->keys[i], key) != 0))
		i = (i + 1) & (m->cap - 1);
	return i;
}

/* The value of key, or -1. */
static int
smap_get(const struct smap *m, const char *key)
{
	size_t i;

	if (m->cap == 0)
		return -1;
	i = smap_slot(m, key, hash(key));
	return m->keys[i] != NULL ? m->vals[i] : -1;
}

/* Add a key that is not there yet. */
static int
smap_put(struct smap *m, const char *key, int val)
{
	unsigned long h = hash(key);
	size_t i;

	if (2 * (m->n + 1) > m->cap && smap_grow(m, m->n + 1) != 0)
		return -ENOMEM;
	i = smap_slot(m, key, h);
	if ((m->keys[i] = smap_keep(m, key)) == NULL)
		return -ENOMEM;
	m->hashes[i] = h;
	m->vals[i] = val;
	m->n++;
	return 0;
}

/* key in lower case (e-mail addresses compare case-insensitively here, as the pairs do). */
static void
lower_into(const char *s, char *buf, size_t len)
{
	size_t i = 0;

	for (; s[i] && i + 1 < len; i++)
		buf[i] = (char)tolower((unsigned char)s[i]);
	buf[i] = '\0';
}

static void
line_error_to(const struct import *im, cJSON *errs, int line, enum col c, const char *msg)
{
	cJSON *e = cJSON_CreateObject();
	int idx = -1;

	for (int i = 0; i < im->layout_n; i++)
		if (im->layout_cols[i] == (int)c)
			idx = i;
	cJSON_AddNumberToObject(e, "line", line);
	if (idx >= 0)
		cJSON_AddNumberToObject(e, "column", idx + 1);
	cJSON_AddStringToObject(e, "field", idx >= 0 ? col_label[c][im->lang] : "file");
	cJSON_AddStringToObject(e, "message", msg);
	cJSON_AddItemToArray(errs, e);
}

static void
line_error(struct import *im, int line, enum col c, const char *msg)
{
	line_error_to(im, im->errs, line, c, msg);
}

void
import_taken_error(const struct import *im, cJSON *errs, int line)
{
	line_error_to(im, errs, line, C_DEV_EMAIL, i18n_msg(&msg_device_pair_taken, im->lang));
}

/* A line's value of column c ("" when the line stops before it or the layout lacks it). */
static const char *
cell(const struct import *im, const struct csv_row *row, enum col c)
{
	for (int i = 0; i < im->layout_n && i < row->n; i++)
		if (im->layout_cols[i] == (int)c)
			return row->f[i];
	return "";
}

static void
add_opt(cJSON *o, const char *name, const char *v)
{
	if (*v != '\0')
		cJSON_AddStringToObject(o, name, v);
}

/* The device object of one line, as POST /api/users takes it. */
static cJSON *
device_of(struct import *im, const struct csv_row *row)
{
	static const char *const modes[] = {"none", "or", "and"};
	cJSON *d = cJSON_CreateObject();
	const char *mode = cell(im, row, C_MODE);
	const char *items[4] = {cell(im, row, C_MAC), cell(im, row, C_COMPUTER),
				cell(im, row, C_LOGIN_USER), cell(im, row, C_BIOS)};
	int any = 0;

	cJSON_AddStringToObject(d, "device", cell(im, row, C_DEVICE));
	add_opt(d, "email", cell(im, row, C_DEV_EMAIL));
	add_opt(d, "valid_from", cell(im, row, C_FROM));
	add_opt(d, "valid_to", cell(im, row, C_TO));
	add_opt(d, "o", cell(im, row, C_O));
	add_opt(d, "ou1", cell(im, row, C_OU1));
	add_opt(d, "ou2", cell(im, row, C_OU2));
	for (int i = 0; i < 4; i++)
		any |= items[i][0] != '\0';
	/* NRA: an empty mode is 制限なし; 0 without items is no restriction at all */
	if (!any && (*mode == '\0' || strcmp(mode, "0") == 0))
		return d;
	if (*mode != '\0' && !(strlen(mode) == 1 && mode[0] >= '0' && mode[0] <= '2')) {
		line_error(im, row->line, C_MODE, i18n_msg(&msg_csv_mode, im->lang));
		return d;
	}
	cJSON *r = cJSON_AddObjectToObject(d, "restriction");
	cJSON_AddStringToObject(r, "mode", modes[*mode ? mode[0] - '0' : 0]);
	add_opt(r, "mac", items[0]);
	add_opt(r, "computer", items[1]);
	add_opt(r, "login_user", items[2]);
	add_opt(r, "bios_serial", items[3]);
	return d;
}

/* The column a field error of POST /api/users' rules points to. */
static enum col
col_of_field(const char *f, int *dev)
{
	static const struct {
		const char *name;
		enum col c;
	} user[] = {{"family_name", C_FAMILY},
		    {"given_name", C_GIVEN},
		    {"family_name_kana", C_FAMILY_KANA},
		    {"given_name_kana", C_GIVEN_KANA},
		    {"family_name_en", C_FAMILY_EN},
		    {"given_name_en", C_GIVEN_EN},
		    {"email", C_EMAIL}},
	  devf[] = {{"device", C_DEVICE},
		    {"email", C_DEV_EMAIL},
		    {"valid_from", C_FROM},
		    {"valid_to", C_TO},
		    {"o", C_O},
		    {"ou1", C_OU1},
		    {"ou2", C_OU2},
		    {"restriction.mac", C_MAC},
		    {"restriction.computer", C_COMPUTER},
		    {"restriction.login_user", C_LOGIN_USER},
		    {"restriction.bios_serial", C_BIOS},
		    {"restriction", C_MODE},
		    {"restriction.mode", C_MODE}};
	const char *dot;

	*dev = -1;
	if (strncmp(f, "devices[", 8) == 0 && (dot = strstr(f, "].")) != NULL) {
		*dev = atoi(f + 8);
		for (size_t i = 0; i < sizeof(devf) / sizeof(devf[0]); i++)
			if (strcmp(dot + 2, devf[i].name) == 0)
				return devf[i].c;
		return C_DEVICE;
	}
	if (strncmp(f, "devices", 7) == 0)
		return C_DEVICE;
	for (size_t i = 0; i < sizeof(user) / sizeof(user[0]); i++)
		if (strcmp(f, user[i].name) == 0)
			return user[i].c;
	return C_EMAIL;
}

/* Move the field errors of one user's check onto its lines. */
static void
map_errors(struct import *im, const struct imp_user *u, cJSON *errs)
{
	cJSON *e;

	cJSON_ArrayForEach(e, errs)
	{
		const char *f = json_str(e, "field"), *msg = json_str(e, "message");
		int dev;
		enum col c = col_of_field(f ? f : "", &dev);
		int line = dev >= 0 && dev < u->nlines && dev < IMPORT_MAX_LINES ? u->lines[dev]
										 : u->lines[0];

		/* too many devices: the first line past the limit */
		if (dev < 0 && c == C_DEVICE && u->nlines > USERS_MAX_DEVICES)
			line = u->lines[USERS_MAX_DEVICES];
		line_error(im, line, c, msg ? msg : "");
	}
}

/* A user field of a later line that differs from the user's first line. */
static void
same_user(struct import *im, const struct imp_user *u, const struct csv_row *row)
{
	static const enum col uc[] = {C_FAMILY,     C_GIVEN,     C_FAMILY_KANA,
				      C_GIVEN_KANA, C_FAMILY_EN, C_GIVEN_EN};
	static const char *const names[] = {"family_name",     "given_name",     "family_name_kana",
					    "given_name_kana", "family_name_en", "given_name_en"};

	for (size_t i = 0; i < sizeof(uc) / sizeof(uc[0]); i++) {
		const char *first = json_str(u->body, names[i]);
		if (first != NULL && strcmp(first, cell(im, row, uc[i])) != 0) {
			char msg[256];
			snprintf(msg, sizeof(msg), "%s %d", i18n_msg(&msg_csv_same_user, im->lang),
				 u->lines[0]);
			line_error(im, row->line, uc[i], msg);
		}
	}
}

static struct imp_user *
new_user(struct import *im, const struct csv_row *row)
{
	static const enum col uc[] = {C_FAMILY,    C_GIVEN,    C_FAMILY_KANA, C_GIVEN_KANA,
				      C_FAMILY_EN, C_GIVEN_EN, C_EMAIL};
	struct imp_user *u;

	if (im->nusers == im->capusers) {
		size_t cap = im->capusers ? im->capusers * 2 : 64;
		struct imp_user *n = realloc(im->users, cap * sizeof(*n));
		if (n == NULL)
			return NULL;
		im->users = n;
		im->capusers = cap;
	}
	u = &im->users[im->nusers++];
	memset(u, 0, sizeof(*u));
	u->body = cJSON_CreateObject();
	for (int i = 0; i < UF__MAX; i++)
		cJSON_AddStringToObject(u->body, user_field_names[i], cell(im, row, uc[i]));
	cJSON_AddArrayToObject(u->body, "devices");
	return u;
}

/* サービス連携用ID (visible text, 128) and プリンシパル名 (a UPN: x@y, 256). */
static void
check_extra(struct import *im, const struct csv_row *row)
{
	const char *sid = cell(im, row, C_SERVICE_ID), *upn = cell(im, row, C_UPN);

	if (*sid && (valid_visible_text(sid) != 0 || valid_utf8_len(sid) > 128))
		line_error(im, row->line, C_SERVICE_ID, i18n_msg(&msg_csv_service_id, im->lang));
	if (*upn && (valid_visible_text(upn) != 0 || strlen(upn) > 256 ||
		     strchr(upn, '@') == NULL || strchr(upn, ' ') != NULL))
		line_error(im, row->line, C_UPN, i18n_msg(&msg_csv_upn, im->lang));
}

/*
 * A line written for the O/OU layout on a contract without it (or the other way round): the
 * device code is not where this layout has it but where the other has it. One error that says
 * so, instead of a confusing one per shifted column.
 */
static int
other_layout(struct import *im, const struct csv_row *row)
{
	int here = -1, there;
	char msg[300];

	for (int i = 0; i < im->layout_n; i++)
		if (im->layout_cols[i] == C_DEVICE)
			here = i;
	there = here == 8 ? 11 : 8; /* the O/OU layouts have it 12th, the others 9th */
	if (here < 0 || row->n <= there || device_valid_code(row->f[here]) == 0 ||
	    device_valid_code(row->f[there]) != 0)
		return 0;
	snprintf(msg, sizeof(msg), i18n_msg(&msg_csv_layout, im->lang), there + 1, here + 1);
	line_error(im, row->line, C_DEVICE, msg);
	return 1;
}

/* One line: its column count, its user (new or the one of its 代表メールアドレス), its device. */
static int
take_line(struct import *im, const struct csv_row *row, struct smap *by_email)
{
	char key[300], msg[200];
	struct imp_user *u;
	int idx;

	if (row->n < im->layout_required || row->n > im->layout_n) {
		snprintf(msg, sizeof(msg), i18n_msg(&msg_csv_columns, im->lang), row->n,
			 im->layout_required, im->layout_n);
		line_error(im, row->line, row->n < im->layout_required ? C_DEVICE : C__MAX, msg);
		return 0;
	}
	if (other_layout(im, row))
		return 0;
	check_extra(im, row);
	lower_into(cell(im, row, C_EMAIL), key, sizeof(key));
	if ((idx = smap_get(by_email, key)) >= 0) {
		u = &im->users[idx];
		same_user(im, u, row);
	} else {
		if ((u = new_user(im, row)) == NULL ||
		    smap_put(by_email, key, (int)(im->nusers - 1)) != 0)
			return -ENOMEM;
	}
	if (u->nlines < IMPORT_MAX_LINES)
		u->lines[u->nlines] = row->line;
	if (u->nlines < USERS_MAX_DEVICES) {
		u->service_id[u->nlines] =
			*cell(im, row, C_SERVICE_ID) ? strdup(cell(im, row, C_SERVICE_ID)) : NULL;
		u->upn[u->nlines] = *cell(im, row, C_UPN) ? strdup(cell(im, row, C_UPN)) : NULL;
	}
	u->nlines++;
	cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(u->body, "devices"),
			     device_of(im, row));
	return 0;
}

/* About how many lines the text has (a map's size; quoted line ends count too). */
static size_t
lines_in(const char *text, size_t len)
{
	size_t n = 1;

	for (const char *p = text, *end = text + len;
	     (p = memchr(p, '\n', (size_t)(end - p))) != NULL; p++)
		n++;
	return n;
}

/* 1 when the first row is the manual's header line (a copy of the table's titles). */
static int
is_header(const struct csv_row *row)
{
	return row->line == 1 && row->n > 0 &&
	       (strcmp(row->f[0], "代表メールアドレス") == 0 ||
		strcasecmp(row->f[0], "email") == 0);
}

/* Duplicates in the file: one (device e-mail, device code) pair on two lines. */
static int
check_duplicates(struct import *im)
{
	struct smap seen = {0};
	char key[300];
	int rc = smap_grow(&seen, im->ndevices);

	for (size_t i = 0; i < im->nusers && rc == 0; i++) {
		struct imp_user *u = &im->users[i];
		for (int d = 0; d < u->u.ndev && rc == 0; d++) {
			int prev;

			/* "code e-mail", in lower case */
			size_t cl = strlen(u->u.dev[d].code);
			memcpy(key, u->u.dev[d].code, cl); /* two digits (device_valid_code) */
			key[cl] = ' ';
			lower_into(check_device_email(&u->u, &u->u.dev[d]), key + cl + 1,
				   sizeof(key) - cl - 1);
			if ((prev = smap_get(&seen, key)) >= 0) {
				char msg[200];
				snprintf(msg, sizeof(msg), "%s %d",
					 i18n_msg(&msg_csv_duplicate, im->lang), prev);
				line_error(im, u->lines[d], C_DEVICE, msg);
			} else {
				rc = smap_put(&seen, key, u->lines[d]);
			}
		}
	}
	smap_done(&seen);
	return rc;
}

/* Pairs other users already have, in one query: an error on each line that has one. */
int
import_pairs_taken(struct db *db, struct import *im)
{
	cJSON *items = cJSON_CreateArray();
	PGresult *res = NULL;
	int rc;

	for (size_t i = 0; i < im->nusers; i++)
		for (int d = 0; d < im->users[i].u.ndev; d++)
			pairs_add(items, im->users[i].lines[d], &im->users[i].u,
				  &im->users[i].u.dev[d]);
	rc = pairs_find(db, im->tenant->id, items, &res);
	cJSON_Delete(items);
	if (rc != 0)
		return rc;
	for (int r = 0; r < PQntuples(res); r++)
		import_taken_error(im, im->errs, (int)db_get_ll(res, r, "i"));
	PQclear(res);
	return 0;
}

void
import_quota(struct import *im, long long available)
{
	long long n = 0;
	char msg[200];

	for (size_t i = 0; i < im->nusers; i++)
		for (int d = 0; d < im->users[i].u.ndev; d++)
			if (++n == available + 1) {
				snprintf(msg, sizeof(msg), "%s %lld",
					 i18n_msg(&msg_quota, im->lang), available);
				line_error(im, im->users[i].lines[d], C_DEVICE, msg);
				return;
			}
}

/* The errors in line order (then column): what an administrator reads top to bottom. */
void
import_sort_errors(struct import *im)
{
	json_sort_lines(im->errs);
}

int
import_parse(struct import *im, const char *text, size_t len, const struct tenant *tn,
	     int admin_download, int lang, time_t now)
{
	struct layout l = layout_of(tn->features);
	struct smap by_email = {0};
	struct csv_reader r;
	struct csv_row row;
	int rc;

	memset(im, 0, sizeof(*im));
	im->tenant = tn;
	im->lang = lang;
	im->layout_n = l.n;
	im->layout_required = l.required;
	for (int i = 0; i < l.n; i++)
		im->layout_cols[i] = (int)l.cols[i];
	im->errs = cJSON_CreateArray();
	/* one allocation for the users of a big file, not a copy at each doubling */
	im->capusers = lines_in(text, len);
	if (smap_grow(&by_email, im->capusers) != 0 ||
	    (im->users = malloc(im->capusers * sizeof(*im->users))) == NULL) {
		im->capusers = 0;
		smap_done(&by_email);
		return -ENOMEM;
	}
	csv_reader_init(&r, text, len);
	while ((rc = csv_read(&r, &row)) == 1) {
		if (is_header(&row))
			continue;
		if ((rc = take_line(im, &row, &by_email)) != 0)
			break;
	}
	if (rc == CSV_E_QUOTE) {
		line_error(im, row.line, C__MAX, i18n_msg(&msg_csv_quote, lang));
		rc = 0;
	}
	csv_reader_done(&r);
	smap_done(&by_email);
	if (rc != 0)
		return rc;
	if (im->nusers == 0 && cJSON_GetArraySize(im->errs) == 0)
		line_error(im, 1, C__MAX, i18n_msg(&msg_csv_empty, lang));
	for (size_t i = 0; i < im->nusers; i++) {
		struct imp_user *u = &im->users[i];
		cJSON *errs = cJSON_CreateArray();

		check_user(u->body, 0, lang, errs, &u->u);
		check_devices(u->body, tn, now, lang, errs, &u->u);
		map_errors(im, u, errs);
		cJSON_Delete(errs);
		for (int d = 0; d < u->u.ndev; d++) {
			u->u.dev[d].service_id = u->service_id[d];
			u->u.dev[d].principal_name = u->upn[d];
			if (admin_download && strcmp(u->u.dev[d].mode, "none") != 0)
				line_error(im, u->lines[d], C_MODE,
					   i18n_msg(&msg_csv_admin_restriction, lang));
		}
		im->ndevices += (size_t)u->u.ndev;
	}
	return check_duplicates(im);
}

void
import_done(struct import *im)
{
	for (size_t i = 0; i < im->nusers; i++) {
		cJSON_Delete(im->users[i].body);
		for (int d = 0; d < USERS_MAX_DEVICES; d++) {
			free(im->users[i].service_id[d]);
			free(im->users[i].upn[d]);
		}
	}
	free(im->users);
	cJSON_Delete(im->errs);
	memset(im, 0, sizeof(*im));
}

/* The checked file becomes a queued job, with its history entry, in one transaction. */
static int
queue_job(struct http_req *req, struct svc_thread *t, const struct import *im, const char *text,
	  const char *filename, int admin_download, const char *enc, long long *job_id)
{
	char users[24], devs[24];
	struct audit_entry e = {req->tenant_id, req->remote_addr,  "admin",
				req->admin_id,  AUDIT_USER_IMPORT, NULL};
	struct audit_more m = {NULL, "import_queued", {filename, users, devs}, 3};
	struct jobs_new n = {
		.tenant_id = req->tenant_id,
		.admin_id = req->admin_id,
		.kind = "user_import",
		.filename = filename,
		.input = text,
		.ip = req->remote_addr,
		.encoding = enc,
		.total = (int)im->nusers,
		.devices = (int)im->ndevices,
		.admin_download = admin_download,
		.more = &m,
	};

	snprintf(users, sizeof(users), "%zu", im->nusers);
	snprintf(devs, sizeof(devs), "%zu", im->ndevices);
	return jobs_queue(&t->db, &n, &e, job_id);
}

/* "true", "1", "on" (a checkbox) or absent; 0 false, 1 true, -1 not a boolean. */
static int
form_bool(const struct http_req *req, const char *name)
{
	struct upload_part p;

	if (upload_find(req, name, &p) != 0)
		return 0;
	if ((p.len == 4 && memcmp(p.data, "true", 4) == 0) || (p.len == 1 && p.data[0] == '1') ||
	    (p.len == 2 && memcmp(p.data, "on", 2) == 0))
		return 1;
	if ((p.len == 5 && memcmp(p.data, "false", 5) == 0) || (p.len == 1 && p.data[0] == '0') ||
	    p.len == 0)
		return 0;
	return -1;
}

int
users_import(struct http_req *req, struct svc_thread *t)
{
	struct upload_part file;
	struct tenant tn;
	struct import im = {0};
	struct certq_quota q;
	char *text = NULL, fname[256];
	const char *enc = "";
	size_t len = 0;
	long long job_id = 0;
	int rc, bad_line = 0, admin_download;

	if ((rc = upload_find(req, "file", &file)) != 0 || !file.has_filename) {
		svc_file_error(req, 0, i18n_msg(&msg_csv_no_file, req->lang));
		return 0;
	}
	if ((admin_download = form_bool(req, "admin_download")) < 0) {
		cJSON *errs = cJSON_CreateArray();
		json_field_error(errs, "admin_download", i18n_msg(&msg_not_bool, req->lang));
		svc_invalid(req, errs);
		return 0;
	}
	/* the name goes into the history and the job list: valid UTF-8, at most 200 characters */
	snprintf(fname, sizeof(fname), "%s", file.filename);
	if (valid_text(fname) != 0 || valid_utf8_len(fname) > 200 || fname[0] == '\0')
		snprintf(fname, sizeof(fname), "upload.csv");
	if ((rc = tenant_load(&t->db, req->tenant_id, &tn)) != 0)
		return rc;
	if (!(tn.features & (1u << FEAT_ADMIN_MAY_ISSUE))) {
		svc_fail(req, 403, "issue_not_allowed", &msg_issue_not_allowed);
		return 0;
	}
	if ((rc = csv_decode(file.data, file.len, &text, &len, &enc, &bad_line)) ==
	    CSV_E_ENCODING) {
		svc_file_error(req, bad_line, i18n_msg(&msg_csv_encoding, req->lang));
		return 0;
	}
	if (rc != 0)
		return rc;
	if ((rc = import_parse(&im, text, len, &tn, admin_download, req->lang, time(NULL))) != 0)
		goto out;
	if (cJSON_GetArraySize(im.errs) == 0 && (rc = import_pairs_taken(&t->db, &im)) != 0)
		goto out;
	if ((rc = certq_count(&t->db, req->tenant_id, &q)) != 0)
		goto out;
	if ((long long)im.ndevices > q.available)
		import_quota(&im, q.available);
	if (cJSON_GetArraySize(im.errs) > 0) {
		import_sort_errors(&im);
		svc_invalid(req, im.errs);
		im.errs = NULL;
		goto out;
	}
	if ((rc = queue_job(req, t, &im, text, fname, admin_download, enc, &job_id)) != 0)
		goto out;
	jobs_wake();
	log_msg(LOG_INFO, "event=import_queued tenant=%lld job=%lld users=%zu devices=%zu enc=%s",
		req->tenant_id, job_id, im.nusers, im.ndevices, enc);
	cJSON *doc = cJSON_CreateObject();
	cJSON_AddNumberToObject(doc, "job_id", (double)job_id);
	cJSON_AddNumberToObject(doc, "users", (double)im.nusers);
	cJSON_AddNumberToObject(doc, "devices", (double)im.ndevices);
	cJSON_AddStringToObject(doc, "encoding", enc);
	http_json(req, 202, doc);
	cJSON_Delete(doc);
out:
	import_done(&im);
	free(text);
	return rc < 0 ? rc : rc > 0 ? -EIO : 0;
}
