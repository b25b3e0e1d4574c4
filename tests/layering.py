#!/usr/bin/env python3
"""layering.py: every #include in the C tree against the project's layers (TAP).

usage: layering.py SOURCE_ROOT

common/ is in layers, each a static library (docs/ARCHITECTURE.md, "Layers"):

    core  <  store  <  web          core  <  pki          core, store, web, pki  <  domain

A file in a layer may include headers of its own layer and of the layers below it, nothing
else: a lower layer never includes a higher one, and nothing in common/ includes a service's or
a tool's header. A service (services/<svc>/) or a tool (tools/<tool>/) includes the common
layers and its own headers, never another service's or tool's. Tests and benchmarks may include
anything. A quoted include is resolved as the compiler would (the including file's directory,
then common/); one that resolves nowhere is reported too.

Before checking the tree, the script checks itself on a small tree with one violation of each
kind, so a check that stopped finding anything would fail.
"""
import os
import re
import sys
import tempfile

LAYERS = ["core", "store", "web", "pki", "domain"]
# what each layer may include (itself included)
ALLOWED = {
    "core": {"core"},
    "store": {"core", "store"},
    "web": {"core", "store", "web"},
    "pki": {"core", "pki"},
    "domain": {"core", "store", "web", "pki", "domain"},
}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def unit_of(rel):
    """("layer", name) for common/, ("service", name), ("tool", name), or None (free)."""
    parts = rel.split(os.sep)
    if parts[0] == "common" and len(parts) >= 3 and parts[1] in LAYERS:
        return ("layer", parts[1])
    if parts[0] == "common":
        return ("layer", None)  # a file outside every layer: anything it includes is wrong
    if parts[0] == "services" and len(parts) >= 3:
        return ("service", parts[1])
    if parts[0] == "tools" and len(parts) >= 3:
        return ("tool", parts[1])
    return None


def resolve(root, rel, inc):
    """The repository-relative path the include resolves to, or None."""
    here = os.path.normpath(os.path.join(os.path.dirname(rel), inc))
    if os.path.isfile(os.path.join(root, here)):
        return here
    there = os.path.normpath(os.path.join("common", inc))
    if os.path.isfile(os.path.join(root, there)):
        return there
    return None


def check_file(root, rel):
    """Problems of one file: a list of strings."""
    unit = unit_of(rel)
    if unit is None:
        return []
    kind, name = unit
    with open(os.path.join(root, rel), encoding="utf-8", errors="replace") as f:
        text = f.read()
    problems = []
    for m in INCLUDE.finditer(text):
        inc = m.group(1)
        line = text.count("\n", 0, m.start()) + 1
        target = resolve(root, rel, inc)
        where = "%s:%d" % (rel, line)
        if target is None:
            problems.append('%s: "%s" resolves to no file' % (where, inc))
            continue
        tunit = unit_of(target)
        if kind == "layer":
            if tunit is None or tunit[0] != "layer" or tunit[1] is None:
                problems.append('%s: common/ includes "%s" (%s), outside common/' % (where, inc, target))
            elif name is None:
                problems.append("%s: a file of common/ outside every layer" % where)
            elif tunit[1] not in ALLOWED[name]:
                problems.append('%s: %s includes "%s" of layer %s (it may include %s)' % (where, name, inc, tunit[1], ", ".join(sorted(ALLOWED[name]))))
        else:
            if tunit is not None and tunit[0] in ("service", "tool") and tunit != unit:
                problems.append('%s: %s %s includes "%s", of %s %s' % (where, kind, name, inc, tunit[0], tunit[1]))
            elif tunit is not None and tunit[0] == "layer" and tunit[1] is None:
                problems.append('%s: includes "%s", outside every layer' % (where, inc))
    return problems


def c_files(root):
    for top in ("common", "services", "tools"):
        for d, _, files in os.walk(os.path.join(root, top)):
            for f in sorted(files):
                if f.endswith((".c", ".h")):
                    yield os.path.relpath(os.path.join(d, f), root)


def self_test():
    """One violation of each kind in a scratch tree; each must be found."""
    tree = {
        "common/core/a.h": '#include "web/b.h"\n',  # lower includes higher
        "common/web/b.h": "",
        "common/pki/c.h": '#include "store/d.h"\n',  # pki is not above store
        "common/store/d.h": "",
        "services/one/extern.h": "",
        "services/one/x.c": '#include "../two/extern.h"\n',  # service includes another service
        "services/two/extern.h": "",
        "tools/ctl/y.c": '#include "../../services/one/extern.h"\n',  # tool includes a service
        "services/one/ok.c": '#include "extern.h"\n#include "domain/e.h"\n',  # fine
        "common/domain/e.h": '#include "pki/c.h"\n#include "web/b.h"\n',  # fine
    }
    with tempfile.TemporaryDirectory() as tmp:
        for rel, text in tree.items():
            os.makedirs(os.path.join(tmp, os.path.dirname(rel)), exist_ok=True)
            with open(os.path.join(tmp, rel), "w") as f:
                f.write(text)
        found = {rel: check_file(tmp, rel) for rel in tree}
    expect_bad = ["common/core/a.h", "common/pki/c.h", "services/one/x.c", "tools/ctl/y.c"]
    expect_good = ["services/one/ok.c", "common/domain/e.h"]
    results = []
    for rel in expect_bad:
        results.append((bool(found[rel]), "self-test: %s is reported (%s)" % (rel, "; ".join(found[rel]) or "nothing")))
    for rel in expect_good:
        results.append((not found[rel], "self-test: %s passes" % rel))
    with tempfile.TemporaryDirectory() as tmp:
        os.makedirs(os.path.join(tmp, "common/web"))
        os.makedirs(os.path.join(tmp, "services/auth"))
        with open(os.path.join(tmp, "services/auth/extern.h"), "w") as f:
            f.write("")
        with open(os.path.join(tmp, "common/web/z.c"), "w") as f:
            f.write('#include "../../services/auth/extern.h"\n')
        bad = check_file(tmp, "common/web/z.c")
        results.append((bool(bad), "self-test: common/ including a service's header is reported (%s)" % "; ".join(bad)))
    return results


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    n = failed = 0
    for ok, what in self_test():
        n += 1
        failed += not ok
        print("%sok %d - %s" % ("" if ok else "not ", n, what))
    files = list(c_files(root))
    for rel in files:
        problems = check_file(root, rel)
        n += 1
        failed += bool(problems)
        print("%sok %d - %s: includes within its layer rules" % ("not " if problems else "", n, rel))
        for p in problems:
            print("# " + p)
    print("1..%d" % n)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
