#!/bin/sh
# shomei-init: the one-shot `init` service of docker/docker-compose.yml, the container
# counterpart of scripts/lib.sh's provision(). Idempotent: run it again at any time
# (`docker-compose run --rm init`) to re-publish the administrator CRL for nginx.
#   1. shomeictl migrate, ca init
#   2. the demo tenant and its administrator with a certificate (once; the password and the
#      .p12 go to /var/lib/shomei/secrets/admin.json and <login>.p12, mode 0600)
#   3. the files nginx needs, into /var/lib/shomei/public: the administrator CA chain and CRLs
#   4. a TLS server certificate for nginx from a local CA of its own, unless one is there
# Environment: TENANT (demo), LOGIN_ID (admin01), TLS_NAMES (extra subjectAltNames, e.g.
# "DNS:ca.example.jp,IP:192.0.2.10").
set -eu

CONF=${SHOMEI_CONFIG:-/etc/shomei/shomei.conf}
CTL="shomeictl -c $CONF"
SECRETS=/var/lib/shomei/secrets
PUBLIC=/var/lib/shomei/public
TLS=/var/lib/shomei/tls
slug=${TENANT:-demo}
login=${LOGIN_ID:-admin01}

say() { printf 'shomei-init: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

[ -f /run/shomei-key/ca-kek.key ] || die "no CA key-encryption key: give the service the docker secret ca_kek (docker/make-secrets.sh)"
umask 077

# PostgreSQL may still be starting even when compose says it is healthy (first initdb restarts it).
n=0
until $CTL migrate >/dev/null 2>&1; do
	n=$((n + 1))
	[ $n -ge 30 ] && { $CTL migrate || die "migrate failed"; }
	sleep 2
done
say "database migrated"
# A deployment from before the split was given its old master key for this run only
# (docker/README.md, "Keys"): re-seal everything under the two keys.
if [ -f /run/shomei-key/master.key ]; then
	SHOMEI_MASTER_KEY_FILE=/run/shomei-key/master.key $CTL keys split || die "keys split failed"
	say "keys split: delete docker/secrets/master.key once the two new keys are backed up"
fi
$CTL ca init >/dev/null || die "ca init failed"

if ! $CTL tenant list 2>/dev/null | grep -qw "$slug"; then
	$CTL tenant create --slug "$slug" --name "令和証明書サービス" --name-en "Reiwa Cert Service" \
		--domain "$slug.localhost" --quota 50 \
		--features validity_period,org_units,install_restriction,download_site,admin_may_issue,notify_users \
		>/dev/null || die "tenant create failed"
	say "tenant $slug created"
fi

if [ ! -f "$SECRETS/admin.json" ]; then
	out=$($CTL admin create --tenant "$slug" --login-id "$login") || die "admin create failed"
	pw=$(printf '%s\n' "$out" | sed -n 's/^password: //p')
	out=$($CTL admin cert --login-id "$login" --out "$SECRETS/$login.p12") || die "admin cert failed"
	p12pw=$(printf '%s\n' "$out" | sed -n 's/^password: //p')
	printf '{"tenant":"%s","login_id":"%s","password":"%s","admin_p12":"%s","admin_p12_password":"%s"}\n' \
		"$slug" "$login" "$pw" "$SECRETS/$login.p12" "$p12pw" >"$SECRETS/admin.json"
	unset pw p12pw out
	say "administrator $login created; password and certificate in $SECRETS/admin.json"
fi

# What nginx verifies administrator certificates with. Written beside, then renamed, so a
# reloading nginx never reads half a file.
$CTL ca chain --out "$PUBLIC/admin-chain.pem.new" >/dev/null || die "ca chain failed"
$CTL ca chain --ca-only --out "$PUBLIC/admin-ca.pem.new" >/dev/null || die "ca chain failed"
$CTL crl publish --out "$PUBLIC/admin-crl.pem.new" >/dev/null || die "crl publish failed"
chmod 0644 "$PUBLIC/admin-chain.pem.new" "$PUBLIC/admin-ca.pem.new" "$PUBLIC/admin-crl.pem.new"
mv -f "$PUBLIC/admin-chain.pem.new" "$PUBLIC/admin-chain.pem"
mv -f "$PUBLIC/admin-ca.pem.new" "$PUBLIC/admin-ca.pem"
mv -f "$PUBLIC/admin-crl.pem.new" "$PUBLIC/admin-crl.pem"
say "administrator CA chain and CRL published"

if [ ! -f "$TLS/server.crt" ]; then
	(
		cd "$TLS"
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
			-keyout server-ca.key -out server-ca.pem -subj "/CN=shomei local server CA" \
			-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
		openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout server.key \
			-out server.csr -subj "/CN=localhost" 2>/dev/null
		printf 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1%s\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n' \
			"${TLS_NAMES:+,$TLS_NAMES}" >server.ext
		openssl x509 -req -in server.csr -CA server-ca.pem -CAkey server-ca.key -CAcreateserial \
			-days 825 -extfile server.ext -out server.crt 2>/dev/null
		rm -f server.csr server.ext
		chmod 0644 server-ca.pem server.crt
	) || die "cannot make the TLS certificate"
	say "TLS server certificate made (verify it with $TLS/server-ca.pem)"
fi
say "done"
