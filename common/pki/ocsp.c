/* ocsp.c: OCSP requests read, basic responses built for the signer, answers wrapped (ocsp.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>

#include "pki/ocsp.h"
#include "pki/x509.h"
#include "x509_int.h"

/* The placeholder certificate the basic response is first signed with (never a CA's key). */
static X509 *placeholder_cert;
static CRYPTO_ONCE placeholder_once = CRYPTO_ONCE_STATIC_INIT;

static void
placeholder_init(void)
{
	struct x509_subject s = {.cn = "shomei placeholder"};
	EVP_PKEY *key = x509_int_placeholder_key();
	X509_NAME *name = NULL;
	X509 *x = NULL;
	time_t now = time(NULL);

	if (key == NULL || x509_name_build(&s, &name) != 0 ||
	    x509_build_root(key, name, now - 86400, now + 20 * 365 * 86400L, 0, &x) != 0 ||
	    x509_sign(x, key) != 0) {
		X509_free(x);
		x = NULL;
	}
	X509_NAME_free(name);
	placeholder_cert = x;
}

void
ocsp_query_done(struct ocsp_query *q)
{
	OCSP_CERTID_free(q->id);
	memset(q, 0, sizeof(*q));
}

/* The serial of id, positive and at most 20 bytes, as hex. */
static int
serial_of(OCSP_CERTID *id, struct ocsp_query *q)
{
	ASN1_OBJECT *md = NULL;
	ASN1_INTEGER *sn = NULL;
	BIGNUM *bn;
	int ok;

	if (OCSP_id_get0_info(NULL, &md, NULL, &sn, id) != 1 || sn == NULL || md == NULL)
		return X509_E_PARSE;
	if ((bn = ASN1_INTEGER_to_BN(sn, NULL)) == NULL)
		return X509_E_PARSE;
	ok = !BN_is_negative(bn) && !BN_is_zero(bn) && BN_num_bytes(bn) <= 20;
	BN_free(bn);
	if (!ok || x509_serial_hex(sn, q->serial_hex, sizeof(q->serial_hex)) != 0)
		return X509_E_PARSE;
	q->hash_nid = OBJ_obj2nid(md);
	return 0;
}

int
ocsp_query_parse(const unsigned char *der, size_t len, struct ocsp_query *q)
{
	const unsigned char *p = der;
	OCSP_REQUEST *req = NULL;
	OCSP_CERTID *id = NULL;
	int rc = X509_E_PARSE;

	memset(q, 0, sizeof(*q));
	if (len == 0 || len > OCSP_REQ_MAX)
		goto out;
	/* the whole input is the request: trailing bytes are malformed */
	if ((req = d2i_OCSP_REQUEST(NULL, &p, (long)len)) == NULL || p != der + len)
		goto out;
	if (OCSP_request_onereq_count(req) != 1)
		goto out;
	id = OCSP_onereq_get0_id(OCSP_request_onereq_get0(req, 0));
	if (id == NULL || (rc = serial_of(id, q)) != 0)
		goto out;
	if ((q->id = OCSP_CERTID_dup(id)) == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	rc = 0;
out:
	if (rc != 0)
		ocsp_query_done(q);
	OCSP_REQUEST_free(req);
	ERR_clear_error();
	return rc;
}

int
ocsp_id_is_issuer(const OCSP_CERTID *id, const X509 *issuer)
{
	ASN1_OBJECT *md_obj = NULL;
	OCSP_CERTID *mine = NULL;
	const EVP_MD *md;
	int same = 0;

	if (OCSP_id_get0_info(NULL, &md_obj, NULL, NULL, (OCSP_CERTID *)id) != 1 ||
	    (md = EVP_get_digestbyobj(md_obj)) == NULL)
		goto out;
	/* subject NULL: only the issuer's hashes */
	if ((mine = OCSP_cert_to_id(md, NULL, issuer)) == NULL)
		goto out;
	same = OCSP_id_issuer_cmp(mine, id) == 0;
out:
	OCSP_CERTID_free(mine);
	ERR_clear_error();
	return same;
}

int
ocsp_id_make(const X509 *issuer, const char *serial_hex, OCSP_CERTID **out)
{
	BIGNUM *bn = NULL;
	ASN1_INTEGER *sn = NULL;
	OCSP_CERTID *id = NULL;
	int rc = X509_E_INVALID;

	if (BN_hex2bn(&bn, serial_hex) == 0 || (sn = BN_to_ASN1_INTEGER(bn, NULL)) == NULL)
		goto out;
	if ((id = OCSP_cert_id_new(EVP_sha1(), X509_get_subject_name(issuer),
				   X509_get0_pubkey_bitstr(issuer), sn)) == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	*out = id;
	rc = 0;
out:
	ASN1_INTEGER_free(sn);
	BN_free(bn);
	ERR_clear_error();
	return rc;
}

static const int status_codes[OCSP_ST__MAX] = {
	[OCSP_ST_GOOD] = V_OCSP_CERTSTATUS_GOOD,
	[OCSP_ST_REVOKED] = V_OCSP_CERTSTATUS_REVOKED,
	[OCSP_ST_UNKNOWN] = V_OCSP_CERTSTATUS_UNKNOWN,
};

/* Add the single response of s for id to bs. */
static int
add_single(OCSP_BASICRESP *bs, const OCSP_CERTID *id, const struct ocsp_single *s)
{
	ASN1_TIME *rev = NULL, *tu = NULL, *nu = NULL;
	int rc = -ENOMEM;

	if ((tu = ASN1_TIME_set(NULL, s->this_update)) == NULL ||
	    (nu = ASN1_TIME_set(NULL, s->next_update)) == NULL)
		goto out;
	if (s->status == OCSP_ST_REVOKED && (rev = ASN1_TIME_set(NULL, s->revoked_at)) == NULL)
		goto out;
	/* OCSP_basic_add1_status copies id; its parameter is not const in OpenSSL 3.0 */
	if (OCSP_basic_add1_status(bs, (OCSP_CERTID *)id, status_codes[s->status],
				   s->status == OCSP_ST_REVOKED ? s->reason
								: OCSP_REVOKED_STATUS_NOSTATUS,
				   rev, tu, nu) == NULL)
		goto out;
	rc = 0;
out:
	ASN1_TIME_free(rev);
	ASN1_TIME_free(tu);
	ASN1_TIME_free(nu);
	return rc;
}

int
ocsp_basic_build(const OCSP_CERTID *id, const struct ocsp_single *s, unsigned char **der,
		 size_t *len)
{
	OCSP_BASICRESP *bs = NULL;
	unsigned char *buf = NULL, *p;
	int n, rc;

	if (s->status < 0 || s->status >= OCSP_ST__MAX || s->next_update <= s->this_update)
		return X509_E_INVALID;
	if (!CRYPTO_THREAD_run_once(&placeholder_once, placeholder_init) ||
	    placeholder_cert == NULL)
		return -EIO;
	if ((bs = OCSP_BASICRESP_new()) == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	if ((rc = add_single(bs, id, s)) != 0)
		goto out;
	rc = -EIO;
	/* producedAt now; responderID by key (RFC 5019 2.2.3); no certificates */
	if (OCSP_basic_sign(bs, placeholder_cert, x509_int_placeholder_key(), EVP_sha256(), NULL,
			    OCSP_NOCERTS | OCSP_RESPID_KEY) != 1)
		goto out;
	if ((n = i2d_OCSP_BASICRESP(bs, NULL)) <= 0 || (buf = malloc((size_t)n)) == NULL)
		goto out;
	p = buf;
	i2d_OCSP_BASICRESP(bs, &p);
	*der = buf;
	*len = (size_t)n;
	buf = NULL;
	rc = 0;
out:
	free(buf);
	OCSP_BASICRESP_free(bs);
	ERR_clear_error();
	return rc;
}

int
ocsp_response_wrap(const unsigned char *basic, size_t len, unsigned char **out, size_t *outlen)
{
	const unsigned char *p = basic;
	OCSP_BASICRESP *bs = NULL;
	OCSP_RESPONSE *resp = NULL;
	unsigned char *buf = NULL, *q;
	int n, rc = X509_E_PARSE;

	if ((bs = d2i_OCSP_BASICRESP(NULL, &p, (long)len)) == NULL)
		goto out;
	rc = -EIO;
	if ((resp = OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL, bs)) == NULL ||
	    (n = i2d_OCSP_RESPONSE(resp, NULL)) <= 0 || (buf = malloc((size_t)n)) == NULL)
		goto out;
	q = buf;
	i2d_OCSP_RESPONSE(resp, &q);
	*out = buf;
	*outlen = (size_t)n;
	rc = 0;
out:
	OCSP_RESPONSE_free(resp);
	OCSP_BASICRESP_free(bs);
	ERR_clear_error();
	return rc;
}

void
ocsp_response_error(int status, unsigned char buf[OCSP_ERROR_LEN])
{
	/* SEQUENCE { ENUMERATED status } */
	buf[0] = 0x30;
	buf[1] = 0x03;
	buf[2] = 0x0a;
	buf[3] = 0x01;
	buf[4] = (unsigned char)status;
}
