#!/usr/bin/env python3
"""Key custody: one key per purpose. The CA private keys are sealed under the CA key-encryption
key, which only shomei-signer and shomeictl read; the PKCS#12 passwords under the data key of
issue, users and download. Neither opens what the other seals (checked here with
python3-cryptography's AES-GCM, independently of our C code). `shomeictl keys split` moves an
installation sealed by the one master key of before to the two keys, and can be run again
after a crash."""
import os
import random
import shutil
import stat
import subprocess
import tempfile
import time

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from shomei_test import TAP, UP, VAR, path, psql

CONF = path(UP["ctl"][2])
TAG = "".join(random.choice("abcdefghijkmnpqrstuvwxyz") for _ in range(8))


def conf_value(key):
    for line in open(CONF, encoding="utf-8"):
        if line.startswith("["):
            break
        k, _, v = line.partition("=")
        if k.strip() == key:
            return v.strip()
    return None


def read_key(p):
    return bytes.fromhex(open(p).read().strip())


def seal(key, purpose, plain):
    nonce = os.urandom(12)
    return b"SHM1" + nonce + AESGCM(key).encrypt(nonce, plain, purpose.encode())


def opens(key, purpose, blob):
    """The plaintext, or None when the blob does not authenticate under key and purpose."""
    if blob[:4] != b"SHM1":
        return None
    try:
        return AESGCM(key).decrypt(blob[4:16], blob[16:], purpose.encode())
    except Exception:
        return None


def ca_key_files(ca_dir, schema=None):
    q = "SELECT key_file FROM %scas ORDER BY id" % (schema + "." if schema else "")
    return [os.path.join(ca_dir, f) for f in psql(q).split("\n") if f]


def test_stack_keys(t):
    kek_file, data_file = conf_value("ca_kek_file"), conf_value("data_key_file")
    t.ok(kek_file and data_file, "the configuration names ca_kek_file and data_key_file",
         open(CONF).read())
    t.eq(conf_value("master_key_file"), None, "and no master_key_file")
    t.ok(not os.path.exists(os.path.join(VAR, "secrets", "master.key")), "no master.key in var/secrets")
    t.eq(stat.S_IMODE(os.stat(kek_file).st_mode), 0o600, "the CA key-encryption key is 0600")
    t.eq(stat.S_IMODE(os.stat(data_file).st_mode), 0o640, "the data key is 0640 (its group: the services using it)")
    kek, data = read_key(kek_file), read_key(data_file)
    t.ok(kek != data, "two different keys")
    files = ca_key_files(conf_value("ca_dir"))
    t.ok(len(files) >= 3, "the root, administrator and tenant CAs have sealed key files", files)
    for f in files:
        blob = open(f, "rb").read()
        der = opens(kek, "ca-key", blob)
        t.ok(der is not None and der[:1] == b"\x30", "%s opens with the KEK (a DER key)" % os.path.basename(f))
        t.ok(opens(data, "ca-key", blob) is None, "%s does not open with the data key" % os.path.basename(f))
    enc = psql("SELECT encode(p12_password_enc, 'hex') FROM certificates "
               "WHERE p12_password_enc IS NOT NULL ORDER BY id DESC LIMIT 1")
    if enc:
        blob = bytes.fromhex(enc)
        pw = opens(data, "p12-password", blob)
        t.ok(pw is not None and len(pw) == 12, "a PKCS#12 password opens with the data key")
        t.ok(opens(kek, "p12-password", blob) is None, "and not with the KEK")
    # the data key cannot be used to make the signer sign: it does not open a CA key even with
    # the purpose a service would try
    t.ok(all(opens(data, p, open(f, "rb").read()) is None for f in files for p in ("ca-key", "p12-password")),
         "decrypting a CA key with the data key fails, whatever the purpose")


def legacy_installation(tmp, schema):
    """A scratch schema and CA directory as an installation before the split had them: CA keys
    and PKCS#12 passwords all sealed under one master key."""
    ca_dir = os.path.join(tmp, "ca")
    os.mkdir(ca_dir, 0o700)
    master = os.path.join(tmp, "master.key")
    # the scratch installation makes its own tables: as the schema owner's role (migrate_db)
    db = (conf_value("migrate_db") or conf_value("db")) + " options='-csearch_path=%s,public'" % schema
    psql("CREATE SCHEMA %s" % schema)
    body = open(CONF, encoding="utf-8").read().split("\n[", 1)
    top = [line for line in body[0].split("\n")
           if line.split("=")[0].strip() not in ("db", "migrate_db", "ca_dir", "ca_kek_file", "data_key_file",
                                                 "master_key_file")]
    conf_old = os.path.join(tmp, "old.conf")
    # the old tools sealed CA keys with the master key: today's shomeictl does it with the file
    # named ca_kek_file, so point that at the master key while making the legacy CAs
    with open(conf_old, "w") as f:
        f.write("\n".join(top + ["db = " + db, "ca_dir = " + ca_dir, "ca_kek_file = " + master,
                                 "data_key_file = " + master]) + "\n")
    run = lambda c, *a: subprocess.run([path(UP["ctl"][0]), "-c", c] + list(a),
                                       capture_output=True, text=True, timeout=120)
    p = run(conf_old, "key", "create", "--out", master)
    assert p.returncode == 0, p.stderr
    for args in (["migrate"], ["ca", "init"],
                 ["tenant", "create", "--slug", "legacy-" + TAG, "--name", "旧", "--name-en", "Legacy",
                  "--quota", "10", "--ca-key-type", "p256"]):
        p = run(conf_old, *args)
        assert p.returncode == 0, "%s: %s" % (args, p.stderr)
    mk = read_key(master)
    tid = psql("SELECT id FROM %s.tenants WHERE slug = :'p1'" % schema, "legacy-" + TAG)
    pws = {}
    for i in range(3):
        pw = "Pw%010d" % i
        cid = psql("INSERT INTO %s.certificates (tenant_id, cn, status, p12_password_enc) "
                   "VALUES (:'p1', :'p2', 'issued', decode(:'p3', 'hex')) RETURNING id" % schema,
                   tid, "legacy%d" % i, seal(mk, "p12-password", pw.encode()).hex())
        pws[cid] = pw
    conf_new = os.path.join(tmp, "new.conf")
    with open(conf_new, "w") as f:
        f.write("\n".join(top + ["db = " + db, "ca_dir = " + ca_dir, "master_key_file = " + master,
                                 "ca_kek_file = " + os.path.join(tmp, "ca-kek.key"),
                                 "data_key_file = " + os.path.join(tmp, "data.key")]) + "\n")
    return run, conf_new, ca_dir, master, mk, pws


def test_keys_split(t):
    tmp = tempfile.mkdtemp(prefix="shomei-split-")
    schema = "custody_" + TAG
    try:
        run, conf, ca_dir, master, mk, pws = legacy_installation(tmp, schema)
        files = ca_key_files(ca_dir, schema)
        t.eq(len(files), 3, "the legacy installation has three CA key files")
        t.ok(all(opens(mk, "ca-key", open(f, "rb").read()) for f in files), "all sealed under the master key")
        # a split that died half-way: the new KEK exists and one CA key and one password were
        # already moved under the new keys
        kek_file, data_file = os.path.join(tmp, "ca-kek.key"), os.path.join(tmp, "data.key")
        p = run(conf, "key", "create", "--out", kek_file)
        p2 = run(conf, "key", "create", "--out", data_file)
        t.ok(p.returncode == 0 and p2.returncode == 0, "key create makes the two key files", p.stderr + p2.stderr)
        os.chmod(data_file, 0o640)
        kek, data = read_key(kek_file), read_key(data_file)
        der0 = opens(mk, "ca-key", open(files[0], "rb").read())
        open(files[0], "wb").write(seal(kek, "ca-key", der0))
        first = sorted(pws)[0]
        psql("UPDATE %s.certificates SET p12_password_enc = decode(:'p1', 'hex') WHERE id = :'p2'" % schema,
             seal(data, "p12-password", pws[first].encode()).hex(), first)

        p = run(conf, "keys", "split")
        t.eq(p.returncode, 0, "shomeictl keys split succeeds", p.stderr)
        t.ok("CA keys re-sealed: 2 (already done: 1)" in p.stdout, "it finishes what a crashed run left", p.stdout)
        t.ok("PKCS#12 passwords re-sealed: 2 (already done: 1)" in p.stdout, "passwords likewise", p.stdout)
        t.ok(not os.path.exists(master), "the master key file is gone")
        for f in files:
            blob = open(f, "rb").read()
            t.ok(opens(kek, "ca-key", blob) is not None, "%s: sealed under the new KEK" % os.path.basename(f))
            t.ok(opens(data, "ca-key", blob) is None and opens(mk, "ca-key", blob) is None,
                 "%s: not under the data key nor the old master key" % os.path.basename(f))
            t.eq(stat.S_IMODE(os.stat(f).st_mode), 0o600, "%s stays 0600" % os.path.basename(f))
        for cid, pw in sorted(pws.items()):
            blob = bytes.fromhex(psql("SELECT encode(p12_password_enc, 'hex') FROM %s.certificates WHERE id = :'p1'"
                                      % schema, cid))
            t.eq(opens(data, "p12-password", blob), pw.encode(), "certificate %s: password under the data key" % cid)
            t.ok(opens(kek, "p12-password", blob) is None, "certificate %s: not under the KEK" % cid)
        # the CA keys work: shomeictl signs the administrator CRLs with them under the new KEK
        conf2 = conf.replace("new.conf", "after.conf")
        shutil.copy(conf, conf2)
        body = open(conf2).read().replace("master_key_file = " + master + "\n", "")
        open(conf2, "w").write(body)
        p = run(conf2, "crl", "publish", "--out", os.path.join(tmp, "crl.pem"))
        t.eq(p.returncode, 0, "after the split shomeictl signs with the re-sealed CA keys", p.stderr)
        p = run(conf, "keys", "split")
        t.ok(p.returncode != 0 and "already split" in p.stderr, "a second split says it is done", p.stderr)
        # a master key equal to one of the new keys is refused before anything changes
        open(master, "w").write(kek.hex() + "\n")
        os.chmod(master, 0o600)
        p = run(conf, "keys", "split")
        t.ok(p.returncode != 0 and "three different keys" in p.stderr, "reusing a key for two purposes is refused",
             p.stderr)
        # a key file open to others is refused by both
        os.chmod(data_file, 0o644)
        p = run(conf, "keys", "split")
        t.ok(p.returncode != 0 and "data key" in p.stderr, "a data key readable by others is refused", p.stderr)
    finally:
        psql("DROP SCHEMA IF EXISTS %s CASCADE" % schema)
        shutil.rmtree(tmp, ignore_errors=True)


def test_ctl_without_kek(t):
    """shomeictl never falls back to another key: without the KEK, a CA ceremony stops."""
    tmp = tempfile.mkdtemp(prefix="shomei-nokek-")
    try:
        lines = [line for line in open(CONF, encoding="utf-8").read().split("\n")
                 if not line.startswith("ca_kek_file")]
        conf = os.path.join(tmp, "c.conf")
        i = next((n for n, line in enumerate(lines) if line.startswith("[")), len(lines))
        lines.insert(i, "ca_kek_file = " + os.path.join(tmp, "absent.key"))
        open(conf, "w").write("\n".join(lines) + "\n")
        p = subprocess.run([path(UP["ctl"][0]), "-c", conf, "crl", "publish", "--out", os.path.join(tmp, "x.pem")],
                           capture_output=True, text=True, timeout=60)
        t.ok(p.returncode != 0 and "CA key-encryption key" in p.stderr, "no KEK: a clear error, nothing signed",
             p.stderr)
        copy = os.path.join(tmp, "d.key")
        shutil.copy(conf_value("data_key_file"), copy)
        os.chmod(copy, 0o600)
        lines[i] = "ca_kek_file = " + copy
        open(conf, "w").write("\n".join(lines) + "\n")
        p = subprocess.run([path(UP["ctl"][0]), "-c", conf, "crl", "publish", "--out", os.path.join(tmp, "x.pem")],
                           capture_output=True, text=True, timeout=60)
        t.ok(p.returncode != 0 and "does not open" in p.stderr, "the data key given as the KEK opens no CA key",
             p.stderr)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


CLIENT = r"""
import socket, struct, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
def ask(op, tenant, body=b""):
    req = bytes([op]) + struct.pack(">Q", tenant) + body
    s.sendall(struct.pack(">I", len(req)) + req)
    n = struct.unpack(">I", s.recv(4, socket.MSG_WAITALL))[0]
    a = s.recv(n, socket.MSG_WAITALL)
    return a[0], a[1:]
st, why = ask(1, 1, b"\x30\x00")
print("cert", st, why.decode("utf-8", "replace"))
st, why = ask(2, 0, b"\x30\x00")
print("crl", st, why.decode("utf-8", "replace"))
st, why = ask(3, 0)
print("ping", st)
"""


def test_signer_callers(t):
    """The signer knows its callers by SO_PEERCRED: a process of a uid missing from the
    operation's allow-list is refused (and the refusal logged with the caller), even when the
    socket's permissions let it connect."""
    sock = os.path.join(conf_value("socket_dir"), "signer.sock")
    log = os.path.join(VAR, "log", "signer.log")
    before = os.path.getsize(log)
    dirs = [os.path.dirname(sock)]
    modes = {p: stat.S_IMODE(os.stat(p).st_mode) for p in dirs + [sock]}
    try:
        for p in dirs:
            os.chmod(p, modes[p] | 0o001)
        os.chmod(sock, 0o666)  # only for this test: let uid nobody reach the socket at all
        p = subprocess.run(["runuser", "-u", "nobody", "--", "/usr/bin/python3", "-c", CLIENT, sock],
                           capture_output=True, text=True, timeout=30)
    finally:
        for q, m in modes.items():
            os.chmod(q, m)
    out = p.stdout
    t.ok("cert 1 caller nobody (uid 65534) may not ask for op cert" in out,
         "a process running as nobody may not have certificates signed", out + p.stderr)
    t.ok("crl 1 caller nobody (uid 65534) may not ask for op crl" in out, "nor CRLs", out)
    t.ok("ping 0" in out, "but may ping (allow_ping = *)", out)
    time.sleep(0.3)
    with open(log, encoding="utf-8", errors="replace") as f:
        f.seek(before)
        lines = [l for l in f if "event=refuse" in l and "caller_uid=65534" in l]
    t.ok(len(lines) == 2 and all("caller=nobody" in l and "caller_pid=" in l for l in lines),
         "both refusals are logged with the caller's name, uid and pid", "".join(lines))
    t.eq(stat.S_IMODE(os.stat(sock).st_mode), modes[sock], "the socket's mode is as before")


def allowed_cert_user():
    """The first user of [signer] allow_cert, or None (empty: the signer's own user)."""
    section = None
    for line in open(CONF, encoding="utf-8"):
        line = line.strip()
        if line.startswith("["):
            section = line.strip("[]")
        elif section == "signer" and line.split("=")[0].strip() == "allow_cert":
            users = line.partition("=")[2].replace(",", " ").split()
            return users[0] if users else None
    return None


def test_admin_ca_not_over_socket(t):
    """Nobody, not even an allowed caller, has a certificate signed with the administrator CA
    through the socket (tenant_id 0): that is shomeictl's ceremony."""
    sock = os.path.join(conf_value("socket_dir"), "signer.sock")
    # an allowed caller: shomei-issue's user where scripts/up ran as root (allow_cert), else us
    as_issue = []
    if os.getuid() == 0 and allowed_cert_user():
        as_issue = ["setpriv", "--reuid=" + allowed_cert_user(), "--regid=" + allowed_cert_user(), "--init-groups"]
    p = subprocess.run(as_issue + ["/usr/bin/python3", "-c", CLIENT, sock], capture_output=True, text=True,
                       timeout=30)
    t.ok("cert 3 not a DER certificate" in p.stdout or "cert 1" not in p.stdout,
         "tenant 1 as an allowed caller reaches the policy (the DER is checked)", p.stdout + p.stderr)
    client0 = CLIENT.replace("ask(1, 1,", "ask(1, 0,")
    p = subprocess.run(as_issue + ["/usr/bin/python3", "-c", client0, sock], capture_output=True, text=True,
                       timeout=30)
    t.ok("cert 1 certificates are signed with a tenant's CA only" in p.stdout,
         "a certificate for tenant 0 (the administrator CA) is refused", p.stdout + p.stderr)


def main():
    t = TAP()
    t.run(test_signer_callers)
    t.run(test_admin_ca_not_over_socket)
    t.run(test_stack_keys)
    t.run(test_keys_split)
    t.run(test_ctl_without_kek)
    t.done()


if __name__ == "__main__":
    main()
