/* make.c: one certificate from its row: key, subject, extensions, the signer's signature, PKCS#12.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "extern.h"
#include "pki/p12.h"
#include "pki/signer.h"
#include "pki/x509.h"

/* Seconds a certificate starts before now, for clients whose clocks lag a little. */
#define BACKDATE 60

void
make_out_done(struct make_out *o)
{
	free(o->cert_der);
	free(o->p12);
	free(o->pw_sealed);
	memset(o, 0, sizeof(*o));
}

/* The subject (docs/ARCHITECTURE.md): E, CN, OU=system OU, OU1, OU2, O (device's or the tenant's),
 * C=JP. */
static int
subject(const struct make_in *in, X509_NAME **out)
{
	struct x509_subject s = {
		.email = in->email,
		.cn = in->cn,
		.ou = {in->slug, in->ou1, in->ou2},
		.o = in->o,
		.c = "JP",
	};

	return x509_name_build(&s, out);
}

/* From the device's period when set, else now .. now + the tenant's default; never before the CA.
 */
static void
validity(const struct make_in *in, time_t *nb, time_t *na)
{
	time_t now = time(NULL), ca_nb = 0, ca_na = 0;

	*nb = in->valid_from > 0 ? (time_t)in->valid_from : now - BACKDATE;
	*na = in->valid_to > 0 ? (time_t)in->valid_to : *nb + (time_t)in->default_days * 86400;
	if (x509_times(in->ca, &ca_nb, &ca_na) == 0 && *nb < ca_nb)
		*nb = ca_nb;
}

/* Sign through shomei-signer: the unsigned certificate goes, the signed one comes back. */
static int
sign(struct signer_conn *conn, long long tenant_id, X509 *x, X509 **out, char *err, size_t errlen)
{
	unsigned char *der = NULL, *signed_der = NULL;
	size_t len = 0, slen = 0;
	int rc;

	if ((rc = x509_placeholder_sign(x)) != 0 || (rc = x509_cert_to_der(x, &der, &len)) != 0) {
		snprintf(err, errlen, "cannot encode the certificate");
		goto out;
	}
	rc = signer_call(conn, SIGNER_OP_SIGN_CERT, (uint64_t)tenant_id, der, len, &signed_der,
			 &slen, err, errlen);
	if (rc < 0 && err[0] == '\0')
		snprintf(err, errlen, "signer: %s", strerror(-rc));
	if (rc != 0)
		goto out;
	/* usually x itself with the signer's signature; parsed only when it is not */
	if (x509_adopt_signature(x, signed_der, slen) == 0 && X509_up_ref(x) == 1) {
		*out = x;
	} else if ((rc = x509_cert_from_der(signed_der, slen, out)) != 0) {
		snprintf(err, errlen, "signer answered an unreadable certificate");
		rc = -EPROTO;
	}
out:
	free(der);
	free(signed_der);
	return rc;
}

/* The PKCS#12 with a fresh password, and that password sealed under the data key. */
static int
pack(const struct issue_env *env, const struct make_in *in, EVP_PKEY *key, X509 *cert,
     struct make_out *o, char *err, size_t errlen)
{
	char pw[SECRET_PASSWORD_LEN + 1];
	X509 *chain[2] = {in->ca, in->root};
	enum p12_mode mode = P12_COMPAT;
	int rc;

	/* WindowsPC opens AES-256/PBKDF2; iOS, Android, その他 and numbered ones get 3DES */
	if (in->device != NULL && strcmp(in->device, "01") == 0 && !in->p12_compat)
		mode = P12_MODERN;
	if ((rc = secret_random_password(pw, sizeof(pw))) != 0 ||
	    (rc = p12_build(key, cert, chain, in->root ? 2 : 1, pw, mode, &o->p12, &o->p12_len)) !=
		    0 ||
	    (rc = secret_seal(env->data_key, "p12-password", pw, strlen(pw), &o->pw_sealed,
			      &o->pw_len)) != 0)
		snprintf(err, errlen, "cannot build the PKCS#12 (%d)", rc);
	OPENSSL_cleanse(pw, sizeof(pw));
	return rc > 0 ? -EIO : rc;
}

/* What the row stores besides the PKCS#12: DER, serial, subject, validity. */
static int
describe(X509 *cert, struct make_out *o, char *err, size_t errlen)
{
	char *line = NULL;
	int rc;

	if ((rc = x509_cert_to_der(cert, &o->cert_der, &o->cert_len)) != 0 ||
	    (rc = x509_serial_hex(X509_get0_serialNumber(cert), o->serial, sizeof(o->serial))) !=
		    0 ||
	    (rc = x509_times(cert, &o->not_before, &o->not_after)) != 0 ||
	    (line = x509_name_oneline(X509_get_subject_name(cert))) == NULL) {
		snprintf(err, errlen, "cannot read the signed certificate");
		return rc < 0 ? rc : -EIO;
	}
	snprintf(o->subject, sizeof(o->subject), "%s", line);
	free(line);
	return 0;
}

int
make_cert(const struct issue_env *env, const struct make_in *in, struct make_out *out, char *err,
	  size_t errlen)
{
	struct x509_client c = {.email = in->email, .issuer = in->ca};
	struct make_out o = {0};
	enum x509_key_type kt;
	EVP_PKEY *key = NULL;
	X509_NAME *name = NULL;
	X509 *x = NULL, *signed_x = NULL;
	int rc;

	err[0] = '\0';
	if (x509_key_type_parse(in->key_type, &kt) != 0 || subject(in, &name) != 0) {
		snprintf(err, errlen, "invalid key type or subject");
		rc = SIGNER_E_REFUSED;
		goto out;
	}
	if ((rc = keypool_take(env->pool, kt, &key)) != 0) {
		snprintf(err, errlen, "key generation failed");
		rc = -EIO;
		goto out;
	}
	validity(in, &c.not_before, &c.not_after);
	c.pub = key, c.subject = name, c.crl_url = in->crl_url, c.ocsp_url = in->ocsp_url;
	if ((rc = x509_build_client(&c, &x)) != 0) {
		snprintf(err, errlen, "cannot build the certificate (%d)", rc);
		rc = rc > 0 ? SIGNER_E_REFUSED : rc;
		goto out;
	}
	if ((rc = sign(in->signer, in->tenant_id, x, &signed_x, err, errlen)) != 0 ||
	    (rc = describe(signed_x, &o, err, errlen)) != 0 ||
	    (rc = pack(env, in, key, signed_x, &o, err, errlen)) != 0)
		goto out;
	*out = o;
	memset(&o, 0, sizeof(o));
	rc = 0;
out:
	make_out_done(&o);
	X509_free(signed_x);
	X509_free(x);
	X509_NAME_free(name);
	EVP_PKEY_free(key);
	return rc;
}
