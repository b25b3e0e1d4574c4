/*
 * jobs.h: the jobs a file upload becomes (CSV一括登録, CSV一括失効, …), run by a worker thread
 * in every instance of the service that owns the kind. A job belongs to the worker holding its
 * session advisory lock, so two instances never run one job and a killed worker's job is free
 * the moment its connection drops. A kind's run function commits its work in chunks, each with
 * jobs_progress() in the same transaction, so a job resumes exactly where the last commit left
 * it (DECISIONS.md, "CSV一括登録 as jobs").
 */
#ifndef SHOMEI_JOBS_H
#define SHOMEI_JOBS_H

#include <cjson/cJSON.h>

#include "core/cfg.h"
#include "domain/audit.h"
#include "store/db.h"
#include "store/kv.h"

/* A job as its run function sees it (strings owned by the runner). */
struct job {
	long long id, tenant_id, admin_id;
	int processed, total, admin_download;
	char *kind, *filename, *input, *ip;
	cJSON *params; /* jobs.params: the kind's own settings ({} when none) */
};

/*
 * Run what is left of j (from j->processed): commit chunks with jobs_progress() inside each;
 * put the reasons into errs when the job cannot finish (it ends failed); errs comes with the
 * errors earlier chunks committed (jobs_add_errors); *units: what the job
 * made or changed, for the history entry. 0, or -errno for a failure worth retrying later (the
 * job stays open).
 */
typedef int (*jobs_run_fn)(struct db *db, struct kv *kv, struct job *j, cJSON *errs,
			   long long *units);

struct jobs_kind {
	const char *kind;         /* jobs.kind */
	enum audit_action action; /* its history entries */
	const char
		*unit; /* "証明書", for "完了 f.csv (N 行, 証明書 M)"; a word of audit.c's table */
	jobs_run_fn run;
};

/* Start the worker thread for these kinds (the array must outlive the process). 0 or -errno. */
int jobs_start(const struct cfg *cfg, const struct jobs_kind *kinds, size_t n);

/* Wake this process's worker (a job was just queued). */
void jobs_wake(void);

/* A job to queue: the checked upload and what its kind needs. */
struct jobs_new {
	long long tenant_id, admin_id;
	const char *kind;     /* jobs.kind */
	const char *filename; /* as uploaded */
	const char *input;    /* the file as UTF-8 text */
	const char *ip;       /* the requester's address, NULL = none */
	const char *encoding; /* what csv_decode found */
	const char *params;   /* the kind's settings as JSON text, NULL = {} */
	int total, devices, admin_download;
	const struct audit_more
		*more; /* the history entry's code and parameters (audit_write_ex) */
};

/* Insert the job and its history entry e in one transaction; *id its id. The caller calls
 * jobs_wake() after. 0 or -errno (nothing queued). */
int jobs_queue(struct db *db, const struct jobs_new *n, const struct audit_entry *e, long long *id);

/* Inside a chunk's transaction: the job has now done `done` of its total. 0 or -EIO. */
int jobs_progress(struct db *db, long long job_id, int done);

/*
 * Inside a chunk's transaction: rows the chunk could not take (errs, {line, field, message}) are
 * added to the job's errors, so a job resumed after a kill still reports them (the run function
 * gets them back in its errs) and ends failed. 0, -ENOMEM or -EIO.
 */
int jobs_add_errors(struct db *db, long long job_id, const cJSON *errs);

#endif
