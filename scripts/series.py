#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Which repository files the patch series carries, and whether it carries them
as they are.

The in-kernel Rust (the core in rust/bpfsig-core/src, the kernel crate in
rust/bpfsig-kernel) and the top-level Kbuild are files of the kernel tree in
kernel/bpf/bpfsig/, added by one patch of the series. The repository is where
they are edited; scripts/export-patches.sh copies them into the tree.

  series.py map ROOT            print "repo-path<TAB>tree-path", one per file
  series.py check ROOT PATCHDIR fail, naming each file, where the series and
                                the repository differ
"""
import os
import re
import sys

TREE_DIR = "kernel/bpf/bpfsig/"


def mapping(root):
    m = {"Kbuild": TREE_DIR + "Makefile"}
    for d, skip in (("rust/bpfsig-kernel", ()), ("rust/bpfsig-core/src", ("lib.rs",))):
        for name in sorted(os.listdir(os.path.join(root, d))):
            if name.endswith(".rs") and name not in skip:
                m[f"{d}/{name}"] = TREE_DIR + name
    seen = {}
    for repo, tree in m.items():
        if tree in seen:
            sys.exit(f"series: {repo} and {seen[tree]} would both be {tree} in the kernel tree: rename one")
        seen[tree] = repo
    return m


DIFF = re.compile(r"^diff --git a/(\S+) b/(\S+)$")
HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


def series_files(patchdir):
    """{tree path: (patch, content)} for files under TREE_DIR; errors for
    patches that change such a file instead of adding it."""
    files, errors = {}, []
    patches = sorted(p for p in os.listdir(patchdir) if p.endswith(".patch") and not p.startswith("0000-"))
    for p in patches:
        lines = open(os.path.join(patchdir, p), encoding="utf-8", errors="surrogateescape").read().split("\n")
        i = 0
        while i < len(lines):
            m = DIFF.match(lines[i])
            i += 1
            if not m or not m.group(2).startswith(TREE_DIR):
                continue
            path = m.group(2)
            new = False
            while i < len(lines) and not lines[i].startswith("@@") and not DIFF.match(lines[i]):
                new |= lines[i].startswith("new file mode")
                i += 1
            if not new or path in files:
                errors.append(f"{path} is changed by {p} after it was added: the crate must be added by one patch")
                continue
            body = []
            while i < len(lines) and not DIFF.match(lines[i]) and lines[i] != "-- ":
                ln = lines[i]
                if ln.startswith("+"):
                    body.append(ln[1:] + "\n")
                elif ln.startswith("\\ No newline") and body:
                    body[-1] = body[-1][:-1]
                i += 1
            files[path] = (p, "".join(body))
    return files, errors


def check(root, patchdir):
    want = mapping(root)
    have, errors = series_files(patchdir)
    for repo, tree in want.items():
        if tree not in have:
            errors.append(f"{repo}: not in the series (no patch adds {tree})")
            continue
        text = open(os.path.join(root, repo), encoding="utf-8", errors="surrogateescape").read()
        if text != have[tree][1]:
            errors.append(f"{repo}: differs from {tree} in {have[tree][0]}")
    for tree, (p, _) in have.items():
        if tree not in want.values():
            errors.append(f"{tree}: added by {p} but no repository file is its source")
    cover = os.path.join(patchdir, "0000-cover-letter.patch")
    subject, _, body = open(os.path.join(root, "scripts/cover-letter.txt")).read().partition("\n")
    text = open(cover).read() if os.path.exists(cover) else ""
    if subject.strip() not in text or body.strip("\n") not in text:
        errors.append("scripts/cover-letter.txt: differs from patches/0000-cover-letter.patch")
    for e in errors:
        print(f"series: {e}", file=sys.stderr)
    if errors:
        print("series: the patch series is out of date with the repository: run scripts/export-patches.sh",
              file=sys.stderr)
        return 1
    print(f"series: {len(want)} in-kernel files of the repository are in the series as they are")
    return 0


def main(argv):
    if len(argv) == 3 and argv[1] == "map":
        for repo, tree in mapping(argv[2]).items():
            print(f"{repo}\t{tree}")
        return 0
    if len(argv) == 4 and argv[1] == "check":
        return check(argv[2], argv[3])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
