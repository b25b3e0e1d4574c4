#!/bin/sh
# docker/make-secrets.sh: create the docker secrets docker-compose.yml reads, once:
#   docker/secrets/master.key   32 random bytes, hex (the CA keys and PKCS#12 passwords are
#                               sealed under it: back it up, losing it loses the CAs)
#   docker/secrets/db_password  the PostgreSQL password of the shomei role
# Existing files are kept. Both are mode 0600; the containers' entrypoint copies them to a
# tmpfs owned by the shomei user.
set -eu
dir=$(cd "$(dirname "$0")" && pwd)/secrets
mkdir -p "$dir"
umask 077
if [ ! -f "$dir/master.key" ]; then
	head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$dir/master.key"
	echo "wrote $dir/master.key"
fi
if [ ! -f "$dir/db_password" ]; then
	head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$dir/db_password"
	echo "wrote $dir/db_password"
fi
