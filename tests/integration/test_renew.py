#!/usr/bin/env python3
"""Renewal with the current certificate (issue 13): the download site's /dl/<slug>/renew on the
renewal server (client TLS, optional_no_ca). curl presents a user's certificate (from its
PKCS#12). Refused, each with its own code and the server's sentence (ja, en): no certificate,
another tenant's certificate, a revoked one, one expired beyond the tenant's window, one not yet
in it, a certificate of another device than the one the link names, an address outside the
allow-list, a POST without the page's token. A certificate 10 days from expiry renews: a new row
for the same device (new key, serial, password), the old one still valid until the new one is
downloaded, then revoked (superseded) and on the CRL; the PKCS#12 opens with its password in
openssl, the password is given once, the history has 証明書更新 and the administrators get
電子証明書更新通知."""
import base64
import datetime
import json
import os
import random
import subprocess
import tempfile
import time
import urllib.parse

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from shomei_test import TAP, UP, Client, ctl, mail_messages, path, psql, scratch_dir, wait_until

TAG = "".join(random.choice("abcdefghijkmnpqrstuvwxyz") for _ in range(6))
PW = "Renew2test1x"
TMP = scratch_dir("shomei-renew-")
RENEW = UP.get("renew_url") or ""
CA = path(UP["server_ca"])
JST = datetime.timezone(datetime.timedelta(hours=9))


def tenant(slug):
    ctl("tenant", "create", "--slug", slug, "--name", "更新" + slug, "--name-en", "Renew " + slug,
        "--quota", "20", "--features", "admin_may_issue,download_site,validity_period,notify_users")
    psql("UPDATE tenants SET key_type = 'p256' WHERE slug = :'p1'", slug)
    ctl("admin", "create", "--tenant", slug, "--login-id", slug + "-admin", "--password", PW)
    c = Client()
    assert c.login(slug + "-admin", PW).status == 200
    r = c.request("PUT", "/api/tenant/settings", {"download_allowlist": ["127.0.0.1/32", "::1/128"],
                                                  "notice_address": "admins-%s@example.com" % slug,
                                                  "notice_lang": "ja", "notify_users": True})
    assert r.status == 200, r.body
    return c, int(psql("SELECT id FROM tenants WHERE slug = :'p1'", slug))


def register(c, who, devices, valid_to=None):
    devs = []
    for d in devices:
        dev = {"device": d}
        if valid_to:
            dev["valid_to"] = valid_to
        devs.append(dev)
    addr = "%s-%s@example.com" % (who, TAG)
    r = c.post("/api/users", {"family_name": "更新", "given_name": "次郎", "family_name_kana": "コウシン",
                              "given_name_kana": "ジロウ", "family_name_en": "Koshin", "given_name_en": "Jiro",
                              "email": addr, "devices": devs})
    assert r.status == 202, r.body
    ids = [x["id"] for x in r.json()["certificates"]]
    assert issued(ids), "issued"
    return addr, ids


def issued(ids, seconds=120):
    lit = "{%s}" % ",".join(map(str, ids))
    return wait_until(lambda: psql("SELECT count(*) FROM certificates WHERE id = ANY (:'p1') AND status = 'issued'",
                                   lit) == str(len(ids)), seconds)


def pem_of(c, cid):
    """The certificate's PKCS#12 (from the administrator's API) as cert and key PEM files."""
    p12 = c.get("/api/certificates/%d/p12" % cid)
    pw = c.get("/api/certificates/%d/pin" % cid).body.decode().strip()
    assert p12.status == 200, p12.status
    key, cert, _ = pkcs12.load_key_and_certificates(p12.body, pw.encode())
    cf, kf = os.path.join(TMP, "%d.crt" % cid), os.path.join(TMP, "%d.key" % cid)
    open(cf, "wb").write(cert.public_bytes(serialization.Encoding.PEM))
    open(kf, "wb").write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    os.chmod(kf, 0o600)
    return cf, kf


class Renewer:
    """A browser on the renewal page: curl with the client certificate, the page's cookie jar."""

    def __init__(self, slug, cert=None, lang="ja", source=None, query=""):
        self.slug, self.cert, self.lang, self.source, self.query = slug, cert, lang, source, query
        self.jar = tempfile.mktemp(dir=TMP)
        self.csrf = None

    def call(self, method, sub="", token=True):
        out = tempfile.mktemp(dir=TMP)
        port = RENEW.rsplit(":", 1)[1]
        url = "%s/api/dl/%s/renew%s%s" % (RENEW, self.slug, sub, self.query if method == "GET" else "")
        cmd = ["curl", "-sS", "-o", out, "-w", "%{http_code}", "--cacert", CA, "-b", self.jar, "-c", self.jar,
               "-H", "Accept-Language: " + self.lang, "-X", method, url]
        if self.cert:
            cmd += ["--cert", self.cert[0], "--key", self.cert[1]]
        if self.source:
            cmd += ["--interface", self.source, "--resolve", "localhost:%s:%s" % (port, self.source)]
        if method == "POST":
            if token and self.csrf:
                cmd += ["-H", "X-CSRF-Token: " + self.csrf]
        status = int(subprocess.run(cmd, capture_output=True, text=True, timeout=60).stdout or 0)
        try:
            doc = json.load(open(out, encoding="utf-8"))
        except (OSError, ValueError):
            doc = None
        if doc and doc.get("csrf_token"):
            self.csrf = doc["csrf_token"]
        return status, doc or {}


def code(doc):
    return (doc.get("error") or {}).get("code")


def message(doc):
    return (doc.get("error") or {}).get("message") or ""


def openssl_serial(pem_text):
    out = subprocess.run(["openssl", "x509", "-noout", "-serial"], input=pem_text, capture_output=True,
                         text=True).stdout
    return out.strip().split("=", 1)[1].lower().lstrip("0")


def crl_text(slug):
    f = os.path.join(TMP, slug + ".crl")
    open(f, "wb").write(Client().get("/crl/%s.crl" % slug).body)
    return subprocess.run(["openssl", "crl", "-inform", "DER", "-in", f, "-noout", "-text"],
                          capture_output=True, text=True).stdout.replace(":", "").lower()


def in_crl(slug, serial):
    want = serial.lower().lstrip("0")
    return any(line.strip().startswith("serial number") and line.split()[-1].lstrip("0") == want
               for line in crl_text(slug).splitlines())


messages = mail_messages


def expired_certificate(tid, cid):
    """A second certificate for cid's device, issued by the workers with a 有効期限 30 seconds
    ago: the device's period is set in the past and an issuing row queued (as a reissue does)."""
    psql("UPDATE devices SET valid_from = (SELECT not_before FROM cas WHERE tenant_id = :'p1' AND kind = 'tenant'"
         " AND active) + interval '1 second', valid_to = now() - interval '30 seconds'"
         " WHERE id = (SELECT device_id FROM certificates WHERE id = :'p2')", tid, cid)
    new = int(psql("INSERT INTO certificates (tenant_id, user_id, device_id, cn, email, key_type, status)"
                   " SELECT tenant_id, user_id, device_id, cn, email, key_type, 'issuing' FROM certificates"
                   " WHERE id = :'p1' RETURNING id", cid))
    assert issued([new]), "the expired certificate was issued"
    return new


# ---------------------------------------------------------------------------------------------
def main():
    t = TAP()
    if not t.ok(RENEW.startswith("https://"), "up.json names the renewal server (renew_url)", RENEW):
        t.done()
    slug, slug_b = "rn-" + TAG, "rnb-" + TAG
    c, tid = tenant(slug)
    cb, tid_b = tenant(slug_b)
    soon = (datetime.datetime.now(JST) + datetime.timedelta(days=10)).strftime("%Y/%m/%d")
    addr1, (near, other_dev) = register(c, "near", ["01", "20"], valid_to=soon)
    _, (later,) = register(c, "later", ["01"])
    _, (gone,) = register(c, "gone", ["01"])
    _, (old_dev,) = register(c, "old", ["01"])
    _, (foreign,) = register(cb, "foreign", ["01"])
    expired = expired_certificate(tid, old_dev)
    near_pem, later_pem, other_pem = pem_of(c, near), pem_of(c, later), pem_of(c, other_dev)
    expired_pem, foreign_pem = pem_of(c, expired), pem_of(cb, foreign)
    gone_pem = pem_of(c, gone)
    r = c.post("/api/certificates/revoke", {"ids": [gone]})
    t.eq(r.status, 200, "an administrator revokes one user's certificate", r.body[:300])

    # the page itself, on the renewal server only
    page = subprocess.run(["curl", "-sS", "--cacert", CA, "%s/dl/%s/renew" % (RENEW, slug)],
                          capture_output=True, text=True).stdout
    t.ok("renew.js" in page and "<html" in page, "GET /dl/<slug>/renew serves the renewal page")
    s, doc = Renewer(slug, near_pem).call("GET", "/../../login")
    t.ok(s in (400, 404), "the renewal server reaches nothing but the renewal API", s)

    # --- refusals: each with its code, the server's sentence, nothing changed ---------------
    before = psql("SELECT count(*) FROM certificates WHERE tenant_id = :'p1'", tid)
    s, doc = Renewer(slug).call("GET")
    t.ok(s == 401 and code(doc) == "no_certificate" and "証明書が提示されませんでした" in message(doc),
         "no certificate: 401 no_certificate, in Japanese", (s, doc))
    s, doc = Renewer(slug, lang="en").call("GET")
    t.ok(s == 401 and "No certificate was presented" in message(doc), "the same in English", (s, doc))
    s, doc = Renewer(slug, foreign_pem).call("GET")
    t.ok(s == 403 and code(doc) == "foreign_certificate" and "この利用法人の証明書ではありません" in message(doc),
         "another tenant's certificate: 403 foreign_certificate", (s, doc))
    s, doc = Renewer(slug_b, near_pem).call("GET")
    t.ok(s == 403 and code(doc) == "foreign_certificate", "…and the other way round, at the other tenant's URL",
         (s, doc))
    if gone_pem:
        s, doc = Renewer(slug, gone_pem).call("GET")
        t.ok(s == 403 and code(doc) == "revoked" and "失効" in message(doc), "a revoked certificate: 403 revoked",
             (s, doc))
    s, doc = Renewer(slug, later_pem).call("GET")
    t.ok(s == 403 and code(doc) == "not_yet" and "30 日前" in message(doc),
         "a certificate a year from expiry: 403 not_yet, naming the 30 days", (s, doc))
    s, doc = Renewer(slug, later_pem, lang="en").call("GET")
    t.ok(s == 403 and "cannot be renewed yet" in message(doc), "…in English", (s, doc))
    s, doc = Renewer(slug, expired_pem).call("GET")
    t.ok(s == 200 and doc.get("state") == "renewable",
         "a certificate expired 30 seconds ago is within the 30 days after expiry", (s, doc))
    # the window is a tenant setting (設定: 証明書更新の受付期間), checked like the others
    r = c.get("/api/tenant")
    t.ok(r.status == 200 and (r.json() or {}).get("renew_before_days") == 30
         and (r.json() or {}).get("renew_after_days") == 30, "GET /api/tenant: the window is 30 / 30 days", r.body[:300])
    bad = c.request("PUT", "/api/tenant/settings",
                    {"renew_before_days": -1, "renew_after_days": 3651, "notice_lang": "ja"})
    fields = sorted(f.get("field") for f in ((bad.json() or {}).get("error") or {}).get("fields", []))
    t.ok(bad.status == 422 and fields == ["renew_after_days", "renew_before_days"]
         and "0〜3650" in bad.body.decode(), "-1 and 3651 days: 422 naming both fields, 0〜3650", bad.body[:400])
    for v in (1.5, "7", None, 1e30):
        bad = c.request("PUT", "/api/tenant/settings", {"renew_after_days": v})
        t.eq(bad.status, 422, "renew_after_days %r: 422" % (v,))
    t.eq(psql("SELECT renew_before_days || '/' || renew_after_days FROM tenants WHERE id = :'p1'", tid), "30/30",
         "the refused requests changed nothing")
    r = c.request("PUT", "/api/tenant/settings", {"renew_after_days": 0})
    t.ok(r.status == 200 and (r.json() or {}).get("renew_after_days") == 0
         and (r.json() or {}).get("renew_before_days") == 30, "PUT renew_after_days 0: saved", r.body[:300])
    h = c.get("/api/audit?q=" + urllib.parse.quote("証明書更新の受付期間")).json() or {}
    t.ok(any("30 日前〜30 日後 → 30 日前〜0 日後" in (i.get("detail") or "") for i in h.get("items", [])),
         "the history: 証明書更新の受付期間 30 日前〜30 日後 → 30 日前〜0 日後", h.get("items", [])[:2])
    s, doc = Renewer(slug, expired_pem).call("GET")
    t.ok(s == 403 and code(doc) == "expired" and "0 日以上過ぎている" in message(doc),
         "with the tenant's window after expiry at 0 days: 403 expired", (s, doc))
    r = c.request("PUT", "/api/tenant/settings", {"renew_after_days": 30, "renew_before_days": 400})
    t.eq(r.status, 200, "PUT the window 400 / 30 days", r.body[:300])
    s, doc = Renewer(slug, later_pem).call("GET")
    t.ok(s == 200 and doc.get("state") == "renewable",
         "with the window before expiry at 400 days the year-long certificate may renew", (s, doc))
    r = c.request("PUT", "/api/tenant/settings", {"renew_before_days": 30})
    t.eq(r.status, 200, "PUT the window back to 30 days before", r.body[:300])
    # another device: the link names the certificate (device) being renewed
    s, doc = Renewer(slug, near_pem, query="?certificate=%d" % other_dev).call("GET")
    t.ok(s == 403 and code(doc) == "other_device" and "更新する端末の証明書ではありません" in message(doc),
         "the user's PC certificate on the link of the user's Android: 403 other_device", (s, doc))
    s, doc = Renewer(slug, near_pem, query="?certificate=%d" % later).call("GET")
    t.ok(s == 403 and code(doc) == "other_device", "…and on another user's link: 403 other_device", (s, doc))
    s, doc = Renewer(slug, near_pem, query="?certificate=%d" % foreign).call("GET")
    t.ok(s == 403 and code(doc) == "other_device", "…and on a link naming another tenant's certificate", (s, doc))
    s, doc = Renewer(slug, near_pem, source="127.0.0.2").call("GET")
    t.ok(s == 403 and code(doc) == "ip_refused", "from an address outside the allow-list: 403 ip_refused", (s, doc))
    t.eq(psql("SELECT count(*) FROM certificates WHERE tenant_id = :'p1'", tid), before,
         "no refusal queued a certificate")
    t.ok(int(psql("SELECT count(*) FROM audit WHERE tenant_id = :'p1' AND action = 'download_refused'"
                  " AND detail_code = 'dl_renew_refused'", tid) or 0) >= 1,
         "the refusals are in the history (ダウンロードサイト拒否)")

    # --- the renewal ------------------------------------------------------------------------
    old_serial = psql("SELECT serial FROM certificates WHERE id = :'p1'", near)
    old_pw = c.get("/api/certificates/%d/pin" % near).body.decode().strip()
    b = Renewer(slug, near_pem, query="?certificate=%d" % near)
    s, doc = b.call("GET")
    t.ok(s == 200 and doc.get("state") == "renewable" and (doc.get("certificate") or {}).get("id") == near
         and doc.get("csrf_token"), "10 days from expiry, on its own link: renewable, with the page's token",
         (s, doc))
    s, doc = b.call("POST", "/download")
    t.ok(s == 409 and code(doc) == "not_requested", "nothing to download before the renewal is asked for", (s, doc))
    s, doc = b.call("POST", token=False)
    t.ok(s == 403 and code(doc) == "csrf", "a POST without the page's token: 403 csrf", (s, doc))
    s, doc = Renewer(slug, later_pem).call("POST")
    t.ok(s in (401, 403), "a POST without the page's session is refused", (s, doc))
    s, doc = b.call("POST")
    t.ok(s == 200 and doc.get("state") in ("issuing", "ready"), "POST renew: queued", (s, doc))
    new = psql("SELECT id FROM certificates WHERE replaces_id = :'p1'", near)
    t.ok(bool(new), "a new certificate row replaces the old one")
    new = int(new or 0)
    t.eq(psql("SELECT (n.device_id = o.device_id AND n.user_id = o.user_id AND n.cn = o.cn)::text"
              " FROM certificates n, certificates o WHERE n.id = :'p1' AND o.id = :'p2'", new, near), "true",
         "for the same user, device and common name")
    st = psql("SELECT status || ' ' || (superseded_at IS NOT NULL) FROM certificates WHERE id = :'p1'", near)
    t.ok(st in ("issued true", "downloaded true"),
         "the old certificate stays valid (superseded) until the new one is downloaded", st)
    s2, doc2 = b.call("POST")
    t.eq(psql("SELECT count(*) FROM certificates WHERE replaces_id = :'p1'", near), "1",
         "asking twice queues one certificate")
    t.ok(issued([new]), "the issuance workers issue it")
    s, doc = b.call("GET")
    t.ok(s == 200 and doc.get("state") == "ready", "the page then offers the download", (s, doc))
    t.ok(not in_crl(slug, old_serial), "the old certificate is not on the CRL before the download")

    s, doc = b.call("POST", "/download")
    t.eq(s, 200, "POST renew/download", doc)
    p12 = base64.b64decode(doc.get("p12") or "")
    pw = doc.get("password") or ""
    f = os.path.join(TMP, "new.p12")
    open(f, "wb").write(p12)
    out = subprocess.run(["openssl", "pkcs12", "-in", f, "-passin", "pass:" + pw, "-nokeys", "-clcerts"],
                         capture_output=True, text=True)
    t.ok(out.returncode == 0 and "BEGIN CERTIFICATE" in out.stdout,
         "the new PKCS#12 opens with the password shown (openssl pkcs12)", out.stderr[-500:])
    bad = subprocess.run(["openssl", "pkcs12", "-in", f, "-passin", "pass:wrong" + pw, "-nokeys"],
                         capture_output=True, text=True)
    t.ok(bad.returncode != 0, "…and not with another password")
    if out.returncode == 0:
        new_serial = openssl_serial(out.stdout)
        t.ok(new_serial and new_serial != old_serial.lstrip("0"), "a new serial", (new_serial, old_serial))
        t.eq(new_serial, psql("SELECT serial FROM certificates WHERE id = :'p1'", new).lstrip("0"),
             "the serial of the new row")
        newc = x509.load_pem_x509_certificate(out.stdout.encode())
        oldc = x509.load_pem_x509_certificate(open(near_pem[0], "rb").read())
        t.ok(newc.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
             != oldc.public_key().public_bytes(serialization.Encoding.DER,
                                               serialization.PublicFormat.SubjectPublicKeyInfo),
             "a new key")
        t.eq(newc.subject.rfc4514_string(), oldc.subject.rfc4514_string(), "the same subject")
        t.ok(newc.not_valid_after > oldc.not_valid_after + datetime.timedelta(days=100),
             "it runs the tenant's default from its issue, not to the old 有効期限", newc.not_valid_after)
    t.ok(pw and pw != old_pw, "a new password", (pw, old_pw))
    t.eq(psql("SELECT status FROM certificates WHERE id = :'p1'", new), "downloaded", "the new row is downloaded")
    t.ok(wait_until(lambda: psql("SELECT status || ' ' || revocation_reason FROM certificates WHERE id = :'p1'",
                                 near) == "revoked 4", 20),
         "the old certificate is revoked once the new one is downloaded (reason superseded)",
         psql("SELECT status, revocation_reason FROM certificates WHERE id = :'p1'", near))
    t.ok(wait_until(lambda: in_crl(slug, old_serial), 20), "the old serial is on the CRL (openssl crl)")
    s, doc = b.call("POST", "/download")
    t.ok(s == 403 and code(doc) == "revoked" and "password" not in doc,
         "a second download gives no password: the old certificate is revoked now", (s, doc))
    s, doc = Renewer(slug, near_pem).call("GET")
    t.ok(s == 403 and code(doc) == "revoked", "the old certificate cannot renew again", (s, doc))

    # the new certificate works on the page: it is a year from expiry
    newkey = os.path.join(TMP, "newkey.pem")
    newcrt = os.path.join(TMP, "newcrt.pem")
    subprocess.run(["openssl", "pkcs12", "-in", f, "-passin", "pass:" + pw, "-nodes", "-nocerts", "-out", newkey],
                   capture_output=True)
    subprocess.run(["openssl", "pkcs12", "-in", f, "-passin", "pass:" + pw, "-nokeys", "-clcerts", "-out", newcrt],
                   capture_output=True)
    s, doc = Renewer(slug, (newcrt, newkey)).call("GET")
    t.ok(s == 403 and code(doc) == "not_yet", "the new certificate is recognised (not yet in its window)", (s, doc))

    # history and notice
    h = c.get("/api/audit?action=certificate_renew").json() or {}
    items = h.get("items") or []
    text = json.dumps(items, ensure_ascii=False)
    t.ok(len(items) == 2 and "証明書更新" in text and "更新受付" in text and "更新完了" in text,
         "the history has 証明書更新 twice: accepted, then renewed", text[:600])
    t.eq(psql("SELECT count(*) FROM notifications WHERE tenant_id = :'p1' AND kind = 'admin_renewed'", tid), "1",
         "one 電子証明書更新通知 queued for the administrators")
    got = []
    wait_until(lambda: bool(got.extend(m for m in messages("admins-%s@example.com" % slug)
                                       if "更新通知" in str(m["Subject"])) or got), 60)
    t.ok(len(got) == 1 and old_serial in got[0].get_body(("plain",)).get_content(),
         "the administrators' mail arrives, naming the old serial", [str(m["Subject"]) for m in got])

    # the expiry reminder of the user's other device links to its renewal page
    ctl("notices", "due")
    link = "%s/dl/%s/renew?certificate=%d" % (RENEW, slug, other_dev)
    rem = []
    wait_until(lambda: bool(rem.extend(m for m in messages(addr1) if "有効期限" in str(m["Subject"])
                                       and link in m.get_body(("plain",)).get_content()) or rem), 60)
    t.ok(len(rem) >= 1, "the expiry reminder of the Android certificate carries its renewal link", link)
    s, doc = Renewer(slug, other_pem, query="?certificate=%d" % other_dev).call("GET")
    t.ok(s == 200 and doc.get("state") == "renewable" and (doc.get("certificate") or {}).get("id") == other_dev,
         "that link with that device's certificate: renewable", (s, doc))
    t.done()


if __name__ == "__main__":
    main()
