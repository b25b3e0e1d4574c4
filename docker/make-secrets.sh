#!/bin/sh
# docker/make-secrets.sh: create the docker secrets docker-compose.yml reads, once:
#   docker/secrets/ca-kek.key    the CA key-encryption key, 32 random bytes, hex: the CA private
#                                keys are sealed under it; only the signer and init containers
#                                get it. Back it up offline: losing it loses the CAs.
#   docker/secrets/data.key      the data key: the PKCS#12 passwords are sealed under it; the
#                                users, issue and download containers get it. Back it up too.
#   docker/secrets/db_password   the PostgreSQL password of the shomei role (the services')
#   docker/secrets/db_owner_password      of shomei_owner, which owns the schema (init: migrate)
#   docker/secrets/db_superuser_password  of postgres, the superuser (the postgres container)
#   docker/secrets/internal-users.token, internal-download.token   the tokens users and
#                                download prove themselves with to revoke's internal API
#   docker/secrets/internal-clients   what revoke checks them against: users:<SHA-256 hex>,
#                                download:<SHA-256 hex> ([revoke] internal_clients)
# SECRETS_DIR=DIR writes them elsewhere (then point SHOMEI_*_FILE at them). Existing files are kept. All are mode 0600; the containers' entrypoint copies them to a
# tmpfs owned by the shomei user. A master.key from before the split stays where it is until
# 'keys split' has run (docker/README.md, "Keys").
set -eu
dir=${SECRETS_DIR:-$(cd "$(dirname "$0")" && pwd)/secrets}
mkdir -p "$dir"
umask 077
for f in ca-kek.key data.key db_password db_owner_password db_superuser_password \
	internal-users.token internal-download.token; do
	if [ ! -f "$dir/$f" ]; then
		head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$dir/$f"
		echo "wrote $dir/$f"
	fi
done
# the tokens' hashes for revoke, made again whenever a token is new
clients=""
for n in users download; do
	h=$(tr -d '\r\n' <"$dir/internal-$n.token" | sha256sum | cut -d' ' -f1)
	clients="$clients${clients:+,}$n:$h"
done
if [ "$(cat "$dir/internal-clients" 2>/dev/null)" != "$clients" ]; then
	printf '%s\n' "$clients" >"$dir/internal-clients"
	echo "wrote $dir/internal-clients"
fi
