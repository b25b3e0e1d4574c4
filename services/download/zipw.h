/* zipw.h: a streaming ZIP writer (stored entries): archives of any count in bounded memory. */
#ifndef SHOMEI_ZIPW_H
#define SHOMEI_ZIPW_H

#include "core/err.h"

#include <stddef.h>
#include <time.h>

#define ZIPW_MAX_ENTRIES 65535 /* no ZIP64: the classic format's limit */

/* Where the bytes go; returns 0, or a negative -Exxx that stops the archive. */
typedef int (*zipw_sink)(void *ctx, const void *buf, size_t len);

struct zipw;

/*
 * A new archive writing through sink. The central directory and the index of the names (for
 * the _2 suffixes) go to an unlinked temporary file: the memory used does not grow with the
 * entries. Free with zipw_free(). NULL on ENOMEM or when no temporary file can be made.
 */
struct zipw *zipw_new(zipw_sink sink, void *ctx);

/*
 * Append one stored entry (name UTF-8, '/'-separated). Names in an archive are unique: when
 * the archive already has name (ASCII case-insensitively, as Windows extracts), the entry gets
 * name with _2, _3 … before its extension (zipw_last_name says which). 0, ZIPW_E_LIMIT,
 * -ENOMEM, -EIO (the temporary file) or the sink's error.
 */
int zipw_add(struct zipw *z, const char *name, const void *data, size_t len, time_t mtime);

/* The name the last entry added got; owned by z. NULL before the first. */
const char *zipw_last_name(const struct zipw *z);

/* Write the central directory. 0 or the sink's error; nothing may be added after. */
int zipw_finish(struct zipw *z);

void zipw_free(struct zipw *z);

#endif
