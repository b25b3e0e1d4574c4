/*
 * test-fcgisvc.c: the FastCGI runtime every service shares. svc_invalid and svc_fail write into
 * an in-memory FCGX stream. The rest (arguments, configuration, routing, methods, sessions,
 * handler outcomes, body limits, /healthz, /metrics, the pid file, shutdown) is reachable only
 * through svc_main, so it runs in a child process on a socket in a temporary directory, and the
 * test speaks FastCGI to it as nginx does: no server of any kind is needed. With
 * SHOMEI_TEST_DB and SHOMEI_TEST_REDIS /healthz also reports them up.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "web/fcgisvc.h"
#include "web/i18n.h"
#include "db-fixture.h"
#include "fcgi-client.h"
#include "tap.h"

/* ---- an FCGX output stream into memory (a small buffer, so its flush path runs too) ---- */

struct sink {
	FCGX_Stream s;
	unsigned char buf[64];
	char *data;
	size_t len;
};

static void
sink_flush(FCGX_Stream *s, int close)
{
	struct sink *k = s->data;
	size_t n = (size_t)(s->wrNext - k->buf);
	char *p = realloc(k->data, k->len + n + 1);

	if (p == NULL) {
		s->isClosed = 1;
		return;
	}
	memcpy(p + k->len, k->buf, n);
	k->data = p;
	k->len += n;
	k->data[k->len] = '\0';
	s->wrNext = k->buf;
}

static void
sink_init(struct sink *k)
{
	memset(k, 0, sizeof(*k));
	k->s.wrNext = k->s.stopUnget = k->buf;
	k->s.stop = k->s.rdNext = k->buf + sizeof(k->buf);
	k->s.emptyBuffProc = sink_flush;
	k->s.data = k;
}

/* Everything written so far, NUL-terminated. */
static const char *
sink_text(struct sink *k)
{
	sink_flush(&k->s, 0);
	return k->data ? k->data : "";
}

/* The JSON body after the blank line, parsed (caller deletes); NULL when none. */
static cJSON *
body_json(const char *resp)
{
	const char *b = strstr(resp, "\r\n\r\n");

	return b ? cJSON_Parse(b + 4) : NULL;
}

static const char *
jstr(const cJSON *doc, const char *a, const char *b)
{
	const cJSON *o = cJSON_GetObjectItemCaseSensitive(doc, a);

	if (b != NULL)
		o = cJSON_GetObjectItemCaseSensitive(o, b);
	return cJSON_IsString(o) ? o->valuestring : NULL;
}

/* A handler that sets its own Cache-Control (public CRLs) gets it alone, without no-store. */
static void
test_cache_control(void)
{
	static const char *const own[] = {"public, no-cache", "public, max-age=3600"};
	struct http_req req;
	struct sink k;

	for (int i = 0; i < 2; i++) {
		sink_init(&k);
		http_req_init(&req, &k.s, NULL);
		if (i == 1)
			http_add_header(&req, "ETag", "\"x\"");
		http_add_header(&req, "Cache-Control", own[i]);
		http_send(&req, 200, "application/pkix-crl", "x", 1);
		const char *t = sink_text(&k);
		TAP_OK(strstr(t, "no-store") == NULL && strstr(t, own[i]) != NULL,
		       "Cache-Control: %s set by the handler (%s) replaces no-store", own[i],
		       i ? "after another header" : "first");
		free(k.data);
	}
	sink_init(&k);
	http_req_init(&req, &k.s, NULL);
	http_add_header(&req, "X-Cache-Control", "1");
	http_send(&req, 200, "text/plain", "x", 1);
	TAP_OK(strstr(sink_text(&k), "\r\nCache-Control: no-store\r\n") != NULL,
	       "a header that only ends in Cache-Control keeps no-store");
	free(k.data);
}

/* The log's request id is nginx's $request_id (32 hex digits) cut to 16, not one drawn again. */
static void
test_reqid(void)
{
	char id[] = "REQUEST_ID=0123456789abcdef0123456789abcdef", shortid[] = "REQUEST_ID=0a1b",
	     *envp[] = {id, NULL}, *envs[] = {shortid, NULL}, *none[] = {NULL};
	struct http_req req;

	http_req_init(&req, NULL, envp);
	TAP_OK(strcmp(req.reqid, "0123456789abcdef") == 0,
	       "nginx's 32-digit request id is the log's, cut to 16 (%s)", req.reqid);
	http_req_init(&req, NULL, envs);
	TAP_OK(strcmp(req.reqid, "0a1b") == 0, "a shorter one is taken whole (%s)", req.reqid);
	http_req_init(&req, NULL, none);
	TAP_OK(strlen(req.reqid) == 16 && strspn(req.reqid, "0123456789abcdef") == 16,
	       "without one, 16 random hex digits (%s)", req.reqid);
}

static void
test_invalid(void)
{
	struct http_req req;
	struct sink k;
	cJSON *fields = cJSON_CreateArray(), *f = cJSON_CreateObject(), *doc;

	cJSON_AddStringToObject(f, "field", "login_id");
	cJSON_AddStringToObject(f, "message", "x");
	cJSON_AddItemToArray(fields, f);
	sink_init(&k);
	http_req_init(&req, &k.s, NULL);
	http_add_header(&req, "X-Test", "1");
	svc_invalid(&req, fields); /* consumed: ASan reports a leak or a double free */
	const char *t = sink_text(&k);
	TAP_OK(req.status == 422 && strncmp(t, "Status: 422\r\n", 13) == 0,
	       "svc_invalid: status 422");
	TAP_OK(strstr(t, "\r\nContent-Type: application/json; charset=utf-8\r\n") != NULL &&
		       strstr(t, "\r\nCache-Control: no-store\r\n") != NULL &&
		       strstr(t, "\r\nX-Test: 1\r\n\r\n") != NULL,
	       "svc_invalid: JSON, no-store, the extra header, a blank line");
	doc = body_json(t);
	const cJSON *fl = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(doc, "error"), "fields");
	TAP_STREQ(jstr(doc, "error", "code"), "validation_failed", "svc_invalid: code");
	TAP_STREQ(jstr(doc, "error", "message"), i18n_msg(&msg_validation, I18N_JA),
		  "svc_invalid: the Japanese message without Accept-Language");
	TAP_OK(cJSON_GetArraySize(fl) == 1 &&
		       strcmp(jstr(cJSON_GetArrayItem(fl, 0), "field", NULL), "login_id") == 0,
	       "svc_invalid: the fields, as given");
	cJSON_Delete(doc);
	free(k.data);

	sink_init(&k);
	http_req_init(&req, &k.s, NULL);
	req.lang = I18N_EN;
	svc_invalid(&req, NULL);
	doc = body_json(sink_text(&k));
	TAP_OK(doc != NULL &&
		       cJSON_GetObjectItemCaseSensitive(
			       cJSON_GetObjectItemCaseSensitive(doc, "error"), "fields") == NULL &&
		       strcmp(jstr(doc, "error", "message"), i18n_msg(&msg_validation, I18N_EN)) ==
			       0,
	       "svc_invalid without fields: no fields member; English message");
	cJSON_Delete(doc);
	free(k.data);
}

static void
test_fail(void)
{
	static const struct {
		int status;
		const char *code;
		const struct i18n_text *msg;
		int lang;
	} cases[] = {
		{400, "bad_request", &msg_bad_json, I18N_JA},
		{401, "unauthorized", &msg_unauthorized, I18N_EN},
		{404, "not_found", &msg_not_found, I18N_JA},
		{405, "method_not_allowed", &msg_method, I18N_EN},
		{413, "too_large", &msg_too_large, I18N_JA},
		{500, "internal", &msg_internal, I18N_JA},
		{503, "unavailable", &msg_unavailable, I18N_EN},
		{409, "conflict", NULL, I18N_JA}, /* no message: "" */
	};
	struct http_req req;
	struct sink k;
	char want[32];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		sink_init(&k);
		http_req_init(&req, &k.s, NULL);
		req.lang = cases[i].lang;
		svc_fail(&req, cases[i].status, cases[i].code, cases[i].msg);
		const char *t = sink_text(&k);
		cJSON *doc = body_json(t);
		const char *m = i18n_msg(cases[i].msg, cases[i].lang);
		snprintf(want, sizeof(want), "Status: %d\r\n", cases[i].status);
		TAP_OK(req.status == cases[i].status && strncmp(t, want, strlen(want)) == 0 &&
			       jstr(doc, "error", "code") != NULL &&
			       strcmp(jstr(doc, "error", "code"), cases[i].code) == 0 &&
			       jstr(doc, "error", "message") != NULL &&
			       strcmp(jstr(doc, "error", "message"), m) == 0,
		       "svc_fail %d %s (%s): \"%s\"", cases[i].status, cases[i].code,
		       cases[i].lang == I18N_EN ? "en" : "ja", m);
		cJSON_Delete(doc);
		free(k.data);
	}

	http_req_init(&req, NULL, NULL);
	svc_fail(&req, 503, "unavailable", &msg_unavailable);
	TAP_OK(req.status == 503, "svc_fail without a stream: the status is recorded");

	/* nginx has gone: the stream refuses every byte */
	sink_init(&k);
	k.s.isClosed = 1;
	k.s.stop = k.s.wrNext;
	http_req_init(&req, &k.s, NULL);
	svc_fail(&req, 500, "internal", &msg_internal);
	TAP_OK(req.status == 500 && k.data == NULL, "svc_fail into a closed stream: no crash");
}

/* ---- svc_main in a child process ---- */

static char tmp[] = "/tmp/shomei-test-fcgisvc-XXXXXX";
static char sockdir[64], sockpath[96], conf[160], pidfile[160], outfile[160], errfile[160];

static int
h_ok(struct http_req *req, struct svc_thread *t)
{
	http_send(req, 200, "text/plain", "ok", 2);
	return 0;
}

static int
h_item(struct http_req *req, struct svc_thread *t)
{
	char b[128];
	int n = snprintf(b, sizeof(b), "item=%s nargs=%d", req->args[0], req->nargs);

	http_send(req, 200, "text/plain", b, (size_t)n);
	return 0;
}

static int
h_echo(struct http_req *req, struct svc_thread *t)
{
	http_send(req, 200, "application/octet-stream", req->body, req->body_len);
	return 0;
}

static int
h_private(struct http_req *req, struct svc_thread *t)
{
	char b[64];
	int n = snprintf(b, sizeof(b), "admin=%lld tenant=%lld", req->admin_id, req->tenant_id);

	http_send(req, 200, "text/plain", b, (size_t)n);
	return 0;
}

static int
h_eio(struct http_req *req, struct svc_thread *t)
{
	return -EIO;
}

static int
h_einval(struct http_req *req, struct svc_thread *t)
{
	return -EINVAL;
}

static int
h_silent(struct http_req *req, struct svc_thread *t)
{
	return 0; /* a handler that forgot to answer */
}

static int
h_positive(struct http_req *req, struct svc_thread *t)
{
	return DB_E_NOTFOUND; /* an outcome the handler should have answered */
}

static int
h_sent(struct http_req *req, struct svc_thread *t)
{
	http_send(req, 201, "text/plain", "made", 4);
	return -EIO; /* already answered: the runtime must not answer again */
}

/* The thread's wiring: its index, its configuration, its connections' addresses. */
static int
h_thread(struct http_req *req, struct svc_thread *t)
{
	char b[512];
	int n = snprintf(b, sizeof(b), "index=%d threads=%d db=%s redis=%s max_body=%d", t->index,
			 t->cfg->threads, t->db.conninfo, t->kv.socket ? t->kv.socket : "-",
			 t->cfg->max_body);

	http_send(req, 200, "text/plain", b, (size_t)n);
	return 0;
}

static int
custom_health(struct http_req *req, struct svc_thread *t)
{
	if (strcmp(req->query, "mine") != 0)
		return -EIO; /* the runtime's own check answers */
	http_send(req, 200, "text/plain", "custom", 6);
	return 0;
}

static const struct route routes[] = {
	{"GET", "/api/ok", 0, h_ok},
	{"GET", "/api/items/{id}", 0, h_item},
	{"DELETE", "/api/items/{id}", 0, h_ok},
	{"POST", "/api/echo", 0, h_echo},
	{"GET", "/api/private", 1, h_private},
	{"GET", "/api/eio", 0, h_eio},
	{"GET", "/api/einval", 0, h_einval},
	{"GET", "/api/silent", 0, h_silent},
	{"GET", "/api/positive", 0, h_positive},
	{"GET", "/api/sent", 0, h_sent},
	{"GET", "/api/thread", 0, h_thread},
	{"PATCH", "/api/items/{id}", 0, h_ok},
	{"*", "/api/any", 0, h_ok},
};

static const struct svc svc = {
	.name = "test",
	.routes = routes,
	.nroutes = sizeof(routes) / sizeof(routes[0]),
	.health = custom_health,
};

static int start_rc;

static int
start_hook(const struct cfg *cfg)
{
	return cfg->threads == 2 ? start_rc : -1;
}

/* Fork svc_main_start(argv) with stdout and stderr to files; the child's pid, -1. */
static pid_t
spawn(char *const *argv, const char *env_config)
{
	int argc = 0;
	pid_t pid;

	while (argv[argc] != NULL)
		argc++;
	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) != 0)
		return pid;
	int o = open(outfile, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	int e = open(errfile, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (o < 0 || e < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0)
		_exit(99);
	if (env_config != NULL)
		setenv("SHOMEI_CONFIG", env_config, 1);
	else
		unsetenv("SHOMEI_CONFIG");
	int rc = svc_main_start(&svc, start_hook, argc, (char **)argv);
	fflush(stdout);
	_exit(rc);
}

/* The child's exit code (it must end within 10 s), -1 for a signal or a hang. */
static int
reap(pid_t pid)
{
	int st = 0;

	for (int i = 0; i < 1000; i++) {
		pid_t r = waitpid(pid, &st, WNOHANG);
		if (r == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
		if (r < 0)
			return -1;
		usleep(10000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	return -1;
}

static int
run(char *const *argv, const char *env_config)
{
	pid_t pid = spawn(argv, env_config);

	return pid < 0 ? -1 : reap(pid);
}

/* 1 when the file holds needle. */
static int
file_has(const char *path, const char *needle)
{
	char *t = util_read_file(path, 1 << 20, NULL);
	int ok = t != NULL && strstr(t, needle) != NULL;

	free(t);
	return ok;
}

static int
write_conf(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f == NULL)
		return -1;
	fputs(text, f);
	return fclose(f);
}

static void
test_args(void)
{
	char bad[200], unknown[200], range[200], good[200], text[1024];
	char *usage[] = {"shomei-test", "-x", NULL};
	char *missing[] = {"shomei-test", "-n", "-c", "/nonexistent/shomei.conf", NULL};
	char *check_unknown[] = {"shomei-test", "-n", "-c", unknown, NULL};
	char *check_range[] = {"shomei-test", "-n", "-c", range, NULL};
	char *check_good[] = {"shomei-test", "-n", "-c", good, NULL};
	char *check_env[] = {"shomei-test", "-n", NULL};
	char *stray[] = {"shomei-test", "-c", NULL};

	snprintf(bad, sizeof(bad), "%s/bad.conf", tmp);
	snprintf(unknown, sizeof(unknown), "%s/unknown.conf", tmp);
	snprintf(range, sizeof(range), "%s/range.conf", tmp);
	snprintf(good, sizeof(good), "%s/good.conf", tmp);
	write_conf(bad, "this line has no equals sign\n");
	write_conf(unknown, "threads = 2\ncolour = blue\n");
	write_conf(range, "threads = 0\n");
	snprintf(text, sizeof(text), "socket_dir = %s\nthreads = 2\n", sockdir);
	write_conf(good, text);

	TAP_OK(run(usage, NULL) == 2 && file_has(errfile, "usage: shomei-test [-nr] [-c config]"),
	       "svc_main -x: exit 2 with the usage line");
	TAP_OK(run(stray, NULL) == 2 && file_has(errfile, "usage:"),
	       "svc_main -c without its argument: exit 2, usage");
	TAP_OK(run(missing, NULL) == 2 &&
		       file_has(errfile, "/nonexistent/shomei.conf: cannot read"),
	       "svc_main -n with a file that does not exist: exit 2, the file named");
	TAP_OK(run(check_unknown, NULL) == 2 && file_has(errfile, "line 2: unknown key \"colour\""),
	       "svc_main -n with an unknown key: exit 2, line and key named");
	TAP_OK(run(check_range, NULL) == 2 && file_has(errfile, "threads must be a whole number"),
	       "svc_main -n with threads = 0: exit 2");
	TAP_OK(run(check_good, NULL) == 0 && file_has(outfile, "shomei-test: configuration ok") &&
		       access(sockpath, F_OK) != 0,
	       "svc_main -n with a good file: exit 0, \"configuration ok\", nothing listens");
	TAP_OK(run(check_env, bad) == 2 && file_has(errfile, "line 1: expected key = value"),
	       "svc_main -n without -c reads SHOMEI_CONFIG");
	TAP_OK(run(check_env, good) == 0, "svc_main -n with a good SHOMEI_CONFIG: exit 0");
}

static void
test_start_failures(void)
{
	char nodir[200], text[1024], text2[1024];
	char *argv_nodir[] = {"shomei-test", "-c", nodir, NULL};
	char *argv_conf[] = {"shomei-test", "-c", conf, "-p", pidfile, NULL};

	snprintf(nodir, sizeof(nodir), "%s/nodir.conf", tmp);
	snprintf(text, sizeof(text), "socket_dir = %s/missing\nthreads = 2\nlog_level = error\n",
		 tmp);
	write_conf(nodir, text);
	TAP_OK(run(argv_nodir, NULL) == 1 && file_has(errfile, "event=listen_failed service=test"),
	       "a socket directory that does not exist: exit 1, listen_failed logged");
	char longdir[160];
	memset(longdir, 'd', sizeof(longdir) - 1);
	longdir[sizeof(longdir) - 1] = '\0';
	snprintf(text, sizeof(text), "socket_dir = %s/%s\nthreads = 2\nlog_level = error\n", tmp,
		 longdir);
	write_conf(nodir, text);
	TAP_OK(run(argv_nodir, NULL) == 1 && file_has(errfile, "event=listen_failed service=test"),
	       "a socket path longer than a unix socket's: exit 1, listen_failed logged");

	snprintf(text2, sizeof(text2), "socket_dir = %s\nthreads = 2\nlog_level = error\n",
		 sockdir);
	write_conf(conf, text2);
	start_rc = 1;
	TAP_OK(run(argv_conf, NULL) == 1 && file_has(errfile, "event=start_failed service=test") &&
		       access(sockpath, F_OK) != 0 && access(pidfile, F_OK) != 0,
	       "the start hook refuses: exit 1, the socket removed, no pid file");
	start_rc = 0;
}

/* GET path (with extra params) and return the status; the response in *r (free r->raw). */
static int
get(const char *method, const char *path, const char *extra1, const char *extra2, struct resp *r)
{
	char m[64], p[512];
	const char *params[] = {m, p, "REMOTE_ADDR=192.0.2.1", extra1, extra2, NULL};

	snprintf(m, sizeof(m), "REQUEST_METHOD=%s", method);
	snprintf(p, sizeof(p), "DOCUMENT_URI=%s", path);
	if (extra1 == NULL)
		params[3] = NULL;
	else if (extra2 == NULL)
		params[4] = NULL;
	return fcgi_request(sockpath, params, NULL, 0, r) == 0 ? r->status : -1;
}

static int
post(const char *path, const char *clen, const char *body, size_t blen, struct resp *r)
{
	char p[512], cl[64];
	const char *params[] = {"REQUEST_METHOD=POST", p, cl, NULL};

	snprintf(p, sizeof(p), "DOCUMENT_URI=%s", path);
	snprintf(cl, sizeof(cl), "CONTENT_LENGTH=%s", clen);
	return fcgi_request(sockpath, params, body, blen, r) == 0 ? r->status : -1;
}

/* The error code of a JSON error body, "" when none. */
static const char *
err_code(struct resp *r, char *buf, size_t len)
{
	cJSON *doc = cJSON_Parse(r->body);
	const char *c = jstr(doc, "error", "code");

	snprintf(buf, len, "%s", c ? c : "");
	cJSON_Delete(doc);
	return buf;
}

/* Responses by status class, as /metrics should count them. */
static unsigned long long counted[5], unavailable;

static void
tally(int status)
{
	int c = status / 100;

	counted[(c >= 2 && c <= 5) ? c - 1 : 0]++;
	if (status == 503)
		unavailable++;
}

/* Count a response for /metrics and free it. */
static void
settle(struct resp *r, int status)
{
	if (status > 0)
		tally(status);
	free(r->raw);
	r->raw = NULL;
}

/* Print text as TAP diagnostics, each line behind "# ". */
static void
diag(const char *text)
{
	const char *p = text ? text : "(no answer)";

	while (*p) {
		size_t n = strcspn(p, "\r\n");
		printf("# %.*s\n", (int)n, p);
		p += n;
		p += strspn(p, "\r\n");
	}
}

/* Does the response's head (before the blank line) hold the line? */
static int
head_has(const struct resp *r, const char *line)
{
	const char *end = r->raw ? memmem(r->raw, r->len, "\r\n\r\n", 4) : NULL;
	const char *p = end ? memmem(r->raw, (size_t)(end + 2 - r->raw), line, strlen(line)) : NULL;

	return p != NULL;
}

/* One check of a response: its status, its error code and its body when given. */
static void
check(const char *what, int got, int want, struct resp *r, const char *code, const char *body)
{
	char c[64];
	int ok = got == want;

	if (ok && code != NULL)
		ok = strcmp(err_code(r, c, sizeof(c)), code) == 0;
	if (ok && body != NULL)
		ok = r->body_len == strlen(body) && memcmp(r->body, body, r->body_len) == 0;
	TAP_OK(ok, "%s: %d%s%s", what, want, code ? " " : "", code ? code : "");
	if (!ok) {
		printf("# got %d:\n", got);
		diag(r->raw);
	}
	settle(r, got);
}

/* 1 when the file holds needle within 5 s (a service writes its pid file after its socket
 * listens and its threads start, so a test that has just connected may be early). */
static int
file_gets(const char *path, const char *needle)
{
	for (int i = 0; i < 500; i++) {
		if (file_has(path, needle))
			return 1;
		usleep(10000);
	}
	return 0;
}

/* Wait until the child accepts connections (its socket exists and answers). */
static int
wait_listening(pid_t pid)
{
	for (int i = 0; i < 500; i++) {
		struct sockaddr_un sa = {.sun_family = AF_UNIX};
		int fd = socket(AF_UNIX, SOCK_STREAM, 0), ok;
		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sockpath);
		ok = fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
		if (fd >= 0)
			close(fd);
		if (ok)
			return 0;
		if (waitpid(pid, NULL, WNOHANG) == pid)
			return -1;
		usleep(10000);
	}
	return -1;
}

static void
test_serve(void)
{
	char *argv[] = {"shomei-test", "-c", conf, "-p", pidfile, NULL};
	char text[1024], want[600], big[1025];
	struct resp r;
	pid_t pid;

	snprintf(text, sizeof(text),
		 "db = %s\nredis_socket = %s\nsocket_dir = %s\nthreads = 2\nmax_body = 1024\n"
		 "log_level = error\n",
		 DEAD_DB, DEAD_REDIS, sockdir);
	write_conf(conf, text);
	pid = spawn(argv, NULL);
	if (pid < 0 || wait_listening(pid) != 0) {
		char *e = util_read_file(errfile, 4096, NULL);
		TAP_OK(0, "the service listens on %s", sockpath);
		diag(e);
		free(e);
		if (pid > 0)
			reap(pid);
		return;
	}
	TAP_OK(1, "the service listens on %s", sockpath);
	snprintf(want, sizeof(want), "%ld\n", (long)pid);
	TAP_OK(file_gets(pidfile, want), "the pid file holds the child's pid");

	check("GET /api/ok", get("GET", "/api/ok", NULL, NULL, &r), 200, &r, NULL, "ok");
	check("POST /api/ok (a GET route)", get("POST", "/api/ok", NULL, NULL, &r), 405, &r,
	      "method_not_allowed", NULL);
	check("GET /api/items/42", get("GET", "/api/items/42", NULL, NULL, &r), 200, &r, NULL,
	      "item=42 nargs=1");
	check("DELETE /api/items/42", get("DELETE", "/api/items/42", NULL, NULL, &r), 200, &r, NULL,
	      "ok");
	check("PUT /api/items/42 (only GET, DELETE and PATCH)",
	      get("PUT", "/api/items/42", NULL, NULL, &r), 405, &r, "method_not_allowed", NULL);
	static const struct {
		const char *method, *path, *allow;
	} allows[] = {
		{"PUT", "/api/items/42", "Allow: GET, DELETE, PATCH\r\n"},
		{"OPTIONS", "/api/items/42", "Allow: GET, DELETE, PATCH\r\n"},
		{"PROPFIND", "/api/items/42", "Allow: GET, DELETE, PATCH\r\n"},
		{"POST", "/api/ok", "Allow: GET\r\n"},
		{"OPTIONS", "/api/echo", "Allow: POST\r\n"},
		{"BREW", "/api/private", "Allow: GET\r\n"},
	};
	for (size_t i = 0; i < sizeof(allows) / sizeof(allows[0]); i++) {
		int st = get(allows[i].method, allows[i].path, NULL, NULL, &r);
		char c[64];
		TAP_OK(st == 405 && strcmp(err_code(&r, c, sizeof(c)), "method_not_allowed") == 0 &&
			       head_has(&r, allows[i].allow),
		       "%s %s: 405 with %.*s", allows[i].method, allows[i].path,
		       (int)strlen(allows[i].allow) - 2, allows[i].allow);
		if (st != 405 || !head_has(&r, allows[i].allow))
			diag(r.raw);
		settle(&r, st);
	}
	int st404 = get("OPTIONS", "/api/nope", NULL, NULL, &r);
	TAP_OK(st404 == 404 && !head_has(&r, "Allow:"),
	       "OPTIONS on a path no route has: 404, no Allow");
	settle(&r, st404);
	check("OPTIONS /api/any (a route of any method)",
	      get("OPTIONS", "/api/any", NULL, NULL, &r), 200, &r, NULL, "ok");
	check("PROPFIND /api/any", get("PROPFIND", "/api/any", NULL, NULL, &r), 200, &r, NULL,
	      "ok");
	check("GET /api/items/ (empty placeholder)", get("GET", "/api/items/", NULL, NULL, &r), 404,
	      &r, "not_found", NULL);
	check("GET /api/items/1/x (extra segment)", get("GET", "/api/items/1/x", NULL, NULL, &r),
	      404, &r, "not_found", NULL);
	check("GET /nope", get("GET", "/nope", NULL, NULL, &r), 404, &r, "not_found", NULL);
	int st = get("GET", "/nope", "HTTP_ACCEPT_LANGUAGE=en-US,en;q=0.9", NULL, &r);
	cJSON *doc = cJSON_Parse(r.body ? r.body : "");
	TAP_OK(st == 404 && jstr(doc, "error", "message") != NULL &&
		       strcmp(jstr(doc, "error", "message"), i18n_msg(&msg_not_found, I18N_EN)) ==
			       0,
	       "GET /nope with Accept-Language en: the English message");
	cJSON_Delete(doc);
	settle(&r, st);
	check("SHOMEI_ROUTE names the route, not DOCUMENT_URI",
	      get("GET", "/nope", "SHOMEI_ROUTE=/api/ok", NULL, &r), 200, &r, NULL, "ok");
	check("no REQUEST_METHOD is GET",
	      fcgi_request(sockpath, (const char *[]){"DOCUMENT_URI=/api/ok", NULL}, NULL, 0, &r) ==
			      0
		      ? r.status
		      : -1,
	      200, &r, NULL, "ok");

	check("GET /api/private without a session", get("GET", "/api/private", NULL, NULL, &r), 401,
	      &r, "unauthorized", NULL);
	check("... with SHOMEI_ADMIN_ID only",
	      get("GET", "/api/private", "SHOMEI_ADMIN_ID=3", NULL, &r), 401, &r, "unauthorized",
	      NULL);
	check("... with SHOMEI_TENANT_ID only",
	      get("GET", "/api/private", "SHOMEI_TENANT_ID=9", NULL, &r), 401, &r, "unauthorized",
	      NULL);
	check("... with an ID that is not a number",
	      get("GET", "/api/private", "SHOMEI_ADMIN_ID=3x", "SHOMEI_TENANT_ID=9", &r), 401, &r,
	      "unauthorized", NULL);
	check("... with both",
	      get("GET", "/api/private", "SHOMEI_ADMIN_ID=3", "SHOMEI_TENANT_ID=9", &r), 200, &r,
	      NULL, "admin=3 tenant=9");
	check("... a session header from the client is not a session",
	      get("GET", "/api/private", "HTTP_SHOMEI_ADMIN_ID=3", "HTTP_SHOMEI_TENANT_ID=9", &r),
	      401, &r, "unauthorized", NULL);

	check("a handler's -EIO", get("GET", "/api/eio", NULL, NULL, &r), 503, &r, "unavailable",
	      NULL);
	check("a handler's -EINVAL", get("GET", "/api/einval", NULL, NULL, &r), 500, &r, "internal",
	      NULL);
	check("a handler that answered nothing", get("GET", "/api/silent", NULL, NULL, &r), 500, &r,
	      "internal", NULL);
	check("a handler's unanswered positive code", get("GET", "/api/positive", NULL, NULL, &r),
	      500, &r, "internal", NULL);
	check("a handler that answered, then failed: its answer stands",
	      get("GET", "/api/sent", NULL, NULL, &r), 201, &r, NULL, "made");

	static const char bin[10] = "h\xc3\xa9llo\0 x\n"; /* UTF-8, a NUL, a newline */
	st = post("/api/echo", "10", bin, sizeof(bin), &r);
	TAP_OK(st == 200 && r.body_len == sizeof(bin) && memcmp(r.body, bin, sizeof(bin)) == 0,
	       "POST 10 bytes with a NUL: echoed byte for byte");
	settle(&r, st);
	memset(big, 'b', sizeof(big));
	st = post("/api/echo", "1024", big, 1024, &r);
	TAP_OK(st == 200 && r.body_len == 1024 && memcmp(r.body, big, 1024) == 0,
	       "POST 1024 bytes (max_body): echoed whole");
	settle(&r, st);
	check("POST 1025 bytes", post("/api/echo", "1025", big, 1025, &r), 413, &r, "too_large",
	      NULL);
	check("CONTENT_LENGTH not a number", post("/api/echo", "12x", "x", 1, &r), 400, &r,
	      "bad_request", NULL);
	check("CONTENT_LENGTH negative", post("/api/echo", "-1", "x", 1, &r), 400, &r,
	      "bad_request", NULL);
	check("a body shorter than CONTENT_LENGTH", post("/api/echo", "10", "abcd", 4, &r), 400, &r,
	      "bad_request", NULL);
	check("an empty CONTENT_LENGTH is no body", post("/api/echo", "", NULL, 0, &r), 200, &r,
	      NULL, "");
	check("a body on a route that does not exist", post("/nope", "3", "abc", 3, &r), 404, &r,
	      "not_found", NULL);

	st = get("GET", "/api/thread", NULL, NULL, &r);
	snprintf(want, sizeof(want), "threads=2 db=%s redis=%s max_body=1024", DEAD_DB, DEAD_REDIS);
	TAP_OK(st == 200 &&
		       (strncmp(r.body, "index=0 ", 8) == 0 ||
			strncmp(r.body, "index=1 ", 8) == 0) &&
		       strstr(r.body, want) != NULL,
	       "a handler's thread: index 0 or 1, the configuration, its connections' addresses");
	settle(&r, st);

	st = get("GET", "/healthz", NULL, NULL, &r);
	doc = cJSON_Parse(r.body ? r.body : "");
	TAP_OK(st == 503 && jstr(doc, "service", NULL) &&
		       strcmp(jstr(doc, "service", NULL), "test") == 0 &&
		       strcmp(jstr(doc, "postgresql", NULL), "down") == 0 &&
		       strcmp(jstr(doc, "redis", NULL), "down") == 0,
	       "/healthz (the service's check declines): the runtime's, 503, both down");
	cJSON_Delete(doc);
	settle(&r, st);
	check("/healthz answered by the service's own check",
	      get("GET", "/healthz", "QUERY_STRING=mine", NULL, &r), 200, &r, NULL, "custom");
	check("/healthz is answered for any method",
	      get("POST", "/healthz", "QUERY_STRING=mine", NULL, &r), 200, &r, NULL, "custom");

	st = get("GET", "/metrics", NULL, NULL, &r);
	int mok = st == 200 && strstr(r.raw, "Content-Type: text/plain; version=0.0.4\r\n") != NULL;
	static const char *const cls[5] = {"other", "2xx", "3xx", "4xx", "5xx"};
	for (int i = 0; i < 5 && mok; i++) {
		snprintf(want, sizeof(want),
			 "shomei_requests_total{service=\"test\",code=\"%s\"} %llu\n", cls[i],
			 counted[i]);
		mok = strstr(r.body, want) != NULL;
		if (!mok)
			printf("# want %s", want);
	}
	snprintf(want, sizeof(want), "shomei_unavailable_total{service=\"test\"} %llu\n",
		 unavailable);
	TAP_OK(mok && strstr(r.body, want) != NULL &&
		       strstr(r.body, "shomei_request_seconds_sum{service=\"test\"} ") != NULL,
	       "/metrics counts every response by class (2xx %llu, 4xx %llu, 5xx %llu), 503s %llu",
	       counted[1], counted[3], counted[4], unavailable);
	if (!mok)
		diag(r.body);
	settle(&r, st);

	TAP_OK(kill(pid, SIGTERM) == 0 && reap(pid) == 0, "SIGTERM: the service exits 0");
	TAP_OK(access(sockpath, F_OK) != 0 && access(pidfile, F_OK) != 0,
	       "... and removes its socket and pid file");
}

/* With real servers: the runtime's /healthz reports them up. */
static void
test_health_servers(const char *dbci, const char *redis)
{
	char *argv[] = {"shomei-test", "-c", conf, NULL};
	char text[2048];
	struct resp r;
	pid_t pid;
	int st;

	snprintf(text, sizeof(text),
		 "db = %s\nredis_socket = %s\nsocket_dir = %s\nthreads = 2\nlog_level = error\n",
		 dbci ? dbci : DEAD_DB, redis ? redis : DEAD_REDIS, sockdir);
	write_conf(conf, text);
	pid = spawn(argv, NULL);
	if (pid < 0 || wait_listening(pid) != 0) {
		char *e = util_read_file(errfile, 4096, NULL);
		TAP_OK(0, "servers: the service listens");
		diag(e);
		free(e);
		if (pid > 0)
			reap(pid);
		return;
	}
	st = get("GET", "/healthz", NULL, NULL, &r);
	cJSON *doc = cJSON_Parse(r.body ? r.body : "");
	const char *pg = jstr(doc, "postgresql", NULL), *rd = jstr(doc, "redis", NULL);
	TAP_OK(st == (dbci && redis ? 200 : 503) && pg && rd &&
		       strcmp(pg, dbci ? "up" : "down") == 0 &&
		       strcmp(rd, redis ? "up" : "down") == 0,
	       "servers: /healthz %d, postgresql %s, redis %s", st, pg ? pg : "?", rd ? rd : "?");
	cJSON_Delete(doc);
	settle(&r, st);
	if (dbci != NULL) {
		/* the request's connection went back to the pool: open, idle, none in use */
		for (int i = 0; i < 3; i++) {
			st = get("GET", "/healthz", NULL, NULL, &r);
			settle(&r, st);
		}
		st = get("GET", "/metrics", NULL, NULL, &r);
		TAP_OK(st == 200 && r.body != NULL &&
			       strstr(r.body, "shomei_db_pool_in_use{service=\"test\"} 0\n") !=
				       NULL &&
			       strstr(r.body, "shomei_db_pool_idle{service=\"test\"} 1\n") !=
				       NULL &&
			       strstr(r.body,
				      "shomei_db_pool_connects_total{service=\"test\"} 1\n") !=
				       NULL,
		       "servers: 4 requests in turn used one pooled connection, given back after each");
		if (st == 200 &&
		    strstr(r.body, "shomei_db_pool_idle{service=\"test\"} 1\n") == NULL)
			diag(r.body);
		settle(&r, st);
	}
	TAP_OK(kill(pid, SIGTERM) == 0 && reap(pid) == 0, "servers: SIGTERM, exit 0");
}

/* A port nobody listens on now (the kernel's pick for port 0; taken again by the child). */
static int
free_port(void)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

	if (fd >= 0 && bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sin, &len) == 0)
		port = ntohs(sin.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

/* listen = 127.0.0.1:PORT: FastCGI on TCP, no unix socket; a bad value stops the service. */
static void
test_tcp(void)
{
	char *argv[] = {"shomei-test", "-c", conf, NULL};
	char text[1024], tcp[32], params_p[64];
	const char *params[] = {"REQUEST_METHOD=GET", params_p, NULL};
	struct resp r;
	pid_t pid;
	int port = free_port(), st = -1;

	snprintf(text, sizeof(text),
		 "db = %s\nredis_socket = %s\nsocket_dir = %s\nthreads = 2\nlog_level = error\n"
		 "listen = nonsense\n",
		 DEAD_DB, DEAD_REDIS, sockdir);
	write_conf(conf, text);
	TAP_OK(run(argv, NULL) == 1 && file_has(errfile, "event=listen_bad"),
	       "listen without host:port: exit 1, listen_bad logged");
	snprintf(text, sizeof(text),
		 "db = %s\nredis_socket = %s\nsocket_dir = %s\nthreads = 2\nlog_level = error\n"
		 "listen = 127.0.0.1:%d\n",
		 DEAD_DB, DEAD_REDIS, sockdir, port);
	write_conf(conf, text);
	snprintf(tcp, sizeof(tcp), "tcp:%d", port);
	snprintf(params_p, sizeof(params_p), "DOCUMENT_URI=/api/ok");
	if ((pid = spawn(argv, NULL)) < 0)
		return;
	for (int i = 0; i < 500 && st != 200; i++) {
		st = fcgi_request(tcp, params, NULL, 0, &r) == 0 ? r.status : -1;
		if (st != 200) {
			free(r.raw);
			r.raw = NULL;
			usleep(10000);
		}
	}
	TAP_OK(st == 200 && r.body_len == 2 && memcmp(r.body, "ok", 2) == 0,
	       "listen = 127.0.0.1:%d: GET /api/ok over TCP answers 200", port);
	free(r.raw);
	TAP_OK(access(sockpath, F_OK) != 0, "... and no unix socket is made");
	snprintf(params_p, sizeof(params_p), "DOCUMENT_URI=/metrics");
	st = fcgi_request(tcp, params, NULL, 0, &r) == 0 ? r.status : -1;
	TAP_OK(st == 200 && r.body != NULL &&
		       strstr(r.body, "shomei_route_requests_total{service=\"test\",method=\"GET\","
				      "route=\"/api/ok\",code=\"2xx\"} ") != NULL &&
		       strstr(r.body, "# TYPE shomei_request_seconds histogram\n") != NULL &&
		       strstr(r.body,
			      "shomei_request_seconds_bucket{service=\"test\",le=\"+Inf\"} ") !=
			       NULL &&
		       strstr(r.body, "shomei_db_pool_size{service=\"test\"} 16\n") != NULL,
	       "/metrics: requests by route, the latency histogram, the pool's size (16)");
	if (st != 200)
		diag(r.raw);
	free(r.raw);
	TAP_OK(kill(pid, SIGTERM) == 0 && reap(pid) == 0, "SIGTERM: exit 0");
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

int
main(void)
{
	const char *dbci = fixture_env("SHOMEI_TEST_DB"), *redis = fixture_env("SHOMEI_TEST_REDIS");

	alarm(110); /* a child that hangs fails the test instead of blocking it */
	signal(SIGPIPE, SIG_IGN);
	test_invalid();
	test_reqid();
	test_cache_control();
	test_fail();
	if (mkdtemp(tmp) == NULL) {
		TAP_OK(0, "a temporary directory");
		return tap_done();
	}
	snprintf(sockdir, sizeof(sockdir), "%s/sock", tmp);
	snprintf(sockpath, sizeof(sockpath), "%s/test.sock", sockdir);
	snprintf(conf, sizeof(conf), "%s/shomei.conf", tmp);
	snprintf(pidfile, sizeof(pidfile), "%s/test.pid", tmp);
	snprintf(outfile, sizeof(outfile), "%s/stdout", tmp);
	snprintf(errfile, sizeof(errfile), "%s/stderr", tmp);
	mkdir(sockdir, 0700);
	test_args();
	test_start_failures();
	test_serve();
	test_tcp();
	if (dbci != NULL || redis != NULL)
		test_health_servers(dbci, redis);
	else
		printf("# SHOMEI_TEST_DB and SHOMEI_TEST_REDIS not set: /healthz not checked with "
		       "servers up\n");
	nftw(tmp, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	return tap_done();
}
