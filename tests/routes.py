#!/usr/bin/env python3
"""routes.py: nginx's locations against the services' route tables, both ways (TAP).

usage: routes.py SOURCE_ROOT BUILD_DIR

The routes come from the built services themselves (`shomei-<svc> -r`), the locations from
nginx/nginx.conf.in and the files it includes from @CONF@ (authed.inc, fastcgi.inc, fastcgi-ocsp.inc). Checked:
  - every location that passes a request to a service's socket can reach at least one route of
    that service, with the path the service sees (SHOMEI_ROUTE if the location sets it, else
    the URI);
  - every route of every service is reachable: a path built from its pattern ({id} -> 42) makes
    nginx choose a location that passes to that same service; a `session` route's location goes
    through the auth_request gate and hands over SHOMEI_ADMIN_ID and SHOMEI_TENANT_ID; a
    `public` route's location does not;
  - there are two servers: the public one (the HTTPS port) and the internal listener (a unix
    socket, `listen unix:…`) that only the services reach. An `internal` route (service to
    service) is reachable on the internal listener, through a location that passes
    SHOMEI_LISTENER internal, and never on the public server, where no location passes
    SHOMEI_LISTENER; the internal listener reaches nothing but internal routes.
Location selection follows nginx (ngx_http_core_find_location): an exact `=` match; else the
longest prefix, final if `^~`; else the first regex (`~`, `~*`) in file order; else that longest
prefix. A URI equal to a prefix location without its trailing slash, where that location passes
to a backend, gets nginx's 301. Nested locations, `limit_except` and variables other than
$1..$9 in fastcgi_pass are not modelled; the test says so rather than guess.
Python's re stands in for PCRE: the patterns in the template use their common subset.

The template has two servers: the portal (HTTPS, the `listen … ssl` one), checked as above,
and the relying parties' plain-HTTP listener, which may pass only to shomei-revoke's public
routes under /crl/, /ca/ and /ocsp, must reach each of them, and answers everything else
itself (404).
A second TLS server, the renewal server (`ssl_verify_client optional_no_ca`: the download
site's /dl/<slug>/renew), may pass only to shomei-download's public routes under
/api/dl/{tenant}/renew, must reach each of them with SSL_CLIENT_CERT, and answers everything
else itself; the portal's server never hands a client certificate to those routes.
"""
import os
import re
import subprocess
import sys
import warnings

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "integration"))
from tap import TAP  # noqa: E402

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    try:
        import re._parser as sre_parse
    except ImportError:  # Python < 3.11
        import sre_parse

SERVICES = ["auth", "users", "issue", "revoke", "download"]  # as scripts/lib.sh starts them
# A sample for each {placeholder}: one that the services' own checks would also take.
SAMPLES = {"id": "42", "tenant": "demo"}
SAMPLE_DEFAULT = "sample1"
# nginx's /healthz asks shomei-auth, whose health handler reports the whole stack
# (services/auth/health.c: PostgreSQL, Redis, every socket). The other services answer /healthz
# on their own socket only; their `* /healthz` line is not expected behind nginx.
HEALTHZ = "/healthz"


# --- the services' tables -------------------------------------------------------------------


class Route:
    def __init__(self, svc, method, pattern, vis):
        self.svc, self.method, self.pattern, self.vis = svc, method, pattern, vis
        self.rx = route_regex(pattern)

    def __str__(self):
        return "%s %s %s %s" % (self.svc, self.method, self.pattern, self.vis)

    def sample(self):
        return re.sub(r"\{([^}]*)\}", lambda m: SAMPLES.get(m.group(1), SAMPLE_DEFAULT),
                      self.pattern)

    def matches(self, path):
        return self.rx.match(path) is not None


def route_regex(pattern):
    """http_route_match: a {placeholder} takes one non-empty segment, up to the next '/'."""
    out, pos = "", 0
    for m in re.finditer(r"\{[^}]*\}", pattern):
        out += re.escape(pattern[pos:m.start()]) + r"[^/]+(?=/|\Z)"
        pos = m.end()
    return re.compile(out + re.escape(pattern[pos:]) + r"\Z")


# The methods a route may have: the gate asks a CSRF token for POST, PUT, PATCH and DELETE
# and lets any other method through with the session alone, which is safe only while no route
# has another. "*" (any method) is for the gate itself and what the runtime answers.
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
ANY_METHOD = ("/internal/auth", "/healthz", "/metrics")


def route_line_ok(line):
    m = re.fullmatch(r"(\*|[A-Z]+) (/\S*) (session|public|internal)", line)
    return bool(m) and (m.group(1) in METHODS or (m.group(1) == "*" and m.group(2) in ANY_METHOD))


def load_routes(build, t):
    """{svc: [Route]} from `shomei-<svc> -r`, one TAP line per service."""
    routes = {}
    env = dict(os.environ, SHOMEI_CONFIG="/nonexistent/shomei.conf")  # -r reads none
    for svc in SERVICES:
        exe = os.path.join(build, "services", svc, "shomei-" + svc)
        try:
            p = subprocess.run([exe, "-r"], env=env, capture_output=True, text=True,
                               timeout=30)
        except OSError as e:
            t.ok(False, "shomei-%s -r runs" % svc, str(e))
            continue
        lines = p.stdout.splitlines()
        bad = [l for l in lines if not route_line_ok(l)]
        if not t.ok(p.returncode == 0 and lines and not bad,
                    "shomei-%s -r lists %d routes" % (svc, len(lines)),
                    "status %d\n%s%s" % (p.returncode, p.stderr, "\n".join(bad))):
            continue
        routes[svc] = [Route(svc, *l.split()) for l in lines]
    return routes


# --- nginx's configuration ------------------------------------------------------------------


class ConfError(Exception):
    pass


class Directive:
    def __init__(self, name, args, where, block=None):
        self.name, self.args, self.where, self.block = name, args, where, block


def tokenize(text, fname):
    """(kind, value, line): kind 'word' or one of ';{}' (quoted words are words)."""
    i, line, n = 0, 1, len(text)
    while i < n:
        c = text[i]
        if c == "\n":
            line += 1
            i += 1
        elif c.isspace():
            i += 1
        elif c == "#":
            while i < n and text[i] != "\n":
                i += 1
        elif c in ";{}":
            yield c, c, line
            i += 1
        elif c in "\"'":
            j, buf = i + 1, ""
            while j < n and text[j] != c:
                if text[j] == "\\" and j + 1 < n:
                    j += 1
                buf += text[j]
                line += text[j] == "\n"
                j += 1
            if j >= n:
                raise ConfError("%s:%d: unterminated quote" % (fname, line))
            yield "word", buf, line
            i = j + 1
        else:
            j = i
            while j < n and not text[j].isspace() and text[j] not in ";{}":
                if text[j] == "$" and text.startswith("${", j):
                    j = text.index("}", j)
                j += 1
            yield "word", text[i:j], line
            i = j


def parse(path, conf_dir):
    """The directives of one file, with `include @CONF@/<file>` read in place."""
    fname = os.path.relpath(path, os.path.dirname(conf_dir))
    text = open(path, encoding="utf-8").read().replace("@USER@", "")
    toks = tokenize(text, fname)
    return parse_block(toks, fname, conf_dir, top=True)


def parse_block(toks, fname, conf_dir, top=False):
    out, words = [], []
    for kind, value, line in toks:
        where = "%s:%d" % (fname, line)
        if kind == "word":
            words.append(value)
            continue
        if kind == "}":
            if top or words:
                raise ConfError("%s: unexpected }" % where)
            return out
        if not words:
            raise ConfError("%s: empty directive" % where)
        name, args = words[0], words[1:]
        words = []
        if kind == "{":
            out.append(Directive(name, args, where, parse_block(toks, fname, conf_dir)))
        elif name == "include" and args and args[0].startswith("@CONF@/"):
            out += parse(os.path.join(conf_dir, args[0][len("@CONF@/"):]), conf_dir)
        else:
            out.append(Directive(name, args, where))
    if not top or words:
        raise ConfError("%s: unexpected end of file" % fname)
    return out


def first(block, name):
    for d in block:
        if d.name == name:
            return d
    return None


class Location:
    def __init__(self, d, outer):
        """d: the location directive; outer: the blocks it inherits from, innermost first."""
        a = list(d.args)
        if len(a) == 1 and a[0][:1] in "=~^" and a[0] not in ("=", "~", "~*", "^~"):
            m = re.match(r"(=|~\*|~|\^~)(.*)", a[0])  # "location =/x" is allowed too
            a = [m.group(1), m.group(2)]
        self.mod, self.arg = (a[0], a[1]) if len(a) == 2 else ("", a[0])
        self.where = d.where
        self.rx = None
        if self.mod in ("~", "~*"):
            self.rx = re.compile(self.arg, re.I if self.mod == "~*" else 0)
        body = d.block
        self.unsupported = [x.name for x in body if x.block is not None]
        self.internal = first(body, "internal") is not None
        self.returns = first(body, "return")
        self.files = first(body, "try_files")
        p = first(body, "fastcgi_pass")
        self.passes = p.args[0] if p and not self.returns else None
        self.auto_redirect = p is not None or first(body, "proxy_pass") is not None
        # auth_request and fastcgi_param: the innermost level that sets any (for fastcgi_param
        # a level that sets one replaces everything inherited)
        levels = [body] + outer
        ar = next((first(b, "auth_request") for b in levels if first(b, "auth_request")), None)
        self.gate = ar.args[0] if ar and ar.args[0] != "off" else None
        params = next(([x.args for x in b if x.name == "fastcgi_param"] for b in levels
                       if first(b, "fastcgi_param")), [])
        self.params = {a[0]: a[1] for a in params if len(a) >= 2}

    def __str__(self):
        return "location %s%s" % (self.mod + " " if self.mod else "", self.arg)

    def samples(self):
        """URIs this location was written for (it may or may not be chosen for them)."""
        if self.rx is None:
            return [self.arg]
        return [s for s in regex_samples(self.arg) if self.rx.search(s)]


def regex_samples(pattern, limit=64):
    """Strings for a regex: every alternative, one character per class, the least repeats."""

    def seq(items):
        out = [""]
        for op, av in items:
            out = [a + b for a in out for b in one(str(op), av)][:limit]
        return out

    def pick(cls):
        neg = any(str(op) == "NEGATE" for op, _ in cls)
        chars = []
        for op, av in cls:
            op = str(op)
            if op == "LITERAL":
                chars.append(chr(av))
            elif op == "RANGE":
                chars += [chr(c) for c in range(av[0], min(av[1], av[0] + 64) + 1)]
            elif op == "CATEGORY":
                chars += {"CATEGORY_DIGIT": "1", "CATEGORY_WORD": "a"}.get(str(av), "")
        if neg:
            chars = [c for c in "a1-_.x" if c not in chars]
        return chars[:1]

    def one(op, av):
        if op == "LITERAL":
            return [chr(av)]
        if op in ("NOT_LITERAL", "ANY"):
            return ["a" if av != ord("a") else "b"]
        if op == "IN":
            return pick(av)
        if op == "AT":
            return [""]
        if op == "BRANCH":
            return [s for b in av[1] for s in seq(b)]
        if op == "SUBPATTERN":
            return seq(av[-1])
        if op in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            n = av[0] if av[0] > 0 else (1 if av[1] else 0)
            return seq(list(av[2]) * n) if n else [""]
        raise ConfError("regex %r: %s not modelled" % (pattern, op))

    return seq(sre_parse.parse(pattern))


def is_tls(server):
    return any(d.name == "listen" and "ssl" in d.args for d in server.block)


class Nginx:
    """The public server (the HTTPS port), the plain-HTTP listener (CRLs, CA certificates,
    OCSP) and the internal listener (a unix socket, the services' calls to one another)."""

    def __init__(self, root):
        conf_dir = os.path.join(root, "nginx")
        top = parse(os.path.join(conf_dir, "nginx.conf.in"), conf_dir)
        http = first(top, "http")
        if http is None:
            raise ConfError("nginx.conf.in: no http block")
        upstreams = {}
        for d in http.block:
            if d.name == "upstream":
                srv = first(d.block, "server")
                upstreams[d.args[0]] = srv.args[0] if srv else None
        kinds = {"tls": [], "plain": [], "internal": [], "renew": []}
        for d in http.block:
            if d.name != "server":
                continue
            listens = [x.args[0] for x in d.block if x.name == "listen" and x.args]
            if listens and all(a.startswith("unix:") for a in listens):
                kinds["internal"].append(d)
            elif is_tls(d) and any(x.name == "ssl_verify_client" and x.args == ["optional_no_ca"]
                                   for x in d.block):
                kinds["renew"].append(d)
            else:
                kinds["tls" if is_tls(d) else "plain"].append(d)
        if len(kinds["tls"]) != 1 or any(len(v) > 1 for v in kinds.values()):
            raise ConfError("nginx.conf.in: %d TLS, %d plain-HTTP, %d internal and %d renewal server "
                            "blocks; routes.py models one TLS server and at most one of the others"
                            % (len(kinds["tls"]), len(kinds["plain"]), len(kinds["internal"]),
                               len(kinds["renew"])))
        self.public = Server("public server", kinds["tls"][0], http, upstreams)
        self.plain = Server("plain-HTTP listener", kinds["plain"][0], http, upstreams) \
            if kinds["plain"] else None
        self.internal = Server("internal listener", kinds["internal"][0], http, upstreams) \
            if kinds["internal"] else None
        self.renew = Server("renewal server", kinds["renew"][0], http, upstreams) \
            if kinds["renew"] else None


class Server:
    def __init__(self, name, d, http, upstreams):
        self.name = name
        self.upstreams = upstreams
        self.server = d.block
        self.locations = [Location(x, [self.server, http.block]) for x in self.server
                          if x.name == "location" and not x.args[0].startswith("@")]

    def select(self, uri):
        """(location or None, regex match or None, what nginx does instead)."""
        for loc in self.locations:
            if loc.mod == "=" and loc.arg == uri:
                return loc, None, None
        prefixes = [loc for loc in self.locations if loc.mod in ("", "^~")]
        if not any(loc.arg == uri for loc in prefixes):
            for loc in prefixes:
                if loc.auto_redirect and loc.arg == uri + "/":
                    return None, None, "a 301 to %s/ (%s)" % (uri, loc)
        best = None
        for loc in prefixes:
            if uri.startswith(loc.arg):
                if best is None or len(loc.arg) > len(best.arg):
                    best = loc
        if best is not None and best.mod == "^~":
            return best, None, None
        for loc in self.locations:
            if loc.rx is not None:
                m = loc.rx.search(uri)
                if m:
                    return loc, m, None
        return best, None, None if best else "no location (nginx's 404)"

    def service_of(self, loc, m):
        """The service a location passes to (for a match m of its regex), or an error string."""
        target = loc.passes
        if "$" in target:
            if m is None or re.search(r"\$(?![1-9])", target):
                return None, "fastcgi_pass %s: variable not modelled" % target
            target = re.sub(r"\$([1-9])", lambda g: m.group(int(g.group(1))) or "", target)
        sock = self.upstreams.get(target, target)
        hit = re.fullmatch(r"unix:@SOCK@/([a-z0-9_-]+)\.sock", sock or "")
        if hit is None:
            return None, "fastcgi_pass %s: not a service's socket" % target
        return hit.group(1), None

    def send(self, uri):
        """What nginx does with uri: (location, service, path the service sees, why not)."""
        loc, m, why = self.select(uri)
        if loc is None:
            return None, None, None, why
        if loc.unsupported:
            blocks = ", ".join(loc.unsupported)
            return loc, None, None, "%s holds %s blocks, not modelled" % (loc, blocks)
        if loc.passes is None:
            if loc.returns:
                what = "returns %s" % loc.returns.args[0]
            else:
                what = "serves files" if loc.files else "passes nowhere"
            return loc, None, None, "%s, which %s" % (loc, what)
        svc, err = self.service_of(loc, m)
        if svc is None:
            return loc, None, None, "%s: %s" % (loc, err)
        return loc, svc, loc.params.get("SHOMEI_ROUTE", uri), None


# --- the checks -----------------------------------------------------------------------------


def candidate_uris(ngx, routes, route=None):
    """URIs worth trying: route samples, then every location's own samples."""
    if route is not None:
        uris = [route.sample()]
    else:
        uris = [r.sample() for rs in routes.values() for r in rs]
    for loc in ngx.locations:
        if route is None or "SHOMEI_ROUTE" in loc.params:
            uris += loc.samples()
    return list(dict.fromkeys(uris))


def check_locations(ngx, routes, t):
    """Every location that passes to a service reaches a route of that service (of the kind its
    server serves: internal routes on the internal listener, the others on the public server)."""
    for srv in (ngx.public, ngx.internal):
        if srv is not None:
            check_server_locations(srv, routes, t)


def check_server_locations(ngx, routes, t):
    uris = candidate_uris(ngx, routes)
    for loc in ngx.locations:
        if loc.passes is None:  # nginx answers itself (return, files)
            continue
        sent = {}  # service -> {path the service sees: uri}
        errors = []
        for uri in uris:
            sel, svc, path, why = ngx.send(uri)
            if sel is not loc:
                continue
            if svc is None:
                errors.append(why)
            else:
                sent.setdefault(svc, {}).setdefault(path, uri)
        if not sent:
            t.ok(False, "%s (%s) is chosen for some request" % (loc, loc.where),
                 "\n".join(errors) or "every sample URI goes to another location")
            continue
        marked = loc.params.get("SHOMEI_LISTENER") == "internal"
        if ngx.name == "internal listener" and not marked:
            t.ok(False, "%s (%s): on the internal listener, passes SHOMEI_LISTENER internal" % (loc, loc.where))
            continue
        if ngx.name != "internal listener" and "SHOMEI_LISTENER" in loc.params:
            t.ok(False, "%s (%s): on the public server, passes no SHOMEI_LISTENER" % (loc, loc.where))
            continue
        for svc, paths in sorted(sent.items()):
            name = "%s (%s) -> %s" % (loc, loc.where, svc)
            if svc not in routes:
                t.ok(False, name + ": a service routes.py knows",
                     "services: %s" % ", ".join(SERVICES))
                continue
            hits = ["%s %s" % (r.method, r.pattern) for p in paths for r in routes[svc]
                    if r.matches(p) and (r.vis == "internal") == marked]
            if hits:
                t.ok(True, "%s: %s" % (name, ", ".join(dict.fromkeys(hits))))
            else:
                t.ok(False, "%s: no route of %s matches what nginx sends there (%s)"
                     % (name, svc, ", ".join(sorted(paths))))


def check_gate(ngx, loc):
    """Why a session route's location is not properly gated, or None."""
    if loc.gate is None:
        return "%s has no auth_request (authed.inc)" % loc
    missing = [p for p in ("SHOMEI_ADMIN_ID", "SHOMEI_TENANT_ID") if p not in loc.params]
    if missing:
        return "%s does not pass %s" % (loc, " ".join(missing))
    gate, svc, path, why = ngx.send(loc.gate)
    if svc is None:
        return "auth_request %s goes nowhere: %s" % (loc.gate, why)
    if not gate.internal:
        return "auth_request %s: %s is not internal" % (loc.gate, gate)
    return None


def check_internal_route(ngx, r, t):
    """An internal route: reached on the internal listener, never on the public server."""
    srv = ngx.internal
    if srv is None:
        t.ok(False, "%s: nginx.conf.in has an internal listener (listen unix:…)" % r)
        return
    loc, to, path, why = srv.send(r.sample())
    if to == r.svc and r.matches(path) and loc.params.get("SHOMEI_LISTENER") == "internal":
        t.ok(True, "%s: %s -> %s on the internal listener" % (r, r.sample(), loc))
    else:
        t.ok(False, "%s: %s on the internal listener goes to %s" % (r, r.sample(), why or "%s -> %s" % (loc, to)))
    loc, to, path, why = ngx.public.send(r.sample())
    t.ok(to is None or not r.matches(path) or to != r.svc,
         "%s: not on the public server (%s)" % (r, why or "%s -> %s" % (loc, to)))


def check_routes(ngx, routes, t):
    """Every route is reachable through nginx, with the gate its table asks for."""
    for svc in SERVICES:
        for r in routes.get(svc, []):
            if r.vis == "internal":
                check_internal_route(ngx, r, t)
                continue
            if ngx.internal is not None:
                _, to, path, _ = ngx.internal.send(r.sample())
                if to == svc and r.matches(path):
                    t.ok(False, "%s: the internal listener reaches a route that is not internal" % r)
            reached, first_why = None, None
            for uri in candidate_uris(ngx.public, routes, r):
                loc, to, path, why = ngx.public.send(uri)
                if to == svc and r.matches(path):
                    reached = (uri, loc)
                    break
                if first_why is None:
                    first_why = why or "%s -> %s, not %s" % (loc, to, svc)
            if reached is None:
                asked = ngx_healthz(ngx)
                if r.pattern == HEALTHZ and r.method == "*" and asked not in (None, svc):
                    t.skip(str(r), "nginx's /healthz asks %s; %s answers it on its socket"
                           % (asked, svc))
                    continue
                t.ok(False, "%s: %s goes to %s" % (r, r.sample(), first_why))
                continue
            uri, loc = reached
            name = "%s: %s -> %s" % (r, uri, loc)
            if r.vis == "session":
                why = check_gate(ngx.public, loc)
                if why is None:
                    t.ok(True, "%s, behind auth_request %s" % (name, loc.gate))
                else:
                    t.ok(False, "%s: %s" % (name, why))
            else:
                # Today no public route sits behind the gate: login, `me` (reads the
                # session itself), the gate's own /internal/auth, the download site
                # (its allow-list and login), /healthz and /metrics (nginx's allow/deny)
                # all decide for themselves. auth_request in front of one would refuse
                # with 401 before the service sees the request.
                if loc.gate is None:
                    t.ok(True, "%s, no session needed" % name)
                else:
                    t.ok(False, "%s: behind auth_request %s" % (name, loc.gate))


PLAIN_PREFIXES = ("/crl/", "/ca/", "/ocsp")
PLAIN_REFUSED = ("/", "/index.html", "/api/auth/login", "/api/certificates", "/api/users",
                 "/api/certificates/revoke", "/healthz", "/metrics/revoke", "/dl/demo/",
                 "/internal/auth", "/internal/revocations", "/js/app.js")


def check_plain(ngx, routes, t):
    """The plain-HTTP listener: revoke's public /crl/, /ca/, /ocsp routes, nothing else."""
    plain = [r for r in routes.get("revoke", []) if r.pattern.startswith(PLAIN_PREFIXES)]
    t.ok(bool(plain), "plain HTTP: shomei-revoke has routes under %s" % " ".join(PLAIN_PREFIXES))
    for r in plain:
        hit = None
        for uri in candidate_uris(ngx, routes, r):
            loc, to, path, why = ngx.send(uri)
            if to == "revoke" and r.matches(path):
                hit = (uri, loc)
                break
        if hit is None:
            t.ok(False, "plain HTTP: %s is reachable" % r)
        else:
            t.ok(hit[1].gate is None and r.vis == "public",
                 "plain HTTP: %s: %s -> %s, public" % (r, hit[0], hit[1]))
    for loc in ngx.locations:
        if loc.passes is None:
            continue
        svc, err = ngx.service_of(loc, None)
        t.ok(svc == "revoke" and loc.gate is None and loc.arg.startswith(PLAIN_PREFIXES),
             "plain HTTP: %s (%s) passes only to shomei-revoke under %s"
             % (loc, loc.where, " ".join(PLAIN_PREFIXES)), err)
    for uri in PLAIN_REFUSED:
        loc, svc, path, why = ngx.send(uri)
        t.ok(svc is None and (loc is None or loc.files is None or not loc.files),
             "plain HTTP: %s is answered by nginx itself (%s)" % (uri, why))


RENEW_REFUSED = ("/", "/index.html", "/api/auth/login", "/api/auth/login/certificate",
                 "/api/certificates", "/api/users", "/api/dl/demo/login",
                 "/api/dl/demo/certificates", "/api/dl/demo/certificate", "/healthz",
                 "/internal/auth", "/internal/revocations", "/js/app.js", "/dl/demo/")


def is_renew_route(r):
    return r.svc == "download" and re.fullmatch(r"/api/dl/\{tenant\}/renew(/.*)?", r.pattern)


def check_renew(ngx, public, routes, t):
    """The renewal server: download's /api/dl/{tenant}/renew routes with the client
    certificate, nothing else; the portal's server gives them no certificate."""
    renew = [r for r in routes.get("download", []) if is_renew_route(r)]
    t.ok(bool(renew), "renewal: shomei-download has routes under /api/dl/{tenant}/renew")
    for r in renew:
        loc, to, path, why = ngx.send(r.sample())
        if to != "download" or not r.matches(path):
            t.ok(False, "renewal: %s is reachable on the renewal server" % r, why)
            continue
        t.ok(loc.gate is None and r.vis == "public" and
             loc.params.get("SSL_CLIENT_CERT") == "$ssl_client_escaped_cert",
             "renewal: %s -> %s, public, with the client certificate" % (r, loc))
        ploc, pto, _, _ = public.send(r.sample())
        t.ok(ploc is None or "SSL_CLIENT_CERT" not in ploc.params,
             "renewal: the portal's server passes no client certificate to %s" % r)
    for loc in ngx.locations:
        if loc.passes is None:
            continue
        svc, err = ngx.service_of(loc, None)
        reached = [r for r in routes.get(svc or "", []) for u in loc.samples()
                   if r.matches(u)]
        t.ok(svc == "download" and loc.gate is None and reached and
             all(is_renew_route(r) for r in reached),
             "renewal: %s (%s) passes only to shomei-download's renewal routes" % (loc, loc.where),
             err)
    for uri in RENEW_REFUSED:
        loc, svc, path, why = ngx.send(uri)
        t.ok(svc is None, "renewal: %s is answered by nginx itself (%s)" % (uri, why))


def ngx_healthz(ngx):
    _, svc, _, _ = ngx.public.send(HEALTHZ)
    return svc


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: routes.py SOURCE_ROOT BUILD_DIR")
    root, build = sys.argv[1:]
    t = TAP()
    routes = load_routes(build, t)
    try:
        ngx = Nginx(root)
        if ngx.plain is None:
            raise ConfError("nginx.conf.in: no plain-HTTP server block")
    except (ConfError, OSError, re.error) as e:
        t.ok(False, "nginx/nginx.conf.in parses", str(e))
        t.done()
    try:
        check_locations(ngx, routes, t)
        check_routes(ngx, routes, t)
        check_plain(ngx.plain, routes, t)
        if ngx.renew is not None:
            check_renew(ngx.renew, ngx.public, routes, t)
    except (ConfError, re.error) as e:
        t.ok(False, "the checks ran", str(e))
    t.done()


if __name__ == "__main__":
    main()
