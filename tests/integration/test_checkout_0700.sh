#!/usr/bin/env bash
# test_checkout_0700: any checkout location works (issue 9, item 17). A copy of the working
# tree in a fresh `mktemp -d` (0700: only its owner may enter) builds there, and its scripts/up
# starts a stack of its own (own VAR and PORT: the test stack's port + 7, its plain-HTTP port + 8) that answers /healthz
# and serves the portal over HTTPS with the stack's server CA, while no process of the stack
# runs from the checkout, sits in it or has a file of it mapped. Then it stops the stack and
# removes both directories. TAP on standard output.
set -uo pipefail

ROOT=${SHOMEI_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
n=0
failed=0
ok() { # status description
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		failed=$((failed + 1))
	fi
}
note() { sed 's/^/# /' | tail -n "${1:-20}"; }

base_port=$(/usr/bin/python3 -c 'import json, os, urllib.parse
print(urllib.parse.urlsplit(json.load(open(os.environ["SHOMEI_UP_JSON"]))["url"]).port)' 2>/dev/null || echo 18443)
PORT=$((base_port + 7))
CHECKOUT=$(mktemp -d /tmp/shomei-checkout.XXXXXX)
SRC=$CHECKOUT/shomei
STATE=$(mktemp -d /tmp/shomei-checkout-var.XXXXXX)
chmod 755 "$STATE"
VARD=$STATE/var
LOG=$STATE/up.log

up() { # scripts/up of the copy, with its own state, port and build, nothing of the caller's stack
	(cd "$SRC" && env -u SHOMEI_CONFIG VAR="$VARD" PORT="$PORT" HTTP_PORT="$((PORT + 1))" BUILD="$SRC/build" \
		scripts/up "$@")
}
cleanup() {
	[ -d "$SRC" ] && up stop >/dev/null 2>&1
	rm -rf "$CHECKOUT" "$STATE"
}
trap cleanup EXIT

ok "$([ "$(stat -c %a "$CHECKOUT")" = 700 ] && echo 0 || echo 1)" "the checkout's directory is 0700 ($CHECKOUT)"
mkdir -p "$SRC"
# the working tree as it is (tracked and new files), without build directories or state
git -C "$ROOT" ls-files -co --exclude-standard -z |
	while IFS= read -r -d '' f; do [ -e "$ROOT/$f" ] && printf '%s\0' "$f"; done |
	tar -C "$ROOT" --null -T - -cf - | tar -C "$SRC" -xf -
ok $? "a copy of the working tree in it"

up >"$LOG" 2>&1
rc=$?
ok $rc "scripts/up from the 0700 checkout builds there and starts a stack (port $PORT)"
[ $rc = 0 ] || note 30 <"$LOG"

CA=$VARD/tls/server-ca.pem
health=$(curl -sS --cacert "$CA" "https://localhost:$PORT/healthz" 2>&1)
ok "$(printf '%s' "$health" | grep -q '"status":"ok"' && echo 0 || echo 1)" "/healthz answers ok over HTTPS"
[ -n "$health" ] && printf '%s\n' "$health" | note 3
index=$(curl -sS --cacert "$CA" "https://localhost:$PORT/" 2>&1)
ok "$([ -n "$index" ] && [ "$index" = "$(cat "$SRC/nginx/html/index.html")" ] && echo 0 || echo 1)" \
	"the portal's index is served (the same as nginx/html/index.html)"

# every process of the stack: its programs, its directory, its mapped files
pids=""
for f in "$VARD"/run/*.pid; do
	[ -f "$f" ] || continue
	p=$(cat "$f")
	[ -d "/proc/$p" ] && pids="$pids $p"
done
master=$(cat "$VARD/run/nginx.pid" 2>/dev/null || echo 0)
workers=$(pgrep -P "$master" 2>/dev/null | tr '\n' ' ')
pids="$pids $workers"
ok "$([ -n "$workers" ] && echo 0 || echo 1)" "nginx's workers are found ($workers)"
for name in signer auth users issue revoke download; do
	p=$(cat "$VARD/run/$name.pid" 2>/dev/null || echo 0)
	exe=$(readlink "/proc/$p/exe" 2>/dev/null)
	ok "$([ "$exe" = "$VARD/bin/shomei-$name" ] && echo 0 || echo 1)" \
		"shomei-$name runs from \$VAR/bin (${exe:-not running})"
done
inside=""
for p in $pids; do
	for what in exe cwd root; do
		case $(readlink "/proc/$p/$what" 2>/dev/null) in "$CHECKOUT"/*) inside="$inside $p:$what" ;; esac
	done
	grep -q "$CHECKOUT" "/proc/$p/maps" 2>/dev/null && inside="$inside $p:maps"
done
ok "$([ -z "$inside" ] && echo 0 || echo 1)" "no process of the stack runs from, sits in or maps the checkout${inside:+:$inside}"

up stop >>"$LOG" 2>&1
ok $? "the stack stops"
alive() { for p in $pids; do [ -d "/proc/$p" ] && printf ' %s' "$p"; done; }
for _ in $(seq 50); do [ -z "$(alive)" ] && break; sleep 0.2; done
left=$(alive)
ok "$([ -z "$left" ] && echo 0 || echo 1)" "and none of its processes is left${left:+:$left}"

echo "1..$n"
[ "$failed" = 0 ]
