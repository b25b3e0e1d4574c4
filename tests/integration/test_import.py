#!/usr/bin/env python3
"""CSV一括登録 (NRA 4-2): POST /api/users/import in each of the manual's four layouts, in the
encodings Japanese offices write (UTF-8, UTF-8 with BOM and quotes, CP932 with CRLF); a file
with errors registers nothing and names every bad line; a good file becomes a job that commits
every user exactly once, also when shomei-users is killed with -9 in the middle."""
import os
import random
import signal
import time

import subprocess

from shomei_test import VAR, TAP, Client, ctl, hold, live_pid, mail_messages, psql, read_pid, release, wait_until

TAG = "".join(random.choice("abcdefghijkmnpqrstuvwxyz") for _ in range(6))
PW = "Import2test1"

LAYOUTS = {  # features: (columns, the index of the device code)
    "": (13, 8),
    "org_units": (16, 11),
    "install_restriction": (18, 8),
    "org_units,install_restriction": (21, 11),
}


def tenant(slug, features, quota, key_type="p256"):
    feats = "admin_may_issue" + ("," + features if features else "")
    ctl("tenant", "create", "--slug", slug, "--name", "一括" + slug, "--name-en", "Import " + slug,
        "--quota", str(quota), "--features", feats)
    psql("UPDATE tenants SET key_type = :'p1' WHERE slug = :'p2'", key_type, slug)
    ctl("admin", "create", "--tenant", slug, "--login-id", slug + "-admin", "--password", PW)
    c = Client()
    r = c.login(slug + "-admin", PW)
    assert r.status == 200, r.body
    return c, int(psql("SELECT id FROM tenants WHERE slug = :'p1'", slug))


def upload(c, data, filename="users.csv", admin_download=None, lang=None):
    b = "----shomeiTest%d" % random.randrange(10 ** 9)
    parts = []
    if admin_download is not None:
        parts.append(("--%s\r\nContent-Disposition: form-data; name=\"admin_download\"\r\n\r\n%s\r\n"
                      % (b, admin_download)).encode())
    parts.append(("--%s\r\nContent-Disposition: form-data; name=\"file\"; filename=\"%s\"\r\n"
                  "Content-Type: text/csv\r\n\r\n" % (b, filename)).encode("utf-8") + data + b"\r\n")
    body = b"".join(parts) + ("--%s--\r\n" % b).encode()
    h = {"Content-Type": "multipart/form-data; boundary=" + b}
    if lang:
        h["Accept-Language"] = lang
    return c.post("/api/users/import", raw=body, headers=h)


def line(ncols, dev_at, email, family="山田", given="太郎", kana=("ヤマダ", "タロウ"), en=("Yamada", "Taro"),
         device="01", dev_email=None, extra=None):
    """One line of a layout with ncols columns, the device code at dev_at; extra: {index: value}."""
    cols = [""] * ncols
    cols[:8] = [email, family, given, kana[0], kana[1], en[0], en[1], dev_email or email]
    cols[dev_at] = device
    for k, v in (extra or {}).items():
        cols[k] = v
    # trailing optional columns may be left out, as the manual allows
    while len(cols) > dev_at + 1 and cols[-1] == "":
        cols.pop()
    return cols


def to_csv(rows, quote=False, crlf=True):
    def q(v):
        return '"' + v.replace('"', '""') + '"' if quote else v
    nl = "\r\n" if crlf else "\n"
    return nl.join(",".join(q(v) for v in r) for r in rows) + nl


def errors(r):
    return ((r.json() or {}).get("error") or {}).get("fields") or []


def counts(tid):
    return psql("SELECT (SELECT count(*) FROM users WHERE tenant_id = :p1) || '|' ||"
                " (SELECT count(*) FROM certificates WHERE tenant_id = :p1) || '|' ||"
                " (SELECT count(*) FROM jobs WHERE tenant_id = :p1)", tid)


def wait_job(c, jid, seconds=120):
    doc = {}
    end = time.time() + seconds
    while time.time() < end:
        doc = c.get("/api/jobs/%d" % jid).json() or {}
        if doc.get("status") in ("done", "failed"):
            return doc
        time.sleep(0.3)
    return doc


def wait_issued(tid, seconds):
    return wait_until(lambda: psql("SELECT count(*) FROM certificates WHERE tenant_id = :'p1'"
                                   " AND status = 'issuing'", tid) == "0", seconds)


def test_layouts(t):
    for n, (features, (ncols, dev_at)) in enumerate(LAYOUTS.items()):
        slug = "imp%d-%s" % (n, TAG)
        c, tid = tenant(slug, features, 100)
        extra = {}
        if "org_units" in features:
            extra.update({8: "Reiwa", 9: "Sales", 10: "Tokyo"})
        if "install_restriction" in features:
            extra.update({ncols - 5: "1", ncols - 4: "0123456789AB", ncols - 3: "PC-001"})
        for enc, quote, crlf, bom in (("utf-8", False, False, False), ("utf-8", True, True, True),
                                      ("cp932", False, True, False)):
            who = "%s-%s-%d" % (enc, "q" if quote else "p", n)
            rows = [line(ncols, dev_at, "%s-a@example.com" % who, extra=extra),
                    line(ncols, dev_at, "%s-a@example.com" % who, device="11"),
                    line(ncols, dev_at, "%s-b@example.com" % who, family="髙橋" if enc == "utf-8" else "高橋",
                         kana=("タカハシ", "ハナコ"), en=("Takahashi", "Hanako"), device="20")]
            data = to_csv(rows, quote=quote, crlf=crlf).encode(enc)
            if bom:
                data = b"\xef\xbb\xbf" + data
            r = upload(c, data, filename="利用者_%s.csv" % who)
            what = "%d columns, %s%s%s%s" % (ncols, enc, " BOM" if bom else "", " quoted" if quote else "",
                                            " CRLF" if crlf else " LF")
            t.eq(r.status, 202, "%s: accepted" % what, r.body[:400])
            doc = r.json() or {}
            t.eq((doc.get("users"), doc.get("devices")), (2, 3), "%s: 2 users, 3 devices" % what)
            t.eq(doc.get("encoding"), {"cp932": "CP932"}.get(enc, "UTF-8 (BOM)" if bom else "UTF-8"),
                 "%s: read as %s" % (what, doc.get("encoding")))
            j = wait_job(c, doc.get("job_id", 0))
            t.eq((j.get("status"), j.get("processed"), j.get("total")), ("done", 2, 2), "%s: the job is done" % what, j)
            users = psql("SELECT u.family_name || ' ' || u.family_name_kana || ' ' || count(d.id)"
                         " FROM users u JOIN devices d ON d.user_id = u.id WHERE u.tenant_id = :'p1'"
                         " AND u.email LIKE :'p2' GROUP BY u.id ORDER BY u.id", tid, who + "-%")
            want_b = "髙橋" if enc == "utf-8" else "高橋"
            t.eq(users.split("\n"), ["山田 ヤマダ 2", "%s タカハシ 1" % want_b], "%s: the users and devices stored" % what)
            if extra:
                got = psql("SELECT coalesce(d.o, '') || '|' || coalesce(d.ou1, '') || '|' || d.restriction_mode"
                           " || '|' || coalesce(d.restrict_mac, '') FROM devices d JOIN users u ON u.id = d.user_id"
                           " WHERE u.tenant_id = :'p1' AND u.email = :'p2' AND d.device_code = '01'",
                           tid, "%s-a@example.com" % who)
                want = "%s|%s|%s|%s" % ("Reiwa" if 8 in extra else "", "Sales" if 8 in extra else "",
                                        "or" if "install_restriction" in features else "none",
                                        "0123456789AB" if "install_restriction" in features else "")
                t.eq(got, want, "%s: O/OU and the restriction stored" % what)
        hist = psql("SELECT count(*) FROM audit WHERE tenant_id = :'p1' AND action = 'user_import'", tid)
        t.eq(hist, "6", "layout %d: CSV一括登録 in the history at acceptance and at the end of each file" % ncols)
        t.ok(wait_issued(tid, 120), "layout %d: every certificate issued" % ncols)


def test_errors(t):
    c, tid = tenant("impe-" + TAG, "", 5)
    before = counts(tid)
    rows = [line(13, 8, "ok1@example.com"),
            line(13, 8, "bad@@example.com"),                        # line 2: the e-mail
            line(13, 8, "kana@example.com", kana=("やまだ", "タロウ")),  # line 3: kana
            line(13, 8, "dev@example.com", device="07")]             # line 4: device code
    r = upload(c, to_csv(rows).encode())
    t.eq(r.status, 422, "a file with errors on lines 2-4 is refused")
    errs = errors(r)
    t.eq([(e.get("line"), e.get("column"), e.get("field")) for e in errs],
         [(2, 1, "代表メールアドレス"), (2, 8, "利用デバイス用メールアドレス"), (3, 4, "利用者（姓）フリガナ"),
          (4, 9, "デバイスコード")],
         "exactly lines 2-4, each with its column and field", errs)
    t.ok(all(e.get("message") for e in errs), "each with a message", errs)
    t.eq(counts(tid), before, "nothing registered, no job")
    en = Client(lang="en")
    en.cookie, en.csrf = c.cookie, c.csrf
    r = upload(en, to_csv(rows).encode())
    t.ok(any(e.get("field") == "Device code" for e in errors(r)), "English with Accept-Language: en", errors(r))
    # garbage bytes
    r = upload(c, b"ok@example.com,a\r\n\xff\xfe\x00\x81\r\n")
    t.ok(r.status == 422 and errors(r) and errors(r)[0].get("line") == 2 and "UTF-8" in errors(r)[0].get("message", ""),
         "garbage bytes: refused, the line named", r.body[:300])
    # one row over the quota (5)
    rows = [line(13, 8, "q%d@example.com" % i) for i in range(6)]
    r = upload(c, to_csv(rows).encode())
    errs = errors(r)
    t.ok(r.status == 422 and len(errs) == 1 and errs[0].get("line") == 6 and "5" in errs[0].get("message", ""),
         "a file one row over the quota: line 6 is named with the 5 available", errs)
    t.eq(counts(tid), before, "and nothing is registered")
    # the O/OU layout on a tenant without org_units
    rows = [line(16, 11, "o@example.com", extra={8: "O", 9: "OU"})]
    r = upload(c, to_csv(rows).encode())
    t.ok(r.status == 422 and len(errors(r)) == 1 and "12 項目目" in (errors(r)[0].get("message") or "")
         and "9 項目目" in errors(r)[0]["message"],
         "an O/OU line on a tenant without O/OU: one error saying where the device code is", errors(r))
    rows = [line(16, 11, "o@example.com", extra={8: "O", 9: "OU", 15: "upn@example.local"})]
    r = upload(c, to_csv(rows).encode())
    t.ok(r.status == 422 and "16" in (errors(r)[0].get("message") or "") and "9～13" in errors(r)[0]["message"],
         "16 columns on a tenant without O/OU: the column count and what is allowed", errors(r))
    # a validity on a tenant without validity_period
    rows = [line(13, 8, "v@example.com", extra={9: "2030/01/01", 10: "2030/12/31"})]
    r = upload(c, to_csv(rows).encode())
    t.ok(r.status == 422 and {e.get("column") for e in errors(r)} == {10, 11},
         "From/To on a tenant without validity_period: both columns refused", errors(r))
    # duplicates in the file, the same user with different names, an unterminated quote
    rows = [line(13, 8, "d@example.com"), line(13, 8, "d@example.com"),
            line(13, 8, "n@example.com"), line(13, 8, "n@example.com", given="次郎", device="11")]
    r = upload(c, to_csv(rows).encode())
    got = [(e.get("line"), e.get("column")) for e in errors(r)]
    t.ok((2, 9) in got and (4, 3) in got, "a pair twice and a user with two names are named", errors(r))
    r = upload(c, b'x@example.com,"open\r\n')
    t.ok(r.status == 422 and errors(r)[0].get("line") == 1, "an unterminated quote", errors(r))
    r = upload(c, b"")
    t.ok(r.status == 422 and errors(r), "an empty file", r.body[:200])
    # a pair another user already has
    r = upload(c, to_csv([line(13, 8, "taken@example.com")]).encode())
    j = wait_job(c, (r.json() or {}).get("job_id", 0))
    t.eq(j.get("status"), "done", "a first file registers taken@")
    r = upload(c, to_csv([line(13, 8, "other@example.com", dev_email="taken@example.com")]).encode())
    t.ok(r.status == 422 and errors(r)[0].get("column") == 8, "its pair in a second file is refused", errors(r))
    t.eq(counts(tid).split("|")[0], "1", "one user in all")
    # no file part; another tenant's job is not found
    r = c.post("/api/users/import", raw=b"--x\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--x--\r\n",
               headers={"Content-Type": "multipart/form-data; boundary=x"})
    t.ok(r.status == 422 and errors(r)[0].get("field") == "file", "no file: 422 naming file")
    other = Client()
    other.login()
    t.eq(other.get("/api/jobs/%d" % j.get("id", 0)).status, 404, "another tenant's job: 404")
    t.eq(other.get("/api/jobs/x1").status, 404, "a malformed job id: 404")


def test_admin_download(t):
    c, tid = tenant("impa-" + TAG, "install_restriction", 10)
    rows = [line(18, 8, "r@example.com", extra={13: "1", 14: "0123456789AB"})]
    r = upload(c, to_csv(rows).encode(), admin_download="true")
    t.ok(r.status == 422 and errors(r)[0].get("column") == 14 and "インストール制限" in errors(r)[0]["message"],
         "admin_download refuses the install restriction (NRA)", errors(r))
    r = upload(c, to_csv([line(18, 8, "p@example.com")]).encode(), admin_download="true")
    j = wait_job(c, (r.json() or {}).get("job_id", 0))
    t.eq(j.get("admin_download"), True, "the job is for the administrator's download")
    got = psql("SELECT bool_and(admin_download) FROM certificates WHERE tenant_id = :'p1'", tid)
    t.eq(got, "t", "its certificates are marked for the administrator's bulk download")
    t.eq(upload(c, b"x", admin_download="maybe").status, 422, "admin_download must be a boolean")


def users_pid():
    return read_pid("users")


def test_big_and_kill(t):
    c, tid = tenant("impk-" + TAG, "", 12001)
    rows = [line(13, 8, "k%05d@example.com" % i, en=("Kill", "User")) for i in range(2000)]
    r = upload(c, to_csv(rows).encode())
    t.eq(r.status, 202, "2,000 rows accepted")
    jid = (r.json() or {}).get("job_id", 0)
    t.ok(wait_until(lambda: int(psql("SELECT processed FROM jobs WHERE id = :'p1'", jid)) >= 100, 60),
         "the job has committed a chunk")
    pid = live_pid("users")
    hold("users")  # its supervisor starts it no more until released
    try:
        os.kill(pid, signal.SIGKILL)
        done = int(psql("SELECT processed FROM jobs WHERE id = :'p1'", jid))
        t.ok(0 < done < 2000, "shomei-users killed (-9) in the middle: %d of 2000 users committed" % done)
        wait_until(lambda: not os.path.exists("/proc/%d" % pid), 10)
    finally:
        t.ok(release("users") and wait_until(lambda: users_pid() not in (0, pid) and Client().login().status == 200, 15),
             "shomei-users started again")
    j = wait_job(c, jid, 240)
    t.eq((j.get("status"), j.get("processed")), ("done", 2000), "after the restart the job finishes", j)
    got = psql("SELECT count(*) || '|' || count(DISTINCT email) FROM users WHERE tenant_id = :'p1'", tid)
    t.eq(got, "2000|2000", "each of the 2,000 users exactly once")
    t.eq(psql("SELECT count(*) FROM certificates WHERE tenant_id = :'p1' AND job_id = :'p2'", tid, jid), "2000",
         "one certificate each")
    t.ok(wait_issued(tid, 400), "the 2,000 certificates are issued")
    # 10,000 rows in one file
    rows = [line(13, 8, "t%05d@example.com" % i, en=("Ten", "Thousand")) for i in range(10000)]
    t0 = time.time()
    r = upload(c, to_csv(rows).encode(), filename="10000.csv")
    took = time.time() - t0
    t.eq(r.status, 202, "10,000 rows accepted")
    print("# 10,000 rows checked and queued in %.2f s" % took)
    j = wait_job(c, (r.json() or {}).get("job_id", 0), 600)
    t.eq((j.get("status"), j.get("processed")), ("done", 10000), "10,000 users registered", j)
    t.eq(psql("SELECT count(*) FROM users WHERE tenant_id = :'p1'", tid), "12000", "12,000 users in the tenant")
    t.ok(wait_issued(tid, 900), "and their certificates issued (the later tests find idle workers)")


class Session:
    """A psql of our own with an open transaction, fed statement by statement (as another request)."""

    def __init__(self):
        pgbin = sorted(os.listdir("/usr/lib/postgresql"))[-1]
        self.p = subprocess.Popen(["/usr/lib/postgresql/%s/bin/psql" % pgbin, "-h", os.path.join(VAR, "run", "pg"),
                                   "-U", "shomei", "-d", "shomei", "-AtqX", "-v", "ON_ERROR_STOP=1"],
                                  stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True)

    def send(self, sql):
        self.p.stdin.write(sql + "\n")
        self.p.stdin.flush()

    def close(self):
        self.p.stdin.close()
        return self.p.wait(30)


def lock_waiters(table):
    """Transactions waiting for a row lock of table (a tuple lock or the holder's transaction)."""
    return int(psql("SELECT count(*) FROM pg_locks l LEFT JOIN pg_class r ON r.oid = l.relation"
                    " WHERE NOT l.granted AND (l.locktype = 'transactionid' OR r.relname = :'p1')", table))


def test_taken_at_run_time(t):
    """A row whose pair another registration takes after the file was checked: the job leaves that user out
    and reports its line; the chunk's other rows go in, once each, also when shomei-users is killed with -9
    after that chunk and the job resumes."""
    c, tid = tenant("impr-" + TAG, "", 300)
    admins = "admins-impr-%s@example.com" % TAG  # 利用者一括登録受付エラー通知 goes here
    r = c.request("PUT", "/api/tenant/settings", {"notice_address": admins})
    t.eq(r.status, 200, "the administrators' notice address is set", r.body[:200])
    emails = ["r%03d-%s@example.com" % (i, TAG) for i in range(250)]
    rows = [line(13, 8, e, en=("Run", "Time")) for e in emails]
    taken = emails[41]  # line 42, in the middle of the first chunk (lines 1-100)
    a, b = Session(), Session()
    try:
        # our transaction holds the tenant's registration lock: the job's first chunk will wait for it
        a.send("BEGIN; SELECT id FROM tenants WHERE id = %d FOR NO KEY UPDATE;" % tid)
        t.ok(wait_until(lambda: psql("SELECT count(*) FROM pg_locks l JOIN pg_class r ON r.oid = l.relation"
                                     " WHERE r.relname = 'tenants' AND l.granted AND l.mode = 'RowShareLock'"
                                     " AND l.pid <> pg_backend_pid()") != "0", 10), "a transaction of the test holds the tenant")
        r = upload(c, to_csv(rows).encode(), filename="runtime.csv")
        t.eq(r.status, 202, "250 rows checked and accepted (line 42's pair is still free)", r.body[:300])
        jid = (r.json() or {}).get("job_id", 0)
        t.ok(wait_until(lambda: lock_waiters("tenants") > 0, 30), "the job's first chunk waits for the tenant")
        # a second transaction of ours queues for the tenant behind the first chunk: the second chunk waits for it
        b.send("BEGIN; SELECT id FROM tenants WHERE id = %d FOR NO KEY UPDATE;" % tid)
        t.ok(wait_until(lambda: lock_waiters("tenants") > 1, 30), "a second transaction queues behind the chunk")
        # meanwhile another registration takes line 42's (e-mail, device) pair, as POST /api/users writes it
        a.send("INSERT INTO users (tenant_id, family_name, given_name, family_name_kana, given_name_kana,"
               " family_name_en, given_name_en, email) VALUES (%d, '先', '客', 'サキ', 'キャク', 'First', 'Comer', '%s');"
               % (tid, taken.upper()))
        a.send("INSERT INTO devices (tenant_id, user_id, device_code, email) SELECT %d, max(id), '01', '%s'"
               " FROM users WHERE tenant_id = %d;" % (tid, taken, tid))
        a.send("COMMIT;")
        t.eq(a.close(), 0, "the other registration committed")
        t.ok(wait_until(lambda: psql("SELECT processed FROM jobs WHERE id = :'p1'", jid) == "100", 60),
             "the first chunk committed (100 rows) and the second waits")
        t.eq(psql("SELECT count(*) FROM users WHERE tenant_id = :'p1' AND lower(email) = lower(:'p2')", tid, taken), "1",
             "line 42's user is not registered by the job: only the other registration has the address")
        t.eq(psql("SELECT count(*) FROM users u WHERE tenant_id = :'p1' AND family_name_en = 'Run'", tid), "99",
             "the chunk's 99 other rows are in")
        doc = c.get("/api/jobs/%d" % jid).json() or {}
        t.eq([(e.get("line"), e.get("field")) for e in doc.get("errors", [])], [(42, "利用デバイス用メールアドレス")],
             "the running job already reports line 42", doc.get("errors"))
        # shomei-users is killed (-9) with the job waiting in its second chunk
        pid = live_pid("users")
        hold("users")
        try:
            os.kill(pid, signal.SIGKILL)
            wait_until(lambda: not os.path.exists("/proc/%d" % pid), 10)
        finally:
            b.send("COMMIT;")
            t.eq(b.close(), 0, "our second transaction ends")
            t.ok(release("users") and wait_until(lambda: users_pid() not in (0, pid) and Client().login().status == 200, 15),
                 "shomei-users started again")
    finally:
        for s in (a, b):
            if s.p.poll() is None:
                s.p.kill()
    j = wait_job(c, jid, 240)
    t.eq((j.get("status"), j.get("processed"), j.get("total")), ("failed", 250, 250),
         "the job resumes and goes through the whole file; with a row left out it ends failed", j)
    t.eq([(e.get("line"), e.get("column"), e.get("field")) for e in j.get("errors", [])],
         [(42, 8, "利用デバイス用メールアドレス")], "its one error is line 42's, kept across the restart", j.get("errors"))
    t.ok("すでに登録" in ((j.get("errors") or [{}])[0].get("message") or ""), "saying the pair is taken", j.get("errors"))
    got = psql("SELECT count(*) || '|' || count(DISTINCT lower(email)) FROM users WHERE tenant_id = :'p1'", tid)
    t.eq(got, "250|250", "249 users of the file and the other registration's, each once")
    t.eq(psql("SELECT count(*) || '|' || count(DISTINCT user_id) FROM certificates WHERE tenant_id = :'p1'"
              " AND job_id = :'p2'", tid, jid), "249|249", "one certificate each for the job's 249 users")
    t.eq(psql("SELECT count(*) FROM certificates c JOIN users u ON u.id = c.user_id WHERE c.job_id = :'p1'"
              " AND lower(u.email) = lower(:'p2')", jid, taken), "0", "none for line 42")
    hist = psql("SELECT detail_code || ' ' || detail_params::text FROM audit WHERE tenant_id = :'p1'"
                " AND detail_code LIKE 'job_%' ORDER BY id DESC LIMIT 1", tid)
    t.ok(hist.startswith("job_failed") and "250" in hist, "history: the job failed with its 250 lines done", hist)
    # the administrators get one 利用者一括登録受付エラー通知 naming line 42 (and no 受付通知)
    wait_until(lambda: mail_messages(admins), 60)
    time.sleep(2)
    ms = mail_messages(admins)
    subjects = [str(m["Subject"]) for m in ms]
    text = ms[0].get_body(preferencelist=("plain",)).get_content() if len(ms) == 1 else ""
    t.ok(len(ms) == 1 and "利用者一括登録受付エラー通知" in subjects[0] and "42" in text
         and "利用デバイス用メールアドレス" in text,
         "one 利用者一括登録受付エラー通知 to the administrators, with line 42's error", (subjects, text[:600]))
    t.ok(wait_issued(tid, 300), "the 249 certificates are issued")


def test_jobs_list(t):
    c, tid = tenant("impl-" + TAG, "", 10)
    ids = []
    for i in range(3):
        r = upload(c, to_csv([line(13, 8, "l%d@example.com" % i)]).encode(), filename="f%d.csv" % i)
        ids.append((r.json() or {}).get("job_id"))
        wait_job(c, ids[-1])
    doc = c.get("/api/jobs").json() or {}
    t.eq([x.get("id") for x in doc.get("items", [])], ids[::-1], "GET /api/jobs: newest first")
    t.eq((doc.get("total"), doc.get("per_page")), (3, 100), "with the total and 100 a page")
    x = doc["items"][0]
    t.eq((x.get("kind_label"), x.get("status_label"), x.get("filename")), ("CSV一括登録", "完了", "f2.csv"),
         "labels and file name")
    t.eq(c.get("/api/jobs?page=0").status, 422, "page 0 refused")


def main():
    t = TAP()
    for fn in [globals()[n] for n in (os.environ.get("ONLY") or "test_layouts test_errors test_admin_download test_jobs_list test_taken_at_run_time"
                                                     " test_big_and_kill").split()]:
        t.run(fn)
    t.done()


if __name__ == "__main__":
    main()
