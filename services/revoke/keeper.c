/*
 * keeper.c: keeps nginx's administrator CRL file current (DECISIONS.md, "CRLs for nginx").
 * nginx's ssl_crl refuses every client certificate once a CRL of the chain has passed its
 * nextUpdate, and learns of a revoked administrator certificate only from a new file. Every
 * crl_check_interval seconds one thread looks at the file: when it is missing, a CRL expires
 * within half of crl_days, or the revoked administrator certificates in the database are not
 * those it lists, the root and administrator CA CRLs are built again, signed by shomei-signer,
 * committed (CRL numbers), written atomically, and nginx is sent SIGHUP (nginx_pid_file).
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/cfg.h"
#include "domain/crlpub.h"
#include "extern.h"
#include "core/log.h"
#include "pki/signer.h"
#include "core/util.h"
#include "pki/x509.h"

struct keeper {
	const struct cfg *cfg;
	struct db db;
	struct signer_conn signer;
	char sock[PATH_MAX];
	char path[PATH_MAX];
};

static struct keeper g_keeper;

/* crlpub_sign_fn: shomei-signer signs (tenant 0: the root or the administrator CA, by issuer). */
static int
sign_by_signer(void *arg, const char *kind, const char *key_file, X509_CRL *crl, X509_CRL **out)
{
	struct keeper *k = arg;
	char reason[256] = "";
	int rc;

	(void)key_file;
	if ((rc = signer_sign_crl(&k->signer, 0, crl, out, reason, sizeof(reason))) != 0)
		log_msg(LOG_ERROR, "event=crl_sign_failed kind=%s rc=%d reason=\"%s\"", kind, rc,
			reason);
	return rc;
}

/* SIGHUP to the nginx master named by nginx_pid_file, when there is one. */
static void
reload_nginx(const struct cfg *cfg)
{
	char buf[32] = "";
	long pid;
	FILE *f;

	if (revoke_cfg.nginx_pid_file == NULL || revoke_cfg.nginx_pid_file[0] == '\0')
		return;
	if ((f = fopen(revoke_cfg.nginx_pid_file, "r")) == NULL) {
		log_msg(LOG_WARN, "event=nginx_reload_failed reason=\"no pid file\"");
		return;
	}
	if (fgets(buf, sizeof(buf), f) == NULL)
		buf[0] = '\0';
	fclose(f);
	pid = strtol(buf, NULL, 10);
	if (pid <= 1 || pid > INT_MAX || kill((pid_t)pid, SIGHUP) != 0) {
		log_msg(LOG_WARN, "event=nginx_reload_failed pid=%ld errno=%d", pid, errno);
		return;
	}
	log_msg(LOG_INFO, "event=nginx_reloaded pid=%ld", pid);
}

/* One look at the file; publish when it is stale. 1 published, 0 nothing to do, <0 failed. */
static int
tick(struct keeper *k)
{
	struct crlpub_info info[2];
	char *pem = NULL, err[256];
	size_t len = 0;
	int rc;

	rc = crlpub_stale(&k->db, k->path, (time_t)revoke_cfg.crl_days * 86400 / 2);
	if (rc <= 0)
		return rc;
	if ((rc = db_begin(&k->db)) != 0)
		return -EIO;
	if ((rc = crlpub_build(&k->db, revoke_cfg.crl_days, sign_by_signer, k, &pem, &len, info,
			       err, sizeof(err))) != 0) {
		db_rollback(&k->db);
		log_msg(LOG_ERROR, "event=crl_publish_failed rc=%d reason=\"%s\"", rc, err);
		return rc < 0 ? rc : -EIO;
	}
	/* numbers first: a file that failed to be written only leaves a gap in them */
	if ((rc = db_commit(&k->db)) != 0) {
		free(pem);
		return -EIO;
	}
	/* nginx never reads half a file: a temporary file beside it, renamed over it */
	rc = util_write_file(k->path, pem, len, 0644);
	free(pem);
	if (rc != 0) {
		log_msg(LOG_ERROR, "event=crl_write_failed path=%s errno=%d", k->path, -rc);
		return rc;
	}
	log_msg(LOG_INFO,
		"event=crl_published path=%s root_crl=%lld admin_crl=%lld revoked=%zu days=%d",
		k->path, info[0].number, info[1].number, info[1].revoked, revoke_cfg.crl_days);
	reload_nginx(k->cfg);
	return 1;
}

static void *
run(void *arg)
{
	struct keeper *k = arg;

	for (;;) {
		if (tick(k) < 0)
			log_msg(LOG_WARN, "event=crl_keeper_retry in=%d",
				revoke_cfg.crl_check_interval);
		sleep((unsigned)revoke_cfg.crl_check_interval);
	}
	return NULL;
}

int
keeper_start(const struct cfg *cfg)
{
	struct keeper *k = &g_keeper;
	pthread_t tid;
	int rc;

	k->cfg = cfg;
	if (revoke_cfg.admin_crl_file != NULL && revoke_cfg.admin_crl_file[0] != '\0')
		rc = snprintf(k->path, sizeof(k->path), "%s", revoke_cfg.admin_crl_file);
	else
		rc = snprintf(k->path, sizeof(k->path), "%s/admin-crl.pem", cfg->ca_dir);
	if (rc < 0 || (size_t)rc >= sizeof(k->path))
		return -ENAMETOOLONG;
	if ((rc = cfg_socket_path(cfg, "signer", k->sock, sizeof(k->sock))) != 0 ||
	    (rc = db_init(&k->db, cfg->db)) != 0)
		return rc;
	signer_conn_init(&k->signer, k->sock);
	if ((rc = pthread_create(&tid, NULL, run, k)) != 0)
		return -rc;
	pthread_detach(tid);
	log_msg(LOG_INFO, "event=crl_keeper_started path=%s every=%d days=%d", k->path,
		revoke_cfg.crl_check_interval, revoke_cfg.crl_days);
	return 0;
}
