/* facts.c: the machine's MAC addresses, host name, login user and BIOS serial number. */
#include <ctype.h>
#include <dirent.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "extern.h"

/* "00:11:22:aa:bb:cc" or "001122AABBCC" (also - and . separators) into f; 0 or -1. */
int
facts_add_mac(struct facts *f, const char *text)
{
	char m[13];
	size_t o = 0;

	for (; *text; text++) {
		if (*text == ':' || *text == '-' || *text == '.')
			continue;
		if (!isxdigit((unsigned char)*text) || o >= 12)
			return -1;
		m[o++] = (char)toupper((unsigned char)*text);
	}
	m[o] = '\0';
	if (o != 12 || f->nmacs >= ENROLL_MAX_MACS)
		return -1;
	if (strcmp(m, "000000000000") == 0)
		return 0; /* no hardware address (tunnels, some virtual links) */
	for (int i = 0; i < f->nmacs; i++)
		if (strcmp(f->macs[i], m) == 0)
			return 0;
	memcpy(f->macs[f->nmacs++], m, sizeof(m));
	return 0;
}

/* The first line of a small file, without its line break; "" when it cannot be read. */
static void
read_line(const char *path, char *buf, size_t len)
{
	FILE *fp = fopen(path, "r");

	buf[0] = '\0';
	if (fp == NULL)
		return;
	if (fgets(buf, (int)len, fp) == NULL)
		buf[0] = '\0';
	fclose(fp);
	buf[strcspn(buf, "\r\n")] = '\0';
	/* DMI fields are often padded with spaces */
	for (size_t n = strlen(buf); n > 0 && buf[n - 1] == ' '; n--)
		buf[n - 1] = '\0';
}

/* Every interface's address under /sys/class/net, but the loopback's. */
static void
read_macs(struct facts *f)
{
	char path[512], addr[64];
	struct dirent *e;
	DIR *d = opendir("/sys/class/net");

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.' || strcmp(e->d_name, "lo") == 0)
			continue;
		snprintf(path, sizeof(path), "/sys/class/net/%s/address", e->d_name);
		read_line(path, addr, sizeof(addr));
		if (addr[0] != '\0')
			facts_add_mac(f, addr);
	}
	closedir(d);
}

/* Read what the options did not give (each flag: 1 = read it from the machine). */
void
facts_read(struct facts *f, int macs, int computer, int login_user, int bios_serial)
{
	struct passwd *pw;

	if (macs)
		read_macs(f);
	if (computer && gethostname(f->computer, sizeof(f->computer)) != 0)
		f->computer[0] = '\0';
	f->computer[sizeof(f->computer) - 1] = '\0';
	if (login_user) {
		if ((pw = getpwuid(getuid())) != NULL)
			snprintf(f->login_user, sizeof(f->login_user), "%s", pw->pw_name);
		else
			f->login_user[0] = '\0';
	}
	/* readable by root only on most systems: empty otherwise, and the server says so */
	if (bios_serial)
		read_line("/sys/class/dmi/id/product_serial", f->bios_serial,
			  sizeof(f->bios_serial));
}
