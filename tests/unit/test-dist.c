/*
 * test-dist.c: what distribution hands out. Without a server: certificate rows built with
 * libpq alone (sealed passwords that open, and every way one does not), file names, the
 * .mobileconfig read back by a strict XML reader, the statuses handed out, and the CA chain's
 * -EIO on a dead connection. With SHOMEI_TEST_DB: dist_chain_load on a scratch schema.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "domain/dist.h"
#include "domain/lifecycle.h"
#include "core/util.h"
#include "pki/x509.h"
#include "db-fixture.h"
/* pki-fixture.h's client-certificate helper is not needed here */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#include "pki-fixture.h"
#pragma GCC diagnostic pop
#include "xml-mini.h"
#include "tap.h"

static const unsigned char key[SECRET_KEY_LEN] = {
	1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16,
	17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32,
};
static const unsigned char other_key[SECRET_KEY_LEN] = {
	99, 2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16,
	17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32,
};

static void
test_status(void)
{
	static const struct {
		const char *s;
		int want;
	} cases[] = {
		{"issued", 1},
		{"downloaded", 1},
		{"revoke_scheduled", 1},
		{"issuing", 0},
		{"revoked", 0},
		{"failed", 0},
		{"", 0},
		{NULL, 0},
		{"Issued", 0},
		{"issued ", 0},
		{" issued", 0},
		{"issue", 0},
		{"downloaded\n", 0},
		{"revoke", 0},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char shown[40];
		snprintf(shown, sizeof(shown), "%s", cases[i].s ? cases[i].s : "(NULL)");
		for (char *p = shown; *p; p++)
			if ((unsigned char)*p < 0x20)
				*p = '?';
		TAP_OK(lifecycle_has(cases[i].s, LC_F_VALID) == cases[i].want,
		       "lifecycle_has(\"%s\", LC_F_VALID): %d", shown, cases[i].want);
	}
	/* the SQL list and the function agree */
	static const char *const all[] = {"issuing",          "issued",  "downloaded",
					  "revoke_scheduled", "revoked", "failed"};
	int agree = 1;
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		char quoted[40];
		snprintf(quoted, sizeof(quoted), "'%s'", all[i]);
		agree &=
			lifecycle_has(all[i], LC_F_VALID) == (strstr(LC_SQL_VALID, quoted) != NULL);
	}
	TAP_OK(agree, "dist_valid_status and LC_SQL_VALID name the same statuses");
}

/* bytea in PostgreSQL's hex text form, malloc'ed. */
static char *
bytea_text(const unsigned char *b, size_t n)
{
	char *s = malloc(2 * n + 3);

	if (s == NULL)
		return NULL;
	s[0] = '\\';
	s[1] = 'x';
	util_hex(b, n, s + 2);
	return s;
}

/* A sealed password as bytea text; tamper: -1 none, else the byte index to flip. */
static char *
sealed_text(const unsigned char *k, const char *purpose, const char *pw, size_t cut, int tamper)
{
	unsigned char *blob = NULL;
	size_t len = 0;
	char *t;

	if (secret_seal(k, purpose, pw, strlen(pw), &blob, &len) != 0)
		return NULL;
	if (tamper >= 0 && (size_t)tamper < len)
		blob[tamper] ^= 0x01;
	t = bytea_text(blob, len - cut);
	free(blob);
	return t;
}

static const char *const cols[] = {"id",          "number", "cn",  "email",
				   "device_code", "status", "p12", "p12_password_enc"};

/* One certificate row; ncols 8 with p12, fewer to leave the last columns out. */
static PGresult *
cert_row(int ncols, const char *const *names, const char *p12, const char *sealed)
{
	const char *cells[8] = {"7",  "0",      "Taro Yamada", "taro@example.jp",
				"11", "issued", p12,           sealed};

	/* the columns picked by name, in the order given */
	const char *picked[8];
	for (int c = 0; c < ncols; c++)
		for (int j = 0; j < 8; j++)
			if (strcmp(names[c], cols[j]) == 0)
				picked[c] = cells[j];
	return fixture_result(ncols, names, 1, picked);
}

static int
wiped(const struct dist_cert *c)
{
	for (size_t i = 0; i < sizeof(c->password); i++)
		if (c->password[i] != 0)
			return 0;
	return c->p12 == NULL && c->p12_len == 0;
}

static void
test_from_row(void)
{
	unsigned char p12[300];
	char pw63[64], pw64[65];
	struct dist_cert c;
	PGresult *res;
	int rc;

	util_random(p12, sizeof(p12));
	memset(pw63, 'a', 63);
	pw63[63] = '\0';
	memset(pw64, 'b', 64);
	pw64[64] = '\0';
	char *p12t = bytea_text(p12, sizeof(p12));
	char *good = sealed_text(key, "p12-password", "Abc234defGHJ", 0, -1);

	res = cert_row(8, cols, p12t, good);
	rc = dist_cert_from_row(res, 0, key, &c);
	TAP_OK(rc == 0 && c.id == 7 && c.number == 0 && strcmp(c.cn, "Taro Yamada") == 0 &&
		       strcmp(c.email, "taro@example.jp") == 0 && strcmp(c.device, "11") == 0 &&
		       strcmp(c.status, "issued") == 0,
	       "a good row: the fields");
	TAP_OK(rc == 0 && c.p12_len == sizeof(p12) && memcmp(c.p12, p12, sizeof(p12)) == 0,
	       "a good row: the PKCS#12 bytes");
	TAP_OK(rc == 0 && strcmp(c.password, "Abc234defGHJ") == 0,
	       "a good row: the password opened");
	dist_cert_done(&c);
	TAP_OK(wiped(&c), "dist_cert_done wipes the password and frees the PKCS#12");
	dist_cert_done(&c);
	PQclear(res);

	/* a password list needs no PKCS#12: the column may be left out */
	static const char *const no_p12[] = {
		"id", "number", "cn", "email", "device_code", "status", "p12_password_enc"};
	res = cert_row(7, no_p12, NULL, good);
	TAP_OK(dist_cert_from_row(res, 0, key, &c) == 0 && c.p12 == NULL && c.p12_len == 0 &&
		       strcmp(c.password, "Abc234defGHJ") == 0,
	       "no p12 column: 0, no PKCS#12, the password");
	dist_cert_done(&c);
	PQclear(res);

	/* the sealed password, every way it does not open: -EIO and nothing left behind */
	struct {
		const char *what;
		char *sealed;
	} bad[] = {
		{"sealed with another key",
		 sealed_text(other_key, "p12-password", "Abc234defGHJ", 0, -1)},
		{"sealed for another purpose", sealed_text(key, "ca-key", "Abc234defGHJ", 0, -1)},
		{"one byte short", sealed_text(key, "p12-password", "Abc234defGHJ", 1, -1)},
		{"a bit flipped in the ciphertext",
		 sealed_text(key, "p12-password", "Abc234defGHJ", 0, 18)},
		{"a bit flipped in the magic",
		 sealed_text(key, "p12-password", "Abc234defGHJ", 0, 0)},
		{"a 64-byte password (no room for it)",
		 sealed_text(key, "p12-password", pw64, 0, -1)},
		{"garbage", strdup("\\xdeadbeef")},
		{"empty", strdup("\\x")},
		{"not bytea text", strdup("plain text")},
		{"SQL NULL", NULL},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&c, 0x5a, sizeof(c));
		res = cert_row(8, cols, p12t, bad[i].sealed);
		rc = dist_cert_from_row(res, 0, key, &c);
		TAP_OK(rc == -EIO && wiped(&c), "password %s: -EIO, PKCS#12 freed, password wiped",
		       bad[i].what);
		PQclear(res);
		free(bad[i].sealed);
	}

	char *s63 = sealed_text(key, "p12-password", pw63, 0, -1);
	res = cert_row(8, cols, p12t, s63);
	TAP_OK(dist_cert_from_row(res, 0, key, &c) == 0 && strcmp(c.password, pw63) == 0,
	       "a 63-byte password: fits");
	dist_cert_done(&c);
	PQclear(res);
	free(s63);

	res = cert_row(8, cols, NULL, good);
	TAP_OK(dist_cert_from_row(res, 0, key, &c) == -EIO && wiped(&c),
	       "a p12 column that is NULL: -EIO");
	PQclear(res);
	static const char *const no_pw[] = {"id",          "number", "cn", "email",
					    "device_code", "status", "p12"};
	res = cert_row(7, no_pw, p12t, NULL);
	TAP_OK(dist_cert_from_row(res, 0, key, &c) == -EIO && wiped(&c),
	       "no p12_password_enc column: -EIO, the PKCS#12 read before it freed");
	PQclear(res);
	res = cert_row(8, cols, p12t, good);
	TAP_OK(dist_cert_from_row(res, 1, key, &c) == -EIO && wiped(&c),
	       "a row past the end: -EIO");
	PQclear(res);
	res = cert_row(8, cols, "A\\000B\\\\", good);
	TAP_OK(dist_cert_from_row(res, 0, key, &c) == 0 && c.p12_len == 4 &&
		       memcmp(c.p12, "A\0B\\", 4) == 0,
	       "bytea in the escape format too (bytea_output = escape)");
	dist_cert_done(&c);
	PQclear(res);

	/* text columns: truncated to their buffers, NULL as "" */
	char longcn[400];
	memset(longcn, 'c', sizeof(longcn) - 1);
	longcn[sizeof(longcn) - 1] = '\0';
	const char *cells[] = {"8", "12", longcn, NULL, NULL, "downloaded", p12t, good};
	res = fixture_result(8, cols, 1, cells);
	TAP_OK(dist_cert_from_row(res, 0, key, &c) == 0 && strlen(c.cn) == sizeof(c.cn) - 1 &&
		       c.email[0] == '\0' && c.device[0] == '\0' && c.number == 12,
	       "a 399-byte CN cut to %zu bytes; NULL e-mail and device as \"\"", sizeof(c.cn) - 1);
	dist_cert_done(&c);
	PQclear(res);
	free(p12t);
	free(good);
}

static void
test_base_name(void)
{
	static const struct {
		long long number;
		const char *cn, *email, *device, *want;
	} cases[] = {
		{1, "client_000001", "", "", "client_000001"},
		{0, "Taro Yamada", "taro@example.jp", "11", "taro@example.jp_11"},
		{5, "client_000005", "x@example.jp", "11", "client_000005"}, /* numbered wins */
		{0, "Only CN", "", "", "Only CN"},                           /* no device: the CN */
		{0, "", "a/b\\c:d*e?f\"g<h>i|j@example.jp", "01",
		 "a_b_c_d_e_f_g_h_i_j@example.jp_01"},
		{0, "", "../../etc/passwd", "99", ".._.._etc_passwd_99"},
		{0, "", "tab\there\nnl\x01\x1f", "20", "tab_here_nl___20"},
		{0, "", "del\x7f", "20", "del\x7f_20"}, /* DEL is not refused */
		{0, "", "山田@example.jp", "12", "山田@example.jp_12"},
		{3, "a:b", "", "", "a_b"},
	};
	struct dist_cert c;
	char buf[300], small[8];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&c, 0, sizeof(c));
		c.number = cases[i].number;
		snprintf(c.cn, sizeof(c.cn), "%s", cases[i].cn);
		snprintf(c.email, sizeof(c.email), "%s", cases[i].email);
		snprintf(c.device, sizeof(c.device), "%s", cases[i].device);
		dist_base_name(&c, buf, sizeof(buf));
		TAP_STREQ(buf, cases[i].want, "dist_base_name %zu: \"%s\"", i, cases[i].want);
	}
	memset(&c, 0, sizeof(c));
	snprintf(c.email, sizeof(c.email), "a/very/long@example.jp");
	snprintf(c.device, sizeof(c.device), "11");
	memset(small, 'Z', sizeof(small));
	dist_base_name(&c, small, sizeof(small));
	TAP_OK(strcmp(small, "a_very_") == 0, "dist_base_name into 8 bytes: cut, NUL-terminated");
}

/* base64 of a <data> element back to bytes; the length, or -1. */
static long
unbase64(const char *s, unsigned char *out, size_t cap)
{
	size_t n = strlen(s);
	int got;

	if (n == 0)
		return 0;
	if (n % 4 != 0 || n / 4 * 3 > cap)
		return -1;
	if ((got = EVP_DecodeBlock(out, (const unsigned char *)s, (int)n)) < 0)
		return -1;
	return got - (s[n - 1] == '=') - (s[n - 2] == '=');
}

static int
is_uuid5(const char *u)
{
	if (u == NULL || strlen(u) != 36)
		return 0;
	for (int i = 0; i < 36; i++) {
		int dash = i == 8 || i == 13 || i == 18 || i == 23;
		if (dash ? u[i] != '-' : strchr("0123456789abcdef", u[i]) == NULL || u[i] == '\0')
			return 0;
	}
	return u[14] == '5' && strchr("89ab", u[19]) != NULL;
}

/* Parse a profile; the root <plist>, NULL (with a diagnostic) when it is not well-formed. */
static struct xnode *
profile(const char *xml, size_t len)
{
	const char *err = NULL;
	struct xnode *root;

	if (strlen(xml) != len) {
		printf("# the length returned is not the string's\n");
		return NULL;
	}
	if ((root = xml_parse(xml, &err)) == NULL)
		printf("# not well-formed: %s\n", err);
	return root;
}

static const struct xnode *
top_dict(const struct xnode *root)
{
	return root != NULL && strcmp(root->name, "plist") == 0 && root->nkids == 1 ? root->kids[0]
										    : NULL;
}

static void
test_mobileconfig(void)
{
	static unsigned char p12[5000], root[900], back[8000];
	struct dist_cert c;
	char *out = NULL, *out2 = NULL;
	size_t len = 0, len2 = 0;
	struct xnode *doc = NULL, *doc2 = NULL;

	util_random(p12, sizeof(p12));
	util_random(root, sizeof(root));
	memset(&c, 0, sizeof(c));
	c.id = 7;
	snprintf(c.cn, sizeof(c.cn), "Taro & <Yamada> \"T\" 'Y' 山田");
	snprintf(c.email, sizeof(c.email), "taro@example.jp");
	snprintf(c.device, sizeof(c.device), "11");
	snprintf(c.password, sizeof(c.password), "Abc234defGHJ");
	c.p12 = p12;
	c.p12_len = sizeof(p12);

	TAP_OK(dist_mobileconfig(&c, "demo", "Reiwa & Co <Ltd>", root, sizeof(root), 0, &out,
				 &len) == 0,
	       "mobileconfig without the password: 0");
	doc = out ? profile(out, len) : NULL;
	const struct xnode *top = top_dict(doc);
	TAP_OK(top != NULL, "mobileconfig: well-formed XML, <plist> holding one <dict>");
	TAP_OK(strncmp(out ? out : "",
		       "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE plist", 53) == 0,
	       "mobileconfig: XML declaration and the plist DOCTYPE");
	const struct xnode *content = plist_get(top, "PayloadContent");
	TAP_OK(content != NULL && strcmp(content->name, "array") == 0 && content->nkids == 2,
	       "PayloadContent: an array of two payloads");
	const struct xnode *pk = content && content->nkids == 2 ? content->kids[0] : NULL;
	const struct xnode *rt = content && content->nkids == 2 ? content->kids[1] : NULL;
	TAP_STREQ(plist_string(top, "PayloadType"), "Configuration", "profile: PayloadType");
	TAP_STREQ(plist_string(top, "PayloadIdentifier"), "jp.shomei.demo.certificate.7",
		  "profile: PayloadIdentifier from slug and id");
	TAP_STREQ(plist_string(top, "PayloadOrganization"), "Reiwa & Co <Ltd>",
		  "profile: PayloadOrganization, escaped and read back whole");
	TAP_STREQ(plist_string(top, "PayloadDisplayName"),
		  "Reiwa & Co <Ltd> Taro & <Yamada> \"T\" 'Y' 山田",
		  "profile: PayloadDisplayName is organization and CN");
	const struct xnode *v = plist_get(top, "PayloadVersion");
	TAP_OK(v && strcmp(v->name, "integer") == 0 && strcmp(xml_text(v), "1") == 0,
	       "profile: PayloadVersion integer 1");
	v = plist_get(top, "PayloadRemovalDisallowed");
	TAP_OK(v && strcmp(v->name, "false") == 0 && v->nkids == 0, "profile: removal allowed");

	TAP_STREQ(plist_string(pk, "PayloadType"), "com.apple.security.pkcs12", "pkcs12 payload");
	TAP_STREQ(plist_string(pk, "PayloadIdentifier"), "jp.shomei.demo.certificate.7.pkcs12",
		  "pkcs12 payload: identifier");
	TAP_STREQ(plist_string(pk, "PayloadDisplayName"), c.cn, "pkcs12 payload: the CN");
	TAP_STREQ(plist_string(pk, "PayloadCertificateFileName"), "taro@example.jp_11.p12",
		  "pkcs12 payload: the file name");
	v = plist_get(pk, "PayloadContent");
	TAP_OK(v && strcmp(v->name, "data") == 0 &&
		       unbase64(xml_text(v), back, sizeof(back)) == (long)sizeof(p12) &&
		       memcmp(back, p12, sizeof(p12)) == 0,
	       "pkcs12 payload: <data> is the PKCS#12, base64");
	TAP_OK(pk != NULL && plist_get(pk, "Password") == NULL &&
		       strstr(out, "Abc234defGHJ") == NULL,
	       "without embed_password: no Password, the password nowhere in the file");
	TAP_STREQ(plist_string(rt, "PayloadType"), "com.apple.security.root", "root payload");
	TAP_STREQ(plist_string(rt, "PayloadIdentifier"), "jp.shomei.demo.certificate.7.root",
		  "root payload: identifier");
	TAP_STREQ(plist_string(rt, "PayloadCertificateFileName"), "cacert.crt",
		  "root payload: cacert.crt");
	v = plist_get(rt, "PayloadContent");
	TAP_OK(v && unbase64(xml_text(v), back, sizeof(back)) == (long)sizeof(root) &&
		       memcmp(back, root, sizeof(root)) == 0,
	       "root payload: <data> is the root certificate's DER");
	const char *u1 = plist_string(top, "PayloadUUID"), *u2 = plist_string(pk, "PayloadUUID"),
		   *u3 = plist_string(rt, "PayloadUUID");
	TAP_OK(is_uuid5(u1) && is_uuid5(u2) && is_uuid5(u3) && strcmp(u1, u2) != 0 &&
		       strcmp(u1, u3) != 0 && strcmp(u2, u3) != 0,
	       "three distinct UUIDs, version 5 layout");

	TAP_OK(dist_mobileconfig(&c, "demo", "Reiwa & Co <Ltd>", root, sizeof(root), 1, &out2,
				 &len2) == 0,
	       "mobileconfig with the password: 0");
	doc2 = out2 ? profile(out2, len2) : NULL;
	const struct xnode *top2 = top_dict(doc2), *c2 = plist_get(top2, "PayloadContent");
	const struct xnode *pk2 = c2 && c2->nkids == 2 ? c2->kids[0] : NULL;
	TAP_STREQ(plist_string(pk2, "Password"), "Abc234defGHJ",
		  "with embed_password: Password in the pkcs12 payload");
	TAP_OK(doc2 && plist_get(top2, "Password") == NULL &&
		       plist_get(c2->kids[1], "Password") == NULL,
	       "... and only there");
	TAP_STREQ(
		plist_string(top2, "PayloadUUID"), u1,
		"the same certificate gives the same UUIDs (a second download replaces the first)");
	xml_free(doc2);
	free(out2);

	c.id = 8;
	out2 = NULL;
	dist_mobileconfig(&c, "demo", "Reiwa & Co <Ltd>", root, sizeof(root), 0, &out2, &len2);
	doc2 = out2 ? profile(out2, len2) : NULL;
	TAP_OK(doc2 && plist_string(top_dict(doc2), "PayloadUUID") != NULL &&
		       strcmp(plist_string(top_dict(doc2), "PayloadUUID"), u1) != 0,
	       "another certificate: another UUID");
	xml_free(doc2);
	free(out2);
	c.id = 7;
	out2 = NULL;
	dist_mobileconfig(&c, "other", "Reiwa & Co <Ltd>", root, sizeof(root), 0, &out2, &len2);
	doc2 = out2 ? profile(out2, len2) : NULL;
	TAP_OK(doc2 && plist_string(top_dict(doc2), "PayloadUUID") != NULL &&
		       strcmp(plist_string(top_dict(doc2), "PayloadUUID"), u1) != 0,
	       "another tenant, same id: another UUID");
	xml_free(doc2);
	free(out2);
	xml_free(doc);
	free(out);

	/* a numbered certificate, a password with XML's special characters, no PKCS#12 bytes */
	memset(&c, 0, sizeof(c));
	c.id = 12;
	c.number = 12;
	snprintf(c.cn, sizeof(c.cn), "client_000012");
	snprintf(c.password, sizeof(c.password), "a&b<c>d\"e'f");
	out = NULL;
	TAP_OK(dist_mobileconfig(&c, "demo", "Org", root, sizeof(root), 1, &out, &len) == 0,
	       "a numbered certificate without PKCS#12 bytes: 0");
	doc = out ? profile(out, len) : NULL;
	content = plist_get(top_dict(doc), "PayloadContent");
	pk = content && content->nkids == 2 ? content->kids[0] : NULL;
	TAP_STREQ(plist_string(pk, "PayloadCertificateFileName"), "client_000012.p12",
		  "numbered: the CN names the file");
	TAP_STREQ(plist_string(pk, "Password"), "a&b<c>d\"e'f",
		  "a password with & < > \" ' survives the XML");
	v = plist_get(pk, "PayloadContent");
	TAP_OK(v && strcmp(v->name, "data") == 0 && strcmp(xml_text(v), "") == 0,
	       "no PKCS#12 bytes: an empty <data>");
	xml_free(doc);
	free(out);

	/* the reader itself refuses what is not well-formed */
	static const char *const broken[] = {
		"<plist><dict></plist>", "<plist>a & b</plist>", "<plist>a < b</plist>",
		"<plist>&nbsp;</plist>", "<plist>\x01</plist>",  "<plist>\xc3</plist>",
		"<plist></plist><x/>",   "<plist a=b></plist>",  "<plist>",
	};
	int refused = 1;
	for (size_t i = 0; i < sizeof(broken) / sizeof(broken[0]); i++) {
		const char *err;
		struct xnode *n = xml_parse(broken[i], &err);
		refused &= n == NULL;
		xml_free(n);
	}
	TAP_OK(refused, "the test's XML reader refuses %zu malformed documents",
	       sizeof(broken) / sizeof(broken[0]));
}

static void
test_chain_dead(void)
{
	struct dist_chain ch;
	struct db db;

	memset(&ch, 0x5a, sizeof(ch));
	db_init(&db, DEAD_DB);
	TAP_OK(dist_chain_load(&db, 1, &ch) == -EIO && ch.pem == NULL && ch.ca_der == NULL &&
		       ch.root_der == NULL,
	       "dist_chain_load on a dead connection: -EIO, the chain empty");
	dist_chain_done(&ch);
	db_done(&db);
}

/* ---- against SHOMEI_TEST_DB ---- */

static long long
insert_ca(struct db *db, const char *kind, const char *tenant, const char *parent, const char *pem,
	  const char *active)
{
	const char *p[] = {kind, tenant, parent, pem, active};

	return sql_ll(
		db,
		"INSERT INTO cas (kind, tenant_id, parent_id, subject, serial, cert_pem, key_file,"
		" not_before, not_after, active) VALUES ($1, $2, $3, 'CN=x', '01', $4, 'k',"
		" now(), now() + interval '1 year', $5::boolean) RETURNING id",
		5, p);
}

static void
test_chain_server(const char *conninfo)
{
	struct scratch s;
	struct pki p;
	struct dist_chain ch;
	char *root_pem = NULL, *ca_pem = NULL, rid[24], tid[24], t2[24];
	unsigned char *root_der = NULL, *ca_der = NULL;
	size_t n, root_len = 0, ca_len = 0;

	if (scratch_open(&s, conninfo) != 0 || pki_make(&p, X509_KEY_P256, "Reiwa") != 0) {
		TAP_OK(0, "server: scratch schema and a PKI");
		scratch_close(&s);
		return;
	}
	x509_cert_to_pem(p.root, &root_pem, &n);
	x509_cert_to_pem(p.ca, &ca_pem, &n);
	x509_cert_to_der(p.root, &root_der, &root_len);
	x509_cert_to_der(p.ca, &ca_der, &ca_len);
	snprintf(tid, sizeof(tid), "%lld",
		 sql_ll(&s.db,
			"INSERT INTO tenants (slug, name, name_en) VALUES ('a', 'A', 'A') "
			"RETURNING id",
			0, NULL));
	snprintf(t2, sizeof(t2), "%lld",
		 sql_ll(&s.db,
			"INSERT INTO tenants (slug, name, name_en) VALUES ('b', 'B', 'B') "
			"RETURNING id",
			0, NULL));
	snprintf(rid, sizeof(rid), "%lld", insert_ca(&s.db, "root", NULL, NULL, root_pem, "true"));
	TAP_OK(insert_ca(&s.db, "tenant", tid, rid, ca_pem, "true") > 0,
	       "server: root and CA rows");

	int rc = dist_chain_load(&s.db, atoll(tid), &ch);
	size_t want_len = strlen(ca_pem) + strlen(root_pem);
	TAP_OK(rc == 0 && ch.pem_len == want_len && strncmp(ch.pem, ca_pem, strlen(ca_pem)) == 0 &&
		       strcmp(ch.pem + strlen(ca_pem), root_pem) == 0,
	       "server: the PEM chain is the CA then the root");
	TAP_OK(rc == 0 && ch.ca_der_len == ca_len && memcmp(ch.ca_der, ca_der, ca_len) == 0 &&
		       ch.root_der_len == root_len && memcmp(ch.root_der, root_der, root_len) == 0,
	       "server: the DER of both");
	dist_chain_done(&ch);
	TAP_OK(ch.pem == NULL && ch.ca_der == NULL, "server: dist_chain_done empties it");
	TAP_OK(dist_chain_load(&s.db, atoll(t2), &ch) == DB_E_NOTFOUND && ch.pem == NULL,
	       "server: a tenant without a CA: DB_E_NOTFOUND");
	TAP_OK(dist_chain_load(&s.db, 999999, &ch) == DB_E_NOTFOUND,
	       "server: a tenant that does not exist: DB_E_NOTFOUND");

	/* a PEM without its final newline still makes two PEM blocks */
	ca_pem[strlen(ca_pem) - 1] = '\0';
	const char *q[] = {ca_pem, tid};
	sql_run(&s.db, "UPDATE cas SET cert_pem = $1 WHERE tenant_id = $2::bigint", 2, q);
	rc = dist_chain_load(&s.db, atoll(tid), &ch);
	TAP_OK(rc == 0 && ch.pem_len == want_len && ch.pem[strlen(ca_pem)] == '\n' &&
		       strcmp(ch.pem + strlen(ca_pem) + 1, root_pem) == 0,
	       "server: a CA PEM without a final newline gets one");
	dist_chain_done(&ch);

	static const char *const corrupt[] = {"garbage", "", "-----BEGIN CERTIFICATE-----\n"};
	for (size_t i = 0; i < sizeof(corrupt) / sizeof(corrupt[0]); i++) {
		const char *c[] = {corrupt[i], tid};
		sql_run(&s.db, "UPDATE cas SET cert_pem = $1 WHERE tenant_id = $2::bigint", 2, c);
		memset(&ch, 0x5a, sizeof(ch));
		TAP_OK(dist_chain_load(&s.db, atoll(tid), &ch) == -EIO && ch.pem == NULL &&
			       ch.ca_der == NULL,
		       "server: a CA row whose PEM is \"%.12s\": -EIO", corrupt[i]);
	}
	sql_run(&s.db, "UPDATE cas SET active = false WHERE kind = 'tenant'", 0, NULL);
	TAP_OK(dist_chain_load(&s.db, atoll(tid), &ch) == DB_E_NOTFOUND,
	       "server: an inactive CA is not handed out");

	free(root_pem);
	free(ca_pem);
	free(root_der);
	free(ca_der);
	pki_free(&p);
	scratch_close(&s);
	TAP_OK(scratch_gone(&s, conninfo), "server: scratch schema dropped");
}

int
main(void)
{
	const char *conninfo = fixture_env("SHOMEI_TEST_DB");

	test_status();
	test_from_row();
	test_base_name();
	test_mobileconfig();
	test_chain_dead();
	if (conninfo == NULL) {
		printf("# SHOMEI_TEST_DB not set: dist_chain_load did not run against "
		       "PostgreSQL\n");
		return tap_done();
	}
	test_chain_server(conninfo);
	return tap_done();
}
