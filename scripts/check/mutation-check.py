#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Mutations a security review expected the tests to miss: each is applied
to a scratch copy of the repository, and `cargo test -p bpfsig-core` must
fail. The unmutated copy runs first and must pass; a mutant that does not
compile is reported as stopped, not killed. Prints one line per mutant;
exits 1 if any survives.

  scripts/check/mutation-check.py [NAME-FILTER]
  scripts/check/mutation-check.py --kernel [NAME-FILTER]   (kernel code: KUnit, VM)

Run by the test command. Broader, slower: `cargo mutants -p bpfsig-core`.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

CORE = "rust/bpfsig/rules/"

# (name, file, anchor, text, replacement). The anchor is the item the
# mutation is in ("pub fn decide", "const SAVED_LOADS"): it must occur once in
# the file, and the text once in that item, compared without whitespace,
# so that a rustfmt reflow neither drops a mutant nor moves it elsewhere.
MUTANTS = [
    ("digest: a map load with a zero imm does not take its second slot", CORE + "digest.rs",
     "fn prog_digest_batched",
     "if !starts_map_load(bytes, first) {",
     "if !starts_map_load(bytes, first) || bytes.get(first.saturating_add(4)..next) == Some(&[0u8; 4][..]) {"),
    ("digest: the slot after a map load's first may start another", CORE + "digest.rs",
     "fn prog_digest_batched",
     "let both = continues_map_load(bytes, next);\n        next = next.saturating_add(INSN_SIZE);",
     "let both = continues_map_load(bytes, next);"),
    ("digest: a valid second slot's imm stays in the digest", CORE + "digest.rs", "fn zero",
     "if both {\n            if let Some(imm) = imm_mut(bytes, second) {", "if false {\n            if let Some(imm) = imm_mut(bytes, second) {"),
    ("digest: a second imm that was zeroed is not put back", CORE + "digest.rs", "fn restore",
     "if let Some(dst) = imm_mut(stretch, first.saturating_add(INSN_SIZE)) {\n                *dst = imm1;\n            }", ""),
    ("digest: the last slots (after the last group of four) are not scanned", CORE + "digest.rs",
     "fn next_ld_imm64",
     "for s in quads.remainder().chunks_exact(INSN_SIZE) {", "for s in [0u8; 0].chunks_exact(INSN_SIZE) {"),
    ("digest: the program is not restored at the end", CORE + "digest.rs", "fn prog_digest_batched",
     "    h.update(bytes.get(from..).unwrap_or_default());\n"
     "    zeroed.restore(bytes.get_mut(from..).unwrap_or_default());\n",
     "    h.update(bytes.get(from..).unwrap_or_default());\n"),
    ("digest: a full set of zeroed imms is not hashed first", CORE + "digest.rs", "fn zero",
     "Some(rel) if self.len < N => rel,", "Some(rel) if self.len <= N => rel,"),
    ("digest: a hashed set is forgotten, not restored", CORE + "digest.rs", "fn zero",
     "self.restore(bytes.get_mut(*from..).unwrap_or_default());\n                *from = first;",
     "self.len = 0;\n                *from = first;"),
    ("digest: a set is restored before it is hashed", CORE + "digest.rs", "fn zero",
     "h.update(bytes.get(*from..first).unwrap_or_default());\n"
     "                self.restore(bytes.get_mut(*from..).unwrap_or_default());",
     "self.restore(bytes.get_mut(*from..).unwrap_or_default());\n"
     "                h.update(bytes.get(*from..first).unwrap_or_default());"),
    ("digest: more map loads per stretch than the stack budget", CORE + "digest.rs", "const SAVED_LOADS",
     "pub const SAVED_LOADS: usize = 32;", "pub const SAVED_LOADS: usize = 256;"),
    ("btf: no type_off % 4 check", CORE + "btf.rs", "fn sections",
     "if type_off % 4 != 0\n        || type_len", "if type_len"),
    ("btf: no layout/string overlap check", CORE + "btf.rs", "fn sections",
     "|| overlap(l, t)\n                || overlap(l, s)))", "|| overlap(l, t)))"),
    ("btf: no first-string NUL check", CORE + "btf.rs", "fn sections",
     "if strings.first() != Some(&0) || strings.last() != Some(&0) {",
     "if strings.last() != Some(&0) {"),
    ("btf: vlen read as 16 bits (before 7.2)", CORE + "btf.rs", "fn info_vlen",
     "    info & 0x00ff_ffff\n", "    info & 0xffff\n"),
    ("btf: kind read as 5 bits (before 7.2)", CORE + "btf.rs", "fn info_kind",
     "((info >> 24) & 0x7f) as u8", "((info >> 24) & 0x1f) as u8"),
    ("btf: extra_len of DECL_TAG 0", CORE + "btf.rs", "fn extra_len",
     "Self::Int | Self::Var | Self::DeclTag => 4,", "Self::Int | Self::Var => 4,"),
    ("btf: extra_len of VAR 0", CORE + "btf.rs", "fn extra_len",
     "Self::Int | Self::Var | Self::DeclTag => 4,", "Self::Int | Self::DeclTag => 4,"),
    ("btf: extra_len of INT 0", CORE + "btf.rs", "fn extra_len",
     "Self::Int | Self::Var | Self::DeclTag => 4,", "Self::Var | Self::DeclTag => 4,"),
    ("btf: extra_len of ARRAY 16", CORE + "btf.rs", "fn extra_len",
     "Self::Array => 12,", "Self::Array => 16,"),
    ("btf: extra_len of DATASEC 0", CORE + "btf.rs", "fn extra_len",
     "Self::Struct | Self::Union | Self::Datasec | Self::Enum64 =>",
     "Self::Struct | Self::Union | Self::Enum64 =>"),
    ("btf: extra_len of ENUM64 vlen*8", CORE + "btf.rs", "fn extra_len",
     "Self::Struct | Self::Union | Self::Datasec | Self::Enum64 => n.saturating_mul(12),\n"
     "            Self::Enum | Self::FuncProto => n.saturating_mul(8),",
     "Self::Struct | Self::Union | Self::Datasec => n.saturating_mul(12),\n"
     "            Self::Enum | Self::Enum64 | Self::FuncProto => n.saturating_mul(8),"),
    ("btf: extra_len of UNION 0", CORE + "btf.rs", "fn extra_len",
     "Self::Struct | Self::Union | Self::Datasec | Self::Enum64 =>",
     "Self::Struct | Self::Datasec | Self::Enum64 =>"),
    ("btf: extra_len of FUNC_PROTO vlen*12", CORE + "btf.rs", "fn extra_len",
     "Self::Enum | Self::FuncProto => n.saturating_mul(8),",
     "Self::Enum => n.saturating_mul(8),\n            Self::FuncProto => n.saturating_mul(12),"),
    ("proto: is_ret inverted", CORE + "proto.rs", "fn classify",
     "return if is_ret {", "return if !is_ret {"),
    ("proto: 5-argument bound off by one (>=)", CORE + "proto.rs", "fn func_proto",
     "if nargs > MAX_ARGS {", "if nargs >= MAX_ARGS {"),
    ("proto: 5-argument bound removed", CORE + "proto.rs", "fn func_proto",
     "if nargs > MAX_ARGS {", "if nargs > usize::MAX - 1 {"),
    ("resolve: no empty-name check", CORE + "resolve.rs", "fn resolve_id",
     "    if name.is_empty() {\n        return Err(bad_id);\n    }\n", ""),
    ("resolve: no loader-kfunc check", CORE + "resolve.rs", "fn resolve_id",
     "    if !kernel.is_loader_kfunc(kid) {\n        return Err(ResolveError::NotLoaderKfunc { insn });\n    }\n", ""),
    ("metadata: zero hashes accepted", CORE + "metadata.rs", "pub fn decide",
     "if hash.iter().all(|&b| b == 0) || map.sha.iter().all(|&b| b == 0) {", "if false {"),
    ("metadata: no hook for a promoted loader", CORE + "metadata.rs", "pub fn decide",
     "SigVerdict::Verified | SigVerdict::MetadataVerified => Ok(Decision::HookThenPromote),",
     "SigVerdict::Verified => Ok(Decision::HookThenPromote),\n"
     "        SigVerdict::MetadataVerified => Ok(Decision::NoPromotion),"),
    ("metadata: no check that the map is the caller's", CORE + "metadata.rs", "pub fn decide",
     "    if neq.neq(excl, caller.digest) {\n        return Err(MetaError::ForeignMap);\n    }\n", "    let _ = excl;\n"),
    ("metadata: unsigned BTF promoted", CORE + "metadata.rs", "pub fn decide",
     "        SigVerdict::Verified | SigVerdict::MetadataVerified if caller.unsigned_btf => {\n"
     "            Ok(Decision::NoPromotion)\n        }\n", ""),
]

RS = "kernel/bpf/bpfsig/"

# Mutants of the series' kernel code (`--kernel`), each applied to the
# kernel tree (a path in it), built, and booted into what must fail:
# "kunit" (the bpfsig KUnit suites) or "vm FILTER" (the VM selftests whose
# names contain FILTER). Slow (a rebuild and a boot per mutant), so not part
# of the test command.
KERNEL_MUTANTS = [
    ("glue: the map's frozen flag read as set", RS + "bpf_objects.rs", "fn snapshot",
     "frozen: core::ptr::read_volatile(&raw const (*map).frozen),", "frozen: true,", "kunit"),
    ("glue: the map's exclusive digest never read", RS + "bpf_objects.rs", "fn snapshot",
     "excl_prog_sha: (!excl.is_null()).then(|| excl.read()),", "excl_prog_sha: None,", "kunit"),
    ("glue: a passed check does not promote", RS + "metadata.rs", "fn verify_metadata",
     "            prog.promote()?;\n", "", "kunit"),
    ("glue: every metadata error is -EINVAL", RS + "metadata.rs", "impl From<MetaError> for Error",
     "Error::from_errno(e.to_errno())", "EINVAL", "kunit"),
    ("kfunc: registered for every program type", "kernel/bpf/loader.c",
     "static int __init bpf_loader_kfunc_init", "BPF_PROG_TYPE_SYSCALL,", "BPF_PROG_TYPE_UNSPEC,",
     "vm kfunc_from_a_socket_filter"),
    ("verifier: unsigned choices ignore an exclusive map bound first", "kernel/bpf/verifier.c",
     "static int deny_unsigned_choice", "if (map->excl_prog_sha) {", "if (0) {",
     "vm exclusive_map_with_"),
    ("verifier: an exclusive map named after an unsigned choice binds", "kernel/bpf/verifier.c",
     "static int check_map_prog_compatibility", "if (map->excl_prog_sha && env->excl_map_denied) {",
     "if (0) {", "vm exclusive_map_with_"),
    ("syscall: BPF_F_SIG_BTF without a signature accepted", "kernel/bpf/syscall.c",
     "static int bpf_prog_load", "if ((attr->prog_flags & BPF_F_SIG_BTF) && !attr->signature)",
     "if (0)", "vm sig_btf_flag_without_signature"),
    ("syscall: signed bytes past the dynptr size", "kernel/bpf/syscall.c",
     "static void *bpf_prog_signed_data", "||\n\t    bpf_dynptr_check_size(*size))", ")",
     "vm 16mib"),
    ("verifier: signed programs may carry CO-RE relocations", "kernel/bpf/verifier.c",
     "static int check_unsigned_relocations", "if (signed_prog) {", "if (0) {",
     "vm signed_load_with_core_relos"),
    ("verifier: CO-RE relocations may ride on an exclusive map", "kernel/bpf/verifier.c",
     "static int check_unsigned_relocations", 'env->excl_map_denied = "CO-RE relocations";', "",
     "vm core_relo_prog_cannot_bind_exclusive_map"),
    ("verifier: unsigned program-BTF calls may use an exclusive map", "kernel/bpf/verifier.c",
     "static int check_unsigned_relocations",
     'env->excl_map_denied = "program-BTF kfunc calls and no signature over its BTF";', "",
     "vm unsigned_prog_btf_call_cannot_bind_exclusive_map"),
    ("verifier: signed program-BTF calls without BPF_F_SIG_BTF", "kernel/bpf/verifier.c",
     "static int check_unsigned_relocations", "if (!prog->aux->sig.btf) {", "if (0) {",
     "vm insns_only_signature_prog_btf_call_is_eacces"),
    ("verifier: extensions may replace exclusive-map programs", "kernel/bpf/verifier.c",
     "static bool bpf_prog_code_vouched", "vouched = aux->used_maps[i]->excl_prog_sha;",
     "vouched = false;", "vm extension_cannot"),
    ("syscall: keyring 1 classified as BUILTIN", "kernel/bpf/syscall.c",
     "static enum bpf_sig_keyring bpf_classify_keyring", "return BPF_SIG_KEYRING_SECONDARY;",
     "return BPF_SIG_KEYRING_BUILTIN;", "vm ipe::bpf_keyring_secondary"),
    ("syscall: keyring 2 classified as USER", "kernel/bpf/syscall.c",
     "static enum bpf_sig_keyring bpf_classify_keyring", "return BPF_SIG_KEYRING_PLATFORM;",
     "return BPF_SIG_KEYRING_USER;", "vm ipe::bpf_keyring_platform"),
    ("ipe: bpf_signature=OK also matches METADATA_VERIFIED", "security/ipe/eval.c",
     "static bool evaluate_bpf", "return f->verdict == BPF_SIG_VERIFIED;",
     "return f->verdict != BPF_SIG_UNSIGNED;", "vm ipe::bpf_signature_matches"),
    ("ipe: bpf_kernel=FALSE never matches", "security/ipe/eval.c",
     "static bool evaluate_bpf", "return !f->kernel;", "return false;", "vm ipe::bpf_kernel_false"),
    ("ipe: the loader's keyring is not compared", "security/ipe/eval.c",
     "static bool evaluate_bpf", "f->loader_keyring == BPF_SIG_KEYRING_SECONDARY;", "true;",
     "vm ipe::loader_keyring"),
    ("ipe: audit records lose the loader's verdict", "security/ipe/audit.c",
     "static void audit_bpf", 'f->has_loader ? audit_bpf_verdict(f->loader_verdict) : "NONE",',
     '"NONE",', "vm ipe::audit_records"),
]


def item_spans(text, anchor):
    """Where each item `anchor` ("fn NAME", "static int NAME") is: from its
    line to the closing brace at its indentation (or, for a const, its
    semicolon). A C function under #ifdef may have a stub: both are found."""
    words = anchor.split()
    heads = list(re.finditer(r"^( *)(?:[a-z()]+ )*?%s\b" % r"\s+".join(map(re.escape, words)),
                             text, re.M))
    if not heads:
        raise ValueError(f"{anchor!r} does not occur")
    spans = []
    for h in heads:
        if "const" in words and words[0] != "static":
            end = text.index(";", h.end()) + 1
        else:
            close = re.compile(r"^%s\}" % h.group(1), re.M).search(text, h.end())
            if not close:
                raise ValueError(f"{anchor!r} has no closing brace")
            end = close.end()
        spans.append((h.start(), end))
    return spans


def item_span(text, anchor):
    spans = item_spans(text, anchor)
    if len(spans) != 1:
        raise ValueError(f"{anchor!r} occurs {len(spans)} times")
    return spans[0]


def flatten(text, span):
    kept = [i for i in span if not text[i].isspace()]
    return [i for n, i in enumerate(kept)
            if not (text[i] == "," and n + 1 < len(kept) and text[kept[n + 1]] in ")]}")]


def mutate(text, anchor, old, new):
    """`text` with `old` replaced by `new` inside the item `anchor`, where
    `old` must occur once, whitespace aside."""
    # The one item of that name that holds the text.
    found = []
    want = "".join(old[i] for i in flatten(old, range(len(old)))).rstrip(",")
    for start, end in item_spans(text, anchor):
        where = flatten(text, range(start, end))
        if "".join(text[i] for i in where).count(want):
            found.append((start, end))
    if len(found) != 1:
        raise ValueError(f"its text is in {len(found)} items {anchor!r}")
    start, end = found[0]
    # The item without whitespace and trailing commas (what rustfmt
    # changes), and where each kept character was.
    where = flatten(text, range(start, end))
    flat = "".join(text[i] for i in where)
    want = "".join(old[i] for i in flatten(old, range(len(old))))
    # A text that ends a list item ends with a comma rustfmt may drop.
    comma = want.endswith(",")
    want = want.rstrip(",")
    n = flat.count(want)
    if n != 1:
        raise ValueError(f"its text occurs {n} times in {anchor!r}")
    at = flat.index(want)
    lo, hi = where[at], where[at + len(want) - 1] + 1
    if comma and text[hi:].lstrip().startswith(","):
        hi = text.index(",", hi) + 1
    # Whole lines when the text was whole lines (a deletion leaves none).
    if old.startswith(" ") and text.rfind("\n", 0, lo) >= 0:
        lo = text.rfind("\n", 0, lo) + 1
    if old.endswith("\n") and text.find("\n", hi) >= 0:
        hi = text.find("\n", hi) + 1
    return text[:lo] + new + text[hi:]


def reflowed(text, anchor):
    """`text` with the item broken after every "(" and ", ", as rustfmt does
    to a line that grew too long (with a trailing comma before each ")")."""
    start, end = item_span(text, anchor)
    item = text[start:end].replace("(", "(\n        ").replace(", ", ",\n        ")
    item = item.replace(")", ",\n    )")
    return text[:start] + item + text[end:]


def kernel_main(root, flt):
    """Each kernel mutant, applied to the series tree, built in a build
    directory of its own (seeded from the main build) and booted into its
    test, which must fail. The tree is restored after each mutant, whatever
    happens."""
    cache = os.environ.get("BPFSIG_CACHE", os.path.expanduser("~/.cache/bpfsig"))
    ksrc = os.path.join(cache, "linux")
    build = os.path.join(cache, "build-mutants")
    main_build = os.path.join(cache, "build")
    env = dict(os.environ, BPFSIG_KBUILD=build,
               BPFSIG_KUNIT_ARGS="kunit.filter_glob=bpfsig_* kunit.filter=speed>slow")
    if subprocess.run(["git", "-C", ksrc, "status", "--porcelain"],
                      capture_output=True, text=True).stdout.strip():
        print(f"mutants: {ksrc} has uncommitted changes; refusing to mutate it")
        return 2
    if not os.path.exists(os.path.join(build, "vmlinux")):
        subprocess.run(["cp", "-a", main_build + "/.", build + "/"], check=True)

    def sh(cmd, log):
        with open(os.path.join(cache, log), "w") as out:
            return subprocess.run(["bash", "-c", f'. "{root}/scripts/lib.sh"; {cmd}'],
                                  env=env, stdout=out, stderr=subprocess.STDOUT).returncode

    def outcome(test):
        if sh('kmake -j"$(nproc)" bzImage', "mutants-kbuild.log") != 0:
            return "stopped"
        if test == "kunit":
            cmd = 'bash "$BPFSIG_ROOT/scripts/vm/run-kunit.sh"'
        else:
            cmd = 'bash "$BPFSIG_ROOT/scripts/vm/run-selftests.sh" %s' % (test.split(None, 1)[1:] or [""])[0]
        return "survived" if sh(cmd, "mutants-ktest.log") == 0 else "killed"

    chosen = [m for m in KERNEL_MUTANTS if flt in m[0]]
    # The control: the unmutated kernel passes the KUnit suites and every
    # VM case (one run of each that a chosen mutant uses).
    for test in sorted({m[5].split()[0] for m in chosen}):
        if outcome(test) != "survived":
            print(f"mutants: the unmutated kernel fails {test!r} (or does not build); "
                  f"nothing to measure ({cache}/mutants-k*.log)")
            return 2
    print("kernel mutants: the unmutated kernel passes the tests they use", flush=True)
    counts = {"killed": 0, "survived": 0, "stopped": 0}
    for name, path, anchor, old, new, test in chosen:
        f = os.path.join(ksrc, path)
        text = open(f).read()
        try:
            mutated = mutate(text, anchor, old, new)
        except ValueError as e:
            print(f"mutant {name!r} in {f}: {e}; update the list")
            return 2
        open(f, "w").write(mutated)
        try:
            r = outcome(test)
        finally:
            open(f, "w").write(text)
        counts[r] += 1
        print(f"  {r.upper() if r == 'survived' else r:9s} {name} ({test})", flush=True)
    print(f"kernel mutants: {counts['killed']} killed, {counts['survived']} survived"
          + (f", {counts['stopped']} stopped by the compiler" if counts["stopped"] else ""))
    return 1 if counts["survived"] else 0


def main():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    args = sys.argv[1:]
    if args[:1] == ["--kernel"]:
        return kernel_main(root, args[1] if len(args) > 1 else "")
    flt = args[0] if args else ""
    env = dict(os.environ)
    cache = env.get("BPFSIG_CACHE", os.path.expanduser("~/.cache/bpfsig"))
    env["CARGO_TARGET_DIR"] = os.path.join(cache, "mutants-target")
    scratch = tempfile.mkdtemp(prefix="bpfsig-mutants-")
    try:
        # Fresh mtimes (shutil.copy, not copy2): the target directory is
        # shared between runs, and a copy with the repository's old mtimes
        # would reuse what the last run built from its last mutant.
        shutil.copytree(root, os.path.join(scratch, "repo"), copy_function=shutil.copy,
                        ignore=shutil.ignore_patterns(".git", "target", "patches"))
        repo = os.path.join(scratch, "repo")
        test = ["cargo", "test", "-q", "-p", "bpfsig-core"]

        def run(cmd):
            return subprocess.run(cmd, cwd=repo, env=env, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL).returncode

        # The control: the unmutated copy must build and pass, or every
        # mutant would read as killed.
        if run(test) != 0:
            print("mutants: the unmutated copy fails its tests; nothing to measure")
            return 2
        # Each mutant is found in its item, and still found after a reflow.
        for name, path, anchor, old, new in MUTANTS:
            text = open(os.path.join(repo, path)).read()
            try:
                mutate(text, anchor, old, new)
                mutate(reflowed(text, anchor), anchor, old, new)
            except ValueError as e:
                print(f"mutant {name!r} in {path}: {e}; update the list")
                return 2
        killed = survivors = stopped = 0
        for name, path, anchor, old, new in MUTANTS:
            if flt not in name:
                continue
            f = os.path.join(repo, path)
            text = open(f).read()
            try:
                mutated = mutate(text, anchor, old, new)
            except ValueError as e:
                print(f"mutant {name!r} in {path}: {e}; update the list")
                return 2
            open(f, "w").write(mutated)
            try:
                # A mutant the compiler refuses (a const assert, a type
                # error) is not killed by a test: count it apart.
                if run(test + ["--no-run"]) != 0:
                    stopped += 1
                    print(f"  stopped   {name} (does not compile)")
                elif run(test) == 0:
                    survivors += 1
                    print(f"  SURVIVED  {name}")
                else:
                    killed += 1
                    print(f"  killed    {name}")
            finally:
                open(f, "w").write(text)
        print(f"mutants: {killed} killed, {survivors} survived"
              + (f", {stopped} stopped by the compiler" if stopped else ""))
        return 1 if survivors else 0
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
