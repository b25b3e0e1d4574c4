/* extern.h: cross-file prototypes of shomei-enroll. */
#ifndef SHOMEI_ENROLL_EXTERN_H
#define SHOMEI_ENROLL_EXTERN_H

#include <stddef.h>

#define ENROLL_MAX_MACS 32

/* What the machine is, as the install restriction sees it (NRA 4-1 制限項目①-④). */
struct facts {
	char macs[ENROLL_MAX_MACS][13]; /* 12 upper-case hex digits */
	int nmacs;
	char computer[256];
	char login_user[256];
	char bios_serial[256];
};

/* A body received over HTTPS. */
struct buf {
	char *data;
	size_t len;
};

/* facts.c */
int facts_add_mac(struct facts *f, const char *text);
void facts_read(struct facts *f, int macs, int computer, int login_user, int bios_serial);

/* client.c */
struct client;
struct client *client_new(const char *base, const char *cacert, int verbose);
void client_free(struct client *c);
/* POST JSON (csrf may be NULL); the status, or -1 on a transport error (message on stderr). */
long client_post(struct client *c, const char *path, const char *json, const char *csrf,
		 struct buf *out);
void buf_free(struct buf *b);

#endif
