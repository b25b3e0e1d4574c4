/* test-ocsp.c: common/pki/ocsp.c: requests read, issuers matched, responses built and wrapped. */
#include <stdlib.h>
#include <string.h>

#include <openssl/ocsp.h>

#include "pki-fixture.h"
#include "pki/ocsp.h"
#include "tap.h"

static struct pki tenant, stranger;

/* The DER of a request for the certificates xs under issuer (hashed with md). */
static int
request(X509 **xs, int n, const EVP_MD *md, unsigned char **der, size_t *len)
{
	OCSP_REQUEST *req = OCSP_REQUEST_new();
	unsigned char *p;
	int rc = -1, l;

	for (int i = 0; i < n; i++)
		if (OCSP_request_add0_id(req, OCSP_cert_to_id(md, xs[i], tenant.ca)) == NULL)
			goto out;
	if ((l = i2d_OCSP_REQUEST(req, NULL)) <= 0 || (*der = malloc((size_t)l + 1)) == NULL)
		goto out;
	p = *der;
	i2d_OCSP_REQUEST(req, &p);
	*len = (size_t)l;
	rc = 0;
out:
	OCSP_REQUEST_free(req);
	return rc;
}

static void
test_parse(X509 *x, X509 *y)
{
	static const unsigned char garbage[] = "\x30\x03\x02\x01\x01garbage";
	unsigned char *der = NULL;
	struct ocsp_query q;
	X509 *two[] = {x, y};
	char want[80];
	size_t len = 0;

	x509_serial_hex(X509_get0_serialNumber(x), want, sizeof(want));
	request(&x, 1, EVP_sha1(), &der, &len);
	TAP_OK(ocsp_query_parse(der, len, &q) == 0 && q.hash_nid == NID_sha1 &&
		       strcmp(q.serial_hex, want) == 0,
	       "one SHA-1 CertID: parsed, serial %s", q.serial_hex);
	TAP_OK(ocsp_id_is_issuer(q.id, tenant.ca) && !ocsp_id_is_issuer(q.id, stranger.ca) &&
		       !ocsp_id_is_issuer(q.id, tenant.root),
	       "it names the tenant CA, not another CA nor the root");
	ocsp_query_done(&q);
	der[len] = 0;
	TAP_OK(ocsp_query_parse(der, len + 1, &q) == X509_E_PARSE, "a trailing byte: malformed");
	TAP_OK(ocsp_query_parse(der, len - 1, &q) == X509_E_PARSE, "one byte short: malformed");
	TAP_OK(ocsp_query_parse(der, 0, &q) == X509_E_PARSE, "empty: malformed");
	free(der);
	der = NULL;
	request(&x, 1, EVP_sha256(), &der, &len);
	TAP_OK(ocsp_query_parse(der, len, &q) == 0 && q.hash_nid == NID_sha256 &&
		       ocsp_id_is_issuer(q.id, tenant.ca),
	       "a SHA-256 CertID: parsed, names the tenant CA");
	ocsp_query_done(&q);
	free(der);
	der = NULL;
	request(two, 2, EVP_sha1(), &der, &len);
	TAP_OK(ocsp_query_parse(der, len, &q) == X509_E_PARSE,
	       "two CertIDs: malformed (RFC 5019: one per request)");
	free(der);
	request(NULL, 0, EVP_sha1(), &der, &len);
	TAP_OK(ocsp_query_parse(der, len, &q) == X509_E_PARSE, "no CertID: malformed");
	free(der);
	TAP_OK(ocsp_query_parse(garbage, sizeof(garbage) - 1, &q) == X509_E_PARSE,
	       "garbage: malformed");
	TAP_OK(ocsp_query_parse(garbage, OCSP_REQ_MAX + 1, &q) == X509_E_PARSE,
	       "longer than OCSP_REQ_MAX: malformed");
}

static void
test_build(X509 *x)
{
	time_t now = time(NULL);
	struct ocsp_single s = {OCSP_ST_REVOKED, now - 10, 1, now - 60, now + 3600};
	unsigned char *der = NULL, *resp = NULL, err[OCSP_ERROR_LEN];
	const unsigned char *p;
	OCSP_CERTID *id = NULL;
	OCSP_BASICRESP *bs = NULL;
	OCSP_RESPONSE *r = NULL;
	char hex[80];
	size_t len = 0, rlen = 0;
	int why = -1;

	x509_serial_hex(X509_get0_serialNumber(x), hex, sizeof(hex));
	TAP_OK(ocsp_id_make(tenant.ca, hex, &id) == 0 && ocsp_id_is_issuer(id, tenant.ca),
	       "ocsp_id_make: a SHA-1 CertID under the CA");
	TAP_OK(ocsp_id_make(tenant.ca, "xyz", &id) == X509_E_INVALID, "ocsp_id_make: bad hex");
	TAP_OK(ocsp_basic_build(id, &s, &der, &len) == 0, "revoked response built (%zu bytes)",
	       len);
	p = der;
	bs = d2i_OCSP_BASICRESP(NULL, &p, (long)len);
	TAP_OK(bs != NULL && OCSP_resp_count(bs) == 1 &&
		       OCSP_single_get0_status(OCSP_resp_get0(bs, 0), &why, NULL, NULL, NULL) ==
			       V_OCSP_CERTSTATUS_REVOKED &&
		       why == 1 && OCSP_resp_get0_produced_at(bs) != NULL,
	       "it says revoked, keyCompromise, with producedAt");
	TAP_OK(ocsp_response_wrap(der, len, &resp, &rlen) == 0 &&
		       (p = resp, r = d2i_OCSP_RESPONSE(NULL, &p, (long)rlen)) != NULL &&
		       OCSP_response_status(r) == OCSP_RESPONSE_STATUS_SUCCESSFUL,
	       "wrapped into a successful OCSPResponse");
	TAP_OK(ocsp_response_wrap((const unsigned char *)"junk", 4, &resp, &rlen) == X509_E_PARSE,
	       "wrapping garbage: X509_E_PARSE");
	s.next_update = s.this_update;
	TAP_OK(ocsp_basic_build(id, &s, &der, &len) == X509_E_INVALID,
	       "nextUpdate not after thisUpdate: refused");
	OCSP_RESPONSE_free(r);
	ocsp_response_error(OCSP_RESPONSE_STATUS_MALFORMEDREQUEST, err);
	p = err;
	r = d2i_OCSP_RESPONSE(NULL, &p, sizeof(err));
	TAP_OK(r != NULL && OCSP_response_status(r) == OCSP_RESPONSE_STATUS_MALFORMEDREQUEST &&
		       p == err + sizeof(err),
	       "the malformedRequest answer is a whole OCSPResponse");
	OCSP_RESPONSE_free(r);
	OCSP_BASICRESP_free(bs);
	OCSP_CERTID_free(id);
	free(der);
	free(resp);
}

int
main(void)
{
	EVP_PKEY *k1 = NULL, *k2 = NULL;
	X509 *x = NULL, *y = NULL;

	if (pki_make(&tenant, X509_KEY_P256, "Reiwa") != 0 ||
	    pki_make(&stranger, X509_KEY_P256, "Other") != 0 ||
	    x509_key_generate(X509_KEY_P256, &k1) != 0 ||
	    x509_key_generate(X509_KEY_P256, &k2) != 0 ||
	    pki_client(&tenant, k1, "Taro Yamada", "taro@example.jp", 30, &x) != 0 ||
	    pki_client(&tenant, k2, "Hanako Sato", "hanako@example.jp", 30, &y) != 0) {
		TAP_OK(0, "fixture");
		return tap_done();
	}
	test_parse(x, y);
	test_build(x);
	X509_free(x);
	X509_free(y);
	EVP_PKEY_free(k1);
	EVP_PKEY_free(k2);
	pki_free(&tenant);
	pki_free(&stranger);
	return tap_done();
}
