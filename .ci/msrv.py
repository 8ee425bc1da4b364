#!/usr/bin/env python3
"""Checks that each published crate's `rust-version` is its true MSRV.

Only the stable toolchain of the day (and nightly) is installed, so the
minimum is not found by building with old compilers; it is the highest of
three needs, and the declared `rust-version` must equal it:

1. the standard library items the code uses: clippy's `incompatible_msrv`
   lint, run with the MSRV set to 1.56 (edition 2021), reports every item
   stabilised later, with its version;
2. the language features the code uses, which that lint does not see: the
   `LANGUAGE` table below (a regular expression per feature, with the Rust
   version that stabilised it); `macros/src` holds the expansion, which is
   compiled in the user's crate, so it is held to the runtime's MSRV too;
3. the dependencies, with the crate's default features: the highest
   `rust-version` among them, as resolved in `Cargo.lock`.

A feature whose dependencies need more is listed in `FEATURES`, with that
version; the README's "Minimum supported Rust version" says the same.

To raise the MSRV for a new language feature: add its row to `LANGUAGE`,
then set the `rust-version` this script asks for in the crate's Cargo.toml,
the README and CHANGELOG.md.

Usage: .ci/msrv.py (from anywhere in the workspace); exits 1 on a mismatch.
"""

import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Language features (not library items) and the release that stabilised
# them. Patterns are matched against source lines, comments excluded.
LANGUAGE = [
    ("1.65", r"\blet\s+[^=;]+=[^;]*\belse\s*\{", "let-else"),
    ("1.65", r"\btype\s+\w+\s*<\s*'\w+", "generic associated types"),
    ("1.75", r"^\s*(pub\s+)?async fn\b.*;\s*$", "async fn in traits"),
    ("1.78", r"#\[diagnostic::on_unimplemented", "#[diagnostic::on_unimplemented]"),
    ("1.79", r"(?<!static )(?<!= )\bconst\s*\{", "inline const blocks"),
    ("1.81", r"#!?\[expect\(", "#[expect] lint attribute"),
    ("1.82", r"\buse<", "precise capturing (use<..>)"),
    ("1.82", r"&raw\s+(const|mut)\b", "&raw const / &raw mut"),
    ("1.85", r"#\[diagnostic::do_not_recommend", "#[diagnostic::do_not_recommend]"),
    ("1.85", r"\basync\s+(move\s+)?\|", "async closures"),
    ("1.88", r"\bif\s+let\b[^{]*&&\s*let\b", "let chains"),
]

# Features of the published crates whose dependencies need a newer compiler
# than the crate itself, with that version.
FEATURES = {
    "instrument-errors": {"reqwest": "1.88", "sqlx": "1.88", "tonic": "1.88"},
}

PUBLISHED = ["instrument-errors-macros", "instrument-errors"]


def version(v):
    return tuple(int(x) for x in v.split(".")[:2])


def show(v):
    return ".".join(str(x) for x in v)


def metadata():
    host = subprocess.run(
        ["rustc", "-vV"], capture_output=True, text=True, check=True
    ).stdout
    triple = re.search(r"^host: (\S+)", host, re.M).group(1)
    out = subprocess.run(
        ["cargo", "metadata", "--format-version", "1", "--filter-platform", triple],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout
    return json.loads(out)


def dependency_needs(meta, package, features):
    """The highest rust-version among the normal and build dependencies of
    `package` with its default features plus `features`, transitively, as
    `cargo tree` resolves them for this package alone."""
    versions = {(p["name"], p["version"]): p["rust_version"] for p in meta["packages"]}
    cmd = ["cargo", "tree", "-p", package["name"], "-e", "normal,build",
           "--prefix", "none", "-f", "{p}"]
    if features:
        cmd += ["--features", ",".join(features)]
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=True).stdout
    best, why = (1, 56), "edition 2021"
    for line in out.splitlines()[1:]:
        m = re.match(r"(\S+) v(\S+)", line)
        if not m:
            continue
        rust = versions.get((m.group(1), m.group(2)))
        if rust and version(rust) > best:
            best, why = version(rust), f"{m.group(1)} {m.group(2)}"
    return best, why


def strip_comments(line):
    # Good enough for this code base: `//` outside string literals.
    out, in_str, i = [], False, 0
    while i < len(line):
        c = line[i]
        if c == '"' and (i == 0 or line[i - 1] != "\\"):
            in_str = not in_str
        if not in_str and line.startswith("//", i):
            break
        out.append(c)
        i += 1
    return "".join(out)


def language_needs(src):
    best, why = (1, 56), "edition 2021"
    for path in sorted(Path(src).rglob("*.rs")):
        for n, line in enumerate(path.read_text().splitlines(), 1):
            code = strip_comments(line)
            for v, pattern, what in LANGUAGE:
                if re.search(pattern, code) and version(v) > best:
                    best = version(v)
                    why = f"{what} at {path.relative_to(ROOT)}:{n}"
    return best, why


def library_needs(packages):
    """Runs clippy's incompatible_msrv with the MSRV set to 1.56; returns, per
    crate, the highest version it reports and where."""
    with tempfile.TemporaryDirectory() as conf:
        Path(conf, "clippy.toml").write_text('msrv = "1.56"\n')
        env = dict(os.environ, CLIPPY_CONF_DIR=conf)
        cmd = ["cargo", "clippy", "--all-features", "--message-format=json"]
        for p in packages:
            cmd += ["-p", p]
        cmd += ["--", "-A", "clippy::all", "-W", "clippy::incompatible_msrv"]
        out = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
        if out.returncode != 0:
            sys.stderr.write(out.stderr)
            sys.exit("clippy failed")
    needs = {p: ((1, 56), "edition 2021") for p in packages}
    for line in out.stdout.splitlines():
        msg = json.loads(line)
        if msg.get("reason") != "compiler-message":
            continue
        d = msg["message"]
        if (d.get("code") or {}).get("code") != "clippy::incompatible_msrv":
            continue
        m = re.search(r"stable (?:in a `const` context )?since `(\d+\.\d+)", d["message"])
        span = d["spans"][0]
        name = msg["package_id"]
        crate = next(p for p in packages if f"#{p}@" in name)
        v = version(m.group(1))
        if v > needs[crate][0]:
            needs[crate] = (v, f"std item at {span['file_name']}:{span['line_start']}")
    return needs


def main():
    meta = metadata()
    by_name = {p["name"]: p for p in meta["packages"] if p["name"] in PUBLISHED}
    library = library_needs(PUBLISHED)
    declared = {n: version(by_name[n]["rust_version"]) for n in PUBLISHED}
    failed = False
    for name in PUBLISHED:
        package = by_name[name]
        src = Path(package["manifest_path"]).parent / "src"
        needs = [
            ("library", *library[name]),
            ("language", *language_needs(src)),
            ("dependencies", *dependency_needs(meta, package, [])),
        ]
        if name == "instrument-errors-macros":
            # The expansion is compiled in the user's crate, under the
            # runtime's MSRV.
            v, why = language_needs(src)
            if v > declared["instrument-errors"]:
                print(f"{name}: the expansion needs {show(v)} ({why}), more than "
                      f"instrument-errors' rust-version {show(declared['instrument-errors'])}")
                failed = True
        need = max(needs, key=lambda n: n[1])
        print(f"{name}: rust-version {show(declared[name])}; needs "
              + ", ".join(f"{kind} {show(v)} ({why})" for kind, v, why in needs))
        if need[1] != declared[name]:
            print(f"  MISMATCH: rust-version must be {show(need[1])} ({need[0]}: {need[2]})")
            failed = True
        for feature in package["features"]:
            v, why = dependency_needs(meta, package, [feature])
            listed = FEATURES.get(name, {}).get(feature)
            if v > need[1] and (listed is None or version(listed) != v):
                print(f"  MISMATCH: feature `{feature}` needs {show(v)} ({why}); "
                      f"list it in FEATURES and the README")
                failed = True
            elif listed is not None and version(listed) != v:
                print(f"  MISMATCH: FEATURES says `{feature}` needs {listed}, it needs {show(v)}")
                failed = True
            elif listed is not None:
                print(f"  feature `{feature}`: {listed} ({why})")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
