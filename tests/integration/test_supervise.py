#!/usr/bin/env python3
"""Supervision (issue 9 item 15): a service killed with -9 comes back (a new process, its socket
answering, the API through nginx working again, the restart in its log), and a held service stays
down until it is released."""
import os
import re
import signal
import socket
import time

from shomei_test import (ROOT, TAP, VAR, Client, ctl, psql, read_pid, scripts_up, sock_answers,
                         wait_until)

BUILD = os.environ.get("SHOMEI_BUILD") or os.path.join(ROOT, "build")
SOCK = os.path.join(VAR, "run", "sock")
ADMIN_PW = "Supervise9x"


def alive(pid):
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    # a zombie is not alive either
    try:
        return open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def log_file(path):
    try:
        return open(path, encoding="utf-8", errors="replace").read()
    except OSError:
        return ""


def log(name):
    return log_file(os.path.join(VAR, "log", name + ".log"))


def came_back(name, old):
    """NAME's pid file names a new, live process whose socket answers."""
    pid = read_pid(name)
    return pid not in (0, old) and alive(pid) and sock_answers(os.path.join(SOCK, name + ".sock"))


def kill9(t, name, check):
    """SIGKILL NAME; it must come back by itself and `check` (an API call) must work again."""
    sup = read_pid(name + ".supervisor")
    t.ok(sup and alive(sup), "%s runs under a supervisor (%s.supervisor.pid)" % (name, name))
    old = read_pid(name)
    t.ok(old and alive(old), "%s runs (pid %d)" % (name, old))
    os.kill(old, signal.SIGKILL)
    t.ok(wait_until(lambda: came_back(name, old), 20),
         "a service killed with -9 comes back: %s, a new process whose socket answers" % name,
         "pid file: %d (was %d)" % (read_pid(name), old))
    new = read_pid(name)
    t.ok(wait_until(check, 20), "%s: the API through nginx works again" % name)
    text = log(name)
    t.ok(re.search(r"prog=shomei-supervise level=warn event=exit service=%s pid=%d signal=9 " % (name, old), text),
         "%s's log has the exit, with the signal" % name, text[-600:])
    t.ok(re.search(r"event=restart service=%s delay_ms=\d+" % name, text) and
         re.search(r"event=start service=%s pid=%d restarts=[1-9]" % (name, new), text),
         "%s's log has the restart and the new start" % name, text[-600:])
    t.eq(read_pid(name + ".supervisor"), sup, "%s: the same supervisor" % name)
    return new


def test_users(t):
    c = Client()
    t.eq(c.login().status, 200, "logged in")
    t.eq(c.get("/api/tenant").status, 200, "GET /api/tenant (shomei-users) answers")
    new = kill9(t, "users", lambda: c.get("/api/tenant").status == 200)
    # a second kill soon after: the wait before the restart doubles
    os.kill(new, signal.SIGKILL)
    t.ok(wait_until(lambda: came_back("users", new), 20), "killed again, it comes back again")
    t.ok(re.search(r"event=restart service=users delay_ms=1000", log("users")),
         "the second restart in a row waited longer (1000 ms)", log("users")[-400:])
    t.eq(c.get("/api/tenant").status, 200, "and the API answers")


def test_signer(t):
    slug = "supervise-s"
    ctl("tenant", "create", "--slug", slug, "--name", "監視テスト", "--name-en", "Supervise Test",
        "--quota", "5", "--features", "validity_period")
    psql("UPDATE tenants SET key_type = 'p256' WHERE slug = :'p1'", slug)
    ctl("admin", "create", "--tenant", slug, "--login-id", slug + "-admin", "--password", ADMIN_PW)
    c = Client()
    t.eq(c.login(slug + "-admin", ADMIN_PW).status, 200, "logged in as the test tenant's administrator")
    ids = []

    def issues():
        r = c.post("/api/certificates/batch", {"count": 1})
        got = (r.json() or {}).get("ids") or []
        ids.extend(got)
        return got and wait_until(lambda: psql("SELECT status FROM certificates WHERE id = :'p1'", got[0]) == "issued", 15)

    kill9(t, "signer", issues)
    t.ok(len(ids) >= 1, "a certificate was issued (signed) through the API after the signer came back", ids)


def test_postgres(t):
    """The postmaster killed with -9: its supervisor kills what is left of it (the backends), so
    the next one starts on clean shared memory, recovers, and the services reconnect."""
    pidfile = os.path.join(VAR, "pg", "data", "postmaster.pid")
    postmaster = lambda: int(open(pidfile).readline().strip() or 0)
    sup = read_pid("postgresql.supervisor")
    t.ok(sup and alive(sup), "PostgreSQL runs under a supervisor")
    old = postmaster()
    backends = [int(p) for p in os.listdir("/proc") if p.isdigit() and os.path.exists("/proc/%s/stat" % p)
                and open("/proc/%s/stat" % p).read().rsplit(")", 1)[1].split()[1] == str(old)]
    os.kill(old, signal.SIGKILL)
    t.ok(wait_until(lambda: postmaster() not in (0, old) and alive(postmaster()) and
                    psql("SELECT 1") == "1", 60), "a postmaster killed with -9 comes back and answers")
    t.ok(backends and not any(alive(b) for b in backends), "none of its %d children is left" % len(backends))
    c = Client()
    t.ok(wait_until(lambda: c.login().status == 200 and c.get("/api/audit").status == 200, 30),
         "the services reconnect: login and the history work")
    text = log_file(os.path.join(VAR, "pg", "postgresql.log"))
    t.ok(re.search(r"event=exit service=postgresql pid=%d signal=9 " % old, text) and
         "event=restart service=postgresql" in text, "the exit and the restart are in PostgreSQL's log")


def test_hold(t):
    c = Client()
    t.eq(c.login().status, 200, "logged in")
    old = read_pid("users")
    sup = read_pid("users.supervisor")
    p = scripts_up("hold", "users")
    t.eq(p.returncode, 0, "scripts/up hold users", p.stderr)
    try:
        t.ok(wait_until(lambda: not alive(old), 10), "held: shomei-users stopped")
        time.sleep(3)  # several times the first restart delay
        t.ok(not alive(old) and read_pid("users") in (0, old) and not sock_answers(os.path.join(SOCK, "users.sock")),
             "a held service stays down (3 s, no new process, its socket does not answer)")
        t.ok(alive(sup), "its supervisor still runs")
        t.ok(c.get("/api/tenant").status in (502, 503, 504), "the API it serves is down meanwhile")
        t.ok("event=held service=users" in log("users"), "the hold is in its log")
        # a socket file left by a killed process is not "up"
        stale = os.path.join(SOCK, "users.sock")
        if not os.path.exists(stale):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.bind(stale)
            s.close()
        t.ok(os.path.exists(stale) and os.spawnv(os.P_WAIT, os.path.join(BUILD, "tools", "supervise", "shomei-supervise"),
                                                 ["shomei-supervise", "-C", stale]) == 1,
             "shomei-supervise -C: a socket file nobody listens on does not count")
    finally:
        p = scripts_up("release", "users")
    t.eq(p.returncode, 0, "scripts/up release users (waits until it answers)", p.stderr)
    t.ok(wait_until(lambda: came_back("users", old), 10), "released: a new shomei-users answers")
    t.eq(c.get("/api/tenant").status, 200, "and the API works again")
    t.ok("event=released service=users" in log("users"), "the release is in its log")
    t.eq(read_pid("users.supervisor"), sup, "the same supervisor throughout")


def main():
    t = TAP()
    for fn in (test_users, test_signer, test_postgres, test_hold):
        t.run(fn)
    t.done()


if __name__ == "__main__":
    main()
