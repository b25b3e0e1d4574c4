#!/usr/bin/env python3
"""The end-user download site (NRA 4-3): tenant settings and the allow-list, login, lockout,
grants, install restriction in the browser and with shomei-enroll, history, the users CSV,
the site URL with its QR code, and tenant isolation for every URL."""
import base64
import csv
import io
import os
import plistlib
import random
import re
import stat
import subprocess
import time

from cryptography.hazmat.primitives.serialization import pkcs12

from shomei_test import ROOT, TAP, UP, Client, clear_lockouts, ctl, psql, redis, scratch_dir

BUILD = os.environ.get("SHOMEI_BUILD") or os.path.join(ROOT, "build")
ENROLL = os.path.join(BUILD, "tools", "enroll", "shomei-enroll")
TAG = "dl" + "".join(random.choice("abcdefghijkmnpqrstuvwxyz23456789") for _ in range(6))
PW = "Dlsite2test1"
TMP = scratch_dir("shomei-dlsite-")
ALL = "validity_period,org_units,install_restriction,download_site,admin_may_issue,notify_users"


class Ctx:
    pass


X = Ctx()


class DlClient(Client):
    """An end user's browser: keeps the download site's own cookie (__Host-shomei-dl)."""

    def __init__(self, host=None, **kw):
        super().__init__(host=host, **kw)
        self.dl = None
        self.dl_csrf = None

    def request(self, method, url, body=None, headers=None, raw=None):
        h = dict(headers or {})
        if self.dl:
            h["Cookie"] = self.dl
        r = super().request(method, url, body=body, headers=h, raw=raw)
        for c in r.headers.get_all("Set-Cookie") or []:
            name, _, rest = c.partition("=")
            if name == "__Host-shomei-dl":
                self.cookie_attrs = c
                value = rest.split(";", 1)[0]
                self.dl = "__Host-shomei-dl=" + value if value else None
        return r

    def dl_login(self, slug, login_id, password, **kw):
        r = self.post("/api/dl/%s/login" % slug, {"login_id": login_id, "password": password}, **kw)
        if r.status == 200:
            self.dl_csrf = (r.json() or {}).get("csrf_token")
        return r


def login_tenant(slug, features, quota=100):
    args = ["tenant", "create", "--slug", slug, "--name", "配付テスト" + slug, "--name-en",
            "Dist Test " + slug, "--quota", str(quota)]
    if features:
        args += ["--features", features]
    ctl(*args)
    ctl("tenant", "set", "--slug", slug, "--quota", str(quota), "--features", features or "")
    ctl("admin", "create", "--tenant", slug, "--login-id", slug + "-admin", "--password", PW)
    c = Client()
    r = c.login(slug + "-admin", PW)
    if r.status != 200:
        raise RuntimeError("login %s: %d %s" % (slug, r.status, r.body[:200]))
    return c, int(psql("SELECT id FROM tenants WHERE slug = :'p1'", slug))


def user(suffix, devices):
    return {"family_name": "配付", "given_name": "太郎", "family_name_kana": "ハイフ",
            "given_name_kana": "タロウ", "family_name_en": "Haifu", "given_name_en": suffix.capitalize(),
            "email": "%s-%s@example.com" % (TAG, suffix), "devices": devices}


def register(c, b):
    r = c.post("/api/users", b)
    if r.status != 202:
        raise RuntimeError("register: %d %s" % (r.status, r.body[:800]))
    return [x["id"] for x in (r.json() or {}).get("certificates", [])]


def wait_issued(c, ids, seconds=120):
    end = time.time() + seconds
    while time.time() < end:
        st = [(c.get("/api/certificates/%d" % i).json() or {}).get("status") for i in ids]
        if all(s in ("issued", "downloaded") for s in st):
            return True
        time.sleep(0.5)
    return False


def pin(c, cid):
    r = c.get("/api/certificates/%d/pin" % cid)
    if r.status != 200:
        raise RuntimeError("pin %d: %d %s" % (cid, r.status, r.body[:200]))
    return r.body.decode()


def allow(c, *nets):
    r = c.request("PUT", "/api/tenant/settings", {"download_allowlist": list(nets)})
    if r.status != 200:
        raise RuntimeError("allow-list: %d %s" % (r.status, r.body[:400]))
    return r


def fields_of(r):
    return [f.get("field") for f in ((r.json() or {}).get("error") or {}).get("fields") or []]


def code_of(r):
    return ((r.json() or {}).get("error") or {}).get("code")


def history(tid, action, since_id):
    return psql("SELECT actor_kind || '|' || coalesce(host(ip), '') || '|' || detail FROM audit"
                " WHERE tenant_id = :p1 AND action = :'p2' AND id > :p3 ORDER BY id", tid, action,
                since_id).splitlines()


def counts(lines):
    """The "(N回)" at the end of summarised entries."""
    return [int(re.search(r"\((\d+)回\)$", x).group(1)) for x in lines if re.search(r"\((\d+)回\)$", x)]


def last_audit():
    return int(psql("SELECT coalesce(max(id), 0) FROM audit") or 0)


def setup():
    clear_lockouts()
    X.a, X.a_tid = login_tenant("dl-" + TAG + "a", ALL)
    X.b, X.b_tid = login_tenant("dl-" + TAG + "b", "download_site,admin_may_issue")
    X.n, X.n_tid = login_tenant("dl-" + TAG + "n", "admin_may_issue")
    X.sa, X.sb, X.sn = ("dl-" + TAG + s for s in "abn")
    # U1: a Windows PC and an iPhone under one e-mail; U2: Android; U3: AND; U4: OR
    X.u1 = register(X.a, user("one", [{"device": "01"}, {"device": "11"}]))
    X.u2 = register(X.a, user("two", [{"device": "20"}]))
    X.u3 = register(X.a, user("three", [{"device": "01", "restriction": {
        "mode": "and", "mac": "001122AABBCC", "computer": "test-host"}}]))
    X.u4 = register(X.a, user("four", [{"device": "01", "restriction": {
        "mode": "or", "mac": "AABBCCDDEEFF", "login_user": "yamada", "bios_serial": "SN-0001"}}]))
    X.b1 = register(X.b, user("one", [{"device": "01"}]))
    X.n1 = register(X.n, user("one", [{"device": "01"}]))
    ok = wait_issued(X.a, X.u1 + X.u2 + X.u3 + X.u4) and wait_issued(X.b, X.b1) and wait_issued(X.n, X.n1)
    if not ok:
        raise RuntimeError("certificates were not issued in time")
    allow(X.b, "127.0.0.0/8")
    allow(X.n, "127.0.0.0/8")
    X.pw = {cid: pin(X.a, cid) for cid in X.u1 + X.u2 + X.u3 + X.u4}
    X.pw.update({cid: pin(X.b, cid) for cid in X.b1})
    X.pw.update({cid: pin(X.n, cid) for cid in X.n1})
    X.email = {"one": "%s-one@example.com" % TAG, "two": "%s-two@example.com" % TAG,
               "three": "%s-three@example.com" % TAG, "four": "%s-four@example.com" % TAG}


def test_settings(t):
    c = X.a
    r = c.get("/api/tenant")
    t.eq((r.json() or {}).get("download_allowlist"), [], "a new tenant's allow-list is empty (everyone refused)")
    bad = c.request("PUT", "/api/tenant/settings", {
        "notify_users": "yes",
        "download_allowlist": ["192.0.2.0/24", "192.0.2.1/24", " 10.0.0.1", "2001:db8::/129", 7,
                               "example.com", "192.0.2.0/24", "10.1", ""]})
    t.eq(bad.status, 422, "bad settings answer 422")
    t.eq(fields_of(bad), ["notify_users", "download_allowlist[1]", "download_allowlist[2]",
                          "download_allowlist[3]", "download_allowlist[4]", "download_allowlist[5]",
                          "download_allowlist[6]", "download_allowlist[7]", "download_allowlist[8]"],
         "every bad field is named, entries by index", bad.body[:1500])
    t.eq((c.get("/api/tenant").json() or {}).get("download_allowlist"), [], "a refused request changes nothing")
    r = c.request("PUT", "/api/tenant/settings", {"download_allowlist": ["10.0.0.%d" % i for i in range(101)]})
    t.eq((r.status, fields_of(r)), (422, ["download_allowlist"]), "more than 100 entries are refused")
    r = c.request("PUT", "/api/tenant/settings", {"download_allowlist": "10.0.0.0/8"})
    t.eq((r.status, fields_of(r)), (422, ["download_allowlist"]), "a string instead of a list is refused")
    en = Client(lang="en")
    en.login(X.sa + "-admin", PW)
    r = en.request("PUT", "/api/tenant/settings", {"download_allowlist": ["192.0.2.5/24"]})
    t.ok(r.status == 422 and "host bits" in (r.body.decode()), "the message is in English when asked", r.body)
    r = X.n.request("PUT", "/api/tenant/settings", {"notify_users": True})
    t.eq((r.status, fields_of(r)), (422, ["notify_users"]), "mail to users needs the notify_users feature")
    mark = last_audit()
    r = c.request("PUT", "/api/tenant/settings", {
        "notify_users": True, "download_allowlist": ["0.0.0.0/0", "::ffff:127.0.0.1", "2001:DB8::/32", "::/0"]})
    doc = r.json() or {}
    t.eq(r.status, 200, "good settings answer 200", r.body[:400])
    t.eq(doc.get("download_allowlist"), ["0.0.0.0/0", "127.0.0.1/32", "2001:db8::/32", "::/0"],
         "entries are stored canonical, the IPv4-mapped one as IPv4")
    t.eq([w.get("field") for w in doc.get("warnings", [])], ["download_allowlist[0]", "download_allowlist[3]"],
         "0.0.0.0/0 and ::/0 are accepted with a warning")
    t.ok("推奨しません" in str(doc.get("warnings")), "the warning says it is not recommended")
    t.eq(doc.get("notify_users"), True, "notify_users is on")
    t.eq(psql("SELECT notify_users, download_allowlist FROM tenants WHERE id = :p1", X.a_tid),
         "t|{0.0.0.0/0,127.0.0.1/32,2001:db8::/32,::/0}", "both are stored in tenants")
    h = history(X.a_tid, "ip_restriction", mark)
    t.ok(len(h) == 1 and h[0].startswith("admin|127.0.0.1|") and "2001:db8::/32" in h[0],
         "ip_restriction history entry with the new list and the address", h)
    t.eq(len(history(X.a_tid, "settings", mark)), 1, "settings history entry for notify_users")
    r = c.get("/api/audit?action=ip_restriction")
    t.ok(any(i.get("action_label") == "IPアドレス制限設定" for i in (r.json() or {}).get("items", [])),
         "the history API shows IPアドレス制限設定")
    r = c.request("PUT", "/api/tenant/settings", {"notify_users": False, "download_allowlist": []})
    t.eq((r.status, (r.json() or {}).get("download_allowlist")), (200, []), "the list can be emptied again")
    r = Client().request("PUT", "/api/tenant/settings", {"download_allowlist": []})
    t.eq(r.status, 401, "settings need an administrator's session")


def test_default_refusal(t):
    clear_lockouts()
    mark = last_audit()
    d = DlClient()
    r = d.post("/api/dl/%s/login" % X.sa, raw=b"{not json", headers={"Content-Type": "application/json"})
    t.eq((r.status, code_of(r)), (403, "ip_refused"), "empty allow-list: 403 before the body is even read")
    r = d.dl_login(X.sa, X.email["one"], X.pw[X.u1[0]])
    t.eq(r.status, 403, "the right password does not help from outside the list")
    t.eq(d.get("/api/dl/%s/certificates" % X.sa).status, 403, "the list is refused too")
    t.eq(d.get("/api/dl/%s/certificate?id=%d" % (X.sa, X.u1[0])).status, 403, "and the download")
    t.eq(history(X.a_tid, "login", mark), [], "a refusal is no login entry")
    h = history(X.a_tid, "download_refused", mark)
    t.ok(1 <= len(h) <= 2 and all(x.startswith("user|127.0.0.1|ダウンロードサイト IPアドレス制限により拒否 127.0.0.1 (")
                                  for x in h) and sum(counts(h)) == 4,
         "the 4 refusals are summed in the history (one entry a minute) with the source address", h)
    t.eq(psql("SELECT count(*) FROM audit WHERE id > :p1 AND detail LIKE '%%ログイン失敗%%'", mark), "0",
         "no login attempt was counted: the password was never looked at")
    its = (X.a.get("/api/audit?action=download_refused").json() or {}).get("items", [])
    t.ok(its and its[0].get("action_label") == "ダウンロードサイト拒否"
         and its[0].get("detail", "").startswith("ダウンロードサイト IPアドレス制限により拒否 127.0.0.1（"),
         "the administrator sees it labelled ダウンロードサイト拒否, the count in full-width brackets", its[:1])


def test_addresses(t):
    clear_lockouts()
    email, pw = X.email["one"], X.pw[X.u1[0]]
    allow(X.a, "127.0.0.1")
    t.eq(DlClient(host="127.0.0.2").dl_login(X.sa, email, pw).status, 403, "127.0.0.2 is outside [127.0.0.1]")
    t.eq(DlClient(host="::1").dl_login(X.sa, email, pw).status, 403, "::1 is outside [127.0.0.1]")
    t.eq(DlClient().dl_login(X.sa, email, pw).status, 200, "127.0.0.1 is inside [127.0.0.1]")
    allow(X.a, "::1")
    t.eq(DlClient(host="::1").dl_login(X.sa, email, pw).status, 200, "IPv6: ::1 is inside [::1]")
    t.eq(DlClient().dl_login(X.sa, email, pw).status, 403, "127.0.0.1 is outside [::1]")
    allow(X.a, "127.0.0.0/30")
    t.eq(DlClient(host="127.0.0.2").dl_login(X.sa, email, pw).status, 200, "CIDR: 127.0.0.2 is inside 127.0.0.0/30")
    allow(X.a, "127.0.0.2/32", "2001:db8::/32")
    t.eq(DlClient().dl_login(X.sa, email, pw).status, 403, "127.0.0.1 is outside 127.0.0.2/32")
    allow(X.a, "::ffff:127.0.0.2")
    t.eq(DlClient(host="127.0.0.2").dl_login(X.sa, email, pw).status, 200,
         "IPv4-mapped ::ffff:127.0.0.2 lets 127.0.0.2 in")
    t.eq(DlClient().dl_login(X.sa, email, pw).status, 403, "and not 127.0.0.1")
    # a session made inside the list is refused once the address is outside it
    d = DlClient(host="127.0.0.2")
    d.dl_login(X.sa, email, pw)
    allow(X.a, "127.0.0.1")
    t.eq(d.get("/api/dl/%s/certificates" % X.sa).status, 403, "the list is checked again on every request")
    allow(X.a, "127.0.0.0/8", "::1")


def test_login_and_lockout(t):
    clear_lockouts()
    d = DlClient()
    r = d.dl_login(X.sa, X.email["one"], X.pw[X.u1[0]])
    t.eq(r.status, 200, "login with the device e-mail and the certificate's password")
    attrs = getattr(d, "cookie_attrs", "")
    t.ok(attrs.startswith("__Host-shomei-dl=") and all(a in attrs for a in ("Secure", "HttpOnly", "SameSite=Strict", "Path=/")),
         "the cookie is __Host-shomei-dl, Secure, HttpOnly, SameSite=Strict, Path=/", attrs)
    t.ok(not d.cookie, "no administrator cookie is set")
    keys = redis("--scan", "--pattern", "shomei:dlsess:*")
    token = d.dl.split("=", 1)[1]
    t.ok(token not in redis("--scan", "--pattern", "shomei:dlsess:*") and redis("--scan", "--pattern", "shomei:dlsess:*"),
         "Redis keys the session by the token's hash, never the token", keys)
    ttl = int(redis("TTL", redis("--scan", "--pattern", "shomei:dlsess:*").split()[0]) or 0)
    t.ok(0 < ttl <= 900, "the session's idle timeout is 15 minutes", ttl)
    t.eq(Client().get("/api/auth/me").status, 401, "a download-site session is no administrator session")
    h = {"Cookie": d.dl}
    t.eq(Client().get("/api/tenant", headers=h).status, 401, "its cookie opens nothing of the portal")
    r = DlClient().dl_login(X.sa, X.email["one"].upper(), X.pw[X.u1[0]])
    t.eq(r.status, 200, "the e-mail is compared without regard to case")
    r = DlClient().post("/api/dl/%s/login" % X.sa, {"login_id": X.email["one"], "password": X.pw[X.u1[0]]},
                        headers={"Origin": "https://evil.example"})
    t.eq(r.status, 403, "a login sent from another site's page is refused")
    mark = last_audit()
    for i in range(5):
        r = DlClient().dl_login(X.sa, X.email["two"], "wrong%d" % i)
    t.eq(r.status, 401, "wrong passwords answer 401")
    r = DlClient().dl_login(X.sa, X.email["two"], X.pw[X.u2[0]])
    t.eq(r.status, 429, "after 5 failures even the right password is refused with 429")
    t.ok((r.header("Retry-After") or "").isdigit(), "with Retry-After", r.header("Retry-After"))
    for i in range(5):
        DlClient().dl_login(X.sa, "nobody-%s@example.com" % TAG, "wrong%d" % i)
    t.eq(DlClient().dl_login(X.sa, "nobody-%s@example.com" % TAG, "x").status, 429, "unknown IDs are locked out too")
    t.eq(DlClient().dl_login(X.sb, X.email["one"], X.pw[X.b1[0]]).status, 200,
         "the lockout of one tenant's ID does not lock another tenant's user")
    h = history(X.a_tid, "login", mark)
    refused = history(X.a_tid, "download_refused", mark)
    lockouts = history(X.a_tid, "lockout", mark)
    t.ok(sum("ログイン失敗 " + X.email["two"] in x for x in h) == 5 and any("ロック中" in x for x in refused)
         and all(x.startswith("user|127.0.0.1|") for x in h + refused), "failures and the lockout are in the history",
         (h, refused))
    t.ok(len([x for x in lockouts if X.email["two"] in x]) == 1
         and any(x.startswith("user|127.0.0.1|ダウンロードサイト ログインIDをロック（5回失敗") for x in lockouts),
         "the failure that locked the ID out left one ロックアウト entry naming it", lockouts)
    clear_lockouts()
    mark = last_audit()
    DlClient().dl_login(X.sa, X.email["two"], X.pw[X.u2[0]])
    h = history(X.a_tid, "login", mark)
    t.ok(h == ["user|127.0.0.1|ダウンロードサイト ログイン成功 " + X.email["two"]], "a success is in the history", h)
    clear_lockouts()
    mixed = X.email["three"]
    for i, form in enumerate([mixed, mixed.upper(), mixed.capitalize(), mixed.upper(), mixed]):
        DlClient().dl_login(X.sa, form, "wrong%d" % i)
    r = DlClient().dl_login(X.sa, mixed.swapcase(), X.pw[X.u3[0]])
    t.eq(r.status, 429, "the ID in other cases counts on one counter: 5 failures lock it (429)")
    ra = r.header("Retry-After") or ""
    t.ok(ra.isdigit() and 0 < int(ra) <= 900, "with a Retry-After of the counter's TTL (%s)" % ra)
    tid_keys = redis("--scan", "--pattern", "shomei:fail:dl:%d:*" % X.a_tid).split()
    t.eq(len(tid_keys), 2, "the site's counters are the tenant's own (shomei:fail:dl:<tenant>:id|ip:…)",
         tid_keys)
    clear_lockouts()


def test_flood(t):
    """Requests anyone can send as often as they like leave one history entry a minute."""
    clear_lockouts()
    allow(X.a, "127.0.0.1")
    mark = last_audit()
    d = DlClient(source="127.0.0.3")
    st = [d.get("/api/dl/%s/certificates" % X.sa).status for _ in range(50)]
    t.eq(set(st), {403}, "50 requests from 127.0.0.3, outside the list: 403 each")
    h = [x for x in history(X.a_tid, "download_refused", mark) if x.startswith("user|127.0.0.3|")]
    t.ok(1 <= len(h) <= 2 and sum(counts(h)) == 50
         and all("IPアドレス制限により拒否 127.0.0.3 (" in x for x in h),
         "at most 2 entries for the address (a minute may turn), their counts adding up to 50", h)
    keys = redis("--scan", "--pattern", "shomei:auditsum:%d:ip:*:127.0.0.3" % X.a_tid).split()
    ttl = int(redis("TTL", keys[0]) or 0) if keys else 0
    t.ok(keys and 0 < ttl <= 120, "the count is a Redis key of the tenant, kind, minute and address, "
         "kept 2 minutes", (keys, ttl))
    t.eq(psql("SELECT count(*) FROM audit WHERE id > :p1 AND tenant_id = :p2 AND detail LIKE '%%/api/dl/%%'",
              mark, X.a_tid), "0", "no path a client chose is quoted")

    allow(X.a, "127.0.0.0/8", "::1")
    nobody = "flood-%s@example.com" % TAG
    st = [DlClient(source="127.0.0.4").dl_login(X.sa, nobody, "wrong%d" % i).status for i in range(5)]
    mark = last_audit()
    st = [DlClient(source="127.0.0.4").dl_login(X.sa, nobody, "wrong").status for _ in range(30)]
    t.eq(set(st), {429}, "after 5 failures, 30 more attempts are locked out (429)")
    h = [x for x in history(X.a_tid, "download_refused", mark) if x.startswith("user|127.0.0.4|")]
    t.ok(1 <= len(h) <= 2 and sum(counts(h)) == 30
         and all(("ログイン失敗 (ロック中) %s (" % nobody) in x for x in h),
         "at most 2 entries, counts adding up to 30, naming the ID", h)
    clear_lockouts()

    # a long ID is cut to 64 characters on a character boundary and marked with …
    long_id = "a" * 60 + "あいう" + "b" * 50
    mark = last_audit()
    r = DlClient(source="127.0.0.5").dl_login(X.sa, long_id, "wrong")
    t.eq(r.status, 401, "a 113-character ID with a wrong password: 401")
    h = history(X.a_tid, "login", mark)
    t.eq(h, ["user|127.0.0.5|ダウンロードサイト ログイン失敗 " + "a" * 60 + "あいうb…"],
         "the history quotes its first 64 characters and …", h)
    # control characters and 300 characters are refused before any entry is written
    mark = last_audit()
    bad = ("x\x01\x1b[31m\r\n\u0085" * 50)[:300]
    r = DlClient(source="127.0.0.5").dl_login(X.sa, bad, "wrong")
    t.eq(r.status, 422, "a 300-character ID with control characters: 422")
    t.eq(history(X.a_tid, "login", mark), [], "and no entry")
    t.eq(psql("SELECT count(*) FROM audit WHERE tenant_id = :p1 AND detail ~ '[[:cntrl:]]'", X.a_tid), "0",
         "no entry of the tenant's history holds a control character")

    # a download is written once, in its transaction, as before
    d = DlClient()
    d.dl_login(X.sa, X.email["two"], X.pw[X.u2[0]])
    mark = last_audit()
    r = d.get("/api/dl/%s/certificate?id=%d&format=p12" % (X.sa, X.u2[0]))
    t.eq(r.status, 200, "a download from inside the list")
    h = history(X.a_tid, "certificate_download", mark)
    t.ok(len(h) == 1 and "ダウンロードサイト" in h[0] and X.email["two"] in h[0] and "回)" not in h[0],
         "is written once, not summarised", h)
    clear_lockouts()


def test_grants(t):
    d = DlClient()
    r = d.dl_login(X.sa, X.email["one"], X.pw[X.u1[0]])
    items = (r.json() or {}).get("items", [])
    t.eq([i.get("id") for i in items], [X.u1[0]], "the login grants exactly the certificate whose password it is")
    t.eq(sorted(items[0].keys()) if items else None,
         sorted(["id", "cn", "email", "device", "status", "expires_at", "restricted", "downloadable", "default_format"]),
         "an item carries cn, device, status and more")
    r = d.get("/api/dl/%s/certificates" % X.sa)
    t.eq([i.get("id") for i in (r.json() or {}).get("items", [])], [X.u1[0]], "GET certificates lists the same")
    for other in (X.u1[1], X.u2[0], X.u3[0], X.b1[0], X.n1[0], 999999999):
        r = d.get("/api/dl/%s/certificate?id=%d" % (X.sa, other))
        t.ok(r.status in (403, 404) and not r.body.startswith(b"0\x82"), "another certificate (%d) is refused: %d" % (other, r.status))
    for q in ("", "?id=", "?id=abc", "?id=-1", "?id=%d&format=pem" % X.u1[0]):
        r = d.get("/api/dl/%s/certificate%s" % (X.sa, q))
        t.ok(r.status in (404, 422), "bad query %r is refused (%d)" % (q, r.status))
    mark = last_audit()
    r = d.get("/api/dl/%s/certificate?id=%d" % (X.sa, X.u1[0]))
    t.eq(r.status, 200, "the granted certificate downloads")
    t.ok((r.header("Content-Type") or "").startswith("application/x-pkcs12"), "a Windows PC gets the .p12 by default")
    key, cert, _ = pkcs12.load_key_and_certificates(r.body, X.pw[X.u1[0]].encode())
    t.ok(key is not None and cert is not None, "it opens with the login password (NRA: the same password)")
    t.eq(psql("SELECT status FROM certificates WHERE id = :p1", X.u1[0]), "downloaded", "it becomes downloaded")
    h = history(X.a_tid, "certificate_download", mark)
    t.ok(len(h) == 1 and h[0].startswith("user|127.0.0.1|ダウンロードサイト ") and ".p12" in h[0],
         "certificate_download history entry by the user with the address", h)
    r = X.a.get("/api/audit?action=certificate_download")
    t.ok(any(i.get("ip") == "127.0.0.1" and "ダウンロードサイト" in i.get("detail", "") for i in (r.json() or {}).get("items", [])),
         "the administrator sees it in 操作履歴")
    # the iPhone's certificate: a configuration profile by default
    p = DlClient()
    p.dl_login(X.sa, X.email["one"], X.pw[X.u1[1]])
    r = p.get("/api/dl/%s/certificate?id=%d" % (X.sa, X.u1[1]))
    t.ok(r.status == 200 and (r.header("Content-Type") or "").startswith("application/x-apple-aspen-config"),
         "an iPhone gets the .mobileconfig by default", r.body[:200])
    prof = plistlib.loads(r.body) if r.status == 200 else {}
    types = [x.get("PayloadType") for x in prof.get("PayloadContent", [])]
    t.ok("com.apple.security.pkcs12" in types and "com.apple.security.root" in types, "with the two payloads", types)
    r = p.get("/api/dl/%s/certificate?id=%d&format=p12" % (X.sa, X.u1[1]))
    t.ok(r.status == 200 and (r.header("Content-Type") or "").startswith("application/x-pkcs12"),
         "format=p12 gives the iPhone's .p12")
    r = d.get("/api/dl/%s/certificate?id=%d&format=mobileconfig" % (X.sa, X.u1[0]))
    t.eq(r.status, 409, "no profile for a Windows PC certificate")
    r = d.post("/api/dl/%s/logout" % X.sa, {})
    t.eq(r.status, 200, "logout")
    t.eq(DlClient().get("/api/dl/%s/certificates" % X.sa, headers={"Cookie": "__Host-shomei-dl=" + "A" * 43}).status, 401,
         "an unknown token is no session")
    r = d.get("/api/dl/%s/certificates" % X.sa)
    t.eq(r.status, 401, "after logout the session is gone")


def test_restricted_in_browser(t):
    mark = last_audit()
    d = DlClient()
    r = d.dl_login(X.sa, X.email["three"], X.pw[X.u3[0]])
    items = (r.json() or {}).get("items", [])
    t.ok(r.status == 200 and items and items[0].get("restricted") is True, "the list marks a restricted certificate")
    r = d.get("/api/dl/%s/certificate?id=%d" % (X.sa, X.u3[0]))
    t.eq((r.status, code_of(r)), (403, "install_restricted"), "a restricted certificate is not served to a browser")
    t.ok("shomei-enroll" in (r.json() or {}).get("error", {}).get("message", ""), "the message names shomei-enroll")
    t.eq(psql("SELECT status FROM certificates WHERE id = :p1", X.u3[0]), "issued", "it stays issued")
    t.ok(any("インストール制限" in x for x in history(X.a_tid, "certificate_download", mark)),
         "the refusal is in the history")


def enroll(email, cid, *args, stdin=None):
    out = os.path.join(TMP, "enroll-%d-%d.p12" % (cid, random.randrange(1 << 30)))
    pwf = os.path.join(TMP, "pw-%d" % cid)
    with open(pwf, "w") as f:
        f.write(X.pw[cid] + "\n")
    cmd = [ENROLL, "--url", "%s/dl/%s/" % (UP["url"], X.sa), "--id", email,
           "--password-file", "-" if stdin else pwf, "--cacert", os.path.join(ROOT, UP["server_ca"])
           if not os.path.isabs(UP["server_ca"]) else UP["server_ca"], "--out", out] + list(args)
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=60, input=stdin)
    return p, out


def test_enroll(t):
    clear_lockouts()
    if not os.path.exists(ENROLL):
        t.ok(False, "shomei-enroll is built at %s" % ENROLL)
        return
    mark = last_audit()
    p, out = enroll(X.email["three"], X.u3[0], "--mac", "00:11:22:aa:bb:cc", "--mac", "02:00:00:00:00:01",
                    "--computer", "TEST-HOST", "--login-user", "someone", "--bios-serial", "x")
    t.eq(p.returncode, 0, "AND, every item matches (MAC with colons, computer in other case): written", p.stderr)
    t.ok(os.path.exists(out) and stat.S_IMODE(os.stat(out).st_mode) == 0o600, "the .p12 is written with mode 0600")
    if os.path.exists(out):
        key, cert, _ = pkcs12.load_key_and_certificates(open(out, "rb").read(), X.pw[X.u3[0]].encode())
        t.ok(cert is not None and X.email["three"] in cert.subject.rfc4514_string(), "and it is the user's certificate")
    t.eq(psql("SELECT status FROM certificates WHERE id = :p1", X.u3[0]), "downloaded", "it becomes downloaded")
    h = history(X.a_tid, "certificate_download", mark)
    t.ok(any(x.startswith("user|127.0.0.1|shomei-enroll ") for x in h), "in the history as shomei-enroll", h)
    p, out = enroll(X.email["three"], X.u3[0], "--mac", "001122AABBCC", "--computer", "other-host",
                    "--login-user", "x", "--bios-serial", "x")
    t.eq(p.returncode, 3, "AND, only the MAC matches: refused with exit 3", p.stderr)
    t.ok("コンピュータ名" in p.stderr and "computer name" in p.stderr and "MAC" not in p.stderr.split("not matching")[-1]
         and not os.path.exists(out), "it names the failed condition in Japanese and English", p.stderr)
    p, out = enroll(X.email["three"], X.u3[0], "--mac", "FFFFFFFFFFFF", "--computer", "other",
                    "--login-user", "x", "--bios-serial", "x")
    t.ok(p.returncode == 3 and "MACアドレス" in p.stderr and "コンピュータ名" in p.stderr, "AND, nothing matches: both named", p.stderr)
    p, out = enroll(X.email["four"], X.u4[0], "--mac", "001122334455", "--computer", "pc",
                    "--login-user", "Yamada", "--bios-serial", "nope", stdin=X.pw[X.u4[0]] + "\n")
    t.eq(p.returncode, 0, "OR, only the login user matches (password from standard input): written", p.stderr)
    p, out = enroll(X.email["four"], X.u4[0], "--mac", "001122334455", "--computer", "pc",
                    "--login-user", "tanaka", "--bios-serial", "sn-0001")
    t.eq(p.returncode, 3, "OR, nothing matches (the serial is compared as written): refused", p.stderr)
    t.ok(all(w in p.stderr for w in ("MACアドレス", "ログインユーザ名", "BIOS")), "OR names every given item", p.stderr)
    pwf = os.path.join(TMP, "wrong")
    open(pwf, "w").write("wrongpassword\n")
    p = subprocess.run([ENROLL, "--url", "%s/dl/%s/" % (UP["url"], X.sa), "--id", X.email["four"],
                        "--password-file", pwf, "--cacert", UP["server_ca"] if os.path.isabs(UP["server_ca"])
                        else os.path.join(ROOT, UP["server_ca"]), "--out", os.path.join(TMP, "w.p12")],
                       capture_output=True, text=True, timeout=60)
    t.eq(p.returncode, 2, "a wrong password: exit 2", p.stderr)
    p = subprocess.run([ENROLL, "--url", "%s/dl/%s/" % (UP["url"], X.sa), "--id", "x", "--password", "y",
                        "--out", "z"], capture_output=True, text=True)
    t.eq(p.returncode, 1, "there is no way to give the password on the command line")
    # the API directly: which conditions failed, and the CSRF token
    d = DlClient()
    d.dl_login(X.sa, X.email["three"], X.pw[X.u3[0]])
    body = {"id": X.u3[0], "macs": ["00-11-22-AA-BB-CD"], "computer": "nope", "login_user": "", "bios_serial": ""}
    r = d.post("/api/dl/%s/enroll" % X.sa, body)
    t.eq(r.status, 403, "enroll without the CSRF token is refused")
    r = d.post("/api/dl/%s/enroll" % X.sa, body, headers={"X-CSRF-Token": d.dl_csrf})
    t.eq((r.status, code_of(r), (r.json() or {}).get("error", {}).get("failed")), (403, "restriction_failed", ["mac", "computer"]),
         "the answer names the failed conditions")
    r = d.post("/api/dl/%s/enroll" % X.sa, {"id": X.u3[0], "macs": ["zz"], "computer": 5},
               headers={"X-CSRF-Token": d.dl_csrf})
    t.eq((r.status, fields_of(r)), (422, ["macs[0]", "computer"]), "bad facts are named")
    r = d.post("/api/dl/%s/enroll" % X.sa, {"id": X.u4[0], "macs": ["AABBCCDDEEFF"]}, headers={"X-CSRF-Token": d.dl_csrf})
    t.eq(r.status, 404, "enroll serves only a certificate the session grants")


def test_isolation(t):
    clear_lockouts()
    d = DlClient()
    d.dl_login(X.sa, X.email["two"], X.pw[X.u2[0]])
    t.eq(d.get("/api/dl/%s/certificates" % X.sb).status, 401, "tenant A's session is nothing on tenant B's site")
    t.eq(d.get("/api/dl/%s/certificate?id=%d" % (X.sb, X.u2[0])).status, 401, "nor does it fetch A's id there")
    t.eq(d.post("/api/dl/%s/enroll" % X.sb, {"id": X.u2[0]}, headers={"X-CSRF-Token": d.dl_csrf}).status, 401,
         "nor enroll there")
    t.eq(DlClient().dl_login(X.sb, X.email["two"], X.pw[X.u2[0]]).status, 401,
         "A's credentials do not log in on B's site")
    for url in ("login", "certificates", "certificate?id=1", "enroll", "logout"):
        for slug in (X.sn, "no-such-" + TAG):
            if url == "logout":
                continue
            m = "POST" if url in ("login", "enroll") else "GET"
            r = DlClient().request(m, "/api/dl/%s/%s" % (slug, url), body={} if m == "POST" else None)
            t.eq(r.status, 404, "%s /api/dl/%s/%s: 404 without the download_site feature or tenant" % (m, slug, url))
    r = X.a.get("/api/downloads/site")
    doc = r.json() or {}
    t.eq((r.status, doc.get("url"), doc.get("enabled")), (200, "%s/dl/%s/" % (UP["url"], X.sa), True),
         "GET /api/downloads/site: the tenant's URL")
    t.ok((doc.get("qr_svg") or "").startswith("<svg") and "</svg>" in doc.get("qr_svg", ""), "with a QR code as SVG")
    t.eq((X.b.get("/api/downloads/site").json() or {}).get("url"), "%s/dl/%s/" % (UP["url"], X.sb), "B sees B's URL")
    t.eq((X.n.get("/api/downloads/site").json() or {}).get("enabled"), False, "a tenant without the site: enabled false")
    t.eq(Client().get("/api/downloads/site").status, 401, "the site info needs a session")
    before = psql("SELECT download_allowlist FROM tenants WHERE id = :p1", X.b_tid)
    allow(X.a, "127.0.0.0/8", "::1", "192.0.2.0/24")
    t.eq(psql("SELECT download_allowlist FROM tenants WHERE id = :p1", X.b_tid), before,
         "A's settings do not change B's")
    r = X.b.get("/api/users/export.csv")
    rows = list(csv.reader(io.StringIO(r.body.decode("utf-8-sig"))))
    t.eq((r.status, len(rows) - 1), (200, 1), "B's user list has B's one certificate only")
    t.ok(X.pw[X.u1[0]] not in r.body.decode("utf-8-sig"), "and none of A's passwords")
    page = Client().get("/dl/%s/" % X.sa)
    t.ok(page.status == 200 and b"/dl/dl.js" in page.body, "GET /dl/{tenant}/ serves the page")
    t.eq(Client().get("/dl/%s/x" % X.sa).status, 404, "nothing else under /dl/{tenant}/")


def test_users_csv(t):
    mark = last_audit()
    r = X.a.get("/api/users/export.csv")
    t.eq(r.status, 200, "GET /api/users/export.csv answers 200")
    t.ok((r.header("Content-Type") or "").startswith("text/csv"), "as text/csv")
    t.ok(r.body.startswith(b"\xef\xbb\xbf"), "UTF-8 with a BOM")
    rows = list(csv.reader(io.StringIO(r.body.decode("utf-8-sig"))))
    head = rows[0] if rows else []
    for col in ("証明書メールアドレス", "証明書ダウンロード用パスワード", "氏名(姓)", "氏名(名)", "利用デバイス",
                "証明書ステータス", "発行日", "有効期限"):
        t.ok(col in head, "the header has %s" % col, head)
    n = int(psql("SELECT count(*) FROM certificates WHERE tenant_id = :p1", X.a_tid))
    t.eq(len(rows) - 1, n, "a row per certificate")
    ix = {c: i for i, c in enumerate(head)}
    opened = restricted = 0
    for row in rows[1:]:
        email, pw, cn = row[ix["証明書メールアドレス"]], row[ix["証明書ダウンロード用パスワード"]], row[ix["CN"]]
        if not pw:
            continue
        cid = int(psql("SELECT c.id FROM certificates c JOIN devices d ON d.id = c.device_id WHERE c.tenant_id = :p1"
                       " AND c.email = :'p2' AND c.cn = :'p3' AND c.status <> 'revoked'"
                       " ORDER BY (d.device_code = :'p4') DESC, c.id LIMIT 1", X.a_tid, email, cn,
                       {"WindowsPC": "01", "iOS(iPhone)": "11", "Android": "20"}.get(row[ix["利用デバイス"]], "")))
        p12 = X.a.get("/api/certificates/%d/p12" % cid)
        data = p12.body
        if p12.status == 403 and code_of(p12) == "install_restricted":
            # not served to the administrator (U3, U4): the stored PKCS#12 itself
            restricted += 1
            data = base64.b64decode(psql("SELECT encode(p12, 'base64') FROM certificates WHERE id = :p1", cid))
        try:
            pkcs12.load_key_and_certificates(data, pw.encode())
            opened += 1
        except ValueError:
            pass
    t.eq(opened, len(X.pw) - 2, "every password in the list opens its .p12 (%d)" % opened)
    t.eq(restricted, 2, "the two restricted certificates' .p12 are not served to the administrator")
    t.ok(all(X.email[k] in r.body.decode("utf-8-sig") for k in X.email), "every user's download ID is there")
    h = history(X.a_tid, "password_csv", mark)
    t.ok(len(h) == 1 and h[0].startswith("admin|127.0.0.1|利用者リスト"), "password_csv history entry", h)
    t.eq(Client().get("/api/users/export.csv").status, 401, "the CSV needs a session")


def main():
    t = TAP()
    try:
        setup()
    except Exception as e:  # one failure; the rest cannot run without the fixtures
        t.ok(False, "set-up: tenants, users and issued certificates", e)
        t.done()
    for fn in (test_settings, test_default_refusal, test_addresses, test_login_and_lockout, test_grants,
               test_restricted_in_browser, test_enroll, test_isolation, test_users_csv, test_flood):
        t.run(fn)
    clear_lockouts()
    t.done()


if __name__ == "__main__":
    main()
