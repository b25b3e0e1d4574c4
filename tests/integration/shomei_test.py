"""shomei_test: what the integration tests share: the stack from up.json, an HTTPS client; TAP from tap.py."""
import http.client
import json
import os
import re
import socket
import ssl
import subprocess
import time
import urllib.parse

from tap import TAP, scratch_dir, wait_until  # noqa: F401 (the tests import them from here)

ROOT = os.environ.get("SHOMEI_ROOT") or os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
UP = json.load(open(os.environ["SHOMEI_UP_JSON"], encoding="utf-8"))


def path(rel):
    return rel if os.path.isabs(rel) else os.path.join(ROOT, rel)


VAR = path(UP["var"])
URL = urllib.parse.urlsplit(UP["url"])
HOST, PORT = URL.hostname, URL.port


class Response:
    def __init__(self, r, body):
        self.status = r.status
        self.headers = r.headers
        self.body = body

    def json(self):
        try:
            return json.loads(self.body.decode("utf-8"))
        except ValueError:
            return None

    def header(self, name):
        return self.headers.get(name)


def tls_context(certfile=None, keyfile=None):
    ctx = ssl.create_default_context(cafile=path(UP["server_ca"]))
    if certfile:
        ctx.load_cert_chain(certfile, keyfile)
    return ctx


class Client:
    """One browser-like client: keeps the session cookie and the CSRF token."""

    def __init__(self, host=None, lang=None, certfile=None, keyfile=None, source=None):
        self.host = host or HOST
        # the local address to connect from (Linux answers 127.0.0.2 from 127.0.0.1 otherwise)
        self.source = source or (host if host and host.startswith("127.") else None)
        self.ctx = tls_context(certfile, keyfile)
        self.cookie = None
        self.csrf = None
        self.lang = lang

    def request(self, method, url, body=None, headers=None, raw=None):
        h = {"Host": "%s:%d" % (HOST, PORT)}
        if self.cookie:
            h["Cookie"] = self.cookie
        if self.lang:
            h["Accept-Language"] = self.lang
        data = raw
        if body is not None:
            data = json.dumps(body).encode("utf-8")
            h["Content-Type"] = "application/json"
        if self.csrf and method not in ("GET", "HEAD"):
            h["X-CSRF-Token"] = self.csrf
        h.update(headers or {})
        h = {k: v for k, v in h.items() if v is not None}
        conn = http.client.HTTPSConnection(self.host, PORT, context=self.ctx, timeout=30,
                                           source_address=(self.source, 0) if self.source else None)
        try:
            conn.request(method, url, body=data, headers=h)
            r = conn.getresponse()
            resp = Response(r, r.read())
        finally:
            conn.close()
        for c in resp.headers.get_all("Set-Cookie") or []:
            name, _, rest = c.partition("=")
            if name == "__Host-shomei":
                value = rest.split(";", 1)[0]
                self.cookie = "__Host-shomei=" + value if value else None
        return resp

    def get(self, url, **kw):
        return self.request("GET", url, **kw)

    def post(self, url, body=None, **kw):
        return self.request("POST", url, body=body, **kw)

    def delete(self, url, **kw):
        return self.request("DELETE", url, **kw)

    def login(self, login_id=None, password=None):
        r = self.post("/api/auth/login", {"login_id": login_id or UP["login_id"],
                                          "password": password or UP["password"]})
        if r.status == 200:
            self.csrf = r.json()["csrf_token"]
        return r


def ctl(*args, check=True):
    """Run shomeictl against the stack; exit 3 ("already exists") counts as done."""
    cmd = [path(UP["ctl"][0])] + [path(a) if a.endswith(".conf") else a for a in UP["ctl"][1:]]
    p = subprocess.run(cmd + list(args), capture_output=True, text=True, timeout=120)
    if check and p.returncode not in (0, 3):
        raise RuntimeError("shomeictl %s failed: %s" % (" ".join(args), p.stderr))
    return p


# Removes a seeded tenant's certificates and history (bench/seed), with what refers to the
# certificates: the expiry reminders the notices' scheduler records for any valid certificate
# near its end, and the tenant's notices. `CLEAR_SEEDED % {"t": tenant_id}` for psql().
CLEAR_SEEDED = ("BEGIN;"
                # the notices' sweeper (DUE_CHECK_INTERVAL) may remind of a seeded certificate while
                # 200,000 are deleted: it waits for this transaction (and then finds it gone)
                " LOCK TABLE expiry_reminders IN EXCLUSIVE MODE;"
                " DELETE FROM expiry_reminders WHERE certificate_id IN"
                " (SELECT id FROM certificates WHERE tenant_id = %(t)d);"
                " DELETE FROM notice_links WHERE tenant_id = %(t)d;"
                " DELETE FROM notifications WHERE tenant_id = %(t)d;"
                " DELETE FROM certificates WHERE tenant_id = %(t)d;"
                " DELETE FROM audit WHERE tenant_id = %(t)d;"
                " COMMIT")


def psql(sql, *params, role="shomei_owner", timeout=60):
    """Run SQL as the schema's owner, shomei_owner (for set-up and for checking what was stored);
    role= another role of the stack's cluster (shomei, the application's); timeout= seconds."""
    pgbin = sorted(d for d in os.listdir("/usr/lib/postgresql"))[-1]
    cmd = ["/usr/lib/postgresql/%s/bin/psql" % pgbin, "-h", os.path.join(VAR, "run", "pg"),
           "-U", role, "-d", "shomei", "-AtqX", "-v", "ON_ERROR_STOP=1"]
    for i, p in enumerate(params):
        cmd += ["-v", "p%d=%s" % (i + 1, p)]
    p = subprocess.run(cmd, input=sql, capture_output=True, text=True, timeout=timeout)
    if p.returncode != 0:
        raise PsqlError(p.stderr)
    return p.stdout.strip()


class PsqlError(RuntimeError):
    def __init__(self, stderr):
        super().__init__("psql failed: %s" % stderr)
        self.stderr = stderr


def redis(*args):
    p = subprocess.run(["redis-cli", "-s", os.path.join(VAR, "run", "redis", "redis.sock")] + list(args),
                       capture_output=True, text=True, timeout=30)
    return p.stdout.strip()


def clear_lockouts():
    keys = redis("--scan", "--pattern", "shomei:fail:*").split()
    if keys:
        redis("DEL", *keys)


def pid_alive(name):
    try:
        pid = int(open(os.path.join(VAR, "run", name + ".pid")).read().strip())
        os.kill(pid, 0)
        return True
    except (OSError, ValueError):
        return False


def read_pid(name):
    """The process id in var/run/NAME.pid (NAME.supervisor.pid for its supervisor); 0 if none."""
    try:
        return int(open(os.path.join(VAR, "run", name + ".pid")).read().strip())
    except (OSError, ValueError):
        return 0


def live_pid(name, seconds=20):
    """The pid of NAME once its pid file names a live process (a process restarted by its
    supervisor writes it a moment after its socket answers). Never 0 or 1: os.kill(0, …) would
    signal the test's own process group."""
    end = time.time() + seconds
    while time.time() < end:
        pid = read_pid(name)
        if pid > 1:
            try:
                os.kill(pid, 0)
                return pid
            except OSError:
                pass
        time.sleep(0.1)
    raise RuntimeError("no live process in %s.pid" % name)


def sock_answers(path):
    """Something accepts a connection on the unix socket (a file left by a killed process does not)."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(2)
    try:
        s.connect(path)
        return True
    except OSError:
        return False
    finally:
        s.close()


def scripts_up(*args):
    """scripts/up on the stack under test (hold, release)."""
    env = dict(os.environ, VAR=VAR, PORT=str(PORT))
    if UP.get("smtp_port"):  # a stack started with its own SMTP_PORT (not PORT + 70)
        env["SMTP_PORT"] = str(UP["smtp_port"])
    if os.environ.get("SHOMEI_BUILD"):
        env["BUILD"] = os.environ["SHOMEI_BUILD"]
    return subprocess.run([os.path.join(ROOT, "scripts", "up")] + list(args), env=env,
                          capture_output=True, text=True, timeout=120)


def hold(name):
    """Keep NAME down on purpose: its supervisor restarts it no more until release(NAME). Only the
    hold file: the test stops the process itself, as it likes (`scripts/up hold` also stops it)."""
    open(os.path.join(VAR, "run", name + ".hold"), "w").close()


def release(name):
    """Let NAME's supervisor start it again; True once it answers (`scripts/up release`)."""
    p = scripts_up("release", name)
    if p.returncode != 0:
        print("# scripts/up release %s: %s" % (name, p.stderr.strip()), flush=True)
    return p.returncode == 0


def wait_ocsp_backlog(seconds=240):
    """Wait until shomei-revoke has pre-signed an OCSP response for every valid certificate: its
    publisher does that between the CRLs it publishes, so right after a bulk issuance
    (test_import's 12,000) a CRL may wait (docs/DECISIONS.md, "The internal revocation API").
    Tests that time a CRL call this first; prints how long it waited."""
    t0 = time.time()
    ok = wait_until(lambda: psql("SELECT count(*) FROM certificates c WHERE c.status IN ('issued', 'downloaded')"
                                 " AND NOT EXISTS (SELECT 1 FROM ocsp_responses o WHERE o.ca_id = c.ca_id"
                                 " AND o.serial = c.serial)") == "0", seconds)
    if time.time() - t0 > 1:
        print("# waited %.1f s for the OCSP pre-signing backlog" % (time.time() - t0), flush=True)
    return ok


def get_url(url, headers=None):
    """GET an absolute URL the stack published (a CRL distribution point), over plain HTTP or
    HTTPS as the URL says, as a relying party would: (status, headers, body)."""
    u = urllib.parse.urlsplit(url)
    if u.scheme == "https":
        conn = http.client.HTTPSConnection(u.hostname, u.port or 443, context=tls_context(), timeout=30)
    else:
        conn = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=30)
    try:
        conn.request("GET", u.path + ("?" + u.query if u.query else ""), headers=headers or {})
        r = conn.getresponse()
        return r.status, r.headers, r.read()
    finally:
        conn.close()


def pem_certs(text):
    """The certificates (python3-cryptography) of a PEM text, in order."""
    from cryptography import x509
    return [x509.load_pem_x509_certificate(m.encode()) for m in
            re.findall(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----\n?", text, re.S)]


def pem_crls(text):
    """The CRLs (python3-cryptography) of a PEM text, in order."""
    from cryptography import x509
    return [x509.load_pem_x509_crl(m.encode()) for m in
            re.findall(r"-----BEGIN X509 CRL-----.*?-----END X509 CRL-----\n?", text, re.S)]


def cdp_url(cert):
    """The URI of a certificate's (python3-cryptography) first CRL distribution point."""
    from cryptography import x509
    dps = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    return dps[0].full_name[0].value


def issuer_crl(der, issuer):
    """Why the DER CRL is not one `issuer` (a CA certificate) issued, or None when it is: its
    issuer name is the CA's subject, its AKI the CA's SKI, and its signature verifies with the
    CA's public key."""
    from cryptography import x509
    try:
        crl = x509.load_der_x509_crl(der)
    except ValueError as e:
        return "not a DER CRL: %s" % e
    if crl.issuer != issuer.subject:
        return "CRL issuer %s, not %s" % (crl.issuer.rfc4514_string(), issuer.subject.rfc4514_string())
    ski = issuer.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    aki = crl.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier
    if aki != ski:
        return "CRL AKI %s, not the CA's SKI %s" % (aki.hex(), ski.hex())
    if not crl.is_signature_valid(issuer.public_key()):
        return "the CRL's signature does not verify with the CA's key"
    return None


def cdp_crl(cert, issuer, seconds=30):
    """Follow the certificate's CRL distribution point as a relying party does (the CRL of a new
    CA appears on the publisher's next sweep, so wait up to `seconds`): (url, crl, why), crl the
    python3-cryptography CRL found there when `issuer` issued it, else None and why not."""
    from cryptography import x509
    url = cdp_url(cert)
    last = ["no answer"]

    def found():
        status, _, body = get_url(url)
        if status != 200:
            last[0] = "GET %s: %d" % (url, status)
            return False
        last[0] = issuer_crl(body, issuer)
        if last[0] is None:
            last.append(x509.load_der_x509_crl(body))
        return last[0] is None

    if wait_until(found, seconds):
        return url, last[-1], None
    return url, None, last[0]


def mail_messages(to=None):
    """Every message in the stack's Maildir (up.json's maildir: new/ and cur/), parsed with
    Python's email package; only those whose To names `to` when given."""
    import email
    import email.policy
    import glob
    out = []
    box = path(UP["maildir"])
    for f in sorted(glob.glob(os.path.join(box, "new", "*")) + glob.glob(os.path.join(box, "cur", "*"))):
        with open(f, "rb") as fh:
            m = email.message_from_binary_file(fh, policy=email.policy.default)
        if to is None or to.lower() in str(m["To"]).lower():
            out.append(m)
    return out
