#!/usr/bin/env python3
"""The internal revocation API (issue 10, "One place that revokes"): POST /internal/revocations on
nginx's internal listener (a unix socket in var/run/internal), for the other services. With the
calling service's token it revokes (status, history, the tenant's CRL within seconds); a wrong or
missing token is 401 and logged with the caller; another tenant's ids are 404 and change nothing;
the public HTTPS port answers 404 for the path, even with a right token; and a process of uid
nobody cannot connect to the socket (the directory is root's and the callers')."""
import http.client
import json
import os
import pwd
import random
import socket
import subprocess
import sys

from cryptography import x509

from shomei_test import TAP, VAR, Client, ctl, psql, wait_until, wait_ocsp_backlog

TAG = "".join(random.choice("abcdefghijkmnpqrstuvwxyz") for _ in range(6))
PW = "Internal2test1"
SOCK = os.path.join(VAR, "run", "internal", "api.sock")
TOKENS = os.path.join(VAR, "secrets", "internal")


class UnixHTTP(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("localhost", timeout=30)
        self.path = path

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(30)
        s.connect(self.path)
        self.sock = s


def token(name):
    return open(os.path.join(TOKENS, name + ".token")).readline().strip()


def call(body, service="users", tok=None, auth=True):
    h = {"Content-Type": "application/json"}
    if service is not None:
        h["X-Shomei-Service"] = service
    if auth:
        h["Authorization"] = "Bearer " + (tok if tok is not None else token(service or "users"))
    c = UnixHTTP(SOCK)
    try:
        c.request("POST", "/internal/revocations", body=json.dumps(body).encode(), headers=h)
        r = c.getresponse()
        data = r.read()
        try:
            return r.status, json.loads(data.decode()) if data else None
        except ValueError:
            return r.status, None
    finally:
        c.close()


def tenant(slug, quota=10):
    ctl("tenant", "create", "--slug", slug, "--name", "内部" + slug, "--name-en", "Internal " + slug,
        "--quota", str(quota), "--features", "admin_may_issue")
    psql("UPDATE tenants SET key_type = 'p256' WHERE slug = :'p1'", slug)
    ctl("admin", "create", "--tenant", slug, "--login-id", slug + "-admin", "--password", PW)
    c = Client()
    assert c.login(slug + "-admin", PW).status == 200
    tid = int(psql("SELECT id FROM tenants WHERE slug = :'p1'", slug))
    aid = int(psql("SELECT id FROM admins WHERE login_id = :'p1'", slug + "-admin"))
    return c, tid, aid


def batch(c, tid, n):
    r = c.post("/api/certificates/batch", {"count": n})
    assert r.status == 202, r.body
    ids = (r.json() or {}).get("ids") or []
    assert wait_until(lambda: psql("SELECT count(*) FROM certificates WHERE id = ANY (:'p1') AND status = 'issued'",
                                   "{%s}" % ",".join(map(str, ids))) == str(len(ids)), 120), "issuing"
    return ids


def status_of(cid):
    return psql("SELECT status FROM certificates WHERE id = :'p1'", cid)


def revoke_log():
    try:
        return open(os.path.join(VAR, "log", "revoke.log"), encoding="utf-8", errors="replace").read()
    except OSError:
        return ""


def crl_lists(slug, cid):
    serial = int(psql("SELECT serial FROM certificates WHERE id = :'p1'", cid), 16)
    r = Client().get("/crl/%s.crl" % slug)
    if r.status != 200:
        return False
    return x509.load_der_x509_crl(r.body).get_revoked_certificate_by_serial_number(serial) is not None


STATE = {}


def test_revokes(t):
    slug = "int-" + TAG
    c, tid, aid = tenant(slug)
    ids = batch(c, tid, 3)
    STATE.update(c=c, tid=tid, aid=aid, ids=ids, slug=slug)
    wait_ocsp_backlog()
    before = (c.get("/api/tenant").json() or {}).get("available")
    st, body = call({"tenant": tid, "ids": [ids[0]], "reason": "cessationOfOperation", "admin_id": aid,
                     "remote_addr": "192.0.2.7"})
    t.ok(st == 200 and (body or {}).get("count") == 1 and body["items"][0]["status"] == "revoked"
         and body["items"][0].get("reason") == "cessationOfOperation",
         "users' token: 200, the certificate revoked with its reason", (st, body))
    t.eq(status_of(ids[0]), "revoked", "stored as revoked")
    t.eq((c.get("/api/tenant").json() or {}).get("available"), before + 1, "its licence is free")
    cn = psql("SELECT cn FROM certificates WHERE id = :'p1'", ids[0])
    hist = psql("SELECT actor_kind || '|' || coalesce(actor_id::text, '') || '|' || coalesce(ip::text, '') || '|' || detail"
                " FROM audit WHERE tenant_id = :'p1' AND action = 'certificate_revoke' ORDER BY id DESC LIMIT 1", tid)
    t.ok(hist.startswith("admin|%d|192.0.2.7" % aid) and hist.endswith("%s: 失効中 -> 失効完了" % cn),
         "the history: the administrator it names, the address, '<cn>: 失効中 -> 失効完了'", hist)
    t.ok(wait_until(lambda: crl_lists(slug, ids[0]), 10), "the tenant's CRL lists the serial within 10 s")
    t.ok("event=internal_call caller=users tenant=%d" % tid in revoke_log(), "the call is logged with its caller")
    st, body = call({"tenant": tid, "ids": [ids[1]]}, service="download")
    t.ok(st == 200 and status_of(ids[1]) == "revoked", "download's token works too (system actor)", (st, body))
    hist = psql("SELECT actor_kind FROM audit WHERE tenant_id = :'p1' AND action = 'certificate_revoke'"
                " ORDER BY id DESC LIMIT 1", tid)
    t.eq(hist, "system", "without admin_id the history's actor is the system")
    st, body = call({"tenant": tid, "ids": [ids[0]]})
    t.ok(st == 409 and ((body or {}).get("error") or {}).get("code") == "invalid_status",
         "revoked twice: 409 invalid_status, as the public API", (st, body))
    st, body = call({"tenant": tid, "ids": [ids[2]], "revoke_on": "2000-01-01"})
    t.ok(st == 422 and status_of(ids[2]) == "issued", "a past revoke_on: 422, nothing changed", (st, body))


def test_refused(t):
    tid, ids = STATE["tid"], STATE["ids"]
    good = {"tenant": tid, "ids": [ids[2]]}
    cases = [("a wrong token", dict(tok="0" * 64), "caller=users reason=wrong_token"),
             ("no Authorization", dict(auth=False), "caller=users reason=no_token"),
             ("another service's token", dict(tok=token("download")), "caller=users reason=wrong_token"),
             ("an unknown service", dict(service="issue", tok=token("users")), "caller=issue reason=unknown_service"),
             ("no X-Shomei-Service", dict(service=None, tok=token("users")), "caller=- reason=no_service")]
    for name, kw, logged in cases:
        n = revoke_log().count(logged)
        st, body = call(good, **kw)
        t.ok(st == 401 and ((body or {}).get("error") or {}).get("code") == "unauthorized",
             "%s: 401 unauthorized" % name, (st, body))
        t.ok(wait_until(lambda: revoke_log().count(logged) > n, 5), "%s: logged (%s)" % (name, logged))
    t.eq(status_of(ids[2]), "issued", "nothing was revoked by the refused calls")
    t.ok(token("users") not in revoke_log(), "no token in the log")


def test_other_tenant(t):
    c2, tid2, aid2 = tenant("int2-" + TAG)
    other = batch(c2, tid2, 1)
    tid, ids = STATE["tid"], STATE["ids"]
    st, body = call({"tenant": tid, "ids": [ids[2], other[0]]})
    t.ok(st == 404 and ((body or {}).get("error") or {}).get("code") == "not_found",
         "another tenant's id among ours: 404 not_found", (st, body))
    t.ok(status_of(ids[2]) == "issued" and status_of(other[0]) == "issued", "and nothing changed, in either tenant")
    st, body = call({"tenant": 999999999, "ids": [ids[2]]})
    t.ok(st == 404 and status_of(ids[2]) == "issued", "a tenant that does not exist: 404", (st, body))
    st, body = call({"tenant": tid, "ids": [ids[2]], "admin_id": aid2})
    t.ok(st == 422 and status_of(ids[2]) == "issued", "an administrator of another tenant: 422", (st, body))
    st, body = call({"ids": [ids[2]]})
    t.ok(st == 422 and any(f.get("field") == "tenant" for f in ((body or {}).get("error") or {}).get("fields", [])),
         "no tenant: 422 on tenant", (st, body))


def test_not_public(t):
    c = STATE["c"]
    h = {"X-Shomei-Service": "users", "Authorization": "Bearer " + token("users"), "X-Shomei-Listener": "internal"}
    r = Client().post("/internal/revocations", {"tenant": STATE["tid"], "ids": [STATE["ids"][2]]}, headers=h)
    t.eq(r.status, 404, "the public HTTPS port: 404, even with a right token", r.body)
    r = c.post("/internal/revocations", {"tenant": STATE["tid"], "ids": [STATE["ids"][2]]}, headers=h)
    t.eq(r.status, 404, "and with an administrator's session", r.body)
    t.eq(status_of(STATE["ids"][2]), "issued", "nothing revoked")


def test_nobody(t):
    if os.getuid() != 0:
        t.ok(True, "# SKIP not root: the socket's directory is the user's own (0700)")
        return
    st = os.stat(os.path.dirname(SOCK))
    t.ok(st.st_uid == 0 and (st.st_mode & 0o007) == 0, "var/run/internal: root's, nothing for others",
         oct(st.st_mode))
    code = ("import socket,sys\ns=socket.socket(socket.AF_UNIX)\n"
            "try:\n s.connect(sys.argv[1]); print('connected')\n"
            "except PermissionError: print('EACCES')\nexcept OSError as e: print('other', e)\n")
    p = subprocess.run([sys.executable, "-c", code, SOCK], capture_output=True, text=True, timeout=30,
                       preexec_fn=lambda: (os.setgroups([]), os.setgid(65534), os.setuid(65534)))
    t.eq(p.stdout.strip(), "EACCES", "a process of uid nobody cannot connect (permission denied)", p.stderr)
    # as root every process runs as its own user: the callers (group shomei-internal) reach it
    for user, want in (("shomei-users", "connected"), ("shomei-download", "connected"), ("shomei-auth", "EACCES"),
                       ("shomei-issue", "EACCES")):
        try:
            pw = pwd.getpwnam(user)
        except KeyError:
            continue
        p = subprocess.run([sys.executable, "-c", code, SOCK], capture_output=True, text=True, timeout=30,
                           preexec_fn=lambda pw=pw: (os.initgroups(pw.pw_name, pw.pw_gid), os.setgid(pw.pw_gid),
                                                     os.setuid(pw.pw_uid)))
        t.eq(p.stdout.strip(), want, "%s, with its groups: %s" % (user, want), p.stderr)
    for name in ("users", "download"):
        f = os.path.join(TOKENS, name + ".token")
        m = os.stat(f).st_mode & 0o777
        t.ok(m & 0o077 == 0, "%s.token: its owner's only (%o)" % (name, m))
    p = subprocess.run([sys.executable, "-c", "open(__import__('sys').argv[1]).read()",
                        os.path.join(TOKENS, "users.token")], capture_output=True, text=True, timeout=30,
                       preexec_fn=lambda: (os.setgroups([]), os.setgid(65534), os.setuid(65534)))
    t.ok(p.returncode != 0 and "Permission" in p.stderr, "nobody cannot read a token", p.stderr[-200:])


def main():
    t = TAP()
    t.run(test_revokes)
    t.run(test_refused)
    t.run(test_other_tenant)
    t.run(test_not_public)
    t.run(test_nobody)
    t.done()


if __name__ == "__main__":
    main()
