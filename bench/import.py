#!/usr/bin/env python3
"""bench/import.py: the measurements behind bench/import (run that script, not this one)."""
import http.client
import json
import random
import statistics
import time

from benchlib import STAMP, args, head, load, say, table, write
from shomei_test import HOST, PORT, Client, ctl, psql, tls_context

OUT, (ROWS, ROUNDS, ONE) = args(["ROWS", "ROUNDS", "ONE"])
PW = "BenchImport123"


def tenant(kind):
    slug = "bench-%s-%s" % (kind, STAMP)
    ctl("tenant", "create", "--slug", slug, "--name", "ベンチ" + slug, "--name-en", "Bench " + slug,
        "--quota", str(ROWS), "--features", "admin_may_issue")
    psql("UPDATE tenants SET key_type = 'p256' WHERE slug = :'p1'", slug)
    ctl("admin", "create", "--tenant", slug, "--login-id", slug + "-admin", "--password", PW)
    c = Client()
    r = c.login(slug + "-admin", PW)
    assert r.status == 200, r.body
    return c, int(psql("SELECT id FROM tenants WHERE slug = :'p1'", slug))


def user(kind, i):
    email = "%s-%s-%05d@example.com" % (kind, STAMP, i)
    return ["ベンチ", "花子%d" % i, "ベンチ", "ハナコ", "Bench", "Hanako", email]


def csv(kind, bad_last=False):
    lines = []
    for i in range(ROWS):
        f, g, fk, gk, fe, ge, email = user(kind, i)
        if bad_last and i == ROWS - 1:
            email = "not-an-address"
        lines.append(",".join([email, f, g, fk, gk, fe, ge, email, "01"]))
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def upload(c, data, filename):
    b = "----shomeiBench%d" % random.randrange(10 ** 9)
    body = (("--%s\r\nContent-Disposition: form-data; name=\"file\"; filename=\"%s\"\r\n"
             "Content-Type: text/csv\r\n\r\n" % (b, filename)).encode() + data + ("\r\n--%s--\r\n" % b).encode())
    return c.post("/api/users/import", raw=body, headers={"Content-Type": "multipart/form-data; boundary=" + b})


def issued(tid):
    return int(psql("SELECT count(*) FROM certificates WHERE tenant_id = :'p1' AND status = 'issued'", tid))


def wait_issued(tid, t0, n, limit=3600):
    while issued(tid) < n:
        if time.monotonic() - t0 > limit:
            raise RuntimeError("not all certificates issued after %d s" % limit)
        time.sleep(0.5)
    return time.monotonic() - t0


def validation(c, tid):
    data = csv("val", bad_last=True)
    times = []
    for k in range(ROUNDS):
        t0 = time.monotonic()
        r = upload(c, data, "bench-invalid.csv")
        times.append(time.monotonic() - t0)
        fields = ((r.json() or {}).get("error") or {}).get("fields") or []
        assert r.status == 422 and {f.get("line") for f in fields} == {ROWS}, (r.status, r.body[:300])
    assert psql("SELECT count(*) FROM users WHERE tenant_id = :'p1'", tid) == "0", "the invalid file wrote users"
    return times


def import_run(c, tid):
    data = csv("imp")
    t0 = time.monotonic()
    r = upload(c, data, "bench-%d.csv" % ROWS)
    accepted = time.monotonic() - t0
    assert r.status == 202, (r.status, r.body[:300])
    jid = r.json()["job_id"]
    while True:
        doc = c.get("/api/jobs/%d" % jid).json() or {}
        if doc.get("status") in ("done", "failed"):
            break
        time.sleep(0.05)
    registered = time.monotonic() - t0
    assert doc["status"] == "done", doc
    say("  import: 202 after %.2f s, job done after %.2f s" % (accepted, registered))
    return accepted, registered, wait_issued(tid, t0, ROWS)


def one_by_one(c, tid):
    conn = http.client.HTTPSConnection(HOST, PORT, context=tls_context(), timeout=60)
    h = {"Host": "%s:%d" % (HOST, PORT), "Cookie": c.cookie, "X-CSRF-Token": c.csrf,
         "Content-Type": "application/json"}
    t0 = time.monotonic()
    for i in range(ONE):
        f, g, fk, gk, fe, ge, email = user("one", i)
        body = {"family_name": f, "given_name": g, "family_name_kana": fk, "given_name_kana": gk,
                "family_name_en": fe, "given_name_en": ge, "email": email, "devices": [{"device": "01"}]}
        conn.request("POST", "/api/users", body=json.dumps(body).encode(), headers=h)
        r = conn.getresponse()
        text = r.read()
        assert r.status == 202, (i, r.status, text[:300])
        if i and i % 1000 == 0:
            say("  one by one: %d users, %.1f s" % (i, time.monotonic() - t0))
    registered = time.monotonic() - t0
    conn.close()
    say("  one by one: %d users registered after %.2f s" % (ONE, registered))
    return registered, wait_issued(tid, t0, ONE)


def main():
    load0 = load()
    imp, tid_imp = tenant("imp")
    one, tid_one = tenant("one")
    say("validation of %d rows, %d rounds" % (ROWS, ROUNDS))
    val = validation(imp, tid_imp)
    say("  validation: %s s" % ", ".join("%.2f" % x for x in val))
    say("import of %d rows" % ROWS)
    accepted, imp_reg, imp_all = import_run(imp, tid_imp)
    say("one by one: %d POST /api/users" % ONE)
    one_reg, one_all = one_by_one(one, tid_one)
    load1 = load()
    v = statistics.median(val)
    ratio = (ROWS / imp_reg) / (ONE / one_reg)  # users a second, import against one by one
    rows = [
        ("validation of %s rows (upload, decode, check, 422)" % format(ROWS, ","),
         "%.2f s (median of %d: %s)" % (v, len(val), ", ".join("%.2f" % x for x in val)), "< 1 s",
         "met" if v < 1 else "not met"),
        ("import: upload → 202", "%.2f s" % accepted, "", ""),
        ("import: upload → job done (users and `issuing` certificates committed)",
         "%.2f s (%.0f users/s)" % (imp_reg, ROWS / imp_reg), "", ""),
        ("one by one: %s × POST /api/users" % format(ONE, ","), "%.2f s (%.1f users/s)" % (one_reg, ONE / one_reg),
         "", ""),
        ("registration rate, import ÷ one by one", "%.1f×" % ratio, "≥ 10×", "met" if ratio >= 10 else "not met"),
        ("import: upload → every certificate `issued`", "%.1f s" % imp_all, "", ""),
        ("one by one: first request → every one of its %s certificates `issued`" % format(ONE, ","),
         "%.1f s" % one_all, "", ""),
    ]
    text = "\n".join(head("import", load0, load1) + [
        "%s users of one device (WindowsPC) each, P-256 tenant CAs. Validation: the file with its last line's"
        " e-mail address invalid, answered 422 naming line %s and nothing written. Import: the good file,"
        " upload to the job `done` (GET /api/jobs/{id}), then to every certificate `issued`. One by one:"
        " POST /api/users for each user, one after another on one keep-alive TLS connection (the portal's"
        " path), then to every certificate `issued`. Both tenants' certificates are issued by the same"
        " shomei-issue workers.%s" % (format(ROWS, ","), format(ROWS, ","),
                                       "" if ONE == ROWS else " One by one registered the first %s of the %s"
                                       " users only (the machine's load made 10,000 take half an hour); the ratio"
                                       " is of the rates." % (format(ONE, ","), format(ROWS, ","))),
        "",
    ] + table(rows) + [""])
    print(text)
    write(OUT, text, keep=True)


if __name__ == "__main__":
    main()
