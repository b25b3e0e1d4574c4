/*
 * lifecycle.h: the certificate lifecycle: one table of statuses with their words (ja/en), what
 * each counts for and which changes are allowed, and the SQL fragments every query takes from
 * it. No service spells a status of its own: C code uses the LC_* words, SQL the LC_SQL_*
 * fragments (tests/unit/test-lifecycle.c checks that they agree with the table and with the
 * schema's CHECK constraint).
 */
#ifndef SHOMEI_LIFECYCLE_H
#define SHOMEI_LIFECYCLE_H

#include <stddef.h>

#include "core/err.h"

enum lc_status {
	LC_S_ISSUING,
	LC_S_ISSUED,
	LC_S_DOWNLOADED,
	LC_S_REVOKE_SCHEDULED,
	LC_S_REVOKED,
	LC_S_FAILED,
	LC_S__MAX,
};

/* The words, as stored in certificates.status and shown by the API. */
#define LC_ISSUING "issuing"                   /* 証明書発行中 */
#define LC_ISSUED "issued"                     /* 証明書発行済 */
#define LC_DOWNLOADED "downloaded"             /* 証明書ダウンロード済 */
#define LC_REVOKE_SCHEDULED "revoke_scheduled" /* 証明書失効予定 */
#define LC_REVOKED "revoked"                   /* 証明書失効済 */
#define LC_FAILED "failed"                     /* 証明書発行失敗 */

/* A word as an SQL literal: LC_SQL(LC_ISSUED) is "'issued'". */
#define LC_SQL(word) "'" word "'"

/* What a status counts for (the flags of the table). */
enum {
	LC_F_COUNTED = 1 << 0, /* counts against the quota (発行数) */
	LC_F_VALID = 1 << 1,   /* 有効: its certificate is handed out and listed as valid */
	LC_F_FINAL = 1 << 2,   /* nothing follows */
};

/* The statuses with LC_F_COUNTED and with LC_F_VALID, as SQL sets for "status IN …". */
#define LC_SQL_COUNTED                                                                             \
	"(" LC_SQL(LC_ISSUING) ", " LC_SQL(LC_ISSUED) ", " LC_SQL(LC_DOWNLOADED) ", " LC_SQL(      \
		LC_REVOKE_SCHEDULED) ")"
#define LC_SQL_VALID                                                                               \
	"(" LC_SQL(LC_ISSUED) ", " LC_SQL(LC_DOWNLOADED) ", " LC_SQL(LC_REVOKE_SCHEDULED) ")"

struct lc_info {
	const char *code;     /* LC_* */
	const char *label[2]; /* I18N_JA, I18N_EN */
	unsigned flags;       /* LC_F_* */
	unsigned next;        /* the statuses it may change to, as bits 1 << LC_S_* */
};

/* The row of status s (s < LC_S__MAX). */
const struct lc_info *lifecycle_info(enum lc_status s);

/* The status of a word; 0 or LIFECYCLE_E_STATUS. */
int lifecycle_parse(const char *code, enum lc_status *out);

/* 1 when code is a status with every flag of flags (LC_F_*), else 0 (also for NULL). */
int lifecycle_has(const char *code, unsigned flags);

/* The label of a status word: 証明書発行中 … / Issuing …; the word itself if unknown. */
const char *lifecycle_label(const char *code, int lang);

/* Whether a certificate may go from one status to the other; 0 or LIFECYCLE_E_TRANSITION. */
int lifecycle_may(enum lc_status from, enum lc_status to);

/* The statuses with every flag of flags as an SQL set "('a', 'b')" into buf; -ENOSPC. */
int lifecycle_sql_set(unsigned flags, char *buf, size_t len);

/* Validator (web/valid.h's shape): a non-empty comma list of status words. 0 or VALID_E_FORMAT. */
int lifecycle_valid_list(const char *v);

#endif
