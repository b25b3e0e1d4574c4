/* zipw.c: a streaming ZIP writer (stored entries): archives of any count in bounded memory. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <zlib.h>

#include "zipw.h"

struct zipw_entry {
	char *name;
	uint32_t crc;
	uint32_t size;
	uint32_t offset;
	uint16_t dostime;
	uint16_t dosdate;
};

struct zipw {
	zipw_sink sink;
	void *ctx;
	uint64_t offset;
	struct zipw_entry *e;
	size_t n;
	size_t cap;
	size_t *slots; /* open addressing over the names: entry index + 1, 0 = free */
	size_t nslots; /* a power of two, more than twice n */
};

struct zipw *
zipw_new(zipw_sink sink, void *ctx)
{
	struct zipw *z = calloc(1, sizeof(*z));

	if (z == NULL)
		return NULL;
	z->sink = sink;
	z->ctx = ctx;
	return z;
}

void
zipw_free(struct zipw *z)
{
	if (z == NULL)
		return;
	for (size_t i = 0; i < z->n; i++)
		free(z->e[i].name);
	free(z->e);
	free(z->slots);
	free(z);
}

static void
le16(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
}

static void
le32(unsigned char *p, uint32_t v)
{
	le16(p, (uint16_t)v);
	le16(p + 2, (uint16_t)(v >> 16));
}

static int
emit(struct zipw *z, const void *buf, size_t len)
{
	int rc = z->sink(z->ctx, buf, len);

	if (rc == 0)
		z->offset += len;
	return rc;
}

/* MS-DOS time and date of t in Japan (UTC+9, no daylight saving). */
static void
dos_time(time_t t, uint16_t *dtime, uint16_t *ddate)
{
	struct tm tm;
	time_t jst = t + 9 * 3600;

	gmtime_r(&jst, &tm);
	if (tm.tm_year < 80) {
		tm.tm_year = 80;
		tm.tm_mon = 0;
		tm.tm_mday = 1;
		tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	}
	*dtime = (uint16_t)(tm.tm_hour << 11 | tm.tm_min << 5 | tm.tm_sec / 2);
	*ddate = (uint16_t)((tm.tm_year - 80) << 9 | (tm.tm_mon + 1) << 5 | tm.tm_mday);
}

/* The fields local and central headers share, from "version needed" to "extra length". */
static void
common_fields(unsigned char *p, const struct zipw_entry *e, size_t namelen)
{
	le16(p, 20);          /* version needed: 2.0 */
	le16(p + 2, 1 << 11); /* flags: names are UTF-8 */
	le16(p + 4, 0);       /* method: stored */
	le16(p + 6, e->dostime);
	le16(p + 8, e->dosdate);
	le32(p + 10, e->crc);
	le32(p + 14, e->size); /* compressed */
	le32(p + 18, e->size); /* uncompressed */
	le16(p + 22, (uint16_t)namelen);
	le16(p + 24, 0); /* extra */
}

static int
grow(struct zipw *z)
{
	size_t cap = z->cap ? z->cap * 2 : 64;
	struct zipw_entry *e;

	if (z->n < z->cap)
		return 0;
	if ((e = realloc(z->e, cap * sizeof(*e))) == NULL)
		return -ENOMEM;
	z->e = e;
	z->cap = cap;
	return 0;
}

/* FNV-1a of the name in ASCII lower case: names differing only in case are one name. */
static size_t
name_hash(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		h = (h ^ (c >= 'A' && c <= 'Z' ? c + 32 : c)) * 16777619u;
	}
	return h;
}

/* The slot of name: the entry holding it, else the free slot where it would go. */
static size_t *
slot_of(const struct zipw *z, const char *name)
{
	size_t i = name_hash(name) & (z->nslots - 1);

	while (z->slots[i] != 0 && strcasecmp(z->e[z->slots[i] - 1].name, name) != 0)
		i = (i + 1) & (z->nslots - 1);
	return &z->slots[i];
}

/* Room in the name index for one more entry. */
static int
index_grow(struct zipw *z)
{
	size_t nslots = z->nslots ? z->nslots * 2 : 256, *old = z->slots, oldn = z->nslots;

	if (2 * (z->n + 1) < z->nslots)
		return 0;
	if ((z->slots = calloc(nslots, sizeof(*z->slots))) == NULL) {
		z->slots = old;
		return -ENOMEM;
	}
	z->nslots = nslots;
	for (size_t i = 0; i < oldn; i++)
		if (old[i] != 0)
			*slot_of(z, z->e[old[i] - 1].name) = old[i];
	free(old);
	return 0;
}

/* name, or name with _2, _3 … before its extension when the archive has it; malloc'ed. */
static char *
unique_name(const struct zipw *z, const char *name)
{
	const char *slash = strrchr(name, '/'), *base = slash ? slash + 1 : name;
	const char *dot = strrchr(base, '.');
	size_t stem, size = strlen(name) + 24;
	char *s;

	if (*slot_of(z, name) == 0)
		return strdup(name);
	if (dot == NULL || dot == base) /* no extension, or a name like ".profile" */
		dot = name + strlen(name);
	stem = (size_t)(dot - name);
	if ((s = malloc(size)) == NULL)
		return NULL;
	for (size_t k = 2;; k++) {
		snprintf(s, size, "%.*s_%zu%s", (int)stem, name, k, dot);
		if (*slot_of(z, s) == 0)
			return s;
	}
}

const char *
zipw_last_name(const struct zipw *z)
{
	return z->n > 0 ? z->e[z->n - 1].name : NULL;
}

int
zipw_add(struct zipw *z, const char *name, const void *data, size_t len, time_t mtime)
{
	unsigned char h[30];
	struct zipw_entry e;
	size_t namelen = strlen(name);
	int rc;

	if (z->n >= ZIPW_MAX_ENTRIES || namelen == 0 || namelen > 0xffff || len > 0xfffffffeU ||
	    z->offset + 30 + namelen + len > 0xfffffffeU)
		return ZIPW_E_LIMIT;
	if ((rc = grow(z)) != 0 || (rc = index_grow(z)) != 0)
		return rc;
	memset(&e, 0, sizeof(e));
	e.crc = (uint32_t)crc32(0L, data, (uInt)len);
	e.size = (uint32_t)len;
	e.offset = (uint32_t)z->offset;
	dos_time(mtime, &e.dostime, &e.dosdate);
	if ((e.name = unique_name(z, name)) == NULL)
		return -ENOMEM;
	name = e.name;
	namelen = strlen(name);
	if (namelen > 0xffff || z->offset + 30 + namelen + len > 0xfffffffeU) {
		free(e.name);
		return ZIPW_E_LIMIT;
	}
	le32(h, 0x04034b50);
	common_fields(h + 4, &e, namelen);
	if ((rc = emit(z, h, sizeof(h))) != 0 || (rc = emit(z, name, namelen)) != 0 ||
	    (len > 0 && (rc = emit(z, data, len)) != 0)) {
		free(e.name);
		return rc;
	}
	*slot_of(z, e.name) = z->n + 1;
	z->e[z->n++] = e;
	return 0;
}

static int
central_entry(struct zipw *z, const struct zipw_entry *e)
{
	unsigned char h[46];
	size_t namelen = strlen(e->name);
	int rc;

	le32(h, 0x02014b50);
	le16(h + 4, 0x0314); /* made by: Unix, 2.0 */
	common_fields(h + 6, e, namelen);
	le16(h + 32, 0);                       /* comment length */
	le16(h + 34, 0);                       /* disk */
	le16(h + 36, 0);                       /* internal attributes */
	le32(h + 38, (uint32_t)0100644 << 16); /* external: -rw-r--r-- */
	le32(h + 42, e->offset);
	if ((rc = emit(z, h, sizeof(h))) != 0)
		return rc;
	return emit(z, e->name, namelen);
}

int
zipw_finish(struct zipw *z)
{
	unsigned char end[22];
	uint64_t start = z->offset;
	int rc;

	for (size_t i = 0; i < z->n; i++)
		if ((rc = central_entry(z, &z->e[i])) != 0)
			return rc;
	if (z->offset > 0xfffffffeU)
		return ZIPW_E_LIMIT;
	le32(end, 0x06054b50);
	le16(end + 4, 0);
	le16(end + 6, 0);
	le16(end + 8, (uint16_t)z->n);
	le16(end + 10, (uint16_t)z->n);
	le32(end + 12, (uint32_t)(z->offset - start));
	le32(end + 16, (uint32_t)start);
	le16(end + 20, 0);
	return emit(z, end, sizeof(end));
}
