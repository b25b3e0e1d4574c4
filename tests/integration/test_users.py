#!/usr/bin/env python3
"""shomei-users: the tenant summary, registering users with devices (every validation rule),
the user search, one user's GET and PATCH, features, quota and tenant isolation."""
import datetime
import random
import threading

from shomei_test import TAP, UP, Client, ctl, psql, wait_until

JST = datetime.timezone(datetime.timedelta(hours=9))
TAG = "ut" + "".join(random.choice("abcdefghijkmnpqrstuvwxyz23456789") for _ in range(8))
PW = "Users2test1"


def login_tenant(slug, features, quota):
    """A tenant with the given features and its administrator, logged in (a reused stack keeps both)."""
    args = ["tenant", "create", "--slug", slug, "--name", "利用者テスト" + slug, "--name-en",
            "Users Test " + slug, "--quota", str(quota)]
    if features:
        args += ["--features", features]
    ctl(*args)
    # a reused stack: the quota on top of what earlier runs issued
    used = psql("SELECT count(*) FROM certificates c JOIN tenants t ON t.id = c.tenant_id WHERE t.slug = :'p1'"
                " AND c.status IN ('issuing', 'issued', 'downloaded', 'revoke_scheduled')", slug)
    ctl("tenant", "set", "--slug", slug, "--quota", str(int(used) + quota))
    ctl("admin", "create", "--tenant", slug, "--login-id", slug + "-admin", "--password", PW)
    c = Client()
    r = c.login(slug + "-admin", PW)
    if r.status != 200:
        raise RuntimeError("login %s: %d %s" % (slug, r.status, r.body[:200]))
    return c, int(psql("SELECT id FROM tenants WHERE slug = :'p1'", slug))


def counts(tid):
    return psql("SELECT (SELECT count(*) FROM users WHERE tenant_id = :p1),"
                " (SELECT count(*) FROM devices WHERE tenant_id = :p1),"
                " (SELECT count(*) FROM certificates WHERE tenant_id = :p1),"
                " (SELECT count(*) FROM audit WHERE tenant_id = :p1"
                "  AND action IN ('user_register', 'user_update'))", tid)


def plus(counted, *deltas):
    return "|".join(str(int(x) + d) for x, d in zip(counted.split("|"), deltas))


def day(n, with_time=None):
    d = datetime.datetime.now(JST).date() + datetime.timedelta(days=n)
    return d.strftime("%Y/%m/%d") + (" " + with_time if with_time else "")


def body(suffix, devices=None, **over):
    b = {"family_name": "山田", "given_name": "太郎", "family_name_kana": "ヤマダ",
         "given_name_kana": "タロウ", "family_name_en": "Yamada", "given_name_en": "Taro",
         "email": "%s-%s@example.com" % (TAG, suffix), "devices": devices or [{"device": "01"}]}
    b.update(over)
    return b


def dev(**kw):
    """A body whose one device has these settings."""
    d = {"device": "01"}
    d.update(kw)
    return body("x", devices=[d])


def without(key):
    b = body("x")
    del b[key]
    return b


def fields_of(r):
    return [f.get("field") for f in ((r.json() or {}).get("error") or {}).get("fields") or []]


def message_of(r, field):
    for f in ((r.json() or {}).get("error") or {}).get("fields") or []:
        if f.get("field") == field:
            return f.get("message")
    return None


class Ctx:
    pass


X = Ctx()


def setup():
    X.demo = Client()
    X.demo.login()
    X.demo_tid = int(psql("SELECT id FROM tenants WHERE slug = :'p1'", UP["tenant"]))
    X.full, X.full_tid = login_tenant("ut-full", "validity_period,org_units,install_restriction,"
                                      "download_site,admin_may_issue,notify_users", 100000)
    # dates years ahead below (the CA's notAfter): the allowance for a start ahead at its widest
    ctl("tenant", "set", "--slug", "ut-full", "--start-ahead-days", "3650")
    X.basic, X.basic_tid = login_tenant("ut-basic", "admin_may_issue", 10)
    X.none, X.none_tid = login_tenant("ut-none", "", 10)


def register(c, b, name):
    r = c.post("/api/users", b)
    if r.status != 202:
        raise RuntimeError("%s: %d %s" % (name, r.status, r.body[:800]))
    return r.json()


def tenant_doc(c):
    r = c.get("/api/tenant")
    return r.status, r.json() or {}


def test_tenant_summary(t):
    st, doc = tenant_doc(X.demo)
    t.eq(st, 200, "GET /api/tenant answers 200")
    q = int(psql("SELECT quota FROM tenants WHERE id = :p1", X.demo_tid))
    t.eq(doc.get("quota"), q, "quota (契約数) is the tenant's (50 on a fresh stack)")
    issued = int(psql("SELECT count(*) FROM certificates WHERE tenant_id = :p1 AND status IN"
                      " ('issuing', 'issued', 'downloaded', 'revoke_scheduled')", X.demo_tid))
    t.eq(doc.get("issued"), issued, "issued (発行数) counts issuing, issued, downloaded, revoke_scheduled")
    t.eq(doc.get("available"), max(q - issued, 0), "available (追加発行可能数) is quota - issued")
    t.eq((doc.get("slug"), doc.get("name"), doc.get("name_en"), doc.get("organization")),
         (UP["tenant"], "令和証明書サービス", "Reiwa Cert Service", "本社"), "names and organization 本社")
    t.ok(set(doc.get("features", [])) >= {"validity_period", "org_units", "install_restriction",
                                          "admin_may_issue"}, "demo features listed", doc.get("features"))
    t.ok(doc.get("key_type") in ("rsa2048", "rsa3072", "p256") and isinstance(doc.get("p12_compat"), bool)
         and isinstance(doc.get("notify_users"), bool) and isinstance(doc.get("download_allowlist"), list)
         and doc.get("default_validity_days") == 365 and doc.get("max_validity_days") == 1825
         and isinstance(doc.get("issuing"), int), "settings: key_type, p12_compat, validity days, allow-list", doc)
    if doc.get("available", 0) < 2:
        ctl("tenant", "set", "--slug", UP["tenant"], "--quota", str(issued + 10))
        st, doc = tenant_doc(X.demo)
    res = register(X.demo, body("demo", devices=[{"device": "01"}, {"device": "11"}]), "demo registration")
    st, after = tenant_doc(X.demo)
    t.eq((after.get("issued"), after.get("available")), (doc["issued"] + 2, doc["available"] - 2),
         "registering two devices moves issued +2 and available -2")
    X.demo_user = res["user"]
    _, none = tenant_doc(X.none)
    t.eq((none.get("issued"), none.get("features")), (0, []), "a tenant without features lists none")
    r = Client().get("/api/tenant")
    t.eq(r.status, 401, "GET /api/tenant without a session answers 401")


def test_register(t):
    before = counts(X.full_tid)
    b = body("reg", devices=[{"device": "01", "restriction": {"mode": "and", "mac": "001122aabbcc",
                                                                 "computer": "test-host", "login_user": "山田太郎",
                                                                 "bios_serial": "aaaaaaaaaaaa"},
                              "valid_from": day(10), "valid_to": day(100, "18:30"),
                              "o": "Example Corp", "ou1": "Sales", "ou2": "Tokyo"},
                             {"device": "11", "email": "%s-sub@example.com" % TAG}])
    r = X.full.post("/api/users", b)
    t.eq(r.status, 202, "registration answers 202", r.body[:800])
    doc = r.json() or {}
    certs = doc.get("certificates", [])
    t.eq([(c.get("device"), c.get("device_label"), c.get("status"), c.get("cn"), c.get("email")) for c in certs],
         [("01", "WindowsPC", "issuing", "Yamada Taro", "%s-reg@example.com" % TAG),
          ("11", "iOS(iPhone)", "issuing", "Yamada Taro", "%s-sub@example.com" % TAG)],
         "two devices give two issuing certificates (CN from the English names, the サブメール)")
    u = doc.get("user", {})
    t.eq((u.get("family_name"), u.get("email"), u.get("organization")),
         ("山田", "%s-reg@example.com" % TAG, "本社"), "the answer carries the user, in 本社")
    t.eq(counts(X.full_tid), plus(before, 1, 2, 2, 1), "one user, two devices, two certificates, one history entry")
    uid = u.get("id")
    row = psql("SELECT c.key_type = t.key_type, c.requested_by = a.id, c.requested_ip IS NOT NULL,"
               " c.status IN ('issuing', 'issued') FROM certificates c JOIN tenants t ON t.id = c.tenant_id"
               " JOIN admins a ON a.login_id = 'ut-full-admin' WHERE c.user_id = :p1 ORDER BY c.id", uid)
    t.eq(row, "t|t|t|t\nt|t|t|t", "certificates carry the tenant's key type, the requesting admin and address")
    detail = "山田 太郎 (%s-reg@example.com): WindowsPC, iOS(iPhone)" % TAG
    same = psql("SELECT count(*) FROM audit a JOIN users u ON u.id = :p1 WHERE a.tenant_id = u.tenant_id"
                " AND a.action = 'user_register' AND a.detail = :'p2' AND a.at = u.created_at"
                " AND a.actor_kind = 'admin' AND a.ip IS NOT NULL", uid, detail)
    t.eq(same, "1", "history entry user_register with the detail, written in the same transaction")
    h = X.full.get("/api/audit?action=user_register").json() or {}
    t.ok(any(i.get("detail") == detail and i.get("action_label") == "利用者登録" for i in h.get("items", [])),
         "the history API shows 利用者登録 with the detail")
    g = X.full.get("/api/users/%d" % uid)
    t.eq(g.status, 200, "GET /api/users/{id} answers 200")
    gd = g.json() or {}
    d0, d1 = (gd.get("devices") or [{}, {}])[:2]
    t.eq((d0.get("device"), d0.get("valid_from"), d0.get("valid_to"), d0.get("o"), d0.get("ou1"), d0.get("ou2")),
         ("01", day(10, "00:00"), day(100, "18:30"), "Example Corp", "Sales", "Tokyo"),
         "device 01 keeps its validity (JST) and O/OU1/OU2")
    t.eq(d0.get("restriction"), {"mode": "and", "mac": "001122AABBCC", "computer": "test-host",
                                 "login_user": "山田太郎", "bios_serial": "aaaaaaaaaaaa"},
         "device 01 keeps its install restriction (MAC in upper case)")
    t.eq((d1.get("device"), d1.get("email"), d1.get("valid_from"), d1.get("restriction", {}).get("mode")),
         ("11", "%s-sub@example.com" % TAG, None, "none"), "device 11: its サブメール, no period, no restriction")
    t.eq(len(gd.get("certificates", [])), 2, "GET lists the user's certificates")
    stored = psql("SELECT valid_from = :'p2'::timestamptz, valid_to = :'p3'::timestamptz FROM devices"
                  " WHERE user_id = :p1 AND device_code = '01'", uid,
                  day(10).replace("/", "-") + " 00:00+09", day(100).replace("/", "-") + " 18:30+09")
    t.eq(stored, "t|t", "validity stored as JST instants")
    # a date alone as To means the end of that day
    r = X.full.post("/api/users", body("dateonly", devices=[{"device": "20", "valid_to": day(30)}]))
    t.eq(r.status, 202, "valid_to as a date alone accepted", r.body[:300])
    uid2 = (r.json() or {}).get("user", {}).get("id")
    t.eq(psql("SELECT valid_to = :'p2'::timestamptz, valid_from IS NULL FROM devices WHERE user_id = :p1",
              uid2, day(30).replace("/", "-") + " 23:59:59+09"), "t|t", "a date alone as To is 23:59:59 JST")
    # boundaries that pass
    five = [{"device": c} for c in ("01", "11", "12", "20", "99")]
    r = X.full.post("/api/users", body("five", devices=five))
    t.eq((r.status, len((r.json() or {}).get("certificates", []))), (202, 5), "five devices, one of each code")
    long_b = body("long", family_name="山" * 50, given_name="太" * 50, family_name_kana="ア" * 50,
                  given_name_kana="イ" * 50, family_name_en="A" * 50, given_name_en="B" * 13,
                  email="a" * 64 + "@" + "b" * 33 + "." + TAG + "-long.example.com")
    r = X.full.post("/api/users", long_b)
    t.eq(r.status, 202, "50-character names, a 64-character CN and a long e-mail accepted", r.body[:500])
    r = X.full.post("/api/users", body("kana", family_name_kana="ヴァン\u3000デル", given_name_kana="ター",
                                       family_name_en="O'Brien-Smith Jr.", given_name_en="Jean Luc"))
    t.eq(r.status, 202, "katakana with ー and full-width space, English with ' - . and space accepted",
         r.body[:500])
    r = X.full.post("/api/users", body("span", devices=[{"device": "01", "valid_from": day(1),
                                                          "valid_to": day(1 + 1824)}]))
    t.eq(r.status, 202, "a period just inside max_validity_days accepted", r.body[:300])


LONG65 = "a" * 65


def invalid_cases():
    """(name, body, field) for every rule and each way to break it, on a tenant with every feature."""
    cases = []
    names = ("family_name", "given_name", "family_name_kana", "given_name_kana", "family_name_en",
             "given_name_en", "email")
    for k in names:
        cases.append(("%s missing" % k, without(k), k))
        cases.append(("%s empty" % k, body("x", **{k: ""}), k))
        cases.append(("%s whitespace only" % k, body("x", **{k: " "}), k))
        cases.append(("%s not a string" % k, body("x", **{k: 5}), k))
        cases.append(("%s null" % k, body("x", **{k: None}), k))
    for k in ("family_name", "given_name"):
        cases.append(("%s 51 characters" % k, body("x", **{k: "山" * 51}), k))
        cases.append(("%s control character" % k, body("x", **{k: "山\n田"}), k))
        cases.append(("%s full-width space only" % k, body("x", **{k: "\u3000"}), k))
        cases.append(("%s leading space" % k, body("x", **{k: " 山田"}), k))
    for k in ("family_name_kana", "given_name_kana"):
        for v, why in (("やまだ", "hiragana"), ("ﾔﾏﾀﾞ", "half-width katakana"), ("山田", "kanji"),
                       ("Yamada", "latin"), ("ヤマ ダ", "ASCII space"), ("ヤマダ・タロウ", "middle dot"),
                       ("ア" * 51, "51 characters"), ("\u3000", "full-width space only")):
            cases.append(("%s %s" % (k, why), body("x", **{k: v}), k))
    for k in ("family_name_en", "given_name_en"):
        for v, why in (("Yamada1", "digit"), ("山田", "kanji"), ("Ｙａｍａｄａ", "full-width letters"),
                       ("Yama_da", "underscore"), ("Yama,da", "comma"), (" Yamada", "leading space"),
                       ("-Yamada", "starting with a symbol"), ("A" * 51, "51 characters")):
            cases.append(("%s %s" % (k, why), body("x", **{k: v}), k))
    cases.append(("CN over 64 characters", body("x", family_name_en="A" * 50, given_name_en="B" * 14),
                  "given_name_en"))
    bad_mails = (("yamada+taro@example.com", "plus sign"), ("yamada@example", "domain without a dot"),
                 ("yamada.example.com", "no @"), ("ya@mada@example.com", "two @"),
                 ("@example.com", "empty local part"), ("yamada@.example.com", "empty label"),
                 ("yamada@example..com", "empty label inside"), ("yamada@exa_mple.com", "underscore in domain"),
                 ("山田@example.com", "kanji"), ("yama da@example.com", "space"),
                 (" yamada@example.com", "leading space"), ("yamada!@example.com", "exclamation mark"),
                 ("a" * 64 + "@" + "b" * 60 + ".com", "129 characters"))
    for v, why in bad_mails:
        cases.append(("email %s" % why, body("x", email=v), "email"))
        cases.append(("device email %s" % why, dev(email=v), "devices[0].email"))
    # devices
    cases.append(("devices missing", without("devices"), "devices"))
    cases.append(("devices null", body("x", devices=None) | {"devices": None}, "devices"))
    cases.append(("devices empty", body("x") | {"devices": []}, "devices"))
    cases.append(("devices not a list", body("x") | {"devices": "01"}, "devices"))
    cases.append(("six devices", body("x") | {"devices": [{"device": c} for c in
                                                          ("01", "11", "12", "20", "99", "01")]}, "devices"))
    cases.append(("device not an object", body("x") | {"devices": ["01"]}, "devices[0]"))
    cases.append(("device code missing", body("x") | {"devices": [{"email": "a@b.jp"}]}, "devices[0].device"))
    for v in ("02", "1", "010", "", "WindowsPC", 1):
        cases.append(("device code %r" % (v,), body("x") | {"devices": [{"device": v}]}, "devices[0].device"))
    cases.append(("device code twice", body("x") | {"devices": [{"device": "11"}, {"device": "11"}]},
                  "devices[1].device"))
    # validity
    for k in ("valid_from", "valid_to"):
        for v in ("2027-01-01", "2027/13/01", "2027/02/30", "2027/1/1", "2027/01/01 24:00", "2027/01/01 9:00",
                  "2027/01/01T09:00", "2027/01/01 09:00:00", "tomorrow", 20270101):
            cases.append(("%s %r" % (k, v), dev(**{k: v}), "devices[0].%s" % k))
    cases.append(("From after To", dev(valid_from=day(20), valid_to=day(10)), "devices[0].valid_from"))
    cases.append(("From equal to To", dev(valid_from=day(10, "10:00"), valid_to=day(10, "10:00")),
                  "devices[0].valid_from"))
    cases.append(("To in the past", dev(valid_to=day(-1)), "devices[0].valid_to"))
    cases.append(("To in the past with a From", dev(valid_from=day(-10), valid_to=day(-2, "23:00")),
                  "devices[0].valid_to"))
    cases.append(("From so old the default validity has ended", dev(valid_from=day(-400)),
                  "devices[0].valid_from"))
    cases.append(("period longer than max_validity_days", dev(valid_from=day(1), valid_to=day(1 + 1825)),
                  "devices[0].valid_to"))
    cases.append(("To after the CA's own end", dev(valid_from=day(365 * 9), valid_to=day(365 * 9 + 1000)),
                  "devices[0].valid_to"))
    cases.append(("second device's To in the past", body("x") | {"devices": [
        {"device": "01"}, {"device": "11", "valid_to": day(-3)}]}, "devices[1].valid_to"))
    # O / OU
    for k in ("o", "ou1", "ou2"):
        cases.append(("%s not ASCII" % k, dev(**{k: "営業部"}), "devices[0].%s" % k))
        cases.append(("%s 65 characters" % k, dev(**{k: LONG65}), "devices[0].%s" % k))
        cases.append(("%s control character" % k, dev(**{k: "a\tb"}), "devices[0].%s" % k))
        cases.append(("%s leading space" % k, dev(**{k: " Sales"}), "devices[0].%s" % k))
    # install restriction
    cases.append(("restriction on iPhone", body("x") | {"devices": [{"device": "11", "restriction": {"mode": "none"}}]},
                  "devices[0].restriction"))
    cases.append(("restriction on Android", body("x") | {"devices": [
        {"device": "20", "restriction": {"mode": "or", "mac": "001122AABBCC"}}]}, "devices[0].restriction"))
    cases.append(("restriction not an object", dev(restriction="and"), "devices[0].restriction"))
    cases.append(("restriction mode missing", dev(restriction={"mac": "001122AABBCC"}),
                  "devices[0].restriction.mode"))
    for v in ("xor", "AND", "", 1):
        cases.append(("restriction mode %r" % (v,), dev(restriction={"mode": v, "mac": "001122AABBCC"}),
                      "devices[0].restriction.mode"))
    for v, why in (("00:11:22:AA:BB:CC", "colons"), ("00-11-22-AA-BB-CC", "hyphens"), ("00112233445", "11 digits"),
                   ("0011223344556", "13 digits"), ("00112233445G", "not hex"), ("００１１２２ＡＡＢＢＣＣ", "full-width")):
        cases.append(("MAC %s" % why, dev(restriction={"mode": "or", "mac": v}), "devices[0].restriction.mac"))
    for k in ("computer", "login_user", "bios_serial"):
        cases.append(("%s 65 characters" % k, dev(restriction={"mode": "or", k: LONG65}),
                      "devices[0].restriction.%s" % k))
        cases.append(("%s control character" % k, dev(restriction={"mode": "or", k: "a\nb"}),
                      "devices[0].restriction.%s" % k))
    for m in ("or", "and"):
        cases.append(("mode %s without items" % m, dev(restriction={"mode": m}), "devices[0].restriction"))
        cases.append(("mode %s with empty items" % m, dev(restriction={"mode": m, "mac": "", "computer": ""}),
                      "devices[0].restriction"))
    return cases


def refused(t, c, tid, name, b, field, status=422):
    before = counts(tid)
    r = c.post("/api/users", b)
    t.ok(r.status == status and (field is None or field in fields_of(r)),
         "%s: %d naming %s" % (name, status, field), "%d %s" % (r.status, r.body[:600].decode("utf-8", "replace")))
    t.eq(counts(tid), before, "%s: nothing written" % name)
    return r


def test_validation(t):
    for name, b, field in invalid_cases():
        refused(t, X.full, X.full_tid, name, b, field)
    r = X.full.post("/api/users", dev(valid_from=day(1), valid_to=day(1 + 1825)))
    t.eq(message_of(r, "devices[0].valid_to"), "証明書の有効期間が上限を超えています。上限（日数）: 1825",
         "the span message gives max_validity_days")
    r = X.full.post("/api/users", dev(valid_from=day(365 * 9), valid_to=day(365 * 9 + 1000)))
    t.eq(message_of(r, "devices[0].valid_to"), "証明書有効期限が認証局の有効期限を超えています。",
         "an end after the tenant CA's notAfter is refused")
    # how far ahead a validity may start: the tenant's allowance (shomeictl tenant set)
    ctl("tenant", "set", "--slug", "ut-full", "--start-ahead-days", "30")
    try:
        refused(t, X.full, X.full_tid, "valid_from 31 days ahead, allowance 30",
                dev(valid_from=day(31), valid_to=day(100)), "devices[0].valid_from")
        r = X.full.post("/api/users", dev(valid_from=day(31), valid_to=day(100)))
        t.eq(message_of(r, "devices[0].valid_from"), "証明書有効期限(From)が先すぎます。現在から指定できる日数: 30",
             "the message gives the allowance")
        doc = tenant_doc(X.full)[1]
        t.eq(doc.get("max_start_ahead_days"), 30, "GET /api/tenant tells the allowance")
        b = dev(valid_from=day(29), valid_to=day(100))
        b["email"] = "%s-ahead29@example.com" % TAG
        r = X.full.post("/api/users", b)
        t.eq(r.status, 202, "valid_from 29 days ahead is accepted", r.body[:300])
    finally:
        ctl("tenant", "set", "--slug", "ut-full", "--start-ahead-days", "3650")
    p = ctl("tenant", "set", "--slug", "ut-full", "--start-ahead-days", "3651", check=False)
    t.ok(p.returncode == 2 and "0 to 3650" in p.stderr, "shomeictl refuses an allowance past 3650 days", p.stderr)
    # all at once: every failing field is named
    b = body("x", family_name="", family_name_kana="やまだ", given_name_en="Taro1", email="a+b@example.com")
    b["devices"] = [{"device": "01", "valid_from": "2027-01-01", "o": "営業", "restriction": {"mode": "or", "mac": "zz"}},
                    {"device": "11", "valid_to": day(-1)}, {"device": "11"}]
    r = refused(t, X.full, X.full_tid, "many errors at once", b, "family_name")
    t.eq(sorted(fields_of(r)), sorted(["family_name", "family_name_kana", "given_name_en", "email",
                                       "devices[0].valid_from", "devices[0].o", "devices[0].restriction.mac",
                                       "devices[1].valid_to", "devices[2].device"]),
         "every failing field is reported together")
    t.eq((r.json() or {}).get("error", {}).get("code"), "validation_failed", "error code validation_failed")
    t.eq(message_of(r, "family_name_kana"), "フリガナは全角カタカナ50文字以内で入力してください。",
         "messages in Japanese")
    en = Client(lang="en")
    en.cookie, en.csrf = X.full.cookie, X.full.csrf
    r = en.post("/api/users", body("x", email="a+b@example.com"))
    t.ok("the only symbols allowed are . _ and -" in (message_of(r, "email") or ""),
         "messages in English with Accept-Language en", message_of(r, "email"))
    before = counts(X.full_tid)
    r = X.full.post("/api/users", raw=b"{\"family_name\": ", headers={"Content-Type": "application/json"})
    t.eq(r.status, 400, "a body that is not JSON answers 400")
    r = X.full.post("/api/users", raw=b"[1, 2]", headers={"Content-Type": "application/json"})
    t.eq(r.status, 400, "a JSON array answers 400")
    t.eq(counts(X.full_tid), before, "bad JSON writes nothing")


def test_device_pair(t):
    """No two devices with the same (e-mail, device code) among a tenant's users not deleted."""
    def pb(suffix, devices=None):
        # e-mails outside TAG's, which test_paging counts
        return body(suffix, devices, email="pr%s-%s@example.com" % (TAG[2:], suffix))
    mail = "pr%s-a@example.com" % TAG[2:]
    a = register(X.full, pb("a"), "user A")
    r = refused(t, X.full, X.full_tid, "another user, a device with A's e-mail and code 01",
                pb("b", devices=[{"device": "11"}, {"device": "01", "email": mail}]), "devices[1].email")
    t.eq(fields_of(r), ["devices[1].email"], "only that device's e-mail is named")
    t.eq(message_of(r, "devices[1].email"), "このメールアドレスと利用デバイスの組み合わせはすでに登録されています。",
         "the message in Japanese")
    en = Client(lang="en")
    en.cookie, en.csrf = X.full.cookie, X.full.csrf
    r = refused(t, en, X.full_tid, "the same in English",
                pb("b", devices=[{"device": "01", "email": mail}]), "devices[0].email")
    t.eq(message_of(r, "devices[0].email"),
         "A device with this e-mail address and device type is already registered.", "the message in English")
    refused(t, X.full, X.full_tid, "the e-mail in other letter case",
            pb("b", devices=[{"device": "01", "email": mail.upper()}]), "devices[0].email")
    refused(t, X.full, X.full_tid, "the user's own e-mail is the device's when it has none",
            pb("a", devices=[{"device": "01"}]), "devices[0].email")
    refused(t, X.full, X.full_tid, "the same pair twice in one request",
            pb("c", devices=[{"device": "20"}, {"device": "20"}]), "devices[1].device")
    before = counts(X.full_tid)
    register(X.full, pb("b", devices=[{"device": "11", "email": mail}]), "A's e-mail, another code")
    t.eq(counts(X.full_tid), plus(before, 1, 1, 1, 1), "A's e-mail with another device code is registered")
    r = X.basic.post("/api/users", pb("a"))
    t.eq(r.status, 202, "the same pair in another tenant is registered")
    psql("UPDATE users SET deleted_at = now() WHERE id = :'p1'", a["user"]["id"])
    before = counts(X.full_tid)
    register(X.full, pb("d", devices=[{"device": "01", "email": mail}]), "after A's deletion")
    t.eq(counts(X.full_tid), plus(before, 1, 1, 1, 1), "once A is deleted, its pair may be registered again")


def test_features(t):
    feature_msgs = {"valid_from": "この利用法人は期間指定のサービスを利用していません。",
                    "valid_to": "この利用法人は期間指定のサービスを利用していません。",
                    "o": "この利用法人は O、OU 指定のサービスを利用していません。",
                    "ou1": "この利用法人は O、OU 指定のサービスを利用していません。",
                    "ou2": "この利用法人は O、OU 指定のサービスを利用していません。",
                    "restriction": "この利用法人はインストール制限のサービスを利用していません。"}
    values = {"valid_from": day(1), "valid_to": day(30), "o": "Example", "ou1": "Sales", "ou2": "Tokyo",
              "restriction": {"mode": "none"}}
    for k, msg in feature_msgs.items():
        r = refused(t, X.basic, X.basic_tid, "without the feature, %s" % k, dev(**{k: values[k]}),
                    "devices[0].%s" % k)
        t.eq(message_of(r, "devices[0].%s" % k), msg, "the message names the missing service (%s)" % k)
    r = refused(t, X.basic, X.basic_tid, "without the feature, a bad date still names the service",
                dev(valid_to="bad"), "devices[0].valid_to")
    t.eq(message_of(r, "devices[0].valid_to"), feature_msgs["valid_to"], "a feature's field is refused first")
    before = counts(X.basic_tid)
    r = X.basic.post("/api/users", dev(valid_from="", o="", restriction=None))
    t.eq(r.status, 202, "empty and null feature fields are not 'given'", r.body[:400])
    t.ok(counts(X.basic_tid) != before, "a tenant with admin_may_issue only can register")
    en = Client(lang="en")
    en.cookie, en.csrf = X.basic.cookie, X.basic.csrf
    r = en.post("/api/users", dev(valid_from=day(1)))
    t.eq(message_of(r, "devices[0].valid_from"), "This tenant does not have the validity period service.",
         "the feature message in English")
    r = refused(t, X.none, X.none_tid, "tenant without admin_may_issue", body("none"), None, status=403)
    t.eq((r.json() or {}).get("error", {}).get("code"), "issue_not_allowed", "403 code issue_not_allowed")


def test_quota(t):
    issued = int(psql("SELECT count(*) FROM certificates WHERE tenant_id = :p1 AND status IN"
                      " ('issuing', 'issued', 'downloaded', 'revoke_scheduled')", X.basic_tid))
    ctl("tenant", "set", "--slug", "ut-basic", "--quota", str(issued + 1))
    try:
        r = refused(t, X.basic, X.basic_tid, "two devices with one certificate left",
                    body("quota", devices=[{"device": "01"}, {"device": "11"}]), "devices")
        msg = message_of(r, "devices") or ""
        t.ok(msg.startswith("追加発行可能数を超えています。") and msg.endswith(" 1"),
             "the quota message gives the remaining count", msg)
        _, doc = tenant_doc(X.basic)
        t.eq((doc.get("issued"), doc.get("available")), (issued, 1), "no quota taken")
        r = refused(t, X.basic, X.basic_tid, "quota and a bad field together",
                    body("quota", email="bad", devices=[{"device": "01"}, {"device": "11"}]), "email")
        t.ok("devices" in fields_of(r), "the quota error comes with the field errors", fields_of(r))
        r = X.basic.post("/api/users", body("quota1"))
        t.eq(r.status, 202, "one device with one certificate left is accepted")
        _, doc = tenant_doc(X.basic)
        t.eq(doc.get("available"), 0, "available is now 0")
        refused(t, X.basic, X.basic_tid, "one device with none left", body("quota2"), "devices")
        # eight at once for the last certificate: the tenant lock lets exactly one through
        ctl("tenant", "set", "--slug", "ut-basic", "--quota", str(issued + 2))
        results = []

        def one(i):
            c = Client()
            c.cookie, c.csrf = X.basic.cookie, X.basic.csrf
            results.append(c.post("/api/users", body("race%d" % i)).status)
        threads = [threading.Thread(target=one, args=(i,)) for i in range(8)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        t.eq(sorted(results), [202] + [422] * 7, "concurrent registrations for the last certificate: one wins")
        _, doc = tenant_doc(X.basic)
        t.eq((doc.get("issued"), doc.get("available")), (issued + 2, 0), "the quota is never exceeded")
        ctl("tenant", "set", "--slug", "ut-basic", "--quota", "0")
        _, doc = tenant_doc(X.basic)
        t.eq(doc.get("available"), 0, "available never goes below 0")
    finally:
        ctl("tenant", "set", "--slug", "ut-basic", "--quota", "1000")


def set_state(t):
    """Three users for the search, their certificates put in known states (as workers and revocation would)."""
    a = register(X.full, body("qa", devices=[{"device": "01"}, {"device": "11"}]), "user A")
    b = register(X.full, body("qb", family_name="佐藤", given_name="花子", family_name_kana="サトウ",
                              given_name_kana="ハナコ", family_name_en="Sato", given_name_en="Hanako",
                              devices=[{"device": "20", "email": "%s-qsubb@example.net" % TAG}]), "user B")
    c = register(X.full, body("qc", family_name="鈴木", given_name="一郎", family_name_kana="スズキ",
                              given_name_kana="イチロウ", family_name_en="Suzuki", given_name_en="Ichiro",
                              devices=[{"device": "99"}, {"device": "12"}]), "user C")
    ids = [x["id"] for u in (a, b, c) for x in u["certificates"]]
    # let running workers finish first (they are not needed: the states are then set directly)
    wait_until(lambda: psql("SELECT count(*) FROM certificates WHERE id = ANY (:'p1'::bigint[])"
                            " AND status = 'issuing'", "{%s}" % ",".join(map(str, ids))) == "0", 8)
    cert = {(u["user"]["family_name_en"], x["device"]): x["id"] for u in (a, b, c) for x in u["certificates"]}
    for key, status, issued, expires, revoked in (
            (("Yamada", "01"), "issued", "2030-01-10 00:30+09", "2031-01-10 00:30+09", None),
            (("Yamada", "11"), "issued", "2030-01-05 09:00+09", "2031-01-05 09:00+09", None),
            (("Sato", "20"), "downloaded", "2030-02-10 12:00+09", "2031-02-10 12:00+09", None),
            (("Suzuki", "12"), "revoked", "2030-03-10 12:00+09", "2031-03-10 12:00+09", "2030-04-01 10:00+09"),
            (("Suzuki", "99"), "failed", None, None, None)):
        psql("UPDATE certificates SET status = :'p2', issued_at = NULLIF(:'p3', '')::timestamptz,"
             " not_after = NULLIF(:'p4', '')::timestamptz, revoked_at = NULLIF(:'p5', '')::timestamptz,"
             " serial = CASE WHEN :'p3' = '' THEN NULL ELSE md5(id::text) END WHERE id = :p1",
             cert[key], status, issued or "", expires or "", revoked or "")
    for u, applied in ((a, "2029-12-01 10:00+09"), (b, "2029-12-15 23:30+09"), (c, "2030-01-05 00:10+09")):
        psql("UPDATE users SET applied_at = :'p2' WHERE id = :p1", u["user"]["id"], applied)
    X.ids = {"A": a["user"]["id"], "B": b["user"]["id"], "C": c["user"]["id"]}


def names(r):
    inv = {v: k for k, v in X.ids.items()}
    return [inv.get(i.get("id"), "?") for i in (r.json() or {}).get("items", [])]


def test_search(t):
    set_state(t)
    s = "email=%s-q" % TAG

    def q(query, want, name, sort=True):
        r = X.full.get("/api/users?" + s + ("&" + query if query else ""))
        got = names(r)
        t.eq((r.status, sorted(got) if sort else got), (200, sorted(want) if sort else want), name)
        return r

    r = q("", ["A", "B", "C"], "e-mail partial match finds the three")
    doc = r.json() or {}
    t.eq((doc.get("total"), doc.get("page"), doc.get("per_page")), (3, 1, 100), "total, page, per_page")
    item = next((i for i in doc.get("items", []) if i.get("id") == X.ids["A"]), {})
    t.eq(sorted(item), sorted(["id", "family_name", "given_name", "family_name_kana", "given_name_kana",
                               "family_name_en", "given_name_en", "email", "applied_at", "organization",
                               "certificates"]), "an item's fields")
    c0 = (item.get("certificates") or [{}])[0]
    t.eq((c0.get("device"), c0.get("device_label"), c0.get("status"), c0.get("status_label"), c0.get("issued_at"),
          c0.get("expires_at"), c0.get("revoked_at"), c0.get("cn")),
         ("01", "WindowsPC", "issued", "証明書発行済", "2030/01/10 00:30", "2031/01/10 00:30", None, "Yamada Taro"),
         "a certificate: device, status and label, JST dates")
    t.ok(c0.get("serial") and c0.get("email") == "%s-qa@example.com" % TAG and c0.get("id"), "serial, e-mail, id")
    t.eq(item.get("applied_at"), "2029/12/01 10:00", "applied_at in JST")
    q("family_name=%E5%B1%B1%E7%94%B0", ["A"], "family_name 山田 (kanji)")
    q("family_name=%E3%83%A4%E3%83%9E", ["A"], "family_name ヤマ matches the katakana")
    q("family_name=YAMA", ["A"], "family_name matches the English name, case-insensitive")
    q("given_name=%E4%B8%80", ["C"], "given_name 一 partial match")
    q("given_name=hana", ["B"], "given_name hana")
    r = X.full.get("/api/users?email=%s-QB" % TAG.upper())
    t.eq(names(r), ["B"], "e-mail is case-insensitive")
    r = X.full.get("/api/users?email=%s-qsubb" % TAG)
    t.eq(names(r), ["B"], "e-mail matches a device's サブメール")
    q("applied_from=2029/12/15", ["B", "C"], "applied_from inclusive")
    q("applied_to=2029/12/15", ["A", "B"], "applied_to inclusive to the end of the JST day")
    q("applied_from=2030/01/05&applied_to=2030/01/05", ["C"], "applied on one JST day (00:10 JST)")
    q("issued_from=2030/01/06&issued_to=2030/01/10", ["A"], "issued range, 00:30 JST counts as that day")
    q("issued_from=2030/01/06&issued_to=2030/01/09", [], "issued range excludes the next JST day")
    q("issued_from=2030/01/11&issued_to=2030/02/10", ["B"], "issued_to inclusive")
    q("issued_from=2030/01/10", ["A", "B", "C"], "issued_from alone")
    q("expires_from=2031/01/06&expires_to=2031/01/10", ["A"], "expires range")
    q("expires_from=2031/02/11", ["C"], "expires_from alone (a revoked certificate still has its end)")
    q("expires_to=2031/01/04", [], "expires_to alone")
    q("status=revoked", ["C"], "status revoked")
    q("status=issued,downloaded", ["A", "B"], "status list")
    q("status=failed", ["C"], "status failed")
    q("status=issuing,revoke_scheduled", [], "no certificate issuing or scheduled")
    q("device=12", ["C"], "device 12")
    q("device=01,20", ["A", "B"], "device list")
    q("device=11&status=issued", ["A"], "device and status on one certificate")
    q("device=99&status=revoked", [], "conditions must hold for one certificate, not across two")
    q("status=revoked&issued_from=2030/03/01", ["C"], "status and date together")
    q("family_name=%E4%BD%90&status=downloaded&device=20&applied_to=2029/12/31", ["B"], "all kinds together")
    for sort, want in (("applied_at", ["A", "B", "C"]), ("-applied_at", ["C", "B", "A"]),
                       ("family_name_kana", ["B", "C", "A"]), ("-family_name_kana", ["A", "C", "B"]),
                       ("email", ["A", "B", "C"]), ("-email", ["C", "B", "A"]),
                       ("issued_at", ["A", "B", "C"]), ("-issued_at", ["C", "B", "A"]),
                       ("expires_at", ["A", "B", "C"]), ("-expires_at", ["B", "A", "C"])):
        q("sort=" + sort, want, "sort=%s" % sort, sort=False)
    q("", ["C", "B", "A"], "newest application first by default", sort=False)
    # 422 for each bad parameter
    for query, field in (("family_name=a%0Ab", "family_name"), ("given_name=" + "a" * 201, "given_name"),
                         ("email=a%09b", "email"), ("applied_from=2030-01-01", "applied_from"),
                         ("applied_to=2030/02/30", "applied_to"), ("issued_from=2030/1/1", "issued_from"),
                         ("issued_to=x", "issued_to"), ("expires_from=2030/13/01", "expires_from"),
                         ("expires_to=20300101", "expires_to"), ("status=valid", "status"),
                         ("status=issued,", "status"), ("status=ISSUED", "status"), ("device=02", "device"),
                         ("device=01,,11", "device"), ("sort=name", "sort"), ("sort=--email", "sort"),
                         ("page=0", "page"), ("page=x", "page"),
                         ("applied_from=2030/02/01&applied_to=2030/01/01", "applied_from"),
                         ("issued_from=2030/02/01&issued_to=2030/01/01", "issued_from"),
                         ("expires_from=2030/02/01&expires_to=2030/01/01", "expires_from")):
        r = X.full.get("/api/users?" + query)
        t.ok(r.status == 422 and field in fields_of(r), "GET /api/users?%s: 422 naming %s" % (query[:40], field),
             r.body[:300])
    r = X.full.get("/api/users?page=2&status=valid&sort=x")
    t.eq(sorted(fields_of(r)), ["sort", "status"], "every bad parameter named")


def test_paging(t):
    psql("INSERT INTO users (tenant_id, family_name, given_name, family_name_kana, given_name_kana,"
         " family_name_en, given_name_en, email) SELECT :p1, '頁', 'n' || g, 'ページ', 'ナ', 'Page', 'N',"
         " :'p2' || '-p' || lpad(g::text, 3, '0') || '@example.com' FROM generate_series(0, 104) g",
         X.full_tid, TAG)
    r = X.full.get("/api/users?email=%s-p&sort=email" % TAG)
    doc = r.json() or {}
    items = doc.get("items", [])
    t.eq((doc.get("total"), len(items), items[0].get("email") if items else None),
         (105, 100, "%s-p000@example.com" % TAG), "page 1: 100 of 105")
    t.eq(items[0].get("certificates") if items else None, [], "a user without certificates lists none")
    doc = X.full.get("/api/users?email=%s-p&sort=email&page=2" % TAG).json() or {}
    t.eq((doc.get("total"), doc.get("page"), [i["email"] for i in doc.get("items", [])][:1], len(doc.get("items", []))),
         (105, 2, ["%s-p100@example.com" % TAG], 5), "page 2: the last 5")
    doc = X.full.get("/api/users?email=%s-p&sort=-email&page=2" % TAG).json() or {}
    t.eq([i["email"] for i in doc.get("items", [])][-1:], ["%s-p000@example.com" % TAG], "descending, page 2 ends first")
    doc = X.full.get("/api/users?email=%s-p&page=3" % TAG).json() or {}
    t.eq((doc.get("total"), doc.get("items")), (105, []), "page 3 is empty")
    psql("UPDATE users SET deleted_at = now() WHERE tenant_id = :p1 AND email = :'p2'",
         X.full_tid, "%s-p000@example.com" % TAG)
    doc = X.full.get("/api/users?email=%s-p" % TAG).json() or {}
    t.eq(doc.get("total"), 104, "deleted users are left out")
    X.deleted = int(psql("SELECT id FROM users WHERE email = :'p1'", "%s-p000@example.com" % TAG))


def test_user_get_patch(t):
    u = register(X.full, body("patch"), "user P")["user"]
    uid = u["id"]
    path = "/api/users/%d" % uid
    r = X.full.get(path)
    doc = r.json() or {}
    t.eq((r.status, doc.get("id"), doc.get("email"), doc.get("deleted_at")),
         (200, uid, "%s-patch@example.com" % TAG, None), "GET one user")
    t.ok(isinstance(doc.get("devices"), list) and isinstance(doc.get("certificates"), list), "with devices and certificates")
    for bad in ("0", "abc", "99999999999", "1.5", "-1", "1234567890123456789012"):
        r = X.full.get("/api/users/" + bad)
        t.eq((r.status, (r.json() or {}).get("error", {}).get("code")), (404, "not_found"),
             "GET /api/users/%s answers 404 JSON" % bad)
    audits = counts(X.full_tid)
    r = X.full.request("PATCH", path, body={"family_name": "山本", "email": "%s-patch2@example.com" % TAG})
    doc = r.json() or {}
    t.eq((r.status, doc.get("family_name"), doc.get("email"), doc.get("given_name")),
         (200, "山本", "%s-patch2@example.com" % TAG, "太郎"), "PATCH changes the given fields only")
    want = "山田 太郎 (%s-patch@example.com): 氏名(姓) 山田 -> 山本, メールアドレス %s-patch@example.com -> %s-patch2@example.com" % (TAG, TAG, TAG)
    t.eq(psql("SELECT count(*) FROM audit a JOIN users u ON u.id = :p1 WHERE a.tenant_id = u.tenant_id"
              " AND a.action = 'user_update' AND a.detail = :'p2' AND a.at = u.updated_at", uid, want), "1",
         "history user_update with what changed, in the same transaction")
    h = X.full.get("/api/audit?action=user_update").json() or {}
    t.ok(any(i.get("action_label") == "利用者変更" for i in h.get("items", [])), "labelled 利用者変更")
    row = psql("SELECT family_name, family_name_kana, email FROM users WHERE id = :p1", uid)
    for name, b, field in (("kana in hiragana", {"family_name_kana": "やまもと"}, "family_name_kana"),
                           ("empty name", {"family_name": ""}, "family_name"),
                           ("null e-mail", {"email": None}, "email"),
                           ("bad e-mail", {"email": "a+b@example.com"}, "email"),
                           ("English name with a digit", {"given_name_en": "Taro2"}, "given_name_en"),
                           ("CN too long", {"family_name_en": "A" * 50, "given_name_en": "B" * 14}, "given_name_en"),
                           ("several", {"given_name": "\t", "given_name_kana": "ﾀﾛｳ"}, "given_name_kana")):
        r = X.full.request("PATCH", path, body=b)
        t.ok(r.status == 422 and field in fields_of(r), "PATCH %s: 422 naming %s" % (name, field), r.body[:300])
    t.eq(psql("SELECT family_name, family_name_kana, email FROM users WHERE id = :p1", uid), row,
         "refused PATCHes change nothing")
    r = X.full.request("PATCH", path, body={"given_name_en": "B" * 13})
    t.eq(r.status, 200, "PATCH given_name_en")
    r = X.full.request("PATCH", path, body={"family_name_en": "A" * 51})
    t.ok(r.status == 422 and "family_name_en" in fields_of(r), "PATCH 51-character English name refused")
    r = X.full.request("PATCH", path, body={"family_name_en": "A" * 50})
    t.eq(r.status, 200, "PATCH making a 64-character CN accepted")
    r = X.full.request("PATCH", path, body={"given_name_en": "B" * 14})
    t.ok(r.status == 422 and "given_name_en" in fields_of(r), "PATCH checks the CN with the stored family name",
         r.body[:300])
    before = counts(X.full_tid)
    r = X.full.request("PATCH", path, body={})
    t.eq(r.status, 200, "an empty PATCH answers 200")
    r = X.full.request("PATCH", path, body={"family_name": "山本"})
    t.eq((r.status, counts(X.full_tid)), (200, before), "a PATCH that changes nothing writes no history")
    r = X.full.request("PATCH", path, raw=b"{bad", headers={"Content-Type": "application/json"})
    t.eq(r.status, 400, "PATCH with bad JSON answers 400")
    r = X.full.request("PATCH", "/api/users/99999999999", body={"family_name": "山本"})
    t.eq(r.status, 404, "PATCH of an unknown id answers 404")
    r = X.full.request("PATCH", "/api/users/%d" % X.deleted, body={"family_name": "山本"})
    t.eq((r.status, (r.json() or {}).get("error", {}).get("code")), (409, "user_deleted"),
         "PATCH of a deleted user answers 409")
    r = X.full.get("/api/users/%d" % X.deleted)
    t.ok(r.status == 200 and (r.json() or {}).get("deleted_at"), "GET of a deleted user shows deleted_at")
    r = Client().get(path)
    t.eq(r.status, 401, "GET without a session answers 401")
    r = Client().request("PATCH", path, body={"family_name": "x"})
    t.ok(r.status in (401, 403), "PATCH without a session is refused")
    nocsrf = Client()
    nocsrf.cookie = X.full.cookie
    r = nocsrf.request("PATCH", path, body={"family_name": "x"})
    t.eq(r.status, 403, "PATCH without the CSRF token answers 403")
    r = nocsrf.post("/api/users", body("nocsrf"))
    t.eq(r.status, 403, "POST without the CSRF token answers 403")


def test_isolation(t):
    demo_uid = X.demo_user["id"]
    row = psql("SELECT family_name, email, updated_at FROM users WHERE id = :p1", demo_uid)
    for c, name in ((X.basic, "ut-basic"), (X.none, "ut-none")):
        r = c.get("/api/users/%d" % demo_uid)
        t.eq((r.status, (r.json() or {}).get("error", {}).get("code")), (404, "not_found"),
             "%s admin: GET another tenant's user answers 404" % name)
        r = c.request("PATCH", "/api/users/%d" % demo_uid, body={"family_name": "乗っ取り"})
        t.eq(r.status, 404, "%s admin: PATCH another tenant's user answers 404" % name)
        r = c.get("/api/users?email=%s-demo" % TAG)
        doc = r.json() or {}
        t.eq((r.status, doc.get("total"), doc.get("items")), (200, 0, []),
             "%s admin: the search does not see another tenant's users" % name)
    t.eq(psql("SELECT family_name, email, updated_at FROM users WHERE id = :p1", demo_uid), row,
         "the other tenant's user is unchanged")
    r = X.basic.get("/api/users")
    ids = [i["id"] for i in (r.json() or {}).get("items", [])]
    t.ok(ids and psql("SELECT count(*) FROM users WHERE id = ANY (:'p1'::bigint[]) AND tenant_id <> :p2",
                      "{%s}" % ",".join(map(str, ids)), X.basic_tid) == "0",
         "an unfiltered list holds only the tenant's own users")
    r = X.demo.get("/api/users/%d" % X.ids["A"])
    t.eq(r.status, 404, "the demo admin gets 404 for ut-full's user")
    _, doc = tenant_doc(X.basic)
    t.eq(doc.get("slug"), "ut-basic", "GET /api/tenant is the session's tenant")


def test_openapi(t):
    try:
        from test_openapi import check, schema_of
    except Exception as e:  # the spec must load
        t.ok(False, "docs/openapi loads", e)
        return
    cases = [("/api/tenant", "get", X.full.get("/api/tenant")),
             ("/api/tenant", "get", Client().get("/api/tenant")),
             ("/api/users", "get", X.full.get("/api/users?email=%s-q" % TAG)),
             ("/api/users", "get", X.full.get("/api/users?page=0")),
             ("/api/users", "post", X.full.post("/api/users", body("oa", devices=[
                 {"device": "01", "valid_to": day(20), "o": "O", "restriction": {"mode": "or", "mac": "001122334455"}}]))),
             ("/api/users", "post", X.full.post("/api/users", body("oa", email="bad"))),
             ("/api/users", "post", X.none.post("/api/users", body("oa"))),
             ("/api/users/{id}", "get", X.full.get("/api/users/%d" % X.ids["A"])),
             ("/api/users/{id}", "get", X.full.get("/api/users/0")),
             ("/api/users/{id}", "patch", X.full.request("PATCH", "/api/users/%d" % X.ids["B"], body={"given_name": "花"})),
             ("/api/users/{id}", "patch", X.full.request("PATCH", "/api/users/%d" % X.ids["B"], body={"email": "x"})),
             ("/api/users/{id}", "patch", X.full.request("PATCH", "/api/users/%d" % X.deleted, body={"email": "x@y.jp"}))]
    for path, method, r in cases:
        try:
            schema = schema_of(path, method, r.status)
        except KeyError:
            t.ok(False, "%s %s answered %d, which the spec does not list" % (method.upper(), path, r.status))
            continue
        errs = check(r.json(), schema)
        t.ok(not errs, "%s %s %d fits docs/openapi/users.json" % (method.upper(), path, r.status), errs)


def main():
    t = TAP()
    setup()
    for fn in (test_tenant_summary, test_register, test_validation, test_device_pair, test_features, test_quota, test_search,
               test_paging, test_user_get_patch, test_isolation, test_openapi):
        t.run(fn)
    t.done()


if __name__ == "__main__":
    main()
