#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Repeatability of the benchmarks: compare the icount ratios (and shares)
of two BENCHMARKS.md files, row by row. Prints each pair and the largest
relative difference; exits 1 if a ratio differs by more than LIMIT (1 %)
or a share of the load by more than 0.05 percentage points.

  bench-compare.py OLD.md NEW.md [LIMIT_PERCENT]
"""
import re
import sys


# Shares of the load (resolution) are compared in percentage points.
SHARE_POINTS = 0.05

# The columns that name a row (the others are measurements).
KEYS = {"instructions", "map load every", "object", "calls", "loader"}


def tables(path):
    """{(section, row key): {column: value}} for the icount ratio columns."""
    out, section, header = {}, None, None
    for line in open(path):
        line = line.rstrip("\n")
        if line.startswith("## "):
            section, header = line[3:], None
            continue
        if not line.startswith("|"):
            header = None
            continue
        cells = [c.strip() for c in line.strip("|").split("|")]
        if header is None:
            header = cells
            continue
        if set(line) <= set("|-: "):
            continue
        row = " ".join(c for h, c in zip(header, cells) if h in KEYS)
        for col, val in zip(header, cells):
            if "icount" in col and ("/" in col or "ratio" in col or "share" in col):
                m = re.match(r"^([0-9.]+)", val)
                if m:
                    out[(section, row, col)] = float(m.group(1))
    return out


def main():
    old, new = tables(sys.argv[1]), tables(sys.argv[2])
    limit = float(sys.argv[3]) if len(sys.argv) > 3 else 1.0
    worst = 0.0
    bad_shares = 0
    for key in sorted(old.keys() & new.keys()):
        a, b = old[key], new[key]
        if "share" in key[2]:
            # A share is already a percentage of the load: compared in
            # points (a 0.01-point change of a 0.4 % share is not 2 %).
            pts = abs(b - a)
            bad_shares += pts > SHARE_POINTS
            print(f"{key[0][:24]:24s} | {key[1]:24s} | {key[2][:22]:22s} | {a:8.3f} {b:8.3f} | {pts:5.2f} points")
            continue
        diff = abs(b - a) / a * 100 if a else (0.0 if b == a else float("inf"))
        worst = max(worst, diff)
        print(f"{key[0][:24]:24s} | {key[1]:24s} | {key[2][:22]:22s} | {a:8.3f} {b:8.3f} | {diff:5.2f} %")
    if not old.keys() & new.keys():
        sys.exit("bench-compare: no icount ratios in common")
    print(f"bench-compare: {len(old.keys() & new.keys())} ratios and shares; ratios differ by at most "
          f"{worst:.2f} % (limit {limit} %), {bad_shares} shares by more than {SHARE_POINTS} points")
    sys.exit(1 if worst > limit or bad_shares else 0)


if __name__ == "__main__":
    main()
