/*
 * internal.c: POST /internal/revocations {tenant, ids, reason?, revoke_on?, admin_id?,
 * remote_addr?}, the one place where other services (2次削除 and CSV一括利用者マスター削除 in
 * shomei-users, renewal in shomei-download) revoke (DECISIONS.md, "The internal revocation
 * API"). nginx serves it on its internal listener only (a unix socket in a directory of the
 * services'); the caller names itself in X-Shomei-Service and proves it with its token
 * (Authorization: Bearer), whose SHA-256 [revoke] internal_clients holds. The revocation is
 * api.c's: one transaction, rows locked, all or nothing, the same JSON errors.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "core/json.h"
#include "core/log.h"
#include "core/util.h"
#include "extern.h"

#define CLIENTS_MAX 16
#define CLIENT_NAME_MAX 32
#define TOKEN_MAX 512

struct client {
	char name[CLIENT_NAME_MAX + 1];
	unsigned char hash[SHA256_DIGEST_LENGTH];
};

static struct client clients[CLIENTS_MAX];
static size_t nclients;

static const struct db_stmt q_tenant_exists = {
	"internal_tenant",
	"SELECT 1 FROM tenants WHERE id = $1::bigint",
	1,
};

static const struct db_stmt q_admin_of = {
	"internal_admin",
	"SELECT 1 FROM admins WHERE tenant_id = $1::bigint AND id = $2::bigint",
	2,
};

static const struct i18n_text msg_internal_auth = {
	{"呼び出し元のサービスを認証できません。", "The calling service is not authenticated."}};
static const struct i18n_text msg_tenant_field = {
	{"tenant には利用法人の ID（正の整数）を指定してください。",
	 "tenant must be the tenant's id (a positive integer)."}};
static const struct i18n_text msg_tenant_missing = {
	{"利用法人が見つかりません。何も変更していません。",
	 "The tenant was not found. Nothing was changed."}};
static const struct i18n_text msg_admin_field = {
	{"admin_id にはこの利用法人の管理者の ID を指定してください。",
	 "admin_id must be an administrator of this tenant."}};
static const struct i18n_text msg_addr_field = {
	{"remote_addr は 64 文字以内の IP アドレスで指定してください。",
	 "remote_addr must be an IP address of at most 64 characters."}};

/* A whole positive number that a long long and a double both hold exactly. */
static int
is_id(const cJSON *v)
{
	double d = v != NULL ? v->valuedouble : 0;

	return cJSON_IsNumber(v) && isfinite(d) && d == floor(d) && d >= 1 &&
	       d <= 9007199254740991.0;
}

static int
name_ok(const char *s, size_t n)
{
	if (n == 0 || n > CLIENT_NAME_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!(islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) || s[i] == '-'))
			return 0;
	return 1;
}

/* One "name:<64 hex>" entry of internal_clients. */
static int
parse_client(const char *s, size_t n, struct client *c)
{
	const char *colon = memchr(s, ':', n);
	size_t nl, hl;

	if (colon == NULL)
		return -1;
	nl = (size_t)(colon - s);
	hl = n - nl - 1;
	if (!name_ok(s, nl) || hl != 2 * SHA256_DIGEST_LENGTH)
		return -1;
	memcpy(c->name, s, nl);
	c->name[nl] = '\0';
	for (size_t i = 0; i < SHA256_DIGEST_LENGTH; i++) {
		int hi = util_hexval(colon[1 + 2 * i]), lo = util_hexval(colon[2 + 2 * i]);
		if (hi < 0 || lo < 0)
			return -1;
		c->hash[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

int
internal_start(const struct cfg *cfg)
{
	const char *p = revoke_cfg.internal_clients;

	(void)cfg;
	nclients = 0;
	while (p != NULL && *p != '\0') {
		size_t n;

		while (*p == ' ' || *p == ',')
			p++;
		if (*p == '\0')
			break;
		n = strcspn(p, ", ");
		if (nclients == CLIENTS_MAX || parse_client(p, n, &clients[nclients]) != 0) {
			log_msg(LOG_ERROR, "event=config_invalid key=internal_clients entry=%zu",
				nclients + 1);
			return CFG_E_VALUE;
		}
		nclients++;
		p += n;
	}
	log_msg(LOG_INFO, "event=internal_clients count=%zu", nclients);
	return 0;
}

/*
 * Whether the request carries the token of the service it names. The token's SHA-256 is
 * compared in constant time with the named client's (an unknown name with a dummy's, so the
 * time says nothing either). *caller: the name as sent, made safe for the log.
 */
static int
authenticated(const struct http_req *req, char caller[CLIENT_NAME_MAX + 1], const char **why)
{
	const char *svc = FCGX_GetParam("HTTP_X_SHOMEI_SERVICE", req->envp);
	const char *auth = FCGX_GetParam("HTTP_AUTHORIZATION", req->envp);
	static const unsigned char dummy[SHA256_DIGEST_LENGTH];
	const unsigned char *want = dummy;
	unsigned char got[SHA256_DIGEST_LENGTH];
	size_t tl;
	int known = 0, same;

	snprintf(caller, CLIENT_NAME_MAX + 1, "-");
	if (svc == NULL || !name_ok(svc, strlen(svc))) {
		*why = svc == NULL ? "no_service" : "bad_service";
		return 0;
	}
	snprintf(caller, CLIENT_NAME_MAX + 1, "%s", svc);
	if (auth == NULL || strncmp(auth, "Bearer ", 7) != 0 || (tl = strlen(auth + 7)) == 0 ||
	    tl > TOKEN_MAX) {
		*why = auth == NULL ? "no_token" : "bad_token";
		return 0;
	}
	for (size_t i = 0; i < nclients; i++)
		if (strcmp(clients[i].name, svc) == 0) {
			want = clients[i].hash;
			known = 1;
		}
	SHA256((const unsigned char *)auth + 7, tl, got);
	same = CRYPTO_memcmp(got, want, sizeof(got)) == 0;
	OPENSSL_cleanse(got, sizeof(got));
	*why = !known ? "unknown_service" : !same ? "wrong_token" : NULL;
	return known && same;
}

/* tenant, admin_id, remote_addr of the body; failures into errs. */
static void
check_who(const cJSON *body, struct revoke_who *w, cJSON *errs, int lang)
{
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(body, "tenant");
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(body, "admin_id");
	const cJSON *ip = cJSON_GetObjectItemCaseSensitive(body, "remote_addr");

	if (!is_id(t))
		json_field_error(errs, "tenant", i18n_msg(&msg_tenant_field, lang));
	else
		w->tenant_id = (long long)t->valuedouble;
	if (a != NULL && !cJSON_IsNull(a)) {
		if (!is_id(a))
			json_field_error(errs, "admin_id", i18n_msg(&msg_admin_field, lang));
		else
			w->admin_id = (long long)a->valuedouble;
	}
	if (ip != NULL && !cJSON_IsNull(ip)) {
		size_t n = cJSON_IsString(ip) ? strlen(ip->valuestring) : 0;
		int bad = n == 0 || n > 64;
		for (size_t i = 0; i < n && !bad; i++)
			bad = !(isxdigit((unsigned char)ip->valuestring[i]) ||
				strchr(".:", ip->valuestring[i]) != NULL);
		if (bad)
			json_field_error(errs, "remote_addr", i18n_msg(&msg_addr_field, lang));
		else
			w->ip = ip->valuestring;
	}
}

/* The tenant exists, and the administrator (when named) is one of it: 0, 404 or 422. */
static int
check_tenant(struct db *db, const struct revoke_who *w, int *status, cJSON *errs)
{
	char tid[24], aid[24];
	const char *p[] = {tid, aid};
	PGresult *res = NULL;
	int rc;

	snprintf(tid, sizeof(tid), "%lld", w->tenant_id);
	snprintf(aid, sizeof(aid), "%lld", w->admin_id);
	*status = 0;
	if ((rc = db_exec(db, &q_tenant_exists, p, &res)) != 0)
		return rc < 0 ? rc : -EIO;
	if (PQntuples(res) != 1)
		*status = 404;
	PQclear(res);
	if (*status != 0 || w->admin_id == 0)
		return 0;
	if ((rc = db_exec(db, &q_admin_of, p, &res)) != 0)
		return rc < 0 ? rc : -EIO;
	if (PQntuples(res) != 1) {
		json_field_error(errs, "admin_id", i18n_msg(&msg_admin_field, w->lang));
		*status = 422;
	}
	PQclear(res);
	return 0;
}

int
internal_revocations(struct http_req *req, struct svc_thread *t)
{
	char caller[CLIENT_NAME_MAX + 1];
	const char *why = NULL;
	cJSON *body = NULL, *errs = cJSON_CreateArray();
	struct revoke_body *b = calloc(1, sizeof(*b));
	struct revoke_who w = {0, NULL, 0, req->lang};
	PGresult *res = NULL;
	int rc = 0, status = 0;

	if (b == NULL || errs == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	if (!authenticated(req, caller, &why)) {
		log_msg(LOG_WARN, "event=internal_refused caller=%s reason=%s path=%s", caller, why,
			req->path);
		svc_fail(req, 401, "unauthorized", &msg_internal_auth);
		goto out;
	}
	if (json_parse_object(req->body, req->body_len, &body) != 0) {
		log_msg(LOG_INFO, "event=internal_call caller=%s status=400", caller);
		svc_fail(req, 400, "bad_json", &msg_bad_json);
		goto out;
	}
	check_who(body, &w, errs, req->lang);
	revoke_check_body(body, 0, b, errs, req->lang);
	if (cJSON_GetArraySize(errs) == 0 && (rc = check_tenant(&t->db, &w, &status, errs)) != 0)
		goto out;
	if (status == 404) {
		log_msg(LOG_INFO, "event=internal_call caller=%s tenant=%lld status=404", caller,
			w.tenant_id);
		svc_fail(req, 404, "not_found", &msg_tenant_missing);
		goto out;
	}
	if (cJSON_GetArraySize(errs) > 0) {
		log_msg(LOG_INFO, "event=internal_call caller=%s tenant=%lld status=422", caller,
			w.tenant_id);
		svc_invalid(req, errs);
		errs = NULL;
		goto out;
	}
	int mode = b->date[0] != '\0' ? REVOKE_SCHEDULE : REVOKE_NOW;
	if ((rc = revoke_apply(&t->db, &w, mode, b, &res, &status, errs)) != 0)
		goto out;
	log_msg(LOG_INFO,
		"event=internal_call caller=%s tenant=%lld admin=%lld count=%zu on=%s reason=%d "
		"status=%d",
		caller, w.tenant_id, w.admin_id, b->n, b->date[0] ? b->date : "now", b->reason,
		status);
	if (status != 200) {
		revoke_refuse(req, status, errs);
		errs = NULL;
		goto out;
	}
	revoke_answer(req, res);
out:
	PQclear(res);
	cJSON_Delete(body);
	cJSON_Delete(errs);
	free(b);
	return rc;
}
