#!/usr/bin/env python3
"""bench/revoke.py: the measurements behind bench/revoke (run that script, not this one)."""
import atexit
import datetime
import os
import re
import resource
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import ROOT, STAMP, args, head, load, machine, say, table, write  # noqa: E402
from shomei_test import PORT, UP, VAR, Client, ctl, psql  # noqa: E402
from test_relying_party import RelyingParty, client_cert, measure_refusal, setup_tenant  # noqa: E402
import revoke_ocsp  # noqa: E402  (bench/, beside this file)

OUT, (ENTRIES, ROUNDS, REFUSALS, OCSP_ROUNDS, OCSP_SECS) = args(
    ["ENTRIES", "ROUNDS", "REFUSALS", "OCSP_ROUNDS", "OCSP_SECS"])
REASONS = [(0, None), (0, None), (1, "keyCompromise"), (4, "superseded")]  # (RFC 5280 code, index.txt name)
# whether this schema has the OCSP responder's table (migration 0009)
OCSP = psql("SELECT count(*) FROM information_schema.tables WHERE table_name = 'ocsp_responses'") == "1"
TMP = tempfile.mkdtemp(prefix="shomei-bench-revoke-", dir="/tmp")
atexit.register(shutil.rmtree, TMP, True)


def sh(*cmd, **kw):
    return subprocess.run(list(cmd), capture_output=True, text=True, check=True, **kw)


def entries():
    """ENTRIES distinct positive 128-bit serials, revocation times in the last 30 days, reasons."""
    now = int(time.time())
    seen, out = set(), []
    while len(out) < ENTRIES:
        b = bytearray(secrets.token_bytes(16))
        b[0] = (b[0] & 0x7f) | 0x10  # positive, 16 bytes long
        s = b.hex()
        if s in seen:
            continue
        seen.add(s)
        out.append((s, now - secrets.randbelow(30 * 86400), REASONS[len(out) % len(REASONS)]))
    return out


def utc(t, fmt="%y%m%d%H%M%SZ"):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime(fmt)


def cpu_of(names):
    """CPU seconds (user + system) used so far by the stack's processes of these names."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for n in names:
        try:
            pid = int(open(os.path.join(VAR, "run", n + ".pid")).read().strip())
            f = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
            total += (int(f[11]) + int(f[12])) / tick
        except (OSError, ValueError, IndexError):
            pass
    return total


# --- shomei --------------------------------------------------------------------------------------
def log_lines():
    return open(os.path.join(VAR, "log", "revoke.log"), encoding="utf-8", errors="replace").read().splitlines()


def log_time(line):
    m = re.match(r"ts=(\S+)Z ", line)
    return datetime.datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S.%f").replace(
        tzinfo=datetime.timezone.utc).timestamp()


def shomei_setup(rows):
    slug = "bench-crl-" + STAMP
    ctl("tenant", "create", "--slug", slug, "--name", "CRLベンチ", "--name-en", "CRL Bench", "--quota", "1",
        "--ca-key-type", "p256")
    tid = psql("SELECT id FROM tenants WHERE slug = :'p1'", slug)
    ca = psql("SELECT id FROM cas WHERE tenant_id = :'p1' AND active AND kind = 'tenant'", tid)
    from cryptography import x509
    key = x509.load_pem_x509_certificate(psql("SELECT cert_pem FROM cas WHERE id = :'p1'", ca).encode()).public_key()
    kt = getattr(getattr(key, "curve", None), "name", None) or "RSA-%d" % key.key_size
    return slug, tid, ca, kt


def shomei_round(slug, tid, ca, rows, seed):
    """One publication of the tenant's CRL with every row: (transaction s, wall s from our commit)."""
    mark = len(log_lines())
    if seed:
        data = "".join("%s\t%s\tbench_%06d\trevoked\t%s\t%s\t%d\n" % (tid, ca, i, s, utc(t, "%Y-%m-%d %H:%M:%S+00"), code)
                       for i, (s, t, (code, _)) in enumerate(rows))
        # The OCSP pre-signer (services/revoke/presign.c) would sign a response for each of these
        # rows, 10,000 a turn of the publisher thread, before it hears the next NOTIFY: stand-in
        # responses (never served: nobody asks about this tenant) keep it out of this benchmark.
        ocsp = ("INSERT INTO ocsp_responses (ca_id, serial, revoked, der, this_update, next_update)"
                " SELECT ca_id, serial, true, '\\x00', now(), now() + interval '30 days' FROM certificates"
                " WHERE tenant_id = %s AND cn LIKE 'bench\\_%%' ON CONFLICT DO NOTHING;\n" % tid) if OCSP else ""
        sql = ("BEGIN;\nCOPY certificates (tenant_id, ca_id, cn, status, serial, revoked_at, revocation_reason)"
               " FROM STDIN;\n" + data + "\\.\n" + ocsp + "SELECT pg_notify('shomei_crl', '%s');\nCOMMIT;\n" % tid)
    else:
        # the same CRL again: the stored one is dropped, so the publisher finds it missing
        sql = "BEGIN;\nDELETE FROM crls WHERE ca_id = %s;\nSELECT pg_notify('shomei_crl', '%s');\nCOMMIT;\n" % (ca, tid)
    cpu0 = cpu_of(("revoke", "signer"))
    psql(sql)
    committed = time.time()
    want = "event=tenant_crl_published tenant=%s " % tid
    end = time.time() + 600
    line = None
    while line is None and time.time() < end:
        for ln in log_lines()[mark:]:
            if want in ln and "revoked=%d" % len(rows) in ln:
                line = ln
                break
        else:
            time.sleep(0.02)
    if line is None:
        raise SystemExit("shomei-revoke did not publish the CRL of %d entries" % len(rows))
    done = log_time(line)
    started = float(psql("SELECT extract(epoch FROM published_at) FROM crls WHERE ca_id = :'p1'", ca))
    return done - started, done - committed, cpu_of(("revoke", "signer")) - cpu0


def shomei_check(slug, n):
    r = Client().get("/crl/%s.crl" % slug)
    f = os.path.join(TMP, "shomei.crl")
    open(f, "wb").write(r.body)
    p = subprocess.run(["openssl", "crl", "-inform", "DER", "-in", f, "-noout", "-text"], capture_output=True, text=True)
    got = p.stdout.count("Serial Number:")
    return got == n, len(r.body)


# --- openssl ca -gencrl ----------------------------------------------------------------------------
def openssl_setup(rows):
    d = os.path.join(TMP, "openssl")
    os.makedirs(d)
    sh("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "3650",
       "-subj", "/CN=Bench CRL CA/O=Bench/C=JP", "-addext", "basicConstraints=critical,CA:TRUE",
       "-addext", "keyUsage=critical,keyCertSign,cRLSign", "-keyout", os.path.join(d, "ca.key"),
       "-out", os.path.join(d, "ca.pem"))
    expiry = utc(time.time() + 365 * 86400)
    with open(os.path.join(d, "index.txt"), "w") as f:
        for i, (s, t, (_, name)) in enumerate(rows):
            f.write("R\t%s\t%s%s\t%s\tunknown\t/CN=bench_%06d\n" % (expiry, utc(t), "," + name if name else "",
                                                                s.upper(), i))
    open(os.path.join(d, "index.txt.attr"), "w").write("unique_subject = no\n")
    open(os.path.join(d, "crlnumber"), "w").write("01\n")
    with open(os.path.join(d, "ca.cnf"), "w") as f:
        f.write("[ca]\ndefault_ca = bench\n[bench]\ndir = %s\ndatabase = $dir/index.txt\ncrlnumber = $dir/crlnumber\n"
                "certificate = $dir/ca.pem\nprivate_key = $dir/ca.key\ndefault_md = sha256\ndefault_crl_days = 7\n"
                "crl_extensions = crl_ext\n[crl_ext]\nauthorityKeyIdentifier = keyid:always\n" % d)
    return d


def openssl_round(d):
    out = os.path.join(d, "crl.der")
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    subprocess.run(["openssl", "ca", "-gencrl", "-config", os.path.join(d, "ca.cnf"), "-out", os.path.join(d, "crl.pem")],
                   capture_output=True, check=True)
    dt = time.monotonic() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    sh("openssl", "crl", "-in", os.path.join(d, "crl.pem"), "-outform", "DER", "-out", out)
    return dt, cpu


def openssl_check(d, n):
    p = subprocess.run(["openssl", "crl", "-in", os.path.join(d, "crl.pem"), "-noout", "-text"], capture_output=True,
                       text=True)
    return p.stdout.count("Serial Number:") == n, os.path.getsize(os.path.join(d, "crl.der"))


# --- the relying party ---------------------------------------------------------------------------
def refusals():
    slug = "bench-rp-" + STAMP
    c, ids = setup_tenant(slug, REFUSALS)
    rp = RelyingParty(slug, port=int(os.environ.get("RP_PORT") or PORT + 1), interval=1)
    out = []
    try:
        certs = [client_cert(c, i, rp.d) for i in ids]
        rp.start()
        for cid, (cert, key) in zip(ids, certs):
            if rp.status(cert, key) != 200:
                raise SystemExit("the relying party does not accept certificate %d" % cid)
            secs = measure_refusal(c, rp, cid, cert, key)
            if secs is None:
                raise SystemExit("certificate %d was never refused" % cid)
            say("  revoke -> 400: %.2f s" % secs)
            out.append(secs)
            time.sleep(1.3)  # a revocation that is not aligned with the poll
    finally:
        rp.close()
    return out


def ocsp_table(res):
    """The OCSP part's table: requests/s, p99 and the ratios against the peers."""
    med, checks, count, _ = res
    fmt = lambda xs: ", ".join("%.0f" % x for x in xs)
    out = ["OCSP: the same question (\"is serial S good?\", no nonce, SHA-1 CertID) asked of each"
           " responder about a P-256 CA of its own with %s revoked entries and S valid: shomei through nginx's"
           " plain-HTTP listener (`POST /ocsp`), `openssl ocsp -index … -port` (signs every answer),"
           " `cfssl ocspserve` (%s pre-signed answers in its file). wrk: `-t2 -c8`, kept-alive connections;"
           " ab: `-l -c 8 -p req.der -T application/ocsp-request`, a connection per request; %d s a run, %d"
           " rounds alternating, medians. Answers checked (status, signature against the CA's key, size): %s." % (
               format(ENTRIES, ","), format(count, ","), OCSP_SECS, OCSP_ROUNDS,
               "; ".join("%s %s%s, %d bytes" % (k, v[0].lower(), "" if v[1] else " (SIGNATURE NOT VERIFIED)", v[2])
                         for k, v in checks.items())),
           "",
           "| OCSP | requests/s (rounds) | p99 | against cfssl | against openssl | target |",
           "| --- | ---: | ---: | ---: | ---: | --- |"]
    for mode in ("wrk", "ab"):
        for name in ("shomei", "cfssl", "openssl"):
            k = "%s %s" % (name, mode)
            if k not in med:
                continue
            rps, p99, bad, each = med[k]
            vs_c = rps / med["cfssl " + mode][0]
            vs_o = ("%.2f×" % (rps / med["openssl ab"][0])) if mode == "ab" else ""
            target = ""
            if name == "shomei":
                target = "≥ cfssl, p99 < 10 ms: %s" % ("met" if vs_c >= 1 and p99 < 10 else "missed")
            out.append("| %s, %s | %s (%s)%s | %.2f ms | %.2f× | %s | %s |" % (
                name, "wrk (kept alive)" if mode == "wrk" else "ab (a connection each)", format(round(rps), ","),
                fmt(each), " (%d failed)" % bad if bad else "", p99, vs_c, vs_o, target))
    return out + [""]


def main():
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # the scratch rows are deleted on the way out
    load0 = load()
    say("machine: " + machine())
    rows = entries()
    slug, tid, ca, kt = shomei_setup(rows)
    d = openssl_setup(rows)
    shomei_t, shomei_wall, openssl_t, shomei_cpu, openssl_cpu = [], [], [], [], []
    try:
        for r in range(ROUNDS):
            tx, wall, cpu = shomei_round(slug, tid, ca, rows, seed=(r == 0))
            shomei_t.append(tx)
            shomei_wall.append(wall)
            shomei_cpu.append(cpu)
            say("  shomei round %d: %.3f s (transaction), %.3f s from our commit, %.3f s CPU" % (r + 1, tx, wall, cpu))
            o, ocpu = openssl_round(d)
            openssl_t.append(o)
            openssl_cpu.append(ocpu)
            say("  openssl ca -gencrl round %d: %.3f s, %.3f s CPU" % (r + 1, o, ocpu))
        s_ok, s_size = shomei_check(slug, len(rows))
        o_ok, o_size = openssl_check(d, len(rows))
        ocsp_res = None
        if OCSP_ROUNDS > 0:
            say("OCSP: shomei, cfssl ocspserve, openssl ocsp (%d rounds of %d s each)" % (OCSP_ROUNDS, OCSP_SECS))
            ca_pem = psql("SELECT cert_pem FROM cas WHERE id = :'p1'", ca).encode() + b"\n"
            ocsp_res = revoke_ocsp.run(TMP, d, rows, ca_pem, psql, tid, ca, UP["revocation_url"].rstrip("/") + "/ocsp",
                                       int(os.environ.get("OCSP_PEER_PORT") or PORT + 2), OCSP_ROUNDS, OCSP_SECS,
                                       os.path.join(ROOT, "bench", "wrk.lua"), say)
    finally:
        if not os.environ.get("KEEP"):
            # a plain DELETE: certificates.replaces_id has its index (0010), so the foreign-key
            # checks are cheap, and shomei_owner (psql's role) may not set session_replication_role
            psql("DELETE FROM certificates WHERE tenant_id = :'p1' AND cn LIKE 'bench\\_%'", tid)
            if OCSP:
                psql("DELETE FROM ocsp_responses WHERE ca_id = :'p1'", ca)
    secs = refusals() if REFUSALS > 0 else []
    load1 = load()

    s_med, o_med = statistics.median(shomei_t), statistics.median(openssl_t)
    ratio = s_med / o_med
    fmt = lambda xs: ", ".join("%.2f" % x for x in xs)
    rows_md = [
        ("CRL of %s entries, shomei (crlpub + shomei-signer, P-256 CA)" % format(len(rows), ","),
         "%.2f s (median of %s: %s; %.2f s from commit)" % (s_med, len(shomei_t), fmt(shomei_t), statistics.median(shomei_wall)),
         "≤ 1.5 × OpenSSL", "%.2f× (%s)" % (ratio, "met" if ratio <= 1.5 else "missed")),
        ("  the same entries, `openssl ca -gencrl` (P-256 CA)",
         "%.2f s (median of %s: %s)" % (o_med, len(openssl_t), fmt(openssl_t)), "", ""),
    ]
    if secs:
        rows_md.append(("revoke request → relying-party nginx refuses (400), shomei-crlsync --interval 1",
                        "%.2f s median, %.2f s max (%s)" % (statistics.median(secs), max(secs), fmt(secs)), "< 5 s",
                        "met" if max(secs) < 5 else "missed"))
    if shomei_cpu:
        cr = statistics.median(shomei_cpu) / statistics.median(openssl_cpu)
        rows_md.insert(2, ("  CPU seconds (shomei-revoke + shomei-signer, without PostgreSQL; openssl)",
                           "%.2f s against %.2f s (medians)" % (statistics.median(shomei_cpu), statistics.median(openssl_cpu)),
                           "", "%.2f×" % cr))
    ocsp_text = ocsp_table(ocsp_res) if ocsp_res else []
    text = "\n".join(head("revoke", load0, load1) + [
        "shomei: %s revoked rows of a scratch tenant (CA key %s) seeded by COPY with the revocation's NOTIFY in the"
        " same transaction; the time is shomei-revoke's publishing transaction (lock the CA row, read the revoked"
        " rows, build the v2 CRL with reasons, shomei-signer signs it over its socket, store the DER), from"
        " `crls.published_at` to its log line after the commit. Later rounds drop the stored CRL and notify again."
        " OpenSSL: `openssl ca -gencrl` (the whole command: reading index.txt, building, signing, writing PEM) with"
        " the same serials, times and reasons. Both CRLs checked with `openssl crl -text`: %s entries listed"
        " (shomei %s, %s bytes DER; OpenSSL %s, %s bytes DER)." % (
            format(len(rows), ","), kt, format(len(rows), ","), "yes" if s_ok else "NO", format(s_size, ","),
            "yes" if o_ok else "NO", format(o_size, ",")),
        "",
    ] + table(rows_md) + [""] + ocsp_text)
    print(text)
    write(OUT, text)
    shutil.rmtree(TMP, True)


if __name__ == "__main__":
    main()
