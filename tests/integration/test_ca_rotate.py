#!/usr/bin/env python3
"""test_ca_rotate: `shomeictl ca rotate --tenant SLUG` gives a tenant a new issuing CA; the old
one's certificates stay valid until they expire, so the old CA keeps publishing its CRL (signed by
its own key through shomei-signer), /crl/<slug>.pem and /ca/<slug>.pem carry it, OCSP answers for
its certificates signed by it, and a revocation of one of them shows on its CRL within seconds.
Each certificate's CRL distribution point names its own CA's CRL (/crl/<slug>.<ca id>.crl), so a
relying party that follows the old CA's certificate's CDP after the rotation finds the old CA's CRL
there, and the new CA's certificates name another URL.
Checked with openssl, certtool and python3-cryptography."""
import os
import time

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.x509 import ocsp

from shomei_test import TAP, cdp_crl, cdp_url, ctl, get_url, pem_certs, pem_crls, psql, wait_until
from test_issue import TMP, admin, run, stored, tenant, wait_issued
from test_ocsp import REV, plain, write

RUN = "%x" % (int(time.time() * 1000) % 0xffffff)
S = "rot-" + RUN
STATE = {}


def signed_by(obj, ca):
    key = ca.public_key()
    if isinstance(obj, x509.CertificateRevocationList):
        return obj.is_signature_valid(key)
    try:
        if isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(obj.signature, obj.tbs_response_bytes, ec.ECDSA(obj.signature_hash_algorithm))
        else:
            key.verify(obj.signature, obj.tbs_response_bytes, padding.PKCS1v15(), obj.signature_hash_algorithm)
        return True
    except Exception:  # noqa: BLE001
        return False


def setup():
    STATE["tid"] = tenant(S, 6, key_type="p256")
    c = admin(S)
    STATE["admin"] = c
    ids = (c.post("/api/certificates/batch", {"count": 2}).json() or {}).get("ids") or []
    assert len(ids) == 2 and wait_issued(ids, 120), "issuing 2 certificates"
    STATE["ids"] = ids
    STATE["certs"] = [x509.load_der_x509_certificate(stored(i)[0]) for i in ids]
    STATE["pems"] = [write("rot%d.pem" % i, cert.public_bytes(serialization.Encoding.PEM))
                     for i, cert in enumerate(STATE["certs"])]
    STATE["old_id"] = psql("SELECT id FROM cas WHERE tenant_id = :'p1' AND active AND kind = 'tenant'", STATE["tid"])
    STATE["old"] = x509.load_pem_x509_certificate(
        psql("SELECT cert_pem FROM cas WHERE id = :'p1'", STATE["old_id"]).encode())
    STATE["old_pem"] = write("old-ca.pem", STATE["old"].public_bytes(serialization.Encoding.PEM))
    STATE["root"] = x509.load_pem_x509_certificate(
        psql("SELECT cert_pem FROM cas WHERE kind = 'root' AND active").encode())
    # wait for the old CA's first CRL, so the rotation finds one in place
    assert wait_until(lambda: plain("GET", "/crl/%s.crl" % S)[0] == 200, 30), "the tenant's first CRL"


# ---------------------------------------------------------------------------------------------
def test_rotate(t):
    p = ctl("ca", "rotate", "--tenant", S)
    t.ok(p.returncode == 0 and "replaced by" in p.stdout, "shomeictl ca rotate --tenant %s" % S, p.stdout + p.stderr)
    STATE["rotated_at"] = time.time()
    rows = psql("SELECT id || '|' || active FROM cas WHERE tenant_id = :'p1' AND kind = 'tenant' ORDER BY id",
                STATE["tid"]).splitlines()
    t.ok(len(rows) == 2 and rows[0] == "%s|false" % STATE["old_id"] and rows[1].endswith("|true"),
         "the old CA is inactive, a new one active", rows)
    STATE["new_id"] = rows[-1].split("|")[0]
    STATE["new"] = x509.load_pem_x509_certificate(
        psql("SELECT cert_pem FROM cas WHERE id = :'p1'", STATE["new_id"]).encode())
    new, old = STATE["new"], STATE["old"]
    t.ok(new.subject != old.subject and new.issuer == STATE["root"].subject and
         new.public_key().public_numbers() != old.public_key().public_numbers() and
         type(new.public_key()) is type(old.public_key()) and new.public_key().key_size == old.public_key().key_size,
         "the new CA: another name and key (of the old one's type and size), under the root", new.subject.rfc4514_string())
    p = ctl("ca", "rotate", "--tenant", "no-such-" + RUN, check=False)
    t.ok(p.returncode != 0 and "no tenant" in p.stderr, "an unknown tenant: a clear error", p.stderr)


def test_bundles(t):
    def bundle():
        status, _, body = plain("GET", "/crl/%s.pem" % S)
        return pem_crls(body.decode()) if status == 200 else []

    t.ok(wait_until(lambda: len(bundle()) == 3, 30), "/crl/%s.pem: three CRLs (new CA, old CA, root)" % S)
    crls = bundle()
    issuers = [c.issuer for c in crls]
    t.ok(issuers == [STATE["new"].subject, STATE["old"].subject, STATE["root"].subject],
         "in the order new CA, old CA, root", [i.rfc4514_string() for i in issuers])
    t.ok(len(crls) == 3 and signed_by(crls[0], STATE["new"]) and signed_by(crls[1], STATE["old"]) and
         signed_by(crls[2], STATE["root"]), "each signed by its own CA's key (python3-cryptography)")
    status, _, body = plain("GET", "/ca/%s.pem" % S)
    certs = pem_certs(body.decode())
    t.ok(status == 200 and [c.subject for c in certs] == [STATE["new"].subject, STATE["old"].subject,
                                                          STATE["root"].subject],
         "/ca/%s.pem: the new CA, the old CA, the root" % S, body[:200])
    STATE["chain"] = write("rot-chain.pem", body)
    status, _, der = plain("GET", "/crl/%s.crl" % S)
    t.ok(status == 200 and x509.load_der_x509_crl(der).issuer == STATE["new"].subject,
         "/crl/%s.crl is the active (new) CA's" % S)
    bf = write("rot-crls.pem", plain("GET", "/crl/%s.pem" % S)[2])
    p = run("openssl", "verify", "-crl_check_all", "-CRLfile", bf, "-CAfile", STATE["chain"], STATE["pems"][0])
    t.ok(p.returncode == 0 and ": OK" in p.stdout, "openssl verify -crl_check_all: an old CA's certificate is OK",
         p.stdout + p.stderr)


def test_ocsp_old_ca(t):
    req = ocsp.OCSPRequestBuilder().add_certificate(STATE["certs"][1], STATE["old"],
                                                   __import__("cryptography.hazmat.primitives.hashes",
                                                              fromlist=["SHA1"]).SHA1()).build()
    status, _, body = plain("POST", "/ocsp", req.public_bytes(serialization.Encoding.DER),
                            {"Content-Type": "application/ocsp-request"})
    r = ocsp.load_der_ocsp_response(body)
    t.ok(status == 200 and r.response_status == ocsp.OCSPResponseStatus.SUCCESSFUL and
         r.certificate_status == ocsp.OCSPCertStatus.GOOD and signed_by(r, STATE["old"]) and
         not signed_by(r, STATE["new"]), "OCSP about an old CA's certificate: good, signed by the old CA",
         r.response_status)
    p = run("openssl", "ocsp", "-url", "http://%s:%d/ocsp" % (REV.hostname, REV.port), "-no_nonce",
            "-issuer", STATE["old_pem"], "-cert", STATE["pems"][1], "-CAfile", STATE["chain"])
    t.ok("%s: good" % STATE["pems"][1] in p.stdout and "Response verify OK" in p.stdout + p.stderr,
         "openssl ocsp: good, verified", p.stdout + p.stderr)


def test_revoke_old(t):
    cid, serial = STATE["ids"][0], STATE["certs"][0].serial_number
    r = STATE["admin"].post("/api/certificates/revoke", {"ids": [cid], "reason": "keyCompromise"})
    t.eq(r.status, 200, "revoke an old CA's certificate through the API", r.body[:300])
    t0 = time.time()

    def listed():
        crls = pem_crls(plain("GET", "/crl/%s.pem" % S)[2].decode())
        old = [c for c in crls if c.issuer == STATE["old"].subject]
        return old and old[0].get_revoked_certificate_by_serial_number(serial) is not None and old[0]

    crl = wait_until(listed, 10) and listed()
    took = time.time() - t0
    print("# the old CA's CRL listed it %.2f s after the API answered" % took, flush=True)
    t.ok(bool(crl) and took < 5 and signed_by(crl, STATE["old"]),
         "the old CA's CRL lists it within 5 s (%.2f s), signed by the old key" % took)
    f = write("old.crl", crl.public_bytes(serialization.Encoding.PEM)) if crl else None
    if f:
        p = run("certtool", "--crl-info", "--infile", f)
        t.ok(p.returncode == 0 and ("%x" % serial) in p.stdout.replace(":", "").lower(),
             "certtool --crl-info lists the serial", p.stdout[-500:] + p.stderr)
        p = run("openssl", "crl", "-in", f, "-CAfile", STATE["chain"], "-noout")
        t.ok(p.returncode == 0 and "verify OK" in p.stdout + p.stderr, "openssl crl -CAfile: verify OK",
             p.stdout + p.stderr)
    bf = write("rot-crls2.pem", plain("GET", "/crl/%s.pem" % S)[2])
    p = run("openssl", "verify", "-crl_check_all", "-CRLfile", bf, "-CAfile", STATE["chain"], STATE["pems"][0])
    t.ok(p.returncode != 0 and "revoked" in p.stdout + p.stderr, "openssl verify: certificate revoked",
         p.stdout + p.stderr)
    p = run("openssl", "ocsp", "-url", "http://%s:%d/ocsp" % (REV.hostname, REV.port), "-no_nonce",
            "-issuer", STATE["old_pem"], "-cert", STATE["pems"][0], "-CAfile", STATE["chain"], "-resp_text")
    out = p.stdout + p.stderr
    t.ok("%s: revoked" % STATE["pems"][0] in out and "keyCompromise" in out and "Response verify OK" in out,
         "openssl ocsp: revoked (keyCompromise), verified", out)


def test_cdp_old(t):
    """The certificate issued before the rotation and revoked after it, as a relying party that
    follows its CRL distribution point sees it (Windows, openssl with -crl_download)."""
    cert, serial = STATE["certs"][0], STATE["certs"][0].serial_number
    base = "%s://%s:%d" % (REV.scheme, REV.hostname, REV.port)
    url = cdp_url(cert)
    t.eq(url, "%s/crl/%s.%s.crl" % (base, S, STATE["old_id"]), "its CRL DP names the old CA's own CRL, over plain HTTP")
    _, crl, why = cdp_crl(cert, STATE["old"])
    t.ok(crl is not None and signed_by(crl, STATE["old"]) and not signed_by(crl, STATE["new"]),
         "GET of its CRL DP after the rotation: the old CA's CRL (name, AKI, signature)", why)
    t.ok(crl is not None and crl.get_revoked_certificate_by_serial_number(serial) is not None,
         "it lists the certificate revoked after the rotation")
    status, h, der = get_url(url)
    f = write("cdp-old.crl", der)
    p = run("openssl", "verify", "-crl_check", "-CAfile", STATE["chain"], "-CRLfile", f,
            STATE["pems"][0]) if status == 200 else None
    t.ok(p is not None and p.returncode != 0 and "certificate revoked" in p.stdout + p.stderr,
         "openssl verify -crl_check -CRLfile <the CRL at its CDP>: certificate revoked",
         (p.stdout + p.stderr) if p else status)
    # what the certificates named before: the active CA's CRL, where openssl finds no CRL of this issuer
    f2 = write("cdp-active.crl", plain("GET", "/crl/%s.crl" % S)[2])
    p = run("openssl", "verify", "-crl_check", "-CAfile", STATE["chain"], "-CRLfile", f2, STATE["pems"][0])
    t.ok(p.returncode != 0 and "unable to get certificate CRL" in p.stdout + p.stderr,
         "the active CA's /crl/%s.crl would not do: openssl finds no CRL of the old CA there" % S,
         p.stdout + p.stderr)
    etag, lm = h.get("ETag"), h.get("Last-Modified")
    t.ok(h.get("Content-Type") == "application/pkix-crl" and etag and lm,
         "application/pkix-crl with ETag and Last-Modified", dict(h))
    t.eq(plain("GET", "/crl/%s.%s.crl" % (S, STATE["old_id"]), headers={"If-None-Match": etag})[0], 304,
         "If-None-Match its ETag: 304")
    t.eq(plain("GET", "/crl/%s.%s.crl" % (S, STATE["old_id"]), headers={"If-Modified-Since": lm})[0], 304,
         "If-Modified-Since: 304")
    other = psql("SELECT c.id || '|' || t.slug FROM cas c JOIN tenants t ON t.id = c.tenant_id WHERE c.kind = 'tenant'"
                 " AND c.tenant_id <> :'p1' AND EXISTS (SELECT 1 FROM crls r WHERE r.ca_id = c.id) ORDER BY c.id LIMIT 1", STATE["tid"]).split("|")
    t.eq(plain("GET", "/crl/%s.%s.crl" % (S, other[0]))[0], 404, "another tenant's CA id under this slug: 404")
    t.eq(plain("GET", "/crl/%s.%s.crl" % (other[1], STATE["old_id"]))[0], 404,
         "this tenant's old CA id under another tenant's slug: 404")
    t.eq(plain("GET", "/crl/%s.%s.crl" % (other[1], other[0]))[0], 200, "(that tenant's own CA id under its slug: 200)")


def test_new_issuance(t):
    # shomei-issue and the signer take the new CA within 30 s of the rotation
    wait = STATE["rotated_at"] + 31 - time.time()
    if wait > 0:
        time.sleep(wait)
    ids = (STATE["admin"].post("/api/certificates/batch", {"count": 1}).json() or {}).get("ids") or []
    t.ok(len(ids) == 1 and wait_issued(ids, 120), "a certificate issued after the rotation")
    if ids:
        cert = x509.load_der_x509_certificate(stored(ids[0])[0])
        t.ok(cert.issuer == STATE["new"].subject, "is the new CA's", cert.issuer.rfc4514_string())
        url = cdp_url(cert)
        t.ok(url != cdp_url(STATE["certs"][0]) and url.endswith("/crl/%s.%s.crl" % (S, STATE["new_id"])),
             "its CRL DP is another URL, the new CA's own", url)
        _, crl, why = cdp_crl(cert, STATE["new"])
        t.ok(crl is not None and not signed_by(crl, STATE["old"]), "it serves the new CA's CRL", why)


def main():
    t = TAP()
    setup()
    for fn in (test_rotate, test_bundles, test_ocsp_old_ca, test_revoke_old, test_cdp_old, test_new_issuance):
        t.run(fn)
    t.done()


if __name__ == "__main__":
    main()
