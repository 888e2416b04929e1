#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# bpfsig's whole test suite, from a fresh machine or incrementally:
#   1. host: rustfmt, clippy (deny lints), cargo test (unit, property, vectors)
#   2. fuzz smoke run of every cargo-fuzz target
#   3. kernel: fetch 7.2, apply patches/, build (cache: ~/.cache/bpfsig)
#   4. KUnit in QEMU (bpfsig_core must run and pass)
#   5. VM selftests under virtme-ng
# Exits non-zero at the first failing stage.
. "$(dirname "$0")/lib.sh"

t0=$(date +%s)
stage() { log "== $* ($(since "$t0") s)"; }
cd "$BPFSIG_ROOT"

stage "series: patches/ carries the repository's in-kernel sources as they are"
python3 scripts/series.py check "$BPFSIG_ROOT" "$BPFSIG_ROOT/patches"

stage "toolchain"
bash scripts/setup-toolchain.sh

stage "host: fmt, clippy, cargo test"
cargo fmt --all -- --check || die "cargo fmt --check: run cargo fmt"
# The kernel crate is not a cargo package: check its files where the kernel
# tree has them (rustfmt follows the crate root's mod lines).
fmt=$(mktemp -d)
while IFS=$'\t' read -r src dst; do cp "$src" "$fmt/${dst##*/}"; done < <(python3 scripts/series.py map .)
rustfmt --edition 2021 --check "$fmt/bpfsig.rs" | sed "s#$fmt/#kernel/bpf/bpfsig/#" ||
	{ rm -rf "$fmt"; die "rustfmt --check of the kernel crate: run rustfmt --edition 2021 on the files above"; }
rm -rf "$fmt"
cargo clippy -q --workspace --all-targets -- -D warnings || die "clippy found problems"
set +e
cargo test --workspace >"$BPFSIG_CACHE/cargo-test.log" 2>&1
rc=$?
set -e
grep -E '^(test result|error|failures|---- )' "$BPFSIG_CACHE/cargo-test.log" || true
# A test binary killed by a signal prints no FAILED line: the status decides.
((rc == 0)) || die "cargo test failed, status $rc (log: $BPFSIG_CACHE/cargo-test.log)"
grep -q '^test result: ok' "$BPFSIG_CACHE/cargo-test.log" || die "cargo test ran nothing (log: $BPFSIG_CACHE/cargo-test.log)"

stage "fuzz smoke"
bash scripts/fuzz.sh "${BPFSIG_FUZZ_SECONDS:-5}"

stage "kernel"
bash scripts/fetch-kernel.sh
bash scripts/build-kernel.sh

stage "KUnit in QEMU"
BPFSIG_KUNIT_REQUIRE=${BPFSIG_KUNIT_REQUIRE:-bpfsig_core,bpfsig_bpf} bash scripts/run-kunit.sh

stage "VM selftests"
bash scripts/run-selftests.sh

log "all tests passed in $(since "$t0") s"
