#!/usr/bin/env python3
"""再発行 (NRA 6-1, 6-2): POST /api/certificates/reissue and /reissue-csv. The old certificate is
revoked now or on a date (reason superseded, in the CRL), a new one for the same user and device
(a numbered one keeps its client_NNNNNN) comes through the issuance workers with a new key, serial
and password; 発行数 is unchanged for a valid one, a revoked one takes a licence (422 when none
is left); O/OU/validity/restriction only with the tenant's features; every refusal changes
nothing; a superseded certificate cannot be reissued twice; the CSV layouts (5 and 8 columns,
CP932, BOM, quotes) checked whole with every error by line; the job survives kill -9 of
shomei-revoke reissuing nothing twice; revoke and reissue of one certificate racing each other
leave one consistent outcome."""
import datetime
import os
import random
import signal
import subprocess
import threading

from cryptography import x509
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from shomei_test import TAP, Client, ctl, live_pid, psql, read_pid, scratch_dir, wait_until
from test_revoke_csv import errors, issued, upload as rc_upload, wait_job
import test_revoke_csv

TAG = "".join(random.choice("abcdefghijkmnpqrstuvwxyz") for _ in range(6))
PW = "Reissue2test1"
JST = datetime.timezone(datetime.timedelta(hours=9))
TMP = scratch_dir("shomei-reissue-")


def day(n):
    return (datetime.datetime.now(JST).date() + datetime.timedelta(days=n)).isoformat()


def tenant(slug, quota, features="admin_may_issue"):
    ctl("tenant", "create", "--slug", slug, "--name", "再発行" + slug, "--name-en", "Reissue " + slug,
        "--quota", str(quota), "--features", features)
    ctl("tenant", "set", "--slug", slug, "--quota", str(quota), "--features", features)
    psql("UPDATE tenants SET key_type = 'p256' WHERE slug = :'p1'", slug)
    ctl("admin", "create", "--tenant", slug, "--login-id", slug + "-admin", "--password", PW)
    c = Client()
    assert c.login(slug + "-admin", PW).status == 200
    return c, int(psql("SELECT id FROM tenants WHERE slug = :'p1'", slug))


def batch(c, tid, n):
    r = c.post("/api/certificates/batch", {"count": n})
    assert r.status == 202, r.body
    ids = (r.json() or {}).get("ids") or []
    assert issued(tid, ids), "issuing %d" % n
    return ids


def user(c, tid, who, devs, **dev):
    email = "%s-%s@example.com" % (who, TAG)
    r = c.post("/api/users", {"family_name": "山田", "given_name": "太郎", "family_name_kana": "ヤマダ",
                              "given_name_kana": "タロウ", "family_name_en": "Yamada", "given_name_en": who.title(),
                              "email": email, "devices": [dict({"device": d}, **dev) for d in devs]})
    assert r.status == 202, r.body
    ids = [x["id"] for x in r.json()["certificates"]]
    assert issued(tid, ids), "user certificates issued"
    return email, ids


def snapshot(tid):
    return (psql("SELECT string_agg(id || ':' || status || ':' || coalesce(revoke_on::text, '') || ':'"
                 " || coalesce(superseded_at::text, ''), ',' ORDER BY id) FROM certificates WHERE tenant_id = :'p1'", tid),
            psql("SELECT string_agg(coalesce(o, '') || coalesce(ou1, '') || coalesce(valid_to::text, ''), ','"
                 " ORDER BY id) FROM devices WHERE tenant_id = :'p1'", tid),
            psql("SELECT count(*) FROM audit WHERE tenant_id = :'p1' AND action NOT IN ('login', 'logout')", tid))


def summary(c):
    return c.get("/api/tenant").json() or {}


def row(cid):
    out = psql("SELECT status, cn, coalesce(number::text, ''), coalesce(serial, ''),"
               " coalesce(replaces_id::text, ''), superseded_at IS NOT NULL, coalesce(revocation_reason::text, ''),"
               " coalesce(to_char(revoke_on AT TIME ZONE 'Asia/Tokyo', 'YYYY-MM-DD'), '')"
               " FROM certificates WHERE id = :'p1'", cid)
    return out.split("|")


def new_of(cid):
    v = psql("SELECT id FROM certificates WHERE replaces_id = :'p1'", cid)
    return int(v) if v else None


def cert_of(cid):
    return x509.load_der_x509_certificate(bytes.fromhex(
        psql("SELECT encode(cert_der, 'hex') FROM certificates WHERE id = :'p1'", cid)))


def p12_password(c, cid):
    r = c.get("/api/certificates/%d/pin" % cid)
    return r.body.decode().strip() if r.status == 200 else None


def crl_serials(slug, seconds=20):
    """The serials of the tenant CRL, read by openssl."""
    f = os.path.join(TMP, slug + ".crl")
    c = Client()
    r = c.get("/crl/%s.crl" % slug)
    open(f, "wb").write(r.body)
    out = subprocess.run(["openssl", "crl", "-inform", "DER", "-in", f, "-noout", "-text"],
                         capture_output=True, text=True).stdout
    return out


def revoked_in_crl(slug, serial_hex, seconds=20):
    want = serial_hex.upper().lstrip("0")
    return wait_until(lambda: any(l.strip().upper().lstrip("0") == want
                                  for l in crl_serials(slug).splitlines()
                                  if l.strip().startswith("Serial Number:") is False), seconds) or \
        wait_until(lambda: want in crl_serials(slug).replace(":", "").upper(), seconds)


# ---------------------------------------------------------------------------------------------
def test_validation(t):
    c, tid = tenant("ri1-" + TAG, 10)
    cb, tidb = tenant("ri1b-" + TAG, 2)
    ids = batch(c, tid, 3)
    other = batch(cb, tidb, 1)
    # a certificate still issuing, claimed far ahead so that no worker takes it meanwhile
    busy = int(psql("INSERT INTO certificates (tenant_id, cn, key_type, status, claimed_at)"
                    " VALUES (:'p1', 'busy-one', 'p256', 'issuing', now() + interval '1 day') RETURNING id", tid))
    before = snapshot(tid), summary(c).get("issued")
    cases = [
        ({}, 422, "ids", "no ids"),
        ({"ids": []}, 422, "ids", "empty ids"),
        ({"ids": [ids[0], ids[0]]}, 422, "ids", "an id twice"),
        ({"ids": [ids[0]], "revoke_on": day(0)}, 422, "revoke_on", "today (0 days)"),
        ({"ids": [ids[0]], "revoke_on": day(31)}, 422, "revoke_on", "31 days ahead"),
        ({"ids": [ids[0]], "revoke_on": day(-1)}, 422, "revoke_on", "yesterday"),
        ({"ids": [ids[0]], "revoke_on": "2027/01/01"}, 422, "revoke_on", "malformed date"),
        ({"ids": [ids[0]], "o": "Example"}, 422, "o", "O without the org_units feature"),
        ({"ids": [ids[0]], "ou1": "Sales"}, 422, "ou1", "OU1 without the feature"),
        ({"ids": [ids[0]], "valid_to": "2030/01/01"}, 422, "valid_to", "validity without the feature"),
        ({"ids": [ids[0]], "restriction": {"mode": "or", "mac": "001122334455"}}, 422, "restriction",
         "restriction without the feature"),
        ({"ids": [ids[0], other[0]]}, 404, "ids", "another tenant's id (with one of ours)"),
        ({"ids": [ids[1], busy]}, 409, "ids", "a certificate still issuing"),
    ]
    for body, status, field, what in cases:
        r = c.post("/api/certificates/reissue", body)
        t.ok(r.status == status and field in [e.get("field") for e in errors(r)],
             "refused (%d, %s): %s" % (status, field, what), r.body[:300])
    r = c.post("/api/certificates/reissue", {"ids": [ids[0]], "o": "Example"}, headers={"Accept-Language": "en"})
    t.ok(any("service" in e.get("message", "") for e in errors(r)), "English with Accept-Language: en", r.body[:300])
    t.eq((snapshot(tid), summary(c).get("issued")), before, "nothing changed by any refusal")
    psql("UPDATE certificates SET status = 'failed' WHERE id = :'p1'", busy)


def test_numbered_now(t):
    slug = "ri2-" + TAG
    c, tid = tenant(slug, 3)
    ids = batch(c, tid, 2)
    old = ids[0]
    s0 = summary(c)
    st, cn, num, serial, _, _, _, _ = row(old)
    pw_old = p12_password(c, old)
    r = c.post("/api/certificates/reissue", {"ids": [old]})
    t.eq(r.status, 200, "POST /api/certificates/reissue answers 200", r.body[:300])
    nid = new_of(old)
    t.ok(nid is not None and (r.json() or {}).get("items", [{}])[0].get("new_id") == nid,
         "the answer names the new certificate")
    o = row(old)
    t.eq((o[0], o[5], o[6]), ("revoked", "t", "4"), "the old one is revoked (superseded, reason 4) and marked superseded")
    t.ok(issued(tid, [nid], 120), "the new one is issued by the workers")
    n = row(nid)
    t.eq((n[1], n[2], n[4]), (cn, num, str(old)), "the new one keeps %s and its number, and names the old one" % cn)
    t.ok(n[3] != serial and n[3] != "", "a new serial")
    a, b = cert_of(old), cert_of(nid)
    t.ok(a.public_key().public_numbers() != b.public_key().public_numbers(), "a new key")
    t.eq(b.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value, cn, "the new certificate's CN (python3-cryptography)")
    pw_new = p12_password(c, nid)
    t.ok(pw_new and pw_new != pw_old, "a new PKCS#12 password")
    p12 = c.get("/api/certificates/%d/p12" % nid)
    ok = False
    try:
        key, cert, _ = pkcs12.load_key_and_certificates(p12.body, pw_new.encode())
        ok = cert.serial_number == b.serial_number
    except Exception as e:  # noqa: BLE001
        print("# p12: %s" % e)
    t.ok(ok, "the new .p12 opens with the new password and holds the new certificate")
    s1 = summary(c)
    t.eq((s1.get("issued"), s1.get("available")), (s0.get("issued"), s0.get("available")),
         "発行数 and 追加発行可能数 unchanged by reissuing a valid certificate")
    hist = psql("SELECT string_agg(action || '|' || detail, ',' ORDER BY id) FROM audit WHERE tenant_id = :'p1'"
                " AND detail LIKE :'p2' || ':%'", tid, cn)
    t.ok("certificate_reissue|%s: 再発行受付" % cn in hist and "certificate_revoke|%s: 失効中 -> 失効完了" % cn in hist,
         "history: 証明書再発行 and 証明書失効", hist)
    en = c.get("/api/audit?action=certificate_reissue", headers={"Accept-Language": "en"}).json() or {}
    ja = c.get("/api/audit?action=certificate_reissue").json() or {}
    t.eq(([x.get("detail") for x in en.get("items", [])], [x.get("detail") for x in ja.get("items", [])]),
         (["%s: reissue accepted (old certificate revoked: now)" % cn], ["%s: 再発行受付 (旧証明書の失効: ただちに)" % cn]),
         "the history in the viewer's language (GET /api/audit)")
    t.ok(wait_until(lambda: ("%X" % a.serial_number) in crl_serials(slug).replace(":", "").upper(), 20),
         "the old serial is in the tenant CRL (openssl crl)")
    # the superseded one cannot be reissued again (two valid ones would come out of it)
    before = snapshot(tid)
    r = c.post("/api/certificates/reissue", {"ids": [old]})
    t.ok(r.status == 409 and "再発行" in errors(r)[0].get("message", ""), "a superseded certificate: 409", r.body[:300])
    t.eq(snapshot(tid), before, "nothing changed")


def test_dated_and_revoked(t):
    c, tid = tenant("ri3-" + TAG, 3)
    ids = batch(c, tid, 3)
    s0 = summary(c)
    r = c.post("/api/certificates/reissue", {"ids": [ids[0]], "revoke_on": day(7)})
    t.eq(r.status, 200, "a reissue revoking on a date", r.body[:300])
    o = row(ids[0])
    t.eq((o[0], o[7]), ("revoke_scheduled", day(7)), "the old one is 失効予定 for that date")
    nid = new_of(ids[0])
    t.ok(issued(tid, [nid], 120), "the new one is issued now")
    t.eq(summary(c).get("issued"), s0.get("issued"), "発行数 unchanged while the old one waits for its date")
    # its date comes (moved to the past: apply-due --as-of ahead would apply other tests' rows too)
    psql("UPDATE certificates SET revoke_on = now() - interval '1 second' WHERE id = :'p1'", ids[0])
    ctl("revocations", "apply-due")
    t.eq(row(ids[0])[0], "revoked", "the old one is revoked when due")
    t.eq(summary(c).get("issued"), s0.get("issued"), "発行数 still unchanged")
    # a revoked certificate only issues, and takes a licence: the quota is full (3 of 3)
    r = c.post("/api/certificates/revoke", {"ids": [ids[1]]})
    t.eq(r.status, 200, "one revoked (a licence free)")
    r = c.post("/api/certificates/revoke", {"ids": [ids[2]]})
    s1 = summary(c)
    t.eq(s1.get("available"), 2, "two licences free")
    r = c.post("/api/certificates/reissue", {"ids": [ids[1]]})
    t.eq(r.status, 200, "reissuing a revoked certificate", r.body[:300])
    t.eq(row(ids[1])[0], "revoked", "it stays revoked (no second revocation)")
    t.eq(psql("SELECT count(*) FROM audit WHERE tenant_id = :'p1' AND action = 'certificate_revoke'"
              " AND detail LIKE :'p2' || ':%'", tid, row(ids[1])[1]), "1", "one revocation entry only")
    t.eq(summary(c).get("issued"), s1.get("issued") + 1, "it takes a licence (発行数 + 1)")
    psql("UPDATE tenants SET quota = (SELECT count(*) FROM certificates WHERE tenant_id = :'p1'"
         " AND status IN ('issuing', 'issued', 'downloaded', 'revoke_scheduled') AND superseded_at IS NULL)"
         " WHERE id = :'p1'", tid)
    before = snapshot(tid)
    r = c.post("/api/certificates/reissue", {"ids": [ids[2]]})
    t.ok(r.status == 422 and (r.json() or {}).get("error", {}).get("code") == "quota", "no licence left: 422", r.body[:300])
    t.eq(snapshot(tid), before, "nothing changed")


def test_user_fields(t):
    c, tid = tenant("ri4-" + TAG, 10, "admin_may_issue,org_units,validity_period,install_restriction")
    email, ids = user(c, tid, "taro", ["01", "11"], o="OldOrg", ou1="OldOU")
    r = c.post("/api/certificates/reissue", {"ids": ids, "o": "", "ou1": "NewOU", "valid_to": "2027/06/30"})
    t.eq(r.status, 200, "reissue of a user's two devices with OU1 and validity", r.body[:300])
    new = [new_of(i) for i in ids]
    t.ok(issued(tid, new, 120), "both new certificates issued")
    for i, n in zip(ids, new):
        a, b = cert_of(i), cert_of(n)
        ous = [x.value for x in b.subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)]
        t.eq((b.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value, "NewOU" in ous, "OldOU" in ous),
             ("OldOrg", True, False), "empty O keeps the previous one, OU1 is the new one", ous)
        end = b.not_valid_after.replace(tzinfo=datetime.timezone.utc).astimezone(JST)
        t.eq(end.strftime("%Y/%m/%d"), "2027/06/30", "validity as asked")
        t.eq(b.subject.get_attributes_for_oid(NameOID.EMAIL_ADDRESS)[0].value,
             a.subject.get_attributes_for_oid(NameOID.EMAIL_ADDRESS)[0].value, "same user e-mail")
        t.eq(psql("SELECT device_id FROM certificates WHERE id = :'p1'", n),
             psql("SELECT device_id FROM certificates WHERE id = :'p1'", i), "same device")
    r = c.post("/api/certificates/reissue", {"ids": [new[1]], "restriction": {"mode": "or", "mac": "001122aabbcc"}})
    t.ok(r.status == 409, "restriction on a non-WindowsPC device: refused", r.body[:300])
    r = c.post("/api/certificates/reissue", {"ids": [new[0]], "restriction": {"mode": "or", "mac": "001122aabbcc"}})
    t.eq(r.status, 200, "restriction on the WindowsPC device", r.body[:300])
    t.eq(psql("SELECT restriction_mode || restrict_mac FROM devices d JOIN certificates c ON c.device_id = d.id"
              " WHERE c.id = :'p1'", new[0]), "or001122AABBCC", "the device's restriction changed")
    # users API: the statuses and dates the 利用者 screens show
    uid = psql("SELECT user_id FROM certificates WHERE id = :'p1'", ids[0])
    certs = (c.get("/api/users/%s" % uid).json() or {}).get("certificates") or []
    got = {x["id"]: x["status"] for x in certs}
    t.eq((got.get(ids[0]), got.get(new[1])), ("revoked", "issued"), "GET /api/users/{id} lists the old and the new")


def upload(c, data, revoke_on=None, filename="reissue.csv", lang=None):
    orig = c.post

    def post(url, body=None, **kw):
        return orig("/api/certificates/reissue-csv", body, **kw)
    c.post = post
    try:
        return rc_upload(c, data, revoke_on, filename, lang)
    finally:
        c.post = orig


def test_csv(t):
    c, tid = tenant("ri5-" + TAG, 20, "admin_may_issue,org_units")
    taro, tids = user(c, tid, "taro", ["01", "11"], o="Org")
    hana, hids = user(c, tid, "hana", ["01"])
    before = snapshot(tid)
    bad = ("%s,%s,01\r\n" % (taro, taro) + "nobody@example.com,nobody@example.com,01\r\n" + "only,two\r\n"
           + "%s,%s,01\r\n" % (taro, taro) + "%s,%s,\"%s\",,,11\r\n" % (taro, taro, "O" * 65)).encode()
    r = upload(c, bad)
    lines = [(e.get("line"), e.get("field")) for e in errors(r)]
    t.eq((r.status, lines), (422, [(2, "代表メールアドレス"), (3, "代表メールアドレス"), (4, "代表メールアドレス"),
                                   (5, "Organization")]),
         "every error by line and field (unknown, bad line, twice, a bad O)", errors(r))
    r = upload(c, b"\xff\xfe\x00garbage\r\n")
    t.ok(r.status == 422 and errors(r), "garbage bytes refused", r.body[:200])
    r = upload(c, bad, lang="en")
    t.ok(r.status == 422 and errors(r)[0].get("field") == "Main e-mail address", "English field names", errors(r))
    t.eq(snapshot(tid), before, "nothing changed by the refused files")
    # CP932 with a BOM-less header, quotes, 5 and 8 columns; taro's iPhone gets a new OU
    data = ("代表メールアドレス,利用デバイス用メールアドレス,デバイスコード\r\n"
            "\"%s\",%s,01,,\r\n" % (taro, taro) + "%s,%s,,営業部,,11,,\r\n" % (taro, taro)).encode("cp932")
    r = upload(c, data)
    t.ok(r.status == 422 and errors(r)[0].get("field") == "OrganizationUnit1", "a non-ASCII OU refused (CP932 read)", errors(r))
    data = ("代表メールアドレス,利用デバイス用メールアドレス,デバイスコード\r\n"
            "\"%s\",%s,01,,\r\n" % (taro, taro) + "%s,%s,,Sales,,11,,\r\n" % (taro, taro)
            + "%s,%s,01\r\n" % (hana, hana)).encode("cp932")
    # a date past test_revoke's apply-due --as-of (4 days ahead), which applies every tenant's
    r = upload(c, b"\xef\xbb\xbf" + data.decode("cp932").encode("utf-8"), revoke_on=day(20))
    t.eq(r.status, 202, "UTF-8 with BOM, a dated revocation: accepted", r.body[:300])
    j = wait_job(c, (r.json() or {}).get("job_id", 0))
    t.eq((j.get("status"), j.get("processed"), j.get("kind")), ("done", 3, "reissue_csv"), "the job is done (GET /api/jobs/{id})")
    jl = (c.get("/api/jobs").json() or {}).get("items") or []
    t.ok(any(x.get("id") == j.get("id") and x.get("kind_label") == "CSV一括再発行" for x in jl), "listed by GET /api/jobs")
    olds = tids + hids
    t.eq([row(i)[0] for i in olds], ["revoke_scheduled"] * 3, "the old ones are 失効予定")
    new = [new_of(i) for i in olds]
    t.ok(all(new) and issued(tid, new, 120), "three new certificates issued")
    ou = [x.value for x in cert_of(new[1]).subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)]
    org = cert_of(new[1]).subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value
    t.eq((org, "Sales" in ou), ("Org", True), "8 columns: empty O keeps Org, OU1 Sales", ou)
    r = upload(c, ("%s,%s,01\r\n" % (hana, hana)).encode("cp932"))
    t.eq(r.status, 202, "the device's current (new) certificate is reissued next time", r.body[:300])
    wait_job(c, (r.json() or {}).get("job_id", 0))
    t.eq(row(new[2])[0], "revoked", "hana's second certificate revoked now")


def test_kill(t):
    c, tid = tenant("ri6-" + TAG, 700)
    ids = batch(c, tid, 600)
    s0 = summary(c)
    cns = psql("SELECT string_agg(id::text, ',' ORDER BY id) FROM certificates WHERE tenant_id = :'p1'", tid)
    # make them user certificates of one user each (the CSV names devices)
    psql("WITH u AS (INSERT INTO users (tenant_id, email, family_name_en, given_name_en)"
         " SELECT :'p1', 'k' || c.id || '@example.com', 'K', 'K' FROM certificates c WHERE c.tenant_id = :'p1'"
         " RETURNING id, email), d AS (INSERT INTO devices (tenant_id, user_id, device_code, email)"
         " SELECT :'p1', u.id, '01', u.email FROM u RETURNING id, user_id, email)"
         " UPDATE certificates c SET user_id = d.user_id, device_id = d.id, number = NULL FROM d"
         " WHERE d.email = 'k' || c.id || '@example.com'", tid)
    data = "".join("k%s@example.com,k%s@example.com,01\n" % (i, i) for i in cns.split(",")).encode()
    r = upload(c, data)
    t.eq(r.status, 202, "600 lines accepted", r.body[:300])
    jid = (r.json() or {}).get("job_id", 0)
    wait_until(lambda: int(psql("SELECT processed FROM jobs WHERE id = :'p1'", jid)) > 0, 60)
    pid = live_pid("revoke")
    os.kill(pid, signal.SIGKILL)
    done = int(psql("SELECT processed FROM jobs WHERE id = :'p1'", jid))
    print("# shomei-revoke killed (-9) with %d of 600 reissued" % done, flush=True)
    j = wait_job(c, jid, 180)
    t.eq((j.get("status"), j.get("processed")), ("done", 600), "after the restart the job finishes", j)
    t.eq(psql("SELECT count(*) FROM certificates WHERE tenant_id = :'p1' AND replaces_id IS NOT NULL", tid), "600",
         "600 new certificates, one per old one")
    t.eq(psql("SELECT count(*) FROM (SELECT replaces_id FROM certificates WHERE tenant_id = :'p1'"
              " AND replaces_id IS NOT NULL GROUP BY replaces_id HAVING count(*) > 1) x", tid), "0", "none reissued twice")
    t.eq(psql("SELECT count(*) FROM audit WHERE tenant_id = :'p1' AND action = 'certificate_reissue'"
              " AND detail LIKE '%%再発行受付%%'", tid), "600", "one 証明書再発行 entry each")
    t.ok(read_pid("revoke") not in (0, pid), "shomei-revoke is back (its supervisor)")
    t.eq(summary(c).get("issued"), s0.get("issued"), "発行数 unchanged")


def test_race(t):
    """Revoke and reissue of the same certificate at once, many rounds."""
    c, tid = tenant("ri7-" + TAG, 60)
    ids = batch(c, tid, 40)
    c2 = Client()
    assert c2.login("ri7-%s-admin" % TAG, PW).status == 200
    bad = []
    for cid in ids:
        s0 = summary(c)
        out = {}
        barrier = threading.Barrier(2)

        def go(name, fn):
            barrier.wait()
            out[name] = fn()
        th = [threading.Thread(target=go, args=("revoke", lambda: c.post("/api/certificates/revoke", {"ids": [cid]}))),
              threading.Thread(target=go, args=("reissue", lambda: c2.post("/api/certificates/reissue", {"ids": [cid]})))]
        for x in th:
            x.start()
        for x in th:
            x.join()
        rv, ri = out["revoke"].status, out["reissue"].status
        kids = psql("SELECT count(*) FROM certificates WHERE replaces_id = :'p1'", cid)
        st = row(cid)[0]
        s1 = summary(c)
        if rv == 200 and ri == 200:
            # revoke first, then the reissue of a revoked one: one licence taken
            ok = st == "revoked" and kids == "1" and s1.get("issued") == s0.get("issued")
        elif ri == 200:
            ok = rv == 409 and st == "revoked" and kids == "1" and s1.get("issued") == s0.get("issued")
        else:
            ok = False
        entries = psql("SELECT count(*) FROM audit WHERE tenant_id = :'p1' AND action = 'certificate_revoke'"
                       " AND detail LIKE :'p2' || ': 失効中%'", tid, row(cid)[1])
        ok = ok and entries == "1"
        if not ok:
            bad.append((cid, rv, ri, st, kids, s0.get("issued"), s1.get("issued"), entries))
    valid = psql("SELECT count(*) FROM certificates WHERE tenant_id = :'p1' AND status IN"
                 " ('issuing', 'issued', 'downloaded', 'revoke_scheduled') AND superseded_at IS NULL", tid)
    t.eq(bad, [], "40 rounds: each ends revoked once with exactly one new certificate and 発行数 right")
    t.eq(valid, "40", "never two valid certificates from one: 40 valid, one per slot")


def main():
    t = TAP()
    for fn in (test_validation, test_numbered_now, test_dated_and_revoked, test_user_fields, test_csv, test_race, test_kill):
        t.run(fn)
    t.done()


if __name__ == "__main__":
    main()
