"""benchlib: what the bench/*.py measurements share: their arguments, the integration tests'
helpers on the path, the machine and its load, and the report's head, table and file."""
import os
import platform
import re
import subprocess
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
# shomei_test (tests/integration) reads the stack from SHOMEI_UP_JSON when it is imported
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
STAMP = time.strftime("%H%M%S")


def args(names):
    """OUT (where the report goes) and one integer for each of names, from the command line that
    bench/<name> (the shell script) builds."""
    if len(sys.argv) != 2 + len(names):
        raise SystemExit("usage: %s OUT %s (run the bench/ script of the same name)"
                         % (os.path.basename(sys.argv[0]), " ".join(names)))
    try:
        return sys.argv[1], [int(a) for a in sys.argv[2:]]
    except ValueError:
        raise SystemExit("%s: %s must be whole numbers, got %s"
                         % (os.path.basename(sys.argv[0]), ", ".join(names), " ".join(sys.argv[2:])))


def say(*a):
    print(*a, file=sys.stderr, flush=True)


def load():
    """The load average over the last minute."""
    return os.getloadavg()[0]


def machine():
    model = ""
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        model = re.search(r"Model name:\s*(.+)", out).group(1).strip()
    except (OSError, AttributeError):
        pass
    return "%s, %d cores (nproc), %s" % (model or platform.processor(), os.cpu_count(), platform.platform())


def head(name, load0, load1):
    """The report's title and the machine's paragraph, as lines."""
    return ["# bench/%s — %s" % (name, time.strftime("%Y-%m-%d %H:%M")), "",
            "Machine: %s. Load average (1 min) %.2f at the start, %.2f at the end: other work on the machine "
            "shares the cores." % (machine(), load0, load1), ""]


def table(rows):
    """A Markdown table of (run, measured, target, result) rows, as lines."""
    return (["| run | measured | target | result |", "| --- | --- | --- | --- |"]
            + ["| %s |" % " | ".join(r) for r in rows])


def write(out, text, keep=False):
    """The report to out (its directory made); keep: the earlier reports of the file follow it."""
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    old = open(out, encoding="utf-8").read() if keep and os.path.exists(out) else ""
    with open(out, "w", encoding="utf-8") as fh:
        fh.write(text + ("\n" + old if old else ""))
    say("written to " + out)


def stack_cpu(var):
    """CPU seconds (user + system) spent so far by each kind of process of the stack under var:
    every process whose command line, or an ancestor's, names var (PostgreSQL's backends, the
    services, nginx's workers, Redis). {name: seconds}; a process that ended is not counted."""
    tick = os.sysconf("SC_CLK_TCK")
    info = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            st = open("/proc/%s/stat" % d).read()
            cmd = open("/proc/%s/cmdline" % d, "rb").read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        rest = st[st.rindex(")") + 2:].split()
        info[int(d)] = (int(rest[1]), cmd, (int(rest[11]) + int(rest[12])) / tick)

    def mine(pid, depth=0):
        if pid not in info or depth > 8:
            return False
        return var in info[pid][1] or mine(info[pid][0], depth + 1)

    out = {}
    for pid, (_, cmd, cpu) in info.items():
        if mine(pid):
            name = os.path.basename(cmd.split()[0]).rstrip(":") if cmd.strip() else "?"
            out[name] = out.get(name, 0.0) + cpu
    return out


def cpu_per_request(before, after, requests):
    """Milliseconds of the stack's CPU per request between two stack_cpu() readings, in all and
    for PostgreSQL: (total, postgres)."""
    n = max(requests, 1)
    total = sum(after.values()) - sum(before.get(k, 0.0) for k in after)
    pg = after.get("postgres", 0.0) - before.get("postgres", 0.0)
    return total * 1000 / n, pg * 1000 / n
