#!/bin/bash
# postgres-roles.sh: shomei's PostgreSQL roles in the postgres container, the container
# counterpart of scripts/lib.sh's pg_roles:
#   postgres      the bootstrap superuser (password: the secret db_superuser_password)
#   shomei_owner  owns the database, its schema and tables; runs the migrations (init's
#                 migrate_db; password: db_owner_password, given to init only)
#   shomei        the services' role: no superuser, rows only (password: db_password)
# then db/roles.sql (owners and privileges, as scripts/up sets them).
# The postgres image runs it once, when it makes a new volume (/docker-entrypoint-initdb.d).
# A volume from before, where shomei was the superuser, is upgraded in place by running it by
# hand, with the compose file of this version (docker/README.md, "PostgreSQL roles"):
#   docker-compose -f docker/docker-compose.yml up -d postgres
#   docker-compose -f docker/docker-compose.yml exec -u postgres postgres \
#       bash /docker-entrypoint-initdb.d/10-shomei-roles.sh
# Idempotent. It uses the container's local socket, where the image trusts local users.

shomei_pg_roles() (
	set -eu
	q() { psql -v ON_ERROR_STOP=1 -AtqX "$@"; }
	secret() { tr -d '\r\n' <"${SHOMEI_SECRETS:-/run/secrets}/$1"; }
	local boot
	boot=$(q -U postgres -d postgres -c "SELECT rolname FROM pg_roles WHERE oid = 10" 2>/dev/null) ||
		boot=$(q -U shomei -d postgres -c "SELECT rolname FROM pg_roles WHERE oid = 10")
	if [ "$boot" = shomei ]; then
		echo "shomei-roles: shomei is the superuser; renaming it postgres, making shomei_owner and shomei" >&2
		# for a moment shomei_owner is a superuser: the one that renames shomei
		q -U shomei -d postgres >/dev/null <<'SQL'
SELECT 'CREATE ROLE shomei_owner' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'shomei_owner')
\gexec
ALTER ROLE shomei_owner LOGIN SUPERUSER;
SQL
		q -U shomei_owner -d postgres -c "ALTER ROLE shomei RENAME TO postgres" >/dev/null
	elif [ "$boot" != postgres ]; then
		echo "shomei-roles: the bootstrap superuser is $boot, neither postgres nor shomei" >&2
		return 1
	fi
	q -U postgres -d postgres -v super_pw="$(secret db_superuser_password)" \
		-v owner_pw="$(secret db_owner_password)" -v app_pw="$(secret db_password)" >/dev/null <<'SQL'
SELECT 'CREATE ROLE shomei_owner' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'shomei_owner')
\gexec
SELECT 'CREATE ROLE shomei' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'shomei')
\gexec
ALTER ROLE postgres PASSWORD :'super_pw';
ALTER ROLE shomei_owner LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS
	PASSWORD :'owner_pw';
ALTER ROLE shomei LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS
	PASSWORD :'app_pw';
SELECT 'CREATE DATABASE shomei OWNER shomei_owner'
	WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'shomei')
\gexec
SQL
	q -U postgres -d shomei -f "${SHOMEI_ROLES_SQL:-/usr/share/shomei/roles.sql}" >/dev/null
	echo "shomei-roles: postgres, shomei_owner and shomei ready" >&2
)

shomei_pg_roles
