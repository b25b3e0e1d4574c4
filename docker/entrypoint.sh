#!/bin/sh
# entrypoint of the shomei runtime image (signer, services, shomeictl, init).
# Started as root only to
#   - copy the docker secrets the container was given (ca_kek, data_key, db_password; master_key
#     only for a one-off 'keys split' of a deployment from before) to a tmpfs,
#     owned by the shomei user and mode 0600 (the signer refuses a key file others can read,
#     and libpq ignores a password file that is not 0600), and
#   - copy the internal API's token (users, download) and export revoke's list of callers
#     (SHOMEI_REVOKE_INTERNAL_CLIENTS: SHA-256 hashes, not secrets);
#   - give the signer's socket directory /run/shomei to shomei;
# then runs the command as shomei. Nothing secret is passed on a command line or in the
# environment.
set -eu

KEYDIR=/run/shomei-key

# the services' log (JSON lines, log_format in shomei.conf) to the container's stdout; shomeictl
# and the init script keep stdout for their output
case "${1:-}" in
shomei-signer | shomei-auth | shomei-users | shomei-issue | shomei-revoke | shomei-download) exec 2>&1 ;;
esac

if [ "$(id -u)" = 0 ]; then
	install -d -m 0700 -o shomei -g shomei "$KEYDIR"
	for k in ca_kek:ca-kek.key data_key:data.key master_key:master.key; do
		if [ -f "/run/secrets/${k%%:*}" ]; then
			install -m 0600 -o shomei -g shomei "/run/secrets/${k%%:*}" "$KEYDIR/${k#*:}"
		fi
	done
	# ~/.pgpass format: host:port:database:user:password (: and \ escaped); the services get
	# the shomei role's password, init also shomei_owner's (migrate_db)
	(umask 077 && : >"$KEYDIR/pgpass")
	for r in db_password:shomei db_owner_password:shomei_owner; do
		if [ -f "/run/secrets/${r%%:*}" ]; then
			pw=$(tr -d '\r\n' <"/run/secrets/${r%%:*}" | sed -e 's/\\/\\\\/g' -e 's/:/\\:/g')
			printf '*:*:*:%s:%s\n' "${r#*:}" "$pw" >>"$KEYDIR/pgpass"
			unset pw
		fi
	done
	chown shomei:shomei "$KEYDIR/pgpass"
	# the internal API: a caller's token (internal_token_dir), revoke's list of callers
	for n in users download; do
		if [ -f "/run/secrets/internal_${n}_token" ]; then
			install -d -m 0700 -o shomei -g shomei "$KEYDIR/internal"
			install -m 0600 -o shomei -g shomei "/run/secrets/internal_${n}_token" "$KEYDIR/internal/$n.token"
		fi
	done
	if [ -f /run/secrets/internal_clients ]; then
		SHOMEI_REVOKE_INTERNAL_CLIENTS=$(tr -d '\r\n' </run/secrets/internal_clients)
		export SHOMEI_REVOKE_INTERNAL_CLIENTS
	fi
	# the signer's socket volume (signer, issue, revoke); elsewhere the image's own directory on
	# a read-only root, left as it is
	if [ -d /run/shomei ] && [ -w /run/shomei ]; then
		chown shomei:33 /run/shomei
		chmod 0750 /run/shomei
	fi
	exec setpriv --reuid=shomei --regid=shomei --init-groups --inh-caps=-all "$@"
fi
exec "$@"
