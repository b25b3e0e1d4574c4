#!/usr/bin/env python3
"""Lists at scale (issue 12): every list pages by key. On a tenant seeded with 20,000 rows of each
(bench/seed), each list is walked forwards (next) and backwards (last, then prev) and compared with
a reference computed here from the rows themselves (filters and sorts written again in Python);
rows inserted and revoked while someone pages neither repeat nor vanish; ひらがな, カタカナ and
ｶﾀｶﾅ input find the same users."""
import datetime
import gzip
import http.client
import json
import os
import random
import subprocess
import sys
import threading
import time
import unicodedata
import urllib.parse

from shomei_test import CLEAR_SEEDED, HOST, PORT, ROOT, TAP, UP, VAR, ctl, psql, redis, tls_context

N = 20000
SLUG = "lists%d" % os.getpid()
LOGIN, PASSWORD = "lists%d" % os.getpid(), "Lists2026pw"
JST = datetime.timezone(datetime.timedelta(hours=9))
INF = float("inf")


class Session:
    """One logged-in administrator on one kept-alive connection (thousands of pages)."""

    def __init__(self, login, password):
        self.conn = None
        self.cookie = None
        r = self.request("POST", "/api/auth/login", {"login_id": login, "password": password})
        assert r[0] == 200, r

    def request(self, method, url, body=None, headers=None):
        h = {"Host": "%s:%d" % (HOST, PORT)}
        h.update(headers or {})
        if self.cookie:
            h["Cookie"] = self.cookie
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        for attempt in (0, 1):
            if self.conn is None:
                self.conn = http.client.HTTPSConnection(HOST, PORT, context=tls_context(), timeout=60)
            try:
                self.conn.request(method, url, body=data, headers=h)
                r = self.conn.getresponse()
                raw = r.read()
                break
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = None
                if attempt:
                    raise
        self.headers, self.raw = r.headers, raw
        for c in r.headers.get_all("Set-Cookie") or []:
            if c.startswith("__Host-shomei="):
                self.cookie = c.split(";", 1)[0]
        try:
            doc = json.loads(gzip.decompress(raw) if r.headers.get("Content-Encoding") == "gzip" else raw)
        except (OSError, ValueError):
            doc = None
        return r.status, doc

    def get(self, url):
        return self.request("GET", url)

    def fresh(self, url):
        """GET made afresh, as a browser's reload asks (not a page kept in Redis, web/pagecache.h):
        for the tests of what a page is made from."""
        return self.request("GET", url, headers={"Cache-Control": "no-cache"})


def q(base, **kw):
    kw = {k: v for k, v in kw.items() if v not in (None, "")}
    return base + ("&" if "?" in base else "?") + urllib.parse.urlencode(kw) if kw else base


def walk(s, base, key="id"):
    """The ids of every row of a list, forwards (first page, then next) and backwards (last
    page, then prev), and what went wrong on the way (a status, a page of the wrong size)."""
    problems = []
    fwd, url, page = [], base, 1
    while True:
        st, doc = s.get(url)
        if st != 200:
            problems.append("GET %s: %s %s" % (url, st, doc))
            break
        fwd += [i[key] for i in doc["items"]]
        if doc["next"] is None:
            break
        if len(doc["items"]) != 100:
            problems.append("page %d of %s has %d rows" % (page, base, len(doc["items"])))
        page += 1
        url = q(base, after=doc["next"], page=page)
        if page > 1000:
            problems.append("more than 1000 pages")
            break
    back, url, page = [], q(base, last=1), 0
    while True:
        st, doc = s.get(url)
        if st != 200:
            problems.append("GET %s: %s %s" % (url, st, doc))
            break
        back = [i[key] for i in doc["items"]] + back
        if doc["prev"] is None:
            break
        page += 1
        url = q(base, before=doc["prev"])
        if page > 1000:
            problems.append("more than 1000 pages back")
            break
    return fwd, back, problems


def us(col):
    return "(extract(epoch FROM %s) * 1000000)::bigint" % col


def rows(sql, maxsplit=-1):
    out = psql(sql)
    return [line.split("|", maxsplit) for line in out.splitlines()] if out else []


def num(v):
    return int(v) if v != "" else None


def day(d, end=False):
    """A JST calendar day (yyyy/mm/dd) as microseconds since the epoch: its start, or the next day's."""
    t = datetime.datetime.strptime(d, "%Y/%m/%d").replace(tzinfo=JST)
    if end:
        t += datetime.timedelta(days=1)
    return int(t.timestamp()) * 1000000


def fold(text):
    """What the name search compares: NFKC, hiragana as katakana, lower case."""
    text = unicodedata.normalize("NFKC", text)
    text = "".join(chr(ord(ch) + 0x60) if 0x3041 <= ord(ch) <= 0x3096 or ord(ch) in (0x309D, 0x309E) else ch
                   for ch in text)
    return text.lower()


class Data:
    """The seeded tenant's rows, read straight from PostgreSQL."""

    def __init__(self, tid):
        self.certs = [dict(id=int(r[0]), user=num(r[1]), cn=r[2], status=r[3], issued=num(r[4]),
                           expires=num(r[5]), device=r[6])
                      for r in rows("SELECT c.id, c.user_id, c.cn, c.status, %s, %s, coalesce(d.device_code, '')"
                                    " FROM certificates c LEFT JOIN devices d ON d.id = c.device_id"
                                    " WHERE c.tenant_id = %d" % (us("c.issued_at"), us("c.not_after"), tid))]
        self.users = [dict(id=int(r[0]), family=r[1:4], given=r[4:7], kana=r[2] + "\x1f" + r[5],
                           email=r[7].lower(), applied=int(r[8]), deleted=r[9] == "t")
                      for r in rows("SELECT id, family_name, family_name_kana, family_name_en, given_name,"
                                    " given_name_kana, given_name_en, email, %s, deleted_at IS NOT NULL"
                                    " FROM users WHERE tenant_id = %d AND purged_at IS NULL"
                                    % (us("applied_at"), tid))]
        self.device_mail = {}
        for r in rows("SELECT user_id, lower(email) FROM devices WHERE tenant_id = %d" % tid):
            self.device_mail.setdefault(int(r[0]), []).append(r[1])
        self.by_user = {}
        for c in self.certs:
            self.by_user.setdefault(c["user"], []).append(c)
        self.audit = [dict(id=int(r[0]), at=int(r[1]), action=r[2], detail=r[3])
                      for r in rows("SELECT id, %s, action, replace(detail, E'\\n', ' ') FROM audit"
                                    " WHERE tenant_id = %d" % (us("at"), tid), 3)]
        self.jobs = [int(r[0]) for r in rows("SELECT id FROM jobs WHERE tenant_id = %d" % tid)]
        self.notices = [(int(r[0]), r[1]) for r in rows("SELECT id, status FROM notifications"
                                                          " WHERE tenant_id = %d" % tid)]


def name_match(text, parts):
    """A name search: three characters or more anywhere in the kanji, kana or English name;
    fewer (no trigram fits), at the start of one of them."""
    if len(text) >= 3:
        return fold(text) in fold("\x1f".join(parts))
    return any(fold(p).startswith(fold(text)) for p in parts)


COUNTED = ("issuing", "issued", "downloaded", "revoke_scheduled")


def ref_certs(d, status="valid", cn=None, issued_from=None, issued_to=None, sort=""):
    out = []
    for c in d.certs:
        k = c["issued"] if c["issued"] is not None else INF
        if status != "all" and c["status"] not in COUNTED:
            continue
        if cn and cn.lower() not in c["cn"].lower():
            continue
        if issued_from and not (day(issued_from) <= k < INF):
            continue
        if issued_to and not k < day(issued_to, True):
            continue
        out.append((k, c["id"]))
    out.sort(reverse=sort == "-issued_at")
    return [i for _, i in out]


def ref_users(d, family_name=None, given_name=None, email=None, applied_from=None, applied_to=None,
              issued_from=None, issued_to=None, expires_from=None, expires_to=None, status=None,
              device=None, deleted=None, sort="-applied_at"):
    statuses = status.split(",") if status else None
    devices = device.split(",") if device else None
    cert_cond = any(v for v in (issued_from, issued_to, expires_from, expires_to, status, device))
    out = []
    for u in d.users:
        if u["deleted"] != (deleted == "1"):
            continue
        if family_name and not name_match(family_name, u["family"]):
            continue
        if given_name and not name_match(given_name, u["given"]):
            continue
        if email and email.lower() not in u["email"] and \
                not any(email.lower() in m for m in d.device_mail.get(u["id"], [])):
            continue
        if applied_from and u["applied"] < day(applied_from):
            continue
        if applied_to and u["applied"] >= day(applied_to, True):
            continue
        certs = d.by_user.get(u["id"], [])

        def match(c):
            return ((not issued_from or (c["issued"] is not None and c["issued"] >= day(issued_from))) and
                    (not issued_to or (c["issued"] is not None and c["issued"] < day(issued_to, True))) and
                    (not expires_from or (c["expires"] is not None and c["expires"] >= day(expires_from))) and
                    (not expires_to or (c["expires"] is not None and c["expires"] < day(expires_to, True))) and
                    (not statuses or c["status"] in statuses) and (not devices or c["device"] in devices))
        if cert_cond and not any(match(c) for c in certs):
            continue
        desc = sort.startswith("-")
        field = sort.lstrip("-")
        if field == "applied_at":
            k = u["applied"]
        elif field == "family_name_kana":
            k = u["kana"]
        elif field == "email":
            k = u["email"]
        else:
            vals = [c["issued"] for c in certs if c["issued"] is not None] if field == "issued_at" else \
                [c["expires"] for c in certs if c["expires"] is not None and c["status"] != "revoked"]
            k = (max(vals) if field == "issued_at" else min(vals)) if vals else (-INF if desc else INF)
        out.append((k, u["id"]))
    out.sort(reverse=sort.startswith("-"))
    return [i for _, i in out]


def ref_audit(d, frm=None, to=None, action=None, text=None):
    out = [(a["at"], a["id"]) for a in d.audit
           if (not frm or a["at"] >= day(frm)) and (not to or a["at"] < day(to, True)) and
           (not action or a["action"] == action) and (not text or text.lower() in a["detail"].lower())]
    out.sort(reverse=True)
    return [i for _, i in out]


def check(t, s, name, base, want, key="id"):
    """Queue a walk of a list against its reference (run_checks runs them, several at once)."""
    STATE["checks"].append((name, base, want, key))


def run_checks(t):
    """The queued walks on three sessions at once (each walk is read-only), reported in order."""
    checks, STATE["checks"] = STATE["checks"], []
    sessions = STATE["sessions"]
    results = [None] * len(checks)
    lock = threading.Lock()
    todo = list(range(len(checks)))

    def worker(s):
        while True:
            with lock:
                if not todo:
                    return
                i = todo.pop(0)
            name, base, want, key = checks[i]
            try:
                results[i] = walk(s, base, key)
            except Exception as e:  # reported as that check's failure
                results[i] = ([], [], ["%s raised %r" % (base, e)])

    threads = [threading.Thread(target=worker, args=(s,)) for s in sessions]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    for (name, base, want, key), (fwd, back, problems) in zip(checks, results):
        report(t, name, want, fwd, back, problems)


def report(t, name, want, fwd, back, problems):
    t.ok(not problems and fwd == want,
         "%s: forwards page by page = the reference (%d rows)" % (name, len(want)),
         "\n".join(problems[:5]) + "\nfirst difference at %s" % next(
             (i for i, (a, b) in enumerate(zip(fwd, want)) if a != b), min(len(fwd), len(want))))
    t.ok(back == want, "%s: backwards from the last page = the reference" % name,
         "got %d rows, want %d" % (len(back), len(want)))


def seed():
    env = dict(os.environ)
    p = subprocess.run([os.path.join(ROOT, "bench", "seed"), "--tenant", SLUG, "--users", str(N),
                        "--certificates", str(N), "--history", str(N), "--jobs", str(N),
                        "--notifications", str(N),
                        "--up", os.environ["SHOMEI_UP_JSON"]], capture_output=True, text=True, env=env,
                       timeout=1200)
    if p.returncode != 0:
        raise RuntimeError("bench/seed failed: %s" % p.stderr)
    print("# seeded: %s" % p.stdout.strip().splitlines()[-1], flush=True)
    ctl("admin", "create", "--tenant", SLUG, "--login-id", LOGIN, "--password", PASSWORD)
    return int(psql("SELECT id FROM tenants WHERE slug = '%s'" % SLUG))


STATE = {}


def test_certificates(t):
    s, d = STATE["s"], STATE["d"]
    for kw in ({"status": "all", "sort": "-issued_at"},
               {"status": "valid", "sort": "issued_at", "issued_to": "2022/12/31"},
               {"status": "all", "cn": "sato"}, {"status": "valid", "cn": "KA", "sort": "-issued_at"},
               {"status": "all", "issued_from": "2023/01/01", "issued_to": "2023/06/30"},
               {"status": "valid", "issued_from": "2025/01/01", "sort": "-issued_at"},
               {"status": "all", "issued_to": "2022/06/30", "cn": "a"}):
        check(t, s, "certificates %s" % kw, q("/api/certificates", **kw), ref_certs(d, **kw))
    st, doc = s.get("/api/certificates?status=all")
    t.ok(st == 200 and doc["total_estimated"] and doc["total"] > 10000,
         "past 10,000 rows the total is an estimate (約), marked total_estimated", doc and doc.get("total"))
    st, doc = s.get("/api/certificates?status=all&cn=sato")
    t.ok(st == 200 and not doc["total_estimated"] and doc["total"] == len(ref_certs(d, "all", "sato")),
         "below it the total is exact", doc and doc.get("total"))


def test_users(t):
    s, d = STATE["s"], STATE["d"]
    check(t, s, "users (申請日 descending)", "/api/users", ref_users(d))
    for sort in ("applied_at", "family_name_kana", "-family_name_kana", "email", "-email", "issued_at",
                 "-issued_at", "expires_at", "-expires_at"):
        check(t, s, "users sort=%s, family_name=さとう" % sort,
              q("/api/users", sort=sort, family_name="さとう"), ref_users(d, family_name="さとう", sort=sort))
    for kw in ({"given_name": "ﾀﾛｳ", "sort": "email"}, {"family_name": "Tanaka"},
               {"email": "yamada.hina", "sort": "issued_at"}, {"email": "20.ito", "sort": "-email"},
               {"applied_from": "2024/01/01", "applied_to": "2024/03/31"},
               {"issued_from": "2022/01/01", "issued_to": "2022/03/31", "sort": "-issued_at"},
               {"expires_from": "2027/01/01", "sort": "expires_at"},
               {"status": "revoked,failed", "device": "20", "sort": "family_name_kana"},
               {"status": "issuing", "sort": "-expires_at"}, {"deleted": "1"},
               {"device": "99,11", "family_name": "林"}, {"family_name": "山", "sort": "-email"},
               {"given_name": "ユ", "device": "20"},
               # an address in every user's or every device's: tested on each user read (search.c)
               {"email": "example.jp", "sort": "-email"}, {"email": "dev.example", "family_name": "山"}):
        check(t, s, "users %s" % kw, q("/api/users", **kw), ref_users(d, **kw))


def test_audit_jobs(t):
    s, d = STATE["s"], STATE["d"]
    check(t, s, "操作履歴 (newest first)", "/api/audit", ref_audit(d))
    for kw in ({"action": "login"}, {"q": "sato"}, {"from": "2023/04/01", "to": "2023/09/30"},
               {"action": "certificate_issue", "q": "client_00", "from": "2022/01/01"}):
        check(t, s, "操作履歴 %s" % kw, q("/api/audit", **kw),
              ref_audit(d, kw.get("from"), kw.get("to"), kw.get("action"), kw.get("q")))
    check(t, s, "CSV jobs (newest first)", "/api/jobs", sorted(d.jobs, reverse=True))


def ref_outbox(d, status=None):
    return sorted((i for i, st in d.notices if not status or st == status), reverse=True)


def test_outbox(t):
    """送信メール pages by key as the other lists (issue 12): every notice and each status, forwards
    and backwards (run_checks); the totals, exact below the threshold and 約 above; the last page;
    a ?page=N jump; a notice queued while someone pages neither repeats a row nor hides one."""
    s, d, tid = STATE["s"], STATE["d"], STATE["tid"]
    seen = {st for _, st in d.notices}
    t.ok(len(d.notices) == N and seen == {"queued", "sent", "failed"},
         "bench/seed wrote %d notices, of every status" % N, (len(d.notices), seen))
    check(t, s, "送信メール (newest first)", "/api/notifications", ref_outbox(d))
    for st in ("queued", "sent", "failed"):
        check(t, s, "送信メール status=%s" % st, q("/api/notifications", status=st), ref_outbox(d, st))
    for st in ("", "queued", "sent", "failed"):
        want = ref_outbox(d, st)
        code, doc = s.get(q("/api/notifications", status=st))
        est = len(want) > 10000
        t.ok(code == 200 and doc.get("total_estimated") is est and
             (doc["total"] == len(want) if not est else doc["total"] > 10000),
             "送信メール status=%r: total %s %d" % (st, "約" if est else "exactly", len(want)),
             (code, doc and (doc.get("total"), doc.get("total_estimated"))))
        code, last = s.get(q("/api/notifications", status=st, last=1))
        items = [i["id"] for i in (last or {}).get("items", [])]
        tail = len(want) % 100 or 100
        t.ok(code == 200 and items == (want[-100:] if est else want[-tail:]),
             "送信メール status=%r last=1: the oldest notices" % st, (code, items[:3], want[-3:]))
    want = ref_outbox(d, "sent")
    code, jump = s.get(q("/api/notifications", status="sent", page=7))
    t.ok(code == 200 and [i["id"] for i in jump["items"]] == want[600:700] and jump["page"] == 7 and
         jump["prev"] is not None and jump["next"] is not None,
         "送信メール ?page=7 (a jump without a cursor): rows 601-700", (code, jump and jump["items"][:1]))
    code, after = s.get(q("/api/notifications", status="sent", after=jump["next"], page=8))
    t.ok(code == 200 and [i["id"] for i in after["items"]] == want[700:800] and after["page"] == 8,
         "and 次へ from it: rows 701-800", (code, after and after["items"][:1]))
    code, before = s.get(q("/api/notifications", status="sent", before=jump["prev"], page=6))
    t.ok(code == 200 and [i["id"] for i in before["items"]] == want[500:600],
         "and 前へ from it: rows 501-600", (code, before and before["items"][:1]))
    item = jump["items"][0]
    t.ok(set(item) >= {"id", "kind", "kind_label", "to", "status", "status_label", "attempts", "created_at",
                       "last_attempt_at", "sent_at", "next_attempt_at", "last_error", "subject"}
         and item["status"] == "sent" and item["sent_at"] and item["to"].endswith(".example.jp"),
         "an item keeps its fields", item)
    # pages 1 and 2 of every notice, a notice queued between them: page 2 is what followed page 1
    want = ref_outbox(d)
    code, p1 = s.get("/api/notifications")
    nid = int(psql("INSERT INTO notifications (tenant_id, to_addr, kind, next_attempt_at)"
                   " VALUES (%d, 'late@example.jp', 'user_issued', now() + interval '100 years')"
                   " RETURNING id" % tid).split()[0])
    code2, p2 = s.get(q("/api/notifications", after=p1["next"], page=2))
    code3, top = s.get("/api/notifications")
    psql("DELETE FROM notifications WHERE id = %d" % nid)
    t.ok(code == code2 == 200 and [i["id"] for i in p1["items"]] == want[:100] and
         [i["id"] for i in p2["items"]] == want[100:200],
         "a notice queued while paging: page 2 follows page 1, no row twice, none skipped",
         (code2, p2 and [i["id"] for i in p2["items"]][:2], want[100:102]))
    t.ok(code3 == 200 and top["items"][0]["id"] == nid and top["items"][0]["status"] == "queued",
         "and the first page shows it at the top", top and top["items"][:1])


def test_concurrent(t):
    """Page through certificates (all, newest first) and the history while rows are inserted
    at every position and certificates are revoked: no repeats, no gaps among rows that existed
    throughout."""
    s, tid = STATE["s"], STATE["tid"]
    before_c = set(int(x) for x in psql("SELECT id FROM certificates WHERE tenant_id = %d" % tid).split())
    before_a = set(int(x) for x in psql("SELECT id FROM audit WHERE tenant_id = %d" % tid).split())
    stop = threading.Event()
    changed = {"inserted": 0, "revoked": 0}

    def churn():
        rnd = random.Random(7)
        uid, did = psql("SELECT user_id, device_id FROM certificates WHERE tenant_id = %d LIMIT 1" % tid).split("|")
        while not stop.is_set():
            days = rnd.randrange(1, 5 * 365)
            psql("INSERT INTO certificates (tenant_id, user_id, device_id, cn, status, issued_at, claimed_at)"
                 " VALUES (%d, %s, %s, 'Churn Row', 'issued', now() - interval '%d days', NULL);"
                 "INSERT INTO audit (tenant_id, at, actor_kind, action, detail)"
                 " VALUES (%d, now() - interval '%d days', 'system', 'settings', 'churn');"
                 "UPDATE certificates SET status = 'revoked', revoked_at = now() WHERE id = (SELECT id FROM"
                 " certificates WHERE tenant_id = %d AND status = 'issued' ORDER BY random() LIMIT 1)"
                 % (tid, uid, did, days, tid, rnd.randrange(1, 5 * 365), tid))
            changed["inserted"] += 2
            changed["revoked"] += 1

    th = threading.Thread(target=churn)
    th.start()
    try:
        seen_c, _, p1 = walk(s, "/api/certificates?status=all&sort=-issued_at")
        seen_a, _, p2 = walk(s, "/api/audit")
    finally:
        stop.set()
        th.join()
    t.ok(changed["revoked"] > 5, "rows were inserted and revoked while paging", changed)
    t.ok(not p1 and len(seen_c) == len(set(seen_c)), "certificates: no row twice", p1[:3])
    t.eq(sorted(before_c - set(seen_c)), [], "certificates: every row that existed throughout was on a page")
    t.ok(not p2 and len(seen_a) == len(set(seen_a)), "操作履歴: no entry twice", p2[:3])
    t.eq(sorted(before_a - set(seen_a)), [], "操作履歴: every entry that existed throughout was on a page")


def test_count_cache(t):
    """A filtered total is counted once and kept in Redis with the tenant's certificates' generation
    (migration 0026, docs/DECISIONS.md): every page, the first too, reuses it while no certificate
    of the tenant changes, and the first request after a change counts afresh."""
    s, tid = STATE["s"], STATE["tid"]
    base = "/api/certificates?status=all&cn=sato"
    st, first = s.fresh(base)
    t.ok(st == 200 and not first["total_estimated"] and first["next"], "first page of %s: %s rows, exact"
         % (base, first and first.get("total")), first and first.get("total"))
    total = first["total"]
    keys = redis("--scan", "--pattern", "shomei:count:certificates:*").split()
    t.ok(keys, "the total is kept in Redis (shomei:count:certificates:…)", keys)
    t.ok(all("sato" not in k.lower() for k in keys), "its key holds no search text, a digest", keys[:3])
    # the stored total, made visibly different: a first page that counted again would not show it
    stored = {k: redis("GET", k).strip() for k in keys}
    mine = [k for k, v in stored.items() if v.endswith("/%d" % total)]
    t.ok(len(mine) >= 1, "it is stored with the generation it was counted at (gen/N)", stored)
    for k in mine:
        redis("SET", k, stored[k][:-len(str(total))] + str(total + 7000), "EX", "600")
    st, doc = s.fresh(base)
    t.ok(st == 200 and doc["total"] == total + 7000,
         "while no certificate changes, the first page reuses the stored total", (st, doc and doc.get("total")))
    uid, did = psql("SELECT user_id, device_id FROM certificates WHERE tenant_id = %d LIMIT 1" % tid).split("|")
    psql("INSERT INTO certificates (tenant_id, user_id, device_id, cn, status, issued_at, claimed_at)"
         " VALUES (%d, %s, %s, 'Sato Count Cache', 'issued', now(), NULL)" % (tid, uid, did))
    nxt = q(base, after=first["next"], page=2)
    st, doc = s.fresh(nxt)
    t.ok(st == 200 and doc["total"] == total + 1, "a certificate added: the page after the first counts it at once",
         (st, doc and doc.get("total"), total))
    st, doc = s.fresh(base)
    t.ok(st == 200 and doc["total"] == total + 1, "and so does the first page",
         (st, doc and doc.get("total"), total))
    st, doc = s.fresh(q(base, last=1))
    t.ok(st == 200 and doc["total"] == total + 1 and len(doc["items"]) == ((total + 1) % 100 or 100),
         "the last page too, holding what is left after the full pages of it",
         (st, doc and doc.get("total"), doc and len(doc.get("items", []))))
    psql("UPDATE certificates SET status = 'revoked', revoked_at = now() WHERE tenant_id = %d"
         " AND cn = 'Sato Count Cache'" % tid)
    st, doc = s.fresh(q("/api/certificates", status="valid", cn="sato"))
    want = int(psql("SELECT count(*) FROM certificates WHERE tenant_id = %d AND lower(cn) LIKE '%%sato%%'"
                    " AND status IN ('issuing', 'issued', 'downloaded', 'revoke_scheduled')" % tid))
    t.ok(st == 200 and doc["total"] == want, "a revocation shows in the valid total at once",
         (st, doc and doc.get("total"), want))
    other = Session(LOGIN, PASSWORD)
    st, doc = other.fresh("/api/certificates?status=all&cn=satoo")
    t.ok(st == 200 and doc["total"] == 0, "another filter has a total of its own", doc and doc.get("total"))


def test_users_count_kept(t):
    """A 利用者 filter's total, exact ones included, is kept in Redis with the tenant's generation
    (migrations 0026 and 0028): every page reuses it while nothing it counts changes, and a user, a
    device or a certificate written moves it, so the next request counts afresh."""
    s, tid = STATE["s"], STATE["tid"]
    tag = "kept%d" % os.getpid()
    url = q("/api/users", email=tag)
    for k in redis("--scan", "--pattern", "shomei:count:users:*").split():
        redis("DEL", k)
    st, doc = s.fresh(url)
    t.ok(st == 200 and doc["total"] == 0 and not doc["total_estimated"], "%s: none yet" % url, doc)
    keys = [k for k in redis("--scan", "--pattern", "shomei:count:users:*").split() if not k.endswith(":last")]
    t.ok(len(keys) == 1 and "/" in redis("GET", keys[0]), "kept with its generation", keys)
    if len(keys) != 1:
        return
    k = keys[0]
    gen = redis("GET", k).strip().rsplit("/", 1)[0]
    redis("SET", k, gen + "/4242", "EX", "600")
    st, doc = s.fresh(url)
    t.ok(st == 200 and doc["total"] == 4242, "while nothing changes, even the first page reuses it (an exact"
         " total was counted on every first page before)", doc and doc.get("total"))
    uid = psql("INSERT INTO users (tenant_id, family_name, given_name, family_name_en, given_name_en, email)"
               " VALUES (%d, '記', '録', 'Kiroku', 'Kept', '%s@example.jp') RETURNING id" % (tid, tag)).split()[0]
    st, doc = s.fresh(url)
    t.ok(st == 200 and doc["total"] == 1 and [i["id"] for i in doc["items"]] == [int(uid)],
         "a user added: counted at once", (doc and doc.get("total"), doc and doc.get("items")))
    redis("SET", k, redis("GET", k).strip().rsplit("/", 1)[0] + "/4242", "EX", "600")
    other = psql("SELECT id FROM users u WHERE tenant_id = %d AND id <> %s AND purged_at IS NULL"
                 " AND deleted_at IS NULL AND NOT EXISTS (SELECT 1 FROM certificates c WHERE c.user_id = u.id"
                 " AND c.status = 'revoked') ORDER BY id LIMIT 1" % (tid, uid)).strip()
    psql("INSERT INTO devices (tenant_id, user_id, device_code, email) VALUES (%d, %s, '99', '99.%s@dev.example.jp')"
         % (tid, other, tag))
    st, doc = s.fresh(url)
    t.ok(st == 200 and doc["total"] == 2, "a device of another user with the text in its address: 2 at once",
         doc and doc.get("total"))
    # a certificate condition: its status changed moves the generation too
    curl = q("/api/users", email=tag, status="revoked")
    st, doc = s.fresh(curl)
    t.ok(st == 200 and doc["total"] == 0, "none of them with a revoked certificate", doc and doc.get("total"))
    psql("INSERT INTO certificates (tenant_id, user_id, cn, status, issued_at, claimed_at)"
         " VALUES (%d, %s, 'Kept Cert', 'issued', now(), NULL)" % (tid, uid))
    st, doc = s.fresh(curl)
    t.eq(doc and doc.get("total"), 0, "an issued certificate added: still none revoked")
    psql("UPDATE certificates SET status = 'revoked', revoked_at = now() WHERE tenant_id = %d AND cn = 'Kept Cert'"
         % tid)
    st, doc = s.fresh(curl)
    t.ok(st == 200 and doc["total"] == 1, "revoked: 1 at once", doc and doc.get("total"))
    psql("UPDATE users SET deleted_at = now() WHERE id = %s" % uid)
    st, doc = s.fresh(url)
    t.ok(st == 200 and doc["total"] == 1, "the user deleted (1次削除): out of the list at once", doc and doc.get("total"))
    rows = int(psql("SELECT count(*) FROM user_changes WHERE tenant_id = %d" % tid))
    t.ok(rows <= 70, "the tenant's rows of user_changes are folded by the readers (%d)" % rows, rows)


def test_pages_kept(t):
    """A page asked again while nothing it shows changed is sent as it was kept in Redis
    (web/pagecache.h), per tenant and language; any write to what it shows (a certificate's
    column, a device, a user, an organisation) is seen by the next request."""
    s, tid = STATE["s"], STATE["tid"]
    url = "/api/certificates?status=all&cn=sato"
    for k in redis("--scan", "--pattern", "shomei:page:*").split():
        redis("DEL", k)
    st, doc = s.get(url)
    keys = redis("--scan", "--pattern", "shomei:page:certificates:*").split()
    t.ok(st == 200 and doc["items"] and len(keys) == 1, "a page is kept (shomei:page:certificates:…)", keys)
    if len(keys) != 1:
        return
    ttl = int(redis("TTL", keys[0]))
    t.ok(0 < ttl <= 60, "for at most 60 s (%d)" % ttl, ttl)
    t.ok("sato" not in keys[0], "its key holds no search text, a digest", keys[0])
    redis("SET", keys[0], '{"kept":1}', "EX", "60")
    st, kept = s.get(url)
    t.eq(kept, {"kept": 1}, "asked again, nothing changed: the kept page is sent")
    st, fresh = s.fresh(url)
    t.ok(st == 200 and fresh.get("items") == doc["items"], "Cache-Control: no-cache: made afresh", fresh)
    other = Session(UP["login_id"], UP["password"])
    st, od = other.get(url)
    t.ok(st == 200 and od != {"kept": 1} and all(i["id"] not in {d["id"] for d in doc["items"]}
                                                  for i in od.get("items", [])),
         "another tenant's administrator asking the same URL gets their own tenant's page", od and od.get("total"))
    en = Session(LOGIN, PASSWORD)
    r = en.request("GET", url, headers={"Accept-Language": "en"})
    t.ok(r[0] == 200 and r[1] != {"kept": 1}, "the same page in another language is a page of its own",
         r[1] and r[1].get("total"))
    row = doc["items"][0]

    def changed(what, sql, check, u=url):
        redis("SET", keys[0], '{"kept":1}', "EX", "60")
        psql(sql)
        st, d = s.get(u)
        t.ok(st == 200 and d != {"kept": 1} and check(d), "%s: seen at once" % what, d if d == {"kept": 1} else "")

    changed("a certificate's e-mail changed (its status not)",
            "UPDATE certificates SET email = 'kept.%d@example.jp' WHERE id = %d" % (os.getpid(), row["id"]),
            lambda d: any(i["email"] == "kept.%d@example.jp" % os.getpid() for i in d["items"]))
    changed("its 失効予定日 set", "UPDATE certificates SET revoke_on = now() + interval '3 days',"
            " status = status WHERE id = %d" % row["id"],
            lambda d: any(i["id"] == row["id"] and i["revoke_on"] for i in d["items"]))
    changed("its device's e-mail changed", "UPDATE devices SET email = 'dev.kept.%d@example.jp' WHERE id ="
            " (SELECT device_id FROM certificates WHERE id = %d)" % (os.getpid(), row["id"]),
            lambda d: any(i["device_email"] == "dev.kept.%d@example.jp" % os.getpid() for i in d["items"]))
    changed("its user's name changed", "UPDATE users SET family_name = '記録' WHERE id ="
            " (SELECT user_id FROM certificates WHERE id = %d)" % row["id"],
            lambda d: any(i["id"] == row["id"] and (i["user_name"] or "").startswith("記録") for i in d["items"]))
    # the 利用者 list: a user's organisation renamed
    uurl = q("/api/users", email="kept.%d" % os.getpid())
    uid = psql("SELECT user_id FROM certificates WHERE id = %d" % row["id"]).strip()
    org = psql("INSERT INTO organizations (tenant_id, name) VALUES (%d, '記録部%d') RETURNING id"
               % (tid, os.getpid())).split()[0]
    psql("UPDATE users SET organization_id = %s WHERE id = %s" % (org, uid))
    st, ud = s.get(uurl)
    ukeys = redis("--scan", "--pattern", "shomei:page:users:*").split()
    t.ok(st == 200 and ud["total"] == 1 and ukeys, "利用者: the page kept too", (ud and ud.get("total"), ukeys))
    for k in ukeys:
        redis("SET", k, '{"kept":1}', "EX", "60")
    psql("UPDATE organizations SET name = '記録課%d' WHERE id = %s" % (os.getpid(), org))
    st, ud = s.get(uurl)
    t.ok(st == 200 and ud != {"kept": 1} and ud["items"][0]["organization"] == "記録課%d" % os.getpid(),
         "利用者: its organisation renamed: seen at once", ud)
    # the 操作履歴: any entry written, or rewritten in place, is seen at once
    aurl = "/api/audit?q=kept"
    st, ad = s.get(aurl)
    akeys = redis("--scan", "--pattern", "shomei:page:audit:*").split()
    t.ok(st == 200 and akeys, "操作履歴: the page kept too", akeys)
    for k in akeys:
        redis("SET", k, '{"kept":1}', "EX", "60")
    st, ad = s.get(aurl)
    t.eq(ad, {"kept": 1}, "操作履歴: asked again, no entry written: the kept page")
    psql("INSERT INTO audit (tenant_id, actor_kind, action, detail, at) VALUES (%d, 'admin', 'login', 'kept %d', now())"
         % (tid, os.getpid()))
    st, ad = s.get(aurl)
    t.ok(st == 200 and ad != {"kept": 1} and any(("kept %d" % os.getpid()) in (i.get("detail") or "")
                                                  for i in ad.get("items", [])),
         "操作履歴: an entry written: seen at once", ad if ad == {"kept": 1} else "")
    for k in redis("--scan", "--pattern", "shomei:page:audit:*").split():
        redis("SET", k, '{"kept":1}', "EX", "60")
    psql("UPDATE audit SET detail = 'kept %d (2)' WHERE tenant_id = %d AND detail = 'kept %d'"
         % (os.getpid(), tid, os.getpid()))
    st, ad = s.get(aurl)
    t.ok(st == 200 and ad != {"kept": 1} and any(("kept %d (2)" % os.getpid()) in (i.get("detail") or "")
                                                  for i in ad.get("items", [])),
         "操作履歴: an entry rewritten in place: seen at once", ad if ad == {"kept": 1} else "")
    def mark(pattern):
        """Every page kept under pattern replaced by a marker."""
        keys = redis("--scan", "--pattern", pattern).split()
        for k in keys:
            redis("SET", k, '{"kept":1}', "EX", "60")
        return keys

    def kept_list(name, pattern, url, row_sql, writes):
        """A list kept by its own generation: row_sql writes a row that the first page then shows
        first (its id returned); asked again it is the kept page; each (what, sql, check) of
        writes is seen at once."""
        rid = int(psql(row_sql).split()[0])
        st, d = s.get(url)
        keys = redis("--scan", "--pattern", pattern).split()
        t.ok(st == 200 and d["items"] and d["items"][0]["id"] == rid and keys, "%s: the page kept too" % name, keys)
        mark(pattern)
        st, d = s.get(url)
        t.eq(d, {"kept": 1}, "%s: asked again, nothing written: the kept page" % name)
        for what, sql, check in writes:
            mark(pattern)
            psql(sql % rid)
            st, d = s.get(url)
            t.ok(st == 200 and d != {"kept": 1} and check(d, rid), "%s: %s: seen at once" % (name, what),
                 d if d == {"kept": 1} else "")

    # the CSV 処理状況 (0031): a job written, a running job's progress, its end, its deletion
    kept_list("CSV 処理状況", "shomei:page:jobs:*", "/api/jobs",
              "INSERT INTO jobs (tenant_id, kind, status, filename, total, processed) VALUES (%d, 'user_import',"
              " 'running', 'kept-%d.csv', 10, 3) RETURNING id" % (tid, os.getpid()),
              [("a running job's progress", "UPDATE jobs SET processed = 7 WHERE id = %d",
                lambda d, i: d["items"][0]["processed"] == 7),
               ("the job ended", "UPDATE jobs SET status = 'done', processed = 10, finished_at = now() WHERE id = %d",
                lambda d, i: d["items"][0]["status"] == "done"),
               ("a job deleted", "DELETE FROM jobs WHERE id = %d",
                lambda d, i: all(j["id"] != i for j in d["items"]))])
    # 送信メール (0034): a notice queued, the mail worker's attempt on it
    kept_list("送信メール", "shomei:page:outbox:*", "/api/notifications",
              "INSERT INTO notifications (tenant_id, to_addr, kind, next_attempt_at) VALUES (%d, 'kept.%d@example.jp',"
              " 'user_issued', now() + interval '100 years') RETURNING id" % (tid, os.getpid()),
              [("the mail worker's attempt (failed, its answer)",
                "UPDATE notifications SET status = 'failed', attempts = 3, last_error = '550 kept' WHERE id = %d",
                lambda d, i: d["items"][0]["status"] == "failed" and d["items"][0]["last_error"] == "550 kept")])
    psql("DELETE FROM notifications WHERE to_addr = 'kept.%d@example.jp'" % os.getpid())
    # one request makes a page: the others asking for it meanwhile wait for it
    for k in redis("--scan", "--pattern", "shomei:page:certificates:*").split():
        redis("DEL", k)
    s.get(url)
    keys = [k for k in redis("--scan", "--pattern", "shomei:page:certificates:*").split() if not k.endswith(":making")]
    t.ok(len(keys) == 1, "the page kept again", keys)
    if len(keys) != 1:
        return
    k = keys[0]
    t.eq(redis("EXISTS", k + ":making").strip(), "0", "its maker's claim is gone once it is kept")
    redis("DEL", k)
    redis("SET", k + ":making", "1", "PX", "5000")
    threading.Timer(0.3, lambda: redis("SET", k, '{"made":1}', "EX", "60")).start()
    t0 = time.monotonic()
    st, d = s.get(url)
    t.ok(d == {"made": 1} and time.monotonic() - t0 < 1.8,
         "while another request makes it, a request waits for that page (%.2f s)" % (time.monotonic() - t0), d)
    redis("DEL", k)
    redis("SET", k + ":making", "1", "PX", "5000")
    t0 = time.monotonic()
    st, d = s.get(url)
    t.ok(st == 200 and d.get("items") and time.monotonic() - t0 >= 1.9,
         "a maker that never keeps it: after 2 s the request makes it itself (%.2f s)" % (time.monotonic() - t0),
         d and d.get("total"))
    t.eq(redis("EXISTS", k + ":making").strip(), "0", "and ends the claim when it keeps it")


def redis_set_bytes(key, value):
    """SET key to value (bytes, which redis-cli's arguments cannot carry) for 60 s."""
    subprocess.run(["redis-cli", "-s", os.path.join(VAR, "run", "redis", "redis.sock"), "-x", "SET", key],
                   input=value, capture_output=True, timeout=30, check=True)
    redis("EXPIRE", key, "60")


def test_pages_gzip(t):
    """A browser's request (Accept-Encoding: gzip) is answered gzip (Content-Encoding: gzip) and
    the page kept gzip; a client that does not take gzip is sent text, a page kept gzip inflated
    for it (web/pagecache.h). Python's gzip, not shomei's zlib, reads what was sent."""
    s = STATE["s"]
    url = "/api/users?family_name=%s" % urllib.parse.quote("さとう")
    browser = {"Accept-Encoding": "gzip, deflate, br"}
    pattern = "shomei:page:users:*"
    for k in redis("--scan", "--pattern", pattern).split():
        redis("DEL", k)
    st, plain = s.fresh(url)
    t.ok(st == 200 and plain["items"], "the page made for a client without Accept-Encoding: text", plain.get("total"))
    t.ok(s.headers.get("Content-Encoding") is None and "Accept-Encoding" in (s.headers.get("Vary") or ""),
         "no Content-Encoding, Vary: Accept-Encoding", dict(s.headers))
    for k in redis("--scan", "--pattern", pattern).split():
        redis("DEL", k)
    st, _ = s.request("GET", url, headers=browser)
    t.eq((st, s.headers.get("Content-Encoding"), "Accept-Encoding" in (s.headers.get("Vary") or "")),
         (200, "gzip", True), "a browser's request: Content-Encoding: gzip, Vary: Accept-Encoding")
    try:
        made = json.loads(gzip.decompress(s.raw))
    except (OSError, ValueError) as e:
        made = str(e)
    t.ok(isinstance(made, dict) and made.get("items") == plain["items"] and made.get("total") == plain["total"],
         "the gzip answer inflates (Python's gzip) to the page sent as text (%d bytes for %d)"
         % (len(s.raw), len(json.dumps(plain, ensure_ascii=False).encode())), made if isinstance(made, str) else "")
    keys = redis("--scan", "--pattern", pattern).split()
    t.ok(len(keys) == 1 and int(redis("STRLEN", keys[0])) == len(s.raw), "kept as it was sent: gzip", keys)
    if len(keys) != 1:
        return
    st, again = s.request("GET", url, headers=browser)
    t.ok(st == 200 and s.headers.get("Content-Encoding") == "gzip" and json.loads(gzip.decompress(s.raw)) == made,
         "asked again: the kept gzip page sent as it is", st)
    st, text = s.get(url)
    t.ok(st == 200 and s.headers.get("Content-Encoding") is None and text == made,
         "a client without gzip asking the page kept gzip: the same page as text", st)
    mark = gzip.compress(json.dumps({"kept": "gzip"}).encode())
    redis_set_bytes(keys[0], mark)
    st, text = s.get(url)
    t.eq((st, text, s.headers.get("Content-Encoding")), (200, {"kept": "gzip"}, None),
         "the kept page is what a client without gzip is sent, inflated")
    st, _ = s.request("GET", url, headers=browser)
    t.eq((st, s.raw, s.headers.get("Content-Encoding")), (200, mark, "gzip"),
         "and what a browser is sent, byte for byte")
    redis_set_bytes(keys[0], mark[:10] + b"\x00" * 20)
    st, text = s.get(url)
    t.ok(st == 200 and s.headers.get("Content-Encoding") is None and text.get("items") == plain["items"],
         "a kept gzip page that does not inflate: the page is made afresh, not sent broken", text)
    for k in redis("--scan", "--pattern", pattern).split():
        redis("DEL", k)
    st, _ = s.request("GET", url, headers={"Accept-Encoding": "gzip;q=0, deflate"})
    t.ok(st == 200 and s.headers.get("Content-Encoding") is None and json.loads(s.raw)["items"] == plain["items"],
         "Accept-Encoding: gzip;q=0 refuses gzip: text", dict(s.headers))
    keys = redis("--scan", "--pattern", pattern).split()
    st, _ = s.request("GET", url, headers=browser)
    t.ok(keys and int(redis("STRLEN", keys[0])) == len(s.raw) and s.headers.get("Content-Encoding") is None
         and json.loads(s.raw)["items"] == plain["items"],
         "a page kept as text is sent as text to a browser too (nothing is compressed on a hit)", keys)


def test_one_counts(t):
    """One request counts a filter at a time (docs/DECISIONS.md, "One request counts"): while
    another counts it, a request shows the last estimate, or PostgreSQL's estimate when there is
    none, marked 約 and not stored; a last total that was exact is counted again."""
    s = STATE["s"]
    url = "/api/users?status=revoked"
    for k in redis("--scan", "--pattern", "shomei:count:users:*").split():  # counted afresh below
        redis("DEL", k)
    before = set()
    st, doc = s.fresh(url)
    t.ok(st == 200, "%s: %s" % (url, st), doc)
    total, est = doc["total"], doc["total_estimated"]
    new = set(redis("--scan", "--pattern", "shomei:count:users:*").split()) - before
    fresh = [k for k in new if not k.endswith((":last", ":counting"))]
    t.ok(len(fresh) == 1 and fresh[0] + ":last" in new, "the count is stored, and as the last one", sorted(new))
    if len(fresh) != 1:
        return
    k = fresh[0]
    t.eq(redis("EXISTS", k + ":counting").strip(), "0", "the counter's claim is gone once it has stored")
    # another request is counting: the fresh total has expired, the last one was an estimate
    redis("SET", k + ":counting", "1", "EX", "30")
    redis("DEL", k)
    redis("SET", k + ":last", "~123456", "EX", "600")
    st, doc = s.fresh(url)
    t.ok(st == 200 and doc["total"] == 123456 and doc["total_estimated"],
         "while another counts: the last estimate, marked 約", (st, doc and doc.get("total")))
    t.eq(redis("EXISTS", k).strip(), "0", "and nothing is stored by the request that did not count")
    # the last total was exact: counted again, exact
    redis("SET", k + ":last", str(total), "EX", "600")
    st, doc = s.fresh(url)
    t.ok(st == 200 and doc["total"] == total and doc["total_estimated"] == est,
         "a last total that was exact is counted again: %d" % total, (st, doc and doc.get("total")))
    # nothing stored at all (a cold list) while another counts: PostgreSQL's estimate, marked 約
    redis("SET", k + ":counting", "1", "EX", "30")
    redis("DEL", k, k + ":last")
    st, doc = s.fresh(url)
    t.ok(st == 200 and doc["total_estimated"] and doc["total"] >= 0 and doc["items"] is not None,
         "cold, while another counts: PostgreSQL's estimate (%s), marked 約" % (doc and doc.get("total")),
         (st, doc and doc.get("total_estimated")))
    t.eq(redis("EXISTS", k).strip(), "0", "not stored")
    redis("DEL", k + ":counting")
    st, doc = s.fresh(url)
    t.ok(st == 200 and doc["total"] == total and doc["total_estimated"] == est,
         "the claim gone (or expired), the next request counts: %d again" % total, (st, doc and doc.get("total")))
    t.eq(redis("EXISTS", k).strip(), "1", "and stores it")


def test_kept_totals(t):
    """Without a CN or 発行日, the total is the count the triggers keep (migration 0026): exact
    however many rows were added, revoked and deleted, and marked 約 past 10,000 as before."""
    s, tid = STATE["s"], STATE["tid"]
    want = {"all": int(psql("SELECT count(*) FROM certificates WHERE tenant_id = %d" % tid)),
            "valid": int(psql("SELECT count(*) FROM certificates WHERE tenant_id = %d AND status IN"
                              " ('issuing', 'issued', 'downloaded', 'revoke_scheduled')" % tid))}
    for status in ("all", "valid"):
        for extra in ({}, {"sort": "-issued_at"}):
            st, doc = s.get(q("/api/certificates", status=status, **extra))
            t.ok(st == 200 and doc["total"] == want[status] and doc["total_estimated"] == (want[status] > 10000),
                 "status=%s %s: the total is every such certificate (%d)" % (status, extra, want[status]),
                 (st, doc and doc.get("total"), doc and doc.get("total_estimated")))
    by_status = psql("SELECT s.status, coalesce(s.n, 0), coalesce(c.n, 0) FROM"
                     " (SELECT status, sum(n) AS n FROM certificate_counts WHERE tenant_id = %d GROUP BY status) s"
                     " FULL JOIN (SELECT status, count(*) AS n FROM certificates WHERE tenant_id = %d"
                     " GROUP BY status) c USING (status)" % (tid, tid)).split()
    t.ok(by_status and all(r.split("|")[1] == r.split("|")[2] for r in by_status),
         "the kept count of each status is the table's", by_status)
    uid, did = psql("SELECT user_id, device_id FROM certificates WHERE tenant_id = %d LIMIT 1" % tid).split("|")
    psql("INSERT INTO certificates (tenant_id, user_id, device_id, cn, status, issued_at, claimed_at)"
         " SELECT %d, %s, %s, 'Kept ' || g, 'issued', now(), NULL FROM generate_series(1, 3) g;"
         "DELETE FROM certificates WHERE tenant_id = %d AND cn = 'Kept 1';"
         "UPDATE certificates SET status = 'revoked', revoked_at = now() WHERE tenant_id = %d AND cn = 'Kept 2'"
         % (tid, uid, did, tid, tid))
    st, doc = s.get("/api/certificates?status=all")
    st2, doc2 = s.get("/api/certificates?status=valid")
    t.ok(st == 200 and st2 == 200 and doc["total"] == want["all"] + 2 and doc2["total"] == want["valid"] + 1,
         "three added, one deleted, one revoked: all +2, valid +1 at once",
         (doc and doc.get("total"), doc2 and doc2.get("total"), want))


def test_kana(t):
    s = STATE["s"]
    found = {}
    for text in ("すずき", "スズキ", "ｽｽﾞｷ", "鈴木", "suzuki"):
        st, doc = s.get(q("/api/users", family_name=text))
        found[text] = (st, doc["total"], sorted(i["id"] for i in doc["items"])) if st == 200 else (st,)
    t.ok(found["すずき"][1] > 0, "ひらがな すずき finds users", found["すずき"][:2])
    t.ok(found["すずき"] == found["スズキ"] == found["ｽｽﾞｷ"] == found["鈴木"] == found["suzuki"],
         "ひらがな, カタカナ, half-width ｶﾀｶﾅ, kanji and English find the same users",
         {k: v[:2] for k, v in found.items()})
    st, doc = s.get(q("/api/users", given_name="ﾀﾞｲｽｹ"))
    t.ok(st == 200 and doc["total"] > 0 and all(i["given_name_kana"] == "ダイスケ" for i in doc["items"]),
         "ﾀﾞｲｽｹ (half-width, voiced mark apart) finds ダイスケ", doc and doc.get("total"))


def test_errors(t):
    s = STATE["s"]
    for url, field in (("/api/certificates?after=%5B1%2C2", "after"), ("/api/users?before=x", "before"),
                       ("/api/audit?after=%5B%22x%22%2C1%5D", "after"),
                       ("/api/jobs?after=%5Bnull%2C1%5D&last=1", "after"),
                       ("/api/notifications?before=x", "before"),
                       ("/api/notifications?status=bogus&after=%5Bnull%2C5%5D", "status"),
                       ("/api/certificates?last=2", "last")):
        st, doc = s.get(url)
        fields = [f["field"] for f in ((doc or {}).get("error") or {}).get("fields", [])]
        t.ok(st == 422 and field in fields, "%s: 422 naming %s" % (url, field), (st, doc))


def test_fixed_shape(t):
    """The unfiltered 操作履歴 pages are read by statements of a fixed shape, each with one generic
    plan; a filter, a ?page=N jump or a short last page by the general ones. For the same cursor
    both give the same rows, forwards and backwards, across a run of entries with one time stamp
    (the order is (time, id)); the times shown are PostgreSQL's own, in JST. CSV 処理状況: a page
    by cursor and by ?page=N agree, and the list counts a job's errors as the job has them."""
    s, tid = STATE["s"], STATE["tid"]
    psql("INSERT INTO audit (tenant_id, at, actor_kind, action, detail)"
         " SELECT %d, '2021-03-04 05:06:07.999999+09', 'system', 'login', 'tie ' || g"
         " FROM generate_series(1, 250) g;"
         "INSERT INTO audit (tenant_id, at, actor_kind, action, detail)"
         " VALUES (%d, '1969-12-31 23:59:59.5+00', 'system', 'login', 'before 1970')" % (tid, tid))
    ref = [r.split("|") for r in psql(
        "SELECT id, (extract(epoch FROM at) * 1000000)::bigint,"
        " to_char(at AT TIME ZONE 'Asia/Tokyo', 'YYYY/MM/DD HH24:MI:SS')"
        " FROM audit WHERE tenant_id = %d ORDER BY at DESC, id DESC" % tid).splitlines()]
    ids = [int(r[0]) for r in ref]
    at = {int(r[0]): r[2] for r in ref}
    key = psql("SELECT (extract(epoch FROM at) * 1000000)::bigint FROM audit"
               " WHERE tenant_id = %d AND detail = 'tie 1'" % tid)
    tie = [i for i, r in enumerate(ref) if r[1] == key]
    t.ok(len(tie) == 250, "250 entries of one time stamp (%d)" % len(tie))
    general = {"from": "1970/01/01"}  # every entry, through the statements with conditions
    for pos in (tie[0], tie[0] + 1, tie[99], tie[150], tie[-1], len(ref) - 1):
        cur = json.dumps([ref[pos][1], ids[pos]])
        for d, want in (("after", ids[pos + 1:pos + 101]), ("before", ids[max(0, pos - 100):pos])):
            st1, fixed = s.get(q("/api/audit", **{d: cur}))
            st2, other = s.get(q("/api/audit", **dict(general, **{d: cur})))
            got1 = [i["id"] for i in (fixed or {}).get("items", [])]
            got2 = [i["id"] for i in (other or {}).get("items", [])]
            t.ok(st1 == st2 == 200 and got1 == got2 == want,
                 "操作履歴 %s row %d: the fixed and the general statement give the same %d rows"
                 % (d, pos, len(want)), (st1, st2, got1[:3], got2[:3], want[:3]))
            t.ok(fixed and other and fixed["next"] == other["next"] and fixed["prev"] == other["prev"],
                 "操作履歴 %s row %d: and the same cursors" % (d, pos),
                 fixed and other and (fixed["next"], other["next"], fixed["prev"], other["prev"]))
    for url, want in (("/api/audit", ids[:100]), (q("/api/audit", last=1), ids[-100:]),
                      (q("/api/audit", after=json.dumps([ref[tie[120]][1], ids[tie[120]]])),
                       ids[tie[120] + 1:tie[120] + 101])):
        st, doc = s.get(url)
        items = (doc or {}).get("items", [])
        t.ok(st == 200 and [i["id"] for i in items] == want and
             all(i["at"] == at[i["id"]] for i in items),
             "%s: the rows, their times as PostgreSQL writes them in JST" % url,
             [(i["id"], i["at"], at.get(i["id"])) for i in items if i["at"] != at.get(i["id"])][:3])
    st, doc = s.get(q("/api/audit", last=1))
    t.ok(st == 200 and doc["items"][-1]["at"] == "1970/01/01 08:59:59",
         "an entry half a second before 1970 shows its whole second (cut, not rounded)",
         doc and doc["items"][-1])
    jobs = [int(x) for x in psql("SELECT id FROM jobs WHERE tenant_id = %d ORDER BY id DESC" % tid).split()]
    psql("UPDATE jobs SET errors = '[{\"line\": 2}, {\"line\": 5}, {\"line\": 9}]' WHERE id = %d"
         % jobs[150])
    st, first = s.get("/api/jobs")
    st1, fixed = s.get(q("/api/jobs", after=first["next"], page=2))
    st2, jump = s.get(q("/api/jobs", page=2))
    got1 = [i["id"] for i in (fixed or {}).get("items", [])]
    got2 = [i["id"] for i in (jump or {}).get("items", [])]
    t.ok(st1 == st2 == 200 and got1 == got2 == jobs[100:200],
         "CSV 処理状況 page 2 by cursor and by ?page=2 (OFFSET): the same rows", (got1[:3], got2[:3]))
    st, back = s.get(q("/api/jobs", before=fixed["prev"]))
    t.ok(st == 200 and [i["id"] for i in back["items"]] == jobs[:100] and back["prev"] is None,
         "and 前へ from it gives the first page again", back and [i["id"] for i in back["items"]][:3])
    counts = {i["id"]: i["error_count"] for i in fixed["items"]}
    st, one = s.get("/api/jobs/%d" % jobs[150])
    t.ok(counts.get(jobs[150]) == 3 and st == 200 and one["error_count"] == 3 and len(one["errors"]) == 3
         and all(v == 0 for k, v in counts.items() if k != jobs[150]),
         "a job's error count in the list (3), as the job itself has it", (counts.get(jobs[150]), one))


def cleanup(tid):
    """The seeded certificates go again: they have no CA, and other tests wait for every valid
    certificate's OCSP response. The tenant's users, devices and jobs stay (deleting a job checks
    certificates' foreign key to it, unindexed before migration 0022): nothing else lists them."""
    psql(CLEAR_SEEDED % {"t": tid})


def main():
    t = TAP()
    tid = seed()
    try:
        # every login is a history entry: the sessions come first, the reference after
        sessions = [Session(LOGIN, PASSWORD) for _ in range(3)]
        STATE.update(tid=tid, s=sessions[0], sessions=sessions, d=Data(tid), checks=[])
        for fn in (test_errors, test_kana, test_certificates, test_users, test_audit_jobs, test_outbox, run_checks,
                   test_count_cache, test_users_count_kept, test_pages_kept, test_pages_gzip, test_one_counts, test_kept_totals,
                   test_concurrent, test_fixed_shape):
            t.run(fn)
    finally:
        cleanup(tid)
    t.done()


if __name__ == "__main__":
    sys.stdout.reconfigure(line_buffering=True)
    main()
