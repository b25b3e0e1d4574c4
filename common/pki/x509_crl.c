/* x509_crl.c: building and signing CRLs. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include "pki/x509.h"
#include "pki/x509_int.h"

static int
crl_add_entry(X509_CRL *crl, const struct x509_revoked *e)
{
	X509_REVOKED *rev = NULL;
	ASN1_INTEGER *serial = NULL;
	ASN1_TIME *at = NULL;
	ASN1_ENUMERATED *reason = NULL;
	int rc;

	if ((rc = x509_int_serial_from_hex(e->serial_hex, &serial)) != 0)
		goto out;
	rc = -ENOMEM;
	if ((rev = X509_REVOKED_new()) == NULL || (at = ASN1_TIME_set(NULL, e->revoked_at)) == NULL)
		goto out;
	rc = -EIO;
	if (!X509_REVOKED_set_serialNumber(rev, serial) ||
	    !X509_REVOKED_set_revocationDate(rev, at))
		goto out;
	if (e->reason >= 0) {
		if ((reason = ASN1_ENUMERATED_new()) == NULL ||
		    !ASN1_ENUMERATED_set(reason, e->reason) ||
		    X509_REVOKED_add1_ext_i2d(rev, NID_crl_reason, reason, 0, 0) != 1)
			goto out;
	}
	if (!X509_CRL_add0_revoked(crl, rev))
		goto out;
	rev = NULL;
	rc = 0;
out:
	ASN1_ENUMERATED_free(reason);
	ASN1_TIME_free(at);
	ASN1_INTEGER_free(serial);
	X509_REVOKED_free(rev);
	return rc;
}

static int
crl_set_times(X509_CRL *crl, time_t this_update, time_t next_update)
{
	ASN1_TIME *tu = NULL, *nu = NULL;
	int rc = -EIO;

	if ((tu = ASN1_TIME_set(NULL, this_update)) == NULL ||
	    (nu = ASN1_TIME_set(NULL, next_update)) == NULL) {
		rc = X509_E_INVALID;
		goto out;
	}
	if (X509_CRL_set1_lastUpdate(crl, tu) && X509_CRL_set1_nextUpdate(crl, nu))
		rc = 0;
out:
	ASN1_TIME_free(tu);
	ASN1_TIME_free(nu);
	return rc;
}

static int
crl_add_exts(X509_CRL *crl, const X509 *issuer, long long crl_number)
{
	AUTHORITY_KEYID *akid = NULL;
	ASN1_INTEGER *num = NULL;
	int rc;

	if ((rc = x509_int_make_akid(issuer, &akid)) != 0)
		goto out;
	rc = -EIO;
	if ((num = ASN1_INTEGER_new()) == NULL || !ASN1_INTEGER_set_int64(num, crl_number))
		goto out;
	if (X509_CRL_add1_ext_i2d(crl, NID_crl_number, num, 0, 0) != 1 ||
	    X509_CRL_add1_ext_i2d(crl, NID_authority_key_identifier, akid, 0, 0) != 1)
		goto out;
	rc = 0;
out:
	AUTHORITY_KEYID_free(akid);
	ASN1_INTEGER_free(num);
	return rc;
}

int
x509_crl_build(const X509 *issuer, long long crl_number, time_t this_update, time_t next_update,
	       const struct x509_revoked *entries, size_t n, X509_CRL **out)
{
	X509_CRL *crl = NULL;
	int rc = -EIO;

	if (this_update >= next_update || crl_number < 0)
		return X509_E_INVALID;
	if ((crl = X509_CRL_new()) == NULL)
		return -ENOMEM;
	if (!X509_CRL_set_version(crl, X509_CRL_VERSION_2) ||
	    !X509_CRL_set_issuer_name(crl, X509_get_subject_name(issuer)))
		goto out;
	if ((rc = crl_set_times(crl, this_update, next_update)) != 0)
		goto out;
	for (size_t i = 0; i < n; i++)
		if ((rc = crl_add_entry(crl, &entries[i])) != 0)
			goto out;
	if ((rc = crl_add_exts(crl, issuer, crl_number)) != 0)
		goto out;
	rc = -EIO;
	if (!X509_CRL_sort(crl))
		goto out;
	*out = crl;
	crl = NULL;
	rc = 0;
out:
	X509_CRL_free(crl);
	return rc;
}

int
x509_crl_sign(X509_CRL *crl, EVP_PKEY *key)
{
	return X509_CRL_sign(crl, key, EVP_sha256()) > 0 ? 0 : -EIO;
}

int
x509_crl_placeholder_sign(X509_CRL *crl)
{
	EVP_PKEY *k = NULL;
	int rc;

	if ((rc = x509_key_generate(X509_KEY_P256, &k)) == 0)
		rc = x509_crl_sign(crl, k);
	EVP_PKEY_free(k);
	return rc;
}

/*
 * The placeholder-signed CRL of many entries, written as DER by hand (DECISIONS.md, "Revocation
 * benchmark"). OpenSSL 3.0's encoder works out every nested length again at each level, and a
 * CRL built from objects is encoded twice more (the placeholder signature over the tbs, then
 * the whole): 100,000 entries took about 2 s that way. Here the CRL without entries is built
 * and placeholder-signed by OpenSSL as before (version, issuer, times, CRL number, AKI), the
 * entries are written straight into its tbs (sorted as X509_CRL_sort sorts them), the new tbs
 * is signed with the same throw-away key, and the result is parsed once, so its encoding is
 * cached and x509_crl_to_der costs a copy. tests/unit/test-x509.c checks that the tbs is
 * byte for byte the one x509_crl_build makes.
 */
struct dbuf {
	unsigned char *p;
	size_t len, cap;
	int err;
};

static void
db_put(struct dbuf *b, const void *d, size_t n)
{
	if (b->err)
		return;
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		unsigned char *p;
		while (cap < b->len + n)
			cap *= 2;
		if ((p = realloc(b->p, cap)) == NULL) {
			b->err = 1;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, d, n);
	b->len += n;
}

/* A DER tag and length. */
static void
db_hdr(struct dbuf *b, unsigned char tag, size_t n)
{
	unsigned char h[6];
	size_t k = 0;

	h[k++] = tag;
	if (n < 0x80) {
		h[k++] = (unsigned char)n;
	} else {
		int bytes = n > 0xffffff ? 4 : n > 0xffff ? 3 : n > 0xff ? 2 : 1;
		h[k++] = (unsigned char)(0x80 | bytes);
		for (int i = bytes - 1; i >= 0; i--)
			h[k++] = (unsigned char)(n >> (8 * i));
	}
	db_put(b, h, k);
}

static size_t
hdr_size(size_t n)
{
	return n < 0x80 ? 2 : n <= 0xff ? 3 : n <= 0xffff ? 4 : n <= 0xffffff ? 5 : 6;
}

/* The header of the DER element at p (before end): its header size and total size. */
static int
tlv(const unsigned char *p, const unsigned char *end, size_t *hdr, size_t *total)
{
	size_t n, h = 2;

	if (end - p < 2)
		return -1;
	n = p[1];
	if (n & 0x80) {
		int bytes = n & 0x7f;
		if (bytes < 1 || bytes > 4 || end - p < 2 + bytes)
			return -1;
		n = 0;
		for (int i = 0; i < bytes; i++)
			n = n << 8 | p[2 + i];
		h += (size_t)bytes;
	}
	if (n > (size_t)(end - p) - h)
		return -1;
	*hdr = h;
	*total = h + n;
	return 0;
}

struct fast_entry {
	unsigned char mag[21]; /* the serial's big-endian magnitude, no leading zero byte */
	unsigned char mlen;
	int reason;
	time_t at;
};

static int
fast_cmp(const void *a, const void *b)
{
	const struct fast_entry *x = a, *y = b;

	/* X509_REVOKED_cmp: ASN1_STRING_cmp of the serials (length, then the bytes) */
	if (x->mlen != y->mlen)
		return x->mlen < y->mlen ? -1 : 1;
	return memcmp(x->mag, y->mag, x->mlen);
}

/* x509_int_serial_from_hex's rule, into a magnitude. */
static int
fast_serial(const char *hex, struct fast_entry *e)
{
	size_t len = strlen(hex), i = 0, k = 0;
	unsigned char tmp[21];

	if (len == 0 || len > 40 || strspn(hex, "0123456789abcdefABCDEF") != len)
		return X509_E_INVALID;
	if (len % 2 == 1) {
		tmp[k++] = (unsigned char)OPENSSL_hexchar2int((unsigned char)hex[0]);
		i = 1;
	}
	for (; i < len; i += 2)
		tmp[k++] = (unsigned char)(OPENSSL_hexchar2int((unsigned char)hex[i]) << 4 |
					   OPENSSL_hexchar2int((unsigned char)hex[i + 1]));
	for (i = 0; i < k && tmp[i] == 0; i++)
		;
	e->mlen = (unsigned char)(k - i);
	memcpy(e->mag, tmp + i, k - i);
	return 0;
}

/* One revokedCertificates entry, as OpenSSL encodes it. */
static void
fast_put_entry(struct dbuf *b, const struct fast_entry *e)
{
	static const unsigned char reason_ext[] = {0x30, 0x0c, 0x30, 0x0a, 0x06, 0x03, 0x55,
						   0x1d, 0x15, 0x04, 0x03, 0x0a, 0x01};
	unsigned char ibuf[24], tbuf[20];
	size_t ilen = 0, tlen, body;
	struct tm tm;
	unsigned char ttag;

	/* INTEGER: the magnitude, a 0x00 first when its top bit is set; 0 as one zero byte */
	if (e->mlen == 0 || (e->mag[0] & 0x80))
		ibuf[ilen++] = 0;
	memcpy(ibuf + ilen, e->mag, e->mlen);
	ilen += e->mlen;
	/* RFC 5280 4.1.2.5 (ASN1_TIME_set): UTCTime for 1950-2049, else GeneralizedTime */
	gmtime_r(&e->at, &tm);
	if (tm.tm_year + 1900 >= 1950 && tm.tm_year + 1900 < 2050) {
		ttag = 0x17;
		tlen = (size_t)snprintf((char *)tbuf, sizeof(tbuf), "%02d%02d%02d%02d%02d%02dZ",
					tm.tm_year % 100, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
					tm.tm_min, tm.tm_sec);
	} else {
		ttag = 0x18;
		tlen = (size_t)snprintf((char *)tbuf, sizeof(tbuf), "%04d%02d%02d%02d%02d%02dZ",
					tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
					tm.tm_min, tm.tm_sec);
	}
	body = 2 + ilen + 2 + tlen + (e->reason >= 0 ? sizeof(reason_ext) + 1 : 0);
	db_hdr(b, 0x30, body);
	db_hdr(b, 0x02, ilen);
	db_put(b, ibuf, ilen);
	db_hdr(b, ttag, tlen);
	db_put(b, tbuf, tlen);
	if (e->reason >= 0) {
		unsigned char r = (unsigned char)e->reason;
		db_put(b, reason_ext, sizeof(reason_ext));
		db_put(b, &r, 1);
	}
}

int
x509_crl_build_placeholder(const X509 *issuer, long long crl_number, time_t this_update,
			   time_t next_update, const struct x509_revoked *entries, size_t n,
			   X509_CRL **out)
{
	X509_CRL *small = NULL;
	EVP_PKEY *k = NULL;
	EVP_MD_CTX *md = NULL;
	struct fast_entry *fe = NULL;
	struct dbuf rev = {0}, tbs = {0}, all = {0};
	unsigned char *small_tbs = NULL, *alg = NULL, *sig = NULL;
	const X509_ALGOR *salg = NULL;
	const ASN1_BIT_STRING *ssig = NULL;
	const unsigned char *q;
	size_t siglen = 0, h, total, at;
	int rc, slen, alen;

	*out = NULL;
	if (n > 0 && (fe = calloc(n, sizeof(*fe))) == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		if (entries[i].reason > 255 ||
		    (rc = fast_serial(entries[i].serial_hex, &fe[i])) != 0) {
			rc = X509_E_INVALID;
			goto out;
		}
		fe[i].reason = entries[i].reason;
		fe[i].at = entries[i].revoked_at;
	}
	if ((rc = x509_crl_build(issuer, crl_number, this_update, next_update, NULL, 0, &small)) !=
	    0)
		goto out;
	rc = -EIO;
	if (x509_key_generate(X509_KEY_P256, &k) != 0 || x509_crl_sign(small, k) != 0 ||
	    (slen = i2d_re_X509_CRL_tbs(small, &small_tbs)) <= 0)
		goto out;
	X509_CRL_get0_signature(small, &ssig, &salg);
	if ((alen = i2d_X509_ALGOR(salg, &alg)) <= 0)
		goto out;
	if (n > 0)
		qsort(fe, n, sizeof(*fe), fast_cmp);
	for (size_t i = 0; i < n; i++)
		fast_put_entry(&rev, &fe[i]);
	/* the small tbs: SEQUENCE { version, signature, issuer, thisUpdate, nextUpdate, [0] } */
	const unsigned char *p = small_tbs, *end = small_tbs + slen, *ins;
	if (tlv(p, end, &h, &total) != 0 || total != (size_t)slen || p[0] != 0x30)
		goto out;
	for (ins = p + h; ins < end && ins[0] != 0xa0; ins += total)
		if (tlv(ins, end, &h, &total) != 0)
			goto out;
	tlv(p, end, &h, &total);
	size_t before = (size_t)(ins - (p + h)), after = (size_t)(end - ins);
	size_t body = before + (n > 0 ? hdr_size(rev.len) + rev.len : 0) + after;
	db_hdr(&tbs, 0x30, body);
	db_put(&tbs, p + h, before);
	if (n > 0) {
		db_hdr(&tbs, 0x30, rev.len);
		db_put(&tbs, rev.p, rev.len);
	}
	db_put(&tbs, ins, after);
	if (rev.err || tbs.err) {
		rc = -ENOMEM;
		goto out;
	}
	/* the placeholder signature over the new tbs, with the same key and algorithm */
	if ((md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, k) != 1 ||
	    EVP_DigestSign(md, NULL, &siglen, tbs.p, tbs.len) != 1 ||
	    (sig = malloc(siglen + 1)) == NULL ||
	    EVP_DigestSign(md, sig + 1, &siglen, tbs.p, tbs.len) != 1)
		goto out;
	sig[0] = 0; /* no unused bits */
	(void)ssig;
	at = tbs.len + (size_t)alen + hdr_size(siglen + 1) + siglen + 1;
	db_hdr(&all, 0x30, at);
	db_put(&all, tbs.p, tbs.len);
	db_put(&all, alg, (size_t)alen);
	db_hdr(&all, 0x03, siglen + 1);
	db_put(&all, sig, siglen + 1);
	if (all.err) {
		rc = -ENOMEM;
		goto out;
	}
	q = all.p;
	if ((*out = d2i_X509_CRL(NULL, &q, (long)all.len)) == NULL || q != all.p + all.len) {
		X509_CRL_free(*out);
		*out = NULL;
		goto out;
	}
	rc = 0;
out:
	ERR_clear_error();
	EVP_MD_CTX_free(md);
	free(sig);
	OPENSSL_free(alg);
	OPENSSL_free(small_tbs);
	free(rev.p);
	free(tbs.p);
	free(all.p);
	free(fe);
	EVP_PKEY_free(k);
	X509_CRL_free(small);
	return rc;
}
