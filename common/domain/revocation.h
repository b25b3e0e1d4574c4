/*
 * revocation.h: what revoking a tenant certificate means in the schema, shared by shomei-revoke
 * and shomeictl: the RFC 5280 reasons an administrator may give, the history details, the
 * notification that makes shomei-revoke re-sign the tenant's CRL, and applying the scheduled
 * revocations that are due.
 */
#ifndef SHOMEI_REVOCATION_H
#define SHOMEI_REVOCATION_H

#include <time.h>

#include "store/db.h"

/* The PostgreSQL channel a committed revocation notifies; the payload is the tenant id. */
#define REVOCATION_CHANNEL "shomei_crl"

/* The history details of action certificate_revoke: codes of audit.c, parameters cn (, date). */
#define REVOCATION_CODE_DONE "cert_revoked"               /* {cn}: 失効中 -> 失効完了 */
#define REVOCATION_CODE_SCHEDULED "cert_revoke_scheduled" /* {cn}: 失効予定 ({yyyy/mm/dd}) */
#define REVOCATION_CODE_CANCELLED "cert_revoke_cancelled" /* {cn}: 失効予定 -> 失効取消 */

/* Scheduled revocations applied per transaction. */
#define REVOCATION_BATCH 500

/* RFC 5280 CRLReason codes an administrator may give (the schema's CHECK has the same set). */
enum {
	REVOCATION_UNSPECIFIED = 0,
	REVOCATION_KEY_COMPROMISE = 1,
	REVOCATION_AFFILIATION_CHANGED = 3,
	REVOCATION_SUPERSEDED = 4,
	REVOCATION_CESSATION = 5,
	REVOCATION_PRIVILEGE_WITHDRAWN = 9,
};

/* The code of a reason word (RFC 5280's names: "keyCompromise"); 0 or VALID_E_FORMAT. */
int revocation_reason_parse(const char *word, int *code);

/* The word of a code ("unspecified" …), NULL when it is not one of the table. */
const char *revocation_reason_word(int code);

/* Validator (web/valid.h's shape): a reason word. 0 or VALID_E_FORMAT. */
int revocation_valid_reason(const char *v);

/* Notify REVOCATION_CHANNEL for tenant_id inside the caller's transaction (sent at commit). */
int revocation_notify(struct db *db, long long tenant_id);

/*
 * Revoke every certificate scheduled for revocation at or before as_of (epoch seconds): batches
 * of REVOCATION_BATCH rows claimed with FOR UPDATE SKIP LOCKED, each batch one transaction with
 * a history entry per certificate and a notification per tenant, so any number of callers at
 * once revoke each row exactly once. revoked_at is the scheduled time (or now, when as_of is
 * ahead of the clock). *applied counts the rows this call revoked. 0 or -EIO.
 */
int revocation_apply_due(struct db *db, time_t as_of, long long *applied);

#endif
