#!/bin/sh
# entrypoint of the shomei-postgres image (Debian's PostgreSQL 15). Started as root only to
#   - copy the docker secrets (db_superuser_password, db_owner_password, db_password) to a
#     directory only the postgres user reads, and
#   - give the data volume to postgres;
# then, as postgres: on an empty volume, initdb (UTF-8, C.UTF-8, the superuser postgres with its
# password, scram-sha-256 over TCP, peer on the local socket), a server on the socket alone to
# make shomei's roles and database (postgres-roles.sh, db/roles.sql), stopped again; then the
# server in the foreground, logging to stderr. Extra arguments after "postgres" go to it.
set -eu

PGDATA=${PGDATA:-/var/lib/postgresql/data}
KEYS=/run/postgresql-secrets
say() { printf 'shomei-postgres: %s\n' "$*" >&2; }

if [ "$(id -u)" = 0 ]; then
	install -d -m 0700 -o postgres -g postgres "$KEYS"
	for s in db_superuser_password db_owner_password db_password; do
		[ -f "/run/secrets/$s" ] && install -m 0600 -o postgres -g postgres "/run/secrets/$s" "$KEYS/$s"
	done
	chown postgres:postgres "$PGDATA" /var/run/postgresql
	chmod 0700 "$PGDATA"
	exec setpriv --reuid=postgres --regid=postgres --init-groups --inh-caps=-all "$0" "$@"
fi

if [ ! -s "$PGDATA/PG_VERSION" ]; then
	for s in db_superuser_password db_owner_password db_password; do
		[ -s "$KEYS/$s" ] || { say "the docker secret $s is missing (docker/make-secrets.sh)"; exit 1; }
	done
	say "a new cluster in $PGDATA"
	tr -d '\r\n' <"$KEYS/db_superuser_password" >"$KEYS/pwfile"
	initdb -D "$PGDATA" -U postgres --pwfile="$KEYS/pwfile" --encoding=UTF8 --locale=C.UTF-8 \
		--auth-local=peer --auth-host=scram-sha-256 >/dev/null
	rm -f "$KEYS/pwfile"
	{
		echo "# shomei-postgres: every address of the container's network, passwords only"
		echo "host all all 0.0.0.0/0 scram-sha-256"
		echo "host all all ::/0 scram-sha-256"
	} >>"$PGDATA/pg_hba.conf"
	pg_ctl -D "$PGDATA" -w -o "-c listen_addresses='' -c unix_socket_directories=/var/run/postgresql" start >/dev/null
	SHOMEI_SECRETS=$KEYS SHOMEI_ROLES_SQL=/usr/share/shomei/roles.sql \
		bash /usr/share/shomei/postgres-roles.sh || { pg_ctl -D "$PGDATA" -m fast stop; exit 1; }
	pg_ctl -D "$PGDATA" -w -m fast stop >/dev/null
	say "cluster ready"
fi

if [ "${1:-postgres}" = postgres ]; then
	[ $# -gt 0 ] && shift
	exec postgres -D "$PGDATA" -c listen_addresses='*' -c unix_socket_directories=/var/run/postgresql \
		-c logging_collector=off -c log_destination=stderr -c timezone=UTC "$@"
fi
exec "$@"
