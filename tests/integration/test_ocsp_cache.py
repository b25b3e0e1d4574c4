#!/usr/bin/env python3
"""test_ocsp_cache: the OCSP responder keeps the pre-signed answers it sends (services/revoke/
ocspcache.c), and a revocation still shows at once: the first answer after the API's says revoked,
and one made by another process (shomeictl, as another shomei-revoke would) within a second. And
the pre-signer has a thread of its own: a burst of pre-signing does not hold a tenant's CRL back."""
import base64
import os
import secrets
import time
import urllib.parse

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.x509 import ocsp

from shomei_test import TAP, UP, ctl, psql, wait_until
from test_issue import REVOCATION_URL, admin, stored, tenant, wait_issued
from test_ocsp import plain

RUN = "%x" % (int(time.time() * 1000) % 0xffffff)
A = "ocspc-a-" + RUN
B = "ocspc-b-" + RUN
REV = urllib.parse.urlsplit(UP.get("revocation_url") or REVOCATION_URL)
STATE = {}
BURST = 4000  # certificates of tenant B without a pre-signed answer


def setup():
    STATE["tid"] = tenant(A, 6, key_type="p256")
    c = admin(A)
    STATE["admin"] = c
    ids = (c.post("/api/certificates/batch", {"count": 4}).json() or {}).get("ids") or []
    assert len(ids) == 4 and wait_issued(ids, 120), "issuing 4 certificates"
    STATE["ids"] = ids
    status, _, der = plain("GET", "/ca/%s.crt" % A)
    assert status == 200, "GET /ca/%s.crt: %d" % (A, status)
    STATE["issuer"] = x509.load_der_x509_certificate(der)
    STATE["certs"] = [x509.load_der_x509_certificate(stored(i)[0]) for i in ids]
    # every answer pre-signed, so that what follows is served from ocsp_responses and the cache
    assert wait_until(lambda: psql("SELECT count(*) FROM ocsp_responses r JOIN certificates c ON"
                                   " c.ca_id = r.ca_id AND c.serial = r.serial WHERE c.id = ANY (:'p1')",
                                   "{%s}" % ",".join(map(str, ids))) == "4", 60), "pre-signed answers"


def request(i):
    b = ocsp.OCSPRequestBuilder().add_certificate(STATE["certs"][i], STATE["issuer"], hashes.SHA1())
    return b.build().public_bytes(serialization.Encoding.DER)


def post(i):
    status, _, body = plain("POST", "/ocsp", request(i), {"Content-Type": "application/ocsp-request"})
    assert status == 200, "POST /ocsp: %d" % status
    return body


def get(i):
    path = "/ocsp/" + urllib.parse.quote(base64.b64encode(request(i)).decode(), safe="")
    status, _, body = plain("GET", path)
    assert status == 200, "GET /ocsp/…: %d" % status
    return body


def status_of(body):
    r = ocsp.load_der_ocsp_response(body)
    if r.response_status != ocsp.OCSPResponseStatus.SUCCESSFUL:
        return r.response_status.name
    key = STATE["issuer"].public_key()  # verify raises unless the issuing CA signed it
    if isinstance(key, ec.EllipticCurvePublicKey):
        key.verify(r.signature, r.tbs_response_bytes, ec.ECDSA(r.signature_hash_algorithm))
    else:
        key.verify(r.signature, r.tbs_response_bytes, padding.PKCS1v15(), r.signature_hash_algorithm)
    return r.certificate_status.name


def warm(i):
    """Ask often enough that the answer is kept; the kept bytes are the stored ones."""
    answers = {post(i) for _ in range(20)} | {get(i) for _ in range(5)}
    return answers


# ---------------------------------------------------------------------------------------------
def test_kept(t):
    """A kept answer is sent without a database round trip: 500 answers about one certificate
    cost PostgreSQL far fewer than 500 statements (the background threads make a few a second)."""
    import http.client
    warm(3)
    stat = "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()"
    before = int(psql(stat))
    conn = http.client.HTTPConnection(REV.hostname, REV.port, timeout=30)
    body, same = request(3), set()
    t0 = time.time()
    for _ in range(500):
        conn.request("POST", "/ocsp", body=body, headers={"Content-Type": "application/ocsp-request"})
        same.add(conn.getresponse().read())
    took = time.time() - t0
    conn.close()
    time.sleep(1.5)  # backends flush their counters at most once a second
    after = int(psql(stat))
    # the stack's own threads (sweeps, job pollers) meanwhile: as long again without asking
    time.sleep(took)
    time.sleep(1.5)
    idle = int(psql(stat)) - after
    extra = (after - before) - idle
    print("# 500 answers in %.2f s: %d database transactions, %d in as long without OCSP" % (
        took, after - before, idle), flush=True)
    t.ok(len(same) == 1 and status_of(same.pop()) == "GOOD", "500 answers, all the same good bytes")
    t.ok(extra < 250, "served from memory: %d database transactions more than the stack makes idle, for 500"
         " answers" % extra)


def test_api_revocation_at_once(t):
    for i in (0, 1):
        answers = warm(i)
        t.ok(len(answers) == 1 and status_of(answers.pop()) == "GOOD",
             "certificate %d: 25 answers (POST and GET), all the same good bytes" % i)
    r = STATE["admin"].post("/api/certificates/revoke", {"ids": [STATE["ids"][0]], "reason": "keyCompromise"})
    t.eq(r.status, 200, "revoke certificate 0 through the API", r.body[:300])
    first = status_of(post(0))
    t.eq(first, "REVOKED", "the first POST /ocsp after the API's answer says revoked")
    t.eq(status_of(get(0)), "REVOKED", "and GET /ocsp/… too")
    t.eq(status_of(post(1)), "GOOD", "the other certificate is still good")
    # and it stays revoked: nothing kept from before the revocation comes back
    later = {status_of(post(0)) for _ in range(20)}
    t.eq(later, {"REVOKED"}, "20 more answers: all revoked")


def test_other_process_revocation(t):
    """A revocation committed by another process (shomeictl applying a due one, as another
    shomei-revoke would): this one hears it through PostgreSQL's NOTIFY."""
    cid = STATE["ids"][2]
    jst_tomorrow = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 9 * 3600 + 86400))
    r = STATE["admin"].post("/api/certificates/revoke", {"ids": [cid], "revoke_on": jst_tomorrow})
    t.eq(r.status, 200, "schedule certificate 2's revocation for tomorrow", r.body[:300])
    answers = warm(2)
    t.ok(len(answers) == 1 and status_of(answers.pop()) == "GOOD", "scheduled: still good, answer kept")
    as_of = time.strftime("%Y/%m/%d 00:01", time.strptime(jst_tomorrow, "%Y-%m-%d"))
    p = ctl("revocations", "apply-due", "--as-of", as_of)
    t0 = time.time()
    t.ok(p.returncode == 0, "shomeictl revocations apply-due --as-of '%s'" % as_of, p.stderr)
    first = status_of(post(2))
    seen = first == "REVOKED" or wait_until(lambda: status_of(post(2)) == "REVOKED", 5)
    took = time.time() - t0
    print("# OCSP revoked %.3f s after shomeictl's commit (first answer: %s)" % (took, first.lower()), flush=True)
    t.ok(seen and took < 1, "revoked within a second of another process's commit (%.3f s)" % took)
    later = {status_of(post(2)) for _ in range(10)}
    t.eq(later, {"REVOKED"}, "and stays revoked")


def test_presign_own_thread(t):
    """A burst of pre-signing (BURST certificates of tenant B without an answer) is under way
    while tenant A revokes: A's CRL is signed at once, not after the burst."""
    tid_b = tenant(B, 1, key_type="p256")
    ca_b = psql("SELECT id FROM cas WHERE tenant_id = :'p1' AND active AND kind = 'tenant'", tid_b)
    rows = "".join("%s\t%s\tburst_%05d\tissued\t%s\n" % (tid_b, ca_b, i, "1" + secrets.token_hex(15))
                   for i in range(BURST))
    psql("BEGIN;\nCOPY certificates (tenant_id, ca_id, cn, status, serial) FROM STDIN;\n" + rows + "\\.\n"
         "SELECT pg_notify('shomei_crl', '%s');\nCOMMIT;\n" % tid_b)
    count = lambda: int(psql("SELECT count(*) FROM ocsp_responses WHERE ca_id = :'p1'", ca_b))
    try:
        t.ok(wait_until(lambda: count() > 0, 30), "the pre-signer starts on tenant B's %d certificates" % BURST)
        cid = STATE["ids"][3]
        serial = STATE["certs"][3].serial_number
        r = STATE["admin"].post("/api/certificates/revoke", {"ids": [cid]})
        t0 = time.time()
        t.eq(r.status, 200, "meanwhile, tenant A revokes a certificate", r.body[:300])

        def on_crl():
            status, _, body = plain("GET", "/crl/%s.crl" % A)
            return status == 200 and x509.load_der_x509_crl(body).get_revoked_certificate_by_serial_number(serial)

        seen = wait_until(on_crl, 30)
        took = time.time() - t0
        done = count()
        print("# A's CRL listed it %.2f s after the API answered; B had %d of %d answers then" % (took, done, BURST),
              flush=True)
        t.ok(seen and took < 2, "A's CRL lists it within 2 s (%.2f s)" % took)
        t.ok(done < BURST, "while B's burst was still being signed (%d of %d)" % (done, BURST))
        t.ok(wait_until(lambda: count() == BURST, 600), "the burst finishes: every certificate of B pre-signed")
    finally:
        psql("DELETE FROM ocsp_responses WHERE ca_id = :'p1'", ca_b)
        psql("DELETE FROM certificates WHERE tenant_id = :'p1' AND cn LIKE 'burst\\_%'", tid_b)


def test_refused_row_left_out(t):
    """A row the signer refuses to answer for (revoked "in 2035", as a row written by hand could
    say) comes first in the pre-signer's order; it must not hold back the certificates after it."""
    c = "ocspc-c-" + RUN
    tid = tenant(c, 1, key_type="p256")
    ca = psql("SELECT id FROM cas WHERE tenant_id = :'p1' AND active AND kind = 'tenant'", tid)
    bad, good = "1" + secrets.token_hex(15), "1" + secrets.token_hex(15)
    psql("BEGIN;\nCOPY certificates (tenant_id, ca_id, cn, status, serial, revoked_at) FROM STDIN;\n"
         "%s\t%s\tfuture_revoked\trevoked\t%s\t2035-01-01 00:00:00+00\n"
         "%s\t%s\tafter_it\tissued\t%s\t\\N\n\\.\n"
         "SELECT pg_notify('shomei_crl', '%s');\nCOMMIT;\n" % (tid, ca, bad, tid, ca, good, tid))
    answered = lambda serial: psql("SELECT count(*) FROM ocsp_responses WHERE ca_id = :'p1' AND serial = :'p2'",
                                   ca, serial) == "1"
    try:
        t.ok(wait_until(lambda: answered(good), 30),
             "the certificate after the refused row is pre-signed all the same")
        t.ok(not answered(bad), "the refused row has no answer (the signer will not date a revocation ahead)")
        log = open(os.path.join(UP["var"], "log", "revoke.log"), encoding="utf-8", errors="replace").read()
        t.ok("event=ocsp_presign_refused" in log, "the refusal is in shomei-revoke's log")
    finally:
        psql("DELETE FROM ocsp_responses WHERE ca_id = :'p1'", ca)
        psql("DELETE FROM certificates WHERE tenant_id = :'p1' AND cn IN ('future_revoked', 'after_it')", tid)


def main():
    t = TAP()
    setup()
    for fn in (test_kept, test_api_revocation_at_once, test_other_process_revocation, test_presign_own_thread,
               test_refused_row_left_out):
        t.run(fn)
    t.done()


if __name__ == "__main__":
    main()
