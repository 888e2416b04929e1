#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Which repository files the patch series carries, in which patch, and
whether it carries them as they are.

rust/bpfsig/ is kernel/bpf/bpfsig/ of the kernel tree, file for file, and
the top-level Kbuild is its Makefile. Each file is added by the patch of the
feature that first calls it (STEPS). The crate root grows with them: at each
patch it holds the mod lines of the files added so far, so every patch
builds. The repository is where these files are edited;
scripts/series/export-patches.sh writes them into the kernel tree's commits.

  series.py map ROOT                 "repo-path<TAB>tree-path", one per file
  series.py step ROOT SUBJECT DIR    write kernel/bpf/bpfsig/ as the commit
                                     with this subject has it into DIR;
                                     exit 3 if that commit has no crate
  series.py check ROOT PATCHDIR      fail, naming each file, where the
                                     series and the repository differ
  series.py table ROOT PATCHDIR      added lines per patch, and the crate
                                     files each patch adds
"""
import os
import re
import sys

TREE_DIR = "kernel/bpf/bpfsig/"
REPO_DIR = "rust/bpfsig/"
CRATE_ROOT = "bpfsig.rs"

# The commit (by subject) that adds each file of the crate, relative to
# REPO_DIR; Makefile is the repository's top-level Kbuild. The order is the
# series'.
STEPS = [
    ("bpf: bpfsig: add the crate and the metadata decision", [
        "Makefile", CRATE_ROOT, "rules/errno.rs", "rules/metadata.rs",
    ]),
    ("bpf: add the bpf_loader_verify_metadata kfunc", [
        "bpf_objects.rs", "rejection.rs", "metadata.rs", "metadata/kunit.rs",
        "kunit.rs",
    ]),
    ("bpf: bpfsig: add the in-place program digest", [
        "rules/insn.rs", "rules/sha256.rs", "rules/digest.rs",
    ]),
    ("bpf: compute the program digest at BPF_PROG_LOAD entry", [
        "sha256.rs", "digest.rs", "digest/kunit.rs", "digest/vectors.rs",
    ]),
    ("bpf: bpfsig: add the rules for kfunc calls named in BTF", [
        "rules/btf.rs", "rules/proto.rs", "rules/resolve.rs",
    ]),
    ("bpf: resolve loader kfunc calls through program BTF", [
        "btf.rs", "resolve.rs", "resolve/kunit.rs", "resolve/vectors.rs",
    ]),
]


def repo_path(rel):
    return "Kbuild" if rel == "Makefile" else REPO_DIR + rel


def read(root, rel):
    return open(os.path.join(root, repo_path(rel)), encoding="utf-8", errors="surrogateescape").read()


def mapping(root):
    """{repo path: tree path}; every .rs file under REPO_DIR must be in STEPS."""
    listed = [rel for _, files in STEPS for rel in files]
    dup = {r for r in listed if listed.count(r) > 1}
    if dup:
        sys.exit(f"series: {', '.join(sorted(dup))} listed twice in STEPS")
    on_disk = set()
    for d, _, names in os.walk(os.path.join(root, REPO_DIR)):
        for n in names:
            if n.endswith(".rs"):
                on_disk.add(os.path.relpath(os.path.join(d, n), os.path.join(root, REPO_DIR)))
    missing = sorted(on_disk - set(listed))
    if missing:
        sys.exit(f"series: {', '.join(REPO_DIR + m for m in missing)}: no patch adds it (STEPS in scripts/series/series.py)")
    return {repo_path(rel): TREE_DIR + rel for rel in listed}


MOD = re.compile(r"^(\s*)(?:pub(?:\([a-z]+\))? )?mod ([a-z_0-9]+);$")
BLOCK = re.compile(r"^(?:pub(?:\([a-z]+\))? )?mod ([a-z_0-9]+) \{$")


def crate_root_at(text, present):
    """The crate root with only the mod lines (and the attributes right
    above them) whose file is in `present`: a `mod x;` inside `mod rules {`
    is rules/x.rs, one at the top x.rs."""
    out, attrs, block = [], [], ""
    for line in text.split("\n"):
        if line.lstrip().startswith("#[") and not line.lstrip().startswith("#!["):
            attrs.append(line)
            continue
        m = MOD.match(line)
        if m:
            if block + m.group(2) + ".rs" in present:
                out += attrs + [line]
            attrs = []
            continue
        out += attrs
        attrs = []
        b = BLOCK.match(line)
        if b:
            block = b.group(1) + "/"
        elif line == "}":
            block = ""
        out.append(line)
    return "\n".join(out)


def step_files(root, subject):
    """{tree path: content} of the crate at the commit with this subject,
    None before the first step; KeyError for a subject not in STEPS."""
    subjects = [s for s, _ in STEPS]
    if subject not in subjects:
        raise KeyError(subject)
    present = [rel for _, files in STEPS[:subjects.index(subject) + 1] for rel in files]
    out = {}
    for rel in present:
        text = read(root, rel)
        if rel == CRATE_ROOT:
            text = crate_root_at(text, set(present))
        out[TREE_DIR + rel] = text
    return out


def crate_at(root, subject, before):
    """The crate at a commit: its step's files, those of the last step
    before it for commits between steps, {} before the first."""
    if subject in dict(STEPS):
        return step_files(root, subject)
    return step_files(root, before) if before else {}


DIFF = re.compile(r"^diff --git a/(\S+) b/(\S+)$")
HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


def patch_subject(text):
    m = re.search(r"^Subject: \[PATCH[^\]]*\] (.*(?:\n [^\n]*)*)", text, re.M)
    return re.sub(r"\n ", " ", m.group(1)) if m else ""


def apply_crate_diffs(text, files, errors, name):
    """Applies the patch's changes under TREE_DIR to `files` ({path: text})."""
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        m = DIFF.match(lines[i])
        i += 1
        if not m or not m.group(2).startswith(TREE_DIR):
            continue
        path, new, deleted = m.group(2), False, False
        while i < len(lines) and not lines[i].startswith("@@") and not DIFF.match(lines[i]):
            new |= lines[i].startswith("new file mode")
            deleted |= lines[i].startswith("deleted file mode")
            i += 1
        if new == (path in files):
            errors.append(f"{name}: {path} is {'added again' if new else 'changed before it is added'}")
            return
        old = files.get(path, "").splitlines(keepends=True)
        out, pos = [], 0
        while i < len(lines) and lines[i].startswith("@@"):
            h = HUNK.match(lines[i])
            i += 1
            start = int(h.group(1)) - (0 if h.group(2) == "0" else 1)
            out += old[pos:start]
            pos = start
            while i < len(lines) and lines[i][:1] in (" ", "-", "+"):
                # Each line ends with a newline unless git says it has none.
                nl = "" if i + 1 < len(lines) and lines[i + 1].startswith("\\") else "\n"
                op, ln = lines[i][0], lines[i][1:] + nl
                i += 2 if not nl else 1
                if op == "+":
                    out.append(ln)
                    continue
                if pos >= len(old) or old[pos] != ln:
                    errors.append(f"{name}: {path} does not apply")
                    return
                pos += 1
                if op == " ":
                    out.append(ln)
        out += old[pos:]
        if deleted:
            files.pop(path, None)
        else:
            files[path] = "".join(out)


def series_patches(patchdir):
    return sorted(p for p in os.listdir(patchdir) if p.endswith(".patch") and not p.startswith("0000-"))


def check(root, patchdir):
    mapping(root)
    errors, files, last_step, seen = [], {}, None, set()
    for p in series_patches(patchdir):
        text = open(os.path.join(patchdir, p), encoding="utf-8", errors="surrogateescape").read()
        subject = patch_subject(text)
        apply_crate_diffs(text, files, errors, p)
        if subject in dict(STEPS):
            last_step = subject
            seen.add(subject)
        want = crate_at(root, subject, last_step)
        for path in sorted(set(want) | set(files)):
            if path not in files:
                errors.append(f"{p}: {path} missing (the repository adds it at this patch)")
            elif path not in want:
                errors.append(f"{p}: {path} is not the repository's at this patch")
            elif files[path] != want[path]:
                errors.append(f"{p}: {path} differs from the repository's")
    for s, _ in STEPS:
        if s not in seen:
            errors.append(f"no patch has the subject \"{s}\" (STEPS in scripts/series/series.py)")
    cover = os.path.join(patchdir, "0000-cover-letter.patch")
    subject, _, body = open(os.path.join(root, "scripts/series/cover-letter.txt")).read().partition("\n")
    text = open(cover).read() if os.path.exists(cover) else ""
    if subject.strip() not in text or body.strip("\n") not in text:
        errors.append("scripts/series/cover-letter.txt: differs from patches/0000-cover-letter.patch")
    for e in errors:
        print(f"series: {e}", file=sys.stderr)
    if errors:
        print("series: the patch series is out of date with the repository: run scripts/series/export-patches.sh",
              file=sys.stderr)
        return 1
    n = sum(len(f) for _, f in STEPS)
    print(f"series: {n} in-kernel files of the repository are in the series as they are, "
          f"added over {len(STEPS)} patches")
    return 0


def table(root, patchdir):
    """Added lines per patch, and the crate files it adds."""
    for p in series_patches(patchdir):
        text = open(os.path.join(patchdir, p), encoding="utf-8", errors="surrogateescape").read()
        added = sum(1 for ln in text.split("\n") if ln.startswith("+") and not ln.startswith("+++"))
        crate = [m.group(2)[len(TREE_DIR):] for m in (DIFF.match(ln) for ln in text.split("\n"))
                 if m and m.group(2).startswith(TREE_DIR)]
        print(f"{p[:4]} {added:5d}  {patch_subject(text)}" + (f"\n           crate: {' '.join(crate)}" if crate else ""))
    return 0


def main(argv):
    if len(argv) == 3 and argv[1] == "map":
        for repo, tree in mapping(argv[2]).items():
            print(f"{repo}\t{tree}")
        return 0
    if len(argv) == 5 and argv[1] == "step":
        mapping(argv[2])
        try:
            files = step_files(argv[2], argv[3])
        except KeyError:
            return 3
        for path, text in files.items():
            dst = os.path.join(argv[4], path)
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            with open(dst, "w", encoding="utf-8", errors="surrogateescape") as f:
                f.write(text)
        return 0
    if len(argv) == 4 and argv[1] == "check":
        return check(argv[2], argv[3])
    if len(argv) == 4 and argv[1] == "table":
        return table(argv[2], argv[3])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
