#!/usr/bin/env python3
"""PostgreSQL and Redis restart under running services: they recover; losing Redis only logs people out."""
import os
import subprocess
import time

from shomei_test import ROOT, TAP, VAR, Client, pid_alive, redis, wait_until

SERVICES = ("auth", "users", "issue", "revoke", "download")


def pg_ctl(*args):
    pgbin = sorted(os.listdir("/usr/lib/postgresql"))[-1]
    cmd = ["/usr/lib/postgresql/%s/bin/pg_ctl" % pgbin, "-D", os.path.join(VAR, "pg", "data"), "-w"] + list(args)
    if os.getuid() == 0:
        cmd = ["runuser", "-u", "postgres", "--"] + cmd
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def test_postgres_restart(t):
    c = Client()
    t.eq(c.login().status, 200, "logged in before the restart")
    p = pg_ctl("-m", "fast", "restart", "-l", os.path.join(VAR, "pg", "postgresql.log"))
    t.eq(p.returncode, 0, "PostgreSQL restarted", p.stderr)
    statuses = [c.get("/api/auth/me").status for _ in range(3)]
    t.ok(statuses[-1] == 200, "me answers 200 after the restart (saw %s)" % statuses)
    t.ok(all(s in (200, 503) for s in statuses), "no answer other than 200 or a clean 503")
    t.eq(Client().login().status, 200, "a new login works")
    t.ok(all(pid_alive(s) for s in SERVICES), "every service process is still the same, running")


def test_postgres_down(t):
    c = Client()
    c.login()
    pg_ctl("-m", "fast", "stop")
    r = Client().get("/healthz")
    t.eq(r.status, 503, "healthz answers 503 while PostgreSQL is down")
    t.ok("postgresql" in ((r.json() or {}).get("down") or []), "and names postgresql", r.body)
    r = c.get("/api/audit")
    t.eq(r.status, 503, "an API call that needs the database answers 503")
    p = pg_ctl("-l", os.path.join(VAR, "pg", "postgresql.log"), "start")
    t.eq(p.returncode, 0, "PostgreSQL started again", p.stderr)
    t.ok(wait_until(lambda: Client().get("/healthz").status == 200), "healthz is 200 again")
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
    c = Client()
    c.login()
    pid = int(open(os.path.join(VAR, "run", "redis.pid")).read())
    redis("SHUTDOWN", "SAVE")
    wait_until(lambda: not os.path.exists("/proc/%d" % pid), 10)
    r = Client().get("/healthz")
    t.eq(r.status, 503, "healthz answers 503 while Redis is down")
    t.eq(Client().login().status, 503, "login answers 503 while Redis is down")
    t.eq(c.get("/api/auth/me").status, 401, "a request with a session is refused, not crashed")
    # started again the way scripts/up starts it (its user, its socket's group and mode)
    subprocess.run(["bash", "-c", '. "$1/scripts/lib.sh" && stack_env && start_redis', "start_redis", ROOT],
                   env=dict(os.environ, VAR=VAR), check=True, capture_output=True, timeout=60)
    t.ok(wait_until(lambda: redis("PING") == "PONG"), "Redis is back")
    t.eq(c.get("/api/auth/me").status, 200, "a session saved before the restart still works")
    t.eq(Client().login().status, 200, "services reconnected: login works")
    t.ok(all(pid_alive(s) for s in SERVICES), "no service died")


def main():
    t = TAP()
    for fn in (test_postgres_restart, test_postgres_down, test_redis_loss, test_redis_restart):
        t.run(fn)
    t.done()


if __name__ == "__main__":
    main()
