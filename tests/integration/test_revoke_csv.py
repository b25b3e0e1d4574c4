#!/usr/bin/env python3
"""CSV一括失効 (desknet 7.2, NRA 5): POST /api/certificates/revoke-csv with desknet's one common
name a line or NRA's 代表メールアドレス,利用デバイス用メールアドレス,デバイスコード, in UTF-8 (BOM,
quotes) or CP932; the whole file checked first (unknown, already revoked, a bad line, garbage
bytes, a duplicate, a name several certificates share: every error by line, nothing revoked);
now or on a date; as a job that finishes after kill -9 of shomei-revoke, nothing revoked twice."""
import datetime
import os
import random
import signal
import time

from shomei_test import TAP, Client, ctl, live_pid, psql, read_pid, wait_until

TAG = "".join(random.choice("abcdefghijkmnpqrstuvwxyz") for _ in range(6))
PW = "RevCsv2test1"
JST = datetime.timezone(datetime.timedelta(hours=9))


def tenant(slug, quota):
    ctl("tenant", "create", "--slug", slug, "--name", "一括失効" + slug, "--name-en", "RevCsv " + slug,
        "--quota", str(quota), "--features", "admin_may_issue")
    psql("UPDATE tenants SET key_type = 'p256' WHERE slug = :'p1'", slug)
    ctl("admin", "create", "--tenant", slug, "--login-id", slug + "-admin", "--password", PW)
    c = Client()
    assert c.login(slug + "-admin", PW).status == 200
    return c, int(psql("SELECT id FROM tenants WHERE slug = :'p1'", slug))


def issued(tid, ids, seconds=240):
    return wait_until(lambda: psql("SELECT count(*) FROM certificates WHERE tenant_id = :'p1' AND id = ANY (:'p2')"
                                   " AND status = 'issued'", tid, "{%s}" % ",".join(map(str, ids))) == str(len(ids)),
                      seconds)


def batch(c, tid, n):
    ids = []
    while len(ids) < n:
        r = c.post("/api/certificates/batch", {"count": min(1000, n - len(ids))})
        assert r.status == 202, r.body
        ids += (r.json() or {}).get("ids") or []
        assert issued(tid, ids), "issuing %d" % len(ids)
    return ids


def upload(c, data, revoke_on=None, filename="revoke.csv", lang=None):
    b = "----revcsv%d" % random.randrange(10 ** 9)
    body = b""
    if revoke_on is not None:
        body += ("--%s\r\nContent-Disposition: form-data; name=\"revoke_on\"\r\n\r\n%s\r\n" % (b, revoke_on)).encode()
    body += ("--%s\r\nContent-Disposition: form-data; name=\"file\"; filename=\"%s\"\r\n\r\n" % (b, filename)).encode()
    body += data + ("\r\n--%s--\r\n" % b).encode()
    h = {"Content-Type": "multipart/form-data; boundary=" + b}
    if lang:
        h["Accept-Language"] = lang
    return c.post("/api/certificates/revoke-csv", raw=body, headers=h)


def errors(r):
    return ((r.json() or {}).get("error") or {}).get("fields") or []


def wait_job(c, jid, seconds=120):
    end = time.time() + seconds
    doc = {}
    while time.time() < end:
        doc = c.get("/api/jobs/%d" % jid).json() or {}
        if doc.get("status") in ("done", "failed"):
            break
        time.sleep(0.3)
    return doc


def statuses(tid):
    return psql("SELECT string_agg(cn || '=' || status, ',' ORDER BY id) FROM certificates WHERE tenant_id = :'p1'", tid)


def test_cn_and_errors(t):
    c, tid = tenant("rc1-" + TAG, 20)
    ids = batch(c, tid, 6)
    cn = {i: psql("SELECT cn FROM certificates WHERE id = :'p1'", i) for i in ids}
    before = statuses(tid)
    # every kind of error at once, the good line 1 revokes nothing either
    psql("UPDATE certificates SET status = 'revoked', revoked_at = now() WHERE id = :'p1'", ids[5])
    before = statuses(tid)
    data = ("%s\r\nclient_999999\r\n%s\r\na,b\r\n%s\r\n" % (cn[ids[0]], cn[ids[5]], cn[ids[0]])).encode()
    r = upload(c, data)
    t.eq(r.status, 422, "a file with errors is refused")
    got = [(e.get("line"), e.get("field")) for e in errors(r)]
    t.eq(got, [(2, "コモンネーム"), (3, "コモンネーム"), (4, "コモンネーム"), (5, "コモンネーム")],
         "lines 2-5: unknown, already revoked, a bad line, a duplicate", errors(r))
    msgs = [e.get("message") for e in errors(r)]
    t.ok("ありません" in msgs[0] and "失効しています" in msgs[1] and "3 項目" in msgs[2] and "1 行目" in msgs[3],
         "each says why, in Japanese", msgs)
    t.eq(statuses(tid), before, "nothing revoked")
    r = upload(c, data, lang="en")
    t.ok("already revoked" in " ".join(e.get("message", "") for e in errors(r)), "English with Accept-Language: en")
    r = upload(c, b"client_000001\r\n\xff\xfe\x80\r\n")
    t.ok(r.status == 422 and errors(r)[0].get("line") == 2, "garbage bytes: refused on line 2", errors(r))
    t.eq(upload(c, b"").status, 422, "an empty file is refused")
    t.eq(upload(c, b"x", revoke_on="2020-01-01").status, 422, "a date in the past is refused")
    # desknet's layout, UTF-8 with BOM and quotes: revoked now
    data = b"\xef\xbb\xbf" + ('"%s"\r\n"%s"\r\n' % (cn[ids[0]], cn[ids[1]])).encode()
    r = upload(c, data)
    t.eq(r.status, 202, "desknet's layout with BOM and quotes: accepted", r.body[:300])
    j = wait_job(c, (r.json() or {}).get("job_id", 0))
    t.eq((j.get("status"), j.get("kind"), j.get("processed"), j.get("total")), ("done", "revoke_csv", 2, 2),
         "the job is done", j)
    t.eq([psql("SELECT status FROM certificates WHERE id = :'p1'", i) for i in ids[:2]], ["revoked", "revoked"],
         "both revoked")
    hist = psql("SELECT count(*) FROM audit WHERE tenant_id = :'p1' AND action = 'certificate_revoke'"
                " AND detail = :'p2'", tid, "%s: 失効中 -> 失効完了" % cn[ids[0]])
    t.eq(hist, "1", "the history has 失効中 -> 失効完了 once for each")
    # on a date
    day = (datetime.datetime.now(JST).date() + datetime.timedelta(days=3)).isoformat()
    r = upload(c, ("%s\n" % cn[ids[2]]).encode(), revoke_on=day)
    j = wait_job(c, (r.json() or {}).get("job_id", 0))
    got = psql("SELECT status || ' ' || to_char(revoke_on AT TIME ZONE 'Asia/Tokyo', 'YYYY-MM-DD HH24:MI')"
               " FROM certificates WHERE id = :'p1'", ids[2])
    t.eq(got, "revoke_scheduled %s 00:00" % day, "with revoke_on: scheduled at 00:00 JST of the day")


def test_nra_layout(t):
    c, tid = tenant("rc2-" + TAG, 10)
    users = []
    for who, devs in (("taro", ["01", "11"]), ("hana", ["01"])):
        email = "%s-%s@example.com" % (who, TAG)
        r = c.post("/api/users", {"family_name": "山田", "given_name": "太郎", "family_name_kana": "ヤマダ",
                                  "given_name_kana": "タロウ", "family_name_en": "Yamada", "given_name_en": who.title(),
                                  "email": email, "devices": [{"device": d} for d in devs]})
        assert r.status == 202, r.body
        users.append((email, [x["id"] for x in r.json()["certificates"]]))
    all_ids = [i for _, ids in users for i in ids]
    t.ok(issued(tid, all_ids), "three user certificates issued")
    # taro's two devices share the CN "Yamada Taro": by name it is ambiguous
    r = upload(c, b"Yamada Taro\r\n")
    t.ok(r.status == 422 and "複数" in errors(r)[0].get("message", ""), "a CN of two devices: name the device", errors(r))
    # NRA's layout in CP932 with CRLF
    taro = users[0][0]
    data = ("%s,%s,11\r\n" % (taro, taro)).encode("cp932")
    r = upload(c, data, filename="失効.csv".encode("utf-8").decode("utf-8"))
    t.eq((r.status, (r.json() or {}).get("encoding")), (202, "UTF-8"), "NRA's layout accepted", r.body[:300])
    j = wait_job(c, (r.json() or {}).get("job_id", 0))
    got = psql("SELECT string_agg(d.device_code || '=' || c.status, ',' ORDER BY d.device_code) FROM certificates c"
               " JOIN devices d ON d.id = c.device_id WHERE c.tenant_id = :'p1'", tid)
    t.eq(got, "01=issued,01=issued,11=revoked", "only taro's iPhone is revoked")
    r = upload(c, "ヤマダ,%s,01\r\n".encode("cp932") % taro.encode())
    t.ok(r.status == 422 and errors(r)[0].get("field") == "代表メールアドレス", "a CP932 line that names nobody", errors(r))


def test_kill(t):
    c, tid = tenant("rc3-" + TAG, 2000)
    ids = batch(c, tid, 2000)
    cns = psql("SELECT string_agg(cn, E'\\n' ORDER BY id) FROM certificates WHERE tenant_id = :'p1'", tid)
    r = upload(c, (cns + "\n").encode())
    t.eq(r.status, 202, "2,000 certificates accepted")
    jid = (r.json() or {}).get("job_id", 0)
    wait_until(lambda: int(psql("SELECT processed FROM jobs WHERE id = :'p1'", jid)) > 0, 30)
    pid = live_pid("revoke")
    os.kill(pid, signal.SIGKILL)
    done = int(psql("SELECT processed FROM jobs WHERE id = :'p1'", jid))
    print("# shomei-revoke killed (-9) with %d of 2000 revoked" % done, flush=True)
    j = wait_job(c, jid, 120)
    t.eq((j.get("status"), j.get("processed")), ("done", 2000), "after the restart the job finishes", j)
    t.eq(psql("SELECT count(*) FROM certificates WHERE tenant_id = :'p1' AND status = 'revoked'", tid), "2000",
         "all 2,000 revoked")
    twice = psql("SELECT count(*) FROM (SELECT detail FROM audit WHERE tenant_id = :'p1' AND action = 'certificate_revoke'"
                 " AND detail LIKE '%%失効完了' GROUP BY detail HAVING count(*) > 1) x", tid)
    t.eq(twice, "0", "none revoked twice (one history entry each)")
    t.ok(read_pid("revoke") not in (0, pid), "shomei-revoke is back (its supervisor)")


def main():
    t = TAP()
    for fn in (test_cn_and_errors, test_nra_layout, test_kill):
        t.run(fn)
    t.done()


if __name__ == "__main__":
    main()
