/* masterkey.h: the master key of a running service, read once from master_key_file. */
#ifndef SHOMEI_MASTERKEY_H
#define SHOMEI_MASTERKEY_H

#include "core/cfg.h"
#include "pki/secret.h"

/*
 * The master key (SECRET_KEY_LEN bytes, owned by this module, valid until the
 * process ends), read from cfg->master_key_file on the first call of any
 * thread; NULL when it cannot be read (the caller answers 503). Services use
 * it to open sealed PKCS#12 passwords, never CA keys.
 */
const unsigned char *masterkey_get(const struct cfg *cfg);

#endif
