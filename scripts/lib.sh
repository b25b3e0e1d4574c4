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

is_root() { [ "$(id -u)" = 0 ]; }

# Who runs what when scripts/up runs as root: every process its own user, and groups for
# exactly the processes that must reach a socket or read a key (docs/DECISIONS.md, "Each process
# its own user"). Run as anyone else, everything runs as that one user and these do nothing.
#   www-data               nginx's workers; the FastCGI sockets are 0660 of this group
#   shomei-sock            may make its socket in $VAR/run/sock: the signer and the services
#   shomei-signer-clients  signer.sock (0660): shomei-issue and shomei-revoke (and the signer)
#   shomei-pg              PostgreSQL's socket and its directory: the signer and the services
#   shomei-redis           Redis's socket (Redis runs with this group): the services
#   shomei-data            reads the data key (data.key): issue, users, download
SHOMEI_GROUPS="shomei-sock shomei-signer-clients shomei-pg shomei-redis shomei-data"
proc_groups() { # signer|auth|users|issue|revoke|download: the groups its user joins
	case $1 in
	signer) echo shomei-sock,shomei-signer-clients,shomei-pg ;;
	auth) echo shomei-sock,www-data,shomei-pg,shomei-redis ;;
	users | download) echo shomei-sock,www-data,shomei-pg,shomei-redis,shomei-data ;;
	issue) echo shomei-sock,www-data,shomei-pg,shomei-redis,shomei-data,shomei-signer-clients ;;
	revoke) echo shomei-sock,www-data,shomei-pg,shomei-redis,shomei-signer-clients ;;
	*) die "proc_groups: unknown process $1" ;;
	esac
}

# The system users and groups above (idempotent; root only). Each user's supplementary groups
# are set to exactly the table's.
make_users() {
	local g n
	is_root || return 0
	for g in $SHOMEI_GROUPS; do
		getent group "$g" >/dev/null || groupadd --system "$g" || die "groupadd $g failed"
	done
	for n in signer $SERVICES; do
		id -u "shomei-$n" >/dev/null 2>&1 ||
			useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin \
				--user-group "shomei-$n" || die "useradd shomei-$n failed"
		usermod -G "$(proc_groups "$n")" "shomei-$n" || die "usermod shomei-$n failed"
	done
	usermod -a -G shomei-pg postgres || die "usermod postgres failed"
}

# priv USER [GROUP]: the prefix that runs a command as USER (primary group GROUP, else USER's
# own) with USER's supplementary groups and no capabilities; nothing when not root. Printed as
# words for an unquoted $(priv …) in front of a command line.
priv() {
	is_root || return 0
	echo setpriv --reuid="$1" --regid="${2:-$1}" --init-groups --inh-caps=-all --bounding-set=-all \
		--no-new-privs --
}

# secure_file PATH OWNER GROUP MODE: a key, socket or directory only its readers may use. Run as
# another user, the file stays the user's own and group and others lose every bit (one uid:
# nobody else needs it).
secure_file() {
	[ -e "$1" ] || return 0
	if is_root; then
		chown "$2:$3" "$1" && chmod "$4" "$1"
	else
		chmod "$(printf '%o' $((0$4 & 0700)))" "$1"
	fi || die "cannot secure $1"
}

# Who may read each key file (as root: OWNER GROUP MODE; shomeictl runs as root and reads both):
#   ca-kek.key    shomei-signer shomei-signer 0600  the signer alone
#   data.key      root shomei-data 0640             issue, users, download
#   ca/*.key.enc  shomei-signer shomei-signer 0600  in ca/ (the signer's, 0700)
secure_keys() {
	local f
	secure_file "$VAR/secrets/ca-kek.key" shomei-signer shomei-signer 0600
	secure_file "$VAR/secrets/data.key" root shomei-data 0640
	secure_file "$VAR/ca" shomei-signer shomei-signer 0700
	for f in "$VAR"/ca/*.key.enc; do
		secure_file "$f" shomei-signer shomei-signer 0600
	done
}

# own_file PATH USER: an empty file (a pid file, a log) that a process running as USER writes in
# a directory it may not write. Nothing when not root.
own_file() {
	is_root || return 0
	[ -f "$1" ] || : >"$1"
	chown "$2:" "$1" && chmod 644 "$1" || die "cannot give $1 to $2"
}

# The programs other users run, copied where they can reach them: a checkout may sit in a
# directory only its owner can enter. Owned by root (or the user), 0755; replaced by rename, so
# a running program keeps its file.
install_bins() {
	local n src
	mkdir -p "$VAR/bin"
	chmod 755 "$VAR/bin"
	for n in signer $SERVICES; do
		src=$BUILD/services/$n/shomei-$n
		[ -x "$src" ] || die "$src is missing (build first)"
		cmp -s "$src" "$VAR/bin/shomei-$n" 2>/dev/null && continue
		install -m 0755 "$src" "$VAR/bin/.shomei-$n.new" && mv -f "$VAR/bin/.shomei-$n.new" "$VAR/bin/shomei-$n" ||
			die "cannot install shomei-$n into $VAR/bin"
	done
}

# As root, the state directory must be reachable by the processes' users: every directory above
# it must be open to others (x). A checkout in /root or a 0700 home needs VAR elsewhere.
check_var_reachable() {
	local d
	is_root || return 0
	d=$(dirname "$VAR")
	while [ "$d" != / ]; do
		[ -d "$d" ] || { d=$(dirname "$d"); continue; }
		if [ $((0$(stat -c %a "$d") & 01)) = 0 ]; then
			die "VAR=$VAR is inside $d, which other users cannot enter; the stack's users (postgres, shomei-*) must reach it: set VAR to a directory such as /var/lib/shomei"
		fi
		d=$(dirname "$d")
	done
}

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

running() { # pidfile
	[ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null
}

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

# The stack's layout; call first.
stack_env() {
	VAR=${VAR:-$ROOT/var}
	case $VAR in /*) ;; *) VAR=$PWD/$VAR ;; esac
	PORT=${PORT:-8443}
	BUILD=${BUILD:-$ROOT/build}
	case $BUILD in /*) ;; *) BUILD=$PWD/$BUILD ;; esac
	CONF=$VAR/shomei.conf
	SOCK=$VAR/run/sock
	CTL="$BUILD/tools/shomeictl/shomeictl -c $CONF"
	export SHOMEI_CONFIG=$CONF
}

pg_user() { # run a command as the owner of the cluster
	if is_root; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

# psql ROLE DB SQL…: as a role of the local cluster, through its socket (ROLE postgres as the
# cluster's owner; the others as the invoking user, whom pg_ident.conf maps to them).
pg_psql() {
	local role=$1 db=$2
	shift 2
	if [ "$role" = postgres ]; then
		pg_user "$PGBIN/psql" -h "$VAR/run/pg" -U "$role" -d "$db" -AtqX -v ON_ERROR_STOP=1 "$@"
	else
		"$PGBIN/psql" -h "$VAR/run/pg" -U "$role" -d "$db" -AtqX -v ON_ERROR_STOP=1 "$@"
	fi
}

# Who may log in as which role (peer authentication on the socket alone, pg_ident.conf's map
# "shomei"): the cluster's owner as postgres, the invoking user (root, who runs shomeictl and
# the tests) as the migration role and the application role, every process's user as the
# application role. Written at every start, so a cluster made before has them too.
pg_auth_files() {
	local data=$1 me n
	me=$(id -un)
	{
		echo "# written by scripts/up: the socket only, the operating system's user name"
		echo "local all all peer map=shomei"
	} | pg_user tee "$data/pg_hba.conf" >/dev/null
	{
		echo "# written by scripts/up: operating system user -> PostgreSQL role"
		if is_root; then
			echo "shomei postgres postgres"
		else
			echo "shomei $me postgres"
		fi
		echo "shomei $me shomei_owner"
		echo "shomei $me shomei"
		if is_root; then
			for n in signer $SERVICES; do echo "shomei shomei-$n shomei"; done
		fi
	} | pg_user tee "$data/pg_ident.conf" >/dev/null
	# the socket: 0660 of shomei-pg (root) or of the user's own group
	{
		echo "# written by scripts/up"
		if is_root; then echo "unix_socket_group = 'shomei-pg'"; fi
		echo "unix_socket_permissions = 0660"
	} | pg_user tee "$data/shomei-socket.conf" >/dev/null
	grep -q "^include_if_exists = 'shomei-socket.conf'" "$data/postgresql.conf" ||
		echo "include_if_exists = 'shomei-socket.conf'" | pg_user tee -a "$data/postgresql.conf" >/dev/null
}

# The roles: postgres, the cluster's bootstrap superuser; shomei_owner, which owns the
# database, its schema and tables and runs the migrations; shomei, the application's, which
# may only read and write rows. A cluster from before (initdb -U shomei: the application was the
# superuser) is upgraded in place: its bootstrap superuser is renamed postgres (through a
# moment in which shomei_owner is a superuser), what it owned in the database goes to
# shomei_owner, and shomei is made anew without privileges. Idempotent; no row is touched.
pg_roles() {
	local boot
	boot=$(pg_psql postgres postgres -c "SELECT rolname FROM pg_roles WHERE oid = 10" 2>/dev/null) ||
		boot=$(pg_psql shomei postgres -c "SELECT rolname FROM pg_roles WHERE oid = 10") ||
		die "cannot reach PostgreSQL as postgres or shomei"
	if [ "$boot" = shomei ]; then
		say "PostgreSQL: the application role is the superuser; making postgres, shomei_owner and shomei"
		pg_psql shomei postgres -c "DO \$\$ BEGIN
			IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'shomei_owner') THEN
				CREATE ROLE shomei_owner LOGIN SUPERUSER;
			ELSE
				ALTER ROLE shomei_owner LOGIN SUPERUSER;
			END IF; END \$\$" >/dev/null || die "cannot create shomei_owner"
		pg_psql shomei_owner postgres -c "ALTER ROLE shomei RENAME TO postgres" >/dev/null ||
			die "cannot rename the bootstrap superuser"
	elif [ "$boot" != postgres ]; then
		die "PostgreSQL's bootstrap superuser is $boot, neither postgres nor shomei"
	fi
	pg_psql postgres postgres >/dev/null <<'SQL' || die "cannot set up the roles"
DO $$ BEGIN
	IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'shomei_owner') THEN
		CREATE ROLE shomei_owner LOGIN;
	END IF;
	IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'shomei') THEN
		CREATE ROLE shomei LOGIN;
	END IF;
END $$;
ALTER ROLE shomei_owner LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
ALTER ROLE shomei LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
SQL
	if [ "$(pg_psql postgres postgres -c "SELECT 1 FROM pg_database WHERE datname = 'shomei'")" != 1 ]; then
		pg_psql postgres postgres -c "CREATE DATABASE shomei OWNER shomei_owner" >/dev/null ||
			die "cannot create the database"
	fi
	pg_psql postgres shomei <"$ROOT/db/roles.sql" >/dev/null ||
		die "cannot set the database's owner and privileges (db/roles.sql)"
}

start_postgres() {
	local data=$VAR/pg/data
	mkdir -p "$VAR/pg" "$VAR/run/pg"
	if is_root; then
		chown postgres: "$VAR/pg"
		chown postgres:shomei-pg "$VAR/run/pg"
		chmod 750 "$VAR/run/pg"
	else
		chmod 700 "$VAR/run/pg"
	fi
	chmod 700 "$VAR/pg"
	if [ ! -f "$data/PG_VERSION" ]; then
		pg_user "$PGBIN/initdb" -D "$data" -U postgres --auth=peer -E UTF8 --locale=C.UTF-8 \
			>"$VAR/log/initdb.log" 2>&1 || { cat "$VAR/log/initdb.log" >&2; die "initdb failed"; }
		# In the cluster's own configuration, so any later start or restart uses it.
		printf "%s\n" "listen_addresses = ''" "unix_socket_directories = '$VAR/run/pg'" \
			"fsync = ${PG_FSYNC:-on}" "max_connections = 400" "timezone = 'UTC'" |
			pg_user tee -a "$data/postgresql.conf" >/dev/null
	fi
	pg_auth_files "$data"
	if ! pg_user "$PGBIN/pg_ctl" -D "$data" status >/dev/null 2>&1; then
		pg_user "$PGBIN/pg_ctl" -D "$data" -w -t 60 -l "$VAR/pg/postgresql.log" start >/dev/null ||
			{ tail -n 20 "$VAR/pg/postgresql.log" >&2; die "PostgreSQL did not start"; }
	else
		# a running cluster reads the authentication files anew (the socket's mode waits for a restart)
		pg_user "$PGBIN/pg_ctl" -D "$data" reload >/dev/null
	fi
	pg_roles
	head -n 1 "$data/postmaster.pid" >"$VAR/run/postgresql.pid"
}

start_redis() {
	mkdir -p "$VAR/redis"
	running "$VAR/run/redis.pid" && return 0
	# its data are its own (a directory from before belonged to root)
	is_root && { chown -R redis:shomei-redis "$VAR/redis" || die "cannot give $VAR/redis to redis"; }
	secure_file "$VAR/redis" redis shomei-redis 0700
	# its socket's directory, which it may write
	mkdir -p "$VAR/run/redis"
	secure_file "$VAR/run/redis" redis shomei-redis 0750
	own_file "$VAR/run/redis.pid" redis
	own_file "$VAR/log/redis.log" redis
	# As root: user redis, group shomei-redis, so its socket (0660) is the services' alone. Born
	# under umask 077: Redis sets the socket's mode after it listens.
	# shellcheck disable=SC2046
	(umask 077 && $(priv redis shomei-redis) redis-server --port 0 --unixsocket "$VAR/run/redis/redis.sock" \
		--unixsocketperm 660 --dir "$VAR/redis" --appendonly yes --daemonize yes \
		--pidfile "$VAR/run/redis.pid" --logfile "$VAR/log/redis.log" >/dev/null)
	wait_for 10 redis-cli -s "$VAR/run/redis/redis.sock" ping || die "Redis did not start"
}

# The configuration is scripts/up's own: written anew at every start (the sockets' groups and
# the reload of nginx depend on who runs it).
write_config() {
	local sock_group="" signer_group="" pidfile=$VAR/run/nginx.pid allow_cert="" allow_crl=""
	if is_root; then
		sock_group=www-data signer_group=shomei-signer-clients
		# the signer's callers by their peer credentials (empty: the signer's own user)
		allow_cert=shomei-issue allow_crl=shomei-revoke
		# shomei-revoke may not signal a root nginx: crl_watch reloads it
		pidfile=""
	fi
	cat >"$CONF" <<EOF
# shomei configuration for the local stack (written by scripts/up at every start)
db = host=$VAR/run/pg dbname=shomei user=shomei
migrate_db = host=$VAR/run/pg dbname=shomei user=shomei_owner
redis_socket = $VAR/run/redis/redis.sock
socket_dir = $SOCK
socket_group = $sock_group
signer_socket_group = $signer_group
threads = ${THREADS:-64}
ca_kek_file = $VAR/secrets/ca-kek.key
data_key_file = $VAR/secrets/data.key
ca_dir = $VAR/ca
public_url = https://localhost:$PORT
migrations_dir = $ROOT/db/migrations
log_level = info

[signer]
allow_cert = $allow_cert
allow_crl = $allow_crl

[revoke]
admin_crl_file = $VAR/crl/admin-crl.pem
nginx_pid_file = $pidfile
crl_check_interval = ${CRL_CHECK_INTERVAL:-60}
EOF
	chmod 644 "$CONF"
}

# Two keys, one per purpose: the CA key-encryption key (shomei-signer and shomeictl read it) and
# the data key that seals the PKCS#12 passwords (issue, users, download). A var/ from before the
# split has one master key: 'shomeictl keys split' re-seals everything under the two (needs
# PostgreSQL) and removes it.
make_keys() {
	local s=$VAR/secrets
	if [ -f "$s/master.key" ]; then
		chmod 600 "$s/master.key"
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
	if ! $CTL tenant list 2>/dev/null | grep -qw "$slug"; then
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

# A process's pid file and socket before it starts: the file its own (it writes it), the socket
# of a process not running removed (the sticky socket directory lets only its owner do that).
prepare_proc() { # name
	own_file "$VAR/run/$1.pid" "shomei-$1"
	rm -f "$SOCK/$1.sock"
}

start_signer() {
	running "$VAR/run/signer.pid" && return 0
	prepare_proc signer
	# shellcheck disable=SC2046
	setsid $(priv shomei-signer) "$VAR/bin/shomei-signer" -c "$CONF" -p "$VAR/run/signer.pid" \
		>>"$VAR/log/signer.log" 2>&1 </dev/null &
	wait_for 10 test -S "$SOCK/signer.sock" || die "shomei-signer did not start (see $VAR/log/signer.log)"
}

start_service() { # name
	local n=$1
	running "$VAR/run/$n.pid" && return 0
	prepare_proc "$n"
	# shellcheck disable=SC2046
	setsid $(priv "shomei-$n") "$VAR/bin/shomei-$n" -c "$CONF" -p "$VAR/run/$n.pid" \
		>>"$VAR/log/$n.log" 2>&1 </dev/null &
	wait_for 10 test -S "$SOCK/$n.sock" || die "shomei-$n did not start (see $VAR/log/$n.log)"
}

# As root, shomei-revoke may not signal nginx's master (root): this loop, as root, reloads nginx
# whenever the administrator CRL file is replaced (the docker image's nginx entrypoint does the
# same). Run as anyone else, shomei-revoke signals nginx itself (nginx_pid_file).
crl_watch() {
	local f=$VAR/crl/admin-crl.pem seen now
	seen=$(stat -c %Y-%i "$f" 2>/dev/null || echo none)
	while sleep 1; do
		now=$(stat -c %Y-%i "$f" 2>/dev/null || echo none)
		[ "$now" = "$seen" ] && continue
		seen=$now
		[ -s "$f" ] && running "$VAR/run/nginx.pid" || continue
		if kill -HUP "$(cat "$VAR/run/nginx.pid")"; then
			printf 'ts=%s prog=crl-watch level=info event=nginx_reloaded file=%s\n' \
				"$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$f"
		fi
	done
}

start_crl_watch() {
	is_root || return 0
	running "$VAR/run/crl-watch.pid" && return 0
	setsid bash -c '. "$1"; VAR=$2; crl_watch' crl-watch "$ROOT/scripts/lib.sh" "$VAR" \
		>>"$VAR/log/crl-watch.log" 2>&1 </dev/null &
	echo $! >"$VAR/run/crl-watch.pid"
}

render_nginx() {
	local user="" f
	is_root && user="user www-data;"
	mkdir -p "$VAR/nginx/tmp"
	# nginx's workers (www-data) read the portal from VAR, never from the checkout, which may sit
	# in a directory only its owner can enter (/root, a 0700 home)
	rm -rf "$VAR/nginx/html.new"
	cp -R "$ROOT/nginx/html" "$VAR/nginx/html.new" && chmod -R a+rX "$VAR/nginx/html.new" ||
		die "cannot copy the portal into $VAR/nginx"
	rm -rf "$VAR/nginx/html" && mv "$VAR/nginx/html.new" "$VAR/nginx/html"
	for f in nginx.conf fastcgi.inc authed.inc; do
		sed -e "s|@VAR@|$VAR|g" -e "s|@CONF@|$VAR/nginx|g" -e "s|@HTML@|$VAR/nginx/html|g" \
			-e "s|@SOCK@|$SOCK|g" -e "s|@PORT@|$PORT|g" -e "s|@USER@|$user|g" \
			"$ROOT/nginx/${f%.conf}$([ "$f" = nginx.conf ] && echo .conf.in || echo)" >"$VAR/nginx/$f"
	done
}

start_nginx() {
	render_nginx
	mkdir -p "$VAR/crl"
	chmod 755 "$VAR/crl"
	$CTL crl publish --out "$VAR/crl/admin-crl.pem" >/dev/null || die "crl publish failed"
	# shomei-revoke rewrites it: the directory and the file are its
	secure_file "$VAR/crl" shomei-revoke shomei-revoke 0755
	secure_file "$VAR/crl/admin-crl.pem" shomei-revoke shomei-revoke 0644
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
	python3 - "$VAR" "$ROOT" "$url" "$CONF" "$BUILD" <<'PY'
import json, os, sys
var, root, url, conf, build = sys.argv[1:]
a = json.load(open(os.path.join(var, "secrets", "admin.json")))
def rel(p):
    r = os.path.relpath(p, root)
    return os.path.abspath(p) if r.startswith("..") else r
up = {
    "url": url,
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
	stack_env
	check_var_reachable
	make_users
	mkdir -p "$VAR/run" "$SOCK" "$VAR/log" "$VAR/ca" "$VAR/secrets" "$VAR/crl"
	# every process starts here, never in the checkout
	cd "$VAR" || die "cannot enter $VAR"
	chmod 755 "$VAR" "$VAR/run" "$VAR/log"
	if is_root; then
		# the processes' users find their key by its name; each key's own mode guards it
		chmod 711 "$VAR/secrets"
		# the signer and the services make their sockets here (sticky: none removes another's);
		# nginx's workers pass through; each socket's own group guards it
		chown root:shomei-sock "$SOCK"
		chmod 1771 "$SOCK"
	else
		chmod 700 "$VAR/secrets" "$SOCK"
	fi
	write_config
	make_server_tls
	start_postgres
	start_redis
	make_keys
	secure_keys
	provision
	secure_keys
	install_bins
	start_signer
	for s in $SERVICES; do start_service "$s"; done
	start_nginx
	start_crl_watch
	wait_for 20 curl -fsS --cacert "$VAR/tls/server-ca.pem" "https://localhost:$PORT/healthz" ||
		die "the stack does not answer /healthz"
	write_up_json
}

# SIGTERM to the process a pid file names, as the file's owner: a process that writes its own pid
# file can make root signal only processes of its own user. Never fails: one process that cannot
# be signalled stops nothing else.
stop_pid() { # pidfile
	local owner pid
	running "$1" || return 0
	owner=$(stat -c %U "$1")
	pid=$(cat "$1")
	if is_root && [ "$owner" != root ]; then
		setpriv --reuid="$owner" --regid="$(id -g "$owner")" --clear-groups kill "$pid" 2>/dev/null ||
			say "warning: $1 (owned by $owner) names process $pid, which is not $owner's: not signalled"
	else
		kill "$pid" 2>/dev/null || true
	fi
	return 0
}

stack_stop() {
	stack_env
	local f
	if running "$VAR/run/nginx.pid"; then
		nginx -s quit -c "$VAR/nginx/nginx.conf" -p "$VAR/nginx" -e "$VAR/log/nginx-error.log" 2>/dev/null ||
			kill "$(cat "$VAR/run/nginx.pid")"
	fi
	for f in "$VAR"/run/*.pid; do
		[ -f "$f" ] || continue
		case $f in */nginx.pid | */postgresql.pid) continue ;; esac
		stop_pid "$f"
	done
	[ -f "$VAR/pg/data/PG_VERSION" ] && pg_user "$PGBIN/pg_ctl" -D "$VAR/pg/data" -m fast -w stop >/dev/null 2>&1
	for f in "$VAR"/run/*.pid; do
		[ -f "$f" ] || continue
		case $f in */postgresql.pid) rm -f "$f"; continue ;; esac
		wait_for 10 sh -c "! kill -0 \$(cat '$f' 2>/dev/null) 2>/dev/null" ||
			say "warning: the process of $f is still running"
		rm -f "$f"
	done
	return 0
}
