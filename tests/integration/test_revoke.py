#!/usr/bin/env python3
"""shomei-revoke: revoking tenant certificates now or on a date, cancelling, the scheduled path
(`shomeictl revocations apply-due`, two runs at once), the quota and the history; the per-tenant
CRL (published within seconds, verified by openssl, certtool and python3-cryptography, CRL
numbers increasing, AKI = the CA's SKI, reasons), the public /crl/ and /ca/ documents with
conditional GET, and `openssl verify -crl_check` refusing a revoked certificate."""
import datetime
import os
import subprocess
import time

from cryptography import x509
from cryptography.x509.oid import CRLEntryExtensionOID, ExtensionOID

from shomei_test import TAP, UP, VAR, Client, cdp_crl, ctl, get_url, path, psql, wait_until
from test_issue import TMP, REVOCATION_URL, admin, chain_pem, fields, run, stored, tenant, wait_issued

JST = datetime.timezone(datetime.timedelta(hours=9))
# tenants of this run's own (a second run against the same stack starts afresh)
RUN = "%x" % (int(time.time() * 1000) % 0xffffff)
A, B = "rev-a-" + RUN, "rev-b-" + RUN
STATE = {}


def today():
    return datetime.datetime.now(JST).date()


def day(n):
    return (today() + datetime.timedelta(days=n)).isoformat()


def status_of(cid):
    return psql("SELECT status FROM certificates WHERE id = :'p1'", cid)


def snapshot(tid):
    """Everything a refused request must leave as it was."""
    return (psql("SELECT string_agg(id || ':' || status || ':' || coalesce(revoke_on::text, '') || ':'"
                 " || coalesce(revoked_at::text, '') || ':' || coalesce(revocation_reason::text, ''),"
                 " ',' ORDER BY id) FROM certificates WHERE tenant_id = :'p1'", tid),
            psql("SELECT count(*) FROM audit WHERE tenant_id = :'p1' AND action NOT IN ('login', 'logout')", tid))


def err(r):
    return (r.json() or {}).get("error") or {}


def messages(r):
    return [f.get("message", "") for f in err(r).get("fields", [])]


def summary(c):
    return c.get("/api/tenant").json() or {}


def history(tid, cn):
    return psql("SELECT string_agg(actor_kind || '|' || detail, ',' ORDER BY id) FROM audit"
                " WHERE tenant_id = :'p1' AND action = 'certificate_revoke' AND detail LIKE :'p2' || ':%'",
                tid, cn).split(",")


def cn_of(cid):
    return psql("SELECT cn FROM certificates WHERE id = :'p1'", cid)


def serial_of(cid):
    return int(psql("SELECT serial FROM certificates WHERE id = :'p1'", cid), 16)


def issue(c, n):
    ids = (c.post("/api/certificates/batch", {"count": n}).json() or {}).get("ids") or []
    assert len(ids) == n and wait_issued(ids, 120), "issuing %d certificates" % n
    return ids


def setup():
    STATE["a"] = tenant(A, 40)
    STATE["b"] = tenant(B, 5)
    STATE["ca"] = admin(A)
    STATE["cb"] = admin(B)
    STATE["ids"] = issue(STATE["ca"], 24)
    STATE["b_ids"] = issue(STATE["cb"], 2)
    STATE["c_slug"] = "rev-c-" + RUN
    STATE["c"] = tenant(STATE["c_slug"], 1)
    STATE["free"] = list(STATE["ids"])


def take(n):
    out, STATE["free"] = STATE["free"][:n], STATE["free"][n:]
    return out


def apply_due(as_of=None):
    args = ["revocations", "apply-due"] + (["--as-of", as_of] if as_of else [])
    return ctl(*args, check=False)


# ---------------------------------------------------------------------------------------------
def test_validation(t):
    c, tid = STATE["ca"], STATE["a"]
    good = STATE["ids"][-1]
    before = snapshot(tid)
    cases = [
        ({}, "ids", "no ids"),
        ({"ids": []}, "ids", "empty ids"),
        ({"ids": [str(good)]}, "ids", "an id as a string"),
        ({"ids": [good, good]}, "ids", "an id twice"),
        ({"ids": [0]}, "ids", "id 0"),
        ({"ids": [1.5]}, "ids", "id 1.5"),
        ({"ids": list(range(1, 1002))}, "ids", "1001 ids"),
        ({"ids": [good], "revoke_on": day(0)}, "revoke_on", "today (0 days)"),
        ({"ids": [good], "revoke_on": day(31)}, "revoke_on", "31 days ahead"),
        ({"ids": [good], "revoke_on": day(-1)}, "revoke_on", "yesterday"),
        ({"ids": [good], "revoke_on": day(-400)}, "revoke_on", "a year ago"),
        ({"ids": [good], "revoke_on": day(1).replace("-", "/")}, "revoke_on", "yyyy/mm/dd"),
        ({"ids": [good], "revoke_on": "2027-02-30"}, "revoke_on", "30 February"),
        ({"ids": [good], "revoke_on": "2027-13-01"}, "revoke_on", "month 13"),
        ({"ids": [good], "revoke_on": "tomorrow"}, "revoke_on", "a word"),
        ({"ids": [good], "revoke_on": day(1) + "T00:00"}, "revoke_on", "a date and time"),
        ({"ids": [good], "revoke_on": 20270101}, "revoke_on", "a number"),
        ({"ids": [good], "reason": "bogus"}, "reason", "an unknown reason"),
        ({"ids": [good], "reason": "cACompromise"}, "reason", "cACompromise (not a client CA's)"),
        ({"ids": [good], "reason": 1}, "reason", "a reason as a number"),
    ]
    for body, field, what in cases:
        r = c.post("/api/certificates/revoke", body)
        t.ok(r.status == 422 and field in fields(r), "%s: 422 naming %s" % (what, field), r.body[:300])
    r = c.post("/api/certificates/revoke", {"ids": [good], "revoke_on": day(31)})
    t.eq(messages(r), ["失効日は明日から30日以内の日付を指定してください。"], "the range message in Japanese")
    en = Client(lang="en")
    en.login(A + "-admin", "Issue2test9x")
    r = en.post("/api/certificates/revoke", {"ids": [good], "revoke_on": "2027/01/01"})
    t.eq(messages(r), ["Give the revocation date as yyyy-mm-dd."], "the format message in English")
    r = c.post("/api/certificates/revoke", raw=b"{ids:", headers={"Content-Type": "application/json"})
    t.eq(r.status, 400, "a body that is not JSON: 400")
    nocsrf = Client()
    nocsrf.login(A + "-admin", "Issue2test9x")
    nocsrf.csrf = None
    t.eq(nocsrf.post("/api/certificates/revoke", {"ids": [good]}).status, 403, "without the CSRF token: 403")
    t.eq(Client().post("/api/certificates/revoke", {"ids": [good]}).status, 401, "without a session: 401")
    t.eq(Client().post("/api/certificates/revoke/cancel", {"ids": [good]}).status, 401,
         "cancel without a session: 401")
    t.eq(snapshot(tid), before, "none of these changed a certificate or wrote history")


def test_not_found(t):
    c, tid = STATE["ca"], STATE["a"]
    mine, theirs = STATE["ids"][-1], STATE["b_ids"][0]
    before, before_b = snapshot(tid), snapshot(STATE["b"])
    r = c.post("/api/certificates/revoke", {"ids": [theirs]})
    t.ok(r.status == 404 and err(r).get("code") == "not_found", "another tenant's certificate: 404", r.body[:300])
    r = c.post("/api/certificates/revoke", {"ids": [mine, theirs]})
    t.ok(r.status == 404 and any(str(theirs) in m for m in messages(r)),
         "my certificate with another tenant's: 404 naming the other", r.body[:300])
    r = c.post("/api/certificates/revoke", {"ids": [mine, 9007199254740991]})
    t.eq(r.status, 404, "an id that does not exist: 404")
    r = c.post("/api/certificates/revoke", {"ids": [theirs], "revoke_on": day(3)})
    t.eq(r.status, 404, "scheduling another tenant's certificate: 404")
    r = c.post("/api/certificates/revoke/cancel", {"ids": [theirs]})
    t.eq(r.status, 404, "cancelling for another tenant: 404")
    t.eq(snapshot(tid), before, "nothing changed in my tenant")
    t.eq(snapshot(STATE["b"]), before_b, "nothing changed in the other tenant")


def test_revoke_now(t):
    c, tid = STATE["ca"], STATE["a"]
    one, two = take(2)
    STATE["revoked_kc"], STATE["revoked_plain"] = one, two
    s0 = summary(c)
    r = c.post("/api/certificates/revoke", {"ids": [one], "reason": "keyCompromise"})
    d = r.json() or {}
    t.ok(r.status == 200 and d.get("count") == 1, "revoke one now (keyCompromise): 200", r.body[:300])
    item = (d.get("items") or [{}])[0]
    t.ok(item.get("status") == "revoked" and item.get("status_label") == "証明書失効済" and item.get("revoked_at")
         and item.get("reason") == "keyCompromise", "the answer names it revoked, with its time and reason", item)
    r = c.post("/api/certificates/revoke", {"ids": [two]})
    t.eq(r.status, 200, "revoke another now without a reason: 200")
    got = psql("SELECT string_agg(status || '|' || (revoked_at IS NOT NULL) || '|' || revocation_reason, ','"
               " ORDER BY id) FROM certificates WHERE id IN (:'p1', :'p2')", one, two)
    t.eq(got, "revoked|true|1,revoked|true|0", "stored revoked with revoked_at; reasons keyCompromise and unspecified")
    s1 = summary(c)
    t.ok(s1.get("issued") == s0.get("issued") - 2 and s1.get("available") == s0.get("available") + 2,
         "発行数 down by two, 追加発行可能数 up by two", (s0, s1))
    t.eq(history(tid, cn_of(one)), ["admin|%s: 失効中 -> 失効完了" % cn_of(one)],
         "history: 証明書失効 <cn>: 失効中 -> 失効完了")
    r = c.get("/api/audit?action=certificate_revoke")
    labels = [(i.get("action_label"), i.get("detail")) for i in (r.json() or {}).get("items", [])]
    t.ok(("証明書失効", "%s: 失効中 -> 失効完了" % cn_of(two)) in labels, "the 操作履歴 API shows it", labels[:4])
    lst = c.get("/api/certificates?status=all").json() or {}
    row = [i for i in lst.get("items", []) if i.get("id") == one]
    t.ok(row and row[0].get("status") == "revoked" and row[0].get("revoked_at"),
         "the list shows it revoked with 失効日", row)
    # each way to break it changes nothing
    before = snapshot(tid)
    fresh = STATE["free"][0]
    r = c.post("/api/certificates/revoke", {"ids": [one]})
    t.ok(r.status == 409 and err(r).get("code") == "invalid_status" and
         messages(r) == ["%s は証明書失効済です。" % cn_of(one)], "revoked twice: 409 naming it", r.body[:300])
    r = c.post("/api/certificates/revoke", {"ids": [fresh, one]})
    t.eq(r.status, 409, "a valid certificate with a revoked one: 409")
    r = c.post("/api/certificates/revoke", {"ids": [one], "revoke_on": day(2)})
    t.eq(r.status, 409, "scheduling a revoked certificate: 409")
    issuing = psql("INSERT INTO certificates (tenant_id, cn, status, claimed_at) VALUES (:'p1', 'rev_issuing',"
                   " 'issuing', now() + interval '1 day') RETURNING id", tid).splitlines()[0]
    failed = psql("INSERT INTO certificates (tenant_id, cn, status) VALUES (:'p1', 'rev_failed', 'failed')"
                  " RETURNING id", tid).splitlines()[0]
    before = snapshot(tid)
    r = c.post("/api/certificates/revoke", {"ids": [fresh, int(issuing)]})
    t.ok(r.status == 409 and messages(r) == ["rev_issuing は発行中のため失効できません。"],
         "a certificate still issuing: 409 naming it", r.body[:300])
    r = c.post("/api/certificates/revoke", {"ids": [int(failed)]})
    t.eq(r.status, 409, "a failed certificate: 409")
    t.eq(snapshot(tid), before, "the refused requests changed nothing (the valid one stays valid)")
    psql("DELETE FROM certificates WHERE id IN (:'p1', :'p2')", issuing, failed)


def test_scheduled(t):
    c, tid = STATE["ca"], STATE["a"]
    x, y, z = take(3)
    STATE["scheduled_x"] = x
    s0 = summary(c)
    r = c.post("/api/certificates/revoke", {"ids": [x], "revoke_on": day(1), "reason": "superseded"})
    item = ((r.json() or {}).get("items") or [{}])[0]
    t.ok(r.status == 200 and item.get("status") == "revoke_scheduled" and item.get("revoke_on") == day(1),
         "revoke tomorrow: 200, revoke_scheduled with its date", r.body[:300])
    t.eq(item.get("status_label"), "証明書失効予定", "labelled 証明書失効予定")
    r = c.post("/api/certificates/revoke", {"ids": [y, z], "revoke_on": day(30)})
    t.eq(r.status, 200, "30 days ahead (the last day allowed): 200")
    t.eq(psql("SELECT to_char(revoke_on AT TIME ZONE 'Asia/Tokyo', 'YYYY-MM-DD HH24:MI') FROM certificates"
              " WHERE id = :'p1'", x), day(1) + " 00:00", "revoke_on is 00:00 JST of the date")
    t.eq(summary(c).get("issued"), s0.get("issued"), "a scheduled certificate still counts in 発行数")
    t.eq(history(tid, cn_of(x)), ["admin|%s: 失効予定 (%s)" % (cn_of(x), day(1).replace("-", "/"))],
         "history: <cn>: 失効予定 (yyyy/mm/dd)")
    before = snapshot(tid)
    r = c.post("/api/certificates/revoke", {"ids": [x], "revoke_on": day(5)})
    t.eq(r.status, 409, "scheduling a scheduled certificate again: 409")
    t.eq(snapshot(tid), before, "and nothing changed")
    # cancel
    r = c.post("/api/certificates/revoke/cancel", {"ids": [y]})
    item = ((r.json() or {}).get("items") or [{}])[0]
    t.ok(r.status == 200 and item.get("status") == "issued" and "revoke_on" not in item,
         "cancel: back to issued, revoke_on cleared", r.body[:300])
    t.eq(psql("SELECT status || '|' || (revoke_on IS NULL) FROM certificates WHERE id = :'p1'", y), "issued|true",
         "stored issued without revoke_on")
    t.eq(history(tid, cn_of(y))[-1], "admin|%s: 失効予定 -> 失効取消" % cn_of(y), "history: 失効予定 -> 失効取消")
    before = snapshot(tid)
    r = c.post("/api/certificates/revoke/cancel", {"ids": [y]})
    t.ok(r.status == 409 and messages(r) == ["%s は失効予定ではありません。" % cn_of(y)],
         "cancel of a certificate not scheduled: 409", r.body[:300])
    r = c.post("/api/certificates/revoke/cancel", {"ids": [x, y]})
    t.eq(r.status, 409, "cancel of a scheduled and an unscheduled one: 409")
    t.eq(snapshot(tid), before, "and nothing changed")
    # revoke now what is scheduled
    r = c.post("/api/certificates/revoke", {"ids": [z]})
    t.ok(r.status == 200 and status_of(z) == "revoked", "a scheduled certificate can be revoked now", r.body[:300])
    # a date that has come cannot be cancelled any more
    psql("UPDATE certificates SET revoke_on = now() - interval '1 second' WHERE id = :'p1'", x)
    r = c.post("/api/certificates/revoke/cancel", {"ids": [x]})
    t.eq(r.status, 409, "cancel after the date has come: 409")
    psql("UPDATE certificates SET revoke_on = (:'p2'::date)::timestamp AT TIME ZONE 'Asia/Tokyo' WHERE id = :'p1'",
         x, day(1))


def test_apply_due(t):
    tid, x = STATE["a"], STATE["scheduled_x"]
    p = apply_due("2026/13/01 00:00")
    t.eq(p.returncode, 2, "apply-due --as-of with a bad date: usage error")
    late = today().strftime("%Y/%m/%d") + " 23:59"
    p = apply_due(late)
    t.ok(p.returncode == 0 and status_of(x) == "revoke_scheduled", "apply-due as of today 23:59: not yet due",
         p.stdout + p.stderr)
    p = apply_due((today() + datetime.timedelta(days=1)).strftime("%Y/%m/%d") + " 00:00")
    t.ok(p.returncode == 0 and status_of(x) == "revoked", "apply-due as of tomorrow 00:00: revoked",
         p.stdout + p.stderr)
    got = psql("SELECT (revoked_at IS NOT NULL) || '|' || revocation_reason FROM certificates WHERE id = :'p1'", x)
    t.eq(got, "true|4", "with revoked_at and the reason given when scheduled (superseded)")
    t.eq(history(tid, cn_of(x))[-1], "system|%s: 失効中 -> 失効完了" % cn_of(x),
         "history: the system's <cn>: 失効中 -> 失効完了")
    STATE["revoked_due"] = x


def due_interval():
    for line in open(path(UP["ctl"][2]), encoding="utf-8"):
        k, _, v = line.partition("=")
        if k.strip() == "due_check_interval":
            return int(v.strip())
    return 60


def test_due_thread(t):
    """shomei-revoke's own thread applies what has fallen due (due_check_interval; 2 s in scripts/test)."""
    c, tid = STATE["ca"], STATE["a"]
    cid = take(1)[0]
    r = c.post("/api/certificates/revoke", {"ids": [cid], "revoke_on": day(1)})
    t.eq(r.status, 200, "scheduled for tomorrow")
    psql("UPDATE certificates SET revoke_on = now() - interval '1 second' WHERE id = :'p1'", cid)
    wait = due_interval() + 10
    t.ok(wait_until(lambda: status_of(cid) == "revoked", wait),
         "once its time has come, shomei-revoke revokes it within %d s" % wait)
    t.eq(history(tid, cn_of(cid))[-1], "system|%s: 失効中 -> 失効完了" % cn_of(cid), "history by the system")
    STATE.setdefault("revoked_more", []).append(cid)


def test_apply_due_concurrent(t):
    c, tid = STATE["ca"], STATE["a"]
    ids = take(8)
    r = c.post("/api/certificates/revoke", {"ids": ids, "revoke_on": day(2)})
    t.eq(r.status, 200, "eight certificates scheduled")
    as_of = (today() + datetime.timedelta(days=2)).strftime("%Y/%m/%d") + " 00:00"
    cmd = [path(UP["ctl"][0])] + [path(a) if a.endswith(".conf") else a for a in UP["ctl"][1:]]
    procs = [subprocess.Popen(cmd + ["revocations", "apply-due", "--as-of", as_of], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=60) for p in procs]
    counts = [int(o[0].split()[0]) if o[0].strip() else -1 for o in outs]
    t.ok(all(p.returncode == 0 for p in procs), "both runs succeed", outs)
    t.eq(sum(counts), 8, "together they applied eight revocations (%s)" % counts)
    t.eq(psql("SELECT count(*) FROM certificates WHERE id = ANY (string_to_array(:'p1', ',')::bigint[])"
              " AND status = 'revoked'", ",".join(map(str, ids))), "8", "all eight revoked")
    n = psql("SELECT count(*) FROM audit WHERE tenant_id = :'p1' AND action = 'certificate_revoke'"
             " AND detail LIKE '%失効完了' AND split_part(detail, ':', 1) = ANY (string_to_array(:'p2', ','))",
             tid, ",".join(cn_of(i) for i in ids))
    t.eq(n, "8", "exactly one history entry each")
    STATE["due_many"] = ids


def test_revoke_race(t):
    """The same certificate revoked by two requests at once: one 200, one 409, one history entry."""
    import threading
    cid = take(1)[0]
    clients = [admin(A), admin(A)]
    out = [None, None]

    def go(i):
        out[i] = clients[i].post("/api/certificates/revoke", {"ids": [cid]}).status

    threads = [threading.Thread(target=go, args=(i,)) for i in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    t.eq(sorted(out), [200, 409], "two requests at once: one revokes, the other is refused")
    t.eq(len(history(STATE["a"], cn_of(cid))), 1, "one history entry")
    STATE.setdefault("revoked_more", []).append(cid)


def test_apply_due_many(t):
    """More rows than one batch (500), two runs at once: each row revoked once, one entry each."""
    tid = STATE["c"]
    n = 1200
    psql("INSERT INTO certificates (tenant_id, ca_id, cn, status, serial, revoke_on, issued_at)"
         " SELECT :'p1', c.id, 'bulk_' || g, 'revoke_scheduled', md5(:'p1' || '-' || g),"
         " now() + interval '3 days', now() FROM generate_series(1, :'p2'::int) g"
         " JOIN cas c ON c.tenant_id = :'p1' AND c.kind = 'tenant' AND c.active", tid, n)
    as_of = (today() + datetime.timedelta(days=4)).strftime("%Y/%m/%d") + " 00:00"
    cmd = [path(UP["ctl"][0])] + [path(a) if a.endswith(".conf") else a for a in UP["ctl"][1:]]
    procs = [subprocess.Popen(cmd + ["revocations", "apply-due", "--as-of", as_of], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=120) for p in procs]
    counts = [int(o[0].split()[0]) if o[0].strip() else -1 for o in outs]
    t.ok(all(p.returncode == 0 for p in procs), "two runs over %d rows succeed" % n, outs)
    t.eq(sum(counts), n, "together they applied %d (%s)" % (n, counts))
    t.eq(psql("SELECT count(*) FROM certificates WHERE tenant_id = :'p1' AND status = 'revoked'", tid), str(n),
         "every row revoked")
    t.eq(psql("SELECT count(*) || '|' || count(DISTINCT detail) FROM audit WHERE tenant_id = :'p1'"
              " AND action = 'certificate_revoke'", tid), "%d|%d" % (n, n), "exactly one history entry per row")
    slug = STATE["c_slug"]
    t.ok(wait_until(lambda: fetch("/crl/%s.crl" % slug).status == 200 and
                    len(list(x509.load_der_x509_crl(fetch("/crl/%s.crl" % slug).body))) == n, 20),
         "the tenant's CRL lists all %d" % n)


# --- the CRL --------------------------------------------------------------------------------
def fetch(url, headers=None):
    return Client().get(url, headers=headers)


def crl_now():
    r = fetch("/crl/%s.crl" % A)
    return x509.load_der_x509_crl(r.body) if r.status == 200 else None


def listed(crl, serial):
    return crl is not None and crl.get_revoked_certificate_by_serial_number(serial) is not None


def crl_number(crl):
    return crl.extensions.get_extension_for_oid(ExtensionOID.CRL_NUMBER).value.crl_number


def test_crl(t):
    chain = chain_pem(A)
    r = fetch("/crl/%s.crl" % A)
    t.ok(r.status == 200 and r.header("Content-Type") == "application/pkix-crl",
         "GET /crl/<slug>.crl without a session: 200 application/pkix-crl", (r.status, r.header("Content-Type")))
    revoked = [STATE["revoked_kc"], STATE["revoked_plain"], STATE["revoked_due"]] + STATE["due_many"] + STATE.get("revoked_more", [])
    t.ok(wait_until(lambda: all(listed(crl_now(), serial_of(i)) for i in revoked), 10),
         "the CRL lists every revoked certificate (%d)" % len(revoked))
    crl = crl_now()
    f = os.path.join(TMP, "a.crl")
    open(f, "wb").write(fetch("/crl/%s.crl" % A).body)
    v = run("openssl", "crl", "-inform", "DER", "-in", f, "-noout", "-CAfile", chain)
    t.ok(v.returncode == 0 and "verify OK" in v.stdout + v.stderr, "openssl crl -verify -CAfile: verify OK",
         v.stdout + v.stderr)
    info = run("certtool", "--crl-info", "--inder", "--infile", f)
    t.ok(info.returncode == 0 and "Revoked certificates (%d)" % len(revoked) in info.stdout and
         ("%x" % serial_of(STATE["revoked_kc"])) in info.stdout.replace(":", "").lower() or
         ("%032x" % serial_of(STATE["revoked_kc"])) in info.stdout.replace(":", "").lower(),
         "certtool --crl-info reads it, with the revoked serial", info.stdout[:600] + info.stderr)
    ca = x509.load_pem_x509_certificate(open(chain, "rb").read())
    t.ok(crl.is_signature_valid(ca.public_key()), "python3-cryptography: signed by the tenant CA")
    aki = crl.extensions.get_extension_for_oid(ExtensionOID.AUTHORITY_KEY_IDENTIFIER).value.key_identifier
    ski = ca.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_KEY_IDENTIFIER).value.digest
    t.eq(aki, ski, "AKI = the CA's SKI")
    t.ok(crl.next_update > crl.last_update and crl.issuer == ca.subject, "issuer, thisUpdate < nextUpdate")
    kc = crl.get_revoked_certificate_by_serial_number(serial_of(STATE["revoked_kc"]))
    reason = kc.extensions.get_extension_for_oid(CRLEntryExtensionOID.CRL_REASON).value.reason
    t.eq(reason, x509.ReasonFlags.key_compromise, "keyCompromise listed with its reason")
    plain = crl.get_revoked_certificate_by_serial_number(serial_of(STATE["revoked_plain"]))
    t.eq(len(plain.extensions), 0, "unspecified listed without a reasonCode (RFC 5280 5.3.1)")
    due = crl.get_revoked_certificate_by_serial_number(serial_of(STATE["revoked_due"]))
    t.eq(due.extensions.get_extension_for_oid(CRLEntryExtensionOID.CRL_REASON).value.reason, x509.ReasonFlags.superseded,
         "the scheduled one listed with its reason (superseded)")
    # the certificates name this URL
    der, _ = stored(STATE["revoked_kc"])
    cert = x509.load_der_x509_certificate(der)
    dp = cert.extensions.get_extension_for_oid(ExtensionOID.CRL_DISTRIBUTION_POINTS).value
    ca_id = psql("SELECT ca_id FROM certificates WHERE id = :'p1'", STATE["revoked_kc"])
    t.eq(dp[0].full_name[0].value, "%s/crl/%s.%s.crl" % (REVOCATION_URL, A, ca_id),
         "the certificate's CRL DP is its issuing CA's own URL, /crl/<slug>.<ca id>.crl")
    # a relying party follows it (over plain HTTP): the same CRL, its issuer's, listing it
    url, by_cdp, why = cdp_crl(cert, ca)
    t.ok(by_cdp is not None and listed(by_cdp, cert.serial_number),
         "GET %s: a CRL its issuing CA signed (name, AKI, signature) that lists it" % url, why)
    t.eq(get_url(url)[2], fetch("/crl/%s.crl" % A).body, "the same bytes as /crl/<slug>.crl (the active CA's)")
    r = fetch("/crl/%s.%s.crl" % (B, ca_id))
    t.eq(r.status, 404, "this CA's id under another tenant's slug: 404, as if absent")
    root_id = psql("SELECT parent_id FROM cas WHERE id = :'p1'", ca_id)
    t.eq(fetch("/crl/%s.%s.crl" % (A, root_id)).status, 404, "the root's id under the slug: 404 (tenant CAs only)")


def test_crl_after_revocation(t):
    c = STATE["ca"]
    before = crl_now()
    n0 = crl_number(before)
    cid = take(1)[0]
    start = time.time()
    r = c.post("/api/certificates/revoke", {"ids": [cid]})
    t.eq(r.status, 200, "another revocation")
    seen = wait_until(lambda: listed(crl_now(), serial_of(cid)), 10)
    took = time.time() - start
    t.ok(seen and took < 5, "the CRL lists it within 5 s (%.2f s)" % took)
    t.ok(crl_number(crl_now()) > n0, "the CRL number went up (%d -> %d)" % (n0, crl_number(crl_now())))
    STATE["revoked_last"] = cid
    # a sweep finds it current: the number stays
    n1 = crl_number(crl_now())
    time.sleep(3)
    t.eq(crl_number(crl_now()), n1, "a current CRL is not signed again")
    r = fetch("/crl/%s.crl" % B)
    b = x509.load_der_x509_crl(r.body) if r.status == 200 else None
    t.ok(b is not None and len(list(b)) == 0, "the other tenant's CRL lists none of them")


def test_crl_renewed(t):
    """A CRL whose nextUpdate comes near is signed again by the sweep (crl_check_interval)."""
    n0 = crl_number(crl_now())
    psql("UPDATE crls SET next_update = now() + interval '1 hour' WHERE ca_id = (SELECT id FROM cas"
         " WHERE tenant_id = :'p1' AND kind = 'tenant' AND active)", STATE["a"])
    t.ok(wait_until(lambda: crl_number(crl_now()) > n0, 30), "a CRL expiring within crl_days/2 is signed again")
    crl = crl_now()
    left = (crl.next_update - crl.last_update).total_seconds() / 86400
    t.ok(left > 3.5, "valid for crl_days again (%.1f days)" % left)


def test_after_postgres_restart(t):
    """After PostgreSQL restarts, the publisher LISTENs again: a revocation is on the CRL at once."""
    from shomei_test import hold, release
    from test_resilience import pg_ctl
    # a restart the supervisor's way: held, stopped, released
    hold("postgresql")
    try:
        p = pg_ctl("-m", "fast", "stop")
    finally:
        ok = release("postgresql")
    t.ok(p.returncode == 0 and ok, "PostgreSQL restarted", p.stderr)
    c = admin(A)  # a session of its own: the restart may have cost the first request a 503
    cid = take(1)[0]
    ok = wait_until(lambda: c.post("/api/certificates/revoke", {"ids": [cid]}).status == 200 or
                    status_of(cid) == "revoked", 30)
    start = time.time()
    t.ok(ok, "a revocation after the restart")
    seen = wait_until(lambda: listed(crl_now(), serial_of(cid)), 10)
    t.ok(seen and time.time() - start < 5, "on the CRL within 5 s (%.2f s)" % (time.time() - start))
    STATE.setdefault("revoked_more", []).append(cid)


def test_conditional(t):
    ca_id = psql("SELECT id FROM cas WHERE tenant_id = :'p1' AND kind = 'tenant' AND active", STATE["a"])
    for url in ("/crl/%s.crl" % A, "/crl/%s.%s.crl" % (A, ca_id), "/crl/%s.pem" % A, "/ca/%s.pem" % A,
                "/ca/%s.crt" % A):
        r = fetch(url)
        etag, lm = r.header("ETag"), r.header("Last-Modified")
        t.ok(r.status == 200 and etag and lm, "%s: 200 with ETag and Last-Modified" % url, (r.status, etag, lm))
        t.eq(fetch(url, {"If-None-Match": etag}).status, 304, "%s: If-None-Match the ETag: 304" % url)
        t.eq(fetch(url, {"If-Modified-Since": lm}).status, 304, "%s: If-Modified-Since: 304" % url)
        t.eq(fetch(url, {"If-None-Match": '"old"'}).status, 200, "%s: another ETag: 200" % url)
    for url in ("/crl/nosuch.crl", "/crl/%s.der" % A, "/ca/nosuch.pem", "/crl/..crl", "/ca/%s" % A,
                "/crl/nosuch.%s.crl" % ca_id, "/crl/%s.0%s.crl" % (A, ca_id), "/crl/%s.%s.pem" % (A, ca_id),
                "/crl/%s.%s.crl.crl" % (A, ca_id), "/crl/%s..crl" % A, "/crl/%s.-%s.crl" % (A, ca_id),
                "/crl/%s.%s" % (A, ca_id), "/crl/%s.99999999999999999999.crl" % A, "/crl/%s.%s.crl" % (A.upper(), ca_id),
                "/ca/%s.%s.pem" % (A, ca_id)):
        t.eq(fetch(url).status, 404, "%s: 404" % url)


def test_chain_documents(t):
    chain = chain_pem(A)
    r = fetch("/ca/%s.pem" % A)
    t.eq(r.body.decode().strip(), open(chain).read().strip(), "/ca/<slug>.pem is the chain (issuing CA, root)")
    r = fetch("/ca/%s.crt" % A)
    ca = x509.load_pem_x509_certificate(open(chain, "rb").read())
    t.ok(r.header("Content-Type") == "application/pkix-cert" and
         x509.load_der_x509_certificate(r.body) == ca, "/ca/<slug>.crt is the issuing CA in DER")
    r = fetch("/crl/%s.pem" % A)
    pem = r.body.decode()
    t.eq(pem.count("-----BEGIN X509 CRL-----"), 2, "/crl/<slug>.pem holds two CRLs (issuing CA and root)")
    f = os.path.join(TMP, "bundle.pem")
    open(f, "w").write(pem)
    ok = True
    for b in ["-----BEGIN X509 CRL-----" + x for x in pem.split("-----BEGIN X509 CRL-----")[1:]]:
        v = subprocess.run(["openssl", "crl", "-noout", "-CAfile", chain], input=b, capture_output=True, text=True)
        ok &= "verify OK" in v.stdout + v.stderr
    t.ok(ok, "each verifies against the chain")
    # a relying party's check: the revoked certificate fails, a valid one passes
    for cid, want in ((STATE["revoked_last"], False), (STATE["free"][0], True)):
        der, _ = stored(cid)
        cf = os.path.join(TMP, "c%d.pem" % cid)
        open(cf, "wb").write(x509.load_der_x509_certificate(der).public_bytes(
            __import__("cryptography.hazmat.primitives.serialization", fromlist=["Encoding"]).Encoding.PEM))
        v = run("openssl", "verify", "-crl_check_all", "-CRLfile", f, "-CAfile", chain, cf)
        if want:
            t.ok(v.returncode == 0 and ": OK" in v.stdout, "openssl verify -crl_check_all: a valid one is OK",
                 v.stdout + v.stderr)
        else:
            t.ok(v.returncode != 0 and "certificate revoked" in v.stdout + v.stderr,
                 "openssl verify -crl_check_all: the revoked one is refused", v.stdout + v.stderr)


def main():
    t = TAP()
    setup()
    for fn in (test_validation, test_not_found, test_revoke_now, test_scheduled, test_apply_due,
               test_due_thread, test_apply_due_concurrent, test_revoke_race, test_apply_due_many, test_crl, test_crl_after_revocation,
               test_crl_renewed, test_after_postgres_restart, test_conditional,
               test_chain_documents):
        t.run(fn)
    t.done()


if __name__ == "__main__":
    main()
