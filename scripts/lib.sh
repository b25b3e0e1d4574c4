# lib.sh: what scripts/up and scripts/test share: packages, build, and the local stack.
# Sourced, not run. Everything lives under $VAR (default: var/ in the repository).
# shellcheck shell=bash

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PGBIN=${PGBIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
SERVICES="auth users issue revoke download"

# Debian packages the build, the stack and the tests need.
PACKAGES="build-essential meson ninja-build pkg-config clang libfcgi-dev libssl-dev libpq-dev
libhiredis-dev libcjson-dev libzip-dev libsodium-dev nettle-dev libgmp-dev libqrencode-dev
postgresql redis-server nginx-light openssl gnutls-bin python3 python3-cryptography
chromium fonts-ipafont-gothic unzip wrk curl ca-certificates procps libclang-rt-14-dev
libcurl4-openssl-dev"

say() { printf '%s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

install_packages() {
	local missing="" p
	for p in $PACKAGES; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing="$missing $p"
	done
	# Node.js may come from elsewhere with its own npm; Debian's packages only when it is absent.
	command -v node >/dev/null || missing="$missing nodejs"
	command -v npm >/dev/null || missing="$missing npm"
	[ -z "$missing" ] && return 0
	if [ "$(id -u)" != 0 ]; then
		die "missing Debian packages:$missing (run as root, or: sudo apt-get install$missing)"
	fi
	say "installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q >/dev/null
	# shellcheck disable=SC2086
	apt-get install -y -q --no-install-recommends $missing >/dev/null
	# Debian starts these as system services on install; shomei runs its own.
	for s in nginx redis-server postgresql; do
		command -v systemctl >/dev/null && systemctl disable --now "$s" >/dev/null 2>&1 || true
		service "$s" stop >/dev/null 2>&1 || true
	done
}

build() {
	local dir=${1:-$ROOT/build}
	shift || true
	if [ ! -f "$dir/build.ninja" ]; then
		meson setup "$dir" "$ROOT" "$@" >"$dir.setup.log" 2>&1 || { cat "$dir.setup.log" >&2; die "meson setup failed"; }
	fi
	ninja -C "$dir" >"$dir.ninja.log" 2>&1 || { tail -n 40 "$dir.ninja.log" >&2; die "build failed"; }
}

running() { # pidfile: it names a live process
	local pid
	[ -f "$1" ] && pid=$(cat "$1" 2>/dev/null) && [ -n "$pid" ] && alive "$pid"
}

not_running() { ! running "$1"; }

# alive PID: not a zombie either: a process whose parent died waits as one until init reaps it,
# which here may take a while, and kill -0 succeeds on it
alive() {
	kill -0 "$1" 2>/dev/null || return 1
	case $(ps -o stat= -p "$1" 2>/dev/null) in Z*) return 1 ;; esac
	return 0
}

gone() { ! alive "$1"; }

wait_for() { # seconds command...
	local n=$(($1 * 10))
	shift
	while [ $n -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
		n=$((n - 1))
	done
	return 1
}

# Supervision (docs/DECISIONS.md, "Supervision"): every process of the stack but nginx runs
# under its own shomei-supervise, which restarts it when it ends (backoff 0.5 s
# doubling to 30 s), logs each start and end to the process's log, and writes
# $VAR/run/NAME.supervisor.pid; the process itself still writes $VAR/run/NAME.pid. While
# $VAR/run/NAME.hold exists the supervisor starts nothing: `scripts/up hold NAME` / `release NAME`.
SUPERVISED="signer $SERVICES redis postgresql"

# supervise NAME LOG [supervisor options] -- COMMAND...: start COMMAND under a supervisor of its
# own, in the background, in a session of its own; COMMAND must stay in the foreground.
supervise() {
	local n=$1 log=$2
	shift 2
	setsid "$BUILD/tools/supervise/shomei-supervise" -n "$n" -p "$VAR/run/$n.supervisor.pid" \
		-H "$VAR/run/$n.hold" "$@" >>"$log" 2>&1 </dev/null &
}

# supervised NAME: true when its supervisor runs. A NAME running without one (its supervisor was
# killed, or the stack predates supervision) is stopped, so that only one process serves.
supervised() {
	local n=$1 pid
	running "$VAR/run/$n.supervisor.pid" && return 0
	if running "$VAR/run/$n.pid"; then
		pid=$(cat "$VAR/run/$n.pid")
		say "stopping $n (pid $pid), which runs without its supervisor"
		kill "$pid" 2>/dev/null || true
		wait_for 30 gone "$pid" || kill -9 "$pid" 2>/dev/null || true
	fi
	return 1
}

held_names() { # what is held, each with a space before it
	local n
	for n in $SUPERVISED; do [ -e "$VAR/run/$n.hold" ] && printf ' %s' "$n"; done
	return 0
}

not_held() { # name: false, and says so, when it is kept down on purpose
	[ -e "$VAR/run/$1.hold" ] || return 0
	say "$1 is held ($VAR/run/$1.hold): not started; scripts/up release $1"
	return 1
}

# sock_up PATH: something accepts a connection on the unix socket; a file left by a killed
# process does not count (`test -S` would).
sock_up() {
	"$BUILD/tools/supervise/shomei-supervise" -C "$1"
}

wait_up() { # name: its socket answers
	not_held "$1" || return 0
	wait_for 15 sock_up "$SOCK/$1.sock" || die "shomei-$1 did not start (see $VAR/log/$1.log)"
}

# hold NAME: keep it down: the hold file first, so that its supervisor starts nothing, then the
# process is stopped (SIGTERM; SIGKILL after 30 s).
stack_hold() {
	local n=$1 pid
	stack_env
	case " $SUPERVISED " in *" $n "*) ;; *) die "cannot hold $n: one of $SUPERVISED" ;; esac
	mkdir -p "$VAR/run"
	: >"$VAR/run/$n.hold"
	if [ "$n" = postgresql ]; then
		pg_user "$PGBIN/pg_ctl" -D "$VAR/pg/data" -m fast -w -t 60 stop >/dev/null 2>&1 || true
	elif running "$VAR/run/$n.pid"; then
		pid=$(cat "$VAR/run/$n.pid")
		kill "$pid" 2>/dev/null || true
		wait_for 30 gone "$pid" || kill -9 "$pid" 2>/dev/null || true
	fi
	return 0
}

# release NAME: let its supervisor start it again, and wait until it answers.
stack_release() {
	local n=$1
	stack_env
	case " $SUPERVISED " in *" $n "*) ;; *) die "cannot release $n: one of $SUPERVISED" ;; esac
	rm -f "$VAR/run/$n.hold"
	running "$VAR/run/$n.supervisor.pid" || { say "$n has no supervisor running: scripts/up starts it"; return 0; }
	if [ "$n" = redis ]; then
		wait_for 15 redis-cli -s "$VAR/run/redis.sock" ping || die "Redis did not start"
	elif [ "$n" = postgresql ]; then
		wait_for 60 pg_ready || die "PostgreSQL did not start (see $VAR/pg/postgresql.log)"
		head -n 1 "$VAR/pg/data/postmaster.pid" >"$VAR/run/postgresql.pid"
	else
		wait_up "$n"
	fi
}

# The stack's layout; call first.
stack_env() {
	VAR=${VAR:-$ROOT/var}
	PORT=${PORT:-8443}
	# the relying parties' plain-HTTP listener (/crl/, /ca/, /ocsp); 80 in production
	HTTP_PORT=${HTTP_PORT:-8080}
	REVOCATION_URL=http://localhost:$HTTP_PORT
	BUILD=${BUILD:-$ROOT/build}
	CONF=$VAR/shomei.conf
	SOCK=$VAR/run/sock
	CTL="$BUILD/tools/shomeictl/shomeictl -c $CONF"
	export SHOMEI_CONFIG=$CONF
}

pg_user() { # run a command as the owner of the cluster
	if [ "$(id -u)" = 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

pg_prefix() { # what runs a command as the owner of the cluster, exec'ing it (no fork)
	[ "$(id -u)" = 0 ] && echo setpriv --reuid=postgres --regid=postgres --init-groups
	return 0
}

pg_ready() {
	"$PGBIN/pg_isready" -q -h "$VAR/run/pg" -d postgres -U shomei
}

start_postgres() {
	local data=$VAR/pg/data
	mkdir -p "$VAR/pg" "$VAR/run/pg"
	[ "$(id -u)" = 0 ] && chown postgres: "$VAR/pg" "$VAR/run/pg"
	if [ ! -f "$data/PG_VERSION" ]; then
		pg_user "$PGBIN/initdb" -D "$data" -U shomei --auth=trust -E UTF8 --locale=C.UTF-8 \
			>"$VAR/log/initdb.log" 2>&1 || { cat "$VAR/log/initdb.log" >&2; die "initdb failed"; }
		# In the cluster's own configuration, so any later start or restart uses it.
		printf "%s\n" "listen_addresses = ''" "unix_socket_directories = '$VAR/run/pg'" \
			"fsync = ${PG_FSYNC:-on}" "max_connections = 400" "timezone = 'UTC'" |
			pg_user tee -a "$data/postgresql.conf" >/dev/null
	fi
	if ! running "$VAR/run/postgresql.supervisor.pid"; then
		# a postmaster without its supervisor (pg_ctl's, or its supervisor died): stopped first
		if pg_user "$PGBIN/pg_ctl" -D "$data" status >/dev/null 2>&1; then
			say "stopping PostgreSQL, which runs without its supervisor"
			pg_user "$PGBIN/pg_ctl" -D "$data" -m fast -w -t 60 stop >/dev/null
		fi
		# in the foreground under its supervisor, which stops it with SIGINT (fast shutdown)
		# shellcheck disable=SC2046
		supervise postgresql "$VAR/pg/postgresql.log" -s INT -t 60 -- \
			$(pg_prefix) "$PGBIN/postgres" -D "$data"
	fi
	not_held postgresql || die "PostgreSQL is held: scripts/up release postgresql"
	wait_for 60 pg_ready || { tail -n 20 "$VAR/pg/postgresql.log" >&2; die "PostgreSQL did not start"; }
	if ! "$PGBIN/psql" -h "$VAR/run/pg" -U shomei -d postgres -Atqc "SELECT 1 FROM pg_database WHERE datname='shomei'" | grep -q 1; then
		"$PGBIN/createdb" -h "$VAR/run/pg" -U shomei shomei
	fi
	head -n 1 "$data/postmaster.pid" >"$VAR/run/postgresql.pid"
}

start_redis() {
	mkdir -p "$VAR/redis"
	# in the foreground, under its supervisor (which sends it SIGTERM: it saves, then exits)
	supervised redis ||
		supervise redis "$VAR/log/redis.log" -- redis-server --port 0 \
			--unixsocket "$VAR/run/redis.sock" --unixsocketperm 700 --dir "$VAR/redis" \
			--appendonly yes --daemonize no --pidfile "$VAR/run/redis.pid" --logfile "$VAR/log/redis.log"
	not_held redis || return 0
	wait_for 10 redis-cli -s "$VAR/run/redis.sock" ping || die "Redis did not start"
}

write_config() {
	# a file from before the [issue] and [revoke] sections had their keys at the top, or without
	# this HTTP_PORT's revocation_url: write anew
	if [ -f "$CONF" ] && ! grep -qE '^(nginx_pid_file|crl_check_interval|crl_days|admin_crl_file|issue_workers|key_pool_)' "$CONF" &&
		grep -qxF "revocation_url = $REVOCATION_URL" "$CONF"; then
		return 0
	fi
	cat >"$CONF" <<EOF
# shomei configuration for the local stack (written by scripts/up)
db = host=$VAR/run/pg dbname=shomei user=shomei
redis_socket = $VAR/run/redis.sock
socket_dir = $SOCK
threads = ${THREADS:-64}
ca_kek_file = $VAR/secrets/ca-kek.key
data_key_file = $VAR/secrets/data.key
ca_dir = $VAR/ca
public_url = https://localhost:$PORT
revocation_url = $REVOCATION_URL
migrations_dir = $ROOT/db/migrations
log_level = info

[revoke]
nginx_pid_file = $VAR/run/nginx.pid
crl_check_interval = ${CRL_CHECK_INTERVAL:-60}
due_check_interval = ${DUE_CHECK_INTERVAL:-60}
EOF
}

# Two keys, one per purpose: the CA key-encryption key (shomei-signer and shomeictl read it) and
# the data key that seals the PKCS#12 passwords (issue, users, download). A var/ from before the
# split has one master key: 'shomeictl keys split' re-seals everything under the two (needs
# PostgreSQL) and removes it.
make_keys() {
	local s=$VAR/secrets
	if [ -f "$s/master.key" ]; then
		SHOMEI_MASTER_KEY_FILE=$s/master.key $CTL keys split >"$VAR/log/keys-split.log" 2>&1 ||
			{ cat "$VAR/log/keys-split.log" >&2; die "shomeictl keys split failed"; }
		say "the master key was split into $s/ca-kek.key and $s/data.key (back up both)"
	fi
	[ -f "$s/ca-kek.key" ] || $CTL key create --out "$s/ca-kek.key" >/dev/null || die "cannot create the CA key-encryption key"
	[ -f "$s/data.key" ] || $CTL key create --out "$s/data.key" >/dev/null || die "cannot create the data key"
	chmod 600 "$s/ca-kek.key"
	chmod 640 "$s/data.key"
}

# A TLS server certificate for the portal, from a local CA of its own.
make_server_tls() {
	local d=$VAR/tls
	[ -f "$d/server.crt" ] && return 0
	mkdir -p "$d"
	(
		umask 077
		cd "$d" || exit 1
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
			-keyout server-ca.key -out server-ca.pem -subj "/CN=shomei local server CA" \
			-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
		openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout server.key \
			-out server.csr -subj "/CN=localhost" 2>/dev/null
		printf 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:127.0.0.2,IP:::1\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n' >server.ext
		openssl x509 -req -in server.csr -CA server-ca.pem -CAkey server-ca.key -CAcreateserial \
			-days 825 -extfile server.ext -out server.crt 2>/dev/null
		rm -f server.csr server.ext
	) || die "cannot make the TLS certificate"
	chmod 644 "$d/server-ca.pem" "$d/server.crt"
}

# CAs, the demo tenant, its administrator and the administrator's certificate.
provision() {
	local slug=${TENANT:-demo} login=${LOGIN_ID:-admin01} out pw
	$CTL migrate >/dev/null || die "migrate failed"
	$CTL ca init >/dev/null || die "ca init failed"
	# grep reads the whole list: with -q it would stop early, and pipefail would count the
	# list's SIGPIPE as "absent" once many tenants exist
	if ! $CTL tenant list 2>/dev/null | grep -w "$slug" >/dev/null; then
		$CTL tenant create --slug "$slug" --name "令和証明書サービス" --name-en "Reiwa Cert Service" \
			--domain "$slug.localhost" --quota 50 \
			--features validity_period,org_units,install_restriction,download_site,admin_may_issue,notify_users \
			>/dev/null || die "tenant create failed"
	fi
	if [ ! -f "$VAR/secrets/admin.json" ]; then
		out=$($CTL admin create --tenant "$slug" --login-id "$login") || die "admin create failed"
		pw=$(printf '%s\n' "$out" | sed -n 's/^password: //p')
		out=$($CTL admin cert --login-id "$login" --out "$VAR/secrets/$login.p12") || die "admin cert failed"
		p12pw=$(printf '%s\n' "$out" | sed -n 's/^password: //p')
		(umask 077 && printf '{"tenant":"%s","login_id":"%s","password":"%s","admin_p12":"%s","admin_p12_password":"%s"}\n' \
			"$slug" "$login" "$pw" "$VAR/secrets/$login.p12" "$p12pw" >"$VAR/secrets/admin.json")
	fi
	$CTL ca chain --out "$VAR/ca/admin-chain.pem" >/dev/null || die "ca chain failed"
	$CTL ca chain --ca-only --out "$VAR/ca/admin-ca.pem" >/dev/null || die "ca chain failed"
}

start_signer() {
	supervised signer ||
		supervise signer "$VAR/log/signer.log" -- \
			"$BUILD/services/signer/shomei-signer" -c "$CONF" -p "$VAR/run/signer.pid"
	wait_up signer
}

start_service() { # name
	local n=$1
	supervised "$n" ||
		supervise "$n" "$VAR/log/$n.log" -- \
			"$BUILD/services/$n/shomei-$n" -c "$CONF" -p "$VAR/run/$n.pid"
	wait_up "$n"
}

render_nginx() {
	local user="" f
	[ "$(id -u)" = 0 ] && user="user www-data;"
	mkdir -p "$VAR/nginx/tmp"
	# nginx's workers (www-data) read the portal from VAR, never from the checkout, which may sit
	# in a directory only its owner can enter (/root, a 0700 home)
	rm -rf "$VAR/nginx/html.new"
	cp -R "$ROOT/nginx/html" "$VAR/nginx/html.new" && chmod -R a+rX "$VAR/nginx/html.new" ||
		die "cannot copy the portal into $VAR/nginx"
	rm -rf "$VAR/nginx/html" && mv "$VAR/nginx/html.new" "$VAR/nginx/html"
	for f in nginx.conf fastcgi.inc authed.inc; do
		sed -e "s|@VAR@|$VAR|g" -e "s|@CONF@|$VAR/nginx|g" -e "s|@HTML@|$VAR/nginx/html|g" \
			-e "s|@SOCK@|$SOCK|g" -e "s|@PORT@|$PORT|g" -e "s|@HTTP_PORT@|$HTTP_PORT|g" \
			-e "s|@USER@|$user|g" \
			"$ROOT/nginx/${f%.conf}$([ "$f" = nginx.conf ] && echo .conf.in || echo)" >"$VAR/nginx/$f"
	done
}

start_nginx() {
	render_nginx
	$CTL crl publish --out "$VAR/ca/admin-crl.pem" >/dev/null || die "crl publish failed"
	nginx -t -q -c "$VAR/nginx/nginx.conf" -p "$VAR/nginx" -e "$VAR/log/nginx-error.log" ||
		die "nginx configuration refused"
	if running "$VAR/run/nginx.pid"; then
		kill -HUP "$(cat "$VAR/run/nginx.pid")"
	else
		nginx -c "$VAR/nginx/nginx.conf" -p "$VAR/nginx" -e "$VAR/log/nginx-error.log" ||
			die "nginx did not start"
	fi
}

write_up_json() {
	local url="https://localhost:$PORT"
	python3 - "$VAR" "$ROOT" "$url" "$CONF" "$BUILD" "$REVOCATION_URL" <<'PY'
import json, os, sys
var, root, url, conf, build, revocation_url = sys.argv[1:]
a = json.load(open(os.path.join(var, "secrets", "admin.json")))
def rel(p):
    r = os.path.relpath(p, root)
    return os.path.abspath(p) if r.startswith("..") else r
up = {
    "url": url,
    "revocation_url": revocation_url,
    "tenant": a["tenant"],
    "login_id": a["login_id"],
    "password": a["password"],
    "admin_p12": rel(a["admin_p12"]),
    "admin_p12_password": a["admin_p12_password"],
    "server_ca": rel(os.path.join(var, "tls", "server-ca.pem")),
    "ctl": [rel(os.path.join(build, "tools", "shomeictl", "shomeictl")), "-c", rel(conf)],
    "var": rel(var),
}
path = os.path.join(var, "up.json")
fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
with os.fdopen(fd, "w") as f:
    json.dump(up, f, ensure_ascii=False, indent=2)
    f.write("\n")
PY
}

stack_up() {
	local held
	stack_env
	mkdir -p "$VAR/run" "$SOCK" "$VAR/log" "$VAR/ca" "$VAR/secrets"
	chmod 700 "$VAR/secrets"
	# nginx's workers (www-data) reach the sockets; nothing else below var/run/sock.
	chmod 755 "$VAR" "$VAR/run"
	[ "$(id -u)" = 0 ] && chgrp www-data "$SOCK" 2>/dev/null
	chmod 750 "$SOCK"
	write_config
	make_server_tls
	start_postgres
	start_redis
	make_keys
	provision
	start_signer
	for s in $SERVICES; do start_service "$s"; done
	start_nginx
	held=$(held_names)
	if ! wait_for "$([ -n "$held" ] && echo 3 || echo 20)" \
		curl -fsS --cacert "$VAR/tls/server-ca.pem" "https://localhost:$PORT/healthz"; then
		[ -n "$held" ] || die "the stack does not answer /healthz"
		say "/healthz does not answer 200 while held:$held"
	fi
	# nginx answers it itself (no service behind /): 404 means the listener is up
	wait_for 10 sh -c "curl -sS -o /dev/null -w '%{http_code}' '$REVOCATION_URL/' | grep -qx 404" ||
		die "the plain-HTTP listener does not answer on port $HTTP_PORT"
	write_up_json
}

stack_stop() {
	stack_env
	local f n
	if running "$VAR/run/nginx.pid"; then
		nginx -s quit -c "$VAR/nginx/nginx.conf" -p "$VAR/nginx" -e "$VAR/log/nginx-error.log" 2>/dev/null ||
			kill "$(cat "$VAR/run/nginx.pid")"
	fi
	# the supervisors first, so that nothing is started again: each stops its process and
	# exits; the services and the signer before Redis, which they use
	for n in signer $SERVICES; do stop_supervisor "$n"; done
	for n in signer $SERVICES; do stop_supervisor "$n" wait; done
	stop_supervisor redis
	stop_supervisor redis wait
	stop_supervisor postgresql
	stop_supervisor postgresql wait
	for f in "$VAR"/run/*.pid; do
		[ -f "$f" ] || continue
		case $f in */nginx.pid | */postgresql.pid) continue ;; esac
		running "$f" && { kill "$(cat "$f")" 2>/dev/null || true; }
	done
	# a postmaster its supervisor did not stop (one pg_ctl started)
	if [ -f "$VAR/pg/data/PG_VERSION" ] && pg_user "$PGBIN/pg_ctl" -D "$VAR/pg/data" status >/dev/null 2>&1; then
		pg_user "$PGBIN/pg_ctl" -D "$VAR/pg/data" -m fast -w stop >/dev/null 2>&1 || true
	fi
	for f in "$VAR"/run/*.pid; do
		[ -f "$f" ] || continue
		case $f in */postgresql.pid) rm -f "$f"; continue ;; esac
		wait_for 10 not_running "$f" || say "$f: still running"
		rm -f "$f"
	done
	return 0
}

stop_supervisor() { # name [wait]: SIGTERM, or wait for it to end (it gives its process 20 s)
	local f=$VAR/run/$1.supervisor.pid
	running "$f" || return 0
	if [ -z "${2:-}" ]; then
		kill "$(cat "$f")" 2>/dev/null || true
	else
		wait_for 30 not_running "$f" ||
			say "the supervisor of $1 did not stop"
	fi
	return 0
}
