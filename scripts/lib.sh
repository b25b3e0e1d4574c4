# lib.sh: what scripts/up and scripts/test share: packages, build, and the local stack.
# Sourced, not run. Everything lives under $VAR (default: var/ in the repository).
# shellcheck shell=bash

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PGBIN=${PGBIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
SERVICES="auth users issue revoke download"

# Debian packages the build, the stack and the tests need.
PACKAGES="build-essential meson ninja-build pkg-config clang libfcgi-dev libssl-dev libpq-dev
libhiredis-dev libcjson-dev libzip-dev zlib1g-dev libsodium-dev nettle-dev libgmp-dev libqrencode-dev
postgresql postgresql-contrib redis-server nginx-light openssl gnutls-bin python3 python3-cryptography
chromium fonts-ipafont-gothic unzip wrk curl ca-certificates procps libclang-rt-14-dev
libcurl4-openssl-dev postfix libcairo2-dev libpango1.0-dev poppler-utils zbar-tools"

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
#   shomei-internal        enters $VAR/run/internal, nginx's internal listener: users, download
SHOMEI_GROUPS="shomei-sock shomei-signer-clients shomei-pg shomei-redis shomei-data shomei-internal"
proc_groups() { # signer|auth|users|issue|revoke|download: the groups its user joins
	case $1 in
	signer) echo shomei-sock,shomei-signer-clients,shomei-pg ;;
	auth) echo shomei-sock,www-data,shomei-pg,shomei-redis ;;
	users | download) echo shomei-sock,www-data,shomei-pg,shomei-redis,shomei-data,shomei-internal ;;
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
	for n in signer $SERVICES supervise; do
		src=$BUILD/services/$n/shomei-$n
		[ "$n" = supervise ] && src=$BUILD/tools/supervise/shomei-supervise
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
	# Postfix as a program only: the stack runs its own instance under VAR (start_smtp)
	echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
	apt-get update -q >/dev/null
	# shellcheck disable=SC2086
	apt-get install -y -q --no-install-recommends $missing >/dev/null
	# Debian starts these as system services on install; shomei runs its own.
	for s in nginx redis-server postgresql postfix; do
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
SUPERVISED="signer $SERVICES redis postgresql smtp"

# supervise NAME LOG [supervisor options] -- COMMAND...: start COMMAND under a supervisor of its
# own, in the background, in a session of its own; COMMAND must stay in the foreground.
supervise() {
	local n=$1 log=$2
	shift 2
	setsid "$VAR/bin/shomei-supervise" -n "$n" -p "$VAR/run/$n.supervisor.pid" \
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
	# a socket file nobody listens on, maybe another user's: its process may not remove it from
	# the sticky socket directory
	if [ -e "$SOCK/$n.sock" ] && ! sock_up "$SOCK/$n.sock"; then rm -f "$SOCK/$n.sock"; fi
	rm -f "$VAR/run/$n.hold"
	running "$VAR/run/$n.supervisor.pid" || { say "$n has no supervisor running: scripts/up starts it"; return 0; }
	if [ "$n" = redis ]; then
		wait_for 15 redis-cli -s "$VAR/run/redis/redis.sock" ping || die "Redis did not start"
	elif [ "$n" = smtp ]; then
		wait_for 30 smtp_up || die "the SMTP server did not start (see $VAR/log/smtp.log)"
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
	case $VAR in /*) ;; *) VAR=$PWD/$VAR ;; esac
	PORT=${PORT:-8443}
	# the relying parties' plain-HTTP listener (/crl/, /ca/, /ocsp); 80 in production
	HTTP_PORT=${HTTP_PORT:-8080}
	REVOCATION_URL=http://localhost:$HTTP_PORT
	# the local SMTP server (Postfix, 127.0.0.1 only), delivering every message to $VAR/mail/
	SMTP_PORT=${SMTP_PORT:-$((PORT + 70))}
	# the download site's renewal page (/dl/<slug>/renew), a TLS server of its own asking for the
	# user's client certificate (docs/DECISIONS.md, "Renewal with the current certificate")
	RENEW_PORT=${RENEW_PORT:-$((PORT + 30))}
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

pg_prefix() { # what runs a command as the owner of the cluster, exec'ing it (no fork)
	is_root && echo setpriv --reuid=postgres --regid=postgres --init-groups
	return 0
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

pg_ready() {
	"$PGBIN/pg_isready" -q -h "$VAR/run/pg" -d postgres -U shomei
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
	if ! running "$VAR/run/postgresql.supervisor.pid"; then
		# a postmaster without its supervisor (pg_ctl's, or its supervisor died): stopped first
		if pg_user "$PGBIN/pg_ctl" -D "$data" status >/dev/null 2>&1; then
			say "stopping PostgreSQL, which runs without its supervisor"
			pg_user "$PGBIN/pg_ctl" -D "$data" -m fast -w -t 60 stop >/dev/null
		fi
		# in the foreground under its supervisor, which stops it with SIGINT (fast shutdown); its
		# log is postgres's too (pg_ctl -l, as postgres, appends to it)
		own_file "$VAR/pg/postgresql.log" postgres
		# PostgreSQL's own 128MB of shared buffers unless PG_SHARED_BUFFERS says (2GB holds a
		# tenant of a million certificates, users and history entries: bench/lists)
		local buffers=()
		if [ -n "${PG_SHARED_BUFFERS:-}" ]; then
			[[ $PG_SHARED_BUFFERS =~ ^[1-9][0-9]*(kB|MB|GB)$ ]] ||
				die "PG_SHARED_BUFFERS=$PG_SHARED_BUFFERS: a size such as 512MB or 2GB (kB, MB or GB)"
			buffers=(-c "shared_buffers=$PG_SHARED_BUFFERS")
		fi
		# shellcheck disable=SC2046
		supervise postgresql "$VAR/pg/postgresql.log" -s INT -t 60 -- \
			$(pg_prefix) "$PGBIN/postgres" -D "$data" "${buffers[@]}"
	elif pg_ready; then
		# a running cluster reads the authentication files anew (the socket's mode waits for a restart)
		pg_user "$PGBIN/pg_ctl" -D "$data" reload >/dev/null
	fi
	not_held postgresql || die "PostgreSQL is held: scripts/up release postgresql"
	wait_for 60 pg_ready || { tail -n 20 "$VAR/pg/postgresql.log" >&2; die "PostgreSQL did not start"; }
	pg_roles
	head -n 1 "$data/postmaster.pid" >"$VAR/run/postgresql.pid"
}

start_redis() {
	mkdir -p "$VAR/redis" "$VAR/run/redis"
	if ! supervised redis; then
		# its data are its own (a directory from before belonged to root); its socket's directory
		# is one it may write
		is_root && { chown -R redis:shomei-redis "$VAR/redis" || die "cannot give $VAR/redis to redis"; }
		secure_file "$VAR/redis" redis shomei-redis 0700
		secure_file "$VAR/run/redis" redis shomei-redis 0750
		own_file "$VAR/run/redis.pid" redis
		own_file "$VAR/log/redis.log" redis
		# in the foreground, under its supervisor (which sends it SIGTERM: it saves, then exits).
		# As root: user redis, group shomei-redis, so its socket (0660) is the services' alone.
		# Born under umask 077: Redis sets the socket's mode after it listens.
		# shellcheck disable=SC2046
		(umask 077 && supervise redis "$VAR/log/redis.log" -- $(priv redis shomei-redis) redis-server --port 0 \
			--unixsocket "$VAR/run/redis/redis.sock" --unixsocketperm 660 --dir "$VAR/redis" \
			--appendonly yes --daemonize no --pidfile "$VAR/run/redis.pid" --logfile "$VAR/log/redis.log")
	fi
	not_held redis || return 0
	wait_for 10 redis-cli -s "$VAR/run/redis/redis.sock" ping || die "Redis did not start"
}

# The configuration is scripts/up's own: written anew at every start (the sockets' groups and
# the reload of nginx depend on who runs it).
write_config() {
	local sock_group="" signer_group="" pidfile=$VAR/run/nginx.pid allow_cert="" allow_crl="" allow_ocsp=""
	local clients
	if is_root; then
		sock_group=www-data signer_group=shomei-signer-clients
		# the signer's callers by their peer credentials (empty: the signer's own user)
		allow_cert=shomei-issue allow_crl=shomei-revoke allow_ocsp=shomei-revoke
		# shomei-revoke may not signal a root nginx: crl_watch reloads it
		pidfile=""
	fi
	clients=$(internal_clients)
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
revocation_url = $REVOCATION_URL
renew_url = https://localhost:$RENEW_PORT
migrations_dir = $ROOT/db/migrations
log_level = info
internal_socket = $VAR/run/internal/api.sock
internal_token_dir = $VAR/secrets/internal

[signer]
allow_cert = $allow_cert
allow_crl = $allow_crl
allow_ocsp = $allow_ocsp

[revoke]
admin_crl_file = $VAR/crl/admin-crl.pem
nginx_pid_file = $pidfile
crl_check_interval = ${CRL_CHECK_INTERVAL:-60}
due_check_interval = ${DUE_CHECK_INTERVAL:-60}
internal_clients = $clients

[mail]
smtp_url = smtp://127.0.0.1:$SMTP_PORT
# the local server on the loopback; production: smtps://, or smtp:// with STARTTLS required
smtp_starttls = off
mail_from = shomei-noreply@localhost
template_dir = $VAR/mail-templates
reminder_interval = ${DUE_CHECK_INTERVAL:-3600}
retry_base = ${MAIL_RETRY_BASE:-5}
poll_ms = 500
EOF
	chmod 644 "$CONF"
}

# The internal API (docs/DECISIONS.md, "The internal revocation API"): each service that calls
# another's gets a random token in $VAR/secrets/internal/NAME.token, a file only it may read (as
# root: owned by the user that runs it, 0400); the callee's configuration holds its SHA-256
# ([revoke] internal_clients). nginx's internal listener is a socket in $VAR/run/internal, a
# directory only root and the group shomei-internal (the callers) may enter.
INTERNAL_CALLERS="users download"

internal_owner() { # name: the user that runs shomei-NAME (as root, its own; else the invoker)
	if is_root && id -u "shomei-$1" >/dev/null 2>&1; then echo "shomei-$1"; else id -un; fi
}

make_internal_tokens() {
	local d=$VAR/secrets/internal n f
	mkdir -p "$d"
	# each caller finds its own file by name; the file's mode guards it
	secure_file "$d" root root 0711
	for n in $INTERNAL_CALLERS; do
		f=$d/$n.token
		if [ ! -s "$f" ]; then
			(umask 077 && openssl rand -hex 32 >"$f.new" && mv -f "$f.new" "$f") ||
				die "cannot create the internal token of $n"
		fi
		is_root && { chown "$(internal_owner "$n"):" "$f" || die "cannot give $f to shomei-$n"; }
		chmod 400 "$f"
	done
}

internal_clients() { # users:<sha256 hex>,download:<sha256 hex>
	local n out="" h
	for n in $INTERNAL_CALLERS; do
		h=$(head -n 1 "$VAR/secrets/internal/$n.token" | tr -d '\r\n' | sha256sum | cut -d' ' -f1)
		out="$out${out:+,}$n:$h"
	done
	printf '%s' "$out"
}

# The directory of nginx's internal listener: root and the callers only.
make_internal_dir() {
	local d=$VAR/run/internal
	mkdir -p "$d"
	# make_users made the group (as root); nginx's master (root) makes the socket
	secure_file "$d" root shomei-internal 0750
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

# A process's pid file and socket before its supervisor first starts it: the file its own (it
# writes it), a socket left by a process that is gone removed (the sticky socket directory lets
# only its owner do that; the process itself removes its own stale socket when restarted).
prepare_proc() { # name
	own_file "$VAR/run/$1.pid" "shomei-$1"
	rm -f "$SOCK/$1.sock"
}

# The local SMTP server: a Postfix instance of the stack's own (configuration, queue and log under
# $VAR/postfix and $VAR/log), listening on 127.0.0.1:$SMTP_PORT only and delivering every message,
# whatever its address, to the Maildir $VAR/mail/ (as nobody). An address whose local part starts
# with "reject-" is refused with 550, the permanent failure the tests need. Root only (Postfix's
# master must be): run as anyone else, there is no local server and the mail worker keeps retrying.
# docs/DECISIONS.md, "Notices".
smtp_up() {
	local banner
	banner=$(timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$SMTP_PORT && head -c 3 <&3" 2>/dev/null) &&
		[ "$banner" = 220 ]
}

write_smtp_config() {
	local d=$VAR/postfix/etc
	mkdir -p "$d" "$VAR/postfix/spool" "$VAR/postfix/data" "$VAR/mail/new" "$VAR/mail/cur" "$VAR/mail/tmp"
	chown -R nobody:nogroup "$VAR/mail" && chmod 755 "$VAR/mail" "$VAR/mail/new" "$VAR/mail/cur" "$VAR/mail/tmp" ||
		die "cannot make the Maildir $VAR/mail"
	chown postfix: "$VAR/postfix/data" || die "cannot give $VAR/postfix/data to postfix"
	cp /etc/postfix/master.cf "$d/master.cf"
	printf '/^reject-/ 550 5.1.1 mailbox unavailable\n' >"$d/reject"
	cat >"$d/main.cf" <<EOF
# written by scripts/up at every start: the stack's own SMTP server (see scripts/lib.sh)
compatibility_level = 3.6
queue_directory = $VAR/postfix/spool
data_directory = $VAR/postfix/data
maillog_file = $VAR/log/smtp.log
maillog_file_prefixes = $VAR/log
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = localhost
mydomain = localhost
mydestination =
relay_domains =
local_recipient_maps =
local_transport = error:local delivery is disabled
virtual_mailbox_domains = static:all
virtual_mailbox_base = $VAR
virtual_mailbox_maps = static:mail/
virtual_uid_maps = static:$(id -u nobody)
virtual_gid_maps = static:$(getent group nogroup | cut -d: -f3)
virtual_minimum_uid = 100
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject
smtpd_recipient_restrictions = check_recipient_access regexp:$d/reject, permit_mynetworks, reject
biff = no
EOF
	# no service in a chroot (its files would have to be copied in); SMTP on the stack's port only
	postconf -c "$d" -F -e '*/*/chroot = n' || die "postconf failed"
	postconf -c "$d" -MX smtp/inet 2>/dev/null || true
	postconf -c "$d" -M -e "127.0.0.1:$SMTP_PORT/inet = 127.0.0.1:$SMTP_PORT inet n - n - - smtpd" ||
		die "postconf failed"
	postfix -c "$d" check >>"$VAR/log/smtp.log" 2>&1 || die "postfix check failed (see $VAR/log/smtp.log)"
}

start_smtp() {
	if ! is_root; then
		say "not root: no local SMTP server (Postfix's master needs root); notices stay queued"
		return 0
	fi
	command -v postconf >/dev/null || die "postfix is not installed"
	if ! supervised smtp; then
		write_smtp_config
		# the master in the foreground under its supervisor (SIGTERM stops it and its children)
		supervise smtp "$VAR/log/smtp.log" -- bash -c 'echo $$ >"$1"; exec /usr/lib/postfix/sbin/master -c "$2" -d' \
			smtp "$VAR/run/smtp.pid" "$VAR/postfix/etc"
	fi
	not_held smtp || return 0
	wait_for 30 smtp_up || die "the SMTP server did not start on 127.0.0.1:$SMTP_PORT (see $VAR/log/smtp.log)"
}

# The notices' templates, copied where shomei-users reads them (an operator edits these copies
# on a running stack, or templates/mail/ in the checkout for every start).
install_templates() {
	rm -rf "$VAR/mail-templates.new"
	cp -R "$ROOT/templates/mail" "$VAR/mail-templates.new" && chmod -R a+rX "$VAR/mail-templates.new" ||
		die "cannot copy the mail templates into $VAR"
	rm -rf "$VAR/mail-templates" && mv "$VAR/mail-templates.new" "$VAR/mail-templates"
}

start_signer() {
	# shellcheck disable=SC2046
	supervised signer || {
		prepare_proc signer
		supervise signer "$VAR/log/signer.log" -- \
			$(priv shomei-signer) "$VAR/bin/shomei-signer" -c "$CONF" -p "$VAR/run/signer.pid"
	}
	wait_up signer
}

start_service() { # name
	local n=$1
	# shellcheck disable=SC2046
	supervised "$n" || {
		prepare_proc "$n"
		supervise "$n" "$VAR/log/$n.log" -- \
			$(priv "shomei-$n") "$VAR/bin/shomei-$n" -c "$CONF" -p "$VAR/run/$n.pid"
	}
	wait_up "$n"
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
	for f in nginx.conf fastcgi.inc fastcgi-ocsp.inc authed.inc; do
		sed -e "s|@VAR@|$VAR|g" -e "s|@CONF@|$VAR/nginx|g" -e "s|@HTML@|$VAR/nginx/html|g" \
			-e "s|@SOCK@|$SOCK|g" -e "s|@PORT@|$PORT|g" -e "s|@HTTP_PORT@|$HTTP_PORT|g" \
			-e "s|@RENEW_PORT@|$RENEW_PORT|g" -e "s|@USER@|$user|g" \
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
		# no nginx runs for this var/: a socket left by one that died or failed to start is stale
		# and would keep the new one from binding its internal listener
		rm -f "$VAR/run/internal/api.sock"
		nginx -c "$VAR/nginx/nginx.conf" -p "$VAR/nginx" -e "$VAR/log/nginx-error.log" ||
			die "nginx did not start"
	fi
}

write_up_json() {
	local url="https://localhost:$PORT"
	SMTP_PORT=$SMTP_PORT RENEW_URL=https://localhost:$RENEW_PORT \
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
    "maildir": rel(os.path.join(var, "mail")),
    "smtp_port": int(os.environ.get("SMTP_PORT", "0")),
    "renew_url": os.environ.get("RENEW_URL", ""),
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
	make_internal_tokens
	make_internal_dir
	write_config
	install_bins
	make_server_tls
	start_postgres
	start_redis
	make_keys
	secure_keys
	provision
	secure_keys
	start_smtp
	install_templates
	start_signer
	for s in $SERVICES; do start_service "$s"; done
	start_nginx
	start_crl_watch
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
	stop_supervisor smtp
	stop_supervisor smtp wait
	for f in "$VAR"/run/*.pid; do
		[ -f "$f" ] || continue
		case $f in */nginx.pid | */postgresql.pid) continue ;; esac
		stop_pid "$f"
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
