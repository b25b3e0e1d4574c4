#!/usr/bin/env python3
"""Distribution: the ZIP and password list, one certificate's .p12/.PIN/.mobileconfig, history, isolation."""
import csv
import io
import os
import plistlib
import subprocess
import time
import urllib.parse
import zipfile

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from shomei_test import TAP, UP, Client, clear_lockouts, ctl, psql, scratch_dir

TMP = scratch_dir("shomei-dl-")


def wait_issued(c, ids, seconds=90):
    end = time.time() + seconds
    while time.time() < end:
        st = [(c.get("/api/certificates/%d" % i).json() or {}).get("status") for i in ids]
        if all(s in ("issued", "downloaded") for s in st):
            return True
        time.sleep(0.5)
    return False


def ensure_quota(n):
    tid = psql("SELECT id FROM tenants WHERE slug = :'p1'", UP["tenant"])
    used = int(psql("SELECT count(*) FROM certificates WHERE tenant_id = :'p1' AND status IN "
                    "('issuing','issued','downloaded','revoke_scheduled')", tid))
    ctl("tenant", "set", "--slug", UP["tenant"], "--quota", str(used + n + 10))


def batch(c, n):
    ensure_quota(n)
    r = c.post("/api/certificates/batch", {"count": n})
    return r.status, (r.json() or {}).get("ids", [])


def p12_opens(t, data, password, what):
    key, cert, chain = pkcs12.load_key_and_certificates(data, password.encode())
    pub = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    cpub = cert.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    t.ok(pub == cpub, "%s: python3-cryptography opens it; the key matches the certificate" % what)
    f = os.path.join(TMP, "x.p12")
    open(f, "wb").write(data)
    o = subprocess.run(["openssl", "pkcs12", "-in", f, "-passin", "pass:" + password, "-nokeys", "-noenc"],
                       capture_output=True, text=True)
    t.ok(o.returncode == 0 and "BEGIN CERTIFICATE" in o.stdout, "%s: openssl pkcs12 opens it" % what, o.stderr)
    g = subprocess.run(["certtool", "--p12-info", "--inder", "--infile", f, "--password", password],
                       capture_output=True, text=True)
    t.ok(g.returncode == 0, "%s: GnuTLS certtool opens it" % what, g.stderr[-500:])
    bad = subprocess.run(["openssl", "pkcs12", "-in", f, "-passin", "pass:wrong" + password, "-nokeys"],
                         capture_output=True, text=True)
    t.ok(bad.returncode != 0, "%s: a wrong password does not open it" % what)
    return cert


def csv_rows(body):
    """The rows of a CSV answer after its byte-order mark."""
    return list(csv.reader(io.StringIO(body[3:].decode(), newline="")))


def test_zip_and_passwords(t):
    clear_lockouts()
    c = Client()
    c.login()
    status, ids = batch(c, 3)
    t.eq(status, 202, "three numbered certificates requested")
    t.ok(wait_issued(c, ids), "they are issued")
    r = c.get("/api/downloads/certificates.zip")
    t.eq(r.status, 200, "GET /api/downloads/certificates.zip answers 200")
    t.ok((r.header("Content-Type") or "").startswith("application/zip"), "as application/zip")
    t.ok("attachment" in (r.header("Content-Disposition") or ""), "as an attachment")
    z = zipfile.ZipFile(io.BytesIO(r.body))
    t.ok(z.testzip() is None, "the ZIP is sound (zipfile.testzip)")
    names = z.namelist()
    t.ok("cacert.pem" in names and "cacert.crt" in names, "it holds cacert.pem and cacert.crt")
    cns = [(c.get("/api/certificates/%d" % i).json() or {}).get("cn") for i in ids]
    t.ok(all(cn + ".p12" in names for cn in cns), "every new certificate is there as <CN>.p12", names[:10])
    chain_pem = z.read("cacert.pem")
    ca = x509.load_der_x509_certificate(z.read("cacert.crt"))
    t.ok(b"BEGIN CERTIFICATE" in chain_pem and chain_pem.count(b"BEGIN CERTIFICATE") == 2,
         "cacert.pem is the chain (issuing CA and root)")
    r = c.get("/api/downloads/passwords.csv")
    t.eq(r.status, 200, "GET /api/downloads/passwords.csv answers 200")
    t.ok(r.body.startswith(b"\xef\xbb\xbf"), "the CSV starts with a UTF-8 BOM (for Excel)")
    rows = dict(csv_rows(r.body))
    t.eq(sorted(rows), sorted(n[:-4] for n in names if n.endswith(".p12")), "one row per .p12: name, password")
    t.ok(all(len(p) == 12 for p in rows.values()), "12-character passwords")
    cn = cns[0]
    cert = p12_opens(t, z.read(cn + ".p12"), rows[cn], cn + ".p12 from the ZIP")
    t.eq(cert.issuer, ca.subject, "the certificate is issued by cacert.crt's CA")
    pem = os.path.join(TMP, "c.pem")
    open(pem, "wb").write(cert.public_bytes(serialization.Encoding.PEM))
    ch = os.path.join(TMP, "chain.pem")
    open(ch, "wb").write(chain_pem)
    v = subprocess.run(["openssl", "verify", "-CAfile", ch, pem], capture_output=True, text=True)
    t.ok(v.returncode == 0, "openssl verify: the certificate chains to cacert.pem", v.stdout + v.stderr)
    st = [(c.get("/api/certificates/%d" % i).json() or {}).get("status") for i in ids]
    t.eq(st, ["downloaded"] * 3, "downloaded certificates become downloaded (ダウンロード済)")
    h = (c.get("/api/audit?action=certificate_download").json() or {}).get("items", [])
    t.ok(h and all(cn in h[0]["detail"] for cn in cns), "history: 証明書ダウンロード with the CNs", h[:1])
    h = (c.get("/api/audit?action=password_csv").json() or {}).get("items", [])
    t.ok(h and cns[0] in h[0]["detail"], "history: パスワードCSV with the names")


def test_one_certificate(t):
    c = Client()
    c.login()
    status, ids = batch(c, 1)
    t.ok(wait_issued(c, ids), "one more certificate issued")
    i = ids[0]
    r = c.get("/api/certificates/%d/pin" % i)
    t.eq(r.status, 200, ".../pin answers 200")
    pw = r.body.decode().strip()
    t.ok(len(pw) == 12 and pw.isalnum(), "the .PIN is the 12-character password")
    r = c.get("/api/certificates/%d/p12" % i)
    t.eq(r.status, 200, ".../p12 answers 200")
    t.eq(r.header("Content-Type"), "application/x-pkcs12", "as application/x-pkcs12")
    cn = (c.get("/api/certificates/%d" % i).json() or {}).get("cn")
    t.ok('filename="%s.p12"' % cn in (r.header("Content-Disposition") or ""), "named <CN>.p12")
    p12_opens(t, r.body, pw, "the single .p12")
    t.eq((c.get("/api/certificates/%d" % i).json() or {}).get("status"), "downloaded", "it is now downloaded")
    r = c.get("/api/certificates/%d/mobileconfig" % i)
    t.eq((r.status, (r.json() or {}).get("error", {}).get("code")), (409, "not_ios"),
         "no mobileconfig for a certificate that is not for iOS")
    t.eq(c.get("/api/certificates/999999999/p12").status, 404, "an unknown id answers 404")
    issuing = psql("SELECT id FROM certificates WHERE status <> 'issued' AND status <> 'downloaded' LIMIT 1")
    if issuing:
        t.eq(c.get("/api/certificates/%s/p12" % issuing).status in (404, 409), True,
             "a certificate that is not valid is not handed out")


# one (e-mail, device code) pair per tenant: a stack that is reused needs a new e-mail each run
IOS_EMAIL = "suzuki-hanako-%d@example.com" % (int(time.time() * 1000) % 10**9)


def register_ios(c):
    ensure_quota(1)
    body = {"family_name": "鈴木", "given_name": "花子", "family_name_kana": "スズキ", "given_name_kana": "ハナコ",
            "family_name_en": "Suzuki", "given_name_en": "Hanako", "email": IOS_EMAIL,
            "devices": [{"device": "11"}]}
    r = c.post("/api/users", body)
    if r.status != 202:
        return None, r
    return [x["id"] for x in r.json()["certificates"]], r


def test_mobileconfig(t):
    c = Client()
    c.login()
    ids, r = register_ios(c)
    if not t.ok(ids is not None, "an iPhone user is registered", r.body[:300]):
        return
    t.ok(wait_issued(c, ids), "the iPhone certificate is issued")
    i = ids[0]
    r = c.get("/api/certificates/%d/mobileconfig" % i)
    t.eq(r.status, 200, ".../mobileconfig answers 200 for an iOS certificate")
    t.eq(r.header("Content-Type"), "application/x-apple-aspen-config", "as application/x-apple-aspen-config")
    prof = plistlib.loads(r.body)
    types = [p["PayloadType"] for p in prof["PayloadContent"]]
    t.eq(sorted(types), ["com.apple.security.pkcs12", "com.apple.security.root"],
         "plistlib: the two payloads, PKCS#12 and root CA")
    t.eq(prof["PayloadType"], "Configuration", "a Configuration profile")
    p12 = next(p for p in prof["PayloadContent"] if p["PayloadType"] == "com.apple.security.pkcs12")
    t.ok("Password" not in p12, "the password is not embedded")
    pw = c.get("/api/certificates/%d/pin" % i).body.decode().strip()
    cert = p12_opens(t, p12["PayloadContent"], pw, "the profile's PKCS#12")
    t.ok(IOS_EMAIL in cert.subject.rfc4514_string(), "it is the user's certificate")
    root = next(p for p in prof["PayloadContent"] if p["PayloadType"] == "com.apple.security.root")
    rc = x509.load_der_x509_certificate(root["PayloadContent"])
    t.eq(rc.issuer, rc.subject, "the root payload is a self-signed root")
    again = plistlib.loads(c.get("/api/certificates/%d/mobileconfig" % i).body)
    t.eq([p["PayloadUUID"] for p in again["PayloadContent"]] + [again["PayloadUUID"]],
         [p["PayloadUUID"] for p in prof["PayloadContent"]] + [prof["PayloadUUID"]],
         "UUIDs are stable across downloads")
    h = (c.get("/api/audit?q=" + urllib.parse.quote(".mobileconfig")).json() or {}).get("items", [])
    t.ok(h and h[0]["action"] == "certificate_download", "history: the profile download")


def test_selected_ids(t):
    """?ids=…: the ZIP and the password list of exactly the certificates selected."""
    c = Client()
    c.login()
    status, ids = batch(c, 3)
    t.eq(status, 202, "three more numbered certificates requested")
    t.ok(wait_issued(c, ids), "they are issued")
    cns = [(c.get("/api/certificates/%d" % i).json() or {}).get("cn") for i in ids]
    pick = "%d,%d" % (ids[0], ids[2])
    r = c.get("/api/downloads/certificates.zip?ids=" + urllib.parse.quote(pick))
    t.eq(r.status, 200, "GET certificates.zip?ids=<two ids> answers 200")
    z = zipfile.ZipFile(io.BytesIO(r.body))
    t.eq(sorted(n for n in z.namelist() if n.endswith(".p12")), sorted([cns[0] + ".p12", cns[2] + ".p12"]),
         "the ZIP holds exactly the two selected .p12")
    t.ok("cacert.pem" in z.namelist() and "cacert.crt" in z.namelist(), "and the CA files")
    st = [(c.get("/api/certificates/%d" % i).json() or {}).get("status") for i in ids]
    t.eq(st, ["downloaded", "issued", "downloaded"], "only the two selected became downloaded")
    r = c.get("/api/downloads/passwords.csv?ids=" + urllib.parse.quote(pick))
    t.eq(sorted(dict(csv_rows(r.body))), sorted([cns[0], cns[2]]), "the password list names the same two")
    for bad in ("", "1,,2", "abc", "0", "-3", ",".join(str(i + 1) for i in range(1001))):
        r = c.get("/api/downloads/certificates.zip?ids=" + urllib.parse.quote(bad))
        f = ((r.json() or {}).get("error") or {}).get("fields") or [{}]
        t.ok(r.status == 422 and f[0].get("field") == "ids" and "1〜1000" in f[0].get("message", ""),
             "ids=%r is refused with 422 naming ids" % bad[:20], r.body[:200])
    r = Client(lang="en")
    r.login()
    b = r.get("/api/downloads/passwords.csv?ids=x").json() or {}
    t.ok("comma" in b.get("error", {}).get("fields", [{}])[0].get("message", ""), "in English with Accept-Language: en")
    # (at most 100 of them: a stack that ran the lists' tests holds tenants of 20,000)
    o_ids = psql("SELECT string_agg(id::text, ',') FROM (SELECT c.id FROM certificates c JOIN tenants t"
                 " ON t.id = c.tenant_id WHERE t.slug <> :'p1' AND c.status IN ('issued','downloaded')"
                 " ORDER BY c.id LIMIT 100) s", UP["tenant"])
    if o_ids:
        z = zipfile.ZipFile(io.BytesIO(c.get("/api/downloads/certificates.zip?ids=" + o_ids).body))
        t.eq([n for n in z.namelist() if n.endswith(".p12")], [], "another tenant's ids give nothing")


def test_isolation(t):
    ctl("tenant", "create", "--slug", "dlother", "--name", "配布別法人", "--name-en", "DL Other", "--quota", "5")
    ctl("admin", "create", "--tenant", "dlother", "--login-id", "dlother01", "--password", "Dlother123")
    mine = psql("SELECT c.id FROM certificates c JOIN tenants t ON t.id = c.tenant_id "
                "WHERE t.slug = :'p1' AND c.status IN ('issued','downloaded') LIMIT 1", UP["tenant"])
    o = Client()
    t.eq(o.login("dlother01", "Dlother123").status, 200, "the other tenant's administrator logs in")
    for kind in ("p12", "pin", "mobileconfig"):
        t.eq(o.get("/api/certificates/%s/%s" % (mine, kind)).status, 404,
             "another tenant's certificate: .../%s answers 404" % kind)
    z = zipfile.ZipFile(io.BytesIO(o.get("/api/downloads/certificates.zip").body))
    t.eq(sorted(z.namelist()), ["cacert.crt", "cacert.pem"], "the other tenant's ZIP holds none of demo's")
    r = o.get("/api/downloads/passwords.csv")
    t.eq(r.body, b"\xef\xbb\xbf", "and its password list is empty")
    t.eq(Client().get("/api/downloads/certificates.zip").status, 401, "without a session: 401")


def test_formula_cells(t):
    """passwords.csv escapes a cell a spreadsheet would run as a formula, as users.csv does."""
    clear_lockouts()
    c = Client()
    c.login()
    status, ids = batch(c, 2)
    t.eq(status, 202, "two numbered certificates requested")
    t.ok(wait_issued(c, ids), "they are issued")
    cns = [psql("SELECT cn FROM certificates WHERE id = :'p1'", i) for i in ids]
    evil = ["=1+2", "+81-3-1234"]
    try:
        for i, cn in zip(ids, evil):
            psql("UPDATE certificates SET cn = :'p2' WHERE id = :'p1'", i, cn)
        r = c.get("/api/downloads/passwords.csv")
        t.eq(r.status, 200, "GET /api/downloads/passwords.csv answers 200")
        lines = r.body[3:].decode().split("\r\n")
        for cn in evil:
            mine = [ln for ln in lines if cn in ln]
            t.ok(len(mine) == 1 and mine[0].startswith('"\'%s",' % cn),
                 "a CN starting with %s is written with a leading apostrophe, quoted" % cn[0], mine)
        rows = csv_rows(r.body)
        t.ok(rows and all(len(row) == 2 for row in rows), "every row is two cells (name, password)")
        t.ok(not any(cell[:1] in ("=", "+", "-", "@", "\t", "\r") for row in rows for cell in row),
             "no cell of the list starts with = + - @ tab or CR")
        u = c.get("/api/users/export.csv")
        t.eq(u.status, 200, "users.csv answers 200")
        t.ok(any(row[11] == "'=1+2" for row in csv_rows(u.body)[1:] if len(row) > 11),
             "users.csv escapes the same CN the same way (one function for both)")
    finally:
        for i, cn in zip(ids, cns):
            psql("UPDATE certificates SET cn = :'p2' WHERE id = :'p1'", i, cn)


def test_zip_names_unique(t):
    """Two certificates that would have one file name are both in the ZIP, under distinct names."""
    clear_lockouts()
    c = Client()
    c.login()
    status, ids = batch(c, 2)
    t.eq(status, 202, "two numbered certificates requested")
    t.ok(wait_issued(c, ids), "they are issued")
    cns = [psql("SELECT cn FROM certificates WHERE id = :'p1'", i) for i in ids]
    dup = "dup-%d" % ids[0]
    try:
        for i, cn in zip(ids, [dup, dup.upper()]):
            psql("UPDATE certificates SET cn = :'p2' WHERE id = :'p1'", i, cn)
        r = c.get("/api/downloads/certificates.zip")
        t.eq(r.status, 200, "the ZIP answers 200")
        z = zipfile.ZipFile(io.BytesIO(r.body))
        names = z.namelist()
        t.eq(len(names), len(set(n.lower() for n in names)), "no two entries share a name, in any letter case")
        mine = sorted(n for n in names if n.lower().startswith(dup))
        t.eq(mine, sorted([dup + ".p12", dup.upper() + "_2.p12"]),
             "the second gets _2 before the extension", mine)
        t.ok(len(mine) == 2 and z.read(mine[0]) != z.read(mine[1]), "each holds its own certificate")
        pw = {row[0]: row[1] for row in csv_rows(c.get("/api/downloads/passwords.csv").body)}
        t.ok(all(n[:-4] in pw for n in mine), "passwords.csv names the same files", sorted(pw)[-5:])
        serials = set()
        for n in mine:
            try:
                _, cert, _ = pkcs12.load_key_and_certificates(z.read(n), pw.get(n[:-4], "").encode())
                serials.add(cert.serial_number)
            except Exception:
                pass
        t.eq(len(serials), 2, "both open with their passwords: two certificates")
    finally:
        for i, cn in zip(ids, cns):
            psql("UPDATE certificates SET cn = :'p2' WHERE id = :'p1'", i, cn)


def test_install_restriction(t):
    """A certificate with an install restriction: not in the ZIP, no .p12 or .mobileconfig (403), its .PIN yes."""
    slug, pw = "dl-restrict", "Restrict2test1"
    ctl("tenant", "create", "--slug", slug, "--name", "制限テスト", "--name-en", "Restrict Test", "--quota", "10",
        "--features", "install_restriction,admin_may_issue")
    used = int(psql("SELECT count(*) FROM certificates c JOIN tenants t ON t.id = c.tenant_id WHERE t.slug = :'p1'"
                    " AND c.status IN ('issuing', 'issued', 'downloaded', 'revoke_scheduled')", slug))
    ctl("tenant", "set", "--slug", slug, "--quota", str(used + 10), "--features", "install_restriction,admin_may_issue")
    ctl("admin", "create", "--tenant", slug, "--login-id", slug + "-admin", "--password", pw)
    clear_lockouts()
    c = Client()
    t.eq(c.login(slug + "-admin", pw).status, 200, "the tenant's administrator logs in")
    run = int(time.time() * 1000) % 10**9
    b = {"family_name": "制限", "given_name": "太郎", "family_name_kana": "セイゲン", "given_name_kana": "タロウ",
         "family_name_en": "Seigen", "given_name_en": "Taro", "email": "restrict-%d@example.com" % run,
         "devices": [{"device": "01", "restriction": {"mode": "or", "mac": "020000000001"}},
                     {"device": "20", "email": "restrict-%d-android@example.com" % run}]}
    r = c.post("/api/users", b)
    t.eq(r.status, 202, "a user with a restricted WindowsPC and an unrestricted Android", r.body[:400])
    certs = {x["device"]: x["id"] for x in (r.json() or {}).get("certificates", [])}
    if not t.ok(set(certs) == {"01", "20"} and wait_issued(c, certs.values()), "both are issued"):
        return
    ri, fi = certs["01"], certs["20"]
    z = zipfile.ZipFile(io.BytesIO(c.get("/api/downloads/certificates.zip").body))
    names = z.namelist()
    t.ok("restrict-%d@example.com_01.p12" % run not in names, "the restricted certificate is not in the ZIP", names)
    t.ok("restrict-%d-android@example.com_20.p12" % run in names, "the unrestricted one is", names)
    rows = csv_rows(c.get("/api/downloads/passwords.csv").body)
    t.ok(not any(row[0].startswith("restrict-%d@" % run) for row in rows)
         and any(row[0].startswith("restrict-%d-android@" % run) for row in rows),
         "the password list holds the ZIP's certificates only", rows)
    st = (c.get("/api/certificates/%d" % ri).json() or {}).get("status")
    t.eq(st, "issued", "the ZIP did not mark the restricted certificate downloaded")
    for kind in ("p12", "mobileconfig"):
        r = c.get("/api/certificates/%d/%s" % (ri, kind))
        err = (r.json() or {}).get("error") or {}
        t.eq((r.status, err.get("code")), (403, "install_restricted"),
             "the restricted certificate's .../%s answers 403 install_restricted" % kind, r.body[:300])
        t.ok("管理者一括ダウンロードをご利用の場合は、インストール制限機能はご利用いただけません" in (err.get("message") or ""),
             ".../%s: the message gives the manual's rule" % kind, err.get("message"))
    r = Client(lang="en")
    r.cookie, r.csrf = c.cookie, c.csrf
    msg = ((r.get("/api/certificates/%d/p12" % ri).json() or {}).get("error") or {}).get("message") or ""
    t.ok("install restriction" in msg, "in English with Accept-Language en", msg)
    t.eq((c.get("/api/certificates/%d" % ri).json() or {}).get("status"), "issued", "a refusal marks nothing")
    r = c.get("/api/certificates/%d/pin" % ri)
    t.ok(r.status == 200 and len(r.body.decode().strip()) == 12, "its .PIN is served (shomei-enroll asks for it)")
    r = c.get("/api/certificates/%d/p12" % fi)
    t.eq(r.status, 200, "the unrestricted certificate's .p12 still downloads")
    pin = c.get("/api/certificates/%d/pin" % fi).body.decode().strip()
    p12_opens(t, r.body, pin, "the unrestricted .p12")


def main():
    t = TAP()
    for fn in (test_zip_and_passwords, test_selected_ids, test_formula_cells, test_zip_names_unique, test_install_restriction, test_one_certificate, test_mobileconfig, test_isolation):
        t.run(fn)
    t.done()


if __name__ == "__main__":
    main()
