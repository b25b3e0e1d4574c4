#!/bin/sh
# shomei-healthcheck NAME: the container's healthcheck. The service listens: on TCP when
# SHOMEI_LISTEN is set (host:port; the port in LISTEN state in /proc/net/tcp or tcp6), else on
# its unix socket <socket_dir>/NAME.sock. The services' own /healthz (PostgreSQL and Redis
# reachable) is what nginx's /healthz asks; a container is not restarted for a database outage.
set -eu
name=${1:?usage: shomei-healthcheck NAME}
if [ -n "${SHOMEI_LISTEN:-}" ] && [ "$name" != signer ]; then
	port=$(printf '%04X' "${SHOMEI_LISTEN##*:}")
	# local_address is column 2 (ADDR:PORT in hex), st column 4 (0A = LISTEN)
	awk -v p=":$port" 'NR > 1 && substr($2, length($2) - 4) == p && $4 == "0A" { found = 1 } END { exit !found }' \
		/proc/net/tcp /proc/net/tcp6 2>/dev/null
else
	test -S "${SHOMEI_SOCKET_DIR:-/run/shomei}/$name.sock"
fi
