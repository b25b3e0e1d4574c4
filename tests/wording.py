#!/usr/bin/env python3
"""The portal's Japanese is consistent (issue 11): every status word is the lifecycle table's
(common/domain/lifecycle.c), and Japanese text uses full-width brackets （）.

Reads the Japanese of nginx/html/js/i18n.js, the pages and the download site's script, the HTML
files, and the ja side of every services/*/msgs.c; prints TAP. Usage: wording.py ROOT
"""
import glob
import os
import re
import sys

# What the manuals write with half-width brackets themselves (device names, a restriction item).
MANUAL_TERMS = ("iOS(iPhone)", "iOS(iPad)", "端末(BIOS)", "有効期限(From)", "有効期限(To)",
                "Organization(O)", "OrganizationUnit(OU)")
# English texts that name a language in Japanese (the language switch of a setting).
ENGLISH_TEXTS = ("Japanese (日本語)",)
# The manual's placeholder in the list's 発行日 column while a certificate is issued.
MANUAL_PLACEHOLDER = "発行中..."
JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uff00-\uffef]")
# a status word: 〜済 / 〜済み of issuance, download or revocation, or a bare short status
DONE_WORD = re.compile(r"(?:証明書)?(?:発行|失効|ダウンロード)済み?")
SHORT = {"発行中", "発行済", "発行済み", "発行失敗", "失効予定", "失効済", "失効済み", "ダウンロード済",
         "ダウンロード済み", "発行完了", "失効完了"}


def lifecycle_words(root):
    src = open(os.path.join(root, "common/domain/lifecycle.c"), encoding="utf-8").read()
    return set(re.findall(r'\{"(証明書[^"]+)", "[^"]*"\}', src))


def js_strings(path, only_ja_dict=False):
    """(line, text) of each quoted string of a script; for i18n.js only the ja dictionary's."""
    text = open(path, encoding="utf-8").read()
    if only_ja_dict:
        start = text.index("const ja = {")
        text = text[:start].count("\n") * "\n" + text[start:text.index("const en = {")]
    # comments are not shown: blank them, keeping the line numbers
    text = "\n".join("" if ln.strip().startswith(("//", "/*", "*")) else ln for ln in text.split("\n"))
    out = []
    for m in re.finditer(r"'((?:[^'\\\n]|\\.)*)'|\"((?:[^\"\\\n]|\\.)*)\"|`((?:[^`\\]|\\.)*)`", text):
        s = next(g for g in m.groups() if g is not None)
        out.append((text[:m.start()].count("\n") + 1, s))
    return out


def html_strings(path):
    text = open(path, encoding="utf-8").read()
    out = []
    for m in re.finditer(r">([^<>]+)<|(?:title|placeholder|aria-label|alt)=\"([^\"]*)\"", text):
        s = (m.group(1) or m.group(2) or "").strip()
        if s:
            out.append((text[:m.start()].count("\n") + 1, s))
    return out


def msgs_strings(path):
    """The Japanese of each {{"ja", "en"}} (possibly split over lines as adjacent literals)."""
    text = open(path, encoding="utf-8").read()
    out = []
    for m in re.finditer(r"\{\s*\{((?:\s*\"(?:[^\"\\]|\\.)*\")+)\s*,", text):
        s = "".join(re.findall(r"\"((?:[^\"\\]|\\.)*)\"", m.group(1)))
        out.append((text[:m.start()].count("\n") + 1, s))
    return out


def problems(s, words):
    if not JAPANESE.search(s) or s in ENGLISH_TEXTS:
        return []
    found = []
    rest = s
    for term in MANUAL_TERMS:
        rest = rest.replace(term, "")
    if "(" in rest or ")" in rest:
        found.append("a half-width bracket in Japanese text (use （）)")
    for w in DONE_WORD.findall(s):
        if w not in words:
            found.append("status word %r is not the lifecycle table's (%s)" % (w, ", ".join(sorted(words))))
    core = re.sub(r"\s*\{\w+\}\s*", "", s).strip()
    if core in SHORT and s != MANUAL_PLACEHOLDER:
        found.append("status %r alone: say it as the lifecycle table does (%s)" % (s, ", ".join(sorted(words))))
    return found


def sources(root):
    js = os.path.join(root, "nginx/html/js")
    yield os.path.join(js, "i18n.js"), js_strings(os.path.join(js, "i18n.js"), only_ja_dict=True)
    for f in sorted(glob.glob(os.path.join(js, "pages", "*.js")) + glob.glob(os.path.join(js, "*.js"))
                    + glob.glob(os.path.join(root, "nginx/html/dl/*.js"))):
        if not f.endswith("i18n.js"):
            yield f, js_strings(f)
    for f in sorted(glob.glob(os.path.join(root, "nginx/html/**/*.html"), recursive=True)):
        yield f, html_strings(f)
    for f in sorted(glob.glob(os.path.join(root, "services/*/msgs.c"))):
        yield f, msgs_strings(f)


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "."
    words = lifecycle_words(root)
    n = 0
    bad = 0

    def result(ok, what, detail=""):
        nonlocal n
        n += 1
        print("%s %d - %s" % ("ok" if ok else "not ok", n, what))
        for line in detail.splitlines():
            print("# " + line)

    result(len(words) == 6, "the lifecycle table has its six status words", " ".join(sorted(words)))
    for path, strings in sources(root):
        rel = os.path.relpath(path, root)
        lines = []
        for line, s in strings:
            for p in problems(s, words):
                lines.append("%s:%d: %s: %s" % (rel, line, p, s))
        bad += len(lines)
        result(not lines, "%s: status words and brackets (%d strings)" % (rel, len(strings)), "\n".join(lines))
    # the checker itself catches what it must
    result(problems("証明書発行済み", words) and problems("失効予定", words) and problems("ログイン(再)", words)
           and not problems("証明書発行済", words) and not problems("iOS(iPhone)", words),
           "the check finds a wrong status word and a half-width bracket, and passes the right ones")
    print("1..%d" % n)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
