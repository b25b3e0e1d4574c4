/* dist.c: what distribution hands out: a certificate's .p12, its password, file names, profiles. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "domain/dist.h"
#include "core/util.h"
#include "pki/x509.h"

static void
copy(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src ? src : "");
}

/* bytea in text form to a malloc'ed buffer. */
static int
bytea(const PGresult *res, int row, const char *col, unsigned char **out, size_t *len)
{
	const char *v = db_get(res, row, col);
	unsigned char *raw;
	size_t n = 0;

	if (v == NULL)
		return -EIO;
	if ((raw = PQunescapeBytea((const unsigned char *)v, &n)) == NULL)
		return -ENOMEM;
	if ((*out = malloc(n ? n : 1)) == NULL) {
		PQfreemem(raw);
		return -ENOMEM;
	}
	memcpy(*out, raw, n);
	*len = n;
	secret_wipe(raw, n);
	PQfreemem(raw);
	return 0;
}

int
dist_cert_from_row(const PGresult *res, int row, const unsigned char key[SECRET_KEY_LEN],
		   struct dist_cert *c)
{
	unsigned char *sealed = NULL, *pw = NULL;
	size_t sealed_len = 0, pw_len = 0;
	int rc;

	memset(c, 0, sizeof(*c));
	c->id = db_get_ll(res, row, "id");
	c->number = db_get_ll(res, row, "number");
	copy(c->cn, sizeof(c->cn), db_get(res, row, "cn"));
	copy(c->email, sizeof(c->email), db_get(res, row, "email"));
	copy(c->device, sizeof(c->device), db_get(res, row, "device_code"));
	copy(c->status, sizeof(c->status), db_get(res, row, "status"));
	/* the PKCS#12 column is optional: a password list needs only the password */
	if ((PQfnumber(res, "p12") >= 0 &&
	     (rc = bytea(res, row, "p12", &c->p12, &c->p12_len)) != 0) ||
	    (rc = bytea(res, row, "p12_password_enc", &sealed, &sealed_len)) != 0)
		goto out;
	if (secret_open(key, "p12-password", sealed, sealed_len, &pw, &pw_len) != 0 ||
	    pw_len >= sizeof(c->password)) {
		rc = -EIO;
		goto out;
	}
	memcpy(c->password, pw, pw_len);
	c->password[pw_len] = '\0';
	rc = 0;
out:
	if (pw != NULL)
		secret_wipe(pw, pw_len);
	free(pw);
	free(sealed);
	if (rc != 0)
		dist_cert_done(c);
	return rc;
}

void
dist_cert_done(struct dist_cert *c)
{
	secret_wipe(c->password, sizeof(c->password));
	free(c->p12);
	c->p12 = NULL;
	c->p12_len = 0;
}

void
dist_base_name(const struct dist_cert *c, char *buf, size_t len)
{
	if (c->number > 0 || c->device[0] == '\0')
		snprintf(buf, len, "%s", c->cn);
	else
		snprintf(buf, len, "%s_%s", c->email, c->device);
	for (char *p = buf; *p; p++)
		if (strchr("/\\:*?\"<>|", *p) != NULL || (unsigned char)*p < 0x20)
			*p = '_';
}

/* A growing string buffer for the profile. */
struct sbuf {
	char *s;
	size_t len;
	size_t cap;
	int err;
};

static void
sb_add(struct sbuf *b, const char *s, size_t n)
{
	if (b->err)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = (b->len + n + 1) * 2;
		char *p = realloc(b->s, cap);
		if (p == NULL) {
			b->err = -ENOMEM;
			return;
		}
		b->s = p;
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void
sb_str(struct sbuf *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

/* XML text with & < > " escaped. */
static void
sb_xml(struct sbuf *b, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&':
			sb_str(b, "&amp;");
			break;
		case '<':
			sb_str(b, "&lt;");
			break;
		case '>':
			sb_str(b, "&gt;");
			break;
		case '"':
			sb_str(b, "&quot;");
			break;
		default:
			sb_add(b, s, 1);
		}
	}
}

static void
sb_keystr(struct sbuf *b, const char *key, const char *val)
{
	sb_str(b, "\t<key>");
	sb_str(b, key);
	sb_str(b, "</key>\n\t<string>");
	sb_xml(b, val);
	sb_str(b, "</string>\n");
}

static void
sb_data(struct sbuf *b, const char *key, const unsigned char *data, size_t len)
{
	char *enc = malloc(4 * ((len + 2) / 3) + 1);

	if (enc == NULL) {
		b->err = -ENOMEM;
		return;
	}
	EVP_EncodeBlock((unsigned char *)enc, data, (int)len);
	sb_str(b, "\t<key>");
	sb_str(b, key);
	sb_str(b, "</key>\n\t<data>");
	sb_str(b, enc);
	sb_str(b, "</data>\n");
	free(enc);
}

/* A stable UUID (version 5 layout) from the SHA-256 of what it names. */
static void
stable_uuid(const char *slug, long long id, const char *what, char out[37])
{
	char in[256], hex[65];

	snprintf(in, sizeof(in), "shomei:%s:%lld:%s", slug, id, what);
	util_sha256_hex(in, strlen(in), hex);
	hex[12] = '5';                                                               /* version */
	hex[16] = "89ab"[(hex[16] >= 'a' ? hex[16] - 'a' + 10 : hex[16] - '0') & 3]; /* variant */
	snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16, hex + 20);
}

static void
payload_head(struct sbuf *b, const char *type, const char *ident, const char *uuid,
	     const char *name)
{
	sb_str(b, "<dict>\n");
	sb_keystr(b, "PayloadType", type);
	sb_str(b, "\t<key>PayloadVersion</key>\n\t<integer>1</integer>\n");
	sb_keystr(b, "PayloadIdentifier", ident);
	sb_keystr(b, "PayloadUUID", uuid);
	sb_keystr(b, "PayloadDisplayName", name);
}

int
dist_mobileconfig(const struct dist_cert *c, const char *slug, const char *org,
		  const unsigned char *root_der, size_t root_len, int embed_password, char **out,
		  size_t *len)
{
	struct sbuf b = {0};
	char ident[200], sub[220], uuid[37], base[300], fname[310], title[600];

	snprintf(ident, sizeof(ident), "jp.shomei.%s.certificate.%lld", slug, c->id);
	dist_base_name(c, base, sizeof(base));
	snprintf(fname, sizeof(fname), "%s.p12", base);
	sb_str(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		   "<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" "
		   "\"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n"
		   "<plist version=\"1.0\">\n<dict>\n\t<key>PayloadContent</key>\n<array>\n");
	stable_uuid(slug, c->id, "pkcs12", uuid);
	snprintf(sub, sizeof(sub), "%s.pkcs12", ident);
	payload_head(&b, "com.apple.security.pkcs12", sub, uuid, c->cn);
	sb_keystr(&b, "PayloadCertificateFileName", fname);
	sb_data(&b, "PayloadContent", c->p12, c->p12_len);
	if (embed_password)
		sb_keystr(&b, "Password", c->password);
	sb_str(&b, "</dict>\n");
	stable_uuid(slug, c->id, "root", uuid);
	snprintf(sub, sizeof(sub), "%s.root", ident);
	payload_head(&b, "com.apple.security.root", sub, uuid, "shomei Root CA");
	sb_keystr(&b, "PayloadCertificateFileName", "cacert.crt");
	sb_data(&b, "PayloadContent", root_der, root_len);
	sb_str(&b, "</dict>\n</array>\n");
	snprintf(title, sizeof(title), "%s %s", org, c->cn);
	sb_keystr(&b, "PayloadDisplayName", title);
	sb_keystr(&b, "PayloadIdentifier", ident);
	sb_keystr(&b, "PayloadOrganization", org);
	sb_str(&b, "\t<key>PayloadRemovalDisallowed</key>\n\t<false/>\n");
	sb_keystr(&b, "PayloadType", "Configuration");
	stable_uuid(slug, c->id, "profile", uuid);
	sb_keystr(&b, "PayloadUUID", uuid);
	sb_str(&b, "\t<key>PayloadVersion</key>\n\t<integer>1</integer>\n</dict>\n</plist>\n");
	if (b.err) {
		free(b.s);
		return b.err;
	}
	*out = b.s;
	*len = b.len;
	return 0;
}

static const struct db_stmt st_chain = {
	"dist_chain",
	"SELECT ca.cert_pem AS ca_pem, root.cert_pem AS root_pem FROM cas ca"
	" JOIN cas root ON root.id = ca.parent_id"
	" WHERE ca.tenant_id = $1 AND ca.kind = 'tenant' AND ca.active",
	1,
};

/* PEM text to DER through x509. */
static int
pem_to_der(const char *pem, unsigned char **der, size_t *len)
{
	X509 *x = NULL;
	int rc;

	if ((rc = x509_cert_from_pem(pem, strlen(pem), &x)) != 0)
		return rc < 0 ? rc : -EIO;
	rc = x509_cert_to_der(x, der, len);
	X509_free(x);
	return rc;
}

int
dist_chain_load(struct db *db, long long tenant_id, struct dist_chain *ch)
{
	char tid[24];
	PGresult *res = NULL;
	const char *ca, *root;
	int rc;

	memset(ch, 0, sizeof(*ch));
	snprintf(tid, sizeof(tid), "%lld", tenant_id);
	const char *params[] = {tid};
	if ((rc = db_exec(db, &st_chain, params, &res)) != 0)
		return rc < 0 ? rc : -EIO;
	if (PQntuples(res) != 1) {
		rc = DB_E_NOTFOUND;
		goto out;
	}
	ca = db_get(res, 0, "ca_pem");
	root = db_get(res, 0, "root_pem");
	if (ca == NULL || root == NULL || ca[0] == '\0' || root[0] == '\0') {
		rc = -EIO; /* a CA row without its certificate */
		goto out;
	}
	ch->pem_len = strlen(ca) + strlen(root) + 1;
	if ((ch->pem = malloc(ch->pem_len + 1)) == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	snprintf(ch->pem, ch->pem_len + 1, "%s%s%s", ca, ca[strlen(ca) - 1] == '\n' ? "" : "\n",
		 root);
	ch->pem_len = strlen(ch->pem);
	if ((rc = pem_to_der(ca, &ch->ca_der, &ch->ca_der_len)) != 0 ||
	    (rc = pem_to_der(root, &ch->root_der, &ch->root_der_len)) != 0)
		goto out;
	rc = 0;
out:
	PQclear(res);
	if (rc != 0)
		dist_chain_done(ch);
	return rc;
}

void
dist_chain_done(struct dist_chain *ch)
{
	free(ch->pem);
	free(ch->ca_der);
	free(ch->root_der);
	memset(ch, 0, sizeof(*ch));
}
