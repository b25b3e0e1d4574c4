/*
 * notice.h: the notices (mail to users and administrators) as the schema has them: the kinds,
 * the expiry reminders that fall due, and queueing a notice from C where no trigger sees the
 * change. Most notices are queued by migration 0019's triggers in the transaction of the change
 * that causes them; shomei-users' mail worker sends them.
 */
#ifndef SHOMEI_NOTICE_H
#define SHOMEI_NOTICE_H

#include <time.h>

#include "store/db.h"

/* Statuses of an outbox row. */
#define NOTICE_QUEUED "queued"
#define NOTICE_SENT "sent"
#define NOTICE_FAILED "failed"

/* Days before 有効期限 at which a certificate's user is reminded (largest first). */
#define NOTICE_THRESHOLDS "{30,15,5,1}"

/* The kinds, each with its words for 送信メール; NULL past the end. */
struct notice_kind {
	const char *code; /* user_issued, admin_revoked, … (notifications.kind, the templates) */
	const char *ja;
	const char *en;
	int to_admin; /* 1: to the tenant's notice address; 0: to a user's device e-mail */
};
const struct notice_kind *notice_kind_at(size_t i);
const struct notice_kind *notice_kind_find(const char *code);

/*
 * The expiry reminders due at as_of (epoch seconds): for every valid certificate expiring within
 * 30 days, the smallest threshold it has reached, queued once per certificate and threshold to
 * its user (where the tenant sends user notices); and once per tenant and JST day a digest to
 * the administrators' notice address listing the certificates expiring within 30 days. One
 * transaction; any number of callers at once queue each at most once (the unique keys of
 * expiry_reminders and expiry_digests). *reminders and *digests count what this call queued.
 * 0 or -EIO.
 */
int notice_due(struct db *db, time_t as_of, long long *reminders, long long *digests);

/*
 * 再発行 / 一括再発行受付 to the tenant's administrators, in the caller's transaction: count
 * certificates, items their CNs one a line (NULL: none), bulk 1 for a CSV job. For the reissue
 * code to call where it commits a reissue (the issued and revoked certificates' own notices come
 * from the triggers). 0 or -EIO.
 */
int notice_reissue_accepted(struct db *db, long long tenant_id, long long count, const char *items,
			    int bulk);

/*
 * 電子証明書更新通知 to the tenant's administrators, in the caller's transaction: a user renewed a
 * certificate on the download site (item: "<CN> <e-mail> (serial old -> new)"). 0 or -EIO.
 */
int notice_renewed(struct db *db, long long tenant_id, const char *item);

#endif
