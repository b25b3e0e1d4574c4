/* health.c: GET /healthz for the whole stack: PostgreSQL, Redis, the services and the signer. */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "extern.h"

static const char *const parts[] = {"auth", "users", "issue", "revoke", "download", "signer"};

/*
 * 1 when the kernel lists a listening unix socket bound to path (/proc/net/unix: flags
 * __SO_ACCEPTCON, 0x10000). For a socket this process may not connect to (signer.sock is
 * issue's and revoke's alone): a file left by a process that died is not listening.
 */
static int
listed_listening(const char *path)
{
	char line[1024], p[sizeof(((struct sockaddr_un *)0)->sun_path) + 1];
	unsigned long flags;
	FILE *f = fopen("/proc/net/unix", "re");
	int found = 0;

	if (f == NULL)
		return 0;
	while (!found && fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "%*s %*s %*s %lx %*s %*s %*s %108s", &flags, p) == 2 &&
		    (flags & 0x10000) != 0 && strcmp(p, path) == 0)
			found = 1;
	}
	fclose(f);
	return found;
}

/* 1 when something listens on <socket_dir>/<name>.sock. */
static int
listening(const struct cfg *cfg, const char *name)
{
	struct sockaddr_un sa;
	int fd, ok;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (cfg_socket_path(cfg, name, sa.sun_path, sizeof(sa.sun_path)) != 0)
		return 0;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return 0;
	ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	if (!ok && errno == EACCES)
		ok = listed_listening(sa.sun_path);
	close(fd);
	return ok;
}

/*
 * With listen = host:port (containers, several hosts) the services are not sockets here: a
 * service is up when one of the addresses its name resolves to (Docker's DNS: its replicas)
 * accepts a TCP connection on the same port within a second.
 */
static int
tcp_listening(const struct cfg *cfg, const char *name)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
	struct addrinfo *ai = NULL, *a;
	const char *port = strrchr(cfg->listen, ':');
	int ok = 0;

	if (port == NULL || getaddrinfo(name, port + 1, &hints, &ai) != 0)
		return 0;
	for (a = ai; a != NULL && !ok; a = a->ai_next) {
		int fd = socket(a->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0),
		    err = 0;
		socklen_t len = sizeof(err);
		struct pollfd pfd = {.fd = fd, .events = POLLOUT};

		if (fd < 0)
			continue;
		if (connect(fd, a->ai_addr, a->ai_addrlen) == 0)
			ok = 1;
		else if (errno == EINPROGRESS && poll(&pfd, 1, 1000) == 1 &&
			 getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0)
			ok = 1;
		close(fd);
	}
	freeaddrinfo(ai);
	return ok;
}

/*
 * The mail worker (shomei-users' mail.c) says every few seconds that it lives and how the SMTP
 * server answered when it last tried: "mail" up or down, "smtp" up, down or unknown (not tried
 * within the hour). Neither makes the stack
 * 503: mail waits in the outbox and goes out once both are back.
 */
static void
mail_health(struct svc_thread *t, cJSON *doc)
{
	char alive[64], smtp[64];
	const char *argv[] = {"MGET", alive, smtp};
	redisReply *r = NULL;
	const char *m = "down", *s = "unknown";

	if (kv_key(alive, sizeof(alive), "mail", "alive") == 0 &&
	    kv_key(smtp, sizeof(smtp), "mail", "smtp") == 0 &&
	    (r = kv_cmdv(&t->kv, 3, argv)) != NULL && r->type == REDIS_REPLY_ARRAY &&
	    r->elements == 2) {
		if (r->element[0]->type == REDIS_REPLY_STRING)
			m = "up";
		if (r->element[1]->type == REDIS_REPLY_STRING)
			s = strcmp(r->element[1]->str, "down") == 0 ? "down" : "up";
	}
	if (r != NULL)
		freeReplyObject(r);
	cJSON_AddStringToObject(doc, "mail", m);
	cJSON_AddStringToObject(doc, "smtp", s);
}

int
auth_stack_health(struct http_req *req, struct svc_thread *t)
{
	cJSON *doc = cJSON_CreateObject(), *down = cJSON_CreateArray();
	int ok;

	ok = db_ping(&t->db);
	cJSON_AddStringToObject(doc, "postgresql", ok ? "up" : "down");
	if (!ok)
		cJSON_AddItemToArray(down, cJSON_CreateString("postgresql"));
	ok = kv_ping(&t->kv);
	cJSON_AddStringToObject(doc, "redis", ok ? "up" : "down");
	if (!ok)
		cJSON_AddItemToArray(down, cJSON_CreateString("redis"));
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		int tcp = *t->cfg->listen != '\0';
		/* on TCP the signer's socket is not in this container: its own healthcheck says */
		if (tcp && strcmp(parts[i], "signer") == 0)
			continue;
		ok = tcp ? tcp_listening(t->cfg, parts[i]) : listening(t->cfg, parts[i]);
		cJSON_AddStringToObject(doc, parts[i], ok ? "up" : "down");
		if (!ok)
			cJSON_AddItemToArray(down, cJSON_CreateString(parts[i]));
	}
	mail_health(t, doc);
	cJSON_AddStringToObject(doc, "status", cJSON_GetArraySize(down) ? "degraded" : "ok");
	cJSON_AddItemToObject(doc, "down", down);
	http_json(req, cJSON_GetArraySize(down) ? 503 : 200, doc);
	cJSON_Delete(doc);
	return 0;
}
