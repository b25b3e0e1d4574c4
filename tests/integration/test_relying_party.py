#!/usr/bin/env python3
"""The relying party (issue 10): an nginx of this test's own (a temporary directory, its own port,
`ssl_verify_client on`, the tenant's published chain from /ca/<tenant>.pem, `ssl_crl` = the file
shomei-crlsync keeps current and reloads nginx for) accepts a client certificate shomei issued,
and refuses it (400) seconds after `POST /api/certificates/revoke`; the seconds are printed as
`# refused N.NN s after the revoke request`. Also: shomei-crlsync refuses a body that is not PEM
CRLs and keeps the old file, answers 304s without rewriting, and ends cleanly on SIGTERM.

The port is SHOMEI_RP_PORT, else the stack's port + 1 (scripts/test sets it from TEST_PORT).
bench/revoke imports RelyingParty and measure_refusal from here."""
import os
import shutil
import signal
import subprocess
import tempfile
import time

from shomei_test import PORT, ROOT, TAP, UP, Client, path, wait_until

BUILD = os.environ.get("SHOMEI_BUILD") or os.path.join(ROOT, "build")
CRLSYNC = os.path.join(BUILD, "tools", "crlsync", "shomei-crlsync")
RP_PORT = int(os.environ.get("SHOMEI_RP_PORT") or PORT + 1)
PW = "Relying2party9x"

NGINX_CONF = """# the relying party of test_relying_party.py: accepts client certificates of one shomei tenant
{user}
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log notice;
events {{ worker_connections 64; }}
http {{
	access_log off;
	client_body_temp_path {d}/tmp/body;
	fastcgi_temp_path {d}/tmp/fastcgi;
	proxy_temp_path {d}/tmp/proxy;
	uwsgi_temp_path {d}/tmp/uwsgi;
	scgi_temp_path {d}/tmp/scgi;
	server {{
		listen 127.0.0.1:{port} ssl;
		ssl_certificate {d}/server.pem;
		ssl_certificate_key {d}/server.key;
		# the tenant's chain (issuing CA, root) as published at /ca/<tenant>.pem
		ssl_client_certificate {d}/chain.pem;
		ssl_trusted_certificate {d}/chain.pem;
		ssl_verify_client on;
		ssl_verify_depth 2;
		# the CRLs of the chain, kept current by shomei-crlsync
		ssl_crl {d}/crl.pem;
		location / {{ return 200 "hello $ssl_client_s_dn\\n"; }}
	}}
}}
"""


def run(*cmd, **kw):
    kw.setdefault("timeout", 60)
    return subprocess.run(list(cmd), capture_output=True, text=True, **kw)


class RelyingParty:
    """An nginx on 127.0.0.1:port trusting the tenant's chain, with shomei-crlsync beside it."""

    def __init__(self, slug, port=RP_PORT, interval=1):
        self.slug, self.port, self.interval = slug, port, interval
        # nginx's workers run as www-data when it starts as root: a directory they can enter
        self.d = tempfile.mkdtemp(prefix="shomei-rp-", dir="/tmp")
        os.chmod(self.d, 0o755)
        os.makedirs(os.path.join(self.d, "tmp"))
        self.conf = os.path.join(self.d, "nginx.conf")
        self.crl = os.path.join(self.d, "crl.pem")
        self.log = os.path.join(self.d, "crlsync.log")
        self.sync = None
        self.nginx_up = False
        self.crl_url = "%s/crl/%s.pem" % (UP["url"].rstrip("/"), slug)
        self.cacert = path(UP["server_ca"])

    def crlsync_args(self, url=None, once=False):
        a = [CRLSYNC, "--url", url or self.crl_url, "--out", self.crl, "--cacert", self.cacert]
        return a + (["--once"] if once else [])

    def reload_command(self):
        # split by shomei-crlsync into an argv (no shell); the quotes exercise its rule
        return "nginx -s reload -c '%s' -p '%s/' -e '%s/error.log'" % (self.conf, self.d, self.d)

    def start(self):
        """The chain and a first CRL bundle, the server certificate, nginx, then shomei-crlsync."""
        r = Client().get("/ca/%s.pem" % self.slug)
        if r.status != 200:
            raise RuntimeError("GET /ca/%s.pem: %d" % (self.slug, r.status))
        with open(os.path.join(self.d, "chain.pem"), "wb") as f:
            f.write(r.body)
        p = run(*self.crlsync_args(once=True))
        if p.returncode != 0:
            raise RuntimeError("shomei-crlsync --once: %s" % p.stderr)
        p = run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-days", "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                "-keyout", os.path.join(self.d, "server.key"), "-out", os.path.join(self.d, "server.pem"))
        if p.returncode != 0:
            raise RuntimeError("openssl req: %s" % p.stderr)
        for f in ("chain.pem", "server.pem"):
            os.chmod(os.path.join(self.d, f), 0o644)
        user = "user www-data;" if os.geteuid() == 0 else ""
        with open(self.conf, "w") as f:
            f.write(NGINX_CONF.format(user=user, d=self.d, port=self.port))
        base = ["nginx", "-c", self.conf, "-p", self.d + "/", "-e", os.path.join(self.d, "error.log")]
        p = run(*base, "-t", "-q")
        if p.returncode != 0:
            raise RuntimeError("nginx -t: %s" % p.stderr)
        p = run(*base)
        if p.returncode != 0:
            raise RuntimeError("nginx: %s" % p.stderr)
        self.nginx_up = True
        self.logf = open(self.log, "ab")
        self.sync = subprocess.Popen(self.crlsync_args() + ["--interval", str(self.interval), "--reload",
                                                            self.reload_command()],
                                     stdout=self.logf, stderr=self.logf, stdin=subprocess.DEVNULL)
        if not wait_until(lambda: "event=unchanged" in self.sync_log(), 10):
            raise RuntimeError("shomei-crlsync did not start: %s" % self.sync_log())

    def sync_log(self):
        try:
            return open(self.log, encoding="utf-8", errors="replace").read()
        except OSError:
            return ""

    def status(self, cert=None, key=None):
        """The HTTP status the relying party answers (0 when no HTTP answer came)."""
        cmd = ["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "5",
               "--cacert", os.path.join(self.d, "server.pem"), "https://127.0.0.1:%d/" % self.port]
        if cert:
            cmd += ["--cert", cert, "--key", key]
        p = run(*cmd, timeout=15)
        try:
            return int(p.stdout.strip() or 0)
        except ValueError:
            return 0

    def stop_sync(self):
        """SIGTERM shomei-crlsync: its exit status (None when it had to be killed)."""
        if self.sync is None:
            return None
        self.sync.send_signal(signal.SIGTERM)
        try:
            rc = self.sync.wait(10)
        except subprocess.TimeoutExpired:
            self.sync.kill()
            self.sync.wait()
            rc = None
        self.sync = None
        self.logf.close()
        return rc

    def close(self):
        self.stop_sync()
        if self.nginx_up:
            run("nginx", "-s", "quit", "-c", self.conf, "-p", self.d + "/", "-e", os.path.join(self.d, "error.log"))
            pidf = os.path.join(self.d, "nginx.pid")
            wait_until(lambda: not os.path.exists(pidf), 10)
            self.nginx_up = False
        shutil.rmtree(self.d, True)


def client_cert(c, cid, d):
    """The certificate's PKCS#12 and password from the API, as PEM cert and key for curl."""
    r = c.get("/api/certificates/%d/p12" % cid)
    pin = c.get("/api/certificates/%d/pin" % cid)
    if r.status != 200 or pin.status != 200:
        raise RuntimeError("p12/pin of %d: %d %d" % (cid, r.status, pin.status))
    p12, pw = os.path.join(d, "c%d.p12" % cid), os.path.join(d, "c%d.pw" % cid)
    open(p12, "wb").write(r.body)
    fd = os.open(pw, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(pin.body.decode().strip() + "\n")
    cert, key = os.path.join(d, "c%d.crt" % cid), os.path.join(d, "c%d.key" % cid)
    for out, flags in ((cert, ["-clcerts", "-nokeys"]), (key, ["-nocerts", "-nodes"])):
        p = run("openssl", "pkcs12", "-in", p12, "-passin", "file:" + pw, "-out", out, *flags)
        if p.returncode != 0:
            raise RuntimeError("openssl pkcs12: %s" % p.stderr)
    return cert, key


def measure_refusal(c, rp, cid, cert, key, limit=30.0):
    """Revoke cid through the API; seconds until the relying party answers 400 (None: not within limit)."""
    t0 = time.monotonic()
    r = c.post("/api/certificates/revoke", {"ids": [cid]})
    if r.status != 200:
        raise RuntimeError("revoke %d: %d %r" % (cid, r.status, r.body[:200]))
    while time.monotonic() - t0 < limit:
        if rp.status(cert, key) == 400:
            return time.monotonic() - t0
        time.sleep(0.05)
    return None


def setup_tenant(slug, n):
    """A tenant of its own with n issued P-256 certificates; (admin client, ids)."""
    from test_issue import admin, tenant, wait_issued
    tenant(slug, n + 2, "p256")
    c = admin(slug)
    r = c.post("/api/certificates/batch", {"count": n})
    ids = (r.json() or {}).get("ids") or []
    if len(ids) != n or not wait_issued(ids, 120):
        raise RuntimeError("issuing %d certificates for %s" % (n, slug))
    # the tenant's CRLs are stored by shomei-revoke's sweep (crl_check_interval) or a revocation
    if not wait_until(lambda: Client().get("/crl/%s.pem" % slug).status == 200, 90):
        raise RuntimeError("/crl/%s.pem never appeared" % slug)
    return c, ids


STATE = {}


def test_accepts(t):
    rp = STATE["rp"]
    cert, key = STATE["certs"][0]
    t.eq(rp.status(cert, key), 200, "the relying party accepts a valid certificate of the tenant (200)")
    t.eq(rp.status(), 400, "without a client certificate: 400")
    log = rp.sync_log()
    t.ok("event=start" in log and "event=unchanged" in log, "shomei-crlsync logs key=value lines", log[-600:])


def test_refused_after_revoke(t):
    rp, c = STATE["rp"], STATE["c"]
    (cert, key), (cert2, key2) = STATE["certs"]
    secs = measure_refusal(c, rp, STATE["ids"][0], cert, key)
    t.ok(secs is not None and secs < 30, "the revoked certificate is refused (400) by the relying party")
    if secs is not None:
        print("# refused %.2f s after the revoke request (target < 5 s)" % secs, flush=True)
        STATE["secs"] = secs
    log = rp.sync_log()
    t.ok("event=updated" in log and "event=reloaded" in log,
         "shomei-crlsync replaced the bundle and reloaded nginx", log[-800:])
    t.eq(rp.status(cert2, key2), 200, "the tenant's other certificate is still accepted")
    v = run("openssl", "verify", "-crl_check_all", "-CRLfile", rp.crl, "-CAfile", os.path.join(rp.d, "chain.pem"),
            cert)
    t.ok(v.returncode != 0 and "revoked" in v.stdout + v.stderr, "the bundle on disk lists it (openssl verify)",
         v.stdout + v.stderr)
    st = os.stat(rp.crl)
    t.eq(oct(st.st_mode & 0o777), "0o644", "the bundle is 0644 (nginx's workers read it)")
    t.eq([f for f in os.listdir(rp.d) if f.startswith(".crl.pem.")], [], "no temporary file left in the directory")


def test_not_modified(t):
    rp = STATE["rp"]
    before = os.stat(rp.crl).st_mtime_ns
    n_updates = rp.sync_log().count("event=updated")
    time.sleep(2.5 * rp.interval)
    t.eq(os.stat(rp.crl).st_mtime_ns, before, "no revocation: the file is not rewritten (304s)")
    t.eq(rp.sync_log().count("event=updated"), n_updates, "and nginx not reloaded")


def test_file_restored(t):
    """A bundle someone removed or overwrote is written again at the next poll (a 304 alone would hide it)."""
    rp = STATE["rp"]
    good = open(rp.crl, "rb").read()
    os.unlink(rp.crl)
    t.ok(wait_until(lambda: os.path.exists(rp.crl) and open(rp.crl, "rb").read() == good, 10),
         "a removed bundle is written again", rp.sync_log()[-400:])
    with open(rp.crl, "w") as f:
        f.write("edited by hand\n")
    t.ok(wait_until(lambda: open(rp.crl, "rb").read() == good, 10), "an edited bundle is replaced",
         rp.sync_log()[-400:])
    t.ok("event=file_changed" in rp.sync_log(), "and logged (event=file_changed)")


def test_refuses_garbage(t):
    rp = STATE["rp"]
    before = open(rp.crl, "rb").read()
    # the chain is PEM, but certificates, not CRLs; a 404 is not a bundle either
    for url, what in (("%s/ca/%s.pem" % (UP["url"].rstrip("/"), rp.slug), "certificates instead of CRLs"),
                      ("%s/crl/no-such-tenant.pem" % UP["url"].rstrip("/"), "a 404")):
        p = run(*rp.crlsync_args(url=url, once=True))
        t.ok(p.returncode == 2 and ("event=refused" in p.stderr or "event=fetch_failed" in p.stderr),
             "--once with %s: exit 2, logged" % what, p.stderr)
        t.eq(open(rp.crl, "rb").read(), before, "the bundle kept its old contents (%s)" % what)
    if UP.get("revocation_url"):  # the plain-HTTP listener serves the same bundle
        plain = os.path.join(rp.d, "plain.pem")
        p = run(CRLSYNC, "--url", "%s/crl/%s.pem" % (UP["revocation_url"].rstrip("/"), rp.slug), "--out", plain,
                "--once")
        t.ok(p.returncode == 0 and open(plain, "rb").read() == before,
             "--once over plain HTTP (revocation_url) writes the same bundle", p.stderr)
    p = run(CRLSYNC, "--url", "ftp://example/x.pem", "--out", rp.crl)
    t.ok(p.returncode == 1 and "--help" in p.stderr, "a bad --url: exit 1 with a hint", p.stderr)
    p = run(CRLSYNC, "--help")
    t.ok(p.returncode == 0 and "--reload" in p.stdout and "shell" in p.stdout,
         "--help explains the options and the splitting rule")


def test_sigterm(t):
    rp = STATE["rp"]
    rc = rp.stop_sync()
    t.eq(rc, 0, "SIGTERM: shomei-crlsync exits 0")
    t.ok("event=stop reason=signal" in rp.sync_log(), "and logs its stop", rp.sync_log()[-300:])


def main():
    t = TAP()
    slug = "rp-%x" % (int(time.time() * 1000) % 0xffffff)
    rp = None
    try:
        c, ids = setup_tenant(slug, 2)
        STATE.update(c=c, ids=ids)
        rp = RelyingParty(slug)
        STATE["rp"] = rp
        STATE["certs"] = [client_cert(c, i, rp.d) for i in ids]
        rp.start()
    except Exception as e:  # nothing to test without the relying party
        t.ok(False, "the relying party starts", repr(e))
        if rp is not None:
            print("# " + rp.sync_log()[-500:].replace("\n", "\n# "))
            rp.close()
        t.done()
    try:
        for fn in (test_accepts, test_refused_after_revoke, test_not_modified, test_file_restored, test_refuses_garbage,
                   test_sigterm):
            t.run(fn)
    finally:
        rp.close()
    t.done()


if __name__ == "__main__":
    main()
