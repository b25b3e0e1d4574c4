/* pki-fixture.h: a root, an issuing CA and client certificates for the crypto unit tests. */
#ifndef SHOMEI_PKI_FIXTURE_H
#define SHOMEI_PKI_FIXTURE_H

#include <time.h>

#include "pki/x509.h"

struct pki {
	EVP_PKEY *root_key, *ca_key;
	X509 *root, *ca;
};

static int
pki_name(const char *cn, const char *o, X509_NAME **out)
{
	struct x509_subject s = {.cn = cn, .o = o, .c = "JP"};

	return x509_name_build(&s, out);
}

/* Root (kt) and an issuing CA under it (named o), both signed. 0 or an error code. */
static int
pki_make(struct pki *p, enum x509_key_type kt, const char *o)
{
	X509_NAME *rn = NULL, *cn = NULL;
	time_t now = time(NULL);
	char cacn[256];
	int rc;

	memset(p, 0, sizeof(*p));
	snprintf(cacn, sizeof(cacn), "%s Issuing CA", o);
	if ((rc = x509_key_generate(kt, &p->root_key)) != 0 ||
	    (rc = x509_key_generate(kt, &p->ca_key)) != 0 ||
	    (rc = pki_name("shomei Test Root CA", "shomei", &rn)) != 0 ||
	    (rc = pki_name(cacn, o, &cn)) != 0)
		goto out;
	if ((rc = x509_build_root(p->root_key, rn, now - X509_BACKDATE,
				  now + (time_t)X509_ROOT_DAYS * 86400, 1, &p->root)) != 0 ||
	    (rc = x509_sign(p->root, p->root_key)) != 0)
		goto out;
	if ((rc = x509_build_ca(p->ca_key, cn, p->root, now - X509_BACKDATE,
				now + (time_t)X509_CA_DAYS * 86400, &p->ca)) != 0 ||
	    (rc = x509_sign(p->ca, p->root_key)) != 0)
		goto out;
out:
	X509_NAME_free(rn);
	X509_NAME_free(cn);
	return rc;
}

static void
pki_free(struct pki *p)
{
	EVP_PKEY_free(p->root_key);
	EVP_PKEY_free(p->ca_key);
	X509_free(p->root);
	X509_free(p->ca);
}

/* An unsigned client certificate under p->ca for key (days of validity from now). */
static int
pki_client(struct pki *p, EVP_PKEY *key, const char *cn, const char *email, int days, X509 **out)
{
	struct x509_subject s = {
		.email = email, .cn = cn, .ou = {"SYS01"}, .o = "Example", .c = "JP"};
	struct x509_client c = {.pub = key, .email = email, .issuer = p->ca};
	X509_NAME *name = NULL;
	int rc;

	c.not_before = time(NULL) - 60;
	c.not_after = c.not_before + (time_t)days * 86400;
	if ((rc = x509_name_build(&s, &name)) != 0)
		return rc;
	c.subject = name;
	rc = x509_build_client(&c, out);
	X509_NAME_free(name);
	return rc;
}

#endif
