/*
 * pagecache.h: a list's pages kept in Redis as they were answered, each with the generation of
 * the tenant's rows it was made from (certq_list_gen: any write to what the list shows moves it),
 * so that the same page asked again while nothing changed is sent without being made again.
 * A page made for a client that takes gzip (Accept-Encoding, as every browser sends) is kept and
 * sent gzip (Content-Encoding: gzip); one kept gzip is inflated for a client that does not.
 */
#ifndef SHOMEI_PAGECACHE_H
#define SHOMEI_PAGECACHE_H

#include <stddef.h>

#include "store/kv.h"
#include "web/http.h"

/* How long a page is kept at most (a generation that never moves still ends). */
#define PAGECACHE_TTL "60"
#define PAGECACHE_MAX (4 * 1024 * 1024) /* a larger answer is not kept */
/*
 * One request makes a page: the first that misses it claims it in Redis for PAGECACHE_CLAIM_MS;
 * the others asking for it meanwhile wait for it up to PAGECACHE_WAIT_MS (then make it too):
 * 16 connections asking for a page nobody had asked for made it 16 times at once (a page of
 * 50 ms of PostgreSQL: 800 ms for the last of them).
 */
#define PAGECACHE_CLAIM_MS "5000"
#define PAGECACHE_WAIT_MS 2000

/*
 * Answer req (200) with the page list (a name of the list: "certificates", "users", "audit")
 * kept for it (its tenant, its language and its query string, byte for byte) when gen was the
 * tenant's generation: 1 when it did. 0 when there is none, Redis cannot say, gen is empty, or
 * the request asked for a fresh answer (Cache-Control: no-cache, as a browser's reload sends):
 * the caller makes the page and answers with pagecache_send, which keeps it and ends the claim.
 * While another request makes the same page, waits for it (see above).
 */
int pagecache_answer(struct kv *kv, const char *list, struct http_req *req, const char *gen);

/* Answer req with doc (200) and keep it as that page for PAGECACHE_TTL seconds. */
void pagecache_send(struct kv *kv, const char *list, struct http_req *req, const char *gen,
		    const cJSON *doc);

#endif
