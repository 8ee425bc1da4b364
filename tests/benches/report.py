#!/usr/bin/env python3
"""Tables of ratios from the last `cargo bench -p instrument-errors-tests` run.

Reads target/criterion/*/*/new/{benchmark,estimates}.json (the median of each
benchmark) and prints one markdown table per setup: nanoseconds per call of
each variant and the ratios the issue's targets are about. Not run in CI.

    python3 tests/benches/report.py [TARGET_DIR]
"""

import json
import os
import sys
from collections import defaultdict

target = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(__file__), "..", "..", "target")
root = os.path.join(target, "criterion")

# group id "setup/form/mode" (or "setup/threads") -> variant -> median ns
groups = defaultdict(dict)
for dirpath, _, files in os.walk(root):
    if os.path.basename(dirpath) != "new" or "benchmark.json" not in files:
        continue
    with open(os.path.join(dirpath, "benchmark.json")) as f:
        bench = json.load(f)
    with open(os.path.join(dirpath, "estimates.json")) as f:
        est = json.load(f)
    variant = bench["function_id"]
    if bench.get("value_str"):
        variant = f"{variant}@{bench['value_str']}"
    groups[bench["group_id"]][variant] = est["median"]["point_estimate"]

COLUMNS = ["bare", "metric_alone", "hand_written", "instrument_errors",
           "instrument_errors_no_log", "tracing_instrument"]


def ratio(a, b):
    return f"{a / b:.2f}×" if a and b else "–"


def ns(v):
    return f"{v:,.1f}" if v is not None else "–"


setups = defaultdict(list)
for gid in sorted(groups):
    setups[gid.split("/")[0]].append(gid)

for setup, gids in setups.items():
    rows = [g for g in gids if not g.endswith("/threads")]
    if rows:
        present = [c for c in COLUMNS if any(c in groups[g] for g in rows)]
        print(f"\n### {setup}\n")
        head = ["form/mode"] + present + ["ie ÷ hand", "ie_no_log ÷ hand",
                                          "tracing ÷ ie", "ie − bare (ns)",
                                          "ie ÷ metric_alone"]
        print("| " + " | ".join(head) + " |")
        print("|" + "---|" * len(head))
        for g in rows:
            v = groups[g]
            ie, hand = v.get("instrument_errors"), v.get("hand_written")
            cells = [g.split("/", 1)[1]] + [ns(v.get(c)) for c in present]
            cells += [ratio(ie, hand), ratio(v.get("instrument_errors_no_log"), hand),
                      ratio(v.get("tracing_instrument"), ie),
                      f"{ie - v['bare']:.1f}" if ie and v.get("bare") else "–",
                      ratio(ie, v.get("metric_alone"))]
            print("| " + " | ".join(cells) + " |")
    for g in gids:
        if not g.endswith("/threads"):
            continue
        print(f"\n### {g} (calls per second, all threads together)\n")
        print("| variant | threads | ns per iteration | Mcalls/s | × one thread |")
        print("|---|---|---|---|---|")
        one = {}
        for key in sorted(groups[g]):
            name, threads = key.split("@")
            t = int(threads)
            per_s = t / groups[g][key] * 1e3  # calls per ns * 1e9 / 1e6
            one.setdefault(name, per_s if t == 1 else None)
            scale = f"{per_s / one[name]:.2f}" if one.get(name) else "–"
            print(f"| {name} | {t} | {groups[g][key]:,.1f} | {per_s:.2f} | {scale} |")
