#!/usr/bin/env python3
"""bench/notices.py: the measurements behind bench/notices (run that script, not this one)."""
import glob
import os
import re
import subprocess
import time

from benchlib import STAMP, args, head, load, say, table, write
from shomei_test import UP, VAR, ctl, path, psql

OUT, (N,) = args(["N"])
SLUG = "bench-ntc-" + STAMP


def workers():
    """[mail] workers of the stack's configuration (2 when not set)."""
    conf = os.path.join(path(VAR), "shomei.conf")
    section = None
    try:
        for line in open(conf, encoding="utf-8"):
            m = re.match(r"\s*\[(\w+)\]", line)
            if m:
                section = m.group(1)
            m = re.match(r"\s*workers\s*=\s*(\d+)", line)
            if m and section == "mail":
                return int(m.group(1))
    except OSError:
        pass
    return 2


def sent(tid):
    out = psql("SELECT count(*) FILTER (WHERE status = 'sent'), count(*) FILTER (WHERE status = 'failed')"
               " FROM notifications WHERE tenant_id = :'p1'", tid)
    s, f = out.split("|")
    return int(s), int(f)


def message_size(addr):
    """The size of the message shomei sent to addr as the server received it (Postfix's own
    Return-Path, Delivered-To, Received… lines left out)."""
    maildir = path(UP["maildir"])
    end = time.monotonic() + 120
    while time.monotonic() < end:
        for f in glob.glob(os.path.join(maildir, "new", "*")) + glob.glob(os.path.join(maildir, "cur", "*")):
            raw = open(f, "rb").read()
            if ("<%s>" % addr).encode() in raw[:4096]:
                i = raw.find(b"\nFrom: ")
                return len(raw) - (i + 1 if i >= 0 else 0)
        time.sleep(0.5)
    raise RuntimeError("the message to %s never reached the Maildir" % addr)


def main():
    port = UP.get("smtp_port")
    if not port:
        raise SystemExit("bench/notices: the stack has no local SMTP server (scripts/up as root starts one)")
    nw = workers()
    l0 = load()
    say("bench/notices: %d notices, %d mail workers, SMTP 127.0.0.1:%s, load %.2f" % (N, nw, port, l0))
    ctl("tenant", "create", "--slug", SLUG, "--name", "ベンチ通知" + SLUG, "--name-en", "Bench " + SLUG,
        "--quota", "10")
    tid = psql("SELECT id FROM tenants WHERE slug = :'p1'", SLUG)
    detail = "ベンチ 花子 (bench@example.com): WindowsPC"
    psql("INSERT INTO notifications (tenant_id, to_addr, kind, lang, params, next_attempt_at)"
         " SELECT :'p1', 'bench-' || g || '@example.com', 'admin_user_registered', 'ja',"
         " jsonb_build_object('detail', :'p2'::text), now() + interval '1 hour'"
         " FROM generate_series(1, :'p3'::int) g", tid, detail, str(N))
    say("queued %d; releasing them" % N)
    t0 = time.monotonic()
    psql("UPDATE notifications SET next_attempt_at = now() WHERE tenant_id = :'p1' AND status = 'queued'", tid)
    last = 0
    while True:
        s, f = sent(tid)
        if s + f >= N:
            break
        if time.monotonic() - t0 > 3600:
            raise SystemExit("bench/notices: %d of %d sent after an hour" % (s, N))
        if s - last >= 1000:
            say("  %d sent" % s)
            last = s
        time.sleep(0.2)
    ours = time.monotonic() - t0
    s, f = sent(tid)
    size = message_size("bench-1@example.com")
    say("shomei: %d sent, %d failed in %.1f s; a message is %d bytes" % (s, f, ours, size))

    # the peer: smtp-source, the same count and size, as many sessions as workers, connections kept
    cmd = [os.environ.get("SMTP_SOURCE", "smtp-source"), "-d", "-s", str(nw), "-m", str(N), "-l", str(size),
           "-f", "bench-peer@example.com", "-t", "bench-peer-to@example.com", "127.0.0.1:%s" % port]
    t1 = time.monotonic()
    o = subprocess.run(cmd, capture_output=True, text=True)
    peer = time.monotonic() - t1
    if o.returncode != 0:
        raise SystemExit("bench/notices: smtp-source failed: %s" % (o.stderr or o.stdout)[-500:])
    say("smtp-source: %d in %.1f s" % (N, peer))
    l1 = load()
    ratio = (N / ours) / (N / peer)
    rows = [
        ("shomei: %s queued notices released → every one `sent` (%d workers)" % (format(N, ","), nw),
         "%.1f s (%.0f messages/s; %d failed)" % (ours, N / ours, f), "", ""),
        ("smtp-source -d -s %d -m %s -l %d (the peer)" % (nw, format(N, ","), size),
         "%.1f s (%.0f messages/s)" % (peer, N / peer), "", ""),
        ("rate, shomei ÷ smtp-source", "%.2f×" % ratio, "≥ 0.5×", "met" if ratio >= 0.5 else "not met"),
    ]
    md = head("notices", l0, l1) + [
        "%s notices (利用者登録受付通知, rendered from templates/mail/ and sent as MIME: text and HTML, base64) "
        "queued in one scratch tenant, held back until committed, then released at once; timed until every row is "
        "`sent` (the server's 250, recorded). The peer is Postfix's smtp-source sending the same number of messages "
        "of the same size (%d bytes, as received) to the same server (the stack's Postfix on 127.0.0.1:%s), with as "
        "many sessions as the mail worker has threads, each keeping its connection, in the same run."
        % (format(N, ","), size, port), ""] + table(rows)
    text = "\n".join(md) + "\n"
    print(text)
    write(OUT, text)


if __name__ == "__main__":
    main()
