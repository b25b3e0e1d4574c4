"""tap: TAP output, polling and scratch directories, for tests that need no stack (tests/docker) and
for shomei_test."""
import atexit
import shutil
import sys
import tempfile
import time


class TAP:
    """ok / not ok lines, a plan at the end; a failing check does not stop the file."""

    def __init__(self):
        self.n = 0
        self.failed = 0

    def ok(self, cond, name, detail=None):
        self.n += 1
        print(("ok %d - %s" if cond else "not ok %d - %s") % (self.n, name), flush=True)
        if not cond:
            self.failed += 1
            if detail is not None:
                for line in str(detail).splitlines()[:30]:
                    print("# " + line, flush=True)
        return cond

    def eq(self, got, want, name, detail=None):
        msg = "got %r, want %r" % (got, want)
        return self.ok(got == want, name, msg if detail is None else msg + "\n" + str(detail))

    def skip(self, name, reason):
        self.n += 1
        print("ok %d - %s # SKIP %s" % (self.n, name, reason), flush=True)

    def note(self, text):
        print("# " + text, flush=True)

    def run(self, fn):
        try:
            fn(self)
        except Exception:  # a crash in one test is one failure, the rest still run
            import traceback
            self.ok(False, "%s raised" % fn.__name__, traceback.format_exc())

    def plan(self):
        """Print the plan; the exit status the file should end with."""
        print("1..%d" % self.n, flush=True)
        return 1 if self.failed else 0

    def done(self):
        sys.exit(self.plan())


def wait_until(fn, seconds=20, step=0.2):
    """fn's first true value, asked every step seconds for up to seconds (an exception counts as
    false), else False."""
    end = time.time() + seconds
    while True:
        try:
            v = fn()
        except Exception:
            v = None
        if v:
            return v
        if time.time() >= end:
            return False
        time.sleep(step)


def scratch_dir(prefix):
    """A temporary directory, removed when the test's process exits."""
    d = tempfile.mkdtemp(prefix=prefix)
    atexit.register(shutil.rmtree, d, True)
    return d
