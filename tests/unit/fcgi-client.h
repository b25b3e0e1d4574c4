/*
 * fcgi-client.h: a FastCGI client as nginx is one, for the tests that run a service: one
 * request per connection (BEGIN_REQUEST as a responder, PARAMS, STDIN), the STDOUT records
 * collected until END_REQUEST.
 */
#ifndef SHOMEI_FCGI_CLIENT_H
#define SHOMEI_FCGI_CLIENT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/util.h"

enum { FCGI_BEGIN = 1, FCGI_END = 3, FCGI_PARAMS = 4, FCGI_STDIN = 5, FCGI_STDOUT = 6 };

static inline int
fcgi_put_record(int fd, int type, const void *data, size_t len)
{
	unsigned char h[8] = {
		1, (unsigned char)type, 0, 1, (unsigned char)(len >> 8), (unsigned char)len, 0, 0};

	return util_write_all(fd, h, 8) == 0 && (len == 0 || util_write_all(fd, data, len) == 0)
		       ? 0
		       : -1;
}

static inline size_t
fcgi_put_len(unsigned char *p, size_t n)
{
	if (n < 128) {
		p[0] = (unsigned char)n;
		return 1;
	}
	p[0] = (unsigned char)(0x80 | (n >> 24));
	p[1] = (unsigned char)(n >> 16);
	p[2] = (unsigned char)(n >> 8);
	p[3] = (unsigned char)n;
	return 4;
}

static inline int
fcgi_read_full(int fd, void *buf, size_t len)
{
	unsigned char *p = buf;

	while (len > 0) {
		ssize_t n = read(fd, p, len);
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

struct resp {
	int status;
	char *raw; /* headers, blank line, body */
	size_t len;
	const char *body;
	size_t body_len;
};

/*
 * One request: params "NAME=value" (NULL-terminated), a body sent as stdin. 0 with *r filled,
 * -1 when the service did not answer.
 */
static inline int
fcgi_request(const char *sock, const char *const *params, const char *body, size_t blen,
	     struct resp *r)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	unsigned char begin[8] = {0, 1, 0, 0, 0, 0, 0, 0}, pbuf[8192], h[8], pad[256];
	struct timeval tv = {10, 0};
	size_t pl = 0, len = 0;
	int fd = -1, rc = -1;

	memset(r, 0, sizeof(*r));
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	/* "tcp:PORT": the service's TCP listener on 127.0.0.1 */
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int tcp = strncmp(sock, "tcp:", 4) == 0;
	if (tcp)
		sin.sin_port = htons((unsigned short)atoi(sock + 4));
	for (int i = 0; params[i] != NULL; i++) {
		const char *eq = strchr(params[i], '=');
		size_t nl = (size_t)(eq - params[i]), vl = strlen(eq + 1);
		pl += fcgi_put_len(pbuf + pl, nl);
		pl += fcgi_put_len(pbuf + pl, vl);
		memcpy(pbuf + pl, params[i], nl);
		memcpy(pbuf + pl + nl, eq + 1, vl);
		pl += nl + vl;
	}
	if ((fd = socket(tcp ? AF_INET : AF_UNIX, SOCK_STREAM, 0)) < 0 ||
	    (tcp ? connect(fd, (struct sockaddr *)&sin, sizeof(sin))
		 : connect(fd, (struct sockaddr *)&sa, sizeof(sa))) != 0)
		goto out;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (fcgi_put_record(fd, FCGI_BEGIN, begin, 8) != 0 ||
	    fcgi_put_record(fd, FCGI_PARAMS, pbuf, pl) != 0 ||
	    fcgi_put_record(fd, FCGI_PARAMS, NULL, 0) != 0 ||
	    (blen > 0 && fcgi_put_record(fd, FCGI_STDIN, body, blen) != 0) ||
	    fcgi_put_record(fd, FCGI_STDIN, NULL, 0) != 0)
		goto out;
	for (;;) {
		size_t n, padn;
		if (fcgi_read_full(fd, h, 8) != 0)
			goto out;
		n = (size_t)h[4] << 8 | h[5];
		padn = h[6];
		char *grown = realloc(r->raw, len + n + 1);
		if (grown == NULL)
			goto out;
		r->raw = grown;
		if (fcgi_read_full(fd, r->raw + len, n) != 0 || fcgi_read_full(fd, pad, padn) != 0)
			goto out;
		if (h[1] == FCGI_STDOUT)
			len += n;
		r->raw[len] = '\0';
		if (h[1] == FCGI_END)
			break;
	}
	if (r->raw == NULL || sscanf(r->raw, "Status: %d", &r->status) != 1)
		goto out;
	r->body = strstr(r->raw, "\r\n\r\n");
	r->body = r->body ? r->body + 4 : r->raw + len;
	r->len = len;
	r->body_len = len - (size_t)(r->body - r->raw);
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	return rc;
}

#endif
