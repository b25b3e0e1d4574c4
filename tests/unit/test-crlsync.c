/* test-crlsync.c: shomei-crlsync's command line, the reload command's words, the PEM check and
 * the atomic write (tools/crlsync/crlsync.c). */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "extern.h"
#include "tap.h"

#define ARGC(a) ((int)(sizeof(a) / sizeof((a)[0])) - 1)

static void
test_args(void)
{
	struct crlsync_opts o;
	char err[512];

	char *a1[] = {"x", "--url", "https://h/crl/demo.pem", "--out", "/tmp/c.pem", NULL};
	TAP_OK(crlsync_parse_args(ARGC(a1), a1, &o, err, sizeof(err)) == 0 && o.interval == 5 &&
		       !o.once && o.reload == NULL && o.cacert == NULL,
	       "--url and --out: the defaults (interval 5, no reload) %s", err);
	crlsync_opts_free(&o);

	char *a2[] = {"x",        "--url",    "http://h/crl/d.pem",
		      "--out",    "/e/c.pem", "--interval",
		      "1",        "--once",   "--cacert",
		      "/ca.pem",  "--reload", "nginx -s reload -c '/etc/my nginx.conf'",
		      NULL};
	int rc = crlsync_parse_args(ARGC(a2), a2, &o, err, sizeof(err));
	TAP_OK(rc == 0 && o.interval == 1 && o.once && strcmp(o.cacert, "/ca.pem") == 0,
	       "every option parsed %s", err);
	TAP_OK(rc == 0 && o.reload && strcmp(o.reload[0], "nginx") == 0 &&
		       strcmp(o.reload[3], "-c") == 0 &&
		       strcmp(o.reload[4], "/etc/my nginx.conf") == 0 && o.reload[5] == NULL,
	       "--reload split into an argv, the quoted path one word");
	crlsync_opts_free(&o);

	struct {
		char *argv[8];
		const char *want;
		const char *what;
	} bad[] = {
		{{"x", "--out", "/tmp/c.pem", NULL}, "--url and --out", "no --url"},
		{{"x", "--url", "https://h/x.pem", NULL}, "--url and --out", "no --out"},
		{{"x", "--url", "ftp://h/x.pem", "--out", "/c", NULL}, "http://", "ftp:// URL"},
		{{"x", "--url", "file:///etc/passwd", "--out", "/c", NULL}, "http://", "file:// URL"},
		{{"x", "--url", "https://h/x", "--out", "/c", "--interval", "0", NULL}, "--interval",
		 "interval 0"},
		{{"x", "--url", "https://h/x", "--out", "/c", "--interval", "5s", NULL}, "--interval",
		 "interval 5s"},
		{{"x", "--url", "https://h/x", "--out", "/c", "--interval", "86401", NULL},
		 "--interval", "interval 86401"},
		{{"x", "--url", "https://h/x", "--out", "/c", "--reload", "a 'b", NULL}, "--reload",
		 "an unfinished quote in --reload"},
		{{"x", "--url", "https://h/x", "--out", "/c", "--reload", "  ", NULL}, "--reload",
		 "an empty --reload"},
		{{"x", "--url", "https://h/x", "--out", "/tmp/", NULL}, "--out", "--out a directory"},
		{{"x", "--url", "https://h/x", "--out", "/c", "extra", NULL}, "unexpected",
		 "an extra argument"},
		{{"x", "--url", "https://h/x", "--out", "/c", "--bogus", NULL}, "unknown",
		 "an unknown option"},
		{{"x", "--url", NULL}, "missing value", "--url without a value"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int n = 0;
		while (bad[i].argv[n] != NULL)
			n++;
		rc = crlsync_parse_args(n, bad[i].argv, &o, err, sizeof(err));
		TAP_OK(rc == -1 && strstr(err, bad[i].want) != NULL && o.reload == NULL,
		       "refused: %s (%s)", bad[i].what, err);
	}
}

/* Split cmd and compare with want (NULL-terminated). */
static int
split_is(const char *cmd, const char *const *want)
{
	char **argv = NULL;
	int same = crlsync_split(cmd, &argv) == 0;

	for (size_t i = 0; same; i++) {
		if (want[i] == NULL || argv[i] == NULL) {
			same = want[i] == NULL && argv[i] == NULL;
			break;
		}
		same = strcmp(want[i], argv[i]) == 0;
	}
	crlsync_argv_free(argv);
	return same;
}

static void
test_split(void)
{
	static const struct {
		const char *cmd;
		const char *want[12];
	} good[] = {
		{"nginx -s reload", {"nginx", "-s", "reload", NULL}},
		{"  kill\t-HUP   1234  ", {"kill", "-HUP", "1234", NULL}},
		{"a 'b c' d", {"a", "b c", "d", NULL}},
		{"a \"b \\\"c\\\\\" d", {"a", "b \"c\\", "d", NULL}},
		{"a \"x\\n\"", {"a", "x\\n", NULL}},
		{"a\\ b c", {"a b", "c", NULL}},
		{"x '' y", {"x", "", "y", NULL}},
		{"pre'fix 'post", {"prefix post", NULL}},
		{"echo $HOME; rm -rf / | cat > f",
		 {"echo", "$HOME;", "rm", "-rf", "/", "|", "cat", ">", "f", NULL}},
		{"ls ~ *", {"ls", "~", "*", NULL}},
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		TAP_OK(split_is(good[i].cmd, good[i].want), "split: [%s]", good[i].cmd);
	const char *bad[] = {"", "   ", "a 'b", "a \"b", "a \"b\\\"", "a\\"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char **argv = (char **)1;
		TAP_OK(crlsync_split(bad[i], &argv) == -1 && argv == NULL, "split refuses [%s]",
		       bad[i]);
	}
	char many[400] = "";
	for (int i = 0; i < CRLSYNC_MAX_ARGS + 1; i++)
		strcat(many, "w ");
	char **argv = NULL;
	TAP_OK(crlsync_split(many, &argv) == -1, "split refuses more than %d words",
	       CRLSYNC_MAX_ARGS);
}

/* A CRL signed by a fresh P-256 key, with n revoked serials, as PEM (malloc'ed). */
static char *
make_crl(int n, long next_days, size_t *len)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509_CRL *crl = X509_CRL_new();
	X509_NAME *name = X509_NAME_new();
	ASN1_TIME *t1 = ASN1_TIME_adj(NULL, time(NULL), 0, -60);
	ASN1_TIME *t2 = ASN1_TIME_adj(NULL, time(NULL), (int)next_days, 0);
	BIO *bio = BIO_new(BIO_s_mem());
	char *data, *out;
	long l;

	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"Test CA", -1,
				   -1, 0);
	X509_CRL_set_version(crl, 1);
	X509_CRL_set_issuer_name(crl, name);
	X509_CRL_set1_lastUpdate(crl, t1);
	X509_CRL_set1_nextUpdate(crl, t2);
	for (int i = 0; i < n; i++) {
		X509_REVOKED *r = X509_REVOKED_new();
		ASN1_INTEGER *sn = ASN1_INTEGER_new();
		ASN1_INTEGER_set(sn, 1000 + i);
		X509_REVOKED_set_serialNumber(r, sn);
		X509_REVOKED_set_revocationDate(r, t1);
		X509_CRL_add0_revoked(crl, r);
		ASN1_INTEGER_free(sn);
	}
	X509_CRL_sort(crl);
	X509_CRL_sign(crl, key, EVP_sha256());
	PEM_write_bio_X509_CRL(bio, crl);
	l = BIO_get_mem_data(bio, &data);
	out = malloc((size_t)l + 1);
	memcpy(out, data, (size_t)l);
	out[l] = '\0';
	*len = (size_t)l;
	BIO_free(bio);
	ASN1_TIME_free(t1);
	ASN1_TIME_free(t2);
	X509_NAME_free(name);
	X509_CRL_free(crl);
	EVP_PKEY_free(key);
	return out;
}

static char *
cat3(const char *a, const char *b, const char *c)
{
	size_t n = strlen(a) + strlen(b) + strlen(c) + 1;
	char *s = malloc(n);
	snprintf(s, n, "%s%s%s", a, b, c);
	return s;
}

static void
test_check(void)
{
	struct crlsync_pem info;
	char why[512];
	size_t l1, l2;
	char *c1 = make_crl(3, 7, &l1), *c2 = make_crl(0, 1, &l2);
	char *two = cat3(c1, "\r\n\n", c2);
	time_t now = time(NULL);

	TAP_OK(crlsync_check(c1, l1, &info, why, sizeof(why)) == 0 && info.crls == 1 &&
		       info.entries == 3,
	       "one CRL with three entries accepted %s", why);
	TAP_OK(crlsync_check(two, strlen(two), &info, why, sizeof(why)) == 0 && info.crls == 2 &&
		       info.entries == 3 && info.earliest_next > now &&
		       info.earliest_next < now + 2 * 86400,
	       "two CRLs (a bundle) accepted; the earliest nextUpdate is the 1-day one %s", why);

	/* garbage of every kind */
	char *trail = cat3(c1, "garbage\n", "");
	char *lead = cat3("<html>oops</html>\n", c1, "");
	char *trunc = strndup(c1, l1 - 40);
	char *flip = strdup(c1);
	flip[40] = '!'; /* not base64 */
	char *notcrl = strdup(c1);
	/* the same base64 under a certificate's label */
	char *cert = cat3("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n", "", "");
	char *nul = malloc(l1 + 2);
	memcpy(nul, c1, l1);
	nul[l1] = '\0';
	nul[l1 + 1] = '\n';
	struct {
		const char *body;
		size_t len;
		const char *what;
	} bad[] = {
		{"", 0, "an empty body"},
		{"\n\n  \n", 4, "white space only"},
		{"<html><body>502 Bad Gateway</body></html>", 41, "an HTML error page"},
		{trail, strlen(trail), "a CRL followed by garbage"},
		{lead, strlen(lead), "garbage before a CRL"},
		{trunc, strlen(trunc), "a truncated CRL"},
		{cert, strlen(cert), "a certificate instead of a CRL"},
		{nul, l1 + 2, "a CRL followed by a NUL byte"},
	};
	(void)notcrl;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		TAP_OK(crlsync_check(bad[i].body, bad[i].len, &info, why, sizeof(why)) == -1 &&
			       why[0] != '\0',
		       "refused: %s (%s)", bad[i].what, why);
	int r = crlsync_check(flip, l1, &info, why, sizeof(why));
	TAP_OK(r == -1, "refused: a CRL with a character that is not base64 (%s)", why);
	free(c1);
	free(c2);
	free(two);
	free(trail);
	free(lead);
	free(trunc);
	free(flip);
	free(notcrl);
	free(cert);
	free(nul);
}

static int
count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	while (d && (e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	if (d)
		closedir(d);
	return n;
}

static void
test_write(void)
{
	char dir[] = "/tmp/test-crlsync.XXXXXX", path[256], bad[300];
	struct stat st;

	if (mkdtemp(dir) == NULL) {
		TAP_OK(0, "mkdtemp");
		return;
	}
	snprintf(path, sizeof(path), "%s/crl.pem", dir);
	umask(077);
	TAP_OK(crlsync_write(path, "one\n", 4) == 0 && crlsync_same(path, "one\n", 4),
	       "a new file written");
	TAP_OK(stat(path, &st) == 0 && (st.st_mode & 07777) == 0644,
	       "a new file is 0644 whatever the umask (nginx's workers read it)");
	chmod(path, 0640);
	TAP_OK(crlsync_write(path, "second body\n", 12) == 0 &&
		       crlsync_same(path, "second body\n", 12),
	       "an existing file replaced");
	TAP_OK(stat(path, &st) == 0 && (st.st_mode & 07777) == 0640, "the old file's mode kept");
	TAP_OK(count_entries(dir) == 1, "no temporary file left behind");
	TAP_OK(!crlsync_same(path, "second body", 11) && !crlsync_same(path, "second body\n!", 13) &&
		       !crlsync_same("/nonexistent/x", "", 0),
	       "crlsync_same: a prefix, a longer body and a missing file differ");
	snprintf(bad, sizeof(bad), "%s/no/such/dir/crl.pem", dir);
	TAP_OK(crlsync_write(bad, "x", 1) < 0, "a missing directory: an error");
	TAP_OK(crlsync_write(dir, "x", 1) == -EISDIR && count_entries(dir) == 1,
	       "a directory as the target: refused, nothing left");
	if (geteuid() != 0) {
		chmod(dir, 0555);
		TAP_OK(crlsync_write(path, "third\n", 6) < 0 && crlsync_same(path, "second body\n", 12),
		       "an unwritable directory: an error, the old file intact");
		chmod(dir, 0755);
	} else {
		/* root writes anywhere: a full file system stands in for the failure */
		TAP_OK(crlsync_write("/dev/full/x", "y", 1) < 0 && crlsync_same(path, "second body\n", 12),
		       "a failing write: an error, the old file intact");
	}
	unlink(path);
	rmdir(dir);
}

int
main(void)
{
	test_args();
	test_split();
	test_check();
	test_write();
	return tap_done();
}
