/* certq.h: taking quota and queueing certificates for the issuance workers. */
#ifndef SHOMEI_CERTQ_H
#define SHOMEI_CERTQ_H

#include "store/db.h"
#include "store/kv.h"
#include "domain/lifecycle.h"

/* The Redis stream that wakes the issuance workers (it carries no data they depend on). */
#define CERTQ_STREAM "shomei:issue:wake"

struct certq_quota {
	long long quota;     /* 契約数 */
	long long issued;    /* 発行数: issuing + issued + downloaded + revoke_scheduled, not
				superseded */
	long long issuing;   /* of which still issuing */
	long long available; /* 追加発行可能数, never below 0 */
	char key_type[16];   /* the tenant's key type for new certificates */
};

/*
 * Lock the tenant row for the rest of the caller's transaction and count its
 * certificates. Call inside db_begin()/db_commit(). 0, DB_E_NOTFOUND or -EIO.
 */
int certq_lock(struct db *db, long long tenant_id, struct certq_quota *q);

/* The same counts without a lock (for GET /api/tenant). */
int certq_count(struct db *db, long long tenant_id, struct certq_quota *q);

struct certq_row {
	long long tenant_id;
	long long user_id;     /* 0: none (numbered certificate) */
	long long device_id;   /* 0: none */
	long long job_id;      /* 0: none */
	long long replaces_id; /* 0: none (reissue) */
	int number;            /* client_NNNNNN number, 0: none */
	const char *cn;
	const char *email; /* NULL: none */
	const char *key_type;
	long long requested_by; /* admin id, 0: none */
	const char *requested_ip;
};

/* Insert one `issuing` row (inside the caller's transaction); *id is its id. 0 or -EIO. */
int certq_insert(struct db *db, const struct certq_row *r, long long *id);

/*
 * Insert n `issuing` rows of one tenant (each row's tenant_id is not read) in two statements;
 * ids[i] is row i's id. Nothing is written to ids on failure. 0, -ENOMEM or -EIO.
 */
int certq_insert_many(struct db *db, long long tenant_id, const struct certq_row *r, size_t n,
		      long long *ids);

/*
 * A reissue's or a renewal's new row: mark r->replaces_id superseded (it no longer counts in
 * 発行数, its slot passes to the new row) and insert r, inside the caller's transaction with the
 * old row locked; *id is the new row's id. 0, DB_E_CONFLICT (already superseded), -EINVAL (no
 * replaces_id) or -EIO.
 */
int certq_replace(struct db *db, const struct certq_row *r, long long *id);

/* Tell the workers there is work (after the commit). Failure is harmless: they also poll. */
void certq_wake(struct kv *kv, long long tenant_id);

/*
 * The generation of the tenant's (decimal text) lists of certificates and users into gen (len at
 * least 100): text that changes with every write to what they count or show (users, devices and
 * organisations: migration 0028's user_changes; certificates: 0026's certificate_counts, every
 * listed column since 0029), for the totals (keyset_count_gen) and the pages (web/pagecache.h)
 * kept with it. The tenant's rows of both tables are folded when there are many. 0, or what
 * db_exec returns.
 */
int certq_list_gen(struct db *db, const char *tenant, char *gen, size_t len);

#endif
