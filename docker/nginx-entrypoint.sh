#!/bin/sh
# entrypoint of the shomei nginx image: renders nginx/nginx.conf.in (and fastcgi.inc,
# authed.inc) the way scripts/lib.sh's render_nginx does, then runs nginx in the foreground.
# Container differences from the local stack:
#   - it listens on every address of the container (the template binds loopback only);
#   - its logs go to the container's stdout/stderr;
#   - the administrator CA chain and CRL come from the `public` volume, mounted at $VAR/ca,
#     and the TLS certificate from the `tls` volume at $VAR/tls (both written by `init`).
# `docker-compose kill -s HUP nginx` reloads it (after `docker-compose run --rm init`).
set -eu

VAR=${VAR:-/var/lib/shomei}
PORT=${PORT:-8443}
HTTP_PORT=${HTTP_PORT:-8080}
SOCK=${SOCK:-/run/shomei}
HTML=${HTML:-/usr/share/shomei/html}
SRC=${SRC:-/usr/share/shomei/nginx}
CONF=$VAR/nginx

render_nginx() {
	user=""
	[ "$(id -u)" = 0 ] && user="user www-data;"
	mkdir -p "$CONF/tmp" "$VAR/run" "$VAR/log"
	for f in nginx.conf fastcgi.inc authed.inc; do
		src=$SRC/$f
		[ "$f" = nginx.conf ] && src=$SRC/nginx.conf.in
		sed -e "s|@VAR@|$VAR|g" -e "s|@CONF@|$CONF|g" -e "s|@HTML@|$HTML|g" \
			-e "s|@SOCK@|$SOCK|g" -e "s|@PORT@|$PORT|g" -e "s|@HTTP_PORT@|$HTTP_PORT|g" \
			-e "s|@USER@|$user|g" \
			"$src" >"$CONF/$f"
	done
	# every address of the container instead of loopback (one listen line is enough)
	sed -i -e "s|^\([[:space:]]*\)listen 127\.0\.0\.1:$PORT ssl;|\1listen $PORT ssl;|" \
		-e "/^[[:space:]]*listen \[::1\]:$PORT ssl;/d" \
		-e "/^[[:space:]]*listen 127\.0\.0\.2:$PORT ssl;/d" \
		-e "s|^\([[:space:]]*\)listen 127\.0\.0\.1:$HTTP_PORT;|\1listen $HTTP_PORT;|" \
		-e "/^[[:space:]]*listen \[::1\]:$HTTP_PORT;/d" "$CONF/nginx.conf"
	grep -q "listen $PORT ssl;" "$CONF/nginx.conf" || {
		echo "nginx-entrypoint: the template's listen line was not found" >&2
		exit 1
	}
	ln -sf /dev/stdout "$VAR/log/nginx-access.log"
	ln -sf /dev/stderr "$VAR/log/nginx-error.log"
}

# init writes these; wait a little in case nginx was started on its own
n=0
while [ ! -s "$VAR/ca/admin-chain.pem" ] || [ ! -s "$VAR/ca/admin-ca.pem" ] || [ ! -s "$VAR/ca/admin-crl.pem" ] || [ ! -s "$VAR/tls/server.crt" ]; do
	n=$((n + 1))
	if [ $n -gt 60 ]; then
		echo "nginx-entrypoint: $VAR/ca/admin-chain.pem, admin-crl.pem or $VAR/tls/server.crt missing (run the init service)" >&2
		exit 1
	fi
	sleep 1
done

# shomei-revoke re-signs admin-crl.pem (before it expires, and after an administrator
# certificate is revoked) into the shared volume; it cannot signal this container's nginx,
# so a watcher here reloads nginx when the file changes.
watch_crl() {
	local seen now
	seen=$(stat -c %Y "$VAR/ca/admin-crl.pem" 2>/dev/null || echo 0)
	while sleep "${CRL_WATCH_SECONDS:-10}"; do
		now=$(stat -c %Y "$VAR/ca/admin-crl.pem" 2>/dev/null || echo 0)
		if [ "$now" != "$seen" ] && [ -s "$VAR/ca/admin-crl.pem" ]; then
			seen=$now
			nginx -s reload -c "$CONF/nginx.conf" -p "$CONF" -e /dev/stderr &&
				echo "nginx-entrypoint: admin-crl.pem changed, nginx reloaded" >&2
		fi
	done
}

render_nginx
if [ $# -eq 0 ] || { [ $# -eq 1 ] && [ "$1" = nginx ]; }; then
	nginx -t -q -c "$CONF/nginx.conf" -p "$CONF" -e /dev/stderr
	watch_crl &
	exec nginx -g 'daemon off;' -c "$CONF/nginx.conf" -p "$CONF" -e /dev/stderr
fi
exec "$@"
