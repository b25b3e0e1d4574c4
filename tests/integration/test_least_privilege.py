#!/usr/bin/env python3
"""Least privilege (issue 9, items 2 and 4): PostgreSQL's roles hold only what they need, and as root
every process runs as its own user, the keys are readable by their users alone, the data
directories are closed, and each socket opens to exactly the processes that must reach it."""
import grp
import os
import pwd
import stat
import subprocess

from shomei_test import TAP, VAR, PsqlError, ctl, psql

SERVICES = ("auth", "users", "issue", "revoke", "download")
ROOT_ONLY = os.getuid() == 0
SOCK = os.path.join(VAR, "run", "sock")


def refused(sql, role="shomei"):
    """The error PostgreSQL gives role for sql, or None when it ran (and was rolled back: a
    cluster where the probe succeeds loses nothing)."""
    try:
        psql("BEGIN;\n%s;\nROLLBACK;" % sql, role=role)
        return None
    except PsqlError as e:
        return e.stderr.strip()


def test_app_role(t):
    t.eq(psql("SELECT rolsuper::text || rolcreatedb::text || rolcreaterole::text || rolbypassrls::text"
              " FROM pg_roles WHERE rolname = current_user", role="shomei"), "falsefalsefalsefalse",
         "the application role shomei is no superuser and cannot create databases or roles")
    err = refused("SELECT pg_read_file('/etc/passwd')")
    t.ok(err and "permission denied" in err, "it cannot read a server file (pg_read_file)", err)
    err = refused("CREATE TABLE custody_probe (i int)")
    t.ok(err and "permission denied" in err, "it cannot CREATE TABLE", err)
    err = refused("CREATE TEMP TABLE custody_probe (i int)")
    t.ok(err and "permission denied" in err, "nor a temporary table", err)
    err = refused("CREATE SCHEMA custody_probe")
    t.ok(err and "permission denied" in err, "nor a schema", err)
    err = refused("DROP TABLE audit")
    t.ok(err and "must be owner" in err, "it cannot drop a table", err)
    err = refused("TRUNCATE audit")
    t.ok(err and "permission denied" in err, "nor truncate one", err)
    err = refused("COPY (SELECT 1) TO '/dev/null'")
    t.ok(err and ("permission denied" in err or "must be superuser" in err),
         "nor write a server file (COPY TO)", err)
    n = psql("SELECT count(*) FROM tenants", role="shomei")
    t.ok(n.isdigit(), "it reads rows")
    t.eq(psql("SELECT has_table_privilege('shomei', 'certificates', 'INSERT')"
              " AND has_table_privilege('shomei', 'certificates', 'UPDATE')"
              " AND has_table_privilege('shomei', 'certificates', 'DELETE')"
              " AND NOT has_table_privilege('shomei', 'certificates', 'TRUNCATE')"
              " AND NOT has_table_privilege('shomei', 'certificates', 'REFERENCES')"
              " AND NOT has_table_privilege('shomei', 'certificates', 'TRIGGER')"), "t",
         "and may SELECT, INSERT, UPDATE, DELETE, nothing more")


def test_owner_role(t):
    t.eq(psql("SELECT string_agg(DISTINCT tableowner, ',') FROM pg_tables WHERE schemaname = 'public'"),
         "shomei_owner", "every table belongs to the migration role shomei_owner")
    t.eq(psql("SELECT rolsuper::text FROM pg_roles WHERE rolname = 'shomei_owner'"), "false",
         "which is no superuser either")
    t.eq(psql("SELECT pg_catalog.pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'shomei'"),
         "shomei_owner", "and owns the database")
    t.eq(psql("SELECT rolname FROM pg_roles WHERE oid = 10"), "postgres",
         "the cluster's bootstrap superuser is postgres")
    p = ctl("migrate", check=False)
    t.ok(p.returncode == 0 and "nothing to do" in p.stdout, "shomeictl migrate runs as shomei_owner (migrate_db)",
         p.stdout + p.stderr)
    # a later migration's table: the application may use it without a GRANT of its own
    psql("CREATE TABLE custody_later (id bigserial PRIMARY KEY, v text)")
    try:
        try:
            psql("INSERT INTO custody_later (v) VALUES ('x')", role="shomei")
            err = None
        except PsqlError as e:
            err = e.stderr
        t.ok(err is None, "a table a later migration makes is the application's to write (default privileges)",
             err)
        t.eq(psql("SELECT v FROM custody_later", role="shomei"), "x", "and to read")
    finally:
        psql("DROP TABLE custody_later")


def proc_ids(pid):
    ids = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("Uid", "Gid"):
                ids[k] = [int(x) for x in v.split()]
    return ids


def pidfile(name):
    return int(open(os.path.join(VAR, "run", name + ".pid")).read().strip())


def skip(t, what):
    t.ok(True, "# SKIP %s: scripts/up ran as another user than root (one uid for everything)" % what)


def test_process_users(t):
    if not ROOT_ONLY:
        return skip(t, "each process its own user")
    uids = {}
    for n in ("signer",) + SERVICES:
        want = pwd.getpwnam("shomei-" + n).pw_uid
        ids = proc_ids(pidfile(n))
        t.ok(set(ids["Uid"]) == {want}, "shomei-%s runs as user shomei-%s (real, effective, saved)" % (n, n), ids)
        t.ok(os.readlink("/proc/%d/exe" % pidfile(n)).startswith(os.path.join(VAR, "bin") + "/"),
             "shomei-%s runs from %s/bin" % (n, VAR))
        uids[n] = want
    t.eq(len(set(uids.values())), 6, "six processes, six users")
    master = pidfile("nginx")
    workers = [int(p) for p in os.listdir("/proc") if p.isdigit() and ppid(int(p)) == master]
    www = pwd.getpwnam("www-data").pw_uid
    t.ok(workers and all(set(proc_ids(w)["Uid"]) == {www} for w in workers),
         "nginx's workers run as www-data (%d of them)" % len(workers))
    t.eq(set(proc_ids(pidfile("redis"))["Uid"]), {pwd.getpwnam("redis").pw_uid}, "Redis runs as redis")
    # the postmaster's own pid file (var/run/postgresql.pid is scripts/up's, from its start)
    with open(os.path.join(VAR, "pg", "data", "postmaster.pid")) as f:
        postmaster = int(f.readline().strip())
    t.eq(set(proc_ids(postmaster)["Uid"]), {pwd.getpwnam("postgres").pw_uid},
         "PostgreSQL runs as postgres")


def ppid(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return -1


def owner(path):
    st = os.stat(path)
    return pwd.getpwuid(st.st_uid).pw_name, grp.getgrgid(st.st_gid).gr_name, stat.S_IMODE(st.st_mode)


def test_keys_and_data(t):
    kek = os.path.join(VAR, "secrets", "ca-kek.key")
    data = os.path.join(VAR, "secrets", "data.key")
    cadir = os.path.join(VAR, "ca")
    keys = [os.path.join(cadir, f) for f in sorted(os.listdir(cadir)) if f.endswith(".key.enc")]
    t.ok(len(keys) >= 3, "the CA key files are in %s (%d)" % (cadir, len(keys)))
    if ROOT_ONLY:
        t.eq(owner(kek), ("shomei-signer", "shomei-signer", 0o600),
             "ca-kek.key (the key that seals the CA keys): the signer's alone, 0600")
        t.eq(owner(data), ("root", "shomei-data", 0o640),
             "data.key: readable by group shomei-data (issue, users, download), 0640")
        t.eq(sorted(grp.getgrnam("shomei-data").gr_mem), ["shomei-download", "shomei-issue", "shomei-users"],
             "shomei-data has exactly issue, users and download")
        t.eq(owner(cadir), ("shomei-signer", "shomei-signer", 0o700), "the CA directory is the signer's, 0700")
        t.eq({owner(k) for k in keys}, {("shomei-signer", "shomei-signer", 0o600)},
             "every CA key file is the signer's, 0600")
    else:
        t.eq(owner(kek)[2] & 0o077, 0, "ca-kek.key: its user's alone")
        t.ok(all(owner(k)[2] & 0o077 == 0 for k in keys), "the CA key files: their user's alone")
    for d in (os.path.join(VAR, "pg", "data"), os.path.join(VAR, "redis")):
        t.eq(owner(d)[2] & 0o007, 0, "%s is not open to others (%o)" % (d, owner(d)[2]))
    if ROOT_ONLY:
        t.eq(owner(os.path.join(VAR, "pg", "data"))[0], "postgres", "PostgreSQL's data are postgres's")
        t.eq(owner(os.path.join(VAR, "redis"))[0], "redis", "Redis's data are redis's")


def connect_as(user, path, groups=False):
    """Exit status of a connect() to the unix socket path by a process of user (0: connected)."""
    code = ("import socket,sys\ns=socket.socket(socket.AF_UNIX)\n"
            "try:\n s.connect(sys.argv[1])\nexcept PermissionError:\n sys.exit(13)\nexcept OSError:\n sys.exit(1)\n")
    ids = ["--init-groups"] if groups else ["--clear-groups"]
    gid = str(pwd.getpwnam(user).pw_gid)
    p = subprocess.run(["setpriv", "--reuid=" + user, "--regid=" + gid] + ids +
                       ["/usr/bin/python3", "-c", code, path], capture_output=True, timeout=30)
    return p.returncode


def test_sockets(t):
    fcgi = [os.path.join(SOCK, n + ".sock") for n in SERVICES]
    signer = os.path.join(SOCK, "signer.sock")
    want_group = "www-data" if ROOT_ONLY else grp.getgrgid(os.getgid()).gr_name
    for s in fcgi:
        t.eq(owner(s)[1:], (want_group, 0o660), "%s: 0660, group %s" % (os.path.basename(s), want_group))
    t.eq(owner(signer)[2], 0o660, "signer.sock: 0660")
    if not ROOT_ONLY:
        return skip(t, "who may connect")
    t.eq(owner(signer)[1], "shomei-signer-clients", "signer.sock's group is shomei-signer-clients")
    members = set(grp.getgrnam("shomei-signer-clients").gr_mem)
    t.eq(members - {"shomei-signer"}, {"shomei-issue", "shomei-revoke"},
         "whose members are issue and revoke (and the signer, which gives its socket the group)")
    t.ok(not [u for u in pwd.getpwall() if u.pw_gid == grp.getgrnam("shomei-signer-clients").gr_gid],
         "and nobody has it as primary group")
    redis_sock = os.path.join(VAR, "run", "redis", "redis.sock")
    t.eq(owner(redis_sock)[1:], ("shomei-redis", 0o660), "Redis's socket: 0660, group shomei-redis")
    t.eq(owner(os.path.join(VAR, "run", "pg"))[1:], ("shomei-pg", 0o750),
         "PostgreSQL's socket directory: 0750, group shomei-pg")
    t.eq(connect_as("nobody", signer), 13, "nobody cannot connect to signer.sock (permission denied)")
    for s in fcgi:
        t.eq(connect_as("nobody", s), 13, "nobody cannot connect to %s" % os.path.basename(s))
    t.eq(connect_as("nobody", redis_sock), 13, "nobody cannot connect to Redis")
    t.eq(connect_as("nobody", os.path.join(VAR, "run", "pg", ".s.PGSQL.5432")), 13,
         "nobody cannot reach PostgreSQL's socket")
    t.eq(connect_as("shomei-issue", signer, groups=True), 0, "shomei-issue connects to signer.sock")
    t.eq(connect_as("shomei-auth", signer, groups=True), 13, "shomei-auth, which signs nothing, cannot")
    t.eq(connect_as("www-data", signer, groups=True), 13, "nor can nginx's workers")
    t.eq(connect_as("www-data", fcgi[0], groups=True), 0, "nginx's workers connect to the FastCGI sockets")


def main():
    t = TAP()
    for fn in (test_app_role, test_owner_role, test_process_users, test_keys_and_data, test_sockets):
        t.run(fn)
    t.done()


if __name__ == "__main__":
    main()
