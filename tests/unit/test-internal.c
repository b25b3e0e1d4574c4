/* test-internal.c: web/internal.c against a one-shot HTTP server of its own on a unix socket. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/cfg.h"
#include "tap.h"
#include "web/internal.h"

struct server {
	int fd;
	char request[8192]; /* what the client sent, head and body */
	const char *answer;
};

/* Accept one connection, read the head and Content-Length bytes of body, answer, close. */
static void *
serve(void *arg)
{
	struct server *s = arg;
	size_t n = 0;
	int c = accept(s->fd, NULL, NULL);

	if (c < 0)
		return NULL;
	for (;;) {
		ssize_t r = read(c, s->request + n, sizeof(s->request) - 1 - n);
		char *end, *cl;
		if (r <= 0)
			break;
		n += (size_t)r;
		s->request[n] = '\0';
		if ((end = strstr(s->request, "\r\n\r\n")) == NULL)
			continue;
		cl = strcasestr(s->request, "Content-Length:");
		if (cl == NULL || n >= (size_t)(end + 4 - s->request) + (size_t)atoi(cl + 15))
			break;
	}
	if (write(c, s->answer, strlen(s->answer)) < 0)
		perror("write");
	close(c);
	return NULL;
}

static int
listen_at(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	if (strlen(path) >= sizeof(sa.sun_path))
		return -1;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(fd, 4) != 0)
		return -1;
	return fd;
}

static void
write_token(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s.token", dir, name);
	if ((f = fopen(path, "w")) != NULL) {
		fputs(text, f);
		fclose(f);
	}
}

int
main(void)
{
	char dir[] = "/tmp/shomei-internal-XXXXXX", sock[600];
	struct cfg cfg = {0};
	struct server s = {
		.answer = "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\n"
			  "Content-Length: 18\r\nConnection: close\r\n\r\n{\"count\": 2,\"a\":1}"};
	cJSON *body = cJSON_CreateObject(), *ans = NULL;
	pthread_t th;
	int status = 0, rc;

	if (mkdtemp(dir) == NULL || internal_global_init() != 0)
		return 1;
	snprintf(sock, sizeof(sock), "%s/api.sock", dir);
	cJSON_AddNumberToObject(body, "tenant", 7);
	cfg.internal_socket = "";
	cfg.internal_token_dir = dir;
	rc = internal_post(&cfg, "users", "/internal/revocations", body, &status, &ans);
	TAP_OK(rc == -EIO, "no internal_socket: -EIO");
	cfg.internal_socket = sock;
	rc = internal_post(&cfg, "users", "/internal/revocations", body, &status, &ans);
	TAP_OK(rc == -EIO, "no token file: -EIO");
	write_token(dir, "users", "");
	rc = internal_post(&cfg, "users", "/internal/revocations", body, &status, &ans);
	TAP_OK(rc == -EIO, "an empty token file: -EIO");
	write_token(dir, "users", "tok-0123456789abcdef\n");
	rc = internal_post(&cfg, "users", "/internal/revocations", body, &status, &ans);
	TAP_OK(rc == -EIO, "nothing listening on the socket: -EIO");

	if ((s.fd = listen_at(sock)) < 0 || pthread_create(&th, NULL, serve, &s) != 0)
		return 1;
	rc = internal_post(&cfg, "users", "/internal/revocations", body, &status, &ans);
	pthread_join(th, NULL);
	TAP_OK(rc == 0 && status == 201, "an answer: 0, its status (%d, %d)", rc, status);
	TAP_OK(ans != NULL && cJSON_GetObjectItem(ans, "count") != NULL &&
		       cJSON_GetObjectItem(ans, "count")->valueint == 2,
	       "its JSON body parsed");
	TAP_OK(strncmp(s.request, "POST /internal/revocations HTTP/1.1\r\n", 37) == 0,
	       "POST to the path");
	TAP_OK(strstr(s.request, "\r\nAuthorization: Bearer tok-0123456789abcdef\r\n") != NULL,
	       "the token from <internal_token_dir>/users.token, without its newline");
	TAP_OK(strstr(s.request, "\r\nX-Shomei-Service: users\r\n") != NULL, "the service's name");
	TAP_OK(strstr(s.request, "\r\nContent-Type: application/json\r\n") != NULL, "JSON");
	TAP_OK(strstr(s.request, "\r\n\r\n{\"tenant\":7}") != NULL, "the body");
	cJSON_Delete(ans);
	ans = NULL;

	/* an answer without a body, and one that is not JSON */
	s.answer = "HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
	if (pthread_create(&th, NULL, serve, &s) != 0)
		return 1;
	rc = internal_post(&cfg, "users", "/internal/revocations", body, &status, &ans);
	pthread_join(th, NULL);
	TAP_OK(rc == 0 && status == 401 && ans == NULL, "401 without a body: 0, 401, no JSON");
	close(s.fd);
	unlink(sock);
	snprintf(sock, sizeof(sock), "%s/users.token", dir);
	unlink(sock);
	rmdir(dir);
	cJSON_Delete(body);
	return tap_done();
}
