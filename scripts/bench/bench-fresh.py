#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Section 6 of BENCHMARKS.md: the stage times of the last scripts/demo.sh
and scripts/test.sh runs that started from an empty cache
(timing-demo-fresh.txt, timing-test-fresh.txt, written by lib.sh's
timing_* helpers), newest first among the cache directories given.

  bench-fresh.py CACHE_DIR [CACHE_DIR ...]
"""
import datetime
import os
import sys

TARGET_S = 20 * 60


def newest(dirs, name):
    found = [os.path.join(d, name) for d in dirs if os.path.isfile(os.path.join(d, name))]
    return max(found, key=os.path.getmtime) if found else None


def stages(path):
    rows = []
    for line in open(path):
        name, _, sec = line.rstrip("\n").rpartition("\t")
        if name:
            rows.append((name, int(sec)))
    return rows


def table(rows):
    print("| stage | seconds |")
    print("|---|---:|")
    for name, sec in rows:
        if name != "total":
            print(f"| {name} | {sec} |")


def main():
    dirs = sys.argv[1:]
    print("Wall-clock seconds of each stage, in a stripped environment (`env -i`, a new HOME)")
    print("with an empty cache: Debian's packages were installed already, everything else")
    print("(crates, pahole, virtme-ng, the 7.2 sources, every build) came in during the run.")
    print(f"Target: under {TARGET_S // 60} minutes each.")
    for script, what in (("demo", "`scripts/demo.sh` (to the story)"), ("test", "`scripts/test.sh` (to the test results)")):
        path = newest(dirs, f"timing-{script}-fresh.txt")
        print()
        if not path:
            print(f"{what}: no run from an empty cache recorded.")
            continue
        rows = stages(path)
        when = datetime.datetime.fromtimestamp(os.path.getmtime(path), datetime.timezone.utc)
        total = dict(rows).get("total", sum(s for n, s in rows if n != "total"))
        verdict = "met" if total < TARGET_S else "**missed**"
        print(f"{what}, run of {when:%Y-%m-%d %H:%M} UTC: **{total} s** ({total / 60:.1f} min), target {verdict}")
        print()
        table(rows)
    # What a new user runs second: the tests, on the cache the demo filled.
    after = [d for d in dirs if os.path.isfile(os.path.join(d, "timing-demo-fresh.txt"))
             and os.path.isfile(os.path.join(d, "timing-test-warm.txt"))
             and os.path.getmtime(os.path.join(d, "timing-test-warm.txt"))
             > os.path.getmtime(os.path.join(d, "timing-demo-fresh.txt"))]
    if after:
        path = newest(after, "timing-test-warm.txt")
        rows = stages(path)
        total = dict(rows).get("total", sum(s for n, s in rows if n != "total"))
        when = datetime.datetime.fromtimestamp(os.path.getmtime(path), datetime.timezone.utc)
        print()
        print(f"`scripts/test.sh` right after that demo, on the cache it filled (run of {when:%Y-%m-%d %H:%M} UTC):"
              f" **{total} s** ({total / 60:.1f} min)")
        print()
        table(rows)


if __name__ == "__main__":
    main()
