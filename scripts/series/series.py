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
  series.py fmt ROOT                 rustfmt --check of the crate root as
                                     each patch has it
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
    ("bpf: bpfsig: add a bounded reader for BTF types", [
        "rules/btf.rs",
    ]),
    ("bpf: bpfsig: add the rules for kfunc calls named in BTF", [
        "rules/proto.rs", "rules/resolve.rs",
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
ANY_MOD = re.compile(r"^\s*(?:pub\S* )?mod \w+;")


def crate_root_at(text, present):
    """The crate root with only the mod lines whose file is in `present`: a
    `mod x;` inside `mod rules {` is rules/x.rs, one at the top x.rs. The
    attributes right above a mod line go with it; a comment above a group
    of mod lines goes when the whole group does; no two blank lines stay
    in a row. A mod line of another form is an error, not kept by chance."""
    out, pending, attrs, block = [], [], [], ""
    group_mods = 0  # mod lines seen since `pending` started, none kept

    def emit(line):
        if line.strip() == "" and (not out or out[-1].strip() == ""):
            return
        out.append(line)

    for line in text.split("\n"):
        stripped = line.strip()
        m = MOD.match(line)
        if ANY_MOD.match(line) and not m:
            raise ValueError(f"mod line of an unexpected form: {line!r}")
        if stripped.startswith("#[") and not stripped.startswith("#!["):
            attrs.append(line)
        elif m:
            if block + m.group(2) + ".rs" in present:
                for x in pending + attrs + [line]:
                    emit(x)
                pending, group_mods = [], 0
            else:
                group_mods += 1
            attrs = []
        elif stripped.startswith("//") and not stripped.startswith("//!") and not attrs and not group_mods:
            pending.append(line)
        else:
            # The end of a group: a comment that no kept mod line followed
            # goes with its group; one above other code stays.
            if not group_mods:
                for x in pending:
                    emit(x)
            for x in attrs:
                emit(x)
            pending, attrs, group_mods = [], [], 0
            b = BLOCK.match(line)
            if b:
                block = b.group(1) + "/"
            elif stripped == "}":
                block = ""
            emit(line)
    for x in pending + attrs:
        emit(x)
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


HEADER = "include/linux/bpfsig.h"


def apply_crate_diffs(text, files, errors, name):
    """Applies the patch's changes under TREE_DIR, and to the header that
    declares the crate's entry points to C, to `files` ({path: text})."""
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        m = DIFF.match(lines[i])
        i += 1
        if not m or not (m.group(2).startswith(TREE_DIR) or m.group(2) == HEADER):
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
            # git am refuses a hunk whose line counts are wrong: so does this.
            want_old = int(h.group(2)) if h.group(2) is not None else 1
            want_new = int(h.group(4)) if h.group(4) is not None else 1
            n_old = n_new = 0
            j = i
            while j < len(lines) and lines[j][:1] in (" ", "-", "+", "\\"):
                n_old += lines[j][:1] in (" ", "-")
                n_new += lines[j][:1] in (" ", "+")
                j += 1
            if (n_old, n_new) != (want_old, want_new):
                errors.append(f"{name}: {path}: a hunk's line counts are wrong")
                return
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


MOD_ANY = re.compile(r"^\s*(?:pub\S* )?mod (\w+);", re.M)
EXPORT = re.compile(r"#\[export\]\s*pub unsafe extern \"C\" fn (\w+)")
OURS = re.compile(r"bindings::((?:bpfsig_|bpf_loader_kfunc_id)\w*)")
CFG = re.compile(r"#\[cfg\((CONFIG_BPFSIG\w*)\)\]")


def consistency(files, configs, name):
    """What would not build at this patch: a mod line without its file, a
    path to a module not added yet, an entry point or C function of ours
    without its declaration in <linux/bpfsig.h>, a config option not
    defined yet."""
    errors = []
    crate = {k[len(TREE_DIR):]: v for k, v in files.items() if k.startswith(TREE_DIR)}
    header = re.sub(r"/\*.*?\*/", "", files.get(HEADER, ""), flags=re.S)  # declarations only
    for rel, text in crate.items():
        if not rel.endswith(".rs"):
            continue
        if rel == CRATE_ROOT:
            mods, block = [], ""
            for line in text.split("\n"):
                b = BLOCK.match(line)
                if b:
                    block = b.group(1) + "/"
                elif line.strip() == "}":
                    block = ""
                m = MOD.match(line)
                if m:
                    mods.append(block + m.group(2) + ".rs")
        else:
            mods = [rel[:-3] + "/" + m + ".rs" for m in MOD_ANY.findall(text)]
        for mod in mods:
            if mod not in crate:
                errors.append(f"{name}: {rel} declares {mod}, which is not there yet")
        refs = {"rules/" + m + ".rs" for m in re.findall(r"crate::rules::(\w+)", text)}
        refs |= {m + ".rs" for m in re.findall(r"crate::(\w+)", text) if m not in ("rules",)}
        if rel.startswith("rules/"):
            refs |= {"rules/" + m + ".rs" for m in re.findall(r"\bsuper::(\w+)", text)}
        for r in sorted(refs):
            if r not in crate:
                errors.append(f"{name}: {rel} uses {r[:-3]}, which is not there yet")
        for fn in EXPORT.findall(text) + OURS.findall(text):
            if not re.search(r"\b" + fn + r"\(", header):
                errors.append(f"{name}: {rel} needs {fn}() declared in {HEADER}")
        for cfg in CFG.findall(text):
            if cfg[len("CONFIG_"):] not in configs:
                errors.append(f"{name}: {rel} uses {cfg}, which no Kconfig defines yet")
    return errors


def series_patches(patchdir):
    return sorted(p for p in os.listdir(patchdir) if p.endswith(".patch") and not p.startswith("0000-"))


def check(root, patchdir):
    mapping(root)
    errors, files, last_step, seen, configs, differ = [], {}, None, set(), set(), set()
    text = read(root, CRATE_ROOT)
    if crate_root_at(text, {rel for _, f in STEPS for rel in f}) != text:
        errors.append(f"{REPO_DIR}{CRATE_ROOT}: not kept whole when every file is there")
    for p in series_patches(patchdir):
        text = open(os.path.join(patchdir, p), encoding="utf-8", errors="surrogateescape").read()
        subject = patch_subject(text)
        apply_crate_diffs(text, files, errors, p)
        configs.update(re.findall(r"^\+config (\w+)$", text, re.M))
        errors += consistency(files, configs, p)
        if subject in dict(STEPS):
            last_step = subject
            seen.add(subject)
        want = crate_at(root, subject, last_step)
        for path in sorted(set(want) | {f for f in files if f.startswith(TREE_DIR)}):
            if path not in files:
                errors.append(f"{p}: {path} missing (the repository adds it at this patch)")
            elif path not in want:
                errors.append(f"{p}: {path} is not the repository's at this patch")
            elif files[path] != want[path] and path not in differ:
                differ.add(path)  # named at the first patch only
                errors.append(f"{p}: {path} differs from the repository's")
    for s, _ in STEPS:
        if s not in seen:
            errors.append(f"no patch has the subject \"{s}\" (STEPS in scripts/series/series.py)")
    cover = os.path.join(patchdir, "0000-cover-letter.patch")
    subject, _, body = open(os.path.join(root, "scripts/series/cover-letter.txt")).read().partition("\n")
    text = open(cover).read() if os.path.exists(cover) else ""
    # The blurb is everything between the headers and git's shortlog.
    m = re.search(r"\n\n(.*?)\n\n\S[^\n]*\(\d+\):\n", text, re.S)
    if patch_subject(text) != subject.strip() or not m or m.group(1) != body.strip("\n"):
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


def fmt(root):
    """The crate root as each patch has it is rustfmt-clean too."""
    import subprocess
    mapping(root)
    bad = 0
    for subject, _ in STEPS:
        text = step_files(root, subject)[TREE_DIR + CRATE_ROOT]
        r = subprocess.run(["rustfmt", "--edition", "2021", "--check"],
                           input=text.encode(), capture_output=True, check=False)
        if r.returncode:
            bad += 1
            print(f"series: the crate root at \"{subject}\" is not rustfmt-clean:\n{r.stdout.decode()}",
                  file=sys.stderr)
    return 1 if bad else 0


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
    if len(argv) == 3 and argv[1] == "fmt":
        return fmt(argv[2])
    if len(argv) == 4 and argv[1] == "table":
        return table(argv[2], argv[3])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
