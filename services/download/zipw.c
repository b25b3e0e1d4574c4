/* zipw.c: a streaming ZIP writer (stored entries): archives of any count in bounded memory. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <zlib.h>

#include "zipw.h"

struct zipw_entry {
	uint32_t crc;
	uint32_t size;
	uint32_t offset;
	uint16_t dostime;
	uint16_t dosdate;
};

/*
 * Nothing here grows with the entries: the central directory and the name index live in an
 * unlinked temporary file (tmpfile(): O_TMPFILE in /tmp), read and written with pread/pwrite
 * (never mapped, so its pages are the kernel's cache, not this process's memory). The file
 * holds the index first, ZIPW_SLOTS slots of { FNV-1a hash, central record offset + 1 } (sparse:
 * only the slots used take room), then from CD_BASE the central directory's records as they
 * will be sent.
 */
#define ZIPW_SLOTS (1u << 17) /* a power of two, more than twice ZIPW_MAX_ENTRIES */
#define SLOT_SIZE 8
#define CD_BASE ((off_t)ZIPW_SLOTS * SLOT_SIZE)
#define CD_HEAD 46 /* a central record's fixed part; the name follows */

struct zipw {
	zipw_sink sink;
	void *ctx;
	uint64_t offset;
	size_t n;
	FILE *tmp;   /* the temporary file; only its descriptor is used */
	int fd;      /* fileno(tmp) */
	uint64_t cd; /* the central directory's bytes so far (from CD_BASE) */
	char *last;  /* the name the last entry got */
	char *probe; /* a name read back from the file while probing (up to 0xffff bytes) */
};

struct zipw *
zipw_new(zipw_sink sink, void *ctx)
{
	struct zipw *z = calloc(1, sizeof(*z));

	if (z == NULL)
		return NULL;
	z->sink = sink;
	z->ctx = ctx;
	if ((z->probe = malloc(0x10000)) == NULL || (z->tmp = tmpfile()) == NULL) {
		free(z->probe);
		free(z);
		return NULL;
	}
	z->fd = fileno(z->tmp); /* the index: a hole, read as free slots */
	return z;
}

void
zipw_free(struct zipw *z)
{
	if (z == NULL)
		return;
	if (z->tmp != NULL)
		fclose(z->tmp);
	free(z->last);
	free(z->probe);
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

/* len bytes at off of the temporary file into buf (past its end: zeros). 0 or -EIO. */
static int
rd(const struct zipw *z, off_t off, void *buf, size_t len)
{
	unsigned char *p = buf;

	while (len > 0) {
		ssize_t r = pread(z->fd, p, len, off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -EIO;
		if (r == 0) {
			memset(p, 0, len);
			return 0;
		}
		p += r;
		off += r;
		len -= (size_t)r;
	}
	return 0;
}

static int
wr(struct zipw *z, off_t off, const void *buf, size_t len)
{
	const unsigned char *p = buf;

	while (len > 0) {
		ssize_t w = pwrite(z->fd, p, len, off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -EIO;
		p += w;
		off += w;
		len -= (size_t)w;
	}
	return 0;
}

/* FNV-1a of the name in ASCII lower case: names differing only in case are one name. */
static uint32_t
name_hash(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		h = (h ^ (c >= 'A' && c <= 'Z' ? c + 32 : c)) * 16777619u;
	}
	return h;
}

/*
 * Whether the archive has name (ASCII case-insensitively): 1, else 0 with *slot the free slot
 * where it would go; -EIO.
 */
static int
lookup(struct zipw *z, const char *name, uint32_t *slot)
{
	uint32_t h = name_hash(name), i = h & (ZIPW_SLOTS - 1);
	size_t len = strlen(name);
	unsigned char s[SLOT_SIZE], nl[2];
	int rc;

	for (;; i = (i + 1) & (ZIPW_SLOTS - 1)) {
		if ((rc = rd(z, (off_t)i * SLOT_SIZE, s, sizeof(s))) != 0)
			return rc;
		uint32_t sh = s[0] | s[1] << 8 | s[2] << 16 | (uint32_t)s[3] << 24;
		uint32_t ref = s[4] | s[5] << 8 | s[6] << 16 | (uint32_t)s[7] << 24;
		if (ref == 0) {
			*slot = i;
			return 0;
		}
		if (sh != h)
			continue;
		off_t rec = CD_BASE + ref - 1;
		if ((rc = rd(z, rec + 28, nl, 2)) != 0)
			return rc;
		if ((size_t)(nl[0] | nl[1] << 8) != len)
			continue;
		if ((rc = rd(z, rec + CD_HEAD, z->probe, len)) != 0)
			return rc;
		z->probe[len] = '\0';
		if (strcasecmp(z->probe, name) == 0)
			return 1;
	}
}

/* name, or name with _2, _3 … before its extension when the archive has it, into *out
 * (malloc'ed) with *slot its free slot in the index. 0, -ENOMEM or -EIO. */
static int
unique_name(struct zipw *z, const char *name, char **out, uint32_t *slot)
{
	const char *slash = strrchr(name, '/'), *base = slash ? slash + 1 : name;
	const char *dot = strrchr(base, '.');
	size_t stem, size = strlen(name) + 24;
	char *s;
	int rc;

	if ((rc = lookup(z, name, slot)) <= 0) {
		if (rc == 0 && (*out = strdup(name)) == NULL)
			rc = -ENOMEM;
		return rc;
	}
	if (dot == NULL || dot == base) /* no extension, or a name like ".profile" */
		dot = name + strlen(name);
	stem = (size_t)(dot - name);
	if ((s = malloc(size)) == NULL)
		return -ENOMEM;
	for (size_t k = 2;; k++) {
		snprintf(s, size, "%.*s_%zu%s", (int)stem, name, k, dot);
		if ((rc = lookup(z, s, slot)) <= 0) {
			if (rc == 0)
				*out = s;
			else
				free(s);
			return rc;
		}
	}
}

const char *
zipw_last_name(const struct zipw *z)
{
	return z->last;
}

/* The entry's central record, written to the temporary file, and its name into the index. */
static int
central_entry(struct zipw *z, const struct zipw_entry *e, const char *name, uint32_t slot)
{
	unsigned char h[CD_HEAD], s[SLOT_SIZE];
	size_t namelen = strlen(name);
	uint32_t ref = (uint32_t)z->cd + 1;
	int rc;

	le32(h, 0x02014b50);
	le16(h + 4, 0x0314); /* made by: Unix, 2.0 */
	common_fields(h + 6, e, namelen);
	le16(h + 32, 0);                       /* comment length */
	le16(h + 34, 0);                       /* disk */
	le16(h + 36, 0);                       /* internal attributes */
	le32(h + 38, (uint32_t)0100644 << 16); /* external: -rw-r--r-- */
	le32(h + 42, e->offset);
	if ((rc = wr(z, CD_BASE + (off_t)z->cd, h, sizeof(h))) != 0 ||
	    (rc = wr(z, CD_BASE + (off_t)z->cd + CD_HEAD, name, namelen)) != 0)
		return rc;
	z->cd += CD_HEAD + namelen;
	le32(s, name_hash(name));
	le32(s + 4, ref);
	return wr(z, (off_t)slot * SLOT_SIZE, s, sizeof(s));
}

int
zipw_add(struct zipw *z, const char *name, const void *data, size_t len, time_t mtime)
{
	unsigned char h[30];
	struct zipw_entry e;
	size_t namelen = strlen(name);
	uint32_t slot;
	char *got = NULL;
	int rc;

	if (z->n >= ZIPW_MAX_ENTRIES || namelen == 0 || namelen > 0xffff || len > 0xfffffffeU ||
	    z->offset + 30 + namelen + len > 0xfffffffeU)
		return ZIPW_E_LIMIT;
	memset(&e, 0, sizeof(e));
	e.crc = (uint32_t)crc32(0L, data, (uInt)len);
	e.size = (uint32_t)len;
	e.offset = (uint32_t)z->offset;
	dos_time(mtime, &e.dostime, &e.dosdate);
	if ((rc = unique_name(z, name, &got, &slot)) != 0)
		return rc;
	namelen = strlen(got);
	if (namelen > 0xffff || z->offset + 30 + namelen + len > 0xfffffffeU ||
	    z->cd + CD_HEAD + namelen > 0xfffffffeU) {
		free(got);
		return ZIPW_E_LIMIT;
	}
	le32(h, 0x04034b50);
	common_fields(h + 4, &e, namelen);
	if ((rc = emit(z, h, sizeof(h))) != 0 || (rc = emit(z, got, namelen)) != 0 ||
	    (len > 0 && (rc = emit(z, data, len)) != 0) ||
	    (rc = central_entry(z, &e, got, slot)) != 0) {
		free(got);
		return rc;
	}
	free(z->last);
	z->last = got;
	z->n++;
	return 0;
}

int
zipw_finish(struct zipw *z)
{
	unsigned char end[22];
	uint64_t start = z->offset;
	int rc;

	/* the central directory, copied out of the temporary file a buffer at a time */
	for (uint64_t done = 0; done < z->cd;) {
		size_t n = z->cd - done < 0x10000 ? (size_t)(z->cd - done) : 0x10000;
		if ((rc = rd(z, CD_BASE + (off_t)done, z->probe, n)) != 0 ||
		    (rc = emit(z, z->probe, n)) != 0)
			return rc;
		done += n;
	}
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
