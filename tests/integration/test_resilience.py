#!/usr/bin/env python3
"""PostgreSQL and Redis restart under running services: they recover; losing Redis only logs people out.
Each is held (its supervisor starts it no more) while the test keeps it down, and released after."""
import os
import subprocess
import time

from shomei_test import TAP, VAR, Client, hold, pid_alive, read_pid, redis, release, wait_until

SERVICES = ("auth", "users", "issue", "revoke", "download")


def pg_ctl(*args):
    pgbin = sorted(os.listdir("/usr/lib/postgresql"))[-1]
    cmd = ["/usr/lib/postgresql/%s/bin/pg_ctl" % pgbin, "-D", os.path.join(VAR, "pg", "data"), "-w"] + list(args)
    if os.getuid() == 0:
        cmd = ["runuser", "-u", "postgres", "--"] + cmd
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def pids():
    return {s: read_pid(s) for s in SERVICES}


def test_postgres_restart(t):
    before = pids()
    c = Client()
    t.eq(c.login().status, 200, "logged in before the restart")
    # a restart the supervisor's way: held, stopped, released (pg_ctl restart would start a
    # second postmaster beside the one its supervisor starts)
    hold("postgresql")
    try:
        p = pg_ctl("-m", "fast", "stop")
    finally:
        ok = release("postgresql")
    t.ok(p.returncode == 0 and ok, "PostgreSQL restarted", p.stderr)
    statuses = [c.get("/api/auth/me").status for _ in range(3)]
    t.ok(statuses[-1] == 200, "me answers 200 after the restart (saw %s)" % statuses)
    t.ok(all(s in (200, 503) for s in statuses), "no answer other than 200 or a clean 503")
    t.eq(Client().login().status, 200, "a new login works")
    # the same processes: a service that died would have been restarted by its supervisor
    t.ok(all(pid_alive(s) for s in SERVICES) and pids() == before,
         "every service process is still the same, running", (before, pids()))


def test_postgres_down(t):
    c = Client()
    c.login()
    hold("postgresql")  # its supervisor starts it no more until released
    try:
        pg_ctl("-m", "fast", "stop")
        r = Client().get("/healthz")
        t.eq(r.status, 503, "healthz answers 503 while PostgreSQL is down")
        t.ok("postgresql" in ((r.json() or {}).get("down") or []), "and names postgresql", r.body)
        r = c.get("/api/audit")
        t.eq(r.status, 503, "an API call that needs the database answers 503")
    finally:
        t.ok(release("postgresql"), "PostgreSQL started again")
    t.ok(wait_until(lambda: Client().get("/healthz").status == 200, 60), "healthz is 200 again",
         Client().get("/healthz").body[:300])
    t.eq(c.get("/api/audit").status, 200, "the same session works again")


def test_redis_loss(t):
    c = Client()
    c.login()
    t.eq(c.get("/api/auth/me").status, 200, "session works")
    redis("FLUSHALL")
    t.eq(c.get("/api/auth/me").status, 401, "after Redis lost everything the session is gone (401)")
    t.eq(c.login().status, 200, "logging in again works")
    t.ok(len((c.get("/api/audit").json() or {}).get("items", [])) > 0, "the history (PostgreSQL) is intact")


def test_redis_restart(t):
    before = pids()
    c = Client()
    c.login()
    pid = int(open(os.path.join(VAR, "run", "redis.pid")).read())
    hold("redis")  # its supervisor starts it no more until released
    try:
        redis("SHUTDOWN", "SAVE")
        wait_until(lambda: not os.path.exists("/proc/%d" % pid), 10)
        r = Client().get("/healthz")
        t.eq(r.status, 503, "healthz answers 503 while Redis is down")
        t.eq(Client().login().status, 503, "login answers 503 while Redis is down")
        t.eq(c.get("/api/auth/me").status, 401, "a request with a session is refused, not crashed")
    finally:
        release("redis")
    t.ok(wait_until(lambda: redis("PING") == "PONG"), "Redis is back")
    t.eq(c.get("/api/auth/me").status, 200, "a session saved before the restart still works")
    t.eq(Client().login().status, 200, "services reconnected: login works")
    t.ok(all(pid_alive(s) for s in SERVICES) and pids() == before, "no service died (the same processes)",
         (before, pids()))


def main():
    t = TAP()
    for fn in (test_postgres_restart, test_postgres_down, test_redis_loss, test_redis_restart):
        t.run(fn)
    t.done()


if __name__ == "__main__":
    main()
