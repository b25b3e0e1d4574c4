/* queries.c: the SQL of shomei-auth. */
#include "extern.h"

#define ADMIN_COLUMNS                                                                              \
	"a.id, a.tenant_id, a.login_id, a.name, a.password_hash, t.slug,"                          \
	" t.name AS tenant_name, t.name_en AS tenant_name_en, t.domain"

const struct db_stmt q_admin_by_login = {
	"auth_admin_by_login",
	"SELECT " ADMIN_COLUMNS " FROM admins a JOIN tenants t ON t.id = a.tenant_id"
	" WHERE a.login_id = $1 AND NOT a.disabled",
	1,
};

const struct db_stmt q_admin_by_id = {
	"auth_admin_by_id",
	"SELECT " ADMIN_COLUMNS " FROM admins a JOIN tenants t ON t.id = a.tenant_id"
	" WHERE a.id = $1 AND a.tenant_id = $2 AND NOT a.disabled",
	2,
};

const struct db_stmt q_admin_by_cert = {
	"auth_admin_by_cert",
	"SELECT " ADMIN_COLUMNS ", c.id AS cert_id FROM admin_certificates c"
	" JOIN admins a ON a.id = c.admin_id JOIN tenants t ON t.id = a.tenant_id"
	" WHERE c.fingerprint_sha256 = $1 AND c.revoked_at IS NULL"
	" AND now() BETWEEN c.not_before AND c.not_after AND NOT a.disabled",
	1,
};

const struct db_stmt q_admin_set_password = {
	"auth_admin_set_password",
	"UPDATE admins SET password_hash = $3, password_changed_at = now()"
	" WHERE id = $1 AND tenant_id = $2",
	3,
};
