#!/bin/sh
# test_crypto_tools.sh: shomei's certificates, CRLs and PKCS#12 checked by independent tools
# (openssl, GnuTLS certtool, python3-cryptography). Usage: test_crypto_tools.sh path/to/x509-demo
# Needs no running stack; prints TAP.
set -u
demo=${1:-${SHOMEI_BUILD:-build}/tests/x509-demo}
tmp=$(mktemp -d /tmp/shomei-crypto-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
n=0
failed=0

ok() { # ok NAME COMMAND...
	name=$1
	shift
	n=$((n + 1))
	if out=$("$@" 2>&1); then
		echo "ok $n - $name"
	else
		echo "not ok $n - $name"
		echo "$out" | sed 's/^/# /' | head -20
		failed=$((failed + 1))
	fi
}

fails() { # the command must fail
	name=$1
	shift
	n=$((n + 1))
	if "$@" >/dev/null 2>&1; then
		echo "not ok $n - $name"
		failed=$((failed + 1))
	else
		echo "ok $n - $name"
	fi
}

have() { command -v "$1" >/dev/null 2>&1; }

for kt in p256 rsa2048; do
	d=$tmp/$kt
	mkdir -p "$d"
	ok "$kt: x509-demo writes a PKI" "$demo" pki "$d" "$kt"
	pw=$(cat "$d/p12.pass" 2>/dev/null)

	# openssl
	ok "$kt: openssl verifies the client chain (sslclient)" \
		openssl verify -purpose sslclient -CAfile "$d/root.pem" -untrusted "$d/ca.pem" "$d/client.pem"
	ok "$kt: openssl verifies the Japanese-subject client" \
		openssl verify -purpose sslclient -CAfile "$d/root.pem" -untrusted "$d/ca.pem" "$d/ja.pem"
	ok "$kt: openssl verifies the good client with CRLs" \
		openssl verify -crl_check_all -CAfile "$d/root.pem" -untrusted "$d/ca.pem" -CRLfile "$d/crls.pem" "$d/client.pem"
	fails "$kt: openssl refuses the revoked client with CRLs" \
		openssl verify -crl_check_all -CAfile "$d/root.pem" -untrusted "$d/ca.pem" -CRLfile "$d/crls.pem" "$d/revoked.pem"
	ok "$kt: revocation reason is keyCompromise" \
		sh -c "openssl crl -in '$d/ca-crl.pem' -noout -text | grep -q 'Key Compromise'"
	ok "$kt: CRL verifies against the CA" \
		openssl crl -in "$d/ca-crl.pem" -CAfile "$d/chain.pem" -noout
	ok "$kt: O, OU are UTF8STRING in the DER" \
		sh -c "openssl asn1parse -in '$d/ja.pem' | grep -c UTF8STRING | grep -q '^[4-9]'"
	ok "$kt: modern p12 opens with openssl pkcs12 -info" \
		sh -c "openssl pkcs12 -in '$d/client-modern.p12' -info -noout -passin 'pass:$pw' 2>&1 | grep -q 'AES-256-CBC'"
	ok "$kt: compat p12 opens with openssl pkcs12 -info" \
		sh -c "openssl pkcs12 -in '$d/client-compat.p12' -info -noout -passin 'pass:$pw' 2>&1 | grep -q 'pbeWithSHA1And3-KeyTripleDES-CBC'"
	fails "$kt: p12 refuses a wrong password" \
		openssl pkcs12 -in "$d/client-modern.p12" -info -noout -passin pass:wrong

	# GnuTLS
	if have certtool; then
		ok "$kt: certtool reads the client certificate" \
			sh -c "certtool --certificate-info --infile '$d/client.pem' | grep -q 'TLS WWW Client'"
		cat "$d/client.pem" "$d/ca.pem" >"$d/leaf-chain.pem"
		ok "$kt: certtool verifies the chain against the root" \
			sh -c "certtool --verify --load-ca-certificate '$d/root.pem' --infile '$d/leaf-chain.pem' | grep -q 'Verified. The certificate is trusted'"
		ok "$kt: certtool reads the CRL" \
			certtool --crl-info --infile "$d/ca-crl.pem"
		ok "$kt: certtool reads the modern p12" \
			certtool --p12-info --inder --infile "$d/client-modern.p12" --password "$pw"
		ok "$kt: certtool reads the compat p12" \
			certtool --p12-info --inder --infile "$d/client-compat.p12" --password "$pw"
	else
		n=$((n + 1)); echo "ok $n - # SKIP certtool not installed"
	fi

	# python3-cryptography
	if /usr/bin/python3 -c 'import cryptography' 2>/dev/null; then
		ok "$kt: python3-cryptography loads both p12 files with chain and friendly name" \
			/usr/bin/python3 - "$d" "$pw" <<'PY'
import sys
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography import x509
from cryptography.x509.oid import NameOID, ExtendedKeyUsageOID
d, pw = sys.argv[1], sys.argv[2].encode()
for name, cn in (("client-modern.p12", "Taro Yamada"), ("client-compat.p12", "Hanako Suzuki")):
    p = pkcs12.load_pkcs12(open(f"{d}/{name}", "rb").read(), pw)
    assert p.key is not None, name
    assert p.cert.friendly_name.decode() == cn, (name, p.cert.friendly_name)
    assert len(p.additional_certs) == 2, name
    c = p.cert.certificate
    assert c.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == cn
    bc = c.extensions.get_extension_for_class(x509.BasicConstraints)
    assert bc.critical and not bc.value.ca
    eku = c.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert ExtendedKeyUsageOID.CLIENT_AUTH in eku
    assert c.serial_number > 0 and c.serial_number.bit_length() >= 64
ja = x509.load_pem_x509_certificate(open(f"{d}/ja.pem", "rb").read())
o = ja.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0]
assert o.value == "令和証明書サービス株式会社" and o._type.name == "UTF8String", o
san = ja.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
assert san.get_values_for_type(x509.RFC822Name) == ["hanako@example.jp"]
crl = x509.load_pem_x509_crl(open(f"{d}/ca-crl.pem", "rb").read())
ca = x509.load_pem_x509_certificate(open(f"{d}/ca.pem", "rb").read())
assert crl.is_signature_valid(ca.public_key())
rev = x509.load_pem_x509_certificate(open(f"{d}/revoked.pem", "rb").read())
assert crl.get_revoked_certificate_by_serial_number(rev.serial_number) is not None
PY
	else
		n=$((n + 1)); echo "ok $n - # SKIP python3-cryptography not installed"
	fi
done

echo "1..$n"
[ "$failed" -eq 0 ]
