/* main.c: shomei-enroll installs a certificate with an install restriction (NRA enroll.exe). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <openssl/crypto.h>

#include "extern.h"

/* Exit codes. */
enum {
	EXIT_OK = 0,
	EXIT_USAGE = 1,   /* bad options, unreadable password file, cannot write --out */
	EXIT_SERVER = 2,  /* network, TLS, login refused, no such certificate */
	EXIT_REFUSED = 3, /* the machine does not meet the install restriction */
};

struct opts {
	const char *url, *id, *password_file, *cacert, *out;
	long long certificate; /* 0 = choose */
	int verbose;
	int got_mac, got_computer, got_login_user, got_bios_serial;
	struct facts facts;
};

static const struct {
	const char *name;
	const char *ja;
	const char *en;
} items[] = {
	{"mac", "MACアドレス", "MAC address"},
	{"computer", "コンピュータ名", "computer name"},
	{"login_user", "ログインユーザ名", "login user name"},
	{"bios_serial", "端末(BIOS)シリアル番号", "device (BIOS) serial number"},
};

static void
usage(FILE *fp)
{
	fprintf(fp,
		"usage: shomei-enroll --url https://HOST[:PORT]/dl/TENANT/ --id E-MAIL\n"
		"                     --password-file FILE|- --out FILE.p12 [--cacert PEM]\n"
		"                     [--certificate ID] [--mac HEX]... [--computer NAME]\n"
		"                     [--login-user NAME] [--bios-serial SERIAL] [-v]\n"
		"Logs in to the download site with the certificate's e-mail and download password\n"
		"(read from FILE, or standard input with -), sends this machine's MAC addresses,\n"
		"computer name, login user and BIOS serial number, and writes the PKCS#12 (mode "
		"0600)\n"
		"when they meet the certificate's install restriction. --mac etc. replace what is "
		"read\n"
		"from the machine. Exit: 0 written, 1 usage, 2 server/login, 3 restriction not "
		"met.\n");
}

/* The password: the first line of the file (or standard input), never an argument. */
static int
read_password(const char *path, char *buf, size_t len)
{
	FILE *fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	int ok;

	if (fp == NULL)
		return -1;
	ok = fgets(buf, (int)len, fp) != NULL;
	if (fp != stdin)
		fclose(fp);
	if (!ok)
		return -1;
	buf[strcspn(buf, "\r\n")] = '\0';
	return buf[0] ? 0 : -1;
}

enum {
	OPT_URL = 256,
	OPT_ID,
	OPT_PASSWORD_FILE,
	OPT_CACERT,
	OPT_OUT,
	OPT_CERTIFICATE,
	OPT_MAC,
	OPT_COMPUTER,
	OPT_LOGIN_USER,
	OPT_BIOS_SERIAL,
};

static int
set_text(char *dst, size_t len, const char *v)
{
	if (strlen(v) >= len)
		return -1;
	snprintf(dst, len, "%s", v);
	return 0;
}

static int
one_opt(struct opts *o, int ch, const char *arg)
{
	switch (ch) {
	case OPT_URL:
		o->url = arg;
		return 0;
	case OPT_ID:
		o->id = arg;
		return 0;
	case OPT_PASSWORD_FILE:
		o->password_file = arg;
		return 0;
	case OPT_CACERT:
		o->cacert = arg;
		return 0;
	case OPT_OUT:
		o->out = arg;
		return 0;
	case OPT_CERTIFICATE:
		o->certificate = strtoll(arg, NULL, 10);
		return o->certificate > 0 ? 0 : -1;
	case OPT_MAC:
		o->got_mac = 1;
		return facts_add_mac(&o->facts, arg);
	case OPT_COMPUTER:
		o->got_computer = 1;
		return set_text(o->facts.computer, sizeof(o->facts.computer), arg);
	case OPT_LOGIN_USER:
		o->got_login_user = 1;
		return set_text(o->facts.login_user, sizeof(o->facts.login_user), arg);
	case OPT_BIOS_SERIAL:
		o->got_bios_serial = 1;
		return set_text(o->facts.bios_serial, sizeof(o->facts.bios_serial), arg);
	case 'v':
		o->verbose = 1;
		return 0;
	default:
		return -1;
	}
}

static int
parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{"url", required_argument, NULL, OPT_URL},
		{"id", required_argument, NULL, OPT_ID},
		{"password-file", required_argument, NULL, OPT_PASSWORD_FILE},
		{"cacert", required_argument, NULL, OPT_CACERT},
		{"out", required_argument, NULL, OPT_OUT},
		{"certificate", required_argument, NULL, OPT_CERTIFICATE},
		{"mac", required_argument, NULL, OPT_MAC},
		{"computer", required_argument, NULL, OPT_COMPUTER},
		{"login-user", required_argument, NULL, OPT_LOGIN_USER},
		{"bios-serial", required_argument, NULL, OPT_BIOS_SERIAL},
		{"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int ch;

	while ((ch = getopt_long(argc, argv, "vh", lo, NULL)) != -1) {
		if (ch == 'h') {
			usage(stdout);
			exit(EXIT_OK);
		}
		if (one_opt(o, ch, optarg) != 0) {
			fprintf(stderr, "shomei-enroll: bad option value: %s\n",
				optarg ? optarg : "");
			return -1;
		}
	}
	if (optind != argc || !o->url || !o->id || !o->password_file || !o->out)
		return -1;
	return 0;
}

/* "https://h:p/dl/<tenant>/" → "https://h:p/api/dl/<tenant>/"; 0 or -1. */
static int
api_base(const char *url, char *out, size_t len)
{
	const char *p = strncmp(url, "https://", 8) == 0 ? strstr(url + 8, "/dl/") : NULL;
	const char *tenant = p ? p + 4 : NULL;
	size_t tl = tenant ? strcspn(tenant, "/?#") : 0;

	if (p == NULL || tl == 0 || tl > 63)
		return -1;
	snprintf(out, len, "%.*s/api/dl/%.*s/", (int)(p - url), url, (int)tl, tenant);
	return 0;
}

/* The server's error message, or the status. */
static void
say_error(const char *what, long status, const struct buf *b)
{
	cJSON *doc = b->data ? cJSON_Parse(b->data) : NULL;
	const cJSON *err = cJSON_GetObjectItemCaseSensitive(doc, "error");
	const cJSON *msg = cJSON_GetObjectItemCaseSensitive(err, "message");

	fprintf(stderr, "shomei-enroll: %s: HTTP %ld%s%s\n", what, status,
		cJSON_IsString(msg) ? ": " : "", cJSON_IsString(msg) ? msg->valuestring : "");
	cJSON_Delete(doc);
}

/* Log in; the CSRF token and the chosen certificate id. */
static int
login(struct client *c, const struct opts *o, const char *password, char *csrf, size_t len,
      long long *id)
{
	cJSON *req = cJSON_CreateObject(), *doc = NULL, *it;
	struct buf b;
	char *body;
	long status;
	int rc = EXIT_SERVER, n = 0;

	cJSON_AddStringToObject(req, "login_id", o->id);
	cJSON_AddStringToObject(req, "password", password);
	body = cJSON_PrintUnformatted(req);
	status = body ? client_post(c, "login", body, NULL, &b) : -1;
	if (body != NULL)
		OPENSSL_cleanse(body, strlen(body));
	free(body);
	cJSON_Delete(req);
	if (status != 200) {
		if (status > 0)
			say_error("ログインできません / login refused", status, &b);
		goto out;
	}
	doc = cJSON_Parse(b.data);
	const cJSON *tok = cJSON_GetObjectItemCaseSensitive(doc, "csrf_token");
	if (!cJSON_IsString(tok) || strlen(tok->valuestring) >= len)
		goto out;
	snprintf(csrf, len, "%s", tok->valuestring);
	/* --certificate, else the one restricted certificate, else the one certificate */
	*id = o->certificate;
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(doc, "items"))
	{
		long long v =
			(long long)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(it, "id"));
		if (o->certificate == 0 &&
		    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(it, "restricted"))) {
			*id = v;
			n++;
		}
		printf("certificate %lld: %s (device %s, %s)\n", v,
		       cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "cn")),
		       cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "device")),
		       cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "status")));
	}
	if (o->certificate == 0 && n == 0 &&
	    cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(doc, "items")) == 1)
		*id = (long long)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(
			cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(doc, "items"), 0),
			"id"));
	else if (o->certificate == 0 && n != 1)
		*id = 0;
	if (*id == 0) {
		fprintf(stderr,
			"shomei-enroll: 証明書を --certificate で指定してください / choose the "
			"certificate with --certificate\n");
		goto out;
	}
	rc = EXIT_OK;
out:
	cJSON_Delete(doc);
	buf_free(&b);
	return rc;
}

static char *
enroll_body(const struct facts *f, long long id)
{
	cJSON *req = cJSON_CreateObject(), *macs = cJSON_AddArrayToObject(req, "macs");
	char *s;

	cJSON_AddNumberToObject(req, "id", (double)id);
	for (int i = 0; i < f->nmacs; i++)
		cJSON_AddItemToArray(macs, cJSON_CreateString(f->macs[i]));
	cJSON_AddStringToObject(req, "computer", f->computer);
	cJSON_AddStringToObject(req, "login_user", f->login_user);
	cJSON_AddStringToObject(req, "bios_serial", f->bios_serial);
	s = cJSON_PrintUnformatted(req);
	cJSON_Delete(req);
	return s;
}

/* The conditions the server named, in Japanese and English. */
static void
say_refused(const struct buf *b)
{
	cJSON *doc = cJSON_Parse(b->data ? b->data : ""), *f;
	const cJSON *err = cJSON_GetObjectItemCaseSensitive(doc, "error");

	fprintf(stderr, "shomei-enroll: この端末はインストール制限の条件と一致しません。\n"
			"shomei-enroll: this machine does not meet the certificate's install "
			"restriction.\n");
	cJSON_ArrayForEach(
		f, cJSON_GetObjectItemCaseSensitive(
			   err, "failed")) for (size_t i = 0; i < sizeof(items) / sizeof(items[0]);
						i++) if (cJSON_IsString(f) &&
							 strcmp(f->valuestring, items[i].name) == 0)
		fprintf(stderr, "  不一致 / not matching: %s / %s (%s)\n", items[i].ja, items[i].en,
			items[i].name);
	cJSON_Delete(doc);
}

static int
write_p12(const char *path, const struct buf *b)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	size_t o = 0;
	ssize_t n;

	if (fd < 0 || fchmod(fd, 0600) != 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	while (o < b->len) {
		if ((n = write(fd, b->data + o, b->len - o)) < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			close(fd);
			return -1;
		}
		o += (size_t)n;
	}
	return close(fd);
}

static int
enroll(struct client *c, const struct opts *o, const char *csrf, long long id)
{
	struct buf b;
	char *body = enroll_body(&o->facts, id);
	long status = body ? client_post(c, "enroll", body, csrf, &b) : -1;
	int rc = EXIT_SERVER;

	free(body);
	if (status == 200) {
		if (write_p12(o->out, &b) != 0) {
			fprintf(stderr, "shomei-enroll: %s: %s\n", o->out, strerror(errno));
			rc = EXIT_USAGE;
		} else {
			printf("証明書を保存しました / certificate written: %s\n", o->out);
			rc = EXIT_OK;
		}
	} else if (status == 403 && b.data && strstr(b.data, "\"restriction_failed\"")) {
		say_refused(&b);
		rc = EXIT_REFUSED;
	} else if (status > 0) {
		say_error("証明書を取得できません / cannot get the certificate", status, &b);
	}
	buf_free(&b);
	return rc;
}

int
main(int argc, char **argv)
{
	struct opts o;
	struct client *c = NULL;
	char base[1024], password[128], csrf[128];
	struct buf ignored;
	long long id = 0;
	int rc;

	memset(&o, 0, sizeof(o));
	if (parse_opts(argc, argv, &o) != 0 || api_base(o.url, base, sizeof(base)) != 0) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (read_password(o.password_file, password, sizeof(password)) != 0) {
		fprintf(stderr, "shomei-enroll: cannot read the password from %s\n",
			o.password_file);
		return EXIT_USAGE;
	}
	facts_read(&o.facts, !o.got_mac, !o.got_computer, !o.got_login_user, !o.got_bios_serial);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if ((c = client_new(base, o.cacert, o.verbose)) == NULL) {
		rc = EXIT_USAGE;
		goto out;
	}
	if ((rc = login(c, &o, password, csrf, sizeof(csrf), &id)) == EXIT_OK)
		rc = enroll(c, &o, csrf, id);
	if (client_post(c, "logout", "{}", NULL, &ignored) > 0)
		buf_free(&ignored);
out:
	OPENSSL_cleanse(password, sizeof(password));
	client_free(c);
	curl_global_cleanup();
	return rc;
}
