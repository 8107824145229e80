#!/usr/bin/env python3
"""Licences of the crates linked into the rprof binary.

    python3 tools/licenses.py check            # CI: fails on a licence outside ALLOWED
    python3 tools/licenses.py list             # crate, version, licence expression
    python3 tools/licenses.py notices > THIRD-PARTY-NOTICES.md
    python3 tools/licenses.py notices --check  # fails when THIRD-PARTY-NOTICES.md is stale

"Linked into the binary": the packages reached from rprof through normal
dependencies on the host platform, with the features a build enables,
leaving out proc-macro crates (they run in the compiler and are not
linked) and build- and dev-dependencies: what `cargo tree -e
normal,no-proc-macro` prints. The licence of each is the `license` field
of its Cargo.toml, an SPDX expression (`A OR B`, `A AND B`,
`A WITH exception`, parentheses, and the old `A/B` for OR); `check` passes
when the ALLOWED licences satisfy every one. A crate without a `license`
field (only `license-file`) fails until CLARIFIED says what it amounts to.

The notices list every such crate (name, version, licence expression,
repository) and the full text of the licence files each crate ships for
the terms used (for `A OR B`, the first of ALLOWED's order that it
offers), identical texts once; a crate that ships no file for them gets
the text in tools/licenses/<id>.txt with its authors as copyright holders.

Reads `cargo tree` and `cargo metadata`, both `--locked --offline`: the
lockfile and the crates already downloaded (`cargo fetch --locked`), no
network, no advisory database. Python 3 standard library only.

To allow a new licence, add it to ALLOWED after checking that its terms
fit a binary distributed under Apache-2.0, then regenerate the notices.
Files built into the binary that are not crates (a font) are listed in
BUNDLED by hand; their licence texts end the notices.
"""

import json
import os
import re
import subprocess
import sys

# In order of preference for the notices (`A OR B` uses the first listed).
# Permissive licences, and CDDL-1.0 (weak, file-level copyleft: inferno's
# files stay under the CDDL, their source is public on crates.io, and the
# notices carry its text).
ALLOWED = [
    "Apache-2.0",
    "MIT",
    "Apache-2.0 WITH LLVM-exception",
    "BSD-2-Clause",
    "BSD-3-Clause",
    "ISC",
    "Zlib",
    "0BSD",
    "Unlicense",
    "Unicode-3.0",
    "CDLA-Permissive-2.0",
    "CDDL-1.0",
]

# Crates whose manifest has no SPDX `license` field: name -> expression.
CLARIFIED = {}

# Files from outside crates.io that are built into the binary
# (`include_bytes!`): (file, what it is, licence, its licence text's file),
# paths from the repository's root. Their notices follow the crates'.
BUNDLED = [
    ("assets/fonts/DejaVuSans.ttf",
     "DejaVu Sans 2.37 (https://dejavu-fonts.github.io/), the font of -png and -pdf graphs drawn without Graphviz",
     "Bitstream-Vera AND LicenseRef-Arev-Fonts",
     "assets/fonts/LICENSE"),
]

# Code a crate compiles in from another project, under that project's
# licence: crate name -> [(file in the crate, what it is, licence, its
# licence text's file in the crate)]. Their notices follow the crates'.
CRATE_BUNDLED = {
    "libdeflate-sys": [
        ("libdeflate/", "libdeflate (https://github.com/ebiggers/libdeflate), the C "
         "library libdeflate-sys compiles in: whole gzip files inflate with it",
         "MIT", "libdeflate/COPYING"),
    ],
}

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
NOTICES = os.path.join(REPO, "THIRD-PARTY-NOTICES.md")


# --- SPDX expressions -------------------------------------------------------

def parse(expr):
    """SPDX expression -> a licence id (`X WITH e` kept whole) or
    ('or'|'and', [terms])."""
    toks = re.findall(r"\(|\)|/|[^\s()/]+", expr)
    pos = 0

    def peek():
        return toks[pos] if pos < len(toks) else None

    def take():
        nonlocal pos
        if pos >= len(toks):
            raise ValueError(f"unexpected end of {expr!r}")
        pos += 1
        return toks[pos - 1]

    def primary():
        t = take()
        if t == "(":
            e = disjunction()
            if take() != ")":
                raise ValueError(f"unbalanced parentheses in {expr!r}")
            return e
        if t in (")", "AND", "OR", "WITH", "/"):
            raise ValueError(f"unexpected {t!r} in {expr!r}")
        if peek() == "WITH":
            take()
            t = f"{t} WITH {take()}"
        return t

    def conjunction():
        terms = [primary()]
        while peek() == "AND":
            take()
            terms.append(primary())
        return terms[0] if len(terms) == 1 else ("and", terms)

    def disjunction():
        terms = [conjunction()]
        while peek() in ("OR", "/"):
            take()
            terms.append(conjunction())
        return terms[0] if len(terms) == 1 else ("or", terms)

    e = disjunction()
    if pos != len(toks):
        raise ValueError(f"trailing {toks[pos:]} in {expr!r}")
    return e


def allowed_id(lic):
    # An exception only grants permissions: `X WITH e` is fine when X is.
    return lic in ALLOWED or lic.split(" WITH ")[0] in ALLOWED


def satisfied(e):
    if isinstance(e, str):
        return allowed_id(e)
    op, terms = e
    results = [satisfied(t) for t in terms]
    return any(results) if op == "or" else all(results)


def rank(lic):
    return ALLOWED.index(lic) if lic in ALLOWED else len(ALLOWED)


def choose(e):
    """The licences used to satisfy `e`: for OR the best-ranked satisfied
    alternative, for AND all of them."""
    if isinstance(e, str):
        return [e if e in ALLOWED else e.split(" WITH ")[0]]
    op, terms = e
    if op == "and":
        return sorted({lic for t in terms for lic in choose(t)}, key=rank)
    options = [choose(t) for t in terms if satisfied(t)]
    return min(options, key=lambda ls: sorted(rank(lic) for lic in ls))


# --- the crates ---------------------------------------------------------------

def run(cmd):
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO)
    if out.returncode != 0:
        sys.exit(f"licenses.py: {' '.join(cmd)} failed (run `cargo fetch --locked` first?):\n{out.stderr}")
    return out.stdout


def host():
    vv = run(["rustc", "-vV"])
    return next(l.split(": ", 1)[1] for l in vv.splitlines() if l.startswith("host: "))


def linked_packages():
    """The metadata of the packages linked into rprof's binary, rprof
    excluded, sorted by name and version."""
    target = host()
    meta = json.loads(run([
        "cargo", "metadata", "--format-version", "1", "--locked", "--offline",
        "--filter-platform", target,
    ]))
    # `cargo tree` applies the feature resolver as a build does; metadata's
    # resolve alone would add crates that only dev-dependencies' features
    # pull in.
    tree = run([
        "cargo", "tree", "--locked", "--offline", "-e", "normal,no-proc-macro",
        "--target", target, "--prefix", "none", "--format", "{p}",
    ])
    root = meta["resolve"]["root"]
    by_key = {(p["name"], p["version"]): p for p in meta["packages"] if p["id"] != root}
    linked = set()
    for line in tree.splitlines():
        f = line.split()
        if len(f) >= 2 and f[1].startswith("v") and (f[0], f[1][1:]) in by_key:
            linked.add((f[0], f[1][1:]))
    return [by_key[k] for k in sorted(linked)]


def expression(p):
    return CLARIFIED.get(p["name"]) or p.get("license")


# --- check --------------------------------------------------------------------

def check(packages):
    bad = []
    for p in packages:
        expr = expression(p)
        if not expr:
            bad.append(f"{p['name']} {p['version']}: no SPDX `license` field "
                       f"(license-file: {p.get('license_file')}); see CLARIFIED")
            continue
        try:
            ok = satisfied(parse(expr))
        except ValueError as e:
            bad.append(f"{p['name']} {p['version']}: {e}")
            continue
        if not ok:
            bad.append(f"{p['name']} {p['version']}: {expr}")
    if bad:
        print(f"licenses.py: {len(bad)} of {len(packages)} crates linked into rprof have a licence "
              "outside the allowed list (ALLOWED in tools/licenses.py):", file=sys.stderr)
        for b in bad:
            print(f"  {b}", file=sys.stderr)
        sys.exit(1)
    print(f"licenses.py: the {len(packages)} crates linked into rprof all have allowed licences")


# --- notices ------------------------------------------------------------------

LICENSE_FILE = re.compile(r"^(LICEN[CS]E|COPYING|COPYRIGHT|NOTICE|UNLICENSE)", re.I)


def detect(text):
    """The licence whose text this is, or None (a pointer, a copyright
    note)."""
    # Some ship the text as a comment block.
    t = " ".join(" ".join(re.sub(r"^\s*(//+|#+|\*)", "", l) for l in text.splitlines()).split())
    if "Apache License" in t and "Version 2.0" in t and "TERMS AND CONDITIONS" in t:
        return "Apache-2.0 WITH LLVM-exception" if "LLVM Exceptions" in t else "Apache-2.0"
    if "Permission is hereby granted, free of charge" in t:
        return "MIT"
    if "Permission to use, copy, modify, and/or distribute this software for any purpose" in t:
        return "ISC" if "provided that the above copyright notice" in t else "0BSD"
    if "Redistribution and use in source and binary forms" in t:
        return "BSD-3-Clause" if "Neither the name" in t or "names of its contributors" in t else "BSD-2-Clause"
    if "This software is provided 'as-is'" in t:
        return "Zlib"
    if "COMMON DEVELOPMENT AND DISTRIBUTION LICENSE" in t:
        return "CDDL-1.0"
    if "Community Data License Agreement - Permissive - Version 2.0" in t:
        return "CDLA-Permissive-2.0"
    if "This is free and unencumbered software released into the public domain" in t:
        return "Unlicense"
    if "UNICODE LICENSE V3" in t:
        return "Unicode-3.0"
    return None


def read_text(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.read().replace("\r\n", "\n").rstrip() + "\n"


def texts_of(p, used):
    """[(licence id or None, text)] for package p and the licences used."""
    root = os.path.dirname(p["manifest_path"])
    names = sorted(n for n in os.listdir(root) if LICENSE_FILE.match(n) and os.path.isfile(os.path.join(root, n)))
    if p.get("license_file"):
        lf = os.path.relpath(os.path.join(root, p["license_file"]), root)
        if lf not in names:
            names.append(lf)
    out, found = [], set()
    for n in names:
        text = read_text(os.path.join(root, n))
        lic = detect(text)
        if lic is None or lic in used:
            out.append((lic, text))
            found.add(lic)
    for lic in used:
        if lic in found:
            continue
        fallback = os.path.join(HERE, "licenses", f"{lic}.txt")
        if not os.path.exists(fallback):
            sys.exit(f"licenses.py: {p['name']} {p['version']} ships no {lic} text: "
                     f"add tools/licenses/{lic}.txt")
        holders = ", ".join(re.sub(r"\s*<[^>]*>", "", a) for a in p.get("authors") or []) or f"the {p['name']} authors"
        out.append((lic, read_text(fallback).replace("{copyright holders}", holders)))
    return out


def fence(text):
    ticks = "```"
    while ticks in text:
        ticks += "`"
    return f"{ticks}text\n{text}{ticks}\n"


def notices(packages):
    rows, groups = [], {}
    for p in packages:
        expr = expression(p)
        used = choose(parse(expr))
        rows.append((p, expr, used))
        for lic, text in texts_of(p, used):
            g = groups.setdefault(text, {"lic": lic, "crates": []})
            g["crates"].append(f"{p['name']} {p['version']}")
    order = sorted(groups.items(), key=lambda kv: (rank(kv[1]["lic"] or "~"), kv[1]["lic"] or "~", kv[1]["crates"][0]))
    number = {text: i + 1 for i, (text, _) in enumerate(order)}

    out = []
    w = out.append
    w("# Third-party notices\n\n")
    w("rprof is licensed under the Apache License 2.0 (`LICENSE`). The rprof\n"
      "binary links the crates below (normal dependencies on x86_64 Linux with\n"
      "the features rprof enables; build- and dev-dependencies and proc-macro\n"
      "crates are not linked into it). Each is used under the terms named in\n"
      "the column \"used under\" (for a choice of licences, the first of\n"
      "`ALLOWED` in `tools/licenses.py` that it offers); their texts follow,\n"
      "as the crates ship them, each distinct text once.\n\n")
    w("Generated from `Cargo.lock` by `python3 tools/licenses.py notices >\n"
      "THIRD-PARTY-NOTICES.md`; do not edit. CI runs\n"
      "`python3 tools/licenses.py notices --check`, which fails when this file\n"
      "is out of date.\n\n")
    w(f"## Crates ({len(rows)})\n\n")
    w("| crate | version | licence (Cargo.toml) | used under | texts | repository |\n")
    w("|---|---|---|---|---|---|\n")
    for p, expr, used in rows:
        mine = sorted({number[t] for t, g in groups.items() if f"{p['name']} {p['version']}" in g["crates"]})
        refs = ", ".join(f"[{n}](#text-{n})" for n in mine)
        w(f"| {p['name']} | {p['version']} | {expr} | {' AND '.join(used)} | {refs} | {p.get('repository') or ''} |\n")
    w("\n## Licence texts\n")
    for text, g in order:
        n = number[text]
        title = g["lic"] or "notes"
        w(f"\n<a id=\"text-{n}\"></a>\n\n### {n}. {title}\n\n")
        w(f"Used by: {', '.join(g['crates'])}.\n\n")
        w(fence(text))
    in_crates = [(p, b) for p in packages for b in CRATE_BUNDLED.get(p["name"], [])]
    w(f"\n## Bundled files ({len(BUNDLED) + len(in_crates)})\n\n")
    w("Files that are not crates, built into the binary (`BUNDLED` and\n"
      "`CRATE_BUNDLED` in `tools/licenses.py`), with their licence texts.\n")
    for path, what, lic, text_file in BUNDLED:
        w(f"\n### {path}\n\n{what}. Licence: {lic}.\n\n")
        w(fence(read_text(os.path.join(REPO, text_file))))
    for p, (path, what, lic, text_file) in in_crates:
        root = os.path.dirname(p["manifest_path"])
        w(f"\n### {path} in {p['name']} {p['version']}\n\n{what}. Licence: {lic}.\n\n")
        w(fence(read_text(os.path.join(root, text_file))))
    return "".join(out)


def main():
    args = sys.argv[1:]
    if not args or args[0] not in ("check", "list", "notices"):
        sys.exit(__doc__)
    packages = linked_packages()
    if args[0] == "check":
        check(packages)
    elif args[0] == "list":
        for p in packages:
            print(f"{p['name']}\t{p['version']}\t{expression(p)}\t{p.get('repository') or ''}")
    else:
        check_only = "--check" in args[1:]
        text = notices(packages)
        if not check_only:
            sys.stdout.write(text)
            return
        try:
            old = read_text(NOTICES) if os.path.exists(NOTICES) else ""
        except OSError:
            old = ""
        if old != text.rstrip() + "\n":
            sys.exit("licenses.py: THIRD-PARTY-NOTICES.md is out of date: "
                     "python3 tools/licenses.py notices > THIRD-PARTY-NOTICES.md")
        print("licenses.py: THIRD-PARTY-NOTICES.md is up to date")


if __name__ == "__main__":
    main()
