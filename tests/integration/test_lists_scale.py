#!/usr/bin/env python3
"""Lists at scale (issue 12), on a tenant seeded with 200,000 certificates, 50,000 users,
200,000 history entries and 200,000 notices of 送信メール (bench/seed).

Every list and search is served by an index: PostgreSQL's
auto_explain logs the plan (FORMAT JSON) of every statement the services run while the test asks
each list with each filter, sort and page direction; no plan of a list's page or count may read
certificates, users, audit or notifications by a Seq Scan. The statements are the services' own, with the
parameters of real requests, so a change to a query or an index that falls back to reading a
whole table fails here.

Streams stay streams: the peak memory (VmHWM in /proc/<pid>/status, reset through clear_refs
before each run) of the process that serves 操作履歴 CSV, 利用者リスト (export.csv), the ZIP of the
certificates and passwords.csv grows no more for ten times the rows than a small bound. The
seeded certificates of the two tenants the ZIP is read from carry a PKCS#12 the stack issued
(bench/seed --p12-from).

The foreign keys of certificates to jobs and users are checked by an index (migration 0022):
the query PostgreSQL runs for each job or user deleted reads no whole table."""
import http.client
import json
import os
import re
import subprocess
import sys
import time
import tempfile
import urllib.parse
import zipfile

from shomei_test import (CLEAR_SEEDED, HOST, PORT, ROOT, TAP, UP, VAR, Client, clear_lockouts, ctl, live_pid,
                         psql, tls_context)

SLUG = "explain%d" % os.getpid()
LOGIN, PASSWORD = "explain%d" % os.getpid(), "Explain2026pw"
BIG = ("certificates", "users", "audit", "notifications")
LOG = os.path.join(VAR, "pg", "postgresql.log")


def superuser(sql):
    """SQL as the cluster's superuser (postgres, by peer authentication as its system user)."""
    pgbin = sorted(os.listdir("/usr/lib/postgresql"))[-1]
    cmd = ["/usr/lib/postgresql/%s/bin/psql" % pgbin, "-h", os.path.join(VAR, "run", "pg"), "-U",
           "postgres", "-d", "shomei", "-AtqX", "-v", "ON_ERROR_STOP=1"]
    if os.getuid() == 0:
        cmd = ["runuser", "-u", "postgres", "--"] + cmd
    p = subprocess.run(cmd, input=sql, capture_output=True, text=True, timeout=120)
    if p.returncode != 0:
        raise RuntimeError("psql as postgres: %s" % p.stderr)
    return p.stdout.strip()


def explain_on():
    """auto_explain in every new session of the services' role, every statement, as JSON; the
    role's sessions end, so the services reconnect (db.c) with it loaded."""
    superuser("ALTER ROLE shomei SET session_preload_libraries = 'auto_explain';"
              "ALTER ROLE shomei SET auto_explain.log_min_duration = 0;"
              "ALTER ROLE shomei SET auto_explain.log_format = 'json';"
              "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE usename = 'shomei'")


def explain_off():
    superuser("ALTER ROLE shomei RESET session_preload_libraries;"
              "ALTER ROLE shomei RESET auto_explain.log_min_duration;"
              "ALTER ROLE shomei RESET auto_explain.log_format;"
              "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE usename = 'shomei'")


def plans(text):
    """The JSON plans auto_explain wrote in a stretch of the server's log."""
    dec = json.JSONDecoder()
    out = []
    for m in re.finditer(r"plan:\s*\n?\s*\{", text):
        try:
            doc, _ = dec.raw_decode(text, m.end() - 1)
        except ValueError:
            continue
        out.append(doc)
    return out


def scans(node, found):
    """(node type, relation) of every node of a plan."""
    found.append((node.get("Node Type"), node.get("Relation Name")))
    for child in node.get("Plans", []):
        scans(child, found)
    return found


# Which statement a plan is of: the lists' pages read rows from a cursor with OFFSET/LIMIT
# parameters, their counts stop one row past the exact threshold.
KINDS = [("users", re.compile(r"FROM users u WHERE.*OFFSET \$13 LIMIT \$18", re.S)),
         ("users count", re.compile(r"FROM users u WHERE.*LIMIT 10000 \+ 1", re.S)),
         ("audit", re.compile(r"FROM audit WHERE.*OFFSET \$8 LIMIT \$9", re.S)),
         ("audit count", re.compile(r"FROM audit WHERE.*LIMIT 10000 \+ 1", re.S)),
         ("jobs", re.compile(r"FROM jobs WHERE.*OFFSET \$3 LIMIT \$4", re.S)),
         ("outbox", re.compile(r"FROM notifications WHERE.*OFFSET \$4 LIMIT \$5", re.S)),
         ("outbox count", re.compile(r"FROM notifications WHERE.*LIMIT 10000 \+ 1", re.S)),
         # the unfiltered 操作履歴 and 証明書一覧 pages: a fixed shape, the LIMIT in the SQL
         ("audit fixed", re.compile(r"AS newest FROM audit WHERE tenant_id = \$1.*LIMIT 100 \+ 1", re.S)),
         ("certificates fixed", re.compile(r"FROM certificates c WHERE c\.tenant_id = \$1.*LIMIT 101\)", re.S)),
         # the 利用者 pages without a condition, and every page's certificates of its users
         ("users fixed", re.compile(r"FROM users u WHERE u\.tenant_id = \$1 AND u\.purged_at IS NULL"
                                    r" AND u\.deleted_at IS NULL\) s.*LIMIT 101", re.S)),
         ("users' certificates", re.compile(r"WHERE c\.tenant_id = \$1 AND c\.user_id = ANY \(\$2::bigint\[\]\)",
                                            re.S)),
         ("certificates", re.compile(r"FROM certificates c.*OFFSET \$8 LIMIT \$9", re.S)),
         ("certificates count", re.compile(r"FROM certificates c.*LIMIT 10000 \+ 1", re.S)),
         # the totals the triggers keep (migration 0026): a few rows, never the certificates
         ("certificates kept totals", re.compile(r"FROM certificate_counts WHERE tenant_id = \$1", re.S))]


# The kinds whose every execution should use the generic plan made once per connection.
GENERIC = ("audit fixed", "certificates fixed", "users fixed", "users' certificates")


def conds(node, found):
    """Every index condition of a plan."""
    if "Index Cond" in node:
        found.append(node["Index Cond"])
    for child in node.get("Plans", []):
        conds(child, found)
    return found


def kind_of(query):
    for name, rx in KINDS:
        if rx.search(query):
            return name
    return None


def requests(c):
    """Every list with each filter, sort and direction: first, next, last, previous pages."""
    urls = []
    cert = [{"status": "all"}, {"status": "valid", "sort": "-issued_at"}, {"status": "all", "cn": "sato"},
            {"status": "valid", "cn": "Yamada Hina"}, {"issued_from": "2024/01/01", "issued_to": "2024/01/31"},
            {"status": "all", "issued_from": "2025/06/01", "sort": "-issued_at"}]
    users = [{}, {"sort": "applied_at"}, {"sort": "family_name_kana"}, {"sort": "-family_name_kana"},
             {"sort": "email"}, {"sort": "-email"}, {"family_name": "やまだ"}, {"family_name": "ﾔﾏﾀﾞ"},
             {"family_name": "山田", "given_name": "花子"}, {"given_name": "Taro"},
             {"email": "tanaka.yui"}, {"applied_from": "2023/01/01", "applied_to": "2023/01/31"},
             {"status": "revoked", "sort": "email"}, {"device": "12", "status": "issued,downloaded"},
             {"status": "revoked"}, {"status": "failed", "sort": "family_name_kana"},
             {"status": "issued,downloaded,revoke_scheduled", "sort": "-email"}, {"device": "99"},
             {"device": "20,01", "sort": "applied_at"}, {"email": "example.jp"}, {"email": "dev.example"},
             {"status": "revoked", "issued_from": "2024/01/01", "issued_to": "2024/06/30"},
             {"issued_from": "2024/05/01", "issued_to": "2024/05/31"},
             {"expires_from": "2027/01/01", "expires_to": "2027/01/15"}, {"deleted": "1"}]
    audit = [{}, {"page": "3"}, {"action": "login"}, {"q": "sato"}, {"from": "2024/01/01", "to": "2024/03/31"},
             {"action": "certificate_issue", "q": "client_0001"}]
    for base, variants in (("/api/certificates", cert), ("/api/users", users), ("/api/audit", audit),
                           ("/api/jobs", [{}, {"page": "2"}]),
                           ("/api/notifications", [{}, {"page": "3"}, {"status": "sent"}, {"status": "failed"},
                                                   {"status": "queued"}, {"status": "failed", "page": "2"}])):
        for kw in variants:
            url = base + ("?" + urllib.parse.urlencode(kw) if kw else "")
            sep = "&" if kw else "?"
            st, doc = c.get(url)
            urls.append((url, st))
            if st == 200 and doc.get("next"):
                urls.append((url + " next", c.get(url + sep + urllib.parse.urlencode({"after": doc["next"]}))[0]))
            st, doc = c.get(url + sep + "last=1")
            urls.append((url + " last", st))
            if st == 200 and doc.get("prev"):
                urls.append((url + " prev", c.get(url + sep + urllib.parse.urlencode({"before": doc["prev"]}))[0]))
    return urls


def hwm(pid):
    """The process's peak resident memory in kB (VmHWM)."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def peak(service, fn):
    """Run fn with the service's peak memory reset first; (fn's result, VmHWM in kB after)."""
    pid = live_pid(service)
    with open("/proc/%d/clear_refs" % pid, "w") as f:
        f.write("5")  # resets the peak resident set size (proc(5))
    out = fn()
    return out, hwm(pid)


def stream(s, url, sink=None):
    """GET a streamed answer on a connection of its own, read as it comes (into the file sink when
    given); (status, bytes, lines past the first)."""
    conn = http.client.HTTPSConnection(HOST, PORT, context=tls_context(), timeout=300)
    try:
        conn.request("GET", url, headers={"Cookie": s.cookie, "Host": "%s:%d" % (HOST, PORT)})
        r = conn.getresponse()
        n = lines = 0
        while True:
            chunk = r.read(65536)
            if not chunk:
                break
            n += len(chunk)
            lines += chunk.count(b"\n")
            if sink is not None:
                sink.write(chunk)
    finally:
        conn.close()
    return r.status, n, lines - 1


BOUND_KB = 4 * 1024  # what ten times the rows may add to the peak: well under half their size


def test_streams(t, big, small):
    """操作履歴 CSV and 利用者リスト of ten times the rows: the peak memory barely moves."""
    (st1, n1, rows1), h1 = peak("auth", lambda: stream(big, "/api/audit/export.csv?from=2026/06/01"))
    (st2, n2, rows2), h2 = peak("auth", lambda: stream(big, "/api/audit/export.csv"))
    t.ok(st1 == st2 == 200 and rows2 >= 9 * rows1 > 0,
         "操作履歴 CSV: %d entries, then %d (%.1f MB)" % (rows1, rows2, n2 / 1e6), (st1, st2, rows1, rows2))
    t.ok(h2 - h1 < BOUND_KB and n2 > 2 * BOUND_KB * 1024,
         "操作履歴 CSV: shomei-auth's peak memory %d kB, then %d kB for ten times the rows" % (h1, h2))
    (st1, n1, rows1), h1 = peak("users", lambda: stream(small, "/api/users/export.csv"))
    (st2, n2, rows2), h2 = peak("users", lambda: stream(big, "/api/users/export.csv"))
    t.ok(st1 == st2 == 200 and rows2 >= 9 * rows1 > 0,
         "利用者リスト: %d rows, then %d (%.1f MB)" % (rows1, rows2, n2 / 1e6), (st1, st2, rows1, rows2))
    t.ok(h2 - h1 < BOUND_KB and n2 > 2 * BOUND_KB * 1024,
         "利用者リスト: shomei-users' peak memory %d kB, then %d kB for ten times the rows" % (h1, h2))


def downloadable(tid):
    """The certificates the ZIP and passwords.csv hold: valid, with a PKCS#12, no install
    restriction (services/download, BULK_FROM)."""
    return int(psql("SELECT count(*) FROM certificates c LEFT JOIN devices d ON d.id = c.device_id"
                    " WHERE c.tenant_id = %d AND c.status IN ('issued', 'downloaded', 'revoke_scheduled')"
                    " AND c.p12 IS NOT NULL AND coalesce(d.restriction_mode, 'none') = 'none'" % tid))


def zip_stream(s, url):
    """GET a ZIP as a stream into a file; (status, bytes, its .p12 entries, its other entries), the
    entries as zipfile reads them (None when it cannot)."""
    with tempfile.TemporaryFile() as f:
        st, n, _ = stream(s, url, f)
        f.seek(0)
        try:
            with zipfile.ZipFile(f) as z:
                names = z.namelist() if z.testzip() is None else None
        except zipfile.BadZipFile:
            names = None
    if names is None:
        return st, n, None, None
    return st, n, sum(x.endswith(".p12") for x in names), sorted(x for x in names if not x.endswith(".p12"))


def per_1000(h1, h2, rows1, rows2):
    """kB of peak memory a thousand more rows added."""
    return (h2 - h1) * 1000.0 / max(rows2 - rows1, 1)


def issued(tid):
    """The downloadable certificates still 発行済 (issued), not yet ダウンロード済."""
    return int(psql("SELECT count(*) FROM certificates c LEFT JOIN devices d ON d.id = c.device_id"
                    " WHERE c.tenant_id = %d AND c.status = 'issued' AND c.p12 IS NOT NULL"
                    " AND coalesce(d.restriction_mode, 'none') = 'none'" % tid))


def history_files(s, action, n):
    """The latest history entry of action: (the files it names, the count it adds, its detail)."""
    st, doc = s.get("/api/audit?action=%s" % action)
    detail = ((doc or {}).get("items") or [{}])[0].get("detail", "")
    m = re.match(r"^(.*) (?:ほか (\d+) 件|and (\d+) more)$", detail)
    if m is None:
        return detail.split(","), 0, detail
    return m.group(1).split(","), int(m.group(2) or m.group(3)), detail


def test_downloads(t, big, small, nbig, nsmall, tbig):
    """The ZIP of every certificate and passwords.csv of ten times the rows: the peak memory of
    shomei-download barely moves, and each holds every downloadable certificate."""
    (st1, n1, e1, o1), h1 = peak("download", lambda: zip_stream(small, "/api/downloads/certificates.zip"))
    before = issued(tbig)
    (st2, n2, e2, o2), h2 = peak("download", lambda: zip_stream(big, "/api/downloads/certificates.zip"))
    t.ok(before > 2000 and issued(tbig) == 0,
         "ZIP: its %d issued certificates became downloaded (marked a thousand at a time)" % before,
         (before, issued(tbig)))
    names, more, detail = history_files(big, "certificate_download", nbig)
    t.ok(len(names) == 100 and more == nbig - 100 and len(set(names)) == 100,
         "ZIP: the history names its first 100 files and counts the other %d" % (nbig - 100), detail[-200:])
    t.ok(st1 == st2 == 200 and e1 == nsmall and e2 == nbig and nbig >= 9 * nsmall > 0,
         "ZIP: %s .p12 files, then %s (%.1f MB), each tenant's downloadable certificates (zipfile)"
         % (e1, e2, n2 / 1e6), (st1, st2, e1, nsmall, e2, nbig))
    t.ok(o1 == o2 == ["cacert.crt", "cacert.pem"], "ZIP: besides them only the CA certificate", (o1, o2))
    t.ok(h2 - h1 < BOUND_KB and n2 > 2 * BOUND_KB * 1024,
         "ZIP: shomei-download's peak memory %d kB, then %d kB for ten times the rows (%.0f kB per 1,000)"
         % (h1, h2, per_1000(h1, h2, nsmall, nbig)))
    # passwords.csv: no header, one line (name, password) a certificate
    (st1, n1, lines1), h1 = peak("download", lambda: stream(small, "/api/downloads/passwords.csv"))
    (st2, n2, lines2), h2 = peak("download", lambda: stream(big, "/api/downloads/passwords.csv"))
    t.ok(st1 == st2 == 200 and lines1 + 1 == nsmall and lines2 + 1 == nbig,
         "passwords.csv: %d rows, then %d (%.1f MB), one a downloadable certificate"
         % (lines1 + 1, lines2 + 1, n2 / 1e6), (st1, st2, lines1 + 1, nsmall, lines2 + 1, nbig))
    t.ok(h2 - h1 < BOUND_KB and n2 > BOUND_KB * 1024 / 8,
         "passwords.csv: shomei-download's peak memory %d kB, then %d kB for ten times the rows "
         "(%.0f kB per 1,000)" % (h1, h2, per_1000(h1, h2, nsmall, nbig)))
    names, more, detail = history_files(big, "password_csv", nbig)
    t.ok(len(names) == 100 and more == nbig - 100,
         "passwords.csv: the history names its first 100 files and counts the other %d" % (nbig - 100),
         detail[-200:])


def sample_p12():
    """A certificate the stack issues in the demo tenant, whose PKCS#12 the seeds share."""
    clear_lockouts()
    c = Client()
    c.login()
    tid = psql("SELECT id FROM tenants WHERE slug = :'p1'", UP["tenant"])
    used = int(psql("SELECT count(*) FROM certificates WHERE tenant_id = :'p1' AND status IN "
                    "('issuing','issued','downloaded','revoke_scheduled')", tid))
    ctl("tenant", "set", "--slug", UP["tenant"], "--quota", str(used + 10))
    r = c.post("/api/certificates/batch", {"count": 1})
    ids = (r.json() or {}).get("ids", [])
    end = time.time() + 120
    while ids and time.time() < end:
        if psql("SELECT p12 IS NOT NULL AND p12_password_enc IS NOT NULL FROM certificates WHERE id = %d"
                % ids[0]) == "t":
            return ids[0]
        time.sleep(0.5)
    return None


def indexes(node, found):
    """The names of the indexes a plan reads."""
    if node.get("Index Name"):
        found.append(node["Index Name"])
    for child in node.get("Plans", []):
        indexes(child, found)
    return found


def test_fk_indexes(t, tid):
    """The query of PostgreSQL's foreign key check when a job or a user is deleted (ri_triggers.c:
    SELECT 1 FROM ONLY certificates x WHERE col = $1 FOR KEY SHARE OF x) reads the column's own
    index (migration 0022), not the table."""
    for col, table, index in (("job_id", "jobs", "certificates_job"), ("user_id", "users", "certificates_user_fk")):
        ref = psql("SELECT max(id) FROM %s WHERE tenant_id = %d" % (table, tid))
        plan = json.loads(psql("EXPLAIN (FORMAT JSON) SELECT 1 FROM ONLY certificates x WHERE %s = %s"
                               " FOR KEY SHARE OF x" % (col, ref)))
        found, used = scans(plan[0]["Plan"], []), indexes(plan[0]["Plan"], [])
        t.ok(ref and not [f for f in found if f[0] == "Seq Scan"] and index in used,
             "deleting a %s: certificates.%s is checked by %s" % (table[:-1], col, index), (found, used))


def estimate(tid, text):
    """PostgreSQL's estimate of the addresses of users and devices containing text (the statement
    shomei-users asks, services/users/queries.c q_email_estimate)."""
    out = psql("EXPLAIN (FORMAT JSON) SELECT 1 FROM users u WHERE u.tenant_id = %d AND lower(u.email) LIKE"
               " like_contains(lower('%s')) UNION ALL SELECT 1 FROM devices e WHERE e.tenant_id = %d"
               " AND lower(e.email) LIKE like_contains(lower('%s'))" % (tid, text, tid, text))
    return json.loads(out)[0]["Plan"]["Plan Rows"]


def test_email_estimates(t, tid):
    """The e-mail search chooses how to find its users by PostgreSQL's estimate of the addresses
    holding the text (USERS_EMAIL_MANY, 5,000): the histograms of lower(email) have 1,000 entries
    (migration 0033), so that one sampled address holding a rare text does not count for 1% of a
    table (on 1,000,000 devices that put a text of 1,438 at 10,101, and the search walked every
    user)."""
    low = psql("SELECT string_agg(c.relname || ':' || a.attstattarget, ' ' ORDER BY c.relname) FROM pg_index i"
               " JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_attribute a ON a.attrelid = c.oid"
               " WHERE i.indrelid IN ('users'::regclass, 'devices'::regclass) AND i.indexprs IS NOT NULL"
               " AND pg_get_indexdef(c.oid, a.attnum, true) = 'lower(email)' AND a.attstattarget < 1000")
    t.eq(low, "", "every index on lower(email) of users and devices keeps statistics of 1,000 entries")
    texts = psql("SELECT string_agg(t, ' ') FROM (SELECT split_part(email, '.', 1) || '.' ||"
                 " split_part(email, '.', 2) AS t FROM users WHERE tenant_id = %d ORDER BY id LIMIT 5) s"
                 % tid).split()
    for text in texts:
        real = int(psql("SELECT (SELECT count(*) FROM users WHERE tenant_id = %d AND lower(email) LIKE"
                        " like_contains('%s')) + (SELECT count(*) FROM devices WHERE tenant_id = %d AND"
                        " lower(email) LIKE like_contains('%s'))" % (tid, text, tid, text)))
        est = estimate(tid, text)
        t.ok(est < 5000, "the e-mail text %s (%d addresses) is estimated under 5,000 (%d): its users are"
             " gathered" % (text, real, est))
    est = estimate(tid, "example.jp")
    t.ok(est > 5000, "example.jp, in every address, is estimated past 5,000 (%d): each user is tested" % est)


def seed(slug, users, certificates, history, p12=None, notifications=0):
    p = subprocess.run([os.path.join(ROOT, "bench", "seed"), "--tenant", slug, "--users", str(users),
                        "--certificates", str(certificates), "--history", str(history), "--jobs", "1000",
                        "--notifications", str(notifications),
                        "--up", os.environ["SHOMEI_UP_JSON"]] + (["--p12-from", str(p12)] if p12 else []),
                       capture_output=True, text=True, timeout=1800)
    print("# seeded: %s" % (p.stdout.strip().splitlines() or [""])[-1], flush=True)
    return p


def main():
    sys.path.insert(0, os.path.dirname(__file__))
    from test_lists import Session  # one kept-alive connection
    t = TAP()
    p = seed(SLUG, 50000, 200000, 200000, notifications=200000)
    t.ok(p.returncode == 0, "bench/seed fills a tenant with 200,000 certificates", p.stderr[-2000:])
    sample = sample_p12()
    t.ok(sample is not None, "a certificate issued for the seeds' shared PKCS#12 (%s)" % sample)
    p = seed(SLUG + "s", 10000, 20000, 0, sample, notifications=2000)
    t.ok(p.returncode == 0, "and another with 20,000, sharing its PKCS#12", p.stderr[-2000:])
    p = seed(SLUG + "t", 1000, 2000, 0, sample)
    t.ok(p.returncode == 0, "and one with 2,000, sharing it too", p.stderr[-2000:])
    tid = int(psql("SELECT id FROM tenants WHERE slug = '%s'" % SLUG))
    small = int(psql("SELECT id FROM tenants WHERE slug = '%ss'" % SLUG))
    tiny = int(psql("SELECT id FROM tenants WHERE slug = '%st'" % SLUG))
    for suffix in ("", "s", "t"):
        ctl("admin", "create", "--tenant", SLUG + suffix, "--login-id", LOGIN + suffix, "--password", PASSWORD)
    try:
        c = Session(LOGIN, PASSWORD)
        s = Session(LOGIN + "s", PASSWORD)
        t.run(lambda t: test_streams(t, c, s))
        t.run(lambda t: test_downloads(t, s, Session(LOGIN + "t", PASSWORD), downloadable(small),
                                       downloadable(tiny), small))
        t.run(lambda t: test_fk_indexes(t, tid))
        t.run(lambda t: test_email_estimates(t, tid))
        explain_on()
        start = os.path.getsize(LOG)
        urls = requests(c)
        # 送信メール of a tenant with few notices beside the big one's 200,000 (small_outbox)
        for url in ("/api/notifications", "/api/notifications?status=failed", "/api/notifications?last=1"):
            urls.append((url + " (small tenant)", s.get(url)[0]))
        time.sleep(1)  # the log is written by another process
        with open(LOG, encoding="utf-8", errors="replace") as f:
            f.seek(start)
            logged = f.read()
    finally:
        explain_off()
        for i in (tid, small, tiny):  # 200,000 certificates and entries: minutes on a busy machine
            psql(CLEAR_SEEDED % {"t": i}, timeout=900)
    bad = [u for u in urls if u[1] != 200]
    t.ok(len(urls) > 80 and not bad, "%d list requests, each answered 200" % len(urls), bad[:5])
    seen, seq, custom, outbox = {}, [], [], []
    outbox_seen = {"big": 0, "small": 0}
    for doc in plans(logged):
        query = doc.get("Query Text", "")
        kind = kind_of(query)
        if kind is None:
            continue
        seen[kind] = seen.get(kind, 0) + 1
        # a generic plan compares the tenant with $1; a custom one with the tenant's id
        if kind in GENERIC and not any("$1" in c for c in conds(doc.get("Plan", {}), [])):
            custom.append((kind, conds(doc.get("Plan", {}), [])[:2]))
        # 送信メール: every notice a range of notifications_tenant, a status one of
        # notifications_tenant_status (migration 0032), each read in the list's order. The big
        # tenant holds nearly every notice, and 88 % of them are sent, so its pages of every
        # notice or of the sent ones may as well read the primary key in order with the rest as
        # a filter (planned for their parameters: about 101 / 0.88 rows); its failed and queued
        # ones, and every page of a tenant with few notices, must read their own range.
        if kind in ("outbox", "outbox count"):
            used, nodes = indexes(doc.get("Plan", {}), []), [n for n, _ in scans(doc.get("Plan", {}), [])]
            text = json.dumps(doc.get("Plan", {}), ensure_ascii=False)
            filtered = "status = " in text
            want = ["notifications_tenant_status"] if filtered else ["notifications_tenant"]
            big_tenant = "tenant_id = '%d'::bigint" % tid in text
            most = not filtered or "status = 'sent'" in text
            ok = used == want or (big_tenant and most and used == ["notifications_pkey"])
            outbox_seen["big" if big_tenant else "small"] += 1
            if not ok or "Sort" in nodes:
                outbox.append((kind, used, nodes, conds(doc.get("Plan", {}), [])))
        for node, rel in scans(doc.get("Plan", {}), []):
            if node == "Seq Scan" and rel in BIG:
                seq.append((kind, rel, query[:300]))
    for name, _ in KINDS:
        t.ok(seen.get(name, 0) > 0, "plans of the %s statements were logged (%d)" % (name, seen.get(name, 0)))
    t.ok(sum(seen.values()) > 100, "over 100 plans of list statements examined (%d)" % sum(seen.values()))
    t.eq(seq, [], "no plan reads certificates, users, audit or notifications by a Seq Scan")
    t.ok(outbox_seen["big"] > 10 and outbox_seen["small"] >= 3,
         "送信メール's plans of the big tenant (%(big)d) and of a small one (%(small)d)" % outbox_seen)
    t.eq(outbox, [], "送信メール's pages and counts: an index range each, in the list's order, no sort")
    t.eq(custom, [], "the fixed-shape pages (%s) run their generic plan, planned once a connection"
         % ", ".join(GENERIC))
    t.done()


if __name__ == "__main__":
    sys.stdout.reconfigure(line_buffering=True)
    main()
