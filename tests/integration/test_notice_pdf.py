#!/usr/bin/env python3
"""パスワード通知書 (issue 13): GET /api/users/notice.pdf?ids=… for the users checked. Read back
with poppler-utils: pdfinfo says A4 and one page per user; pdftotext finds on each user's page the
tenant's name, the download site's URL, and each certificate's login ID and password (the same
password as the password list and the certificate's .PIN give); pdftoppm + zbarimg read the QR
code as the URL. A user's page is in the user's language. Another tenant's ids, bad lists and no
session are refused and change nothing; the download is in the history (パスワード通知書)."""
import csv
import io
import os
import random
import subprocess
import time

from shomei_test import TAP, UP, Client, ctl, psql, scratch_dir

TAG = "np" + "".join(random.choice("abcdefghijkmnpqrstuvwxyz23456789") for _ in range(6))
PW = "Notice2pdf1"
TMP = scratch_dir("shomei-npdf-")


def tenant(slug):
    ctl("tenant", "create", "--slug", slug, "--name", "通知書" + slug, "--name-en", "Notice " + slug,
        "--quota", "20", "--features", "admin_may_issue,download_site")
    psql("UPDATE tenants SET key_type = 'p256' WHERE slug = :'p1'", slug)
    ctl("admin", "create", "--tenant", slug, "--login-id", slug + "-admin", "--password", PW)
    c = Client()
    r = c.login(slug + "-admin", PW)
    if r.status != 200:
        raise RuntimeError("login %s: %d" % (slug, r.status))
    return c, psql("SELECT id FROM tenants WHERE slug = :'p1'", slug)


def user(c, suffix, family, given, devices, lang=None):
    b = {"family_name": family, "given_name": given, "family_name_kana": "ツウチ", "given_name_kana": "ハナコ",
         "family_name_en": "Tsuchi", "given_name_en": "Hanako" + suffix.capitalize(),
         "email": "%s-%s@example.com" % (TAG, suffix), "devices": devices}
    if lang:
        b["lang"] = lang
    r = c.post("/api/users", b)
    if r.status != 202:
        raise RuntimeError("register: %d %s" % (r.status, r.body[:300]))
    return r.json()["user"]["id"]


def wait_issued(uid, n, seconds=120):
    end = time.time() + seconds
    while time.time() < end:
        if psql("SELECT count(*) FROM certificates WHERE user_id = :'p1' AND status = 'issued'", uid) == str(n):
            return True
        time.sleep(0.5)
    return False


def certs_of(uid):
    rows = psql("SELECT id, email FROM certificates WHERE user_id = :'p1' ORDER BY id", uid)
    return [(int(r.split("|")[0]), r.split("|")[1]) for r in rows.splitlines() if r]


def pdf_file(body, name):
    f = os.path.join(TMP, name)
    with open(f, "wb") as fh:
        fh.write(body)
    return f


def pdfinfo(f):
    o = subprocess.run(["pdfinfo", f], capture_output=True, text=True)
    return o.returncode, dict((k.strip(), v.strip()) for k, _, v in
                              (line.partition(":") for line in o.stdout.splitlines()) if k)


def page_text(f, n):
    o = subprocess.run(["pdftotext", "-f", str(n), "-l", str(n), "-layout", f, "-"], capture_output=True, text=True)
    return o.stdout if o.returncode == 0 else ""


def page_qr(f, n):
    """What zbarimg reads from page n rendered at 150 dpi."""
    base = os.path.join(TMP, "p%d" % n)
    subprocess.run(["pdftoppm", "-f", str(n), "-l", str(n), "-r", "150", "-png", "-singlefile", f, base],
                   check=True, capture_output=True)
    o = subprocess.run(["zbarimg", "-q", "--raw", base + ".png"], capture_output=True, text=True)
    return o.stdout.strip().splitlines()


def audit_count(tid):
    return psql("SELECT count(*) FROM audit WHERE tenant_id = :'p1' AND action = 'password_notice'", tid)


def error_of(r):
    return (r.json() or {}).get("error") or {}


def test_notice(t):
    slug = TAG + "a"
    c, tid = tenant(slug)
    u1 = user(c, "one", "通知", "花子", [{"device": "01"}, {"device": "11"}])
    u2 = user(c, "two", "書面", "次郎", [{"device": "20"}], lang="en")
    t.ok(wait_issued(u1, 2) and wait_issued(u2, 1), "three certificates issued for two users")
    before = audit_count(tid)
    r = c.get("/api/users/notice.pdf?ids=%d,%d" % (u1, u2))
    t.eq(r.status, 200, "GET /api/users/notice.pdf?ids=u1,u2 answers 200", r.body[:300])
    t.eq((r.header("Content-Type") or "").split(";")[0], "application/pdf", "as application/pdf")
    t.ok("attachment" in (r.header("Content-Disposition") or ""), "as an attachment")
    f = pdf_file(r.body, "two.pdf")
    rc, info = pdfinfo(f)
    t.eq(rc, 0, "pdfinfo opens it")
    t.eq(info.get("Pages"), "2", "one page per user")
    t.ok("(A4)" in info.get("Page size", ""), "pdfinfo says A4", info.get("Page size"))
    url = UP["url"] + "/dl/%s/" % slug
    # the passwords as the password list gives them, and as each certificate's .PIN
    pl = c.get("/api/downloads/passwords.csv")
    rows = dict(csv.reader(io.StringIO(pl.body[3:].decode(), newline="")))
    p1 = page_text(f, 1)
    p2 = page_text(f, 2)
    t.ok("パスワード通知書" in p1 and "通知 花子 様" in p1, "page 1: the title and the first user, in Japanese", p1)
    t.ok("通知書" + slug in p1, "page 1: the tenant's name", p1)
    t.ok(url in p1, "page 1: the download site's URL", p1)
    for cid, email in certs_of(u1):
        pin = c.get("/api/certificates/%d/pin" % cid).body.decode().strip()
        t.ok(len(pin) >= 8 and email in p1 and pin in p1,
             "page 1: certificate %d's login ID (%s) and password" % (cid, email), p1)
        t.ok(pin in rows.values(), "the password is the password list's")
        t.ok(pin not in p2, "and it is not on the other user's page")
    t.ok("Password notice" in p2 and "To: HanakoTwo Tsuchi" in p2, "page 2: in English, the user's language", p2)
    t.ok("Notice " + slug in p2 and url in p2, "page 2: the tenant's English name and the URL", p2)
    (cid2, email2), = certs_of(u2)
    pin2 = c.get("/api/certificates/%d/pin" % cid2).body.decode().strip()
    t.ok(email2 in p2 and pin2 in p2, "page 2: its login ID and password", p2)
    t.eq(page_qr(f, 1), [url], "zbarimg reads page 1's QR code as the download site's URL")
    t.eq(page_qr(f, 2), [url], "and page 2's")
    t.eq(audit_count(tid), str(int(before) + 1), "one history entry")
    h = (c.get("/api/audit?action=password_notice").json() or {}).get("items", [])
    t.ok(h and "通知 花子 (%d)" % u1 in h[0]["detail"] and "書面 次郎 (%d)" % u2 in h[0]["detail"]
         and "利用者 2 名" in h[0]["detail"] and "証明書 3 件" in h[0]["detail"],
         "history: パスワード通知書 with the counts, naming the users", h[:1])
    t.ok(h and pin2 not in h[0]["detail"], "and no password in it")

    # a user whose only certificate was revoked: a page saying there is none, no password
    r = c.post("/api/certificates/revoke", {"ids": [cid2]})
    t.ok(r.status in (200, 202), "u2's certificate revoked", r.body[:200])
    end = time.time() + 60
    while time.time() < end and psql("SELECT status FROM certificates WHERE id = :'p1'", cid2) != "revoked":
        time.sleep(0.5)
    r = c.get("/api/users/notice.pdf?ids=%d" % u2)
    f = pdf_file(r.body, "revoked.pdf")
    p = page_text(f, 1)
    t.ok(r.status == 200 and pdfinfo(f)[1].get("Pages") == "1" and "There is no certificate to download." in p
         and pin2 not in p, "a user without a valid certificate: one page, saying so, no password", p)

    # another tenant: its users are not these
    c2, tid2 = tenant(TAG + "b")
    u3 = user(c2, "three", "他社", "三郎", [{"device": "01"}])
    before = audit_count(tid)
    for ids in ("%d" % u3, "%d,%d" % (u1, u3)):
        r = c.get("/api/users/notice.pdf?ids=" + ids)
        t.ok(r.status == 404 and error_of(r).get("code") == "not_found" and error_of(r).get("message"),
             "another tenant's user (ids=%s): 404 with the error JSON" % ids, r.body[:200])
    t.eq(c2.get("/api/users/notice.pdf?ids=%d" % u1).status, 404, "and the other way round")
    t.eq(c.get("/api/users/notice.pdf?ids=999999999").status, 404, "an id that is no user: 404")
    t.eq(audit_count(tid), before, "refusals write no history")

    # lists that are not 1-1000 ids
    for q in ("", "?ids=", "?ids=abc", "?ids=1,,2", "?ids=0", "?ids=" + ",".join(str(i + 1) for i in range(1001))):
        r = c.get("/api/users/notice.pdf" + q)
        fields = [x.get("field") for x in error_of(r).get("fields") or []]
        t.ok(r.status == 422 and fields == ["ids"], "ids %r: 422 naming ids" % q[:24], r.body[:200])
    r = Client(lang="en")
    r.login(slug + "-admin", PW)
    e = error_of(r.get("/api/users/notice.pdf?ids=x"))
    t.ok("user ids" in ((e.get("fields") or [{}])[0].get("message") or ""), "the message in English", e)
    t.eq(Client().get("/api/users/notice.pdf?ids=%d" % u1).status, 401, "no session: 401")
    t.eq(audit_count(tid), before, "still no history entry")


if __name__ == "__main__":
    t = TAP()
    t.run(test_notice)
    t.done()
