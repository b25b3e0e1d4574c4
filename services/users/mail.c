/*
 * mail.c: the mail worker of shomei-users. Threads claim queued notices with FOR UPDATE SKIP
 * LOCKED (any number of threads in any number of processes: each row is sent by one), render
 * them from the template files, send them over SMTP with libcurl and record the outcome in the
 * same transaction: sent; a 4xx answer or no connection: again later, with backoff; a 5xx
 * answer: failed with the server's answer. Another thread queues the expiry reminders that fall
 * due (domain/notice.c). Both say they are alive in Redis for /healthz.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "core/log.h"
#include "core/util.h"
#include "domain/notice.h"
#include "domain/tenant.h"
#include "extern.h"
#include "mime.h"
#include "tmpl.h"

#define MAIL_BATCH 10        /* rows a transaction */
#define MAIL_ALIVE_TTL "30"  /* seconds the worker's heartbeat lasts in Redis */
#define MAIL_SMTP_TTL "3600" /* how long the SMTP server's last answer is reported */

/* clang-format off */
static const struct db_stmt q_claim = {
	"mail_claim",
	"SELECT n.id, n.tenant_id, n.to_addr, n.kind, n.lang, n.params::text AS params, n.attempts,"
	" coalesce(n.certificate_id, 0) AS certificate_id, t.slug, t.name, t.name_en,"
	" t.mail_from, t.mail_reply_to,"
	" " TENANT_SQL_HAS("t", TENANT_F_DOWNLOAD_SITE) " AS site"
	" FROM notifications n JOIN tenants t ON t.id = n.tenant_id"
	" WHERE n.status = 'queued' AND n.next_attempt_at <= now()"
	" ORDER BY n.next_attempt_at, n.id LIMIT 10 FOR UPDATE OF n SKIP LOCKED", /* MAIL_BATCH */
	0,
};

static const struct db_stmt q_sent = {
	"mail_sent",
	"UPDATE notifications SET status = 'sent', sent_at = now(), last_attempt_at = now(),"
	" attempts = attempts + 1, subject = $2, message_id = $3, last_error = NULL WHERE id = $1",
	3,
};

/* $4: 1 = permanent; else again after base * 2^attempts seconds (at most an hour) unless the
 * attempts are used up */
static const struct db_stmt q_failed = {
	"mail_failed",
	"UPDATE notifications SET attempts = attempts + 1, last_attempt_at = now(), subject = $2,"
	" last_error = $3,"
	" status = CASE WHEN $4::int = 1 OR attempts + 1 >= $5::int THEN 'failed' ELSE 'queued' END,"
	" next_attempt_at = now() + make_interval(secs => least(3600, $6::int * power(2, attempts)))"
	" WHERE id = $1",
	6,
};

static const struct db_stmt q_link = {
	"mail_link",
	"INSERT INTO notice_links (notification_id, tenant_id, certificate_id, token_sha256, expires_at)"
	" VALUES ($1, $2, $3, decode($4, 'hex'), now() + make_interval(hours => $5::int))"
	" ON CONFLICT (notification_id) DO UPDATE SET token_sha256 = excluded.token_sha256,"
	" expires_at = excluded.expires_at, used_at = NULL",
	5,
};
/* clang-format on */

/* What the SMTP conversation ended with. */
struct smtp_out {
	char answer[512]; /* the last refusal the server sent, else its last reply line */
	int refused;      /* answer is a 4xx or 5xx line */
};

/* One worker thread's connections and its libcurl handle (kept: the SMTP connection too). */
struct mailer {
	struct db db;
	struct kv kv;
	CURL *curl;
	const struct cfg *cfg;
	char user[256], password[256]; /* AUTH, from smtp_auth_file; "" = none */
};

/* The upload: the message, read by libcurl. */
struct upload {
	const char *p;
	size_t left;
};

static size_t
read_cb(char *dst, size_t size, size_t n, void *arg)
{
	struct upload *u = arg;
	size_t k = size * n < u->left ? size * n : u->left;

	memcpy(dst, u->p, k);
	u->p += k;
	u->left -= k;
	return k;
}

/*
 * Keeps the last refusal (a 4xx or 5xx reply line) the server sent, else its last reply line
 * (libcurl passes SMTP replies as "headers in"); the QUIT after a refusal does not hide it.
 */
static int
debug_cb(CURL *c, curl_infotype type, char *data, size_t size, void *arg)
{
	struct smtp_out *o = arg;
	size_t n = size;

	(void)c;
	if (type != CURLINFO_HEADER_IN || size < 3)
		return 0;
	if (o->refused && !(data[0] == '4' || data[0] == '5'))
		return 0;
	o->refused = data[0] == '4' || data[0] == '5';
	while (n > 0 && (data[n - 1] == '\r' || data[n - 1] == '\n'))
		n--;
	if (n >= sizeof(o->answer))
		n = sizeof(o->answer) - 1;
	memcpy(o->answer, data, n);
	o->answer[n] = '\0';
	return 0;
}

/* AUTH user and password from the file: one line "user:password". */
static int
read_auth(struct mailer *m)
{
	const char *path = mail_cfg.smtp_auth_file;
	char *s, *colon, *nl;
	size_t len;

	if (path == NULL || path[0] == '\0')
		return 0;
	if ((s = util_read_file(path, 1024, &len)) == NULL)
		return -EACCES;
	if ((nl = strpbrk(s, "\r\n")) != NULL)
		*nl = '\0';
	if ((colon = strchr(s, ':')) == NULL || strlen(s) >= sizeof(m->user) ||
	    strlen(colon + 1) >= sizeof(m->password)) {
		OPENSSL_cleanse(s, len);
		free(s);
		return -EINVAL;
	}
	*colon = '\0';
	snprintf(m->user, sizeof(m->user), "%s", s);
	snprintf(m->password, sizeof(m->password), "%s", colon + 1);
	OPENSSL_cleanse(s, len);
	free(s);
	return 0;
}

/* Send msg from → to; 0 (accepted), or the libcurl code with out filled. */
static CURLcode
smtp_send(struct mailer *m, const char *from, const char *to, const char *msg, size_t len,
	  struct smtp_out *out)
{
	struct curl_slist *rcpt = curl_slist_append(NULL, to);
	struct upload u = {msg, len};
	CURLcode rc;
	char fromb[300];
	CURL *c = m->curl;

	if (rcpt == NULL)
		return CURLE_OUT_OF_MEMORY;
	snprintf(fromb, sizeof(fromb), "<%s>", from);
	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, mail_cfg.smtp_url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	curl_easy_setopt(c, CURLOPT_MAIL_FROM, fromb);
	curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
	curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(c, CURLOPT_READFUNCTION, read_cb);
	curl_easy_setopt(c, CURLOPT_READDATA, &u);
	curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_VERBOSE, 1L);
	curl_easy_setopt(c, CURLOPT_DEBUGFUNCTION, debug_cb);
	curl_easy_setopt(c, CURLOPT_DEBUGDATA, out);
	if (mail_cfg.smtp_starttls == MAIL_STARTTLS_REQUIRED)
		curl_easy_setopt(c, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
	if (mail_cfg.smtp_ca_file[0] != '\0')
		curl_easy_setopt(c, CURLOPT_CAINFO, mail_cfg.smtp_ca_file);
	if (m->user[0] != '\0') {
		curl_easy_setopt(c, CURLOPT_USERNAME, m->user);
		curl_easy_setopt(c, CURLOPT_PASSWORD, m->password);
	}
	rc = curl_easy_perform(c);
	curl_slist_free_all(rcpt);
	return rc;
}

/* The fields a template may use. The caller deletes it. */
static cJSON *
vars_of(const PGresult *res, int r, const char *link)
{
	const char *lang = db_get(res, r, "lang"), *slug = db_get(res, r, "slug");
	cJSON *v = cJSON_Parse(db_get(res, r, "params"));
	char url[1024];

	if (v == NULL || !cJSON_IsObject(v)) {
		cJSON_Delete(v);
		v = cJSON_CreateObject();
	}
	cJSON_AddStringToObject(v, "tenant_name",
				db_get(res, r, strcmp(lang, "en") == 0 ? "name_en" : "name"));
	cJSON_AddStringToObject(v, "tenant_slug", slug);
	cJSON_AddStringToObject(v, "portal_url", mail_public_url);
	snprintf(url, sizeof(url), "%s/dl/%s/", mail_public_url, slug);
	cJSON_AddStringToObject(v, "download_url", url);
	snprintf(url, sizeof(url), "%s/#/certificates", mail_public_url);
	cJSON_AddStringToObject(v, "certificates_url", url);
	snprintf(url, sizeof(url), "%s/#/outbox", mail_public_url);
	cJSON_AddStringToObject(v, "outbox_url", url);
	/* an expiry reminder's renewal page, naming the certificate (its device) to renew */
	if (mail_renew_url[0] != '\0' && db_get_ll(res, r, "certificate_id") > 0 &&
	    strcmp(db_get(res, r, "site"), "t") == 0) {
		snprintf(url, sizeof(url), "%s/dl/%s/renew?certificate=%s", mail_renew_url, slug,
			 db_get(res, r, "certificate_id"));
		cJSON_AddStringToObject(v, "renew_url", url);
	}
	if (link != NULL)
		cJSON_AddStringToObject(v, "link", link);
	return v;
}

/* The one-time link of a credentials notice: a new token, its SHA-256 stored. */
static int
make_link(struct mailer *m, const PGresult *res, int r, char *link, size_t len)
{
	unsigned char tok[32], h[SHA256_DIGEST_LENGTH];
	char t64[64], hhex[2 * SHA256_DIGEST_LENGTH + 1], ttl[16];
	PGresult *x = NULL;
	int rc;

	if (util_random(tok, sizeof(tok)) != 0)
		return -EIO;
	util_b64url(tok, sizeof(tok), t64);
	SHA256((const unsigned char *)t64, strlen(t64), h);
	util_hex(h, sizeof(h), hhex);
	snprintf(ttl, sizeof(ttl), "%d", mail_cfg.link_ttl_hours);
	const char *p[] = {db_get(res, r, "id"), db_get(res, r, "tenant_id"),
			   db_get(res, r, "certificate_id"), hhex, ttl};
	rc = db_exec(&m->db, &q_link, p, &x);
	PQclear(x);
	if (rc == 0)
		snprintf(link, len, "%s/credentials/%s", mail_public_url, t64);
	OPENSSL_cleanse(tok, sizeof(tok));
	OPENSSL_cleanse(t64, sizeof(t64));
	return rc < 0 ? rc : (rc ? -EIO : 0);
}

/*
 * Render and send row r. *subject gets the subject (for the row), *err why it failed; the
 * answer: 0 sent, 1 failed for good, 2 try again. -errno: the database failed (roll back).
 */
static int
deliver(struct mailer *m, const PGresult *res, int r, char *subject, size_t slen, char *msgid,
	size_t idlen, char *err, size_t elen)
{
	const char *kind = db_get(res, r, "kind"), *lang = db_get(res, r, "lang");
	const char *from = db_get(res, r, "mail_from"), *subj, *body, *fromname;
	char link[512], rnd[9], *src = NULL, *text = NULL, *html = NULL, *msg = NULL;
	unsigned char rb[4];
	struct smtp_out out = {0};
	cJSON *vars = NULL;
	size_t len = 0;
	int rc = 1, have_link = 0;
	CURLcode cc;

	subject[0] = err[0] = '\0';
	if (from == NULL || from[0] == '\0')
		from = mail_cfg.mail_from;
	fromname = db_get(res, r, strcmp(lang, "en") == 0 ? "name_en" : "name");
	if ((src = tmpl_load(mail_cfg.template_dir, kind, lang)) == NULL) {
		snprintf(err, elen, "no template %s.%s.txt in %s", kind, lang,
			 mail_cfg.template_dir);
		goto out;
	}
	if (strcmp(kind, "user_credentials") == 0) {
		if ((rc = make_link(m, res, r, link, sizeof(link))) != 0)
			goto out;
		have_link = 1;
		rc = 1;
	}
	vars = vars_of(res, r, have_link ? link : NULL);
	if (tmpl_render(src, vars, &text, &subj, &body) != 0) {
		snprintf(
			err, elen,
			"template %s.%s.txt: the first line must be \"Subject: \" and the second empty",
			kind, lang);
		goto out;
	}
	snprintf(subject, slen, "%s", subj);
	if (util_random(rb, sizeof(rb)) != 0) {
		rc = -EIO;
		goto out;
	}
	util_hex(rb, sizeof(rb), rnd);
	snprintf(msgid, idlen, "notice-%s.%s%s", db_get(res, r, "id"), rnd,
		 strchr(from, '@') != NULL ? strchr(from, '@') : "@shomei.invalid");
	if ((html = mime_text_html(body, lang)) == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	struct mime_msg mm = {from,
			      fromname,
			      db_get(res, r, "mail_reply_to"),
			      db_get(res, r, "to_addr"),
			      subj,
			      body,
			      html,
			      msgid,
			      lang,
			      time(NULL)};
	if ((msg = mime_build(&mm, &len)) == NULL) {
		if (errno == ENOMEM) {
			rc = -ENOMEM;
			goto out;
		}
		snprintf(err, elen, "an address is not one a mail may carry (from %s, to %s)", from,
			 mm.to);
		goto out;
	}
	cc = smtp_send(m, from, mm.to, msg, len, &out);
	if (cc == CURLE_OK) {
		rc = 0;
		goto out;
	}
	/* the refusal line the server sent decides: libcurl's response code may be another
	 * command's on a connection it kept */
	if (out.refused) {
		snprintf(err, elen, "%s", out.answer);
		rc = out.answer[0] == '5' ? 1 : 2;
	} else {
		snprintf(err, elen, "%s (%s)", curl_easy_strerror(cc), mail_cfg.smtp_url);
		rc = 2;
	}
out:
	if (text != NULL)
		OPENSSL_cleanse(text, strlen(text));
	if (msg != NULL)
		OPENSSL_cleanse(msg, len);
	OPENSSL_cleanse(link, sizeof(link));
	free(src);
	free(text);
	free(html);
	free(msg);
	cJSON_Delete(vars);
	return rc;
}

static int
record(struct mailer *m, const char *id, int outcome, const char *subject, const char *msgid,
       const char *err)
{
	char perm[4], max[16], base[16];
	PGresult *x = NULL;
	int rc;

	if (outcome == 0) {
		const char *p[] = {id, subject, msgid};
		rc = db_exec(&m->db, &q_sent, p, &x);
	} else {
		snprintf(perm, sizeof(perm), "%d", outcome == 1);
		snprintf(max, sizeof(max), "%d", mail_cfg.max_attempts);
		snprintf(base, sizeof(base), "%d", mail_cfg.retry_base);
		const char *p[] = {id, subject, err, perm, max, base};
		rc = db_exec(&m->db, &q_failed, p, &x);
	}
	PQclear(x);
	return rc < 0 ? rc : (rc ? -EIO : 0);
}

/* SET shomei:mail:<name> value EX ttl (best effort: /healthz reads it). */
static void
kv_set(struct mailer *m, const char *name, const char *value, const char *ttl)
{
	char key[64];
	const char *argv[] = {"SET", key, value, "EX", ttl};
	redisReply *r;

	if (kv_key(key, sizeof(key), "mail", name) != 0)
		return;
	if ((r = kv_cmdv(&m->kv, 5, argv)) != NULL)
		freeReplyObject(r);
}

/* Tell /healthz the worker lives and, when it tried the server, how the server answered. */
static void
heartbeat(struct mailer *m, int smtp_ok)
{
	kv_set(m, "alive", "up", MAIL_ALIVE_TTL);
	if (smtp_ok >= 0)
		kv_set(m, "smtp", smtp_ok ? "up" : "down", MAIL_SMTP_TTL);
}

/* One batch: claimed, sent, recorded, committed. The rows it handled, or -errno. */
static int
batch(struct mailer *m)
{
	char subject[512], msgid[256], err[600];
	PGresult *res = NULL;
	int rc, n = 0, smtp_ok = -1;

	if ((rc = db_begin(&m->db)) != 0)
		return rc < 0 ? rc : -EIO;
	if ((rc = db_exec(&m->db, &q_claim, NULL, &res)) != 0) {
		rc = rc < 0 ? rc : -EIO;
		goto out;
	}
	for (int r = 0; r < PQntuples(res); r++) {
		const char *id = db_get(res, r, "id");
		int o = deliver(m, res, r, subject, sizeof(subject), msgid, sizeof(msgid), err,
				sizeof(err));

		if (o < 0) {
			rc = o;
			goto out;
		}
		smtp_ok = o == 2 ? 0 : 1;
		log_msg(o == 0 ? LOG_INFO : LOG_WARN, "event=mail_%s id=%s kind=%s%s%s",
			o == 0   ? "sent"
			: o == 1 ? "failed"
				 : "deferred",
			id, db_get(res, r, "kind"), o ? " error=" : "", o ? err : "");
		if ((rc = record(m, id, o, subject, o == 0 ? msgid : NULL, err)) != 0)
			goto out;
		n++;
	}
	rc = db_commit(&m->db);
	rc = rc < 0 ? rc : (rc ? -EIO : 0);
out:
	if (rc != 0)
		db_rollback(&m->db);
	PQclear(res);
	heartbeat(m, smtp_ok);
	return rc != 0 ? rc : n;
}

static void
nap(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

static void *
mail_worker(void *arg)
{
	struct mailer *m = arg;
	int backoff = 500;

	for (;;) {
		int n = batch(m);

		if (n < 0) {
			log_msg(LOG_WARN, "event=mail_batch_failed rc=%d backoff_ms=%d", n,
				backoff);
			nap(backoff);
			backoff = backoff < 30000 ? backoff * 2 : 30000;
			continue;
		}
		backoff = 500;
		if (n < MAIL_BATCH)
			nap(mail_cfg.poll_ms);
	}
	return NULL;
}

/* The expiry reminders: every reminder_interval seconds, as of now. */
static void *
reminder_worker(void *arg)
{
	const struct cfg *cfg = arg;
	struct db db;

	if (db_init(&db, cfg->db) != 0)
		return NULL;
	for (;;) {
		long long r = 0, d = 0;
		int rc = notice_due(&db, time(NULL), &r, &d);

		if (rc != 0)
			log_msg(LOG_WARN, "event=reminders_failed rc=%d", rc);
		else if (r + d > 0)
			log_msg(LOG_INFO, "event=reminders_queued reminders=%lld digests=%lld", r,
				d);
		nap(mail_cfg.reminder_interval * 1000);
	}
	return NULL;
}

static int
spawn(void *(*fn)(void *), void *arg)
{
	pthread_t t;
	int rc;

	if ((rc = pthread_create(&t, NULL, fn, arg)) != 0)
		return -rc;
	pthread_detach(t);
	return 0;
}

const char *mail_public_url = "";
const char *mail_renew_url = "";

int
mail_start(const struct cfg *cfg)
{
	int rc;

	mail_public_url = cfg->public_url;
	mail_renew_url = cfg->renew_url;
	if (mail_cfg.workers == 0) /* this instance sends nothing: others do */
		return spawn(reminder_worker, (void *)cfg);
	for (int i = 0; i < mail_cfg.workers; i++) {
		struct mailer *m = calloc(1, sizeof(*m));

		if (m == NULL)
			return -ENOMEM;
		m->cfg = cfg;
		if ((rc = read_auth(m)) != 0) {
			log_msg(LOG_ERROR, "event=smtp_auth_file_unreadable file=%s",
				mail_cfg.smtp_auth_file);
			free(m);
			return rc;
		}
		if ((m->curl = curl_easy_init()) == NULL || db_init(&m->db, cfg->db) != 0 ||
		    kv_init(&m->kv, cfg->redis_socket, cfg->redis_host, cfg->redis_port) != 0) {
			free(m);
			return -ENOMEM;
		}
		if ((rc = spawn(mail_worker, m)) != 0)
			return rc;
	}
	return spawn(reminder_worker, (void *)cfg);
}
