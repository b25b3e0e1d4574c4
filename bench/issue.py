#!/usr/bin/env python3
"""bench/issue.py: the measurements behind bench/issue (run that script, not this one)."""
import json
import os
import re
import signal
import subprocess
import sys
import time

from benchlib import ROOT, STAMP, head, load, say, table, write

UP_JSON, BUILD, TMP, OUT = sys.argv[1:5]
BURST_N, RSA_N, P256_N, WORKERS, WARM, CFSSL_SECONDS = (int(a) for a in sys.argv[5:11])
os.environ["SHOMEI_UP_JSON"] = UP_JSON
os.environ.setdefault("SHOMEI_ROOT", ROOT)
from shomei_test import UP, VAR, Client, ctl, path, psql  # noqa: E402

CONF = path(UP["ctl"][2])
PW = "Bench2issue9x"


def tenant(name, quota, key_type):
    slug = "bench-%s-%s" % (name, STAMP)
    ctl("tenant", "create", "--slug", slug, "--name", "ベンチ " + name, "--name-en", "Bench " + name,
        "--quota", str(quota))
    psql("UPDATE tenants SET key_type = :'p1' WHERE slug = :'p2'", key_type, slug)
    ctl("admin", "create", "--tenant", slug, "--login-id", slug + "-admin", "--password", PW)
    tid = int(psql("SELECT id FROM tenants WHERE slug = :'p1'", slug))
    c = Client()
    r = c.login(slug + "-admin", PW)
    if r.status != 200:
        raise SystemExit("login failed: %d" % r.status)
    return tid, c


def issued(tid):
    return int(psql("SELECT count(*) FROM certificates WHERE tenant_id = :'p1' AND status = 'issued'", tid))


def batch(tid, c, n, timeout):
    """POST the batch and wait for the last `issued`: (seconds, certificates/s)."""
    t0 = time.monotonic()
    r = c.post("/api/certificates/batch", {"count": n})
    if r.status != 202:
        raise SystemExit("batch of %d answered %d: %r" % (n, r.status, r.body[:200]))
    t_req = time.monotonic() - t0
    # Each poll starts a psql (several ms of CPU taken from the run): every 0.25 s until
    # the last 2 %, then every 20 ms, so the end is seen within 20 ms.
    while (done := issued(tid)) < n:
        if time.monotonic() - t0 > timeout:
            raise SystemExit("timeout: %d of %d issued" % (done, n))
        time.sleep(0.25 if done < 0.98 * n else 0.02)
    dt = time.monotonic() - t0
    failed = psql("SELECT count(*) FROM certificates WHERE tenant_id = :'p1' AND status <> 'issued'", tid)
    say("  %d issued in %.2f s (request %.3f s, not issued: %s)" % (n, dt, t_req, failed))
    return dt, n / dt


def restart_issue(workers):
    """A cold start: a new shomei-issue (empty key pool) with `workers` issuance threads."""
    pidf = os.path.join(VAR, "run", "issue.pid")
    try:
        pid = int(open(pidf).read())
        os.kill(pid, signal.SIGTERM)
        for _ in range(100):
            if not os.path.exists("/proc/%d" % pid):
                break
            time.sleep(0.05)
    except (OSError, ValueError):
        pass
    env = dict(os.environ, SHOMEI_ISSUE_WORKERS=str(workers))
    log = open(os.path.join(VAR, "log", "issue.log"), "ab")
    subprocess.Popen(["setsid", os.path.join(BUILD, "services", "issue", "shomei-issue"), "-c", CONF, "-p", pidf],
                     stdout=log, stderr=log, stdin=subprocess.DEVNULL, env=env, start_new_session=True)
    sock = os.path.join(VAR, "run", "sock", "issue.sock")
    for _ in range(200):
        if os.path.exists(sock) and os.path.exists(pidf):
            break
        time.sleep(0.05)
    time.sleep(0.3)


def bound(kind, n):
    p = subprocess.run([os.path.join(BUILD, "bench", "crypto-bound"), "bound", kind, str(n), str(os.cpu_count())],
                       capture_output=True, text=True, timeout=3600)
    m = re.search(r"per_second=([0-9.]+)", p.stdout)
    say("  " + p.stdout.strip())
    return float(m.group(1)) if m else 0.0


def keygen():
    p = subprocess.run([os.path.join(BUILD, "bench", "crypto-bound"), "keygen", "100"], capture_output=True, text=True,
                       timeout=600)
    return p.stdout.strip()


def cfssl(algo, size):
    """certificates/s of cfssl serve's newcert (generate + sign) with wrk at WORKERS connections."""
    if not shutil_which("cfssl"):
        return None
    d = os.path.join(TMP, "cfssl")
    os.makedirs(d, exist_ok=True)
    if not os.path.exists(os.path.join(d, "ca.pem")):
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", os.path.join(d, "ca-key.pem"),
                        "-out", os.path.join(d, "ca.pem"), "-days", "3650", "-subj", "/CN=Bench CA/O=Bench/C=JP",
                        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"],
                       capture_output=True, check=True)
    port = 18000 + os.getpid() % 1000
    srv = subprocess.Popen(["cfssl", "serve", "-address", "127.0.0.1", "-port", str(port), "-ca", os.path.join(d, "ca.pem"),
                            "-ca-key", os.path.join(d, "ca-key.pem")], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    try:
        time.sleep(1.5)
        body = json.dumps({"request": {"CN": "client_000001", "names": [{"C": "JP", "O": "Bench", "OU": "bench"}],
                                       "key": {"algo": algo, "size": size}}})
        lua = os.path.join(TMP, "newcert-%s.lua" % algo)
        open(lua, "w").write('wrk.method = "POST"\nwrk.body = %s\nwrk.headers["Content-Type"] = "application/json"\n'
                             % json.dumps(body))
        p = subprocess.run(["wrk", "-t", "2", "-c", str(WORKERS), "-d", "%ds" % CFSSL_SECONDS, "-s", lua,
                            "http://127.0.0.1:%d/api/v1/cfssl/newcert" % port], capture_output=True, text=True,
                           timeout=CFSSL_SECONDS + 60)
        m = re.search(r"Requests/sec:\s+([0-9.]+)", p.stdout)
        bad = re.search(r"Non-2xx or 3xx responses: (\d+)", p.stdout)
        say("  cfssl %s: %s req/s%s" % (algo, m.group(1) if m else "?", (", non-2xx %s" % bad.group(1)) if bad else ""))
        return float(m.group(1)) if m else None
    finally:
        srv.terminate()
        srv.wait(10)


def shutil_which(name):
    return any(os.access(os.path.join(p, name), os.X_OK) for p in os.environ.get("PATH", "").split(":"))


LOAD = []


def main():
    LOAD.append(load())
    say("key generation (one core):")
    kg = keygen()
    say("  " + kg.replace("\n", "\n  "))
    res = {}
    # 1. burst from a warm pool
    restart_issue(WORKERS)
    say("burst: %d RSA-2048, pool warmed for %d s" % (BURST_N, WARM))
    time.sleep(WARM)
    tid, c = tenant("burst", BURST_N, "rsa2048")
    res["burst"] = batch(tid, c, BURST_N, 600)
    # 2. sustained RSA-2048, cold pool
    say("sustained: %d RSA-2048, cold pool" % RSA_N)
    tid, c = tenant("rsa", RSA_N, "rsa2048")
    restart_issue(WORKERS)
    res["rsa"] = batch(tid, c, RSA_N, 3600)
    say("crypto bound RSA-2048:")
    res["bound_rsa"] = bound("rsa2048", max(200, RSA_N // 5))
    # 3. sustained P-256, cold pool
    say("sustained: %d P-256, cold pool" % P256_N)
    tid, c = tenant("p256", P256_N, "p256")
    restart_issue(WORKERS)
    res["p256"] = batch(tid, c, P256_N, 3600)
    say("crypto bound P-256:")
    res["bound_p256"] = bound("p256", max(2000, P256_N // 2))
    say("peer: cfssl serve, newcert, wrk -c %d" % WORKERS)
    res["cfssl_rsa"] = cfssl("rsa", 2048)
    res["cfssl_p256"] = cfssl("ecdsa", 256)
    restart_issue(int(os.environ.get("SHOMEI_ISSUE_WORKERS_AFTER", "4")))
    LOAD.append(load())
    report(res, kg)


def fmt(v, d=1):
    return "—" if v is None else ("%.*f" % (d, v))


def report(res, kg):
    ratio = lambda a, b: None if not a or not b else a / b  # noqa: E731
    rsa_s, p_s = res["rsa"][1], res["p256"][1]
    rows = [
        ("%d RSA-2048, warm pool: batch → last issued" % BURST_N, "%.2f s" % res["burst"][0], "< 2 s",
         "met" if res["burst"][0] < 2 else "missed"),
        ("%d RSA-2048, cold pool" % RSA_N, "%s cert/s" % fmt(rsa_s), "", ""),
        ("  crypto bound RSA-2048 (%d cores)" % os.cpu_count(), "%s cert/s" % fmt(res["bound_rsa"]),
         "≥ 0.8 of bound", "%s (%s)" % (fmt(ratio(rsa_s, res["bound_rsa"]), 2),
                                          "met" if (ratio(rsa_s, res["bound_rsa"]) or 0) >= 0.8 else "missed")),
        ("  cfssl newcert RSA-2048 (wrk -c %d)" % WORKERS, "%s cert/s" % fmt(res["cfssl_rsa"]), "≥ 2× cfssl",
         "%s× (%s)" % (fmt(ratio(rsa_s, res["cfssl_rsa"]), 2),
                       "met" if (ratio(rsa_s, res["cfssl_rsa"]) or 0) >= 2 else "missed")),
        ("%d P-256, cold pool" % P256_N, "%s cert/s" % fmt(p_s), "", ""),
        ("  crypto bound P-256 (%d cores)" % os.cpu_count(), "%s cert/s" % fmt(res["bound_p256"]),
         "≥ 0.8 of bound", "%s (%s)" % (fmt(ratio(p_s, res["bound_p256"]), 2),
                                          "met" if (ratio(p_s, res["bound_p256"]) or 0) >= 0.8 else "missed")),
        ("  cfssl newcert P-256 (wrk -c %d)" % WORKERS, "%s cert/s" % fmt(res["cfssl_p256"]), "≥ 0.7× cfssl",
         "%s× (%s)" % (fmt(ratio(p_s, res["cfssl_p256"]), 2),
                       "met" if (ratio(p_s, res["cfssl_p256"]) or 0) >= 0.7 else "missed")),
    ]
    lines = head("issue", LOAD[0], LOAD[-1]) + [
        "shomei-issue with %d issuance threads; every certificate is signed by shomei-signer, packed as PKCS#12"
        " (3DES, numbered certificates), its password sealed, and stored with its history entry in PostgreSQL."
        " cfssl stores nothing and builds no PKCS#12." % WORKERS, ""] + table(rows)
    text = "\n".join(lines) + "\n\nKey generation, one core (bench/crypto-bound keygen 100):\n\n```\n" + kg + "\n```\n"
    print("\n".join(table(rows)))
    write(OUT, text)


if __name__ == "__main__":
    main()
