#!/usr/bin/env python3
"""shomei-revoke keeps nginx's administrator CRL file current (services/revoke/keeper.c):
it re-signs the root and administrator CA CRLs before they expire, publishes a revocation
without anybody running `crl publish`, recreates a lost file, and reloads nginx each time.
The stack under test checks every 2 s (CRL_CHECK_INTERVAL in scripts/test)."""
import datetime
import os
import subprocess
import tempfile
import time

from shomei_test import TAP, UP, VAR, ctl, path, wait_until
from test_auth import curl_cert_login, new_admin_cert

CRL = os.path.join(VAR, "crl", "admin-crl.pem")
CHAIN = os.path.join(VAR, "ca", "admin-chain.pem")


def watch_reloads():
    """How many reloads scripts/up's crl-watch (root's stack) has logged."""
    try:
        with open(os.path.join(VAR, "log", "crl-watch.log")) as f:
            return sum("event=nginx_reloaded" in line for line in f)
    except FileNotFoundError:
        return 0


def crls():
    """The CRLs in the file, each as openssl sees it: (issuer, nextUpdate, number, verified)."""
    try:
        pem = open(CRL).read()
    except OSError:
        return []
    out = []
    for b in ["-----BEGIN X509 CRL-----" + x for x in pem.split("-----BEGIN X509 CRL-----")[1:]]:
        p = subprocess.run(["openssl", "crl", "-noout", "-issuer", "-nextupdate", "-crlnumber", "-CAfile", CHAIN],
                           input=b, capture_output=True, text=True)
        f = dict(line.split("=", 1) for line in p.stdout.splitlines() if "=" in line)
        nxt = datetime.datetime.strptime(f.get("nextUpdate", "Jan  1 00:00:00 1970 GMT"), "%b %d %H:%M:%S %Y %Z")
        out.append((f.get("issuer", ""), nxt, int(f.get("crlNumber", "0x0"), 16),
                    "verify OK" in p.stderr + p.stdout))
    return out


def days_left(c):
    return (c[1] - datetime.datetime.utcnow()).total_seconds() / 86400


def test_renews_before_expiry(t):
    ctl("crl", "publish", "--days", "1", "--out", CRL)
    before = crls()
    t.ok(len(before) == 2 and all(days_left(c) < 1.1 for c in before), "a CRL pair valid for 1 day is in place")
    t.ok(wait_until(lambda: len(crls()) == 2 and all(days_left(c) > 6.5 for c in crls()), 30),
         "within seconds shomei-revoke replaced it with CRLs valid for 7 days")
    after = crls()
    t.ok(all(c[3] for c in after), "openssl verifies both against the root and administrator CA chain",
         [c[0] for c in after])
    t.ok(sorted(c[2] for c in after) > sorted(c[2] for c in before), "with higher CRL numbers")
    t.eq(len({c[0] for c in after}), 2, "one from each CA (root and administrator)", [c[0] for c in after])
    stable = crls()
    time.sleep(5)
    t.eq([c[2] for c in crls()], [c[2] for c in stable], "a current file is left alone (no re-signing every look)")


def test_revocation_published(t):
    d = tempfile.mkdtemp()
    serial, pw = new_admin_cert(d + "/keeper.p12")
    t.eq(curl_cert_login(d + "/keeper.p12", pw), "200", "a new administrator certificate logs in")
    cert = os.path.join(d, "keeper.pem")
    subprocess.run(["openssl", "pkcs12", "-in", d + "/keeper.p12", "-passin", "pass:" + pw, "-nokeys", "-clcerts",
                    "-out", cert], check=True, capture_output=True)

    def verify():
        return subprocess.run(["openssl", "verify", "-crl_check_all", "-CRLfile", CRL, "-CAfile", CHAIN, cert],
                              capture_output=True, text=True)
    t.ok("OK" in verify().stdout, "openssl verifies it with the current CRLs", verify().stderr[-200:])
    reloads_before = watch_reloads()
    ctl("admin", "cert-revoke", "--serial", serial)
    # no crl publish and no reload here: the keeper does both
    t.ok(wait_until(lambda: "revoked" in verify().stdout + verify().stderr, 30),
         "within seconds the published CRL revokes it (openssl verify -crl_check_all)", verify().stderr[-200:])
    log = open(os.path.join(VAR, "log", "revoke.log")).read().splitlines()
    pub = [i for i, line in enumerate(log) if "event=crl_published" in line]
    # shomei-revoke signals nginx itself when they share a user; as root, nginx's master is
    # root's and scripts/up's crl-watch reloads it when the file is replaced
    t.ok(pub and (any("event=nginx_reloaded" in line for line in log[pub[-1]:])
                  or wait_until(lambda: watch_reloads() > reloads_before, 10)),
         "and nginx was told to reload after the publication")
    # 400 comes from nginx itself (the TLS client certificate failed verification): it has
    # loaded the new CRL. shomei-auth alone would answer 401 for a revoked certificate.
    t.ok(wait_until(lambda: curl_cert_login(d + "/keeper.p12", pw) == "400", 15),
         "nginx itself now refuses the certificate (400: it loaded the new CRL)")
    t.eq(curl_cert_login(path(UP["admin_p12"]), UP["admin_p12_password"]), "200",
         "the administrator's first certificate still logs in")


def test_recreates_lost_file(t):
    os.unlink(CRL)
    t.ok(wait_until(lambda: len(crls()) == 2, 30), "a deleted CRL file is written again")
    t.eq(oct(os.stat(CRL).st_mode & 0o777), "0o644", "readable by nginx's workers (0644)")
    t.eq(curl_cert_login(path(UP["admin_p12"]), UP["admin_p12_password"]), "200",
         "certificate login works with the new file")


def main():
    t = TAP()
    for fn in (test_renews_before_expiry, test_revocation_published, test_recreates_lost_file):
        t.run(fn)
    t.done()


if __name__ == "__main__":
    main()
