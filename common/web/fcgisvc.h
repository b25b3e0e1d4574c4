/* fcgisvc.h: the runtime every FastCGI service shares: threads, routing, health, metrics. */
#ifndef SHOMEI_FCGISVC_H
#define SHOMEI_FCGISVC_H

#include <stddef.h>

#include "core/cfg.h"
#include "core/strbuf.h"
#include "store/db.h"
#include "web/http.h"
#include "web/i18n.h"
#include "store/kv.h"

/*
 * One accepting thread: its Redis connection, and a PostgreSQL handle that borrows from the
 * process's pool (db_pool) for each request.
 */
struct svc_thread {
	struct db db;
	struct kv kv;
	const struct cfg *cfg;
	int index;
};

/*
 * A handler sends its response and returns 0, or returns a negative -Exxx
 * without sending (the runtime answers 503 for -EIO, 500 otherwise).
 */
typedef int (*svc_handler)(struct http_req *req, struct svc_thread *t);

struct route {
	const char *method;  /* "GET", "POST", …; "*" takes any method */
	const char *pattern; /* "/api/users/{id}" */
	int flags;           /* ROUTE_SESSION, ROUTE_UPLOAD, ROUTE_INTERNAL; 0: public */
	svc_handler fn;
};

enum {
	ROUTE_SESSION = 1, /* refused with 401 unless nginx passed SHOMEI_ADMIN_ID */
	ROUTE_UPLOAD = 2,  /* a file upload: the body may be max_upload bytes, not max_body */
	/* a service-to-service route: answered 404 unless nginx's internal listener passed
	 * SHOMEI_LISTENER=internal (the handler still authenticates the calling service) */
	ROUTE_INTERNAL = 4,
};

struct svc {
	const char *name; /* "auth": listens on <socket_dir>/auth.sock */
	const struct route *routes;
	size_t nroutes;
	svc_handler health; /* answers /healthz instead of the PostgreSQL + Redis check, or NULL */
	const struct cfg_section *sections; /* the service's own configuration sections */
	size_t nsections;
	/* appends the service's own series to /metrics (Prometheus text, HELP and TYPE), or NULL */
	void (*metrics)(struct strbuf *b, struct svc_thread *t);
};

/*
 * Parse -c config, -n (check and exit), -p pidfile, -r (print the routes and
 * exit: the table, then /healthz and /metrics); listen; run the threads until
 * SIGTERM or SIGINT. Returns the process exit code.
 */
int svc_main(const struct svc *svc, int argc, char **argv);

/*
 * Called once after the configuration is loaded and before the accepting
 * threads start (background workers start here); cfg lives as long as the
 * process. Non-zero stops the service.
 */
typedef int (*svc_start_fn)(const struct cfg *cfg);

/* svc_main with a start hook. */
int svc_main_start(const struct svc *svc, svc_start_fn start, int argc, char **argv);

/* Answer a validation failure: 422 with every field error (fields is consumed). */
void svc_invalid(struct http_req *req, cJSON *fields);

/*
 * Answer a refused upload: 422 with one entry {line (when > 0), field "file", message}, as the
 * per-line errors of a checked file are, so one client code shows both.
 */
void svc_file_error(struct http_req *req, int line, const char *msg);

/* Answer with a message from the i18n table. */
void svc_fail(struct http_req *req, int status, const char *code, const struct i18n_text *msg);

#endif
