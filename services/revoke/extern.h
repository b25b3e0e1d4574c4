/* extern.h: cross-file prototypes of shomei-revoke. */
#ifndef SHOMEI_REVOKE_EXTERN_H
#define SHOMEI_REVOKE_EXTERN_H

#include "core/cfg.h"

/* keeper.c: start the thread that keeps nginx's administrator CRL file current. 0 or -errno. */
int keeper_start(const struct cfg *cfg);

#endif
