#!/usr/bin/env python3
"""利用者変更: POST /api/users/{id}/devices adds devices (and their issuing certificates) to a user,
with the registration's rules, the quota, the history, and tenant isolation."""
import random
import time

from cryptography import x509
from cryptography.x509.oid import NameOID

from shomei_test import TAP, Client, ctl, psql, wait_until

TAG = "ud" + "".join(random.choice("abcdefghijkmnpqrstuvwxyz23456789") for _ in range(8))
PW = "Devices2test"


def tenant(slug, features, quota):
    ctl("tenant", "create", "--slug", slug, "--name", "デバイス追加" + slug, "--name-en", "Devices " + slug,
        "--quota", str(quota), "--features", features)
    ctl("admin", "create", "--tenant", slug, "--login-id", slug + "-admin", "--password", PW)
    c = Client()
    r = c.login(slug + "-admin", PW)
    if r.status != 200:
        raise RuntimeError("login %s: %d" % (slug, r.status))
    return c, psql("SELECT id FROM tenants WHERE slug = :'p1'", slug)


def user(c, suffix, devices):
    b = {"family_name": "追加", "given_name": "花子", "family_name_kana": "ツイカ", "given_name_kana": "ハナコ",
         "family_name_en": "Tsuika", "given_name_en": "Hanako", "email": "%s-%s@example.com" % (TAG, suffix),
         "devices": devices}
    r = c.post("/api/users", b)
    if r.status != 202:
        raise RuntimeError("register: %d %s" % (r.status, r.body[:300]))
    return r.json()["user"]["id"]


def fields(r):
    return {f.get("field"): f.get("message") for f in ((r.json() or {}).get("error") or {}).get("fields") or []}


def counts(tid):
    return psql("SELECT (SELECT count(*) FROM devices WHERE tenant_id = :p1),"
                " (SELECT count(*) FROM certificates WHERE tenant_id = :p1),"
                " (SELECT count(*) FROM audit WHERE tenant_id = :p1)", tid)


def wait_issued(c, cid, seconds=90):
    end = time.time() + seconds
    while time.time() < end:
        d = c.get("/api/certificates/%d" % cid).json() or {}
        if d.get("status") in ("issued", "downloaded"):
            return d
        time.sleep(0.5)
    return {}


def test_add(t):
    c, tid = tenant(TAG + "a", "validity_period,org_units,admin_may_issue", 4)
    uid = user(c, "one", [{"device": "01"}])
    path = "/api/users/%d/devices" % uid
    sub = "%s-ipad@example.com" % TAG
    r = c.post(path, {"devices": [{"device": "12", "email": sub, "ou1": "Sales"}]})
    doc = r.json() or {}
    t.eq(r.status, 202, "POST /api/users/{id}/devices answers 202", r.body[:300])
    t.eq(sorted(d["device"] for d in doc.get("devices", [])), ["01", "12"], "the user now has both devices")
    new = [x for x in doc.get("certificates", []) if x.get("device") == "12"]
    t.ok(len(new) == 1 and new[0]["status"] == "issuing" and new[0]["email"] == sub and new[0]["cn"] == "Tsuika Hanako",
         "a certificate for the new device, issuing, with the user's CN and the device's e-mail", new)
    issued = wait_issued(c, new[0]["id"]) if new else {}
    t.ok(issued.get("pem"), "it is issued")
    if issued.get("pem"):
        cert = x509.load_pem_x509_certificate(issued["pem"].encode())
        s = cert.subject
        t.eq((s.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value,
              s.get_attributes_for_oid(NameOID.EMAIL_ADDRESS)[0].value,
              "Sales" in [a.value for a in s.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)]),
             ("Tsuika Hanako", sub, True), "python3-cryptography: CN, E and OU1 as asked")
    h = psql("SELECT detail FROM audit WHERE tenant_id = :p1 AND action = 'user_update' ORDER BY id DESC LIMIT 1", tid)
    t.eq(h, "追加 花子 (%s-one@example.com): 利用デバイス追加 iOS(iPad)" % TAG, "history: 利用者変更 naming the device")
    en = Client(lang="en")
    en.login(TAG + "a-admin", PW)
    items = (en.get("/api/audit?action=user_update").json() or {}).get("items", [])
    t.ok(items and items[0].get("detail") == "追加 花子 (%s-one@example.com): devices added iOS (iPad)" % TAG,
         "and in English for an English reader", items[:1])

    before = counts(tid)
    for name, devs, field, words in (
            ("a device code the user has", [{"device": "01"}], "devices[0].device", "すでにこの利用デバイス"),
            ("an unknown device code", [{"device": "05"}], "devices[0].device", None),
            ("an install restriction the tenant lacks", [{"device": "11", "restriction": {"mode": "or", "mac": "0011AABBCCDD"}}],
             "devices[0].restriction", None),
            ("a From in the past", [{"device": "20", "valid_from": "2001/01/01"}], "devices[0].valid_from", None),
            ("the same code twice", [{"device": "20"}, {"device": "20"}], "devices[1].device", None)):
        r = c.post(path, {"devices": devs})
        f = fields(r)
        t.ok(r.status == 422 and field in f and (words is None or words in f[field]),
             "%s: 422 naming %s" % (name, field), r.body[:300])
    r = c.post(path, {})
    t.ok(r.status == 422 and "devices" in fields(r), "no devices: 422 naming devices")
    other = user(c, "two", [{"device": "20"}])
    r = c.post("/api/users/%d/devices" % other, {"devices": [{"device": "12", "email": sub}]})
    t.ok(r.status == 422 and "devices[0].email" in fields(r), "a pair another user has: 422", r.body[:300])
    # user two's certificate is issued in the background, and its issuance writes history: the
    # count is taken once nothing of the tenant is still issuing
    t.ok(wait_until(lambda: psql("SELECT count(*) FROM certificates WHERE tenant_id = :p1 AND status = 'issuing'",
                                 tid) == "0", 120), "user two's certificate is issued")
    before = counts(tid)
    r = c.post(path, {"devices": [{"device": "11"}, {"device": "20"}]})
    t.ok(r.status == 422 and "devices" in fields(r), "two devices with one licence left: 422 (quota)", r.body[:300])
    t.eq(counts(tid), before, "refused requests add no device, certificate or history")
    r = en.post(path, {"devices": [{"device": "01"}]})
    t.ok("already has this device" in (fields(r).get("devices[0].device") or ""), "in English with Accept-Language: en")

    t.eq(c.post("/api/users/%d/delete" % other, {}).status, 200, "the other user deleted (1st step)")
    r = c.post("/api/users/%d/devices" % other, {"devices": [{"device": "11"}]})
    t.eq((r.status, (r.json() or {}).get("error", {}).get("code")), (409, "user_deleted"), "a deleted user: 409")
    t.eq(c.post("/api/users/99999999999/devices", {"devices": [{"device": "11"}]}).status, 404, "an unknown id: 404")
    o, _ = tenant(TAG + "b", "admin_may_issue", 3)
    t.eq(o.post(path, {"devices": [{"device": "11"}]}).status, 404, "another tenant's user: 404")
    n, _ = tenant(TAG + "c", "validity_period", 3)
    r = n.post(path, {"devices": [{"device": "11"}]})
    t.ok(r.status in (403, 404), "a tenant whose administrators may not issue is refused")
    nocsrf = Client()
    nocsrf.cookie = c.cookie
    t.eq(nocsrf.post(path, {"devices": [{"device": "11"}]}).status, 403, "without the CSRF token: 403")
    t.eq(counts(tid).split("|")[:2], before.split("|")[:2], "and none of them added a device or certificate")


def main():
    t = TAP()
    t.run(test_add)
    t.done()


if __name__ == "__main__":
    main()
