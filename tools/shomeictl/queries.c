/* queries.c: every SQL statement shomeictl runs, with $n parameters only. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "domain/crlpub.h"
#include "extern.h"
#include "domain/lifecycle.h"

/* pg_advisory_xact_lock key serializing CA ceremonies ("shomeiCA"). */
#define LOCK_CA CRLPUB_LOCK

static const char sql_lock[] = "SELECT pg_advisory_xact_lock(" LOCK_CA ")";

static const char sql_ca_find[] =
	"SELECT id, cert_pem, key_file FROM cas "
	"WHERE active AND kind = $1 AND ($1 <> 'tenant' OR tenant_id = $2::bigint) "
	"ORDER BY id DESC LIMIT 1";

/* $1 tenant: its active issuing CA steps down (a rotation); the CA's row stays for its CRL */
static const char sql_ca_retire[] = "UPDATE cas SET active = false WHERE kind = 'tenant' AND "
				    "tenant_id = $1::bigint AND active RETURNING id";

static const char sql_ca_next_id[] = "SELECT nextval(pg_get_serial_sequence('cas', 'id')) AS id";

static const char sql_ca_insert[] =
	"INSERT INTO cas (id, kind, tenant_id, parent_id, subject, serial, cert_pem, key_file, "
	"not_before, not_after) VALUES ($1::bigint, $2, $3::bigint, $4::bigint, $5, $6, $7, $8, "
	"to_timestamp($9::bigint), to_timestamp($10::bigint))";

static const char sql_tenant_find[] = "SELECT id, slug, name, name_en FROM tenants WHERE slug = $1";

static const char sql_tenant_insert[] =
	"INSERT INTO tenants (slug, name, name_en, domain, quota, features) "
	"VALUES ($1, $2, $3, $4, $5::integer, string_to_array($6, ',')) RETURNING id";

static const char sql_org_insert[] =
	"INSERT INTO organizations (tenant_id, name) VALUES ($1::bigint, $2) "
	"ON CONFLICT (tenant_id, name) DO NOTHING";

static const char sql_tenant_update[] =
	"UPDATE tenants SET quota = COALESCE($2::integer, quota), "
	"features = COALESCE(string_to_array($3, ','), features), "
	"domain = COALESCE($4, domain), "
	"max_start_ahead_days = COALESCE($5::integer, max_start_ahead_days), updated_at = now() "
	"WHERE slug = $1 RETURNING id";

static const char sql_tenant_list[] =
	"SELECT t.id, t.slug, t.name, t.name_en, t.domain, t.quota, "
	"array_to_string(t.features, ',') AS features, "
	"(SELECT count(*) FROM certificates c WHERE c.tenant_id = t.id "
	" AND c.status IN " LC_SQL_COUNTED " AND c.superseded_at IS NULL) AS issued "
	"FROM tenants t ORDER BY t.id";

static const char sql_admin_insert[] =
	"INSERT INTO admins (tenant_id, login_id, password_hash) VALUES ($1::bigint, $2, $3)";

static const char sql_admin_find[] = "SELECT a.id, a.login_id, t.slug, t.name_en FROM admins a "
				     "JOIN tenants t ON t.id = a.tenant_id WHERE a.login_id = $1";

static const char sql_admin_disable[] =
	"UPDATE admins SET disabled = true WHERE login_id = $1 RETURNING id";

static const char sql_admin_cert_insert[] =
	"INSERT INTO admin_certificates (admin_id, ca_id, serial, fingerprint_sha256, subject, "
	"not_before, not_after, cert_pem) VALUES ($1::bigint, $2::bigint, $3, $4, $5, "
	"to_timestamp($6::bigint), to_timestamp($7::bigint), $8)";

/* An already revoked certificate keeps its date (running it again ends its sessions again). */
static const char sql_admin_cert_revoke[] =
	"UPDATE admin_certificates SET revoked_at = COALESCE(revoked_at, now()) "
	"WHERE serial = lower($1) RETURNING id";
static const char sql_schema_exists[] =
	"SELECT (to_regclass('schema_migrations') IS NOT NULL)::int AS version";
static const char sql_schema_version[] =
	"SELECT COALESCE(max(version), 0) AS version FROM schema_migrations";

/* Run sql; on a failure print PostgreSQL's message. 0, CTL_E_EXISTS (23xxx) or -EIO. */
static int
run(struct cmd_ctx *cx, const char *sql, int n, const char *const *params, PGresult **res)
{
	PGresult *r = NULL;
	int rc = db_exec_sql(&cx->db, sql, n, params, &r);

	if (rc == DB_E_CONFLICT)
		return CTL_E_EXISTS;
	if (rc != 0) {
		ctl_err(cx, "database: %s",
			cx->db.conn ? PQerrorMessage(cx->db.conn) : "not connected");
		return -EIO;
	}
	if (res != NULL)
		*res = r;
	else
		PQclear(r);
	return 0;
}

/* Run a statement expected to answer one row with one bigint column. */
static int
run_ll(struct cmd_ctx *cx, const char *sql, int n, const char *const *params, const char *col,
       long long *out)
{
	PGresult *r = NULL;
	int rc;

	if ((rc = run(cx, sql, n, params, &r)) != 0)
		return rc;
	if (PQntuples(r) == 0)
		rc = CTL_E_NOTFOUND;
	else
		*out = db_get_ll(r, 0, col);
	PQclear(r);
	return rc;
}

int
q_lock(struct cmd_ctx *cx)
{
	return run(cx, sql_lock, 0, NULL, NULL);
}

int
q_ca_find(struct cmd_ctx *cx, const char *kind, long long tenant_id, PGresult **res)
{
	char tid[24];
	const char *p[] = {kind, tid};

	snprintf(tid, sizeof(tid), "%lld", tenant_id);
	return run(cx, sql_ca_find, 2, p, res);
}

int
q_ca_retire(struct cmd_ctx *cx, long long tenant_id, long long *id)
{
	char tid[24];
	const char *p[] = {tid};

	snprintf(tid, sizeof(tid), "%lld", tenant_id);
	return run_ll(cx, sql_ca_retire, 1, p, "id", id);
}

int
q_ca_next_id(struct cmd_ctx *cx, long long *id)
{
	return run_ll(cx, sql_ca_next_id, 0, NULL, "id", id);
}

int
q_ca_insert(struct cmd_ctx *cx, long long id, const char *kind, long long tenant_id,
	    long long parent_id, const char *subject, const char *serial, const char *pem,
	    const char *key_file, time_t nb, time_t na)
{
	char sid[24], stid[24], spid[24], snb[24], sna[24];
	const char *p[] = {sid,
			   kind,
			   tenant_id ? stid : NULL,
			   parent_id ? spid : NULL,
			   subject,
			   serial,
			   pem,
			   key_file,
			   snb,
			   sna};

	snprintf(sid, sizeof(sid), "%lld", id);
	snprintf(stid, sizeof(stid), "%lld", tenant_id);
	snprintf(spid, sizeof(spid), "%lld", parent_id);
	snprintf(snb, sizeof(snb), "%lld", (long long)nb);
	snprintf(sna, sizeof(sna), "%lld", (long long)na);
	return run(cx, sql_ca_insert, 10, p, NULL);
}

int
q_tenant_find(struct cmd_ctx *cx, const char *slug, PGresult **res)
{
	const char *p[] = {slug};

	return run(cx, sql_tenant_find, 1, p, res);
}

int
q_tenant_insert(struct cmd_ctx *cx, const char *slug, const char *name, const char *name_en,
		const char *domain, const char *quota, const char *features, long long *id)
{
	const char *p[] = {slug, name, name_en, domain, quota, features};

	return run_ll(cx, sql_tenant_insert, 6, p, "id", id);
}

int
q_org_insert(struct cmd_ctx *cx, long long tenant_id, const char *name)
{
	char tid[24];
	const char *p[] = {tid, name};

	snprintf(tid, sizeof(tid), "%lld", tenant_id);
	return run(cx, sql_org_insert, 2, p, NULL);
}

int
q_tenant_update(struct cmd_ctx *cx, const char *slug, const char *quota, const char *features,
		const char *domain, const char *start_ahead_days)
{
	const char *p[] = {slug, quota, features, domain, start_ahead_days};
	long long id;

	return run_ll(cx, sql_tenant_update, 5, p, "id", &id);
}

int
q_tenant_list(struct cmd_ctx *cx, PGresult **res)
{
	return run(cx, sql_tenant_list, 0, NULL, res);
}

int
q_admin_insert(struct cmd_ctx *cx, long long tenant_id, const char *login_id, const char *hash)
{
	char tid[24];
	const char *p[] = {tid, login_id, hash};

	snprintf(tid, sizeof(tid), "%lld", tenant_id);
	return run(cx, sql_admin_insert, 3, p, NULL);
}

int
q_admin_find(struct cmd_ctx *cx, const char *login_id, PGresult **res)
{
	const char *p[] = {login_id};

	return run(cx, sql_admin_find, 1, p, res);
}

int
q_admin_cert_insert(struct cmd_ctx *cx, long long admin_id, long long ca_id, const char *serial,
		    const char *fingerprint, const char *subject, time_t nb, time_t na,
		    const char *pem)
{
	char said[24], scid[24], snb[24], sna[24];
	const char *p[] = {said, scid, serial, fingerprint, subject, snb, sna, pem};

	snprintf(said, sizeof(said), "%lld", admin_id);
	snprintf(scid, sizeof(scid), "%lld", ca_id);
	snprintf(snb, sizeof(snb), "%lld", (long long)nb);
	snprintf(sna, sizeof(sna), "%lld", (long long)na);
	return run(cx, sql_admin_cert_insert, 8, p, NULL);
}

/* Disable an administrator (again is fine); its id into *id, CTL_E_NOTFOUND when none. */
int
q_admin_disable(struct cmd_ctx *cx, const char *login_id, long long *id)
{
	const char *p[] = {login_id};

	return run_ll(cx, sql_admin_disable, 1, p, "id", id);
}

/* Mark an administrator certificate revoked; CTL_E_NOTFOUND when no such valid one. */
int
q_admin_cert_revoke(struct cmd_ctx *cx, const char *serial, long long *id)
{
	const char *p[] = {serial};

	return run_ll(cx, sql_admin_cert_revoke, 1, p, "id", id);
}

/* 0 before the first migration (no schema_migrations table yet). */
int
q_schema_version(struct cmd_ctx *cx, long long *version)
{
	long long exists = 0;
	int rc;

	if ((rc = run_ll(cx, sql_schema_exists, 0, NULL, "version", &exists)) != 0)
		return rc;
	if (!exists) {
		*version = 0;
		return 0;
	}
	return run_ll(cx, sql_schema_version, 0, NULL, "version", version);
}
