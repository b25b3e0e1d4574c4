/* datakey.h: the data key of a running service, read once from data_key_file. */
#ifndef SHOMEI_DATAKEY_H
#define SHOMEI_DATAKEY_H

#include "core/cfg.h"
#include "pki/secret.h"

/*
 * The data key (SECRET_KEY_LEN bytes, owned by this module, valid until the
 * process ends), read from cfg->data_key_file on the first call of any
 * thread; NULL when it cannot be read (the caller answers 503). It opens the
 * sealed PKCS#12 passwords and nothing else: the CA keys are sealed with the
 * CA key-encryption key, which only shomei-signer and shomeictl read.
 */
const unsigned char *datakey_get(const struct cfg *cfg);

#endif
