#!/usr/bin/env python3
"""Uploads past max_upload (64 MiB): CSV一括登録, CSV一括利用者マスター削除 and CSV一括失効 answer 413
with the JSON error, in Japanese or English, and change nothing (no job, no user, no history)."""
import random

from shomei_test import TAP, Client, ctl, psql

MAX_UPLOAD = 64 * 1024 * 1024  # common/core/cfg.c's default, nginx's client_max_body_size for these paths
PW = "Upload2limit"


def tenant(slug):
    ctl("tenant", "create", "--slug", slug, "--name", "上限" + slug, "--name-en", "Limit " + slug,
        "--quota", "5", "--features", "admin_may_issue")
    ctl("admin", "create", "--tenant", slug, "--login-id", slug + "-admin", "--password", PW)
    return int(psql("SELECT id FROM tenants WHERE slug = :'p1'", slug))


def multipart(size, extra=()):
    """A multipart body whose CSV file makes the whole body size bytes long."""
    b = "----shomeiLimit%d" % random.randrange(10 ** 9)
    head = "".join("--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n%s\r\n" % (b, k, v) for k, v in extra)
    head += ("--%s\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.csv\"\r\n"
             "Content-Type: text/csv\r\n\r\n" % b)
    tail = "\r\n--%s--\r\n" % b
    row = b"a@example.com,\xe5\xb1\xb1\xe7\x94\xb0,\xe5\xa4\xaa\xe9\x83\x8e\r\n"
    n = size - len(head.encode()) - len(tail.encode())
    data = (row * (n // len(row) + 1))[:n]
    return b, head.encode() + data + tail.encode()


def state(tid):
    return psql("SELECT (SELECT count(*) FROM users WHERE tenant_id = :p1) || '|' ||"
                " (SELECT count(*) FROM jobs WHERE tenant_id = :p1) || '|' ||"
                " (SELECT count(*) FROM audit WHERE tenant_id = :p1 AND action <> 'login')", tid)


def test_too_large(t):
    tid = tenant("upload-limit")
    c = Client()
    t.eq(c.login("upload-limit-admin", PW).status, 200, "the administrator logs in")
    before = state(tid)
    for path, extra in (("/api/users/import", ()), ("/api/users/purge", ()),
                        ("/api/certificates/revoke-csv", (("revoke_on", ""),))):
        for lang, word in (("ja", "大き"), ("en", "large")):
            b, body = multipart(MAX_UPLOAD + 1024, extra)
            try:
                r = c.post(path, raw=body, headers={"Content-Type": "multipart/form-data; boundary=" + b,
                                                     "Accept-Language": lang})
            except (BrokenPipeError, ConnectionResetError) as e:
                t.ok(False, "%s: the client is answered, not cut off (%s)" % (path, e))
                continue
            err = (r.json() or {}).get("error", {})
            t.eq((r.status, err.get("code")), (413, "too_large"),
                 "%s: %d bytes (max_upload + 1 KiB) answer 413 too_large (%s)" % (path, len(body), lang))
            t.ok(word in (err.get("message") or ""), "with the message in %s" % lang, err)
    t.eq(state(tid), before, "nothing changed: no user, no job, no history entry (users|jobs|audit)")
    b, body = multipart(1024 * 1024 + 1024)
    r = c.post("/api/users/import", raw=body, headers={"Content-Type": "multipart/form-data; boundary=" + b})
    t.eq(r.status, 422, "a file over nginx's 1 MiB default but under max_upload reaches the check (422, bad lines)")


def main():
    t = TAP()
    t.run(test_too_large)
    t.done()


if __name__ == "__main__":
    main()
