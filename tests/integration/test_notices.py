#!/usr/bin/env python3
"""Notices (issue 13): every notice is one message in the local SMTP server's Maildir
(var/mail/, Postfix from scripts/up), read back with Python's email package: headers decode,
recipient, language, text and HTML parts (the install mail's HTML with the download site's QR code
as an inline PNG that zbarimg reads); the credentials link shows the ID and password once,
then answers 410, and no mail carries the password; nothing for a rolled-back change or a tenant
with notices off; the SMTP server down for 60 s: the notices wait and go out once each after; a
550 answer ends as failed, shown in 送信メール, and can be re-sent; two mail workers send each row
once; the expiry reminders at 30, 15, 5 and 1 days with `shomeictl notices due --as-of`, once each."""
import glob
import os
import random
import re
import subprocess
import tempfile
import time

from shomei_test import (TAP, UP, VAR, Client, ctl, hold, live_pid, mail_messages, path, psql, release, scripts_up,
                         wait_until)

TAG = "".join(random.choice("abcdefghijkmnpqrstuvwxyz") for _ in range(6))
PW = "Notice2test1"
MAILDIR = path(UP["maildir"])


messages = mail_messages


def wait_messages(to, n, seconds=60):
    wait_until(lambda: len(messages(to)) >= n, seconds)
    return messages(to)


def body(m, subtype="plain"):
    part = m.get_body(preferencelist=(subtype,))
    return part.get_content() if part is not None else ""


def tenant(slug, notify=True, lang="ja", features="admin_may_issue,notify_users,download_site,validity_period"):
    ctl("tenant", "create", "--slug", slug, "--name", "通知" + slug, "--name-en", "Notice " + slug,
        "--quota", "30", "--features", features)
    psql("UPDATE tenants SET key_type = 'p256' WHERE slug = :'p1'", slug)
    ctl("admin", "create", "--tenant", slug, "--login-id", slug + "-admin", "--password", PW)
    c = Client()
    assert c.login(slug + "-admin", PW).status == 200
    body_ = {"notice_address": "admin-%s@example.com" % slug, "notice_lang": lang}
    if "download_site" in features:  # the users open their links from here (loopback)
        body_["download_allowlist"] = ["127.0.0.0/8", "::1/128"]
    if notify:
        body_["notify_users"] = True
    r = c.request("PUT", "/api/tenant/settings", body=body_)
    assert r.status == 200, r.body
    return c, int(psql("SELECT id FROM tenants WHERE slug = :'p1'", slug))


def register(c, email_, device="01", valid_to=None):
    d = {"device": device}
    if valid_to:
        d["valid_to"] = valid_to
    r = c.post("/api/users", {"family_name": "通知", "given_name": "花子", "family_name_kana": "ツウチ",
                              "given_name_kana": "ハナコ", "family_name_en": "Tsuchi", "given_name_en": "Hanako",
                              "email": email_, "devices": [d]})
    assert r.status == 202, r.body
    uid = r.json()["user"]["id"]
    assert wait_until(lambda: psql("SELECT count(*) FROM certificates WHERE user_id = :'p1' AND status = 'issued'",
                                   uid) == "1", 120), "not issued"
    return uid, int(psql("SELECT id FROM certificates WHERE user_id = :'p1'", uid))


def outbox(c, **q):
    qs = "&".join("%s=%s" % kv for kv in q.items())
    return c.get("/api/notifications" + ("?" + qs if qs else "")).json()


def link_of(m):
    found = re.findall(r"https://\S+/credentials/[A-Za-z0-9_-]{43}", body(m))
    return found[0] if found else None


def qr_image(t, m, url):
    """The install mail's HTML shows a PNG part (cid:) that zbarimg reads as url; the text keeps it."""
    html = m.get_body(preferencelist=("html",))
    cids = re.findall(r'<img src="cid:([^"]+)"', html.get_content() if html else "")
    t.eq(len(cids), 1, "the HTML part shows one image by cid:")
    parts = [p for p in m.walk() if p.get_content_type() == "image/png"]
    t.eq(len(parts), 1, "the message has one image/png part")
    if not cids or not parts:
        return
    p = parts[0]
    t.eq(str(p["Content-ID"]).strip("<>"), cids[0], "its Content-ID is the one the HTML names")
    t.ok(m.get_content_type() == "multipart/alternative" and
         any(x.get_content_type() == "multipart/related" for x in m.iter_parts()),
         "HTML and image in a multipart/related alternative")
    data = p.get_content()
    t.ok(data[:8] == b"\x89PNG\r\n\x1a\n", "the part decodes (base64) to a PNG")
    fd, f = tempfile.mkstemp(suffix=".png")
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    o = subprocess.run(["zbarimg", "-q", "--raw", f], capture_output=True, text=True)
    os.unlink(f)
    t.eq(o.stdout.strip(), url, "zbarimg reads the PNG as a QR code of the download site's URL")
    t.ok(url in body(m, "plain") and "cid:" not in body(m, "plain"), "the text part keeps the URL")


def test_issuance(t):
    slug = "ntc-" + TAG
    c, tid = tenant(slug)
    addr = "hanako-%s@example.com" % TAG
    uid, cid = register(c, addr)
    ms = wait_messages(addr, 2)
    subjects = sorted(str(m["Subject"]) for m in ms)
    t.eq(len(ms), 2, "issuance: two messages to the device e-mail")
    t.eq(subjects, sorted(["【通知%s】電子証明書の「秘密の鍵」を登録してください" % slug,
                           "【通知%s】ログイン ID とパスワードのご案内" % slug]),
         "their subjects decode (RFC 2047) to the manual's titles")
    raws = [open(f, "rb").read() for f in glob.glob(os.path.join(MAILDIR, "*", "*"))]
    raws = [r for r in raws if ("<%s>" % addr).encode() in r]
    t.ok(len(raws) == 2 and all(re.search(rb"(?m)^Subject: =\?UTF-8\?B\?[A-Za-z0-9+/=]+\?=\r?$", r) for r in raws),
         "on the wire the subjects are RFC 2047 encoded words (UTF-8, base64)")
    t.ok(all(b"Content-Transfer-Encoding: base64" in r and b"charset=UTF-8" in r for r in raws),
         "the bodies are UTF-8 in base64")
    for m in ms:
        t.ok(m["Date"] is not None and m["Message-ID"] is not None and m["From"] is not None,
             "Date, Message-ID, From: %s" % m["Subject"])
        t.eq(m.get_content_type(), "multipart/alternative", "multipart/alternative")
        t.ok(body(m, "plain") and "<a href=" in body(m, "html"), "a text and an HTML part")
        t.eq(str(m["Content-Language"]), "ja", "in Japanese (the default)")
        t.ok("通知 花子 様" in body(m), "addressed to the user by name")
    install = [m for m in ms if "秘密の鍵" in str(m["Subject"])][0]
    t.ok(UP["url"] + "/dl/%s/" % slug in body(install), "the install mail names the download site",
         body(install))
    qr_image(t, install, UP["url"] + "/dl/%s/" % slug)
    creds = [m for m in ms if "パスワード" in str(m["Subject"])][0]
    pin = c.get("/api/certificates/%d/pin" % cid).body.decode().strip()
    t.ok(len(pin) >= 8, "the certificate's password (the admin's /pin)")
    t.ok(all(pin not in body(m, st) for m in ms for st in ("plain", "html")), "no mail carries the password")
    link = link_of(creds)
    t.ok(link is not None, "the credentials mail has a one-time link", body(creds))
    if link:
        u = link[len(UP["url"]):]
        anon = Client()
        # outside the download site's allow-list the page says where to open it, shows nothing
        # and leaves the link usable; the refusal is in the history like the site's own
        r = c.request("PUT", "/api/tenant/settings", body={"download_allowlist": ["192.0.2.0/24"]})
        t.eq(r.status, 200, "the allow-list narrowed to 192.0.2.0/24", r.body)
        r = anon.get(u)
        t.ok(r.status == 403 and "このネットワークからは表示できません" in r.body.decode()
             and pin not in r.body.decode(), "outside the allow-list: 403 with the reason", r.body)
        r = anon.post(u)
        t.ok(r.status == 403 and pin not in r.body.decode(), "and POST shows nothing (403)", r.body)
        h = c.get("/api/audit?q=127.0.0.1").json() or {}
        t.ok(any("127.0.0.1" in (i.get("detail") or "") for i in h.get("items", [])),
             "the refusal is in the history with the address", h)
        # one entry an address and minute, "（N回）": the GET's and the POST's refusals both counted
        counts = [int(n) for i in h.get("items", []) if "127.0.0.1" in (i.get("detail") or "")
                  for n in re.findall(r"[(（](\d+)回[)）]", i.get("detail") or "")]
        t.eq(sum(counts), 2, "both refusals (GET and POST) are counted in the history", h)
        r = c.request("PUT", "/api/tenant/settings", body={"download_allowlist": ["127.0.0.0/8", "::1/128"]})
        t.eq(r.status, 200, "the allow-list back", r.body)
        r = anon.get(u)
        t.ok(r.status == 200 and pin not in r.body.decode(), "the link: 200, a button, no password yet")
        r = anon.post(u)
        page = r.body.decode()
        t.ok(r.status == 200 and pin in page and addr in page, "POST shows the ID and the password once", page)
        t.eq(anon.get(u).status, 410, "then the link answers 410")
        t.eq(anon.post(u).status, 410, "and showing it again: 410")
        t.eq(anon.get(u[:-3] + "abc").status, 404, "a made-up token: 404")
    adm = wait_messages("admin-%s@example.com" % slug, 1)
    t.eq([str(m["Subject"]) for m in adm], ["【通知%s】利用者登録受付通知" % slug],
         "the administrators: one 利用者登録受付通知")
    time.sleep(3)
    t.eq(len(messages(addr)), 2, "exactly two to the user, no duplicate")

    # revocation: the user and the administrators
    r = c.post("/api/certificates/revoke", {"ids": [cid]})
    t.ok(r.status in (200, 202), "revoke", r.body)
    ms = wait_messages(addr, 3)
    rev = [m for m in ms if "失効" in str(m["Subject"])]
    t.eq(len(rev), 1, "revocation: one notice to the user")
    adm = wait_messages("admin-%s@example.com" % slug, 2)
    t.eq(sorted(str(m["Subject"]) for m in adm)[0:2],
         sorted(["【通知%s】利用者登録受付通知" % slug, "【通知%s】電子証明書失効通知" % slug]),
         "and one 電子証明書失効通知 to the administrators")
    items = outbox(c)["items"]
    t.ok(len(items) == 5 and all(i["status"] == "sent" for i in items), "送信メール lists the five, sent",
         items)
    t.ok(all(i["subject"] and i["to"] and i["created_at"] and i["sent_at"] for i in items),
         "each with recipient, subject and times")


def multipart(fields, filename, data):
    b = "----notice%d" % random.randrange(10 ** 9)
    body = b""
    for k, v in fields.items():
        body += ("--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n%s\r\n" % (b, k, v)).encode()
    body += ("--%s\r\nContent-Disposition: form-data; name=\"file\"; filename=\"%s\"\r\n"
             "Content-Type: text/csv\r\n\r\n" % (b, filename)).encode() + data + ("\r\n--%s--\r\n" % b).encode()
    return body, {"Content-Type": "multipart/form-data; boundary=" + b}


def wait_job(c, jid, seconds=120):
    ok = wait_until(lambda: (c.get("/api/jobs/%d" % jid).json() or {}).get("status") in ("done", "failed"), seconds)
    return c.get("/api/jobs/%d" % jid).json() if ok else {}


def admin_subjects(slug, n, seconds=60):
    return [str(m["Subject"]) for m in wait_messages("admin-%s@example.com" % slug, n, seconds)]


def test_admin_notices(t):
    slug = "nta-" + TAG
    c, tid = tenant(slug)
    name = "【通知%s】" % slug
    # 1次削除, then マスター削除 (its certificate revoked first)
    addr = "del-%s@example.com" % TAG
    uid, cid = register(c, addr)
    t.eq(c.post("/api/users/%d/delete" % uid).status, 200, "1次削除")
    subs = admin_subjects(slug, 2)
    t.ok(subs.count(name + "利用者 1次削除通知") == 1, "one 利用者 1次削除通知", subs)
    deleted = [m for m in messages("admin-%s@example.com" % slug) if "1次削除" in str(m["Subject"])]
    t.ok(deleted and addr in body(deleted[0]) and "通知 花子" in body(deleted[0]), "it names the user")
    t.ok(c.post("/api/certificates/revoke", {"ids": [cid]}).status in (200, 202), "revoke its certificate")
    t.eq(c.delete("/api/users/%d" % uid).status, 204, "マスター削除 (2次削除): 204")
    subs = admin_subjects(slug, 4)
    t.ok(subs.count(name + "利用者マスター削除通知") == 1 and subs.count(name + "電子証明書失効通知") == 1,
         "one 電子証明書失効通知 and one 利用者マスター削除通知", subs)
    # CSV一括登録: 利用者一括登録受付通知 when the job is done; with admin_download, the bulk download
    # URL too and nothing to its users
    rows = ["imp%d-%s@example.com,一括,太郎,イッカツ,タロウ,Ikkatsu,Taro,imp%d-%s@example.com,01" % (i, TAG, i, TAG)
            for i in range(3)]
    raw, h = multipart({}, "users.csv", ("\r\n".join(rows) + "\r\n").encode())
    r = c.post("/api/users/import", raw=raw, headers=h)
    t.eq(r.status, 202, "CSV一括登録 accepted", r.body)
    j = wait_job(c, (r.json() or {}).get("job_id", 0))
    t.eq(j.get("status"), "done", "the job is done")
    subs = admin_subjects(slug, 5)
    t.ok(subs.count(name + "利用者一括登録受付通知") == 1, "one 利用者一括登録受付通知", subs)
    done = [m for m in messages("admin-%s@example.com" % slug) if "一括登録受付通知" in str(m["Subject"])]
    t.ok(done and "users.csv" in body(done[0]) and "3" in body(done[0]), "it names the file and the count")
    t.ok(len(wait_messages("imp0-%s@example.com" % TAG, 2)) == 2, "its users get their two notices")
    rows = ["adm%d-%s@example.com,一括,花子,イッカツ,ハナコ,Ikkatsu,Hanako,adm%d-%s@example.com,01" % (i, TAG, i, TAG)
            for i in range(2)]
    raw, h = multipart({"admin_download": "true"}, "bulk.csv", ("\r\n".join(rows) + "\r\n").encode())
    r = c.post("/api/users/import", raw=raw, headers=h)
    j = wait_job(c, (r.json() or {}).get("job_id", 0))
    t.eq(j.get("status"), "done", "an admin_download import is done")
    subs = admin_subjects(slug, 7)
    t.ok(subs.count(name + "電子証明書一括ダウンロードのご案内") == 1, "one bulk download mail", subs)
    bulk = [m for m in messages("admin-%s@example.com" % slug) if "一括ダウンロード" in str(m["Subject"])]
    t.ok(bulk and UP["url"] + "/#/certificates" in body(bulk[0]), "with the portal's URL")
    wait_until(lambda: psql("SELECT count(*) FROM certificates WHERE tenant_id = :'p1' AND status = 'issuing'",
                            tid) == "0", 120)
    time.sleep(3)
    t.eq(len(messages("adm0-%s@example.com" % TAG)), 0, "its users get nothing (the administrator hands out)")
    # CSV一括失効: 利用者一括失効受付通知 when done
    # the NRA layout (代表メール, デバイス用メール, デバイスコード): the three imported share a CN
    cn = "imp1-{0}@example.com,imp1-{0}@example.com,01".format(TAG)
    b = "----rev%d" % random.randrange(10 ** 9)
    raw = ("--%s\r\nContent-Disposition: form-data; name=\"file\"; filename=\"revoke.csv\"\r\n\r\n%s\r\n"
           "\r\n--%s--\r\n" % (b, cn, b)).encode()
    r = c.post("/api/certificates/revoke-csv", raw=raw, headers={"Content-Type": "multipart/form-data; boundary=" + b})
    t.eq(r.status, 202, "CSV一括失効 accepted", r.body)
    wait_job(c, (r.json() or {}).get("job_id", 0))
    subs = admin_subjects(slug, 9)
    t.ok(subs.count(name + "利用者一括失効受付通知") == 1, "one 利用者一括失効受付通知", subs)
    t.ok(subs.count(name + "電子証明書失効通知") == 2, "and the revocation's 電子証明書失効通知", subs)
    t.eq(len([m for m in wait_messages("imp1-%s@example.com" % TAG, 3) if "失効" in str(m["Subject"])]), 1,
         "the user of the revoked certificate: one notice")


def test_english_admin(t):
    slug = "nte-" + TAG
    c, tid = tenant(slug, lang="en")
    register(c, "en-%s@example.com" % TAG)
    adm = wait_messages("admin-%s@example.com" % slug, 1)
    t.ok(len(adm) == 1 and str(adm[0]["Subject"]) == "[Notice %s] User registration accepted" % slug,
         "notice_lang en: the administrators' notice in English", [str(m["Subject"]) for m in adm])
    t.ok(adm and str(adm[0]["Content-Language"]) == "en", "Content-Language: en")


def test_english_user(t):
    """A user's language (users.lang): set at registration and by 利用者変更; its mails follow it."""
    slug = "ntu-" + TAG
    c, tid = tenant(slug)
    r = c.post("/api/users", {"family_name": "英語", "given_name": "花子", "family_name_kana": "エイゴ",
                              "given_name_kana": "ハナコ", "family_name_en": "Eigo", "given_name_en": "Hanako",
                              "email": "bad-lang-%s@example.com" % TAG, "lang": "fr", "devices": [{"device": "01"}]})
    fields = [f.get("field") for f in ((r.json() or {}).get("error") or {}).get("fields") or []]
    t.ok(r.status == 422 and fields == ["lang"], "registration with lang fr: 422 naming lang", r.body[:300])
    t.eq(psql("SELECT count(*) FROM users WHERE tenant_id = :'p1'", tid), "0", "and no user registered")
    addr = "english-%s@example.com" % TAG
    r = c.post("/api/users", {"family_name": "英語", "given_name": "花子", "family_name_kana": "エイゴ",
                              "given_name_kana": "ハナコ", "family_name_en": "Eigo", "given_name_en": "Hanako",
                              "email": addr, "lang": "en", "devices": [{"device": "01"}]})
    t.eq(r.status, 202, "registration with lang en", r.body[:300])
    uid = (r.json() or {}).get("user", {}).get("id", 0)
    wait_until(lambda: psql("SELECT count(*) FROM certificates WHERE user_id = :'p1' AND status = 'issued'",
                            uid) == "1", 120)
    cid = int(psql("SELECT id FROM certificates WHERE user_id = :'p1'", uid) or 0)
    t.eq((c.get("/api/users/%d" % uid).json() or {}).get("lang"), "en", "GET /api/users/{id} says lang en")
    ms = wait_messages(addr, 2)
    t.eq(sorted(str(m["Subject"]) for m in ms),
         sorted(["[Notice %s] Please install your certificate" % slug, "[Notice %s] Your login ID and password" % slug]),
         "an English user: both issuance mails from the English templates",
         [str(m["Subject"]) for m in ms])
    t.ok(len(ms) == 2 and all(str(m["Content-Language"]) == "en" for m in ms), "Content-Language: en")
    t.ok(all("Dear Hanako Eigo" in body(m) and "英語" not in body(m) for m in ms),
         "addressed by the English names", [body(m)[:200] for m in ms])
    t.ok(all("Notice " + slug in body(m) for m in ms), "with the tenant's English name")
    r = c.request("PATCH", "/api/users/%d" % uid, body={"lang": "de"})
    t.eq(r.status, 422, "利用者変更 with lang de: 422")
    r = c.request("PATCH", "/api/users/%d" % uid, body={"lang": "ja"})
    t.ok(r.status == 200 and (r.json() or {}).get("lang") == "ja", "利用者変更: lang ja", r.body[:200])
    h = (c.get("/api/audit?action=user_update").json() or {}).get("items", [])
    t.ok(h and "通知の言語 en -> ja" in h[0]["detail"], "history: 利用者変更 通知の言語 en -> ja", h[:1])
    r = c.post("/api/certificates/revoke", {"ids": [cid]})
    t.ok(r.status in (200, 202), "revoke", r.body)
    ms = wait_messages(addr, 3)
    rev = [m for m in ms if "失効" in str(m["Subject"]) or "revoked" in str(m["Subject"])]
    t.ok(len(rev) == 1 and str(rev[0]["Subject"]) == "【通知%s】電子証明書失効のお知らせ" % slug
         and str(rev[0]["Content-Language"]) == "ja",
         "after the change, the revocation notice is in Japanese", [str(m["Subject"]) for m in rev])


def test_off_and_rollback(t):
    slug = "nto-" + TAG
    c, tid = tenant(slug, notify=False)
    addr = "off-%s@example.com" % TAG
    uid, cid = register(c, addr)
    time.sleep(4)
    t.eq(len(messages(addr)), 0, "notify_users off: nothing to the user")
    t.eq(psql("SELECT count(*) FROM notifications WHERE tenant_id = :'p1' AND kind LIKE 'user_%'", tid), "0",
         "and nothing queued for the user")
    # a change that rolls back queues nothing: the triggers write in the change's transaction
    slug2 = "ntr-" + TAG
    c2, tid2 = tenant(slug2)
    addr2 = "rb-%s@example.com" % TAG
    uid2, cid2 = register(c2, addr2)
    wait_messages(addr2, 2)
    before = psql("SELECT count(*) FROM notifications WHERE tenant_id = :'p1'", tid2)
    psql("BEGIN; UPDATE certificates SET status = 'revoked', revoked_at = now() WHERE id = %d; ROLLBACK;" % cid2)
    psql("BEGIN; UPDATE users SET deleted_at = now() WHERE id = %d; ROLLBACK;" % uid2)
    t.eq(psql("SELECT count(*) FROM notifications WHERE tenant_id = :'p1'", tid2), before,
         "a revocation and a deletion rolled back queue nothing")
    time.sleep(3)
    t.eq(len(messages(addr2)), 2, "and send nothing")
    # a refused registration (over the quota) changes nothing and notifies nobody
    psql("UPDATE tenants SET quota = 1 WHERE id = :'p1'", tid2)
    r = c2.post("/api/users", {"family_name": "通知", "given_name": "次郎", "family_name_kana": "ツウチ",
                               "given_name_kana": "ジロウ", "family_name_en": "Tsuchi", "given_name_en": "Jiro",
                               "email": "quota-%s@example.com" % TAG, "devices": [{"device": "01"}]})
    t.eq(r.status, 422, "a registration over the quota: 422")
    t.eq(psql("SELECT count(*) FROM notifications WHERE tenant_id = :'p1'", tid2), before,
         "and no notice queued")


def test_rejected(t):
    slug = "ntx-" + TAG
    c, tid = tenant(slug)
    addr = "reject-%s@example.com" % TAG
    uid, cid = register(c, addr)
    ok = wait_until(lambda: psql("SELECT count(*) FROM notifications WHERE tenant_id = :'p1' AND to_addr = :'p2'"
                                 " AND status = 'failed'", tid, addr) == "2", 60)
    t.ok(ok, "a 550 answer: both notices end failed")
    t.eq(psql("SELECT max(attempts) FROM notifications WHERE to_addr = :'p1'", addr), "1",
         "a permanent answer is not retried")
    failed = outbox(c, status="failed")["items"]
    t.ok(len(failed) == 2 and all("550" in i["last_error"] for i in failed),
         "送信メール (?status=failed) shows them with the server's answer", failed)
    r = c.post("/api/notifications/%d/resend" % failed[0]["id"])
    t.ok(r.status == 202 and r.json()["status"] == "queued", "re-send a failed one: 202 queued", r.body)
    ok = wait_until(lambda: psql("SELECT attempts FROM notifications WHERE id = :'p1'", failed[0]["id"]) == "1"
                    and psql("SELECT status FROM notifications WHERE id = :'p1'", failed[0]["id"]) == "failed", 30)
    t.ok(ok, "it was tried again (and failed again: the address still refuses)")
    t.eq(c.post("/api/notifications/%d/resend" % outbox(c, status="sent")["items"][0]["id"]).status
         if outbox(c, status="sent")["items"] else 409, 409, "a sent one cannot be re-sent: 409")
    other, _ = tenant("nty-" + TAG)
    t.eq(other.post("/api/notifications/%d/resend" % failed[0]["id"]).status, 404,
         "another tenant's notice: 404")
    t.eq(c.get("/api/notifications?status=bogus").status, 422, "an unknown status filter: 422")
    t.eq(len(messages(addr)), 0, "nothing delivered to the refused address")


def test_smtp_down(t):
    slug = "ntd-" + TAG
    c, tid = tenant(slug)
    p = scripts_up("hold", "smtp")
    t.ok(p.returncode == 0, "scripts/up hold smtp", p.stderr)
    try:
        addr = "down-%s@example.com" % TAG
        register(c, addr)
        time.sleep(60)
        t.eq(len(messages(addr)), 0, "SMTP down 60 s: nothing delivered")
        t.eq(psql("SELECT count(*) FROM notifications WHERE to_addr = :'p1' AND status = 'queued' AND attempts > 0",
                  addr), "2", "the two notices wait, queued, tried")
        h = Client().get("/healthz").json()
        t.eq((h.get("mail"), h.get("smtp")), ("up", "down"), "/healthz: the mail worker up, SMTP down")
    finally:
        t.ok(release("smtp"), "scripts/up release smtp")
    ms = wait_messages(addr, 2, 150)
    time.sleep(3)
    t.eq(len(messages(addr)), 2, "after: both delivered, once each")
    t.eq(len({str(m["Message-ID"]) for m in messages(addr)}), 2, "two distinct messages")


def test_two_workers(t):
    slug = "ntw-" + TAG
    c, tid = tenant(slug)
    conf = os.path.join(VAR, "shomei.conf")
    sock = os.path.join(VAR, "run", "sock2-" + TAG)
    os.makedirs(sock)
    conf2 = os.path.join(VAR, "shomei2-%s.conf" % TAG)
    text = open(conf).read()
    text = re.sub(r"(?m)^socket_dir = .*$", "socket_dir = " + sock, text)
    text = re.sub(r"(?m)^threads = .*$", "threads = 2", text)
    text = text.replace("[mail]\n", "[mail]\nworkers = 4\n")
    open(conf2, "w").write(text)
    binary = os.path.join(VAR, "bin", "shomei-users")
    proc = subprocess.Popen([binary, "-c", conf2], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(1)
        t.ok(proc.poll() is None, "a second shomei-users (4 more mail workers) runs")
        psql("SELECT notice_admin(%d, 'admin_revoked', jsonb_build_object('count', 1, 'items', 'row-' || g))"
             " FROM generate_series(1, 60) g" % tid)
        to = "admin-%s@example.com" % slug
        wait_until(lambda: psql("SELECT count(*) FROM notifications WHERE tenant_id = :'p1' AND status = 'queued'",
                                tid) == "0", 120)
        time.sleep(3)
        ms = messages(to)
        items = [re.search(r"row-\d+", body(m)).group(0) for m in ms if re.search(r"row-\d+", body(m))]
        t.eq(len(items), 60, "60 notices, 60 messages")
        t.eq(len(set(items)), 60, "each row sent once")
        t.eq(psql("SELECT count(*) FROM notifications WHERE tenant_id = :'p1' AND attempts <> 1 AND kind = 'admin_revoked'",
                  tid), "0", "each row attempted once")
    finally:
        proc.terminate()
        proc.wait(30)
        os.unlink(conf2)


def test_reminders(t):
    slug = "ntm-" + TAG
    c, tid = tenant(slug)
    addr = "remind-%s@example.com" % TAG
    end = time.strftime("%Y/%m/%d", time.localtime(time.time() + 45 * 86400))
    uid, cid = register(c, addr, valid_to=end)
    wait_messages(addr, 2)
    na = float(psql("SELECT extract(epoch FROM not_after) FROM certificates WHERE id = :'p1'", cid))

    def as_of(days_before, minutes=-1):
        # JST "yyyy/mm/dd hh:mm", a minute past the threshold (minutes < 0: after it)
        ts = na - days_before * 86400 - minutes * 60 + 9 * 3600
        return time.strftime("%Y/%m/%d %H:%M", time.gmtime(ts))

    out = ctl("notices", "due", "--as-of", as_of(31, 0)).stdout
    t.ok(out.startswith("0 reminders"), "31 days before: nothing due", out)
    for n, days in enumerate((30, 15, 5, 1), start=1):
        ctl("notices", "due", "--as-of", as_of(days))
        ctl("notices", "due", "--as-of", as_of(days))
        ms = [m for m in wait_messages(addr, 2 + n, 30) if "有効期限" in str(m["Subject"])]
        t.eq(len(ms), n, "%d days before: one reminder more (twice run, once sent)" % days)
        t.ok(any("あと %d 日以内" % days in str(m["Subject"]) for m in ms), "its subject names %d days" % days)
    t.eq(psql("SELECT string_agg(threshold::text, ',' ORDER BY threshold DESC) FROM expiry_reminders"
              " WHERE certificate_id = :'p1'", cid), "30,15,5,1", "recorded once per threshold")
    dig = [m for m in wait_messages("admin-%s@example.com" % slug, 2, 30) if "30日以内" in str(m["Subject"])]
    t.ok(1 <= len(dig) <= 4 and addr in body(dig[0]), "the administrators' digest names the certificate",
         [str(m["Subject"]) for m in dig])
    days = {str(m["Subject"]) for m in dig}
    t.eq(len(dig), int(psql("SELECT count(*) FROM expiry_digests WHERE tenant_id = :'p1'", tid)),
         "one digest per JST day", days)
    out = ctl("notices", "due", "--as-of", "2000/13/01 00:00", check=False)
    t.ok(out.returncode != 0 and "as-of" in out.stderr, "a bad --as-of is refused", out.stderr)


def test_reissue(t):
    """電子証明書再発行通知 for a reissue through the API (naming the certificate), and
    利用者一括再発行受付通知 once when a CSV一括再発行 job is done."""
    slug = "ntr-" + TAG
    c, tid = tenant(slug)
    name = "【通知%s】" % slug
    addr = "re-%s@example.com" % TAG
    uid, cid = register(c, addr)
    admin_subjects(slug, 1)  # 利用者登録受付通知
    cn = psql("SELECT cn FROM certificates WHERE id = :'p1'", cid)
    r = c.post("/api/certificates/reissue", {"ids": [cid]})
    t.eq(r.status, 200, "reissue accepted", r.body)
    subs = admin_subjects(slug, 2)
    t.ok(subs.count(name + "電子証明書再発行通知") == 1, "one 電子証明書再発行通知", subs)
    re_ = [m for m in messages("admin-%s@example.com" % slug) if "再発行通知" in str(m["Subject"])]
    t.ok(re_ and cn in body(re_[0]), "it names the certificate", body(re_[0]) if re_ else None)
    # a refused reissue (the old one is superseded now) sends nothing
    t.eq(c.post("/api/certificates/reissue", {"ids": [cid]}).status, 409, "reissuing it again: 409")
    # CSV一括再発行 (NRA 6-2, 5 columns): the administrators' notice once, when the job is done
    wait_until(lambda: psql("SELECT count(*) FROM certificates WHERE user_id = :'p1' AND status = 'issuing'",
                            uid) == "0", 120)
    line = "{0},{0},01".format(addr)
    raw, h = multipart({}, "reissue.csv", (line + "\r\n").encode())
    r = c.post("/api/certificates/reissue-csv", raw=raw, headers=h)
    t.eq(r.status, 202, "CSV一括再発行 accepted", r.body)
    j = wait_job(c, (r.json() or {}).get("job_id", 0))
    t.eq(j.get("status"), "done", "the reissue job is done", j)
    subs = admin_subjects(slug, 3)
    time.sleep(2)
    subs = [str(m["Subject"]) for m in messages("admin-%s@example.com" % slug)]
    t.ok(subs.count(name + "利用者一括再発行受付通知") == 1, "one 利用者一括再発行受付通知", subs)
    t.eq(subs.count(name + "電子証明書再発行通知"), 1, "and no per-certificate 再発行通知 for the job's lines", subs)
    bulk = [m for m in messages("admin-%s@example.com" % slug) if "一括再発行" in str(m["Subject"])]
    t.ok(bulk and "reissue.csv" in body(bulk[0]), "it names the file")


if __name__ == "__main__":
    t = TAP()
    for fn in (test_issuance, test_admin_notices, test_english_admin, test_english_user, test_reissue, test_off_and_rollback, test_rejected, test_two_workers,
               test_reminders, test_smtp_down):
        t.run(fn)
    t.done()
