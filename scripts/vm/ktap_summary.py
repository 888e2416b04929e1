#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Summarise KUnit KTAP output from a console log.

Prints one line per suite (with its cases for --require'd suites), then a
closing line "kunit: N passed, N failed, N skipped". Exits 1 if any case
failed, if a suite was reported "not ok" or did not finish, if a suite
reported a different number of cases than its plan ("1..N"), if no suite
ran, or if a --require'd suite (comma-separated; this project's own) is
missing, ran no case or skipped one. A --require'd suite given as
NAME=N must have run exactly N cases (a deleted case fails the run).
"""
import argparse
import re
import sys

RESULT = re.compile(r"^(\s*)(ok|not ok) (\d+) ([^#]*?)\s*(?:#\s*(\S+)(.*))?$")
SUITE = re.compile(r"^\s*# Subtest: (\S+)")
PLAN = re.compile(r"^(\s*)1\.\.(\d+)\s*$")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("log")
    ap.add_argument("--require", default="")
    args = ap.parse_args()

    suites = {}  # name -> {"cases": [(name, status)], "done": status}
    stack = []
    for raw in open(args.log, errors="replace"):
        line = re.sub(r"^\[\s*\d+\.\d+\]\s?", "", raw.rstrip("\n"))
        m = SUITE.match(line)
        if m:
            indent = len(line) - len(line.lstrip())
            stack.append((m.group(1), indent))
            suites.setdefault(m.group(1), {"cases": [], "done": None, "plan": None})
            continue
        m = PLAN.match(line)
        if m and stack and len(m.group(1)) >= stack[-1][1]:
            suites[stack[-1][0]]["plan"] = int(m.group(2))
            continue
        m = RESULT.match(line)
        if not m or not stack:
            continue
        indent = len(m.group(1))
        status = "skip" if (m.group(5) or "").upper() == "SKIP" else ("pass" if m.group(2) == "ok" else "fail")
        name, sindent = stack[-1]
        if indent >= sindent:
            suites[name]["cases"].append((m.group(4), status))
        else:
            suites[name]["done"] = status
            stack.pop()
            if stack:  # a nested suite is a case of its parent
                suites[stack[-1][0]]["cases"].append((name, status))

    bad = []
    if not suites:
        bad.append("no KUnit suite ran")
    pins = {}
    for r in (s for s in args.require.split(",") if s):
        name, _, n = r.partition("=")
        pins[name] = int(n) if n else None
    required = list(pins)
    totals = {"pass": 0, "fail": 0, "skip": 0}
    for name, s in suites.items():
        cnt = {k: sum(1 for _, st in s["cases"] if st == k) for k in totals}
        for k in totals:
            totals[k] += cnt[k]
        state = s["done"] or "unfinished"
        print(f"  {state:10} {name}: {cnt['pass']} passed, {cnt['fail']} failed, {cnt['skip']} skipped")
        if name in required:
            for case, st in s["cases"]:
                print(f"      {st:5} {case}")
        if s["done"] is None:
            bad.append(f"suite {name} did not finish")
        elif s["done"] == "fail":
            bad.append(f"suite {name} reported not ok")
        if s["plan"] is not None and s["plan"] != len(s["cases"]):
            bad.append(f"suite {name} planned {s['plan']} cases but reported {len(s['cases'])}")
        if pins.get(name) is not None and len(s["cases"]) != pins[name]:
            bad.append(f"suite {name} ran {len(s['cases'])} cases, {pins[name]} expected "
                       "(selftests/expected-counts)")
        if name in required and cnt["skip"]:
            bad.append(f"suite {name} skipped {cnt['skip']} case(s)")
        for case, st in s["cases"]:
            if st == "fail":
                bad.append(f"{name}.{case} failed")
    for r in required:
        if r not in suites or not suites[r]["cases"]:
            bad.append(f"required suite {r} did not run")
    print(f"kunit: {totals['pass']} passed, {totals['fail']} failed, {totals['skip']} skipped")
    for b in bad:
        print(f"kunit: error: {b}", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
