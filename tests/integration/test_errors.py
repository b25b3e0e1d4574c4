#!/usr/bin/env python3
"""Errors instead of silence: query values that cannot be used are refused (422 naming the
field), never dropped as if absent, and never reach PostgreSQL as invalid UTF-8 (503)."""
import random
import urllib.parse

from shomei_test import TAP, Client, ctl, psql

TAG = "".join(random.choice("abcdefghijkmnpqrstuvwxyz") for _ in range(8))
PW = "Errors2test1"
KATA29 = "アイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘ"


def fields_of(r):
    return [f.get("field") for f in ((r.json() or {}).get("error") or {}).get("fields") or []]


def items(r):
    return (r.json() or {}).get("items", [])


def login_tenant(slug):
    """A tenant of its own with one administrator, logged in (a reused stack keeps both)."""
    ctl("tenant", "create", "--slug", slug, "--name", "エラー" + slug, "--name-en", "Errors " + slug,
        "--quota", "10", "--features", "admin_may_issue")
    ctl("admin", "create", "--tenant", slug, "--login-id", slug + "-admin", "--password", PW)
    c = Client()
    r = c.login(slug + "-admin", PW)
    if r.status != 200:
        raise RuntimeError("login %s: %d %s" % (slug, r.status, r.body[:200]))
    return c, int(psql("SELECT id FROM tenants WHERE slug = :'p1'", slug))


def refused(t, c, url, field, what):
    r = c.get(url)
    t.ok(r.status == 422 and field in fields_of(r), "%s answers 422 naming %s" % (what, field),
         (r.status, r.body[:200]))
    return r


def user_body(**over):
    b = {"family_name": "山田", "given_name": "太郎", "family_name_kana": "ヤマダ",
         "given_name_kana": "タロウ", "family_name_en": "Yamada", "given_name_en": "Taro",
         "email": "%s-zw@example.com" % TAG, "devices": [{"device": "01"}]}
    b.update(over)
    return b


def test_audit_query(t):
    c, tid = login_tenant("errors-a")
    psql("INSERT INTO audit (tenant_id, at, actor_kind, action, detail) "
         "SELECT :'p1', now(), 'system', 'settings', 'other entry'", tid)
    q = urllib.parse.quote(KATA29)
    r = c.get("/api/audit?q=" + q)
    # 29 katakana are 261 bytes percent-encoded, 87 decoded: once dropped as too long for the
    # buffer, giving every entry
    t.ok(r.status in (200, 422), "q of 29 katakana answers 200 or 422", (r.status, r.body[:200]))
    t.ok(all(KATA29 in i["detail"] for i in items(r)), "q of 29 katakana gives only matching rows")
    psql("INSERT INTO audit (tenant_id, at, actor_kind, action, detail) "
         "SELECT :'p1', now(), 'system', 'settings', :'p2'", tid, "設定 " + KATA29)
    r = c.get("/api/audit?q=" + q)
    t.ok(r.status == 200 and len(items(r)) >= 1 and all(KATA29 in i["detail"] for i in items(r)),
         "q of 29 katakana finds the matching entry and only it", (r.status, r.body[:300]))
    refused(t, c, "/api/audit?q=%ff", "q", "q=%ff (not UTF-8)")
    refused(t, c, "/api/audit?q=%zz", "q", "q=%zz (bad escape)")
    refused(t, c, "/api/audit?q=a%00b", "q", "q=a%00b (NUL)")
    refused(t, c, "/api/audit?action=%ff", "action", "action=%ff")
    r = refused(t, c, "/api/audit?q=" + "x" * 1100, "q", "q of 1100 bytes")
    msg = [f.get("message") for f in (r.json() or {}).get("error", {}).get("fields", [])]
    t.eq(msg, ["入力が長すぎます。"], "with the text-too-long message")
    r = refused(t, c, "/api/audit?q=" + q * 3, "q", "q of 87 katakana (261 bytes)")


def test_users_query(t):
    c, tid = login_tenant("errors-u")
    if int(psql("SELECT count(*) FROM users WHERE tenant_id = :p1", tid)) == 0:
        r = c.post("/api/users", user_body(email="%s-u@example.com" % TAG))
        t.eq(r.status, 202, "a user to search for", r.body[:200])
    t.ok(len(items(c.get("/api/users"))) >= 1, "the tenant has users")
    # 29 katakana are 261 bytes encoded, more than the reader's 256: once dropped, giving all
    r = c.get("/api/users?family_name=" + urllib.parse.quote(KATA29))
    t.eq((r.status, items(r)), (200, []), "family_name of 29 katakana matches nothing (not every user)")
    for f in ("family_name", "given_name", "email", "applied_from", "status", "device", "sort", "page"):
        refused(t, c, "/api/users?%s=%%ff" % f, f, "/api/users?%s=%%ff" % f)
        refused(t, c, "/api/users?%s=%%zz" % f, f, "/api/users?%s=%%zz" % f)
    refused(t, c, "/api/users?family_name=" + "x" * 1100, "family_name", "family_name of 1100 bytes")


def test_certificates_query(t):
    c, _ = login_tenant("errors-c")
    r = c.get("/api/certificates?cn=" + urllib.parse.quote(KATA29))
    t.eq((r.status, items(r)), (200, []), "cn of 29 katakana matches nothing")
    for f in ("status", "cn", "issued_from", "sort", "page"):
        refused(t, c, "/api/certificates?%s=%%ff" % f, f, "/api/certificates?%s=%%ff" % f)
        refused(t, c, "/api/certificates?%s=%%zz" % f, f, "/api/certificates?%s=%%zz" % f)
    refused(t, c, "/api/certificates?cn=" + "x" * 1100, "cn", "cn of 1100 bytes")
    refused(t, c, "/api/certificates?status=" + "x" * 1100, "status", "status of 1100 bytes")


def test_names(t):
    c, tid = login_tenant("errors-n")
    users = lambda: int(psql("SELECT count(*) FROM users WHERE tenant_id = :p1", tid))
    before = users()
    for field, value, cp in (("family_name", "山\u200b田", 0x200b), ("given_name", "\u202e太郎", 0x202e),
                             ("family_name_kana", "ヤマ\ufeffダ", 0xfeff), ("given_name_en", "Ta\u2066ro", 0x2066)):
        r = c.post("/api/users", user_body(**{field: value}))
        t.ok(r.status == 422 and field in fields_of(r), "%s with U+%04X answers 422 naming it" % (field, cp),
             (r.status, r.body[:200]))
    raw = ('{"family_name": "山田\\u0000X", "given_name": "太郎", "family_name_kana": "ヤマダ",'
           ' "given_name_kana": "タロウ", "family_name_en": "Yamada", "given_name_en": "Taro",'
           ' "email": "%s-nul@example.com", "devices": [{"device": "01"}]}' % TAG).encode()
    r = c.post("/api/users", raw=raw, headers={"Content-Type": "application/json"})
    t.ok(r.status in (400, 422), "a name with \\u0000 is refused (not cut to 山田)", (r.status, r.body[:200]))
    t.eq(users(), before, "none of them registered a user")
    r = c.post("/api/users", user_body())
    t.eq(r.status, 202, "the same body without them registers", r.body[:200])


def test_methods(t):
    c, _ = login_tenant("errors-m")
    for path, allow in (("/api/tenant", "GET"), ("/api/users/1", "GET, PATCH, DELETE"),
                        ("/api/tenant/settings", "PUT"), ("/api/certificates", "GET")):
        for method in ("OPTIONS", "PROPFIND"):
            r = c.request(method, path)
            t.ok(r.status == 405 and r.header("Allow") == allow,
                 "%s %s through nginx: 405 with Allow: %s" % (method, path, allow),
                 (r.status, r.header("Allow"), r.body[:200]))
    r = c.request("DELETE", "/api/tenant")
    t.eq((r.status, r.header("Allow")), (405, "GET"), "DELETE /api/tenant (a method the path lacks): 405 Allow GET")
    # behind auth_request the session comes first, as for GET: nothing about a protected path
    # is told before it, and nothing reaches a service without it
    anon = Client()
    for method in ("OPTIONS", "PROPFIND"):
        r = anon.request(method, "/api/tenant")
        t.eq(r.status, 401, "%s /api/tenant without a session: 401 (not 500)" % method, r.body[:200])
        r = anon.request(method, "/api/auth/login")
        t.eq((r.status, r.header("Allow")), (405, "POST"), "%s on the public /api/auth/login: 405 Allow POST" % method)


TESTS = [test_audit_query, test_users_query, test_certificates_query, test_names, test_methods]


def main():
    t = TAP()
    for fn in TESTS:
        t.run(fn)
    t.done()


if __name__ == "__main__":
    main()
