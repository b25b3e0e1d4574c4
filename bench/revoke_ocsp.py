"""bench/revoke_ocsp.py: the OCSP part of bench/revoke (run that script, not this one).

One question, "is serial S good?", asked of three responders in the same run, each about a P-256
CA of its own with 100,000 revoked entries and S issued and valid:
  shomei        POST /ocsp on nginx's plain-HTTP listener (revocation_url): the scratch tenant of
                the CRL part (100,000 revoked rows) plus one issued row with serial S
  openssl ocsp  `openssl ocsp -index index.txt -port` with the CRL part's index.txt (100,000 R
                lines) plus a V line for S; it signs every answer and closes every connection
  cfssl         `cfssl ocspserve -responses FILE` (Debian's golang-cfssl): pre-signed responses,
                S's signed with the openssl CA's key, and 100,000 revoked ones
Each is driven with wrk (kept-alive connections, 8 of them, the request as a POST body; not
openssl, which closes every connection) and with ab (`ab -l -c 8 -p req.der`, a connection per
request), ROUNDS rounds alternating; requests/s and p99 are the medians over the rounds.
"""
import base64
import datetime
import os
import re
import secrets
import shutil
import statistics
import subprocess
import time

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from cryptography.x509 import ocsp

CT = "application/ocsp-request"


def _sh(*cmd, **kw):
    return subprocess.run(list(cmd), capture_output=True, text=True, check=True, **kw)


def _wait_port(port, proc, what, log):
    end = time.time() + 60
    while time.time() < end:
        if proc.poll() is not None:
            raise SystemExit("%s ended at once (exit %s): %s" % (what, proc.returncode, open(log).read()[-2000:]))
        # ss, not a test connection: OpenSSL 3.0's responder spins on a connection closed unasked
        ss = subprocess.run(["ss", "-ltnH", "sport = :%d" % port], capture_output=True, text=True).stdout
        if ss.strip():
            return
        time.sleep(0.1)
    raise SystemExit("%s does not listen on %d" % (what, port))


def _serial():
    b = bytearray(secrets.token_bytes(16))
    b[0] = (b[0] & 0x7f) | 0x10
    return b.hex()


def _post(url, body):
    p = subprocess.run(["curl", "-sS", "--data-binary", "@" + body, "-H", "Content-Type: " + CT, url],
                       capture_output=True, check=True)
    return p.stdout


def _status(resp_der, issuer_pem):
    """The answer's status as a relying party sees it: (status, signature checked)."""
    r = ocsp.load_der_ocsp_response(resp_der)
    if r.response_status != ocsp.OCSPResponseStatus.SUCCESSFUL:
        return r.response_status.name, False
    ca = x509.load_pem_x509_certificate(issuer_pem)
    try:
        ca.public_key().verify(r.signature, r.tbs_response_bytes, ec.ECDSA(r.signature_hash_algorithm))
        ok = True
    except Exception:  # noqa: BLE001 - any failure is "not verified"
        ok = False
    return r.certificate_status.name, ok


def wrk(url, body, secs, lua):
    env = dict(os.environ, BENCH_BODY_FILE=body, BENCH_CONTENT_TYPE=CT, BENCH_COOKIE="")
    p = subprocess.run(["wrk", "-t2", "-c8", "-d%ds" % secs, "--latency", "-s", lua, url], capture_output=True,
                       text=True, env=env, timeout=secs + 60)
    m = re.search(r"BENCH (.*)", p.stdout)
    if m is None:
        raise SystemExit("wrk gave no figures for %s: %s %s" % (url, p.stdout, p.stderr))
    f = dict(kv.split("=") for kv in m.group(1).split())
    return float(f["rps"]), float(f["p99_ms"]), int(f["non2xx"]) + int(f["errors"])


def ab(url, body, secs, tmp):
    csv = os.path.join(tmp, "ab.csv")
    p = subprocess.run(["ab", "-q", "-r", "-s", "20", "-l", "-c", "8", "-t", str(secs), "-n", "10000000", "-p", body,
                        "-T", CT, "-e", csv, url], capture_output=True, text=True, timeout=secs + 60)
    m = re.search(r"Requests per second:\s+([\d.]+)", p.stdout)
    if m is None:
        raise SystemExit("ab gave no figures for %s: %s %s" % (url, p.stdout, p.stderr))
    p99 = None
    for line in open(csv):
        parts = line.strip().split(",")
        if parts[0] == "99":
            p99 = float(parts[1])
    bad = 0
    for pat in (r"Failed requests:\s+(\d+)", r"Non-2xx responses:\s+(\d+)"):
        mm = re.search(pat, p.stdout)
        bad += int(mm.group(1)) if mm else 0
    return float(m.group(1)), p99, bad


class Peers:
    """openssl ocsp and cfssl ocspserve on ports of their own, about openssl's CA."""

    def __init__(self, tmp, d, rows, good, port):
        self.tmp = tmp
        self.ossl_port, self.cfssl_port = port, port + 1
        ca_pem = open(os.path.join(d, "ca.pem"), "rb").read()
        self.ca_pem = ca_pem
        # openssl: the CRL part's index (100,000 R lines) and S, valid
        idx = os.path.join(tmp, "ocsp-index.txt")
        shutil.copy(os.path.join(d, "index.txt"), idx)
        shutil.copy(os.path.join(d, "index.txt.attr"), idx + ".attr")
        expiry = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=365)
        with open(idx, "a") as f:
            f.write("V\t%s\t\t%s\tunknown\t/CN=bench_ocsp\n" % (expiry.strftime("%y%m%d%H%M%SZ"), good.upper()))
        self.req = os.path.join(tmp, "peer.req")
        _sh("openssl", "ocsp", "-issuer", os.path.join(d, "ca.pem"), "-serial", "0x" + good, "-no_nonce",
            "-reqout", self.req)
        self.ossl_cmd = ["openssl", "ocsp", "-index", idx, "-port", str(self.ossl_port),
                         "-rsigner", os.path.join(d, "ca.pem"), "-rkey", os.path.join(d, "ca.key"),
                         "-CA", os.path.join(d, "ca.pem"), "-ndays", "1", "-resp_no_certs"]
        self.ossl = self._start("openssl ocsp", self.ossl_port, self.ossl_cmd)
        # cfssl: S's answer as openssl's responder signs it, and the revoked ones beside it
        resp = os.path.join(tmp, "good.resp")
        _sh("openssl", "ocsp", "-index", idx, "-rsigner", os.path.join(d, "ca.pem"), "-rkey",
            os.path.join(d, "ca.key"), "-CA", os.path.join(d, "ca.pem"), "-ndays", "1", "-resp_no_certs", "-reqin", self.req,
            "-respout", resp)
        good_der = open(resp, "rb").read()
        self.responses = os.path.join(tmp, "cfssl-responses")
        self._responses(good_der, rows, d)
        self._start("cfssl ocspserve", self.cfssl_port,
                    ["cfssl", "ocspserve", "-address", "127.0.0.1", "-port", str(self.cfssl_port),
                     "-responses", self.responses, "-loglevel", "5"])

    def _responses(self, good_der, rows, d):
        """S's answer and one answer for each revoked serial. The first revoked row's is signed by
        openssl's CA key (python3-cryptography, through a stand-in certificate with its serial);
        the others are that answer with the serial replaced (cfssl indexes a file's answers by
        serial and checks no signature; nobody asks about them, as nobody asks shomei about the
        scratch tenant's revoked rows, whose stored answers are stand-ins too)."""
        key = load_pem_private_key(open(os.path.join(d, "ca.key"), "rb").read(), None)
        ca = x509.load_pem_x509_certificate(self.ca_pem)
        now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0, tzinfo=None)
        out = [base64.b64encode(good_der).decode()]
        s0, t0, _ = rows[0]
        stand_in = (x509.CertificateBuilder().subject_name(ca.subject).issuer_name(ca.subject)
                    .public_key(ca.public_key()).serial_number(int(s0, 16)).not_valid_before(now)
                    .not_valid_after(now + datetime.timedelta(days=1)).sign(key, hashes.SHA256()))
        first = ocsp.OCSPResponseBuilder().add_response(
            cert=stand_in, issuer=ca, algorithm=hashes.SHA1(), cert_status=ocsp.OCSPCertStatus.REVOKED,
            this_update=now, next_update=now + datetime.timedelta(days=1),
            revocation_time=datetime.datetime.utcfromtimestamp(t0), revocation_reason=None,
        ).responder_id(ocsp.OCSPResponderEncoding.HASH, ca).sign(key, hashes.SHA256())
        first = first.public_bytes(serialization.Encoding.DER)
        for s, _, _ in rows:
            der = self._swap(first, bytes.fromhex(s0), bytes.fromhex(s))
            if der is not None:
                out.append(base64.b64encode(der).decode())
        open(self.responses, "w").write("\n".join(out) + "\n")
        self.count = len(out)

    @staticmethod
    def _swap(der, old, new):
        a, b = b"\x02" + bytes([len(old)]) + old, b"\x02" + bytes([len(new)]) + new
        if len(old) != len(new) or der.count(a) != 1:
            return None
        return der.replace(a, b)

    def _start(self, what, port, cmd):
        if subprocess.run(["ss", "-ltnH", "sport = :%d" % port], capture_output=True, text=True).stdout.strip():
            raise SystemExit("port %d is taken: %s cannot listen there (OCSP_PEER_PORT= another)" % (port, what))
        name = os.path.join(self.tmp, what.split()[0] + ".log")
        p = subprocess.Popen(cmd, stdout=open(name, "w"), stderr=subprocess.STDOUT, start_new_session=True)
        self.procs.append(p)
        _wait_port(port, p, what, name)
        return p

    def restart_openssl(self):
        """A fresh openssl ocsp for each ab run: when ab stops at its time limit it drops the
        connections in flight, and OpenSSL 3.0's responder then spins on one and answers no more."""
        self.ossl.terminate()
        self.ossl.wait(10)
        end = time.time() + 30
        while time.time() < end and subprocess.run(["ss", "-ltnH", "sport = :%d" % self.ossl_port],
                                                   capture_output=True, text=True).stdout.strip():
            time.sleep(0.1)
        self.ossl = self._start("openssl ocsp", self.ossl_port, self.ossl_cmd)

    def close(self):
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(5)
                except subprocess.TimeoutExpired:
                    p.kill()


def shomei_request(tmp, ca_pem, good, psql, tid, ca):
    """The issued row S of the scratch tenant, and the request about it."""
    psql("INSERT INTO certificates (tenant_id, ca_id, cn, status, serial, issued_at, not_before, not_after)"
         " VALUES (:'p1', :'p2', 'bench_ocsp', 'issued', :'p3', now(), now(), now() + interval '365 days')",
         tid, ca, good)
    f = os.path.join(tmp, "shomei-ca.pem")
    open(f, "wb").write(ca_pem)
    req = os.path.join(tmp, "shomei.req")
    _sh("openssl", "ocsp", "-issuer", f, "-serial", "0x" + good, "-no_nonce", "-reqout", req)
    return req


def run(tmp, d, rows, ca_pem, psql, tid, ca, ocsp_url, port, rounds, secs, lua, say):
    """The table rows (markdown cells) and a summary dict."""
    good = _serial()
    sreq = shomei_request(tmp, ca_pem, good, psql, tid, ca)
    peers = Peers.__new__(Peers)
    peers.procs = []
    try:
        peers.__init__(tmp, d, rows, good, port)
        targets = {
            "shomei": (ocsp_url, sreq, ca_pem),
            "cfssl": ("http://127.0.0.1:%d/" % peers.cfssl_port, peers.req, peers.ca_pem),
            "openssl": ("http://127.0.0.1:%d/" % peers.ossl_port, peers.req, peers.ca_pem),
        }
        checks = {}
        for name, (url, req, pem) in targets.items():
            body = os.path.join(tmp, name + ".resp")
            _post(url, req)  # the first answer of shomei is signed and stored: the rest are lookups
            der = _post(url, req)
            open(body, "wb").write(der)
            checks[name] = _status(der, pem) + (len(der),)
            say("  %s answers %s (signature %s, %d bytes)" % (name, checks[name][0],
                                                               "verified" if checks[name][1] else "NOT VERIFIED",
                                                               checks[name][2]))
        runs = {k: [] for k in ("shomei wrk", "cfssl wrk", "shomei ab", "cfssl ab", "openssl ab")}
        for r in range(rounds):
            for name in ("shomei", "cfssl"):
                url, req, _ = targets[name]
                runs[name + " wrk"].append(wrk(url, req, secs, lua))
                say("  round %d %s wrk: %.0f/s p99 %.2f ms (bad %d)" % ((r + 1, name) + runs[name + " wrk"][-1]))
            for name in ("shomei", "cfssl", "openssl"):
                url, req, _ = targets[name]
                if name == "openssl" and r > 0:
                    peers.restart_openssl()
                runs[name + " ab"].append(ab(url, req, secs, tmp))
                say("  round %d %s ab: %.0f/s p99 %.2f ms (bad %d)" % ((r + 1, name) + runs[name + " ab"][-1]))
    finally:
        peers.close()
    med = {k: (statistics.median(x[0] for x in v), statistics.median(x[1] for x in v), sum(x[2] for x in v),
               [x[0] for x in v]) for k, v in runs.items()}
    return med, checks, peers.count, good
