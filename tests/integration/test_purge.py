#!/usr/bin/env python3
"""CSV一括利用者マスター削除 (NRA 7-3): POST /api/users/purge with one 代表メールアドレス a line, in
UTF-8 (BOM) or CP932; the whole file checked first (an unknown address, a user already purged, a
duplicate, a bad line: every error by line, nothing changes); then a user_purge job that revokes
each user's valid certificates through shomei-revoke's internal API and purges the user, with or
without a 1次削除 before, the history as 2次削除 writes it; and a job of 300 users whose
shomei-users is killed with -9 in the middle finishes after the restart, nothing done twice."""
import os
import random
import signal
import subprocess
import time

from cryptography import x509

from shomei_test import TAP, VAR, Client, ctl, live_pid, psql, read_pid, wait_until, wait_ocsp_backlog

TAG = "".join(random.choice("abcdefghijkmnpqrstuvwxyz") for _ in range(6))
PW = "Purge2test1"


def tenant(slug, quota):
    ctl("tenant", "create", "--slug", slug, "--name", "一括削除" + slug, "--name-en", "Purge " + slug,
        "--quota", str(quota), "--features", "admin_may_issue")
    psql("UPDATE tenants SET key_type = 'p256' WHERE slug = :'p1'", slug)
    ctl("admin", "create", "--tenant", slug, "--login-id", slug + "-admin", "--password", PW)
    c = Client()
    assert c.login(slug + "-admin", PW).status == 200
    return c, int(psql("SELECT id FROM tenants WHERE slug = :'p1'", slug))


def multipart(c, path, data, filename, lang=None):
    b = "----purge%d" % random.randrange(10 ** 9)
    body = ("--%s\r\nContent-Disposition: form-data; name=\"file\"; filename=\"%s\"\r\n"
            "Content-Type: text/csv\r\n\r\n" % (b, filename)).encode() + data + ("\r\n--%s--\r\n" % b).encode()
    h = {"Content-Type": "multipart/form-data; boundary=" + b}
    if lang:
        h["Accept-Language"] = lang
    return c.post(path, raw=body, headers=h)


def register(c, tid, emails):
    """The users (one WindowsPC each) through CSV一括登録; their certificates issued."""
    rows = ["%s,削除,花子,サクジョ,ハナコ,Sakujo,Hanako,%s,01" % (e, e) for e in emails]
    r = multipart(c, "/api/users/import", ("\r\n".join(rows) + "\r\n").encode(), "users.csv")
    assert r.status == 202, r.body
    assert wait_job(c, r.json()["job_id"], 240).get("status") == "done"
    assert wait_until(lambda: psql("SELECT count(*) FROM certificates WHERE tenant_id = :'p1' AND status = 'issuing'",
                                   tid) == "0", 300), "issuing"
    return {e: int(psql("SELECT id FROM users WHERE tenant_id = :'p1' AND email = :'p2'", tid, e)) for e in emails}


def wait_job(c, jid, seconds=120):
    doc = {}
    end = time.time() + seconds
    while time.time() < end:
        doc = c.get("/api/jobs/%d" % jid).json() or {}
        if doc.get("status") in ("done", "failed"):
            return doc
        time.sleep(0.3)
    return doc


def errors(r):
    return ((r.json() or {}).get("error") or {}).get("fields") or []


def state(tid):
    """What a refused file must not change: users purged, certificates revoked, jobs, history."""
    return psql("SELECT (SELECT count(*) FROM users WHERE tenant_id = :p1 AND purged_at IS NOT NULL) || '|' ||"
                " (SELECT count(*) FROM certificates WHERE tenant_id = :p1 AND status = 'revoked') || '|' ||"
                " (SELECT count(*) FROM jobs WHERE tenant_id = :p1) || '|' ||"
                " (SELECT count(*) FROM audit WHERE tenant_id = :p1)", tid)


def crl_lists(slug, cids):
    r = Client().get("/crl/%s.crl" % slug)
    if r.status != 200:
        return False
    crl = x509.load_der_x509_crl(r.body)
    for cid in cids:
        serial = int(psql("SELECT serial FROM certificates WHERE id = :'p1'", cid), 16)
        if crl.get_revoked_certificate_by_serial_number(serial) is None:
            return False
    return True


def mail(n):
    return "p%s-%03d@example.com" % (TAG, n)


STATE = {}


def test_purge(t):
    slug = "prg-" + TAG
    c, tid = tenant(slug, 40)
    users = register(c, tid, [mail(i) for i in range(8)])
    STATE.update(c=c, tid=tid, users=users, slug=slug)
    wait_ocsp_backlog()
    before = (c.get("/api/tenant").json() or {}).get("available")
    # UTF-8 with a BOM and quotes, a header line, CRLF; user 1 deleted in the first step before
    t.eq(c.post("/api/users/%d/delete" % users[mail(1)]).status, 200, "user 1: 1次削除 first")
    data = "\ufeff代表メールアドレス\r\n\"%s\"\r\n%s\r\n" % (mail(0), mail(1).upper())
    r = multipart(c, "/api/users/purge", data.encode("utf-8"), "削除.csv")
    t.ok(r.status == 202 and (r.json() or {}).get("users") == 2 and (r.json() or {}).get("encoding") == "UTF-8 (BOM)",
         "UTF-8 with BOM, a header, quotes, another case: 202, 2 users", r.body)
    j = wait_job(c, (r.json() or {}).get("job_id", 0))
    t.ok(j.get("status") == "done" and j.get("kind") == "user_purge" and j.get("processed") == 2,
         "the user_purge job is done", j)
    for n in (0, 1):
        uid = users[mail(n)]
        got = psql("SELECT (purged_at IS NOT NULL) || '|' || email || '|' || family_name FROM users WHERE id = :'p1'", uid)
        t.eq(got, "true||", "user %d purged (no e-mail, no name)" % n)
        t.eq(psql("SELECT status || '|' || revocation_reason || '|' || (p12 IS NULL) FROM certificates WHERE user_id = :'p1'",
                  uid), "revoked|5|true", "user %d: certificate revoked (cessationOfOperation), no PKCS#12" % n)
    t.eq((c.get("/api/tenant").json() or {}).get("available"), before + 2, "two licences freed")
    hist = psql("SELECT string_agg(detail, ' / ' ORDER BY id) FROM audit WHERE tenant_id = :'p1'"
                " AND action IN ('certificate_revoke', 'user_delete') AND id > (SELECT max(id) FROM audit"
                " WHERE tenant_id = :'p1' AND detail LIKE '1次削除%')", tid)
    cn = "Sakujo Hanako"
    want = ("CSV一括利用者マスター削除 受付 削除.csv (利用者 2) / %s: 失効中 -> 失効完了 / %s: 失効中 -> 失効完了 / "
            "2次削除 削除 花子 (%s) / 2次削除 削除 花子 (%s) / 完了 削除.csv (2 行, 利用者 2)" % (cn, cn, mail(0), mail(1)))
    t.eq(hist, want, "the history: accepted, each revocation, each 2次削除 as DELETE writes it, done")
    cids = [int(psql("SELECT id FROM certificates WHERE user_id = :'p1'", users[mail(n)])) for n in (0, 1)]
    t.ok(wait_until(lambda: crl_lists(slug, cids), 10), "the CRL lists both serials within 10 s")
    # CP932 (Notepad on Japanese Windows): the header in Shift_JIS, LF
    data = "代表メールアドレス\n%s\n" % mail(2)
    r = multipart(c, "/api/users/purge", data.encode("cp932"), "sjis.csv")
    t.ok(r.status == 202 and (r.json() or {}).get("encoding") == "CP932", "CP932: 202", r.body)
    t.eq(wait_job(c, (r.json() or {}).get("job_id", 0)).get("status"), "done", "its job is done")
    t.eq(psql("SELECT (purged_at IS NOT NULL) FROM users WHERE id = :'p1'", users[mail(2)]), "t", "user 2 purged")


def test_errors(t):
    c, tid, users = STATE["c"], STATE["tid"], STATE["users"]
    before = state(tid)
    lines = [mail(3), "nobody-%s@example.com" % TAG, mail(0), mail(3).upper(), "%s,extra" % mail(4), "not an address",
             mail(5)]
    r = multipart(c, "/api/users/purge", ("\r\n".join(lines) + "\r\n").encode(), "bad.csv")
    errs = errors(r)
    t.eq(r.status, 422, "a file with errors: 422", r.body)
    t.eq([e.get("line") for e in errs], [2, 3, 4, 5, 6], "exactly lines 2-6 are reported, in order", errs)
    msgs = {e.get("line"): e.get("message", "") for e in errs}
    t.ok("いません" in msgs.get(2, ""), "line 2: no such user", msgs.get(2))
    t.ok("マスター削除済み" in msgs.get(3, ""), "line 3: already purged", msgs.get(3))
    t.ok("1 行目" in msgs.get(4, ""), "line 4: the same user as line 1", msgs.get(4))
    t.ok("1 項目" in msgs.get(5, "") and "1 項目" in msgs.get(6, ""), "lines 5, 6: not one address", msgs)
    t.eq(state(tid), before, "nothing changed: no user purged, no certificate revoked, no job, no history")
    t.eq(psql("SELECT count(*) FROM users WHERE id = ANY (:'p1') AND purged_at IS NULL",
              "{%d,%d}" % (users[mail(3)], users[mail(5)])), "2", "the good lines' users are still there")
    r = multipart(c, "/api/users/purge", ("nobody-%s@example.com\r\n" % TAG).encode(), "en.csv", lang="en")
    t.ok(r.status == 422 and "No user" in (errors(r) or [{}])[0].get("message", ""), "English with Accept-Language: en",
         r.body)
    r = multipart(c, "/api/users/purge", b"\xff\xfe\x00a\r\n", "garbage.csv")
    t.ok(r.status == 422 and (errors(r) or [{}])[0].get("field") == "file", "garbage bytes: 422 on file", r.body)
    r = multipart(c, "/api/users/purge", b"\r\n", "empty.csv")
    t.eq(r.status, 422, "an empty file: 422", r.body)
    t.eq(state(tid), before, "still nothing changed")
    other = Client()
    other.login()
    r = multipart(other, "/api/users/purge", ("%s\r\n" % mail(3)).encode(), "other.csv")
    t.ok(r.status == 422 and "いません" in (errors(r) or [{}])[0].get("message", ""),
         "another tenant's address is unknown there", r.body)


def blocker(uid, seconds):
    """A transaction of our own holding the user's row, so the job waits on it (a psql in the background)."""
    pgbin = sorted(os.listdir("/usr/lib/postgresql"))[-1]
    cmd = ["/usr/lib/postgresql/%s/bin/psql" % pgbin, "-h", os.path.join(VAR, "run", "pg"), "-U", "shomei",
           "-d", "shomei", "-AtqX", "-v", "ON_ERROR_STOP=1"]
    sql = "BEGIN;\nSELECT id FROM users WHERE id = %d FOR UPDATE;\nSELECT pg_sleep(%d);\nCOMMIT;\n" % (uid, seconds)
    return subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            text=True), sql


def test_kill(t):
    slug = "prgk-" + TAG
    c, tid = tenant(slug, 310)
    emails = ["k%s-%03d@example.com" % (TAG, i) for i in range(300)]
    users = register(c, tid, emails)
    # the job waits on the 101st user's row (its third chunk), held by a transaction of ours
    p, sql = blocker(users[emails[100]], 20)
    p.stdin.write(sql)
    p.stdin.flush()
    t.ok(wait_until(lambda: psql("SELECT count(*) FROM pg_locks l JOIN pg_class r ON r.oid = l.relation"
                                 " WHERE r.relname = 'users' AND l.granted AND l.pid <> pg_backend_pid()") != "0", 10),
         "a transaction of the test holds user 101's row")
    r = multipart(c, "/api/users/purge", ("\r\n".join(emails) + "\r\n").encode(), "300.csv")
    t.eq(r.status, 202, "300 users accepted", r.body)
    jid = (r.json() or {}).get("job_id", 0)
    t.ok(wait_until(lambda: psql("SELECT processed FROM jobs WHERE id = :'p1'", jid) == "100" and
                    psql("SELECT count(*) FROM pg_locks WHERE NOT granted") != "0", 60),
         "the job committed 100 users and waits on user 101")
    pid = live_pid("users")
    os.kill(pid, signal.SIGKILL)
    done = int(psql("SELECT processed FROM jobs WHERE id = :'p1'", jid))
    t.ok(0 < done < 300, "shomei-users killed (-9) in the middle: %d of 300 users committed" % done)
    p.stdin.close()
    p.wait(60)
    t.ok(wait_until(lambda: read_pid("users") not in (0, pid) and Client().login().status == 200, 30),
         "its supervisor started shomei-users again")
    j = wait_job(c, jid, 240)
    t.eq((j.get("status"), j.get("processed")), ("done", 300), "after the restart the job finishes", j)
    t.eq(psql("SELECT count(*) FROM users WHERE tenant_id = :'p1' AND purged_at IS NOT NULL", tid), "300",
         "the 300 users are purged")
    t.eq(psql("SELECT count(*) || '|' || count(DISTINCT revoked_at) FILTER (WHERE status = 'revoked') FROM certificates"
              " WHERE tenant_id = :'p1' AND status = 'revoked'", tid).split("|")[0], "300", "their 300 certificates revoked")
    got = psql("SELECT (SELECT count(*) FROM audit WHERE tenant_id = :p1 AND action = 'certificate_revoke'"
               " AND detail LIKE '%失効完了') || '|' || (SELECT count(*) FROM audit WHERE tenant_id = :p1"
               " AND action = 'user_delete' AND detail LIKE '2次削除%')", tid)
    t.eq(got, "300|300", "nothing done twice: 300 revocations and 300 2次削除 in the history")


def main():
    t = TAP()
    t.run(test_purge)
    t.run(test_errors)
    t.run(test_kill)
    t.done()


if __name__ == "__main__":
    main()
