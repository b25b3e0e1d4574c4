#!/bin/sh
# entrypoint of the shomei nginx image: renders nginx/nginx.conf.in (and fastcgi.inc,
# fastcgi-ocsp.inc, authed.inc) the way scripts/lib.sh's render_nginx does, then runs nginx in
# the foreground.
# Container differences from the local stack:
#   - it listens on every address of the container (the template binds loopback only);
#   - its access logs go to the container's stdout as JSON lines (logformat.inc), its error log
#     to stderr (nginx writes that one as text);
#   - the administrator CA chain and CRL come from the `public` volume, mounted at $VAR/ca
#     and at $VAR/crl (where the local stack keeps them apart: the CA keys' directory is the
#     signer's alone), and the TLS certificate from the `tls` volume at $VAR/tls (all written
#     by `init`);
#   - UPSTREAM=tcp (the compose file): the services' upstreams are <service>:$UPSTREAM_PORT on
#     the backend network instead of unix sockets. nginx resolves a name when it loads its
#     configuration, to every address Docker's DNS gives (one per replica); a watcher here
#     resolves the five names every $UPSTREAM_WATCH_SECONDS (5) and reloads nginx when a set
#     changed (`--scale`, a replica restarted with another address). Between a replica's death
#     and the reload, nginx passes its requests to the others (fastcgi_next_upstream);
#   - with UPSTREAM=tcp, a listener on port $METRICS_PORT (9100; the backend network, never
#     published) for scraping every replica on its own: GET /replicas/<service> lists its
#     addresses, GET /metrics/<service>/<address> is that replica's /metrics (locations for the
#     addresses of the last resolution only, rewritten with each reload; docker/prometheus.yml);
#   - the internal listener's directory ($VAR/run/internal, the volume `internal`) is entered
#     by root and the group of the shomei user (gid 10001: users and download call through it).
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
	# run/internal: the internal listener's socket (the services' calls to one another), in
	# the volume `internal` that users and download mount (docs/DECISIONS.md, "The internal
	# revocation API")
	mkdir -p "$CONF/tmp" "$VAR/run" "$VAR/log" "$VAR/run/internal"
	chown "0:${INTERNAL_GID:-10001}" "$VAR/run/internal" 2>/dev/null || true
	# a socket left by an nginx that was killed (the volume outlives the container)
	rm -f "$VAR/run/internal/api.sock"
	chmod 750 "$VAR/run/internal"
	# the renewal server (/dl/<slug>/renew, client certificates): PORT + 30 unless RENEW_PORT
	renew_port=${RENEW_PORT:-$((PORT + 30))}
	for f in nginx.conf fastcgi.inc fastcgi-ocsp.inc authed.inc; do
		src=$SRC/$f
		[ "$f" = nginx.conf ] && src=$SRC/nginx.conf.in
		sed -e "s|@VAR@|$VAR|g" -e "s|@CONF@|$CONF|g" -e "s|@HTML@|$HTML|g" \
			-e "s|@SOCK@|$SOCK|g" -e "s|@PORT@|$PORT|g" -e "s|@HTTP_PORT@|$HTTP_PORT|g" \
			-e "s|@RENEW_PORT@|$renew_port|g" -e "s|@USER@|$user|g" \
			"$src" >"$CONF/$f"
	done
	# every address of the container instead of loopback (one listen line is enough)
	sed -i -e "s|^\([[:space:]]*\)listen 127\.0\.0\.1:$PORT ssl;|\1listen $PORT ssl;|" \
		-e "/^[[:space:]]*listen \[::1\]:$PORT ssl;/d" \
		-e "/^[[:space:]]*listen 127\.0\.0\.2:$PORT ssl;/d" \
		-e "s|^\([[:space:]]*\)listen 127\.0\.0\.1:$HTTP_PORT;|\1listen $HTTP_PORT;|" \
		-e "/^[[:space:]]*listen \[::1\]:$HTTP_PORT;/d" \
		-e "s|^\([[:space:]]*\)listen 127\.0\.0\.1:$renew_port ssl;|\1listen $renew_port ssl;|" \
		-e "/^[[:space:]]*listen \[::1\]:$renew_port ssl;/d" \
		-e "/^[[:space:]]*listen 127\.0\.0\.2:$renew_port ssl;/d" "$CONF/nginx.conf"
	grep -q "listen $PORT ssl;" "$CONF/nginx.conf" || {
		echo "nginx-entrypoint: the template's listen line was not found" >&2
		exit 1
	}
	if [ "${UPSTREAM:-unix}" = tcp ]; then
		for n in auth users issue revoke download; do
			sed -i -e "s|server unix:$SOCK/$n\.sock;|server $n:${UPSTREAM_PORT:-9000};|" "$CONF/nginx.conf"
			grep -q "server $n:${UPSTREAM_PORT:-9000};" "$CONF/nginx.conf" || {
				echo "nginx-entrypoint: the template's upstream of $n was not found" >&2
				exit 1
			}
		done
	fi
	if [ "${UPSTREAM:-unix}" = tcp ]; then
		# the replicas' listener, included at the end of the http block
		[ "$(tail -n 1 "$CONF/nginx.conf")" = "}" ] || {
			echo "nginx-entrypoint: the template does not end with the http block's }" >&2
			exit 1
		}
		sed -i '$d' "$CONF/nginx.conf"
		printf '\tinclude %s/replicas.inc;\n}\n' "$CONF" >>"$CONF/nginx.conf"
		render_replicas
	fi
	# the access log as JSON lines, like the services' (escape=json: a quote, a newline or a
	# byte above 0x7f in a request stays inside its string); the path without the query; not
	# buffered, so that each line is one write to the pipe (two workers' 64k buffers written to
	# the same pipe could interleave in the middle of a line)
	cat >"$CONF/logformat.inc" <<'EOF'
log_format shomei_json escape=json '{"time":"$time_iso8601","level":"info","service":"nginx",'
	'"event":"access","remote_addr":"$remote_addr","method":"$request_method","path":"$uri",'
	'"protocol":"$server_protocol","status":"$status","bytes":"$body_bytes_sent",'
	'"duration":"$request_time","upstream":"$upstream_addr",'
	'"upstream_status":"$upstream_status","upstream_duration":"$upstream_response_time",'
	'"host":"$host","user_agent":"$http_user_agent"}';
EOF
	sed -i -e "s|^\([[:space:]]*\)include /etc/nginx/mime.types;|&\n\1include $CONF/logformat.inc;|" \
		-e "s|^\([[:space:]]*access_log [^ ;]*\) combined|\1 shomei_json|" \
		-e "/^[[:space:]]*access_log /s| buffer=[^ ;]*||" -e "/^[[:space:]]*access_log /s| flush=[^ ;]*||" \
		"$CONF/nginx.conf"
	if ! grep -q "include $CONF/logformat.inc;" "$CONF/nginx.conf" || grep -q " combined" "$CONF/nginx.conf"; then
		echo "nginx-entrypoint: the template's mime.types include or access_log lines were not found" >&2
		exit 1
	fi
	ln -sf /dev/stdout "$VAR/log/nginx-access.log"
	ln -sf /dev/stdout "$VAR/log/nginx-internal.log"
	ln -sf /dev/stderr "$VAR/log/nginx-error.log"
}

# init writes these; wait a little in case nginx was started on its own
n=0
while [ ! -s "$VAR/ca/admin-chain.pem" ] || [ ! -s "$VAR/ca/admin-ca.pem" ] || [ ! -s "$VAR/crl/admin-crl.pem" ] || [ ! -s "$VAR/tls/server.crt" ]; do
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
	seen=$(stat -c %Y "$VAR/crl/admin-crl.pem" 2>/dev/null || echo 0)
	while sleep "${CRL_WATCH_SECONDS:-10}"; do
		now=$(stat -c %Y "$VAR/crl/admin-crl.pem" 2>/dev/null || echo 0)
		if [ "$now" != "$seen" ] && [ -s "$VAR/crl/admin-crl.pem" ]; then
			seen=$now
			nginx -s reload -c "$CONF/nginx.conf" -p "$CONF" -e /dev/stderr &&
				echo "nginx-entrypoint: admin-crl.pem changed, nginx reloaded" >&2
		fi
	done
}

# the addresses of the five upstream names, one line (empty when UPSTREAM is not tcp)
upstream_addrs() {
	[ "${UPSTREAM:-unix}" = tcp ] || return 0
	for n in auth users issue revoke download; do
		printf '%s=%s ' "$n" "$(getent ahostsv4 "$n" | awk '{print $1}' | sort -u | tr '\n' ,)"
	done
}

# $CONF/replicas.inc: the server on $METRICS_PORT with a location per replica's address
render_replicas() {
	local n ip list f=$CONF/replicas.inc
	{
		printf 'server {\n\tlisten %s;\n\tserver_name shomei-replicas;\n' "${METRICS_PORT:-9100}"
		printf '\taccess_log off;\n\tallow 127.0.0.0/8;\n\tallow 10.0.0.0/8;\n\tallow 172.16.0.0/12;\n\tallow 192.168.0.0/16;\n\tdeny all;\n'
		for n in auth users issue revoke download; do
			list=$(getent ahostsv4 "$n" | awk '{print $1}' | sort -u)
			printf '\tlocation = /replicas/%s {\n\t\tdefault_type text/plain;\n\t\treturn 200 "%s\\n";\n\t}\n' \
				"$n" "$(printf '%s' "$list" | tr '\n' ' ')"
			for ip in $list; do
				case $ip in *[!0-9.]*) continue ;; esac
				printf '\tlocation = /metrics/%s/%s {\n\t\tinclude %s/fastcgi.inc;\n\t\tfastcgi_param SHOMEI_ROUTE /metrics;\n\t\tfastcgi_pass %s:%s;\n\t}\n' \
					"$n" "$ip" "$CONF" "$ip" "${UPSTREAM_PORT:-9000}"
			done
		done
		printf '\tlocation / {\n\t\treturn 404;\n\t}\n}\n'
	} >"$f.new"
	mv -f "$f.new" "$f"
}

# nginx will not start with an upstream name that does not resolve: wait for every service
wait_upstreams() {
	[ "${UPSTREAM:-unix}" = tcp ] || return 0
	n=0
	for s in auth users issue revoke download; do
		until getent ahostsv4 "$s" >/dev/null; do
			n=$((n + 1))
			if [ $n -gt 120 ]; then
				echo "nginx-entrypoint: the service $s does not resolve" >&2
				exit 1
			fi
			sleep 1
		done
	done
}

watch_upstreams() {
	local seen now
	[ "${UPSTREAM:-unix}" = tcp ] || return 0
	seen=$(upstream_addrs)
	while sleep "${UPSTREAM_WATCH_SECONDS:-5}"; do
		now=$(upstream_addrs)
		# a name that resolves to nothing (all its replicas restarting) is not reloaded into
		case $now in *=\ * | *= ) continue ;; esac
		if [ "$now" != "$seen" ]; then
			seen=$now
			render_replicas
			nginx -s reload -c "$CONF/nginx.conf" -p "$CONF" -e /dev/stderr &&
				echo "nginx-entrypoint: upstreams changed ($now), nginx reloaded" >&2
		fi
	done
}

wait_upstreams
render_nginx
if [ $# -eq 0 ] || { [ $# -eq 1 ] && [ "$1" = nginx ]; }; then
	nginx -t -q -c "$CONF/nginx.conf" -p "$CONF" -e /dev/stderr
	watch_crl &
	watch_upstreams &
	exec nginx -g 'daemon off;' -c "$CONF/nginx.conf" -p "$CONF" -e /dev/stderr
fi
exec "$@"
