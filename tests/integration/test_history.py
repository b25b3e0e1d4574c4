#!/usr/bin/env python3
"""The operation history: entries written by login, filters, paging, labels, tenant isolation."""
import datetime
import urllib.parse

from shomei_test import TAP, UP, Client, clear_lockouts, ctl, psql

JST = datetime.timezone(datetime.timedelta(hours=9))


def items(r):
    return (r.json() or {}).get("items", [])


def test_entries(t):
    Client().login(password="wrongpass1")
    c = Client()
    c.login()
    r = c.get("/api/audit")
    t.eq(r.status, 200, "GET /api/audit answers 200")
    doc = r.json() or {}
    t.eq((doc.get("page"), doc.get("per_page")), (1, 100), "page 1, 100 per page")
    first = (doc.get("items") or [{}])[0]
    t.eq((first.get("action"), first.get("action_label"), first.get("detail")),
         ("login", "ログイン", "ログイン成功"), "newest entry is this login: ログイン / ログイン成功")
    t.ok(first.get("ip") in ("127.0.0.1", "::1"), "with the source address from nginx", first)
    today = datetime.datetime.now(JST).strftime("%Y/%m/%d")
    t.ok((first.get("at") or "").startswith(today), "time in JST as yyyy/mm/dd hh:mm:ss", first)
    t.ok(any(i["detail"] == "ログイン失敗" for i in doc["items"]), "the failed login is there too")
    en = Client(lang="en")
    en.login()
    e = items(en.get("/api/audit"))[0]
    t.eq((e.get("action_label"), e.get("detail")), ("Login", "Login succeeded"), "English labels on request")


def test_filters(t):
    c = Client()
    c.login()
    today = datetime.datetime.now(JST)
    d = today.strftime("%Y/%m/%d")
    tomorrow = (today + datetime.timedelta(days=1)).strftime("%Y/%m/%d")
    yesterday = (today - datetime.timedelta(days=1)).strftime("%Y/%m/%d")
    r = c.get("/api/audit?action=login")
    t.ok(items(r) and all(i["action"] == "login" for i in items(r)), "action=login gives only logins")
    r = c.get("/api/audit?action=password_change")
    t.ok(all(i["action"] == "password_change" for i in items(r)), "action=password_change filters")
    r = c.get("/api/audit?q=" + urllib.parse.quote("ログイン失敗"))
    t.ok(items(r) and all("ログイン失敗" in i["detail"] for i in items(r)), "q=ログイン失敗 searches the detail")
    r = c.get("/api/audit?from=%s&to=%s" % (d, d))
    t.ok(len(items(r)) > 0, "from=to=today includes today's entries")
    r = c.get("/api/audit?from=%s" % tomorrow)
    t.eq((r.status, len(items(r))), (200, 0), "from=tomorrow gives nothing")
    r = c.get("/api/audit?to=%s" % yesterday)
    t.eq(len([i for i in items(r) if i["at"].startswith(d)]), 0, "to=yesterday excludes today")
    for q, field in (("from=2026-01-01", "from"), ("to=2026/02/30", "to"), ("action=nope", "action"),
                     ("page=0", "page"), ("page=abc", "page"), ("from=%s&to=%s" % (tomorrow, yesterday), "from")):
        r = c.get("/api/audit?" + q)
        fields = [f["field"] for f in (r.json() or {}).get("error", {}).get("fields", [])]
        t.ok(r.status == 422 and field in fields, "bad filter %s answers 422 naming %s" % (q, field), r.body[:200])


def test_paging(t):
    # a tenant of its own: the demo tenant's real issuance (other tests) writes newer entries
    ctl("tenant", "create", "--slug", "history-p", "--name", "履歴", "--name-en", "History", "--quota", "0")
    ctl("admin", "create", "--tenant", "history-p", "--login-id", "history-p-admin", "--password", "History2paging")
    tenant_id = psql("SELECT id FROM tenants WHERE slug = :'p1'", "history-p")
    psql("INSERT INTO audit (tenant_id, at, ip, actor_kind, action, detail) "
         "SELECT :'p1', now() - (g || ' seconds')::interval - interval '1 hour', '192.0.2.1', 'system', "
         "'certificate_issue', 'client_' || lpad(g::text, 6, '0') || ': 発行中 -> 発行完了' "
         "FROM generate_series(1, 250) g", tenant_id)
    c = Client()
    c.login("history-p-admin", "History2paging")
    r = c.get("/api/audit?action=certificate_issue")
    doc = r.json() or {}
    t.ok(doc.get("total", 0) >= 250, "total counts every matching entry")
    t.eq(len(doc.get("items", [])), 100, "a page holds 100 entries")
    t.eq(doc["items"][0]["detail"], "client_000001: 発行中 -> 発行完了", "newest first")
    ats = [i["at"] for i in doc["items"]]
    t.ok(ats == sorted(ats, reverse=True), "page 1 is in descending time order")
    p3 = items(c.get("/api/audit?action=certificate_issue&page=3"))
    t.eq(len(p3), 50, "page 3 holds the last 50")
    t.eq(p3[-1]["detail"], "client_000250: 発行中 -> 発行完了", "the oldest is last on the last page")
    t.eq(p3[0]["action_label"], "証明書追加発行", "label 証明書追加発行")
    p9 = c.get("/api/audit?page=9")
    t.eq((p9.status, len(items(p9))), (200, 0), "a page past the end is empty, not an error")
    # the total is cached per filter (common/audit.c): a new entry must show in it at once
    before = (c.get("/api/audit").json() or {}).get("total")
    again = (c.get("/api/audit").json() or {}).get("total")
    t.eq(again, before, "the same filter twice gives the same total")
    c2 = Client()
    c2.login("history-p-admin", "History2paging")
    after = c.get("/api/audit").json() or {}
    t.eq(after.get("total"), before + 1, "a new login entry counts at once (%s -> %s)" % (before, after.get("total")))
    t.eq(after["items"][0]["action"], "login", "and is first on page 1")
    psql("INSERT INTO audit (tenant_id, at, actor_kind, action, detail) "
         "SELECT :'p1', now(), 'system', 'settings', 'cache check'", tenant_id)
    filt = c.get("/api/audit?action=settings").json() or {}
    t.eq(filt.get("total"), 1, "a filtered total counts the entry written a moment ago")


def test_isolation(t):
    ctl("tenant", "create", "--slug", "other", "--name", "別法人", "--name-en", "Other Corp", "--quota", "5")
    ctl("admin", "create", "--tenant", "other", "--login-id", "otheradm", "--password", "Other1234")
    o = Client()
    t.eq(o.login("otheradm", "Other1234").status, 200, "the other tenant's administrator logs in")
    me = o.get("/api/auth/me").json() or {}
    t.eq(me.get("tenant", {}).get("slug"), "other", "me names the other tenant")
    r = o.get("/api/audit")
    its = items(r)
    t.ok(len(its) >= 1 and all(i["ip"] != "192.0.2.1" for i in its), "the other tenant sees none of demo's history")
    t.eq((r.json() or {}).get("total"), 1, "only its own single login")


def main():
    clear_lockouts()
    t = TAP()
    for fn in (test_entries, test_filters, test_paging, test_isolation):
        t.run(fn)
    t.done()


if __name__ == "__main__":
    main()
