/*
 * internal.h: a service calling another service's internal API (POST /internal/…) through
 * nginx's internal listener, a unix socket only the services reach (cfg internal_socket). The
 * caller names itself (X-Shomei-Service) and proves it with its token, read from
 * <internal_token_dir>/<service>.token, a file only that service may read (DECISIONS.md, "The
 * internal revocation API").
 */
#ifndef SHOMEI_INTERNAL_H
#define SHOMEI_INTERNAL_H

#include <cjson/cJSON.h>

#include "core/cfg.h"

/* Once per process, before any thread calls internal_post (libcurl's global set-up). 0 or -EIO. */
int internal_global_init(void);

/*
 * POST body (JSON) to path on the internal listener as service. 0 with *status (the HTTP
 * status) and *answer (the parsed JSON body, or NULL when it had none; the caller frees it);
 * -EIO when no answer came (no socket, no token file, a timeout: transient); -ENOMEM.
 */
int internal_post(const struct cfg *cfg, const char *service, const char *path, const cJSON *body,
		  int *status, cJSON **answer);

#endif
