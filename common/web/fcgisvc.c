/* fcgisvc.c: the runtime every FastCGI service shares: threads, routing, health, metrics. */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "web/fcgisvc.h"
#include "web/i18n.h"
#include "core/log.h"
#include "core/strbuf.h"
#include "core/util.h"

#define STATUS_CLASSES 5 /* other, 2xx, 3xx, 4xx, 5xx */

static const struct svc *g_svc;
static struct cfg g_cfg;
static int g_sock = -1;
static struct db_pool g_pool; /* the accepting threads' PostgreSQL connections (db_pool) */
static atomic_ullong m_requests[STATUS_CLASSES];
static atomic_ullong m_micros;
static atomic_ullong m_unavailable;

void
svc_file_error(struct http_req *req, int line, const char *msg)
{
	cJSON *errs = cJSON_CreateArray(), *e = cJSON_CreateObject();

	if (line > 0)
		cJSON_AddNumberToObject(e, "line", line);
	cJSON_AddStringToObject(e, "field", "file");
	cJSON_AddStringToObject(e, "message", msg);
	cJSON_AddItemToArray(errs, e);
	svc_invalid(req, errs);
}

void
svc_invalid(struct http_req *req, cJSON *fields)
{
	http_error(req, 422, "validation_failed", i18n_msg(&msg_validation, req->lang), fields);
}

void
svc_fail(struct http_req *req, int status, const char *code, const struct i18n_text *msg)
{
	http_error(req, status, code, i18n_msg(msg, req->lang), NULL);
}

static void
health(struct http_req *req, struct svc_thread *t)
{
	int db_ok = db_ping(&t->db), kv_ok = kv_ping(&t->kv);
	cJSON *doc = cJSON_CreateObject();

	cJSON_AddStringToObject(doc, "service", g_svc->name);
	cJSON_AddStringToObject(doc, "postgresql", db_ok ? "up" : "down");
	cJSON_AddStringToObject(doc, "redis", kv_ok ? "up" : "down");
	http_json(req, db_ok && kv_ok ? 200 : 503, doc);
	cJSON_Delete(doc);
}

/* Latency buckets of shomei_request_seconds (upper bounds, seconds). */
static const double m_bounds[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
#define NBOUNDS (sizeof(m_bounds) / sizeof(m_bounds[0]))
static atomic_ullong m_bucket[NBOUNDS + 1]; /* non-cumulative; the last is +Inf only */
/* By route: the table's routes, then /healthz, /metrics, none (404/405); each by status class. */
static atomic_ullong *m_route;

static const char *const m_cls[STATUS_CLASSES] = {"other", "2xx", "3xx", "4xx", "5xx"};

/* A label value: the route patterns hold no quote or backslash, but say so if one ever does. */
static const char *
label(const char *s)
{
	return strpbrk(s, "\"\\\n") == NULL ? s : "invalid";
}

static void
metrics(struct http_req *req, struct svc_thread *t)
{
	const char *n = g_svc->name;
	unsigned long long cum = 0, count = 0;
	struct db_pool_stats ps;
	struct strbuf b;
	char *buf;
	size_t cap = 16384 + (g_svc->nroutes + 3) * STATUS_CLASSES * 160;

	if ((buf = malloc(cap)) == NULL) {
		svc_fail(req, 500, "internal", &msg_internal);
		return;
	}
	strbuf_init(&b, buf, cap);
	strbuf_printf(&b, "# HELP shomei_requests_total Responses by status class.\n"
			  "# TYPE shomei_requests_total counter\n");
	for (int i = 0; i < STATUS_CLASSES; i++)
		strbuf_printf(&b, "shomei_requests_total{service=\"%s\",code=\"%s\"} %llu\n", n,
			      m_cls[i], (unsigned long long)m_requests[i]);
	strbuf_printf(&b,
		      "# HELP shomei_route_requests_total Responses by route and status class.\n"
		      "# TYPE shomei_route_requests_total counter\n");
	for (size_t r = 0; m_route != NULL && r < g_svc->nroutes + 3; r++) {
		const char *method = r < g_svc->nroutes ? g_svc->routes[r].method : "*";
		const char *pat = r < g_svc->nroutes        ? g_svc->routes[r].pattern
				  : r == g_svc->nroutes     ? "/healthz"
				  : r == g_svc->nroutes + 1 ? "/metrics"
							    : "none";
		for (int i = 0; i < STATUS_CLASSES; i++) {
			unsigned long long v = m_route[r * STATUS_CLASSES + (size_t)i];
			if (v != 0)
				strbuf_printf(
					&b,
					"shomei_route_requests_total{service=\"%s\",method=\"%s\","
					"route=\"%s\",code=\"%s\"} %llu\n",
					n, label(method), label(pat), m_cls[i], v);
		}
	}
	strbuf_printf(&b,
		      "# HELP shomei_request_seconds Time from accepting a request to its answer.\n"
		      "# TYPE shomei_request_seconds histogram\n");
	for (size_t i = 0; i <= NBOUNDS; i++) {
		cum += m_bucket[i];
		if (i < NBOUNDS)
			strbuf_printf(
				&b,
				"shomei_request_seconds_bucket{service=\"%s\",le=\"%g\"} %llu\n", n,
				m_bounds[i], cum);
	}
	count = cum;
	strbuf_printf(
		&b,
		"shomei_request_seconds_bucket{service=\"%s\",le=\"+Inf\"} %llu\n"
		"shomei_request_seconds_sum{service=\"%s\"} %.6f\n"
		"shomei_request_seconds_count{service=\"%s\"} %llu\n"
		"# HELP shomei_unavailable_total Responses 503 (PostgreSQL, Redis or the signer down).\n"
		"# TYPE shomei_unavailable_total counter\n"
		"shomei_unavailable_total{service=\"%s\"} %llu\n",
		n, count, n, (double)m_micros / 1e6, n, count, n,
		(unsigned long long)m_unavailable);
	db_pool_stats(&g_pool, &ps);
	strbuf_printf(
		&b,
		"# HELP shomei_db_pool_size PostgreSQL connections the request threads may hold (db_pool).\n"
		"# TYPE shomei_db_pool_size gauge\n"
		"shomei_db_pool_size{service=\"%s\"} %d\n"
		"# HELP shomei_db_pool_in_use Pool connections held by requests now.\n"
		"# TYPE shomei_db_pool_in_use gauge\n"
		"shomei_db_pool_in_use{service=\"%s\"} %d\n"
		"# HELP shomei_db_pool_idle Pool connections open and free.\n"
		"# TYPE shomei_db_pool_idle gauge\n"
		"shomei_db_pool_idle{service=\"%s\"} %d\n"
		"# HELP shomei_db_pool_waits_total Requests that waited for a pool connection.\n"
		"# TYPE shomei_db_pool_waits_total counter\n"
		"shomei_db_pool_waits_total{service=\"%s\"} %llu\n"
		"# HELP shomei_db_pool_timeouts_total Requests that gave up waiting (db_pool_wait).\n"
		"# TYPE shomei_db_pool_timeouts_total counter\n"
		"shomei_db_pool_timeouts_total{service=\"%s\"} %llu\n"
		"# HELP shomei_db_pool_connects_total Connections the pool opened (after restarts too).\n"
		"# TYPE shomei_db_pool_connects_total counter\n"
		"shomei_db_pool_connects_total{service=\"%s\"} %llu\n",
		n, ps.size, n, ps.in_use, n, ps.idle, n, ps.waits, n, ps.timeouts, n, ps.opened);
	if (g_svc->metrics != NULL && strbuf_error(&b) == 0)
		g_svc->metrics(&b, t);
	if (strbuf_error(&b) != 0) {
		free(buf);
		svc_fail(req, 500, "internal", &msg_internal);
		return;
	}
	http_send(req, 200, "text/plain; version=0.0.4", buf, b.len);
	free(buf);
}

/* Is method one of the ", "-separated list? */
static int
listed(const char *list, const char *method)
{
	size_t n = strlen(method);

	for (const char *p = list; *p;) {
		size_t k = strcspn(p, ",");
		if (k == n && strncmp(p, method, n) == 0)
			return 1;
		p += k;
		p += strspn(p, ", ");
	}
	return 0;
}

/*
 * Find the route for the request's method and path; a route of method "*" takes any method.
 * When none, allow holds the methods the path has, in table order ("" when the path has none:
 * 404, else 405).
 */
static const struct route *
find_route(struct http_req *req, char *allow, size_t len)
{
	struct strbuf b;

	strbuf_init(&b, allow, len);
	for (size_t i = 0; i < g_svc->nroutes; i++) {
		const struct route *r = &g_svc->routes[i];
		if (!http_route_match(req, r->pattern, req->path))
			continue;
		if (strcmp(r->method, req->method) == 0 || strcmp(r->method, "*") == 0)
			return r;
		if (!listed(allow, r->method))
			strbuf_printf(&b, "%s%s", b.len ? ", " : "", r->method);
	}
	return NULL;
}

/* nginx's internal listener (the services' unix socket) sets SHOMEI_LISTENER=internal. */
static int
from_internal_listener(const struct http_req *req)
{
	const char *v = FCGX_GetParam("SHOMEI_LISTENER", req->envp);

	return v != NULL && strcmp(v, "internal") == 0;
}

/* Answer the request; *ri: the route's index for /metrics (see m_route). */
static void
dispatch(struct http_req *req, struct svc_thread *t, FCGX_Stream *in, size_t *ri)
{
	const struct route *r;
	char allow[128];
	int rc;

	*ri = g_svc->nroutes + 2;
	if (strcmp(req->path, "/healthz") == 0) {
		*ri = g_svc->nroutes;
		if (g_svc->health == NULL || g_svc->health(req, t) < 0)
			health(req, t);
		return;
	}
	if (strcmp(req->path, "/metrics") == 0) {
		*ri = g_svc->nroutes + 1;
		metrics(req, t);
		return;
	}
	r = find_route(req, allow, sizeof(allow));
	if (r != NULL)
		*ri = (size_t)(r - g_svc->routes);
	if ((rc = http_read_body(req, in,
				 (size_t)(r != NULL && (r->flags & ROUTE_UPLOAD)
						  ? t->cfg->max_upload
						  : t->cfg->max_body))) != 0) {
		if (rc == HTTP_E_TOOBIG)
			svc_fail(req, 413, "too_large", &msg_too_large);
		else
			svc_fail(req, 400, "bad_request", &msg_bad_json);
		return;
	}
	if (r == NULL) {
		if (*allow == '\0') {
			svc_fail(req, 404, "not_found", &msg_not_found);
			return;
		}
		/* RFC 9110: a 405 names the methods the resource has */
		http_add_header(req, "Allow", allow);
		svc_fail(req, 405, "method_not_allowed", &msg_method);
		return;
	}
	if ((r->flags & ROUTE_INTERNAL) && !from_internal_listener(req)) {
		svc_fail(req, 404, "not_found", &msg_not_found);
		return;
	}
	if ((r->flags & ROUTE_SESSION) && (req->admin_id == 0 || req->tenant_id == 0)) {
		svc_fail(req, 401, "unauthorized", &msg_unauthorized);
		return;
	}
	rc = r->fn(req, t);
	if (rc < 0 && req->status == 0) {
		if (rc == -EIO)
			svc_fail(req, 503, "unavailable", &msg_unavailable);
		else
			svc_fail(req, 500, "internal", &msg_internal);
	}
}

static void
count(const struct http_req *req, const struct timespec *t0, size_t ri)
{
	struct timespec t1;
	int c = req->status / 100, k = (c >= 2 && c <= 5) ? c - 1 : 0;
	unsigned long long us;
	size_t b = 0;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	us = (unsigned long long)((t1.tv_sec - t0->tv_sec) * 1000000LL +
				  (t1.tv_nsec - t0->tv_nsec) / 1000);
	m_requests[k]++;
	if (m_route != NULL)
		m_route[ri * STATUS_CLASSES + (size_t)k]++;
	while (b < NBOUNDS && (double)us / 1e6 > m_bounds[b])
		b++;
	m_bucket[b]++;
	m_micros += us;
	if (req->status == 503)
		m_unavailable++;
}

/*
 * Wait in poll(POLLIN) for nginx's next request on a kept connection, not in libfcgi's read():
 * a thread asleep in read() on a unix socket is woken each time nginx reads the answer it just
 * wrote (freeing the bytes wakes every sleeper on the socket, a reader too) and finds nothing,
 * so every answer cost two wake-ups of the thread; poll's wait ignores that wake-up. libfcgi
 * keeps no byte past the request it served (each FCGX_Accept_r reads into a new buffer), so the
 * next request's first byte is in the socket. An error or hang-up returns too: libfcgi's read
 * then sees it and closes.
 */
static void
wait_request(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};

	while (poll(&p, 1, -1) < 0 && errno == EINTR)
		;
}

static void *
worker(void *arg)
{
	struct svc_thread *t = arg;
	FCGX_Request fr;
	struct http_req req;
	struct timespec t0;
	size_t ri;

	if (FCGX_InitRequest(&fr, g_sock, 0) != 0)
		return NULL;
	for (;;) {
		if (fr.ipcFd >= 0)
			wait_request(fr.ipcFd);
		if (FCGX_Accept_r(&fr) < 0)
			break;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		http_req_init(&req, fr.out, fr.envp);
		log_set_request(req.reqid);
		dispatch(&req, t, fr.in, &ri);
		/* the connection goes back to the pool before the response is flushed */
		db_release(&t->db);
		if (req.status == 0)
			svc_fail(&req, 500, "internal", &msg_internal);
		log_msg(LOG_DEBUG, "event=request method=%s path=%s status=%d", req.method,
			req.path, req.status);
		count(&req, &t0, ri);
		http_req_done(&req);
		log_set_request(NULL);
		FCGX_Finish_r(&fr);
	}
	return NULL;
}

static void
usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s [-nr] [-c config] [-p pidfile]\n"
		"  -c FILE  configuration file (default: $SHOMEI_CONFIG)\n"
		"  -n       check the configuration, then exit\n"
		"  -p FILE  write the process id to FILE (removed at exit)\n"
		"  -r       print the routes, \"METHOD PATTERN session|public|internal\" a line (* for\n"
		"           any method), then exit without reading the configuration\n",
		prog);
}

static int
parse_args(int argc, char **argv, const char **conf, const char **pidfile, int *check, int *routes)
{
	int ch;

	while ((ch = getopt(argc, argv, "c:p:nr")) != -1) {
		switch (ch) {
		case 'c':
			*conf = optarg;
			break;
		case 'p':
			*pidfile = optarg;
			break;
		case 'n':
			*check = 1;
			break;
		case 'r':
			*routes = 1;
			break;
		default:
			return -1;
		}
	}
	return 0;
}

/* -r: the table, then what dispatch() answers before it (for any method). */
static int
print_routes(const struct svc *svc)
{
	for (size_t i = 0; i < svc->nroutes; i++)
		printf("%s %s %s\n", svc->routes[i].method, svc->routes[i].pattern,
		       (svc->routes[i].flags & ROUTE_INTERNAL)  ? "internal"
		       : (svc->routes[i].flags & ROUTE_SESSION) ? "session"
								: "public");
	printf("* /healthz public\n* /metrics public\n");
	return fflush(stdout) == 0 && !ferror(stdout) ? 0 : 1;
}

static int
write_pidfile(const char *path)
{
	FILE *f;

	if (path == NULL)
		return 0;
	if ((f = fopen(path, "w")) == NULL)
		return -errno;
	fprintf(f, "%ld\n", (long)getpid());
	return fclose(f) == 0 ? 0 : -EIO;
}

/*
 * listen = host:port (containers: "0.0.0.0:9000"): FastCGI over TCP, for nginx on other
 * containers or hosts to reach every replica. Only on a network nothing else reaches: FastCGI
 * carries the session's administrator and tenant that nginx's auth_request established.
 */
static int
open_tcp(const char *spec)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC,
				 .ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
	struct addrinfo *ai = NULL;
	char host[256];
	const char *colon = strrchr(spec, ':');
	size_t hl;
	int fd = -1, one = 1, rc;

	if (colon == NULL || colon[1] == '\0' || (hl = (size_t)(colon - spec)) >= sizeof(host)) {
		log_msg(LOG_ERROR, "event=listen_bad value=\"%s\" want=host:port", spec);
		return -1;
	}
	memcpy(host, spec, hl);
	host[hl] = '\0';
	if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') { /* [::]:9000 */
		memmove(host, host + 1, hl - 2);
		host[hl - 2] = '\0';
	}
	if ((rc = getaddrinfo(*host ? host : NULL, colon + 1, &hints, &ai)) != 0) {
		log_msg(LOG_ERROR, "event=listen_bad value=\"%s\" err=\"%s\"", spec,
			gai_strerror(rc));
		return -1;
	}
	if ((fd = socket(ai->ai_family, SOCK_STREAM, 0)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 128) != 0) {
		log_msg(LOG_ERROR, "event=socket_failed listen=%s errno=%d", spec, errno);
		if (fd >= 0)
			close(fd);
		freeaddrinfo(ai);
		return -1;
	}
	freeaddrinfo(ai);
	g_sock = fd;
	return 0;
}

/* The listening socket, made here: FCGX_OpenSocket calls exit() when bind or listen fails. */
static int
open_socket(const char *name)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char path[512];
	mode_t old;
	int fd, rc;

	if (*g_cfg.listen != '\0')
		return open_tcp(g_cfg.listen);
	if (cfg_socket_path(&g_cfg, name, path, sizeof(path)) != 0 ||
	    strlen(path) >= sizeof(sa.sun_path))
		return -1;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	unlink(path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0)
		return -1;
	/*
	 * Born 0600 (no other user can connect before it has its group), then socket_group and
	 * 0660 before listen(): nginx's workers reach it through that group, nobody else.
	 */
	old = umask(0177);
	rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 ? 0 : -errno;
	umask(old);
	if (rc == 0)
		rc = util_chgrp_mode(path, g_cfg.socket_group, 0660);
	if (rc == 0 && listen(fd, 128) != 0)
		rc = -errno;
	if (rc != 0) {
		/* EADDRINUSE: a file of another user there, which this process may not remove */
		log_msg(LOG_ERROR, "event=socket_failed path=%s group=%s errno=%d", path,
			g_cfg.socket_group, -rc);
		close(fd);
		return -1;
	}
	g_sock = fd;
	return 0;
}

static int
start_threads(pthread_t *tids, struct svc_thread *ts)
{
	for (int i = 0; i < g_cfg.threads; i++) {
		ts[i].cfg = &g_cfg;
		ts[i].index = i;
		if (db_init_pooled(&ts[i].db, g_cfg.db, &g_pool) != 0 ||
		    kv_init(&ts[i].kv, g_cfg.redis_socket, g_cfg.redis_host, g_cfg.redis_port) != 0)
			return -ENOMEM;
		if (pthread_create(&tids[i], NULL, worker, &ts[i]) != 0)
			return -EAGAIN;
	}
	return 0;
}

int
svc_main(const struct svc *svc, int argc, char **argv)
{
	return svc_main_start(svc, NULL, argc, argv);
}

int
svc_main_start(const struct svc *svc, svc_start_fn start, int argc, char **argv)
{
	const char *conf = getenv("SHOMEI_CONFIG"), *pidfile = NULL;
	struct svc_thread *ts = NULL;
	pthread_t *tids = NULL;
	char err[512], prog[64], path[512];
	int check = 0, routes = 0, sig = 0, rc = 1;
	sigset_t set;

	snprintf(prog, sizeof(prog), "shomei-%s", svc->name);
	g_svc = svc;
	if (parse_args(argc, argv, &conf, &pidfile, &check, &routes) != 0) {
		usage(prog);
		return 2;
	}
	if (routes)
		return print_routes(svc);
	if (cfg_load(&g_cfg, conf, svc->sections, svc->nsections, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s: %s\n", prog, err);
		return 2;
	}
	if (check) {
		printf("%s: configuration ok\n", prog);
		cfg_done(&g_cfg);
		for (size_t i = 0; i < svc->nsections; i++)
			cfg_section_done(&svc->sections[i]);
		return 0;
	}
	log_init(prog, g_cfg.log_level, (enum log_format)g_cfg.log_format);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (FCGX_Init() != 0 || open_socket(svc->name) != 0) {
		log_msg(LOG_ERROR, "event=listen_failed service=%s", svc->name);
		goto out;
	}
	if (start != NULL && start(&g_cfg) != 0) {
		log_msg(LOG_ERROR, "event=start_failed service=%s", svc->name);
		goto out;
	}
	m_route = calloc((svc->nroutes + 3) * STATUS_CLASSES, sizeof(*m_route));
	if (m_route == NULL ||
	    db_pool_init(&g_pool, g_cfg.db_pool, g_cfg.db_pool_wait * 1000) != 0) {
		log_msg(LOG_ERROR, "event=start_failed service=%s", svc->name);
		goto out;
	}
	tids = calloc((size_t)g_cfg.threads, sizeof(*tids));
	ts = calloc((size_t)g_cfg.threads, sizeof(*ts));
	if (tids == NULL || ts == NULL || start_threads(tids, ts) != 0) {
		log_msg(LOG_ERROR, "event=start_failed service=%s", svc->name);
		goto out;
	}
	if (write_pidfile(pidfile) != 0)
		log_msg(LOG_WARN, "event=pidfile_failed");
	log_msg(LOG_INFO, "event=started service=%s threads=%d db_pool=%d listen=%s", svc->name,
		g_cfg.threads, g_cfg.db_pool, *g_cfg.listen ? g_cfg.listen : "unix");
	sigwait(&set, &sig);
	log_msg(LOG_INFO, "event=stopping signal=%d", sig);
	rc = 0;
out:
	if (*g_cfg.listen == '\0' && cfg_socket_path(&g_cfg, svc->name, path, sizeof(path)) == 0)
		unlink(path);
	if (pidfile != NULL)
		unlink(pidfile);
	/* Threads block in accept(); the process ends here and the kernel closes their sockets. */
	fflush(stderr);
	_exit(rc);
}
