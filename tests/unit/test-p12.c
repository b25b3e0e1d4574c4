/* test-p12.c: PKCS#12 in the modern and compat profiles: contents, algorithms, password. */
#include <stdlib.h>
#include <string.h>

#include <openssl/pkcs12.h>
#include <openssl/x509v3.h>

#include "pki/p12.h"
#include "pki-fixture.h"
#include "tap.h"

/* The encryption of a PBE algorithm: its own NID, or for PBES2 the cipher and PRF. */
static void
pbe_info(const X509_ALGOR *alg, int *enc, int *prf)
{
	const ASN1_OBJECT *obj;
	const void *param;
	int ptype;

	X509_ALGOR_get0(&obj, &ptype, &param, alg);
	*enc = OBJ_obj2nid(obj);
	*prf = NID_undef;
	if (*enc != NID_pbes2 || ptype != V_ASN1_SEQUENCE)
		return;
	PBE2PARAM *p2 = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBE2PARAM), alg->parameter);
	if (p2 == NULL)
		return;
	*enc = OBJ_obj2nid(p2->encryption->algorithm);
	PBKDF2PARAM *kdf =
		ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBKDF2PARAM), p2->keyfunc->parameter);
	if (kdf != NULL)
		*prf = kdf->prf ? OBJ_obj2nid(kdf->prf->algorithm) : NID_hmacWithSHA1;
	PBKDF2PARAM_free(kdf);
	PBE2PARAM_free(p2);
}

struct algs {
	int mac_md, cert_enc, cert_prf, key_enc, key_prf;
};

/* Walk the authenticated safes: the encrypted cert bag and the shrouded key bag. */
static int
p12_algs(PKCS12 *p12, struct algs *a)
{
	const X509_ALGOR *macalg;
	const ASN1_OBJECT *obj;
	STACK_OF(PKCS7) *safes = PKCS12_unpack_authsafes(p12);

	memset(a, 0, sizeof(*a));
	PKCS12_get0_mac(NULL, &macalg, NULL, NULL, p12);
	X509_ALGOR_get0(&obj, NULL, NULL, macalg);
	a->mac_md = OBJ_obj2nid(obj);
	for (int i = 0; safes != NULL && i < sk_PKCS7_num(safes); i++) {
		PKCS7 *p7 = sk_PKCS7_value(safes, i);

		if (OBJ_obj2nid(p7->type) == NID_pkcs7_encrypted) {
			pbe_info(p7->d.encrypted->enc_data->algorithm, &a->cert_enc, &a->cert_prf);
		} else if (OBJ_obj2nid(p7->type) == NID_pkcs7_data) {
			STACK_OF(PKCS12_SAFEBAG) *bags = PKCS12_unpack_p7data(p7);

			for (int j = 0; bags != NULL && j < sk_PKCS12_SAFEBAG_num(bags); j++) {
				const PKCS12_SAFEBAG *bag = sk_PKCS12_SAFEBAG_value(bags, j);
				const X509_SIG *sig;
				const X509_ALGOR *alg;

				if (PKCS12_SAFEBAG_get_nid(bag) != NID_pkcs8ShroudedKeyBag)
					continue;
				sig = PKCS12_SAFEBAG_get0_pkcs8(bag);
				X509_SIG_get0(sig, &alg, NULL);
				pbe_info(alg, &a->key_enc, &a->key_prf);
			}
			sk_PKCS12_SAFEBAG_pop_free(bags, PKCS12_SAFEBAG_free);
		}
	}
	sk_PKCS7_pop_free(safes, PKCS7_free);
	return 0;
}

static void
check_profile(struct pki *p, enum x509_key_type kt, enum p12_mode mode, const char *cn)
{
	const char *what = p12_mode_name(mode), *pw = "Ab3dEf7hJk9m";
	X509 *chain[2] = {p->ca, p->root}, *leaf = NULL, *got = NULL;
	EVP_PKEY *key = NULL, *gotkey = NULL;
	STACK_OF(X509) *ca = NULL;
	unsigned char *der = NULL;
	const unsigned char *q;
	size_t len = 0;
	PKCS12 *p12 = NULL;
	struct algs a;
	char *fname;
	int fnlen = 0;

	x509_key_generate(kt, &key);
	pki_client(p, key, cn, "user@example.jp", 365, &leaf);
	x509_sign(leaf, p->ca_key);
	TAP_OK(p12_build(key, leaf, chain, 2, pw, mode, &der, &len) == 0, "%s %s: build", what,
	       x509_key_type_name(kt));
	q = der;
	p12 = d2i_PKCS12(NULL, &q, (long)len);
	TAP_OK(p12 != NULL && q == der + len, "%s: DER parses", what);
	TAP_OK(PKCS12_verify_mac(p12, pw, -1) == 1, "%s: MAC verifies with the password", what);
	TAP_OK(PKCS12_verify_mac(p12, "wrong", -1) != 1, "%s: MAC fails with another", what);
	TAP_OK(PKCS12_parse(p12, pw, &gotkey, &got, &ca) == 1, "%s: parse", what);
	TAP_OK(gotkey && EVP_PKEY_eq(gotkey, key) == 1, "%s: key inside", what);
	TAP_OK(got && X509_cmp(got, leaf) == 0, "%s: certificate inside", what);
	TAP_OK(ca && sk_X509_num(ca) == 2, "%s: chain of 2 inside", what);
	fname = got ? (char *)X509_alias_get0(got, &fnlen) : NULL;
	TAP_OK(fname != NULL && (size_t)fnlen == strlen(cn) && memcmp(fname, cn, fnlen) == 0,
	       "%s: friendly name = CN (%.*s)", what, fnlen, fname ? fname : "");
	p12_algs(p12, &a);
	if (mode == P12_MODERN) {
		TAP_OK(a.mac_md == NID_sha256, "modern: SHA-256 MAC");
		TAP_OK(a.key_enc == NID_aes_256_cbc && a.key_prf == NID_hmacWithSHA256,
		       "modern: key AES-256-CBC with PBKDF2-HMAC-SHA256");
		TAP_OK(a.cert_enc == NID_aes_256_cbc && a.cert_prf == NID_hmacWithSHA256,
		       "modern: certificates AES-256-CBC with PBKDF2-HMAC-SHA256");
	} else {
		TAP_OK(a.mac_md == NID_sha1, "compat: SHA-1 MAC");
		TAP_OK(a.key_enc == NID_pbe_WithSHA1And3_Key_TripleDES_CBC,
		       "compat: key pbeWithSHA1And3-KeyTripleDES-CBC");
		TAP_OK(a.cert_enc == NID_pbe_WithSHA1And3_Key_TripleDES_CBC,
		       "compat: certificates pbeWithSHA1And3-KeyTripleDES-CBC");
	}
	sk_X509_pop_free(ca, X509_free);
	X509_free(got);
	EVP_PKEY_free(gotkey);
	PKCS12_free(p12);
	free(der);
	X509_free(leaf);
	EVP_PKEY_free(key);
}

static void
test_errors(struct pki *p)
{
	EVP_PKEY *key = NULL, *other = NULL;
	X509 *leaf = NULL;
	unsigned char *der = NULL;
	size_t len = 0;
	enum p12_mode m;

	TAP_OK(p12_mode_parse("modern", &m) == 0 && m == P12_MODERN, "parse modern");
	TAP_OK(p12_mode_parse("compat", &m) == 0 && m == P12_COMPAT, "parse compat");
	TAP_OK(p12_mode_parse("legacy", &m) == P12_E_INVALID, "unknown mode");
	x509_key_generate(X509_KEY_P256, &key);
	x509_key_generate(X509_KEY_P256, &other);
	pki_client(p, key, "client_000001", NULL, 30, &leaf);
	x509_sign(leaf, p->ca_key);
	TAP_OK(p12_build(other, leaf, NULL, 0, "pw", P12_MODERN, &der, &len) == P12_E_INVALID,
	       "key that does not match the certificate");
	TAP_OK(p12_build(key, leaf, NULL, 0, NULL, P12_MODERN, &der, &len) == P12_E_INVALID,
	       "no password");
	TAP_OK(p12_build(key, leaf, NULL, 0, "pw", P12_MODE__MAX, &der, &len) == P12_E_INVALID,
	       "bad mode");
	TAP_OK(p12_build(key, leaf, NULL, 0, "pw", P12_COMPAT, &der, &len) == 0,
	       "no chain is fine");
	free(der);
	X509_free(leaf);
	EVP_PKEY_free(key);
	EVP_PKEY_free(other);
}

int
main(void)
{
	struct pki p;

	if (pki_make(&p, X509_KEY_P256, "Example") != 0) {
		TAP_OK(0, "fixture");
		return tap_done();
	}
	check_profile(&p, X509_KEY_P256, P12_MODERN, "Taro Yamada");
	check_profile(&p, X509_KEY_P256, P12_COMPAT, "client_000123");
	check_profile(&p, X509_KEY_RSA2048, P12_MODERN, "山田 太郎");
	check_profile(&p, X509_KEY_RSA2048, P12_COMPAT, "山田 太郎");
	test_errors(&p);
	pki_free(&p);
	return tap_done();
}
