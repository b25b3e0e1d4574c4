#!/usr/bin/env python3
"""OCSP (issue 10) and the relying parties' plain-HTTP listener: new certificates name
<revocation_url>/crl/<slug>.<ca id>.crl (which serves their issuing CA's CRL) and
<revocation_url>/ocsp; the responder answers good, then
revoked with time and reason within seconds of a revocation (openssl ocsp, GnuTLS ocsptool and
python3-cryptography agree, the signature is the issuing CA's), unknown for a serial the CA never
issued, unauthorized for another issuer, malformedRequest (HTTP 200) for garbage; GET with RFC
5019's caching headers; the responses are pre-signed (ocsp_responses); the listener serves
/crl/, /ca/ and /ocsp and nothing else."""
import base64
import http.client
import os
import subprocess
import time
import urllib.parse

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.x509 import ocsp

from shomei_test import TAP, UP, Client, cdp_crl, psql, wait_until
from test_issue import TMP, REVOCATION_URL, admin, chain_pem, run, stored, tenant, wait_issued

RUN = "%x" % (int(time.time() * 1000) % 0xffffff)
A = "ocsp-a-" + RUN
REV = urllib.parse.urlsplit(UP.get("revocation_url") or REVOCATION_URL)
STATE = {}
MALFORMED = bytes.fromhex("30030a0101")
UNAUTHORIZED = bytes.fromhex("30030a0106")


def plain(method, url, body=None, headers=None):
    """A request to the plain-HTTP listener: (status, headers, body)."""
    conn = http.client.HTTPConnection(REV.hostname, REV.port, timeout=30)
    try:
        conn.request(method, url, body=body, headers=headers or {})
        r = conn.getresponse()
        return r.status, r.headers, r.read()
    finally:
        conn.close()


def write(name, data):
    f = os.path.join(TMP, name)
    with open(f, "wb") as fh:
        fh.write(data)
    return f


def setup():
    STATE["tid"] = tenant(A, 5, key_type="p256")
    c = admin(A)
    STATE["admin"] = c
    ids = (c.post("/api/certificates/batch", {"count": 3}).json() or {}).get("ids") or []
    assert len(ids) == 3 and wait_issued(ids, 120), "issuing 3 certificates"
    STATE["ids"] = ids
    status, _, der = plain("GET", "/ca/%s.crt" % A)
    assert status == 200, "GET /ca/%s.crt on the plain-HTTP listener: %d" % (A, status)
    STATE["issuer"] = x509.load_der_x509_certificate(der)
    STATE["issuer_pem"] = write("issuer.pem", STATE["issuer"].public_bytes(serialization.Encoding.PEM))
    STATE["chain"] = chain_pem(A)
    for i, cid in enumerate(ids):
        cert = x509.load_der_x509_certificate(stored(cid)[0])
        STATE["cert%d" % i] = cert
        STATE["pem%d" % i] = write("cert%d.pem" % i, cert.public_bytes(serialization.Encoding.PEM))


def openssl_ocsp(*args):
    p = run("openssl", "ocsp", "-url", "%s://%s:%d/ocsp" % (REV.scheme, REV.hostname, REV.port),
            "-no_nonce", *args)
    return p.returncode, p.stdout + p.stderr


def ask(i, *extra):
    return openssl_ocsp("-issuer", STATE["issuer_pem"], "-cert", STATE["pem%d" % i],
                        "-CAfile", STATE["chain"], "-resp_text", *extra)


def request_der(i, digest="sha1"):
    builder = ocsp.OCSPRequestBuilder().add_certificate(
        STATE["cert%d" % i], STATE["issuer"], hashes.SHA1() if digest == "sha1" else hashes.SHA256())
    return builder.build().public_bytes(serialization.Encoding.DER)


def verify_signature(resp):
    """The response is signed by the issuing CA itself (no delegated responder)."""
    key = STATE["issuer"].public_key()
    if isinstance(key, ec.EllipticCurvePublicKey):
        key.verify(resp.signature, resp.tbs_response_bytes, ec.ECDSA(resp.signature_hash_algorithm))
    else:
        key.verify(resp.signature, resp.tbs_response_bytes, padding.PKCS1v15(), resp.signature_hash_algorithm)
    return True


# ---------------------------------------------------------------------------------------------
def test_urls(t):
    base = "%s://%s:%d" % (REV.scheme, REV.hostname, REV.port)
    t.ok(REV.scheme == "http", "up.json names revocation_url over plain HTTP", UP.get("revocation_url"))
    txt = run("openssl", "x509", "-noout", "-text", "-in", STATE["pem0"]).stdout
    ca_id = psql("SELECT id FROM cas WHERE tenant_id = :'p1' AND kind = 'tenant' AND active", STATE["tid"])
    t.ok("URI:%s/crl/%s.%s.crl" % (base, A, ca_id) in txt,
         "a new certificate's CRL DP is its issuing CA's, %s/crl/%s.%s.crl" % (base, A, ca_id), txt)
    url, crl, why = cdp_crl(STATE["cert0"], STATE["issuer"])
    t.ok(crl is not None and url.startswith("http://"),
         "GET of that URL over plain HTTP: a CRL its issuing CA signed (name, AKI, signature)", why)
    t.ok("OCSP - URI:%s/ocsp" % base in txt, "its OCSP responder is %s/ocsp" % base, txt)


def test_good(t):
    rc, out = ask(0)
    t.ok(rc == 0 and "%s: good" % STATE["pem0"] in out and "Response verify OK" in out,
         "openssl ocsp: good, response verified against the chain", out)
    t.ok("Responder Key ID" in out or "Responder Id" in out, "the responder is named by key", out)
    der = request_der(0)
    status, h, body = plain("POST", "/ocsp", der, {"Content-Type": "application/ocsp-request"})
    t.eq((status, h.get("Content-Type")), (200, "application/ocsp-response"), "POST /ocsp: 200 application/ocsp-response")
    resp = ocsp.load_der_ocsp_response(body)
    t.ok(resp.response_status == ocsp.OCSPResponseStatus.SUCCESSFUL and
         resp.certificate_status == ocsp.OCSPCertStatus.GOOD and
         resp.serial_number == STATE["cert0"].serial_number and verify_signature(resp),
         "python3-cryptography: good, this serial, signed by the issuing CA")
    t.ok(resp.next_update is not None and resp.next_update > resp.this_update and
         resp.certificates == [], "nextUpdate after thisUpdate, no certificates inside")
    # GnuTLS asks the URL itself and verifies with the issuer
    rf = os.path.join(TMP, "gnutls-good.der")
    p = run("ocsptool", "--ask=%s://%s:%d/ocsp" % (REV.scheme, REV.hostname, REV.port),
            "--load-issuer", STATE["issuer_pem"], "--load-cert", STATE["pem0"], "--outfile", rf)
    out = p.stdout + p.stderr
    t.ok(p.returncode == 0 and "Certificate Status: good" in out and "Verifying OCSP Response: Success" in out,
         "ocsptool --ask: good, verified", out)
    p = run("ocsptool", "--response-info", "--load-response", rf)
    t.ok(p.returncode == 0 and "good" in p.stdout, "ocsptool --response-info reads it", p.stdout + p.stderr)
    # SHA-256 CertID (signed on demand, not the stored SHA-1 one)
    status, _, body = plain("POST", "/ocsp", request_der(0, "sha256"))
    resp = ocsp.load_der_ocsp_response(body)
    t.ok(status == 200 and resp.certificate_status == ocsp.OCSPCertStatus.GOOD and
         isinstance(resp.hash_algorithm, hashes.SHA256), "a SHA-256 CertID is answered good, with SHA-256")


def test_presigned(t):
    serial = "%x" % STATE["cert1"].serial_number
    t.ok(wait_until(lambda: psql("SELECT count(*) FROM ocsp_responses WHERE serial = :'p1' AND NOT revoked",
                                 serial.rjust(len(serial) + len(serial) % 2, "0")) == "1", 20),
         "a new certificate's good response is pre-signed by the publisher's sweep")
    a = plain("POST", "/ocsp", request_der(1))[2]
    b = plain("POST", "/ocsp", request_der(1))[2]
    t.ok(a == b, "two requests get the same stored bytes (a lookup, not a signature each)")


def test_revoked(t):
    cid = STATE["ids"][2]
    r = STATE["admin"].post("/api/certificates/revoke", {"ids": [cid], "reason": "keyCompromise"})
    t.eq(r.status, 200, "revoke through the API (keyCompromise)", r.body[:300])
    start = time.time()
    seen = wait_until(lambda: "%s: revoked" % STATE["pem2"] in ask(2)[1], 10)
    took = time.time() - start
    t.ok(seen and took < 5, "openssl ocsp says revoked %.2f s after the API answered" % took)
    rc, out = ask(2)
    t.ok("Reason: keyCompromise" in out and "Revocation Time" in out and "Response verify OK" in out,
         "with its time and reason keyCompromise, verified", out)
    print("# OCSP revoked %.2f s after the revocation request returned" % took, flush=True)
    resp = ocsp.load_der_ocsp_response(plain("POST", "/ocsp", request_der(2))[2])
    t.ok(resp.certificate_status == ocsp.OCSPCertStatus.REVOKED and
         resp.revocation_reason == x509.ReasonFlags.key_compromise and resp.revocation_time is not None and
         verify_signature(resp), "python3-cryptography: revoked, keyCompromise, signed by the CA")
    p = run("ocsptool", "--ask=%s://%s:%d/ocsp" % (REV.scheme, REV.hostname, REV.port),
            "--load-issuer", STATE["issuer_pem"], "--load-cert", STATE["pem2"])
    out = p.stdout + p.stderr
    t.ok("Certificate Status: revoked" in out and "Verifying OCSP Response: Success" in out,
         "ocsptool --ask: revoked, verified", out)
    serial = "%x" % STATE["cert2"].serial_number
    t.eq(psql("SELECT revoked FROM ocsp_responses WHERE serial = :'p1'", serial.rjust(len(serial) + len(serial) % 2, "0")),
         "t", "the stored response now says revoked")
    rc, out = ask(0)
    t.ok("%s: good" % STATE["pem0"] in out, "the others stay good", out)


def test_unknown(t):
    rc, out = openssl_ocsp("-issuer", STATE["issuer_pem"], "-serial", "0x5a5a5a5a5a5a5a5a5a5a5a5a5a5a",
                           "-CAfile", STATE["chain"], "-resp_text")
    t.ok("0x5a5a5a5a5a5a5a5a5a5a5a5a5a5a: unknown" in out and "Response verify OK" in out,
         "a serial the CA never issued: unknown, signed", out)


def test_other_issuer(t):
    d = TMP
    key, ca, leaf, csr, lk = (os.path.join(d, n) for n in ("o-ca.key", "o-ca.pem", "o-leaf.pem", "o.csr", "o-leaf.key"))
    run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-keyout", key, "-out", ca, "-days", "2", "-subj", "/CN=Another CA")
    run("openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-keyout", lk, "-out", csr, "-subj", "/CN=someone")
    run("openssl", "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", key, "-CAcreateserial",
        "-days", "1", "-out", leaf)
    rc, out = openssl_ocsp("-issuer", ca, "-cert", leaf)
    t.ok("unauthorized" in out, "another issuer's certificate: unauthorized", out)
    # a shomei certificate asked about with the wrong issuer (the root) is another issuer too
    status, _, body = plain("POST", "/ocsp", ocsp.OCSPRequestBuilder().add_certificate(
        STATE["cert0"], STATE["cert0"], hashes.SHA1()).build().public_bytes(serialization.Encoding.DER))
    t.eq((status, body), (200, UNAUTHORIZED), "a CertID naming no tenant CA: unauthorized (unsigned, HTTP 200)")


def test_malformed(t):
    for name, body in (("garbage", b"\x00garbage\xff" * 10), ("empty", b""), ("a truncated request", request_der(0)[:-3]),
                       ("trailing bytes", request_der(0) + b"\x00"), ("too large", b"0" * 20000)):
        status, _, got = plain("POST", "/ocsp", body, {"Content-Type": "application/ocsp-request"})
        t.ok(status in (200, 413) and (got == MALFORMED or status == 413),
             "POST %s: malformedRequest, HTTP %d, never a 5xx" % (name, status), got[:40])
    for url in ("/ocsp/!!!!", "/ocsp/AAAA", "/ocsp/" + "A" * 7000, "/ocsp/%ZZ", "/ocsp/a/b/c", "/ocsp/"):
        status, _, got = plain("GET", url)
        t.ok(status < 500 and (got == MALFORMED or status in (400, 404, 414)),
             "GET %s: malformedRequest or a 4xx (HTTP %d)" % (url[:40], status), got[:40])


def test_get(t):
    der = request_der(0)
    b64 = base64.b64encode(der).decode()
    url = "/ocsp/" + urllib.parse.quote(b64, safe="")
    status, h, body = plain("GET", url)
    resp = ocsp.load_der_ocsp_response(body) if status == 200 else None
    t.ok(resp is not None and resp.response_status == ocsp.OCSPResponseStatus.SUCCESSFUL and
         resp.certificate_status == ocsp.OCSPCertStatus.GOOD, "GET /ocsp/<url-encoded base64>: good")
    cc = h.get("Cache-Control") or ""
    t.ok("max-age=" in cc and int(cc.split("max-age=")[1].split(",")[0]) > 0 and "public" in cc,
         "Cache-Control with max-age", cc)
    t.ok(all(h.get(k) for k in ("Last-Modified", "Expires", "ETag")), "Last-Modified, Expires and ETag",
         dict(h))
    status2, _, _ = plain("GET", url, headers={"If-None-Match": h.get("ETag") or "x"})
    t.eq(status2, 304, "If-None-Match with the ETag: 304")
    # base64 with '/' left raw (nginx's decoded path would merge "//"), and without padding
    status, _, body2 = plain("GET", "/ocsp/" + urllib.parse.quote(b64, safe="/"))
    t.ok(status == 200 and body2 == body, "the same request with '/' unescaped gets the same answer")
    status, _, body3 = plain("GET", "/ocsp/" + urllib.parse.quote(b64.rstrip("="), safe=""))
    t.ok(status == 200 and body3 == body, "and without base64 padding")
    rc = Client().get(url)
    t.ok(rc.status == 200 and ocsp.load_der_ocsp_response(rc.body).certificate_status == ocsp.OCSPCertStatus.GOOD,
         "GET /ocsp/… also answers on the portal's HTTPS port (certificates issued before)")
    rp = Client().request("POST", "/ocsp", raw=der, headers={"Content-Type": "application/ocsp-request"})
    t.ok(rp.status == 200 and ocsp.load_der_ocsp_response(rp.body).certificate_status == ocsp.OCSPCertStatus.GOOD,
         "POST /ocsp also answers on the portal's HTTPS port")


def test_listener(t):
    status, h, body = plain("GET", "/crl/%s.crl" % A)
    t.ok(status == 200 and h.get("Content-Type") == "application/pkix-crl" and x509.load_der_x509_crl(body),
         "plain HTTP: GET /crl/<slug>.crl is the CRL", status)
    status, _, body = plain("GET", "/crl/%s.pem" % A)
    t.ok(status == 200 and b"BEGIN X509 CRL" in body, "plain HTTP: GET /crl/<slug>.pem", status)
    status, _, body = plain("GET", "/ca/%s.pem" % A)
    t.ok(status == 200 and b"BEGIN CERTIFICATE" in body, "plain HTTP: GET /ca/<slug>.pem", status)
    for method, url in (("GET", "/"), ("GET", "/index.html"), ("GET", "/api/auth/me"),
                        ("POST", "/api/auth/login"), ("POST", "/api/certificates/revoke"),
                        ("GET", "/api/certificates"), ("GET", "/healthz"), ("GET", "/dl/%s/" % A),
                        ("GET", "/metrics/revoke"), ("GET", "/js/app.js")):
        status, _, body = plain(method, url, body=b"{}" if method == "POST" else None)
        t.eq(status, 404, "plain HTTP: %s %s is 404" % (method, url))


def main():
    t = TAP()
    setup()
    for fn in (test_urls, test_good, test_presigned, test_get, test_unknown, test_other_issuer,
               test_malformed, test_revoked, test_listener):
        t.run(fn)
    t.done()


if __name__ == "__main__":
    main()
