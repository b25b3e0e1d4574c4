#!/usr/bin/env python3
"""test_docker: docker/docker-compose.yml built and run for real, replicated, and hurt.

Needs no local stack. Runs as root on a machine where a Docker engine runs or can be started:
Debian's docker.io (installed with apt-get when missing), dockerd started in the background
(log: /tmp/shomei-dockerd.log). Where no engine can run (no cgroups, no overlay filesystem, not
root, or DOCKER_HOST names an engine that does not answer) every check prints
"ok N - ... # SKIP <reason>" and the reason goes to stderr.

  1. docker/base-image (debian:12, debian:12-slim from Debian's mirror; kept once made), the
     four images from docker/Dockerfile (Docker's layer cache keeps them when nothing changed);
  2. up with issue=3 users=2 revoke=2 download=2 auth=2 under its own project name
     (SHOMEI_DOCKER_PROJECT, default shomeitest<port>), published on 127.0.0.1 only
     (SHOMEI_DOCKER_PORT, default the stack's PORT + 40, and the next port for plain HTTP; the
     restored copy in step 6 the two after);
  3. the administrator from init's output logs in; 500 P-256 certificates with one issue
     container killed and PostgreSQL restarted in the middle: all issued exactly once, serials
     unique, every PKCS#12 of the ZIP opens with its password;
  4. the work and the reads spread over the replicas (each replica's /metrics through nginx's
     replica listener), every /metrics passes promtool check metrics;
  5. revoke, CRL and OCSP over the plain-HTTP port; the signer and PostgreSQL killed and back;
  6. down && up keeps everything; pg_dump + the key volumes restored into a second project
     serve the same certificates, CRL and history; down -v leaves nothing of either project.
Prints TAP; the times of the builds go to the TAP stream as comments.
"""
import base64
import csv
import http.client
import io
import json
import os
import re
import shutil
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request
import zipfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from tap import TAP, wait_until  # noqa: E402

ROOT = os.environ.get("SHOMEI_ROOT") or os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
COMPOSE_FILE = os.path.join(ROOT, "docker", "docker-compose.yml")
# Ports and project names follow the stack's PORT (scripts/test: TEST_PORT, default 18443): the
# published ports are PORT+40 .. PORT+43, inside the 90 ports a run owns, and the project is named
# after them, so two scripts/test runs at different ports never share a container or a volume.
PORT = int(os.environ.get("SHOMEI_DOCKER_PORT") or int(os.environ.get("PORT") or 18443) + 40)
PROJECT = os.environ.get("SHOMEI_DOCKER_PROJECT") or "shomeitest%d" % PORT
RESTORED = PROJECT + "r"
SCALE = {"issue": 3, "users": 2, "revoke": 2, "download": 2, "auth": 2}
BATCH = int(os.environ.get("SHOMEI_DOCKER_BATCH", "500"))
TMP = tempfile.mkdtemp(prefix="shomei-docker-test.")
SECRETS = os.path.join(TMP, "secrets")


T = TAP()


def run(cmd, check=False, timeout=900, env=None, input=None):
    r = subprocess.run(cmd, capture_output=True, timeout=timeout, env=env, input=input)
    if check and r.returncode != 0:
        raise RuntimeError("%s: exit %d\n%s" % (" ".join(cmd), r.returncode,
                                                (r.stdout + r.stderr).decode(errors="replace")[-3000:]))
    return r


def out(cmd, **kw):
    return run(cmd, check=True, **kw).stdout.decode().strip()


def compose_env(port):
    e = dict(os.environ)
    e.update({
        "SHOMEI_PORT": str(port), "SHOMEI_HTTP_PORT": str(port + 1), "SHOMEI_BIND": "127.0.0.1",
        "SHOMEI_CA_KEK_FILE": os.path.join(SECRETS, "ca-kek.key"),
        "SHOMEI_DATA_KEY_FILE": os.path.join(SECRETS, "data.key"),
        "SHOMEI_DB_PASSWORD_FILE": os.path.join(SECRETS, "db_password"),
        "SHOMEI_DB_OWNER_PASSWORD_FILE": os.path.join(SECRETS, "db_owner_password"),
        "SHOMEI_DB_SUPERUSER_PASSWORD_FILE": os.path.join(SECRETS, "db_superuser_password"),
        "SHOMEI_INTERNAL_USERS_TOKEN_FILE": os.path.join(SECRETS, "internal-users.token"),
        "SHOMEI_INTERNAL_DOWNLOAD_TOKEN_FILE": os.path.join(SECRETS, "internal-download.token"),
        "SHOMEI_INTERNAL_CLIENTS_FILE": os.path.join(SECRETS, "internal-clients"),
    })
    return e


def compose(project, *args, port=PORT, check=True, timeout=900):
    r = run(["docker-compose", "-f", COMPOSE_FILE, "-p", project] + list(args), timeout=timeout,
            env=compose_env(port))
    if check and r.returncode != 0:
        raise RuntimeError("docker-compose %s: exit %d\n%s" % (" ".join(args), r.returncode,
                                                              (r.stdout + r.stderr).decode(errors="replace")[-3000:]))
    return r.stdout.decode()


def containers(project, service=None, running=True):
    f = ["--filter", "label=com.docker.compose.project=" + project]
    if service:
        f += ["--filter", "label=com.docker.compose.service=" + service]
    ids = out(["docker", "ps", "-q"] + ([] if running else ["-a"]) + f).split()
    return sorted(ids)


def inspect(cid, fmt):
    return out(["docker", "inspect", "-f", fmt, cid])


def psql(project, sql):
    pg = containers(project, "postgres")[0]
    return out(["docker", "exec", "-u", "postgres", pg, "psql", "-d", "shomei", "-AtqX", "-v", "ON_ERROR_STOP=1",
                "-c", sql])


def ctl(project, *args):
    return compose(project, "run", "--rm", "--no-deps", "-T", "init", "shomeictl", "-c", "/etc/shomei/shomei.conf",
                   *args)


def crash(cid):
    """The container's main process killed from the host (SIGKILL), as a crash would end it:
    `docker kill` counts as an operator's stop, which restart policies leave alone."""
    pid = inspect(cid, "{{.State.Pid}}")
    os.kill(int(pid), 9)


# --- the engine ------------------------------------------------------------------------------

def engine():
    """None when docker answers (started here if need be), else why not."""
    if shutil.which("docker") and run(["docker", "info"], timeout=60).returncode == 0:
        return None
    if os.environ.get("DOCKER_HOST"):
        # an engine named elsewhere is not one a local dockerd could stand in for
        return "no Docker engine answers at DOCKER_HOST=%s (not starting a local one)" % os.environ["DOCKER_HOST"]
    if os.geteuid() != 0:
        return "no Docker engine answers and this is not root, which could start one"
    need = [p for p, b in (("docker.io", "dockerd"), ("docker-compose", "docker-compose"), ("debootstrap", "debootstrap"))
            if not shutil.which(b)]
    if need:
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        r = run(["apt-get", "install", "-y", "-q"] + need, timeout=900, env=env)
        if r.returncode != 0:
            run(["apt-get", "update", "-q"], timeout=600, env=env)
            r = run(["apt-get", "install", "-y", "-q"] + need, timeout=900, env=env)
        if r.returncode != 0:
            return "cannot install %s: %s" % (" ".join(need), r.stderr.decode(errors="replace")[-300:])
    if run(["docker", "info"], timeout=60).returncode != 0:
        log = open("/tmp/shomei-dockerd.log", "ab")
        subprocess.Popen(["dockerd"], stdout=log, stderr=log, stdin=subprocess.DEVNULL, start_new_session=True)
        if not wait_until(lambda: run(["docker", "info"], timeout=30).returncode == 0, 60):
            tail = open("/tmp/shomei-dockerd.log", "rb").read()[-600:].decode(errors="replace")
            return "dockerd did not start (no cgroups or overlay filesystem here?): " + " ".join(tail.split())
    if not shutil.which("docker-compose"):
        return "docker-compose is missing"
    return None


def timed(name, cmd, env=None, timeout=3600):
    t0 = time.time()
    r = run(cmd, timeout=timeout, env=env)
    T.ok(r.returncode == 0, "%s (%.0f s)" % (name, time.time() - t0), (r.stdout + r.stderr).decode(errors="replace")[-3000:])
    return r.returncode == 0


# --- HTTPS as a browser ------------------------------------------------------------------------

class Client:
    def __init__(self, port, ca):
        self.port = port
        self.ctx = ssl.create_default_context(cafile=ca)
        self.cookie = None
        self.csrf = None

    def request(self, method, url, body=None):
        h = {"Host": "localhost:%d" % self.port}
        data = None
        if self.cookie:
            h["Cookie"] = self.cookie
        if body is not None:
            data = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        if self.csrf and method != "GET":
            h["X-CSRF-Token"] = self.csrf
        c = http.client.HTTPSConnection("127.0.0.1", self.port, context=self.ctx, timeout=120)
        # the server certificate names localhost and 127.0.0.1
        try:
            c.request(method, url, body=data, headers=h)
            r = c.getresponse()
            r.data = r.read()
        finally:
            c.close()
        for v in r.headers.get_all("Set-Cookie") or []:
            k, _, rest = v.partition("=")
            if k == "__Host-shomei":
                self.cookie = "__Host-shomei=" + rest.split(";", 1)[0]
        return r

    def json(self, method, url, body=None):
        r = self.request(method, url, body)
        try:
            return r.status, json.loads(r.data.decode() or "null")
        except ValueError:
            return r.status, None

    def login(self, login_id, password):
        st, doc = self.json("POST", "/api/auth/login", {"login_id": login_id, "password": password})
        if st == 200:
            self.csrf = doc["csrf_token"]
        return st


def http_get(port, path):
    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=30) as r:
        return r.status, r.read()


# --- the stack -------------------------------------------------------------------------------

def up(project, port, scale=True):
    args = ["up", "-d", "--no-build"]
    if scale:
        for k, v in SCALE.items():
            args += ["--scale", "%s=%d" % (k, v)]
    compose(project, *args, port=port, timeout=900)


def healthy(project):
    """Every container of the project up: running, and healthy where it has a check."""
    ids = containers(project)
    if not ids:
        return False
    for cid in ids:
        st = inspect(cid, "{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}")
        if st not in ("running healthy", "running none"):
            return False
    return True


def wait_stack(project, port, ca, seconds=300):
    def ready():
        if not healthy(project):
            return False
        c = Client(port, ca)
        return c.request("GET", "/healthz").status == 200
    return wait_until(ready, seconds, 2)


def fetch_file(project, path):
    return compose(project, "run", "--rm", "--no-deps", "-T", "--entrypoint", "cat", "init", path)


def replicas_metrics(project, service):
    """{address: text} of every replica of service, through nginx's replica listener."""
    nginx = containers(project, "nginx")[0]
    addrs = out(["docker", "exec", nginx, "curl", "-fsS", "http://127.0.0.1:9100/replicas/" + service]).split()
    res = {}
    for a in addrs:
        res[a] = out(["docker", "exec", nginx, "curl", "-fsS", "http://127.0.0.1:9100/metrics/%s/%s" % (service, a)])
    return res


def metric(text, name, labels=""):
    """The value of the series name{...labels...} (labels: a substring of the label set)."""
    total = None
    for line in text.splitlines():
        if line.startswith("#") or not line.startswith(name):
            continue
        series, _, value = line.rpartition(" ")
        if series.split("{")[0] == name and labels in series:
            total = (total or 0) + float(value)
    return total


def statuses(project, tid):
    rows = psql(project, "SELECT status, count(*) FROM certificates WHERE tenant_id = %d GROUP BY status ORDER BY 1" % tid)
    return dict((l.split("|")[0], int(l.split("|")[1])) for l in rows.splitlines() if l)


# --- the test --------------------------------------------------------------------------------

def main():
    why = engine()
    if why:
        sys.stderr.write("\n*** test_docker: NO DOCKER ENGINE: %s\n*** the container checks are SKIPPED\n\n" % why)
        for name in ("images build", "compose up with replicas", "500 certificates through kills",
                     "replicas share the work", "metrics", "revocation", "recovery", "down && up", "backup and restore",
                     "down -v leaves nothing"):
            T.skip(name, why)
        shutil.rmtree(TMP, ignore_errors=True)
        return T.plan()
    T.ok(True, "a Docker engine answers (%s)" % out(["docker", "version", "-f", "{{.Server.Version}}"]))
    try:
        body()
    except Exception as e:  # one failure, and still tear down
        import traceback
        T.ok(False, "the test ran to its end", traceback.format_exc())
    finally:
        for p in (PROJECT, RESTORED):
            compose(p, "down", "-v", "--remove-orphans", "-t", "5", check=False)
        vols = ("pgdata", "redis", "ca", "admin", "public", "tls", "signer", "internal", "signer2")
        left = [p for p in (PROJECT, RESTORED)
                if out(["docker", "ps", "-aq", "--filter", "label=com.docker.compose.project=" + p])
                or out(["docker", "volume", "ls", "-q", "--filter", "label=com.docker.compose.project=" + p])
                or out(["docker", "network", "ls", "-q", "--filter", "label=com.docker.compose.project=" + p])
                or any(run(["docker", "volume", "inspect", "%s_%s" % (p, v)]).returncode == 0 for v in vols)]
        T.eq(left, [], "down -v leaves no containers, volumes or networks of either project")
        shutil.rmtree(TMP, ignore_errors=True)
    return T.plan()


def body():
    # images
    if not timed("docker/base-image: debian:12 and debian:12-slim (made once)", [os.path.join(ROOT, "docker", "base-image")]):
        return
    run(["env", "SECRETS_DIR=" + SECRETS, os.path.join(ROOT, "docker", "make-secrets.sh")], check=True)
    for p in (PROJECT, RESTORED):  # what an interrupted run left
        compose(p, "down", "-v", "--remove-orphans", "-t", "5", check=False)
    if not timed("the four images build from the local base (shomei, shomei-nginx, shomei-postgres, shomei-redis)",
                 ["docker-compose", "-f", COMPOSE_FILE, "-p", PROJECT, "build"], env=compose_env(PORT)):
        return
    for img in ("shomei", "shomei-nginx", "shomei-postgres", "shomei-redis"):
        hist = out(["docker", "image", "history", "--no-trunc", "-q", img + ":latest"]).split()
        base = out(["docker", "image", "inspect", "-f", "{{.Id}}", "debian:12-slim"])
        T.ok(base in hist, "%s is built on the local debian:12-slim" % img)
    user = {img: out(["docker", "image", "inspect", "-f", "{{.Config.User}}", img + ":latest"])
            for img in ("shomei-redis",)}
    T.eq(user["shomei-redis"], "redis", "the redis image runs as redis")

    # up, replicated
    t0 = time.time()
    up(PROJECT, PORT)
    ca = os.path.join(TMP, "server-ca.pem")
    open(ca, "w").write(fetch_file(PROJECT, "/var/lib/shomei/tls/server-ca.pem"))
    ok = wait_stack(PROJECT, PORT, ca, 400)
    T.ok(ok, "up with %s: every container running and healthy, nginx answers /healthz (%.0f s)"
         % (" ".join("%s=%d" % kv for kv in SCALE.items()), time.time() - t0),
         out(["docker", "ps", "-a", "--filter", "label=com.docker.compose.project=" + PROJECT]))
    if not ok:
        compose_logs(PROJECT)
        return
    for svc, n in SCALE.items():
        T.eq(len(containers(PROJECT, svc)), n, "%d %s containers run" % (n, svc))
    T.eq(len(containers(PROJECT, "signer")), 1, "one signer")
    pub = out(["docker", "ps", "--filter", "label=com.docker.compose.project=" + PROJECT, "--format", "{{.Ports}}"])
    binds = [p.split("->")[0] for p in pub.replace(",", "\n").split("\n") if "->" in p]
    T.ok(binds and all(b.strip().startswith("127.0.0.1:") for b in binds), "ports published on 127.0.0.1 only", pub)
    ro = {s: inspect(containers(PROJECT, s)[0], "{{.HostConfig.ReadonlyRootfs}}")
          for s in ("signer", "auth", "issue", "postgres", "redis")}
    T.ok(all(v == "true" for v in ro.values()), "read-only root filesystems", ro)
    procs = out(["docker", "top", containers(PROJECT, "issue")[0]])
    mine = [l.split()[0] for l in procs.splitlines()[1:] if "shomei-issue" in l]
    T.ok(mine and all(u in ("10001", "shomei") for u in mine), "shomei-issue runs as the shomei user (10001), not root", procs)

    adm = json.loads(fetch_file(PROJECT, "/var/lib/shomei/secrets/admin.json"))
    c = Client(PORT, ca)
    T.eq(c.login(adm["login_id"], adm["password"]), 200, "the administrator from init's admin.json logs in on 127.0.0.1:%d" % PORT)

    # a tenant of this test: P-256, quota for the batch
    ctl(PROJECT, "tenant", "create", "--slug", "load", "--name", "負荷テスト", "--name-en", "Load Test",
        "--quota", str(BATCH + 100), "--ca-key-type", "p256")
    psql(PROJECT, "UPDATE tenants SET key_type = 'p256' WHERE slug = 'load'")
    pw = "Dock3rTest99"
    ctl(PROJECT, "admin", "create", "--tenant", "load", "--login-id", "load-admin", "--password", pw)
    tid = int(psql(PROJECT, "SELECT id FROM tenants WHERE slug = 'load'"))
    c = Client(PORT, ca)
    T.eq(c.login("load-admin", pw), 200, "the load tenant's administrator logs in")

    # 500 certificates, one issue container killed and PostgreSQL restarted meanwhile
    st, doc = c.json("POST", "/api/certificates/batch", {"count": BATCH})
    ids = (doc or {}).get("ids") or []
    T.eq((st, len(ids)), (202, BATCH), "a batch of %d answers 202 with %d ids" % (BATCH, BATCH))
    t0 = time.time()
    wait_until(lambda: statuses(PROJECT, tid).get("issued", 0) >= BATCH // 10, 120, 0.2)
    victim = containers(PROJECT, "issue")[0]
    done_at_kill = statuses(PROJECT, tid).get("issued", 0)
    crash(victim)
    pg = containers(PROJECT, "postgres")[0]
    wait_until(lambda: statuses(PROJECT, tid).get("issued", 0) >= BATCH // 3, 180, 0.5)
    done_at_restart = statuses(PROJECT, tid).get("issued", 0)
    run(["docker", "restart", "-t", "5", pg], check=True)
    T.note("issued when the issue container was killed: %d, when PostgreSQL restarted: %d" % (done_at_kill, done_at_restart))
    T.ok(done_at_kill < BATCH and done_at_restart < BATCH,
         "the kill and the restart came in the middle of the batch (%d, %d of %d)" % (done_at_kill, done_at_restart, BATCH))
    fin = wait_until(lambda: statuses(PROJECT, tid).get("issued", 0) == BATCH and statuses(PROJECT, tid), 600, 2)
    T.ok(bool(fin), "all %d end issued (%.0f s)" % (BATCH, time.time() - t0), statuses(PROJECT, tid))
    T.eq(psql(PROJECT, "SELECT count(*), count(DISTINCT serial), count(DISTINCT number) FROM certificates WHERE tenant_id = %d"
              % tid), "%d|%d|%d" % (BATCH, BATCH, BATCH), "%d rows, serials unique, numbers unique" % BATCH)
    T.eq(psql(PROJECT, "SELECT count(*), count(DISTINCT detail) FROM audit WHERE tenant_id = %d AND action = 'certificate_issue'"
              % tid), "%d|%d" % (BATCH, BATCH), "exactly one history entry per certificate (issued exactly once)")
    T.ok(wait_until(lambda: inspect(victim, "{{.State.Running}}") == "true", 60),
         "the killed issue container is back (restart policy)", inspect(victim, "{{.State.Status}} {{.RestartCount}}"))

    # the work and the reads over the replicas
    issued_by = {a: metric(m, "shomei_issue_certificates_total", 'result="issued"')
                 for a, m in replicas_metrics(PROJECT, "issue").items()}
    T.ok(len([v for v in issued_by.values() if v]) >= 2, "issue replicas shared the batch (issued per replica, "
         "the killed one counts anew): %s" % issued_by, issued_by)
    zr = c.request("GET", "/api/downloads/certificates.zip")
    T.eq(zr.status, 200, "GET /api/downloads/certificates.zip answers 200")
    pr = c.request("GET", "/api/downloads/passwords.csv")
    rows = dict(r[:2] for r in csv.reader(io.StringIO(pr.data[3:].decode(), newline="")) if len(r) >= 2)
    z = zipfile.ZipFile(io.BytesIO(zr.data))
    p12s = [n for n in z.namelist() if n.endswith(".p12")]
    T.eq(len(p12s), BATCH, "the ZIP holds %d .p12" % BATCH)
    bad = []
    certs = {}
    from cryptography.hazmat.primitives.serialization import pkcs12
    from cryptography.hazmat.primitives.asymmetric import ec
    for n in p12s:
        try:
            key, cert, _ = pkcs12.load_key_and_certificates(z.read(n), rows[n[:-4]].encode())
            if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
                bad.append(n + ": not P-256")
            certs[n[:-4]] = cert
        except Exception as e:
            bad.append("%s: %s" % (n, e))
    T.eq(bad, [], "every PKCS#12 opens with its password from passwords.csv, P-256 keys")
    for _ in range(8):
        c.request("GET", "/api/audit?page=1")
        c.request("GET", "/api/certificates?status=all")
    hist_by = {a: metric(m, "shomei_route_requests_total", 'route="/api/audit"')
               for a, m in replicas_metrics(PROJECT, "auth").items()}
    T.ok(len([v for v in hist_by.values() if v]) == SCALE["auth"],
         "the history (GET /api/audit) was answered by every auth replica: %s" % hist_by, hist_by)
    list_by = {a: metric(m, "shomei_route_requests_total", 'route="/api/certificates"')
               for a, m in replicas_metrics(PROJECT, "issue").items()}
    T.ok(len([v for v in list_by.values() if v]) >= 2,
         "the certificate list was answered by more than one issue replica: %s" % list_by, list_by)
    dl = {a: metric(m, "shomei_route_requests_total", 'route="/api/downloads/') for a, m in replicas_metrics(PROJECT, "download").items()}
    T.ok(len([v for v in dl.values() if v]) >= 1 and len(dl) == SCALE["download"],
         "the ZIP and the CSV came from the download replicas (%s), none of which issued" % dl, dl)
    st, hist = c.json("GET", "/api/audit?action=certificate_issue")
    T.ok(st == 200 and (hist or {}).get("total") == BATCH, "the history lists the %d issuances" % BATCH, (st, (hist or {}).get("total")))

    # metrics
    promtool = find_promtool()
    if promtool:
        for svc in SCALE:
            for a, m in replicas_metrics(PROJECT, svc).items():
                r = run([promtool, "check", "metrics"], input=(m + "\n").encode())
                T.ok(r.returncode == 0, "promtool check metrics: %s replica %s" % (svc, a), (r.stdout + r.stderr).decode())
        r = run([promtool, "check", "config", os.path.join(ROOT, "docker", "prometheus.yml")])
        T.ok(r.returncode == 0, "promtool check config docker/prometheus.yml (and its rules)", (r.stdout + r.stderr).decode())
    else:
        T.skip("promtool check metrics", "promtool (Debian's prometheus package) is not installed")

    # revocation, CRL and OCSP over plain HTTP
    first = psql(PROJECT, "SELECT cn || '|' || id FROM certificates WHERE tenant_id = %d ORDER BY id LIMIT 1" % tid).split("|")
    cn, cid = first[0], int(first[1])
    st, _ = c.json("POST", "/api/certificates/revoke", {"ids": [cid]})
    T.eq(st, 200, "POST /api/certificates/revoke answers 200")
    cert = certs[cn]
    from cryptography import x509 as cx
    dp = cert.extensions.get_extension_for_class(cx.CRLDistributionPoints).value[0].full_name[0].value
    T.ok(dp.startswith("http://localhost:%d/" % (PORT + 1)), "the certificate names the plain-HTTP port for its CRL", dp)
    path = "/" + dp.split("/", 3)[3]
    serial = cert.serial_number

    def revoked_in_crl():
        s, der = http_get(PORT + 1, path)
        crl = cx.load_der_x509_crl(der) if not der.startswith(b"-----") else cx.load_pem_x509_crl(der)
        return s == 200 and crl.get_revoked_certificate_by_serial_number(serial) is not None and crl
    crl = wait_until(revoked_in_crl, 60, 1)
    T.ok(bool(crl), "the CRL over plain HTTP lists the revoked serial")
    chain = os.path.join(TMP, "chain.pem")
    open(chain, "wb").write(z.read("cacert.pem"))
    certpem = os.path.join(TMP, "c.pem")
    from cryptography.hazmat.primitives.serialization import Encoding
    open(certpem, "wb").write(cert.public_bytes(Encoding.PEM))
    issuer = os.path.join(TMP, "issuer.pem")
    open(issuer, "wb").write(cx.load_der_x509_certificate(z.read("cacert.crt")).public_bytes(Encoding.PEM))
    if crl:
        crlf = os.path.join(TMP, "c.crl")
        open(crlf, "wb").write(crl.public_bytes(Encoding.PEM))
        r = run(["openssl", "verify", "-crl_check", "-CAfile", chain, "-CRLfile", crlf, certpem])
        T.ok(r.returncode != 0 and b"revoked" in (r.stdout + r.stderr), "openssl verify -crl_check: certificate revoked",
             (r.stdout + r.stderr).decode())
    r = wait_until(lambda: (lambda x: b": revoked" in x.stdout and x)(run(
        ["openssl", "ocsp", "-issuer", issuer, "-cert", certpem, "-url", "http://127.0.0.1:%d/ocsp" % (PORT + 1),
         "-CAfile", chain, "-header", "Host=localhost:%d" % (PORT + 1)])), 60, 2)
    T.ok(bool(r), "openssl ocsp over plain HTTP: revoked, the response verifies", r and r.stdout.decode())

    # the internal revocation API as users and download call it: the `internal` volume (nginx's
    # listener), each one's token secret, revoke's list of callers
    two = psql(PROJECT, "SELECT string_agg(id::text, ',' ORDER BY id) FROM (SELECT id FROM certificates WHERE tenant_id = %d"
               " AND status IN ('issued', 'downloaded') ORDER BY id LIMIT 2) x" % tid).split(",")
    for svc, cert_id in zip(("users", "download"), two):
        box = containers(PROJECT, svc)[-1]
        body = json.dumps({"tenant": tid, "ids": [int(cert_id)], "reason": "cessationOfOperation"})
        r = run(["docker", "exec", "-i", "-u", "shomei", box, "sh", "-c",
                 'curl -sS -o /dev/null -w "%%{http_code}" --unix-socket /var/lib/shomei/run/internal/api.sock '
                 '-H "X-Shomei-Service: %s" -H "Authorization: Bearer $(cat /run/shomei-key/internal/%s.token)" '
                 '-H "Content-Type: application/json" --data-binary @- http://localhost/internal/revocations' % (svc, svc)],
                input=body.encode())
        T.ok(r.stdout == b"200" and psql(PROJECT, "SELECT status FROM certificates WHERE id = %s" % cert_id) == "revoked",
             "%s's container revokes through nginx's internal listener with its token: 200, revoked" % svc,
             (r.stdout + r.stderr).decode())
    r = run(["docker", "exec", "-u", "shomei", containers(PROJECT, "users")[0], "sh", "-c",
             'curl -sS -o /dev/null -w "%{http_code}" --unix-socket /var/lib/shomei/run/internal/api.sock '
             '-H "X-Shomei-Service: users" -H "Authorization: Bearer wrong" -H "Content-Type: application/json" '
             '-d "{}" http://localhost/internal/revocations'])
    T.eq(r.stdout, b"401", "a wrong token: 401")
    nginx = containers(PROJECT, "nginx")[0]
    r = run(["docker", "exec", nginx, "curl", "-sk", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST",
             "https://localhost:8443/internal/revocations"])
    T.eq(r.stdout, b"404", "the internal API is not on the public server: 404")

    # two signers sharing the keys: a second signer (the same ca volume and KEK, a socket volume of
    # its own) and an issue container beside it; the first signer stopped meanwhile
    two_signers(tid, c, z)

    # the signer, a users replica, PostgreSQL killed: back, and issuance works
    for svc in ("signer", "users", "postgres"):
        cid_ = containers(PROJECT, svc)[0]
        crash(cid_)
        back = wait_until(lambda: inspect(cid_, "{{.State.Running}}") == "true" and healthy(PROJECT), 180, 2)
        T.ok(bool(back), "%s killed: the restart policy brings it back, the stack is healthy" % svc,
             inspect(cid_, "{{.State.Status}} restarts={{.RestartCount}}"))
    c = Client(PORT, ca)
    login = wait_until(lambda: c.login("load-admin", pw) == 200, 60, 2)
    T.ok(bool(login), "login after the kills")
    st, doc = c.json("POST", "/api/certificates/batch", {"count": 5})
    more = (doc or {}).get("ids") or []
    T.ok(st == 202 and len(more) == 5 and wait_until(lambda: psql(
        PROJECT, "SELECT count(*) FROM certificates WHERE id IN (%s) AND status = 'issued'" % ",".join(map(str, more))) == "5", 180, 1),
         "5 more certificates issued after the kills", statuses(PROJECT, tid))

    # logs: every line the services wrote (through the kills above) is one JSON object, nginx's
    # access log too, and no secret is in any of them
    odd = "/crl/no%22such%0Afile%C3%A9.crl"  # a quote, a newline and a non-ASCII letter once decoded
    try:
        http_get(PORT + 1, odd)
    except urllib.error.HTTPError as e:  # 404: no such CRL, which is the point
        T.eq(e.code, 404, "GET %s: 404" % odd)
    time.sleep(3)  # nginx's access log buffer (flush=1s)
    svcs = ["signer"] + list(SCALE)
    text = compose(PROJECT, "logs", "--no-color", "--no-log-prefix", *svcs)
    # compose's own first line ("Attaching to …") aside
    lines = [l for l in text.replace("\r", "").split("\n") if l.strip() and not l.startswith("Attaching to ")]
    bad, objs = [], []
    for l in lines:
        try:
            o = json.loads(l)
            if not isinstance(o, dict) or any(not isinstance(o.get(k), str) for k in ("time", "level", "service", "event")):
                raise ValueError("time, level, service or event missing")
            if not re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$", o["time"]):
                raise ValueError("time is not RFC 3339 UTC")
            objs.append(o)
        except ValueError as e:
            bad.append("%s: %r" % (e, l[:300]))
    T.ok(len(objs) > 50 and not bad, "docker-compose logs of %s: all %d lines are JSON objects with time (RFC 3339 UTC), "
         "level, service and event" % (" ".join(svcs), len(lines)), "\n".join(bad[:20]))
    progs = sorted(set(o["service"] for o in objs))
    T.eq(progs, sorted("shomei-" + s for s in svcs), "every service's lines name it", progs)
    ng = containers(PROJECT, "nginx")[0]
    r = run(["docker", "logs", ng])  # stdout only: the access log (the error log is nginx's text, on stderr)
    acc, bad = [], []
    for l in r.stdout.decode("utf-8", errors="strict").splitlines():
        try:
            acc.append(json.loads(l))
        except ValueError:
            bad.append(l[:300])
    T.ok(len(acc) > 20 and not bad and all(a.get("event") == "access" and a.get("status", "").isdigit() for a in acc),
         "nginx's access log: %d JSON lines with event access and the status" % len(acc), "\n".join(bad[:20]))
    T.ok(any(a.get("path") == '/crl/no"such\nfile\u00e9.crl' for a in acc),
         "a request path with a quote, a newline and a non-ASCII letter is one JSON line with the path as it was",
         [a.get("path") for a in acc if "no" in a.get("path", "") and "such" in a.get("path", "")])
    secrets = [adm["password"], pw]
    for f in os.listdir(SECRETS):
        v = open(os.path.join(SECRETS, f), "rb").read().strip().decode(errors="replace")
        if len(v) >= 8:
            secrets.append(v)
    alltext = compose(PROJECT, "logs", "--no-color", "--no-log-prefix", "nginx", *svcs)
    found = [s[:4] + "..." for s in secrets if s in alltext]
    T.eq(found, [], "none of the %d secrets (keys, database passwords, tokens, the administrators' passwords) is in "
         "the logs" % len(secrets))

    # down && up: nothing lost
    before = psql(PROJECT, "SELECT count(*) || ',' || string_agg(serial, ',' ORDER BY id) FROM certificates")
    ca_before = psql(PROJECT, "SELECT count(*) || ':' || md5(string_agg(cert_pem, ',' ORDER BY id)) FROM cas")
    compose(PROJECT, "down", "-t", "10")
    T.eq(containers(PROJECT, running=False), [], "down: no containers")
    up(PROJECT, PORT)
    T.ok(bool(wait_stack(PROJECT, PORT, ca, 300)), "up again, healthy")
    T.eq(psql(PROJECT, "SELECT count(*) || ',' || string_agg(serial, ',' ORDER BY id) FROM certificates"), before,
         "down && up: every certificate is still there")
    T.eq(psql(PROJECT, "SELECT count(*) || ':' || md5(string_agg(cert_pem, ',' ORDER BY id)) FROM cas"),
         ca_before, "down && up: the same CAs")
    c = Client(PORT, ca)
    T.ok(bool(wait_until(lambda: c.login("load-admin", pw) == 200, 60, 2)), "the same administrator logs in")
    r = c.request("GET", "/api/certificates/%d/p12" % more[0]) if more else None
    T.ok(r is not None and r.status == 200, "a certificate's PKCS#12 downloads after down && up")

    # backup (pg_dump of the running deployment, the key volumes) and restore into a second project
    dump = os.path.join(TMP, "shomei.dump")
    aud = ("SELECT count(*) || ':' || md5(string_agg(id || '|' || at || '|' || action || '|' || detail, ','"
           " ORDER BY id)) FROM audit WHERE id <= %s")
    audit_max = psql(PROJECT, "SELECT max(id) FROM audit")
    audit_before = psql(PROJECT, aud % audit_max)
    pg = containers(PROJECT, "postgres")[0]
    with open(dump, "wb") as f:
        f.write(run(["docker", "exec", "-u", "postgres", pg, "pg_dump", "-Fc", "-d", "shomei"], check=True).stdout)
    T.ok(os.path.getsize(dump) > 10000, "pg_dump of the running deployment (%d bytes)" % os.path.getsize(dump))
    crl_before = http_get(PORT + 1, path)[1]
    hist_before = c.json("GET", "/api/audit")[1]
    list_before = c.json("GET", "/api/certificates?status=all")[1]
    compose(RESTORED, "up", "-d", "--no-build", "postgres", port=PORT + 2)
    wait_until(lambda: healthy(RESTORED), 120, 2)
    for vol in ("ca", "admin", "tls"):
        # made with compose's labels, so that compose takes them as its own and down -v removes them
        run(["docker", "volume", "create", "--label", "com.docker.compose.project=" + RESTORED,
             "--label", "com.docker.compose.volume=" + vol, "--label", "com.docker.compose.version=1.29.2",
             "%s_%s" % (RESTORED, vol)], check=True)
        run(["docker", "run", "--rm", "--network", "none", "-v", "%s_%s:/from:ro" % (PROJECT, vol),
             "-v", "%s_%s:/to" % (RESTORED, vol), "debian:12-slim", "cp", "-a", "/from/.", "/to/"], check=True)
    pg2 = containers(RESTORED, "postgres")[0]
    r = run(["docker", "exec", "-i", "-u", "postgres", pg2, "pg_restore", "--exit-on-error", "-d", "shomei"],
            input=open(dump, "rb").read())
    T.ok(r.returncode == 0, "pg_restore into the second project's fresh PostgreSQL", r.stderr.decode(errors="replace"))
    up(RESTORED, PORT + 2, scale=False)
    T.ok(bool(wait_stack(RESTORED, PORT + 2, ca, 300)), "the restored deployment is healthy")
    c2 = Client(PORT + 2, ca)
    T.ok(bool(wait_until(lambda: c2.login("load-admin", pw) == 200, 60, 2)), "the same administrator logs in to the restored one")
    l2 = c2.json("GET", "/api/certificates?status=all")[1]
    T.eq([(i.get("id"), i.get("cn"), i.get("status")) for i in (l2 or {}).get("items", [])],
         [(i.get("id"), i.get("cn"), i.get("status")) for i in (list_before or {}).get("items", [])],
         "the same certificates")
    h2 = c2.json("GET", "/api/audit")[1]
    T.eq(psql(RESTORED, aud % audit_max), audit_before, "the same history: every entry up to the dump, as it was")
    since = int(psql(RESTORED, "SELECT count(*) FROM audit WHERE tenant_id = %d AND id > %s" % (tid, audit_max)))
    T.eq((h2 or {}).get("total"), (hist_before or {}).get("total", 0) + since,
         "the restored 操作履歴 lists the same entries and the %d made on it since (its login)" % since)
    crl2 = wait_until(lambda: (lambda x: x[0] == 200 and x[1])(http_get(PORT + 3, path)), 60, 1)
    T.ok(bool(crl2) and (cx.load_der_x509_crl(crl2) if not crl2.startswith(b"-----") else cx.load_pem_x509_crl(crl2))
         .get_revoked_certificate_by_serial_number(serial) is not None,
         "the restored deployment's CRL lists the revoked serial")
    r = c2.request("GET", "/api/certificates/%d/p12" % more[1]) if len(more) > 1 else None
    T.ok(r is not None and r.status == 200 and r.data[:1] == b"\x30",
         "a PKCS#12 downloads from the restored deployment (the data key and the stored rows restored)")
    compose(RESTORED, "down", "-v", "-t", "5", port=PORT + 2)


def two_signers(tid, c, z):
    from cryptography import x509 as cx
    from cryptography.hazmat.primitives.asymmetric.ec import ECDSA
    net = "%s_backend" % PROJECT
    sock = "%s_signer2" % PROJECT
    sec = lambda f, n: ["-v", "%s:/run/secrets/%s:ro" % (os.path.join(SECRETS, f), n)]
    common = ["--network", net, "--read-only", "--tmpfs", "/run/shomei-key:mode=0700", "--tmpfs", "/tmp",
              "--label", "com.docker.compose.project=" + PROJECT, "-v", sock + ":/run/shomei"]
    names = ["%s_signer2" % PROJECT, "%s_issue2" % PROJECT]
    first = containers(PROJECT, "signer")[0]
    try:
        run(["docker", "volume", "create", "--label", "com.docker.compose.project=" + PROJECT, sock], check=True)
        run(["docker", "run", "-d", "--name", names[0]] + common + ["-v", "%s_ca:/var/lib/shomei/ca:ro" % PROJECT]
            + sec("ca-kek.key", "ca_kek") + sec("db_password", "db_password") + ["shomei:latest", "shomei-signer"], check=True)
        run(["docker", "run", "-d", "--name", names[1]] + common + ["-e", "SHOMEI_LISTEN=0.0.0.0:9000"]
            + sec("data.key", "data_key") + sec("db_password", "db_password") + ["shomei:latest", "shomei-issue"], check=True)
        T.ok(bool(wait_until(lambda: run(["docker", "exec", names[0], "test", "-S", "/run/shomei/signer.sock"]).returncode == 0, 60)),
             "a second signer runs on the same ca volume and KEK, with its own socket")
        run(["docker", "stop", "-t", "5", first], check=True)
        st, doc = c.json("POST", "/api/certificates/batch", {"count": 20})
        ids = (doc or {}).get("ids") or []
        done = wait_until(lambda: st == 202 and psql(PROJECT, "SELECT count(*) FROM certificates WHERE id IN (%s) AND status = 'issued'"
                                               % ",".join(map(str, ids))) == str(len(ids)), 240, 2)
        T.ok(bool(done) and len(ids) == 20, "the first signer stopped: 20 certificates issued through the second",
             statuses(PROJECT, tid))
        T.eq(inspect(first, "{{.State.Running}}"), "false", "... and the first signer stayed stopped meanwhile")
        ca = cx.load_der_x509_certificate(z.read("cacert.crt"))
        rows = psql(PROJECT, "SELECT string_agg(translate(encode(cert_der, 'base64'), E'\\n', ''), ' ') "
                    "FROM certificates WHERE id IN (%s)" % ",".join(map(str, ids))).split()
        verified = 0
        for b in rows:
            cert = cx.load_der_x509_certificate(base64.b64decode(b))
            try:
                ca.public_key().verify(cert.signature, cert.tbs_certificate_bytes, ECDSA(cert.signature_hash_algorithm))
                verified += cert.issuer == ca.subject
            except Exception:
                pass
        T.eq((len(rows), verified), (20, 20), "they are signed by the same tenant CA key (signatures verify)")
    finally:
        run(["docker", "rm", "-f"] + names)
        run(["docker", "volume", "rm", sock])
        run(["docker", "start", first])
    wait_until(lambda: healthy(PROJECT), 120, 2)


def find_promtool():
    """promtool from PATH, else from Debian's prometheus package unpacked here (apt-get download:
    nothing installed, no daemon started)."""
    if shutil.which("promtool"):
        return shutil.which("promtool")
    d = os.path.join(TMP, "prometheus")
    os.makedirs(d, exist_ok=True)
    r = subprocess.run("cd %s && apt-get download prometheus && dpkg-deb -x prometheus_*.deb x" % d, shell=True,
                       capture_output=True, timeout=600)
    p = os.path.join(d, "x", "usr", "bin", "promtool")
    return p if r.returncode == 0 and os.access(p, os.X_OK) else None


def compose_logs(project):
    for line in compose(project, "logs", "--no-color", "--tail", "30", check=False).splitlines()[-200:]:
        print("# " + line, flush=True)


if __name__ == "__main__":
    sys.exit(main())
