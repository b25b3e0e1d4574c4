#!/usr/bin/env python3
"""Deleting a user in two steps (NRA 7): 1次削除 hides the user (削除済み), keeps its
certificates and can be undone; 2次削除 only after it revokes the user's valid certificates
through shomei-revoke's internal API (status, history, the CRL, the licence freed), then removes
the personal data and keeps the history; with shomei-revoke down it answers 503 and changes
nothing; every step in the history; another tenant's ids are 404."""
import os
import random
import signal

from cryptography import x509

from shomei_test import TAP, Client, ctl, hold, live_pid, psql, release, wait_until, wait_ocsp_backlog

TAG = "".join(random.choice("abcdefghijkmnpqrstuvwxyz") for _ in range(6))
PW = "Delete2test1"


def tenant(slug, quota=20):
    ctl("tenant", "create", "--slug", slug, "--name", "削除" + slug, "--name-en", "Delete " + slug,
        "--quota", str(quota), "--features", "admin_may_issue")
    psql("UPDATE tenants SET key_type = 'p256' WHERE slug = :'p1'", slug)
    ctl("admin", "create", "--tenant", slug, "--login-id", slug + "-admin", "--password", PW)
    c = Client()
    assert c.login(slug + "-admin", PW).status == 200
    return c, int(psql("SELECT id FROM tenants WHERE slug = :'p1'", slug))


def register(c, email, device="01", dev_email=None):
    d = {"device": device}
    if dev_email:
        d["email"] = dev_email
    r = c.post("/api/users", {"family_name": "削除", "given_name": "太郎", "family_name_kana": "サクジョ",
                              "given_name_kana": "タロウ", "family_name_en": "Sakujo", "given_name_en": "Taro",
                              "email": email, "devices": [d]})
    assert r.status == 202, r.body
    return r.json()["user"]["id"]


def listed(c, deleted=None):
    q = "/api/users" + ("?deleted=%s" % deleted if deleted is not None else "")
    return [u["id"] for u in (c.get(q).json() or {}).get("items", [])]


def issued(uid):
    return wait_until(lambda: psql("SELECT count(*) FROM certificates WHERE user_id = :'p1' AND status = 'issued'",
                                   uid) == "1", 120)


def crl_lists(slug, cid):
    serial = int(psql("SELECT serial FROM certificates WHERE id = :'p1'", cid), 16)
    r = Client().get("/crl/%s.crl" % slug)
    return r.status == 200 and \
        x509.load_der_x509_crl(r.body).get_revoked_certificate_by_serial_number(serial) is not None


def code(r):
    return ((r.json() or {}).get("error") or {}).get("code")


def test_steps(t):
    slug = "del-" + TAG
    c, tid = tenant(slug)
    uid = register(c, "taro-%s@example.com" % TAG)
    t.ok(issued(uid), "the user's certificate is issued")
    t.eq(c.post("/api/users/%d/undelete" % uid).status, 409, "undo of a user not deleted: 409")
    r = c.delete("/api/users/%d" % uid)
    t.ok(r.status == 409 and code(r) == "delete_first", "2次削除 before the 1st: 409 delete_first", r.body)
    r = c.post("/api/users/%d/delete" % uid)
    t.ok(r.status == 200 and (r.json() or {}).get("deleted_at"), "1次削除: 200, the user with deleted_at", r.body)
    t.ok(uid not in listed(c), "gone from the list")
    t.ok(uid in listed(c, 1), "shown under 削除済み (?deleted=1)")
    t.eq(psql("SELECT count(*) FROM certificates WHERE user_id = :'p1' AND status <> 'revoked'", uid), "1",
         "its certificate untouched")
    t.eq(code(c.post("/api/users/%d/delete" % uid)), "already_deleted", "1次削除 twice: 409 already_deleted")
    t.eq(c.request("PATCH", "/api/users/%d" % uid, body={"given_name": "次郎"}).status, 409,
         "a deleted user cannot be changed")
    r = c.post("/api/users/%d/undelete" % uid)
    t.ok(r.status == 200 and not (r.json() or {}).get("deleted_at"), "undo: 200, back", r.body)
    t.ok(uid in listed(c) and uid not in listed(c, 1), "back in the list, not under 削除済み")
    t.eq(c.post("/api/users/%d/delete" % uid).status, 200, "1次削除 again")
    cid = int(psql("SELECT id FROM certificates WHERE user_id = :'p1'", uid))
    cn = psql("SELECT cn FROM certificates WHERE id = :'p1'", cid)
    before = (c.get("/api/tenant").json() or {}).get("available")
    # shomei-revoke down: the revocation cannot be made, so nothing is
    hold("revoke")
    try:
        pid = live_pid("revoke")
        os.kill(pid, signal.SIGTERM)
        wait_until(lambda: not os.path.exists("/proc/%d" % pid), 30)
        r = c.delete("/api/users/%d" % uid)
        t.ok(r.status == 503 and code(r) == "revocation_unavailable",
             "2次削除 while shomei-revoke is down: 503 revocation_unavailable", r.body)
        t.eq(psql("SELECT status FROM certificates WHERE id = :'p1'", cid), "issued", "the certificate is untouched")
        t.eq(psql("SELECT (purged_at IS NULL) || '|' || email FROM users WHERE id = :'p1'", uid),
             "true|taro-%s@example.com" % TAG, "the user is untouched")
    finally:
        release("revoke")
    wait_ocsp_backlog()
    r = c.delete("/api/users/%d" % uid)
    t.eq(r.status, 204, "2次削除 with a valid certificate: 204", r.body)
    t.eq(psql("SELECT status || '|' || revocation_reason FROM certificates WHERE id = :'p1'", cid), "revoked|5",
         "the certificate is revoked (cessationOfOperation)")
    t.eq((c.get("/api/tenant").json() or {}).get("available"), before + 1, "its licence is free")
    hist = psql("SELECT actor_kind || '|' || detail FROM audit WHERE tenant_id = :'p1' AND action = 'certificate_revoke'"
                " ORDER BY id", tid)
    t.eq(hist, "admin|%s: 失効中 -> 失効完了" % cn, "the history: '<cn>: 失効中 -> 失効完了' by the administrator")
    t.ok(wait_until(lambda: crl_lists(slug, cid), 10), "the tenant's CRL lists its serial within 10 s")
    t.eq(c.get("/api/users/%d" % uid).status, 404, "the user is gone (404)")
    t.ok(uid not in listed(c, 1), "and not under 削除済み")
    got = psql("SELECT family_name || '|' || email || '|' || (purged_at IS NOT NULL) FROM users WHERE id = :'p1'", uid)
    t.eq(got, "||true", "its names and e-mail are removed")
    got = psql("SELECT email || '|' || count(*) FROM devices WHERE user_id = :'p1' GROUP BY email", uid)
    t.eq(got, "|1", "its device's e-mail too")
    got = psql("SELECT (p12 IS NULL AND p12_password_enc IS NULL) || '|' || status FROM certificates WHERE user_id = :'p1'", uid)
    t.eq(got, "true|revoked", "its certificate stays (revoked), without PKCS#12 or password")
    order = psql("SELECT string_agg(action, ',' ORDER BY id) FROM audit WHERE tenant_id = :'p1'"
                 " AND action IN ('certificate_revoke', 'user_delete') AND detail NOT LIKE '1次%'", tid)
    t.eq(order, "certificate_revoke,user_delete", "the revocation comes before the 2次削除 in the history")
    hist = psql("SELECT string_agg(detail, ' / ' ORDER BY id) FROM audit WHERE tenant_id = :'p1' AND action = 'user_delete'", tid)
    t.eq(hist, "1次削除 削除 太郎 (taro-%s@example.com) / 1次削除の取消 削除 太郎 (taro-%s@example.com) / "
         "1次削除 削除 太郎 (taro-%s@example.com) / 2次削除 削除 太郎 (taro-%s@example.com)" % ((TAG,) * 4),
         "the history keeps each step with the name")
    t.eq(c.delete("/api/users/%d" % uid).status, 404, "a purged user: 404")


def test_clash_and_isolation(t):
    c, tid = tenant("del2-" + TAG)
    a = register(c, "a-%s@example.com" % TAG)
    t.eq(c.post("/api/users/%d/delete" % a).status, 200, "A deleted")
    b = register(c, "b-%s@example.com" % TAG, dev_email="a-%s@example.com" % TAG)
    t.ok(b > 0, "B registered with A's device pair (A is deleted)")
    r = c.post("/api/users/%d/undelete" % a)
    t.ok(r.status == 409 and code(r) == "device_pair_taken", "undoing A now clashes with B: 409", r.body)
    other = Client()
    other.login()
    for how, path in (("POST", "/api/users/%d/delete" % b), ("POST", "/api/users/%d/undelete" % a),
                      ("DELETE", "/api/users/%d" % a)):
        t.eq(other.request(how, path).status, 404, "another tenant: %s %s is 404" % (how, path.replace(str(a), "A").replace(str(b), "B")))
    t.eq(c.get("/api/users?deleted=2").status, 422, "?deleted=2 is refused")
    t.eq(c.post("/api/users/x/delete").status, 404, "a malformed id: 404")


def main():
    t = TAP()
    t.run(test_steps)
    t.run(test_clash_and_isolation)
    t.done()


if __name__ == "__main__":
    main()
