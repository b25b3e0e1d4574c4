#!/usr/bin/env python3
"""shomei-issue: "add N", the workers, the certificates they make (checked by openssl, certtool and
python3-cryptography), the list and its filters, tenant isolation, and the fault tests (kill -9 of
the service, Redis flushed) in the middle of a batch."""
import datetime
import json
import os
import re
import signal
import subprocess
import time
import urllib.parse

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from shomei_test import (ROOT, TAP, UP, VAR, Client, cdp_crl, cdp_url, ctl, hold, live_pid, path, pem_certs, psql,
                         read_pid, redis, release, scratch_dir, sock_answers, wait_until)

JST = datetime.timezone(datetime.timedelta(hours=9))
BUILD = os.environ.get("SHOMEI_BUILD") or os.path.join(ROOT, "build")
CONF = path(UP["ctl"][2])
TMP = scratch_dir("shomei-issue-")
ADMIN_PW = "Issue2test9x"


def conf_value(key):
    for line in open(CONF, encoding="utf-8"):
        k, _, v = line.partition("=")
        if k.strip() == key:
            return v.strip()
    return None


PUBLIC_URL = conf_value("public_url") or UP["url"]
# what new certificates name for their CRL and OCSP: the plain-HTTP listener (issue 10)
REVOCATION_URL = conf_value("revocation_url") or PUBLIC_URL
SOCK_DIR = conf_value("socket_dir") or os.path.join(VAR, "run", "sock")
ISSUE_SOCK = os.path.join(SOCK_DIR, "issue.sock")
SIGNER_SOCK = os.path.join(SOCK_DIR, "signer.sock")


def tenant(slug, quota, key_type=None, name_en=None):
    """A tenant of this test's own (so the demo tenant's quota is left to the other tests)."""
    ctl("tenant", "create", "--slug", slug, "--name", "発行テスト " + slug, "--name-en",
        name_en or ("Issue Test " + slug), "--quota", str(quota),
        "--features", "validity_period,org_units")
    ctl("tenant", "set", "--slug", slug, "--quota", str(quota))
    psql("UPDATE tenants SET key_type = :'p1', p12_compat = false WHERE slug = :'p2'", key_type or "rsa2048", slug)
    ctl("admin", "create", "--tenant", slug, "--login-id", slug + "-admin", "--password", ADMIN_PW)
    tid = int(psql("SELECT id FROM tenants WHERE slug = :'p1'", slug))
    return tid


def admin(slug):
    c = Client()
    r = c.login(slug + "-admin", ADMIN_PW)
    assert r.status == 200, "login as %s-admin: %d %r" % (slug, r.status, r.body[:200])
    return c


def rows(tid):
    out = psql("SELECT id, number, status, coalesce(serial, '') FROM certificates WHERE tenant_id = :'p1'"
               " ORDER BY id", tid)
    return [tuple(l.split("|")) for l in out.splitlines() if l]


def statuses(ids):
    if not ids:
        return []
    out = psql("SELECT status FROM certificates WHERE id = ANY (string_to_array(:'p1', ',')::bigint[])",
               ",".join(str(i) for i in ids))
    return out.splitlines()


def wait_issued(ids, seconds=60):
    return wait_until(lambda: statuses(ids) == ["issued"] * len(ids), seconds)


def wake(tid):
    redis("XADD", "shomei:issue:wake", "*", "tenant", str(tid))


def items(r):
    return (r.json() or {}).get("items", [])


def fields(r):
    return [f.get("field") for f in ((r.json() or {}).get("error") or {}).get("fields", [])]


def chain_pem(slug):
    f = os.path.join(TMP, slug + "-chain.pem")
    if not os.path.exists(f):
        ctl("ca", "export", "--tenant", slug, "--out", f)
    return f


def p12_password(cert_id):
    blob = psql("SELECT encode(p12_password_enc, 'hex') FROM certificates WHERE id = :'p1'", cert_id)
    p = subprocess.run([os.path.join(BUILD, "tests", "p12pw"), path(conf_value("data_key_file"))],
                       input=blob + "\n", capture_output=True, text=True, timeout=30)
    if p.returncode != 0:
        raise RuntimeError("p12pw: " + p.stderr)
    return p.stdout.strip()


def stored(cert_id):
    """(DER certificate, PKCS#12) as stored."""
    out = psql("SELECT encode(cert_der, 'hex') || '|' || encode(p12, 'hex') FROM certificates WHERE id = :'p1'",
               cert_id)
    der, p12 = out.split("|")
    return bytes.fromhex(der), bytes.fromhex(p12)


def run(*cmd, **kw):
    return subprocess.run(list(cmd), capture_output=True, text=True, timeout=60, **kw)


# ---------------------------------------------------------------------------------------------
def test_batch_validation(t):
    tid = tenant("issue-v", 20)
    c = admin("issue-v")
    before = (rows(tid), psql("SELECT next_client_number FROM tenants WHERE id = :'p1'", tid))
    for body, what in (({"count": 0}, "0"), ({"count": -1}, "-1"), ({"count": "5"}, "\"5\" (a string)"),
                       ({"count": 1.5}, "1.5"), ({"count": 21}, "more than available (21 > 20)"),
                       ({}, "missing"), ({"count": None}, "null"), ({"count": True}, "true"),
                       ({"count": 1e30}, "1e30")):
        r = c.post("/api/certificates/batch", body)
        msg = [f.get("message") for f in ((r.json() or {}).get("error") or {}).get("fields", [])]
        t.ok(r.status == 422 and fields(r) == ["count"], "count %s answers 422 naming count" % what, r.body[:300])
    r = c.post("/api/certificates/batch", {"count": 0})
    msg = (((r.json() or {}).get("error") or {}).get("fields") or [{}])[0].get("message")
    t.eq(msg, "追加発行数は1から20までの数を入力してください。", "message names the available count")
    r = Client(lang="en")
    r.login("issue-v-admin", ADMIN_PW)
    m = (((r.post("/api/certificates/batch", {"count": 0}).json() or {}).get("error") or {}).get("fields") or [{}])[0]
    t.eq(m.get("message"), "Enter a whole number from 1 to 20.", "English message on request")
    r = c.post("/api/certificates/batch", raw=b"{count: 5", headers={"Content-Type": "application/json"})
    t.eq(r.status, 400, "malformed JSON answers 400")
    r = c.post("/api/certificates/batch", raw=b"[5]", headers={"Content-Type": "application/json"})
    t.eq(r.status, 400, "a JSON array answers 400")
    after = (rows(tid), psql("SELECT next_client_number FROM tenants WHERE id = :'p1'", tid))
    t.eq(after, before, "refused requests changed nothing (no row, no number taken)")
    r = Client().post("/api/certificates/batch", {"count": 1})
    t.eq(r.status, 401, "without a session: 401")
    r = c.post("/api/certificates/batch", {"count": 1}, headers={"X-CSRF-Token": "wrong"})
    t.eq(r.status, 403, "without the CSRF token: 403")
    t.eq(rows(tid), before[0], "and nothing was created")


def test_batch(t):
    tid = tenant("issue-a", 30)
    c = admin("issue-a")
    # a row numbered 7 written another way: numbering continues after the highest
    psql("INSERT INTO certificates (tenant_id, number, cn, status, key_type) VALUES (:'p1', 7, 'client_000007', 'revoked', 'rsa2048')", tid)
    r = c.post("/api/certificates/batch", {"count": 5})
    doc = r.json() or {}
    t.eq((r.status, doc.get("count"), len(doc.get("ids") or [])), (202, 5, 5), "count 5 answers 202 with 5 ids")
    ids = doc.get("ids") or []
    first = statuses(ids)
    t.ok(len(first) == 5 and all(s in ("issuing", "issued") for s in first), "rows committed issuing", first)
    t.ok(wait_issued(ids, 60), "all 5 issued within 60 s", statuses(ids))
    nums = psql("SELECT string_agg(cn, ',' ORDER BY id) FROM certificates WHERE id = ANY (string_to_array(:'p1', ',')::bigint[])",
                ",".join(map(str, ids)))
    t.eq(nums, ",".join("client_%06d" % n for n in range(8, 13)), "named client_000008.. after the highest (7)")
    # numbers are never reused: drop the newest and revoke one; the next continues at 13
    psql("UPDATE certificates SET status = 'revoked', revoked_at = now() WHERE id = :'p1'", ids[0])
    r = c.post("/api/certificates/batch", {"count": 1})
    nid = (r.json() or {}).get("ids", [0])[0]
    t.ok(wait_issued([nid], 60), "one more issued")
    t.eq(psql("SELECT cn FROM certificates WHERE id = :'p1'", nid), "client_000013", "next number is 13, not a revoked one's")
    hist = admin("issue-a").get("/api/audit?action=certificate_issue")
    details = [i.get("detail") for i in items(hist)]
    t.ok("client_000008: 発行中 -> 発行完了" in details, "history: client_000008: 発行中 -> 発行完了", details[:8])
    ip = [i.get("ip") for i in items(hist) if i.get("detail", "").startswith("client_000008:")]
    t.ok(ip and ip[0] in ("127.0.0.1", "::1"), "history entry carries the requester's address", ip)
    t.eq(len([d for d in details if d.startswith("client_0000")]), 6, "one entry per certificate")
    # the tenant summary (GET /api/tenant belongs to shomei-users; fall back to the database)
    s = c.get("/api/tenant")
    want = {"quota": 30, "issued": 5, "available": 25}
    if s.status == 200 and isinstance(s.json(), dict) and "issued" in (s.json() or {}):
        got = {k: (s.json() or {}).get(k) for k in want}
        t.eq(got, want, "GET /api/tenant: 契約数 30, 発行数 5 (one revoked), 追加発行可能数 25")
    else:
        n = psql("SELECT count(*) FROM certificates WHERE tenant_id = :'p1' AND status IN "
                 "('issuing','issued','downloaded','revoke_scheduled')", tid)
        t.eq(int(n), 5, "発行数 counts 5 (revoked left out)")
    check_certificates(t, "issue-a", ids[1:] + [nid], numbered=True)


def test_409(t):
    tid = tenant("issue-b", 10)
    c = admin("issue-b")
    # a row that stays issuing (its next attempt is not due for an hour)
    rid = psql("INSERT INTO certificates (tenant_id, number, cn, status, key_type, claimed_at)"
               " VALUES (:'p1', 900, 'client_000900', 'issuing', 'rsa2048', now() + interval '1 hour') RETURNING id", tid)
    before = rows(tid)
    r = c.post("/api/certificates/batch", {"count": 1})
    err = (r.json() or {}).get("error") or {}
    t.eq((r.status, err.get("code"), err.get("message")), (409, "issuing_in_progress", "発行中は追加発行ができません。"),
         "409 issuing_in_progress while a certificate is issuing")
    t.eq(rows(tid), before, "the refused batch created nothing")
    lst = items(c.get("/api/certificates"))
    t.ok(lst and lst[-1]["id"] == int(rid) and lst[-1]["issued_at"] is None and lst[-1]["status"] == "issuing",
         "an issuing row is listed last, without a date", lst[-1:] if lst else lst)
    psql("DELETE FROM certificates WHERE id = :'p1'", rid)
    r = c.post("/api/certificates/batch", {"count": 2})
    t.eq(r.status, 202, "accepted once nothing is issuing")
    ids = (r.json() or {}).get("ids") or []
    r2 = c.post("/api/certificates/batch", {"count": 1})
    t.ok(r2.status in (409, 202), "a second batch right after: 409 while the first is issuing (or 202 if done)")
    if r2.status == 202:
        ids += (r2.json() or {}).get("ids") or []
    t.ok(wait_issued(ids, 60), "issued")


# ---------------------------------------------------------------------------------------------
def openssl_text(pem_file):
    return run("openssl", "x509", "-noout", "-text", "-in", pem_file).stdout


def not_before(cert):
    return cert.not_valid_before_utc if hasattr(cert, "not_valid_before_utc") else \
        cert.not_valid_before.replace(tzinfo=datetime.timezone.utc)


def not_after(cert):
    return cert.not_valid_after_utc if hasattr(cert, "not_valid_after_utc") else \
        cert.not_valid_after.replace(tzinfo=datetime.timezone.utc)


CDP_SEEN = set()


def check_cdp(t, label, cert, chain):
    """The certificate's CRL distribution point serves a CRL its issuer signed (once a URL)."""
    url = cdp_url(cert)
    if url in CDP_SEEN:
        return True
    issuer = [c for c in pem_certs(open(chain, encoding="ascii").read()) if c.subject == cert.issuer]
    url, crl, why = cdp_crl(cert, issuer[0]) if issuer else (url, None, "no issuer in " + chain)
    if crl is not None:
        CDP_SEEN.add(url)
    return t.ok(crl is not None, "%s: its CRL DP %s serves a CRL its issuing CA signed" % (label, url), why)


def check_one(t, slug, cid, numbered, device=None, email=None, seen=None):
    der, p12 = stored(cid)
    cert = x509.load_der_x509_certificate(der)
    pem = cert.public_bytes(serialization.Encoding.PEM)
    f = os.path.join(TMP, "c%s.pem" % cid)
    open(f, "wb").write(pem)
    chain = chain_pem(slug)
    label = "cert %s" % cid
    ok = True
    # a certificate valid from a later date is verified as of then
    nb = int(not_before(cert).timestamp())
    at = int(time.time()) if nb <= time.time() else nb + 3600
    v = run("openssl", "verify", "-purpose", "sslclient", "-attime", str(at), "-CAfile", chain, f)
    ok &= t.ok(v.returncode == 0 and ": OK" in v.stdout, "%s: openssl verify against the tenant chain" % label,
               v.stdout + v.stderr)
    txt = openssl_text(f)
    rsa_key = "rsaEncryption" in txt
    # the CRL DP names the issuing CA's own CRL (/crl/<slug>.<ca id>.crl), which a rotation leaves
    ca_id = psql("SELECT ca_id FROM certificates WHERE id = :'p1'", cid)
    ok &= check_cdp(t, label, cert, chain)
    checks = [
        ("CA:FALSE", "CA:FALSE" in txt),
        ("keyUsage critical", re.search(r"X509v3 Key Usage: critical\s+Digital Signature" +
                                        (r", Key Encipherment" if rsa_key else r"\n"), txt) is not None),
        ("EKU clientAuth", "TLS Web Client Authentication" in txt),
        ("SKI", "X509v3 Subject Key Identifier" in txt),
        ("AKI", "X509v3 Authority Key Identifier" in txt),
        ("CRL DP", "URI:%s/crl/%s.%s.crl" % (REVOCATION_URL, slug, ca_id) in txt),
        ("OCSP", "OCSP - URI:%s/ocsp" % REVOCATION_URL in txt),
        ("v3", "Version: 3 (0x2)" in txt),
    ]
    for name, cond in checks:
        ok &= t.ok(cond, "%s: openssl x509 -text shows %s" % (label, name), txt if not cond else None)
    subj = cert.subject
    cn = subj.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    ous = [a.value for a in subj.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)]
    c_ = subj.get_attributes_for_oid(NameOID.COUNTRY_NAME)[0].value
    o = subj.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    db_cn = psql("SELECT cn FROM certificates WHERE id = :'p1'", cid)
    ok &= t.ok(cn == db_cn and (not numbered or re.fullmatch(r"client_\d{6}", cn)) and c_ == "JP" and
               ous and ous[-1] == slug and len(o) == 1,
               "%s: subject CN=%s, OU=%s (system OU), O, C=JP" % (label, cn, slug), subj.rfc4514_string())
    emails = subj.get_attributes_for_oid(NameOID.EMAIL_ADDRESS)
    if email:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        ok &= t.ok(emails and emails[0].value == email and san.get_values_for_type(x509.RFC822Name) == [email]
                   and ExtendedKeyUsageOID.EMAIL_PROTECTION in eku,
                   "%s: E=%s, SAN rfc822Name and emailProtection" % (label, email))
    else:
        ok &= t.ok(not emails, "%s: no E= in a numbered certificate" % label)
    serial = cert.serial_number
    ok &= t.ok(serial > 0 and serial.bit_length() >= 64, "%s: serial positive, %d bits (>= 64)" % (label, serial.bit_length()))
    if seen is not None:
        ok &= t.ok(serial not in seen, "%s: serial unique" % label)
        seen.add(serial)
    t.eq(psql("SELECT serial FROM certificates WHERE id = :'p1'", cid), "%x" % serial if len("%x" % serial) % 2 == 0 else "0%x" % serial,
         "%s: serial stored as lowercase hex" % label)
    info = run("certtool", "--certificate-info", "--infile", f)
    ok &= t.ok(info.returncode == 0 and "TLS WWW Client" in info.stdout, "%s: certtool --certificate-info reads it" % label,
               info.stderr)
    bundle = os.path.join(TMP, "c%s-bundle.pem" % cid)
    open(bundle, "wb").write(pem + open(chain, "rb").read())
    root = os.path.join(TMP, slug + "-root.pem")
    pems = re.findall(rb"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----\n?", open(chain, "rb").read(), re.S)
    open(root, "wb").write(pems[-1])
    vt = run("certtool", "--verify", "--load-ca-certificate", root, "--infile", bundle)
    if at <= time.time() + 5:
        ok &= t.ok(vt.returncode == 0 and "Verified" in vt.stdout, "%s: certtool --verify against the root" % label,
                   vt.stdout[-400:] + vt.stderr)
    else:  # certtool 3.7 has no --attime: the only complaint may be the start date
        ok &= t.ok("not yet valid" in vt.stdout and "signature failure" not in vt.stdout and
                   "signer not found" not in vt.stdout.lower(),
                   "%s: certtool --verify: chain and signatures good, only not yet valid" % label, vt.stdout[-400:])
    pw = p12_password(cid)
    t.ok(len(pw) == 12 and not re.search(r"[0Oo1lI]", pw), "%s: password of 12 without look-alikes" % label)
    t.ok(pw.encode() not in p12 and pw not in psql("SELECT encode(p12_password_enc, 'escape') FROM certificates WHERE id = :'p1'", cid),
         "%s: the password is stored only sealed" % label)
    key, pcert, extra = pkcs12.load_key_and_certificates(p12, pw.encode())
    ok &= t.ok(pcert is not None and pcert.public_bytes(serialization.Encoding.DER) == der,
               "%s: the PKCS#12 holds the certificate" % label)
    pub = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    ok &= t.ok(pub == cert.public_key().public_bytes(serialization.Encoding.DER,
                                                     serialization.PublicFormat.SubjectPublicKeyInfo),
               "%s: the key matches the certificate" % label)
    ok &= t.ok(len(extra) == 2, "%s: chain included (issuing CA and root)" % label)
    p12f = os.path.join(TMP, "c%s.p12" % cid)
    open(p12f, "wb").write(p12)
    inf = run("openssl", "pkcs12", "-info", "-noout", "-legacy", "-in", p12f, "-passin", "pass:" + pw)
    out = inf.stdout + inf.stderr
    if device == "01":
        ok &= t.ok("MAC: sha256" in out and "AES-256-CBC" in out and "PBKDF2" in out and "TripleDES" not in out,
                   "%s: WindowsPC PKCS#12 is AES-256/PBKDF2 with a SHA-256 MAC" % label, out)
    else:
        ok &= t.ok("MAC: sha1" in out and out.count("pbeWithSHA1And3-KeyTripleDES-CBC") >= 2 and "AES" not in out,
                   "%s: PKCS#12 is 3DES with a SHA-1 MAC" % label, out)
    t.eq((pkcs12.load_pkcs12(p12, pw.encode()).cert.friendly_name or b"").decode(), cn, "%s: friendly name is the CN" % label)
    return ok, cert, key


def check_certificates(t, slug, ids, numbered=True):
    seen = set()
    for cid in ids:
        check_one(t, slug, cid, numbered, seen=seen)


def add_user_device(tid, device, email, given="Taro", family="Yamada", o=None, ou1=None, valid=None):
    uid = psql("INSERT INTO users (tenant_id, family_name, given_name, family_name_en, given_name_en, email)"
               " VALUES (:'p1', '山田', '太郎', :'p2', :'p3', :'p4') RETURNING id", tid, family, given, email)
    did = psql("INSERT INTO devices (tenant_id, user_id, device_code, email, o, ou1, valid_from, valid_to)"
               " VALUES (:'p1', :'p2', :'p3', :'p4', nullif(:'p5', ''), nullif(:'p6', ''),"
               " nullif(:'p7', '')::timestamptz, nullif(:'p8', '')::timestamptz) RETURNING id",
               tid, uid, device, email, o or "", ou1 or "", (valid or ("", ""))[0], (valid or ("", ""))[1])
    kt = psql("SELECT key_type FROM tenants WHERE id = :'p1'", tid)
    cid = psql("INSERT INTO certificates (tenant_id, user_id, device_id, cn, email, key_type, status)"
               " VALUES (:'p1', :'p2', :'p3', :'p4', :'p5', :'p6', 'issuing') RETURNING id",
               tid, uid, did, "%s %s" % (family, given), email, kt)
    return int(cid)


def test_devices(t):
    tid = tenant("issue-d", 10)
    start = (datetime.datetime.now(JST) + datetime.timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    end = start + datetime.timedelta(days=200)
    win = add_user_device(tid, "01", "taro@example.jp", o="Example Corp", ou1="Sales",
                          valid=(start.isoformat(), end.isoformat()))
    ios = add_user_device(tid, "11", "hanako.suzuki@example.jp", given="Hanako", family="Suzuki")
    wake(tid)
    t.ok(wait_issued([win, ios], 60), "user certificates (WindowsPC, iOS) issued", statuses([win, ios]))
    ok, cert, _ = check_one(t, "issue-d", win, False, device="01", email="taro@example.jp")
    s = cert.subject
    t.eq([a.value for a in s.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)], ["Example Corp"],
         "O from the device (tenant with org_units)")
    t.eq([a.value for a in s.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)], ["Sales", "issue-d"],
         "OU1 and the system OU")
    t.eq(s.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value, "Yamada Taro", "CN = English family and given name")
    utc = datetime.timezone.utc
    t.eq((not_before(cert), not_after(cert)),
         (start.astimezone(utc), end.astimezone(utc)), "validity from the device's From/To (JST)")
    ok, cert, key = check_one(t, "issue-d", ios, False, device="11", email="hanako.suzuki@example.jp")
    t.eq([a.value for a in cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)], ["Issue Test issue-d"],
         "O = the tenant's English name when the device gives none")
    days = (not_after(cert) - not_before(cert)).days
    t.eq(days, 365, "default validity: the tenant's 365 days")
    # P-256 tenant: keyUsage without keyEncipherment, EC key
    tid2 = tenant("issue-e", 5, key_type="p256")
    c = admin("issue-e")
    ids = (c.post("/api/certificates/batch", {"count": 2}).json() or {}).get("ids") or []
    t.ok(wait_issued(ids, 60), "P-256 batch issued")
    for cid in ids:
        ok, cert, key = check_one(t, "issue-e", cid, True)
        t.ok(isinstance(cert.public_key(), ec.EllipticCurvePublicKey) and cert.public_key().curve.name == "secp256r1",
             "cert %s: P-256 key" % cid)
    ku = cert.extensions.get_extension_for_class(x509.KeyUsage)
    t.ok(ku.critical and ku.value.digital_signature and not ku.value.key_encipherment,
         "P-256: keyUsage digitalSignature only, critical")
    t.eq(psql("SELECT count(*) FROM certificates WHERE tenant_id = :'p1' AND key_type = 'p256'", tid2), "2",
         "rows record the key type")
    # p12_compat: WindowsPC gets 3DES too
    psql("UPDATE tenants SET p12_compat = true WHERE id = :'p1'", tid)
    win2 = add_user_device(tid, "01", "jiro@example.jp", given="Jiro")
    wake(tid)
    t.ok(wait_issued([win2], 60), "WindowsPC certificate of a p12_compat tenant issued")
    check_one(t, "issue-d", win2, False, device="99", email="jiro@example.jp")


# ---------------------------------------------------------------------------------------------
def test_list(t):
    tid = tenant("issue-l", 300, key_type="p256")
    c = admin("issue-l")
    r = c.post("/api/certificates/batch", {"count": 150})
    ids = (r.json() or {}).get("ids") or []
    t.eq(len(ids), 150, "batch of 150 (P-256)")
    t.ok(wait_issued(ids, 120), "150 issued", statuses(ids)[:5])
    # one revoked, one failed: left out of "valid"
    psql("UPDATE certificates SET status = 'revoked', revoked_at = now() WHERE id = :'p1'", ids[3])
    psql("UPDATE certificates SET status = 'failed', last_error = 'test' WHERE id = :'p1'", ids[4])
    doc = c.get("/api/certificates").json() or {}
    t.eq((doc.get("total"), doc.get("page"), doc.get("per_page"), len(doc.get("items", []))), (148, 1, 100, 100),
         "default: valid only, total 148, page 1 of 100")
    it = doc["items"][0]
    t.eq(sorted(it), sorted(["id", "user_id", "device", "device_label", "cn", "email", "serial", "status",
                             "status_label", "issued_at", "expires_at", "revoked_at", "revoke_on", "user_name",
                             "device_email"]), "item fields")
    t.ok(re.fullmatch(r"\d{4}/\d\d/\d\d \d\d:\d\d:\d\d", it["issued_at"] or "") and
         (it["issued_at"] or "").startswith(datetime.datetime.now(JST).strftime("%Y/%m/%d")),
         "issued_at as yyyy/mm/dd hh:mm:ss in JST", it)
    t.eq((it["status"], it["status_label"]), ("issued", "証明書発行済"), "status and its label")
    keys = [(i["issued_at"], i["id"]) for i in doc["items"]]
    t.ok(keys == sorted(keys), "sorted by 発行日 ascending, ties by id")
    p2 = c.get("/api/certificates?page=2").json() or {}
    t.eq(len(p2.get("items", [])), 48, "page 2 holds the remaining 48")
    t.ok(not {i["id"] for i in p2["items"]} & {i["id"] for i in doc["items"]}, "pages do not overlap")
    t.eq(len(items(c.get("/api/certificates?page=3"))), 0, "page 3 is empty")
    alld = c.get("/api/certificates?status=all").json() or {}
    t.eq(alld.get("total"), 150, "status=all counts revoked and failed too")
    rv = [i for i in c.get("/api/certificates?status=all&page=1").json()["items"] if i["id"] == ids[3]]
    t.ok(rv and rv[0]["status"] == "revoked" and rv[0]["revoked_at"], "revoked row has revoked_at", rv)
    desc = c.get("/api/certificates?sort=-issued_at").json() or {}
    dk = [(i["issued_at"], i["id"]) for i in desc.get("items", [])]
    t.ok(dk == sorted(dk, reverse=True), "sort=-issued_at: descending")
    r = c.get("/api/certificates?cn=" + urllib.parse.quote("CLIENT_00012"))
    got = sorted(i["cn"] for i in items(r))
    t.eq(got, ["client_%06d" % n for n in range(120, 130)], "cn is a case-insensitive part: 10 matches")
    t.eq([i["cn"] for i in items(c.get("/api/certificates?cn=t_000012"))], ["client_000012"], "any part of the CN")
    today = datetime.datetime.now(JST)
    d = today.strftime("%Y/%m/%d")
    tomorrow = (today + datetime.timedelta(days=1)).strftime("%Y/%m/%d")
    yesterday = (today - datetime.timedelta(days=1)).strftime("%Y/%m/%d")
    t.eq((c.get("/api/certificates?issued_from=%s&issued_to=%s" % (d, d)).json() or {}).get("total"), 148,
         "issued today: all")
    t.eq((c.get("/api/certificates?issued_from=%s" % tomorrow).json() or {}).get("total"), 0, "issued from tomorrow: none")
    t.eq((c.get("/api/certificates?issued_to=%s" % yesterday).json() or {}).get("total"), 0, "issued to yesterday: none")
    for q, field in (("status=bogus", "status"), ("sort=cn", "sort"), ("issued_from=2026-01-01", "issued_from"),
                     ("issued_to=2026/02/30", "issued_to"), ("page=0", "page"), ("page=x", "page"),
                     ("cn=%01", "cn"), ("cn=" + "x" * 300, "cn"),
                     ("issued_from=%s&issued_to=%s" % (tomorrow, yesterday), "issued_from")):
        r = c.get("/api/certificates?" + q)
        t.ok(r.status == 422 and field in fields(r), "bad filter %s answers 422 naming %s" % (q[:40], field), r.body[:200])
    r = c.get("/api/certificates?status=bogus&sort=cn&page=0")
    t.eq(sorted(fields(r)), ["page", "sort", "status"], "every bad filter is named at once")
    en = Client(lang="en")
    en.login("issue-l-admin", ADMIN_PW)
    t.eq(items(en.get("/api/certificates"))[0]["status_label"], "Issued", "English status label")
    # one certificate
    one = c.get("/api/certificates/%d" % ids[0])
    o = one.json() or {}
    t.eq(one.status, 200, "GET /api/certificates/{id} answers 200")
    for k in ("subject", "not_before", "key_type", "pem", "last_error", "serial", "cn"):
        t.ok(k in o, "the single certificate has %s" % k)
    cert = x509.load_pem_x509_certificate((o.get("pem") or "").encode())
    t.eq("%x" % cert.serial_number, (o.get("serial") or "").lstrip("0"), "pem is the stored certificate")
    t.ok("CN=client_000001" in (o.get("subject") or "") and o.get("key_type") == "p256", "subject and key type", o.get("subject"))
    f = c.get("/api/certificates/%d" % ids[4]).json() or {}
    t.eq((f.get("status"), f.get("last_error")), ("failed", "test"), "a failed one shows last_error")
    t.eq(c.get("/api/certificates/999999999").status, 404, "unknown id: 404")
    t.eq(c.get("/api/certificates/abc").status, 404, "non-numeric id: 404")
    t.eq(c.post("/api/certificates/%d" % ids[0], {}).status, 405, "POST on one certificate: 405")
    # isolation: another tenant's administrator
    other = admin("issue-v")
    for cid in ids[:3]:
        r = other.get("/api/certificates/%d" % cid)
        t.ok(r.status == 404 and ((r.json() or {}).get("error") or {}).get("code") == "not_found",
             "another tenant's certificate %d: 404 (JSON error)" % cid)
    t.ok(not {i["id"] for i in items(other.get("/api/certificates?status=all"))} & set(ids),
         "another tenant's list holds none of them")
    t.eq(Client().get("/api/certificates").status, 401, "without a session: 401")


# ---------------------------------------------------------------------------------------------
def issue_pid():
    return read_pid("issue")


def exactly_once(t, tid, n, what):
    rs = rows(tid)
    nums = sorted(int(r[1]) for r in rs)
    t.eq(nums, list(range(1, n + 1)), "%s: numbers 1..%d, each once" % (what, n))
    t.eq(sorted(set(r[2] for r in rs)), ["issued"], "%s: every certificate issued" % what)
    serials = [r[3] for r in rs]
    t.ok(len(set(serials)) == n and all(serials), "%s: %d distinct serials" % (what, n))
    h = psql("SELECT count(*), count(DISTINCT detail) FROM audit WHERE tenant_id = :'p1' AND action = 'certificate_issue'", tid)
    t.eq(h, "%d|%d" % (n, n), "%s: one history entry per certificate" % what)
    cns = psql("SELECT count(*) FROM certificates WHERE tenant_id = :'p1' AND cert_der IS NOT NULL AND p12 IS NOT NULL"
               " AND p12_password_enc IS NOT NULL", tid)
    t.eq(cns, str(n), "%s: each holds its certificate, PKCS#12 and sealed password" % what)


def issued_count(tid):
    return int(psql("SELECT count(*) FROM certificates WHERE tenant_id = :'p1' AND status = 'issued'", tid))


def test_kill(t):
    # RSA-3072 (a small pool) so the batch takes long enough to be interrupted
    tid = tenant("issue-k", 60, key_type="rsa3072")
    c = admin("issue-k")
    ids = (c.post("/api/certificates/batch", {"count": 50}).json() or {}).get("ids") or []
    t.eq(len(ids), 50, "batch of 50 accepted")
    wait_until(lambda: issued_count(tid) >= 3, 60)
    pid = live_pid("issue")
    hold("issue")  # its supervisor starts it no more until released
    try:
        os.kill(pid, signal.SIGKILL)
        done = issued_count(tid)
        t.ok(0 < done < 50, "shomei-issue killed (-9) in the middle: %d of 50 issued" % done)
        wait_until(lambda: not os.path.exists("/proc/%d" % pid), 10)
        time.sleep(1)
        t.ok(not pid_alive_n(pid) and not sock_answers(ISSUE_SOCK), "... and stays down while held")
    finally:
        # the socket answers a moment before the new process writes its pid file
        t.ok(release("issue") and wait_until(lambda: issue_pid() not in (0, pid), 10), "shomei-issue restarted")
    t.ok(wait_issued(ids, 240), "after the restart all 50 are issued", issued_count(tid))
    exactly_once(t, tid, 50, "kill -9")
    t.eq(c.get("/api/certificates?status=all").json().get("total"), 50, "the list shows 50")


def test_redis_flush(t):
    tid = tenant("issue-r", 60, key_type="rsa3072")
    c = admin("issue-r")
    ids = (c.post("/api/certificates/batch", {"count": 50}).json() or {}).get("ids") or []
    t.eq(len(ids), 50, "batch of 50 accepted")
    wait_until(lambda: issued_count(tid) >= 3, 60)
    redis("FLUSHALL")
    done = issued_count(tid)
    t.ok(done < 50, "Redis flushed in the middle: %d of 50 issued" % done)
    t.ok(wait_issued(ids, 240), "all 50 issued without the wake-up entries", issued_count(tid))
    exactly_once(t, tid, 50, "Redis flushed")
    # rows left issuing with no wake-up at all are found by the sweep
    c = admin("issue-r")
    psql("UPDATE tenants SET quota = 61 WHERE id = :'p1'", tid)
    rid = psql("INSERT INTO certificates (tenant_id, number, cn, status, key_type) VALUES (:'p1', 51, 'client_000051', 'issuing', 'p256') RETURNING id", tid)
    t.ok(wait_issued([int(rid)], 15), "a row with no wake-up is issued by the sweep")


def test_failure(t):
    """A certificate that cannot be made for a permanent reason fails at once with the reason, and
    is retried by the administrator once the reason is mended."""
    tid = tenant("issue-f", 5, key_type="p256")
    psql("UPDATE cas SET active = false WHERE tenant_id = :'p1'", tid)
    c = admin("issue-f")
    ids = (c.post("/api/certificates/batch", {"count": 1}).json() or {}).get("ids") or []
    t.eq(len(ids), 1, "batch of 1 accepted")
    t.ok(wait_until(lambda: statuses(ids) == ["failed"], 30), "marked failed", statuses(ids))
    got = psql("SELECT attempts || '|' || coalesce(last_error, '') || '|' || (cert_der IS NULL) FROM certificates WHERE id = :'p1'", ids[0])
    t.eq(got, "1|no active CA for the tenant|true", "after one attempt (no CA is not worth retrying alone), the reason recorded, no certificate")
    one = c.get("/api/certificates/%d" % ids[0]).json() or {}
    t.eq((one.get("status"), one.get("status_label"), one.get("last_error")), ("failed", "証明書発行失敗", "no active CA for the tenant"),
         "the API shows the failure and its reason")
    t.eq(len(items(c.get("/api/certificates"))), 0, "a failed certificate is not in the valid list")
    r = c.post("/api/certificates/batch", {"count": 5})
    t.eq(r.status, 202, "a failed certificate gives its quota back (5 of 5 available again)")
    five = (r.json() or {}).get("ids") or []
    t.ok(wait_until(lambda: statuses(five) == ["failed"] * 5, 30), "those fail too while there is no CA")
    # the quota is full again only once a failed one is retried: 1 + 5 failed, quota 5
    psql("UPDATE cas SET active = true WHERE tenant_id = :'p1'", tid)
    r = c.post("/api/certificates/%d/retry" % ids[0], {})
    t.eq((r.status, (r.json() or {}).get("status")), (202, "issuing"), "retry of a failed certificate: 202, issuing")
    t.ok(wait_issued(ids, 30), "issued after the CA is back", statuses(ids))
    got = psql("SELECT attempts || '|' || coalesce(last_error, '') || '|' || (cert_der IS NOT NULL) FROM certificates WHERE id = :'p1'", ids[0])
    t.eq(got, "0||true", "the retried row starts afresh and holds its certificate")
    hist = psql("SELECT count(*) FROM audit WHERE tenant_id = :'p1' AND action = 'certificate_issue' AND detail LIKE '%発行失敗 -> 発行中 (再試行)'", tid)
    t.eq(hist, "1", "the retry is in the history")
    r = c.post("/api/certificates/%d/retry" % ids[0], {})
    t.eq((r.status, (r.json() or {}).get("error", {}).get("code")), (409, "not_failed"), "retrying an issued certificate: 409")
    for cid in five[:4]:
        c.post("/api/certificates/%d/retry" % cid, {})
    r = c.post("/api/certificates/%d/retry" % five[4], {})
    t.eq((r.status, (r.json() or {}).get("error", {}).get("code")), (422, "quota_exceeded"),
         "a retry beyond the quota: 422, nothing changes")
    t.eq(statuses([five[4]]), ["failed"], "... and the certificate stays failed")
    other = admin("issue-a")
    r = other.post("/api/certificates/%d/retry" % five[4], {})
    t.eq(r.status, 404, "another tenant's certificate: 404, as if absent")
    t.ok(wait_issued(five[:4], 30), "the four retried within the quota are issued")
    psql("UPDATE certificates SET status = 'failed' WHERE tenant_id = :'p1' AND status = 'issuing'", tid)


def test_signer_outage(t):
    """The signer away for a minute fails nothing: the rows stay issuing and are issued after."""
    tid = tenant("issue-o", 20, key_type="p256")
    c = admin("issue-o")
    pid = live_pid("signer")
    hold("signer")  # its supervisor starts it no more until released: a real outage
    try:
        os.kill(pid, signal.SIGTERM)
        t.ok(wait_until(lambda: not pid_alive_n(pid), 10), "shomei-signer stopped")
        ids = (c.post("/api/certificates/batch", {"count": 20}).json() or {}).get("ids") or []
        t.eq(len(ids), 20, "a batch of 20 accepted while the signer is away")
        time.sleep(60)
        t.ok(not sock_answers(SIGNER_SOCK) and read_pid("signer") in (0, pid),
             "the signer was down the whole 60 s (held)")
        st = statuses(ids)
        t.eq(st, ["issuing"] * 20, "after 60 s without a signer every one is still issuing, none failed")
        t.ok(int(psql("SELECT max(attempts) FROM certificates WHERE tenant_id = :'p1'", tid) or 0) > 1,
             "the attempts were made and recorded")
    finally:
        t.ok(release("signer") and wait_until(lambda: read_pid("signer") not in (0, pid), 10),
             "shomei-signer started again")
    t.ok(wait_issued(ids, 120), "all 20 issued once the signer is back", issued_count(tid))
    exactly_once(t, tid, 20, "signer outage")


def pid_alive_n(pid):
    try:
        os.kill(pid, 0)
        return True
    except OSError:
        return False


def test_refused(t):
    """A certificate the signer's policy refuses fails at once: retrying cannot change the answer.
    A limit the administrator lowers applies to the very next certificate."""
    tid = tenant("issue-policy", 5, key_type="p256")
    psql("UPDATE tenants SET default_validity_days = 400, max_validity_days = 400 WHERE id = :'p1'", tid)
    c = admin("issue-policy")
    first = (c.post("/api/certificates/batch", {"count": 1}).json() or {}).get("ids") or []
    t.eq(len(first), 1, "batch of 1 accepted")
    t.ok(wait_issued(first, 30), "400 days within the tenant's limit of 400: issued", statuses(first))
    # lowered right after the signer used the tenant's CA: its default validity is now beyond the limit
    psql("UPDATE tenants SET max_validity_days = 30 WHERE id = :'p1'", tid)
    ids = (c.post("/api/certificates/batch", {"count": 1}).json() or {}).get("ids") or []
    t.eq(len(ids), 1, "batch of 1 accepted")
    t.ok(wait_until(lambda: statuses(ids) == ["failed"], 20), "the next one is refused at once: marked failed",
         statuses(ids))
    got = psql("SELECT attempts || '|' || (cert_der IS NULL) FROM certificates WHERE id = :'p1'", ids[0])
    t.eq(got, "1|true", "after one attempt (a permanent refusal is not retried), no certificate")
    err = psql("SELECT coalesce(last_error, '') FROM certificates WHERE id = :'p1'", ids[0])
    t.ok("limit of 30 days" in err, "the signer's reason is recorded", err)


def main():
    t = TAP()
    for fn in (test_batch_validation, test_batch, test_409, test_devices, test_list, test_failure, test_refused,
               test_signer_outage, test_kill, test_redis_flush):
        t.run(fn)
    t.done()


if __name__ == "__main__":
    main()
