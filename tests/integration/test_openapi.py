#!/usr/bin/env python3
"""docs/openapi.json against the code: every route is described, and real answers fit the schemas."""
import glob
import json
import os
import re

from shomei_test import ROOT, TAP, Client



def load_spec():
    """docs/openapi.json plus the per-service fragments in docs/openapi/*.json (paths, schemas)."""
    spec = json.load(open(os.path.join(ROOT, "docs", "openapi.json"), encoding="utf-8"))
    for f in sorted(glob.glob(os.path.join(ROOT, "docs", "openapi", "*.json"))):
        frag = json.load(open(f, encoding="utf-8"))
        for p, ops in frag.get("paths", {}).items():
            spec["paths"].setdefault(p, {}).update(ops)
        spec["components"]["schemas"].update(frag.get("components", {}).get("schemas", {}))
        spec["components"]["responses"].update(frag.get("components", {}).get("responses", {}))
    return spec


SPEC = load_spec()


def resolve(node):
    while isinstance(node, dict) and "$ref" in node:
        cur = SPEC
        for part in node["$ref"].lstrip("#/").split("/"):
            cur = cur[part]
        node = cur
    return node


def check(value, schema, where="$"):
    """A small JSON-schema subset: type, nullable, required, properties, items, enum, pattern."""
    schema = resolve(schema)
    if value is None and schema.get("nullable"):
        return []
    errs = []
    types = {"object": dict, "array": list, "string": str, "boolean": bool}
    t = schema.get("type")
    if t == "integer":
        if not isinstance(value, int) or isinstance(value, bool):
            if not (isinstance(value, float) and value.is_integer()):
                return ["%s: not an integer" % where]
    elif t in types and not isinstance(value, types[t]):
        return ["%s: not a %s" % (where, t)]
    if "enum" in schema and value not in schema["enum"]:
        errs.append("%s: %r not in enum" % (where, value))
    if "pattern" in schema and isinstance(value, str) and not re.search(schema["pattern"], value):
        errs.append("%s: %r does not match %s" % (where, value, schema["pattern"]))
    if t == "object":
        for k in schema.get("required", []):
            if k not in value:
                errs.append("%s: missing %s" % (where, k))
        for k, sub in schema.get("properties", {}).items():
            if k in value:
                errs += check(value[k], sub, where + "." + k)
    if t == "array":
        for i, item in enumerate(value):
            errs += check(item, schema.get("items", {}), "%s[%d]" % (where, i))
    return errs


def code_routes():
    """Routes from the services' tables: (METHOD, path) for public /api paths."""
    routes = set()
    for f in glob.glob(os.path.join(ROOT, "services", "*", "main.c")):
        for m, p in re.findall(r'\{"(GET|POST|PUT|PATCH|DELETE|HEAD)", "(/[^"]*)"', open(f).read()):
            if not p.startswith("/internal/"):
                routes.add((m, p))
    return routes


def test_routes(t):
    spec = {(m.upper(), p) for p, ops in SPEC["paths"].items() for m in ops}
    code = code_routes() | {("GET", "/healthz")}
    t.ok(code - spec == set(), "every route the services serve is in docs/openapi.json", sorted(code - spec))
    t.ok(spec - code == set(), "every path in docs/openapi.json is served", sorted(spec - code))


def schema_of(path, method, status):
    op = SPEC["paths"][path][method]
    resp = resolve(op["responses"][str(status)])
    return resp["content"]["application/json"]["schema"]


def test_answers(t):
    c = Client()
    cases = []
    r = c.login()
    cases.append(("/api/auth/login", "post", r))
    cases.append(("/api/auth/login", "post", Client().login(password="wrongpass1")))
    cases.append(("/api/auth/login", "post", Client().post("/api/auth/login", {"login_id": 1})))
    cases.append(("/api/auth/me", "get", c.get("/api/auth/me")))
    cases.append(("/api/auth/me", "get", Client().get("/api/auth/me")))
    cases.append(("/api/audit", "get", c.get("/api/audit")))
    cases.append(("/api/audit", "get", c.get("/api/audit?from=bad")))
    cases.append(("/api/auth/password", "post", c.post("/api/auth/password", {})))
    cases.append(("/healthz", "get", Client().get("/healthz")))
    cases.append(("/api/auth/login/certificate", "post", Client().post("/api/auth/login/certificate")))
    cases.append(("/api/certificates", "get", c.get("/api/certificates?status=all")))
    cases.append(("/api/certificates", "get", c.get("/api/certificates?sort=bad")))
    cases.append(("/api/certificates/batch", "post", c.post("/api/certificates/batch", {"count": 0})))
    cases.append(("/api/certificates/{id}", "get", c.get("/api/certificates/999999999")))
    cases.append(("/api/certificates/revoke", "post", c.post("/api/certificates/revoke", {"ids": []})))
    cases.append(("/api/certificates/revoke", "post", c.post("/api/certificates/revoke", {"ids": [999999999]})))
    cases.append(("/api/certificates/revoke/cancel", "post",
                  c.post("/api/certificates/revoke/cancel", {"ids": [999999999]})))
    cases.append(("/crl/{file}", "get", Client().get("/crl/nosuch.crl")))
    cases.append(("/ca/{file}", "get", Client().get("/ca/nosuch.pem")))
    cases.append(("/api/auth/logout", "post", c.post("/api/auth/logout")))
    for path, method, r in cases:
        try:
            schema = schema_of(path, method, r.status)
        except KeyError:
            t.ok(False, "%s %s answered %d, which the spec does not list" % (method.upper(), path, r.status))
            continue
        errs = check(r.json(), schema)
        t.ok(not errs, "%s %s %d fits the schema" % (method.upper(), path, r.status), errs)


def main():
    t = TAP()
    t.run(test_routes)
    t.run(test_answers)
    t.done()


if __name__ == "__main__":
    main()
