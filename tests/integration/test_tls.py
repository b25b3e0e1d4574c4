#!/usr/bin/env python3
"""test_tls.py: what nginx offers on the portal's TLS port, checked with the openssl CLI.

- Browsers are asked for a client certificate naming the administrator CA alone (not the root),
  so they never propose an end user's certificate, which another CA under the same root issued;
  an administrator certificate still logs in.
- TLS 1.2 takes forward-secret AEAD suites only; TLS 1.3 works.
- HSTS covers the subdomains.
- nginx's workers read the portal from the stack's own directory, never from the checkout (which
  may sit in a directory only its owner can enter).
"""
import os
import re
import subprocess

from cryptography import x509
from cryptography.x509.oid import NameOID

from shomei_test import HOST, PORT, TAP, UP, VAR, Client, path


def s_client(*args, stdin=b""):
    p = subprocess.run(["openssl", "s_client", "-connect", "%s:%d" % (HOST, PORT), "-servername", "localhost",
                        "-CAfile", path(UP["server_ca"])] + list(args),
                       input=stdin, capture_output=True, timeout=30)
    return p.returncode, p.stdout.decode("utf-8", "replace") + p.stderr.decode("utf-8", "replace")


def cn_of(pem_bytes, index):
    """The CN of the index-th certificate of a PEM bundle (Debian's cryptography 38 has no
    load_pem_x509_certificates)."""
    blocks = re.findall(rb"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", pem_bytes, re.S)
    cert = x509.load_pem_x509_certificate(blocks[index])
    return cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value


def test_client_ca_names(t):
    chain = open(os.path.join(VAR, "ca", "admin-chain.pem"), "rb").read()
    admin_cn, root_cn = cn_of(chain, 0), cn_of(chain, 1)
    rc, out = s_client("-tls1_2")
    m = re.search(r"Acceptable client certificate CA names\n(.*?)\n(?:Requested|Client Certificate Types|Shared|Peer)", out, re.S)
    names = m.group(1) if m else ""
    t.ok(admin_cn in names, "the administrator CA is the name browsers are offered", names)
    t.ok(root_cn not in names, "the root is not offered (an end user's certificate is never proposed)", names)
    t.eq(len([l for l in names.splitlines() if l.strip()]), 1, "one CA name only", names)


def test_admin_certificate(t):
    secrets = os.path.join(VAR, "secrets")
    cert, key = os.path.join(secrets, "tls-admin.crt"), os.path.join(secrets, "tls-admin.key")
    pw = UP["admin_p12_password"]
    for what, args in (("cert", ["-clcerts", "-nokeys", "-out", cert]), ("key", ["-nocerts", "-nodes", "-out", key])):
        subprocess.run(["openssl", "pkcs12", "-in", path(UP["admin_p12"]), "-passin", "pass:" + pw] + args,
                       check=True, capture_output=True)
    try:
        r = Client(certfile=cert, keyfile=key).post("/api/auth/login/certificate", {})
        t.eq(r.status, 200, "an administrator certificate still logs in (verified with the root trusted, not named)",
             r.body[:200])
    finally:
        for f in (cert, key):
            if os.path.exists(f):
                os.remove(f)


def test_ciphers(t):
    rc, out = s_client("-tls1_2", "-cipher", "AES128-SHA:AES256-SHA256:ECDHE-RSA-AES128-SHA:ECDHE-ECDSA-AES128-SHA")
    t.ok(rc != 0, "TLS 1.2 with CBC or non-forward-secret suites only: refused", out[-400:])
    rc, out = s_client("-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256")
    t.ok(rc == 0 and re.search(r"Cipher is ECDHE-(RSA|ECDSA)-AES128-GCM-SHA256", out), "TLS 1.2 with ECDHE + AES-GCM: accepted",
         out[-400:])
    rc, out = s_client("-tls1_3")
    t.ok(rc == 0 and "TLSv1.3" in out, "TLS 1.3: accepted", out[-400:])
    rc, out = s_client("-tls1_1")
    t.ok(rc != 0, "TLS 1.1: refused", out[-300:])


def test_hsts(t):
    r = Client().get("/")
    hsts = r.header("Strict-Transport-Security") or ""
    t.ok("max-age=31536000" in hsts and "includeSubDomains" in hsts, "HSTS for a year, subdomains included", hsts)


def test_portal_from_var(t):
    conf = open(os.path.join(VAR, "nginx", "nginx.conf"), encoding="utf-8").read()
    roots = re.findall(r"^\s*root\s+([^;]+);", conf, re.M)
    html = os.path.join(VAR, "nginx", "html")
    t.ok(roots and all(r.strip() == html for r in roots), "nginx's root is the copy under the stack's directory", roots)
    checkout = os.path.realpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
    t.ok(not any(os.path.realpath(r.strip()).startswith(checkout + os.sep) for r in roots) or
         os.path.realpath(VAR).startswith(checkout + os.sep), "no root inside the checkout", roots)
    mode = os.stat(os.path.join(html, "index.html")).st_mode
    t.ok(mode & 0o004, "the portal's files are world-readable there", oct(mode))
    r = Client().get("/")
    t.ok(r.status == 200 and b"<html" in r.body.lower(), "and served", r.status)


def main():
    t = TAP()
    for fn in (test_client_ca_names, test_admin_certificate, test_ciphers, test_hsts, test_portal_from_var):
        t.run(fn)
    t.done()


if __name__ == "__main__":
    main()
