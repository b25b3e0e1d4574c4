/* test-zipw.c: the streaming ZIP writer; the archive is checked by python3's zipfile and unzip -t.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "zipw.h"

static int
to_file(void *ctx, const void *buf, size_t len)
{
	return fwrite(buf, 1, len, ctx) == len ? 0 : -5;
}

static int
failing(void *ctx, const void *buf, size_t len)
{
	size_t *budget = ctx;

	if (len > *budget)
		return -32; /* like EPIPE: the client went away */
	*budget -= len;
	return 0;
}

static int
discard(void *ctx, const void *buf, size_t len)
{
	(void)ctx;
	(void)buf;
	(void)len;
	return 0;
}

/* A name that repeats (in any letter case) gets _2, _3 … before its extension. */
static void
unique_names(void)
{
	static const struct {
		const char *add, *got;
	} cases[] = {
		{"a.p12", "a.p12"},
		{"a.p12", "a_2.p12"},
		{"A.P12", "A_3.P12"},
		{"a_2.p12", "a_2_2.p12"},
		{"noext", "noext"},
		{"noext", "noext_2"},
		{".profile", ".profile"},
		{".profile", ".profile_2"},
		{"dir.d/x", "dir.d/x"},
		{"dir.d/x", "dir.d/x_2"},
		{"x@example.com_01.p12", "x@example.com_01.p12"},
		{"X@Example.com_01.p12", "X@Example.com_01_2.p12"},
	};
	struct zipw *z = zipw_new(discard, NULL);
	char name[32];
	int ok = 1;

	TAP_OK(zipw_last_name(z) == NULL, "no last name before the first entry");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		TAP_OK(zipw_add(z, cases[i].add, "x", 1, 0) == 0 &&
			       strcmp(zipw_last_name(z), cases[i].got) == 0,
		       "%s added: %s (got %s)", cases[i].add, cases[i].got, zipw_last_name(z));
	for (int i = 1; i <= 600 && ok; i++) {
		char want[32];
		snprintf(want, sizeof(want), i == 1 ? "same.p12" : "same_%d.p12", i);
		ok = zipw_add(z, "same.p12", "x", 1, 0) == 0 &&
		     strcmp(zipw_last_name(z), want) == 0;
		snprintf(name, sizeof(name), "%s", zipw_last_name(z));
	}
	TAP_OK(ok && strcmp(name, "same_600.p12") == 0,
	       "one name 600 times: same.p12 … same_600.p12 (the index grows)");
	zipw_free(z);
}

/*
 * An archive whose central directory is many times the buffer it is copied out through (from
 * the temporary file), with names repeating far apart: zipfile reads every entry back.
 */
static void
large(void)
{
	char path[] = "/tmp/shomei-zipw-XXXXXX", name[64], cmd[700];
	int fd = mkstemp(path), ok = 1;
	FILE *f = fdopen(fd, "wb");
	struct zipw *z = zipw_new(to_file, f);

	for (int i = 0; i < 6000 && ok; i++) {
		/* 4,000 names, then the first 2,000 again in upper case: _2 each */
		snprintf(name, sizeof(name), i < 4000 ? "client-%06d.p12" : "CLIENT-%06d.p12",
			 i % 4000);
		ok = zipw_add(z, name, name, strlen(name), 1700000000) == 0;
		if (ok && i >= 4000) {
			snprintf(name, sizeof(name), "CLIENT-%06d_2.p12", i % 4000);
			ok = strcmp(zipw_last_name(z), name) == 0;
		}
	}
	TAP_OK(ok, "6,000 entries, the last 2,000 repeating a name added thousands before: _2");
	TAP_OK(zipw_finish(z) == 0, "finish: a central directory of some 380 kB");
	zipw_free(z);
	fclose(f);
	snprintf(cmd, sizeof(cmd),
		 "/usr/bin/python3 -c 'import zipfile,sys; z=zipfile.ZipFile(sys.argv[1]); "
		 "assert z.testzip() is None; n=z.namelist(); assert len(n)==6000, len(n); "
		 "assert len(set(x.lower() for x in n))==6000; "
		 "assert z.read(\"CLIENT-001999_2.p12\")==b\"CLIENT-001999.p12\"; "
		 "assert z.read(\"client-003999.p12\")==b\"client-003999.p12\"' %s",
		 path);
	TAP_OK(system(cmd) == 0, "python3 zipfile reads the 6,000 entries, names and contents");
	unlink(path);
}

int
main(void)
{
	char path[] = "/tmp/shomei-zipw-XXXXXX";
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "wb");
	struct zipw *z = zipw_new(to_file, f);
	char data[3000], name[64];

	memset(data, 'x', sizeof(data));
	TAP_OK(z != NULL, "new archive");
	TAP_OK(zipw_add(z, "cacert.pem", "-----BEGIN CERTIFICATE-----\n", 28, 1700000000) == 0,
	       "add a text entry");
	TAP_OK(zipw_add(z, "山田太郎_01.p12", data, sizeof(data), 1700000000) == 0,
	       "add an entry with a UTF-8 name");
	TAP_OK(zipw_add(z, "empty.txt", "", 0, 0) == 0, "add an empty entry (time before 1980)");
	for (int i = 1; i <= 500; i++) {
		snprintf(name, sizeof(name), "client_%06d.p12", i);
		data[0] = (char)i;
		if (zipw_add(z, name, data, 100 + (size_t)i, 1700000000) != 0)
			break;
	}
	TAP_OK(zipw_add(z, "", "a", 1, 0) == ZIPW_E_LIMIT, "an empty name is refused");
	TAP_OK(zipw_finish(z) == 0, "finish");
	zipw_free(z);
	fclose(f);

	char cmd[512];
	snprintf(
		cmd, sizeof(cmd),
		"/usr/bin/python3 -c 'import zipfile,sys; z=zipfile.ZipFile(sys.argv[1]); "
		"assert z.testzip() is None; n=z.namelist(); assert len(n)==503, len(n); "
		"assert \"山田太郎_01.p12\" in n; assert z.read(\"client_000500.p12\")[:1]==bytes([500%%256]); "
		"assert len(z.read(\"client_000007.p12\"))==107' %s",
		path);
	TAP_OK(system(cmd) == 0, "python3 zipfile reads every entry, names and contents intact");
	snprintf(cmd, sizeof(cmd), "unzip -tq %s >/dev/null 2>&1 || ! command -v unzip >/dev/null",
		 path);
	TAP_OK(system(cmd) == 0, "unzip -t finds no error");
	unlink(path);

	unique_names();
	large();

	size_t budget = 5000;
	z = zipw_new(failing, &budget);
	int rc = zipw_add(z, "a.p12", data, sizeof(data), 0);
	rc = rc ? rc : zipw_add(z, "b.p12", data, sizeof(data), 0);
	TAP_OK(rc == -32, "a failing sink stops the archive with its error");
	zipw_free(z);
	return tap_done();
}
