#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# bpfsig's whole test suite, from a fresh machine or incrementally:
#   1. host: rustfmt, clippy (deny lints), cargo test (unit, property, vectors)
#   2. fuzz smoke run of every cargo-fuzz target
#   3. kernel: fetch 7.2, apply patches/, build (cache: ~/.cache/bpfsig)
#   4. the patched tree's disassembler on loader calls (host)
#   5. KUnit in QEMU (bpfsig_metadata, bpfsig_digest and bpfsig_resolve must
#      run and pass with their pinned cases)
#   6. userspace: libbpf and bpftool from the patched tree, signed light
#      skeletons of real BPF programs (reproducible), 7.2's test_progs tests
#   7. VM selftests under virtme-ng (syscall-level cases and the skeletons)
#   8. 7.2's test_progs; the kernel variants (CONFIG_BPFSIG=n, IPE without
#      BPF properties) and their smoke sets
# Exits non-zero at the first failing stage; the last line always gives the
# totals per layer so far.
# --debug: the same run on the KASAN + lockdep kernel (qemu/debug.config,
# build-debug/), with longer VM time limits.
if [ "${1:-}" = --debug ]; then
	export BPFSIG_DEBUG=1
	shift
fi
. "$(dirname "$0")/lib.sh"

t0=$(date +%s)
# A run that starts without a built kernel is a cold one (scripts/bench.sh
# reports the last); every run that passes is recorded.
run_kind=$([ -f "$KBUILD/vmlinux" ] && echo warm || echo cold)
timing_start "test$([ "${BPFSIG_DEBUG:-0}" = 1 ] && echo -debug)"
stage() { log "== $* ($(since "$t0") s)"; timing_stage "${*%%:*}"; }
cd "$BPFSIG_ROOT"

# Totals per layer, printed on every exit.
declare -A totals
totals_line() {
	local l out=""
	for l in runner host mutants fuzz disasm repro inspect kunit vm test_progs variants; do
		[ -n "${totals[$l]:-}" ] && out+="${out:+; }$l ${totals[$l]}"
	done
	log "totals: ${out:-no layer ran} ($(since "$t0") s)"
}
trap totals_line EXIT

stage "series: patches/ carries the repository's in-kernel sources as they are"
python3 scripts/series/series.py check "$BPFSIG_ROOT" "$BPFSIG_ROOT/patches"

stage "runner: its own checks refuse what they must"
bash scripts/check/runner-check.sh | tee "$BPFSIG_CACHE/runner-check.log"
totals[runner]=$(sed -n 's/^runner: \([0-9]*\) .*/\1 crafted inputs/p' "$BPFSIG_CACHE/runner-check.log")

stage "toolchain and the 7.2 sources"
setup_and_fetch

stage "host: fmt, clippy, cargo test"
cargo fmt --all -- --check || die "cargo fmt --check: run cargo fmt"
# The kernel crate is not a cargo package: rustfmt follows its crate
# root's mod lines (rust/bpfsig/ is laid out as in the kernel tree).
rustfmt --edition 2021 --check rust/bpfsig/bpfsig.rs ||
	die "rustfmt --check of the kernel crate: run rustfmt --edition 2021 rust/bpfsig/bpfsig.rs"
python3 scripts/series/series.py fmt . || die "the crate root is not rustfmt-clean at every patch"
cargo clippy -q --workspace --all-targets -- -D warnings || die "clippy found problems"
set +e
cargo test --workspace >"$BPFSIG_CACHE/cargo-test.log" 2>&1
rc=$?
set -e
grep -E '^(test result|error|failures|---- )' "$BPFSIG_CACHE/cargo-test.log" || true
# A test binary killed by a signal prints no FAILED line: the status decides.
((rc == 0)) || die "cargo test failed, status $rc (log: $BPFSIG_CACHE/cargo-test.log)"
grep -q '^test result: ok' "$BPFSIG_CACHE/cargo-test.log" || die "cargo test ran nothing (log: $BPFSIG_CACHE/cargo-test.log)"
totals[host]=$(awk '/^test result:/ {p+=$4; f+=$6} END {print p " passed, " f " failed"}' "$BPFSIG_CACHE/cargo-test.log")

stage "mutation check: the review's mutants of the core must each fail a test"
python3 scripts/check/mutation-check.py | tee "$BPFSIG_CACHE/mutants.log" | grep -v '^  killed' || true
grep -qE '^mutants: [0-9]+ killed, 0 survived(, [0-9]+ stopped by the compiler)?$' "$BPFSIG_CACHE/mutants.log" || die "a mutant of the core survived the tests (log: $BPFSIG_CACHE/mutants.log)"
totals[mutants]=$(sed -n 's/^mutants: //p' "$BPFSIG_CACHE/mutants.log")

stage "fuzz smoke"
bash scripts/check/fuzz.sh "${BPFSIG_FUZZ_SECONDS:-5}"
totals[fuzz]="4 targets, 0 crashes"

stage "kernel"
bash scripts/build/build-kernel.sh

stage "disassembler (host, patched tree)"
bash scripts/check/disasm-test.sh | tee "$BPFSIG_CACHE/disasm.log"
totals[disasm]="$(grep -c '^ok:' "$BPFSIG_CACHE/disasm.log") passed, 0 failed"

stage "userspace: bpftool gen skeleton -L -S of real BPF programs"
bash scripts/build/build-skels.sh --repro
totals[repro]="3 signed skeletons byte-identical"
bash scripts/build/build-skels.sh
bash scripts/check/inspect-skels.sh | tee "$BPFSIG_CACHE/inspect.log"
totals[inspect]=$(sed -n 's/^inspect: //p' "$BPFSIG_CACHE/inspect.log")
bash scripts/build/build-test-progs.sh

stage "KUnit in QEMU"
set +e
# the project's suites, each with its pinned number of cases
pins=$(expected kunit | awk '{ printf "%s%s=%s", (NR > 1 ? "," : ""), $1, $2 }')
[ -n "$pins" ] || die "no KUnit pins in selftests/expected-counts"
BPFSIG_KUNIT_REQUIRE=${BPFSIG_KUNIT_REQUIRE:-$pins} bash scripts/vm/run-kunit.sh |
	tee "$BPFSIG_CACHE/kunit.summary"
rc=${PIPESTATUS[0]}
set -e
totals[kunit]=$(sed -n 's/^kunit: \([0-9]* passed, [0-9]* failed, [0-9]* skipped\)$/\1/p' "$BPFSIG_CACHE/kunit.summary")
((rc == 0)) || die "KUnit failed"

stage "VM selftests"
set +e
bash scripts/vm/run-selftests.sh
rc=$?
set -e
totals[vm]=$(sed -n 's/^selftests: \(.*\)$/\1/p' "$BPFSIG_CACHE/selftests.log" | tail -1)
((rc == 0)) || die "VM selftests failed"
bash scripts/check/inspect-skels.sh --kernel-tags "$BPFSIG_CACHE/selftests.log"

stage "7.2's test_progs: signed_loader and map_excl, built from the patched tree"
bash scripts/vm/run-test-progs.sh | tee "$BPFSIG_CACHE/test_progs.summary"
totals[test_progs]=$(sed -n 's/^test_progs: //p' "$BPFSIG_CACHE/test_progs.summary")

stage "kernel variants: the series without bpfsig, IPE without its BPF properties"
# Each is built from a copy of the main build (only what the changed options
# touch is rebuilt) and boots into its smoke set (selftests/src/cases/variant.rs).
if [ "${BPFSIG_DEBUG:-0}" = 1 ]; then
	log "skipped on the debug kernel (the variants are the project's config minus an option)"
else
	out=""
	for v in bpfsig-n ipe-prop-n; do
		BPFSIG_VARIANT=$v bash scripts/build/build-kernel.sh
		BPFSIG_VARIANT=$v bash scripts/vm/run-selftests.sh || die "the $v kernel failed its smoke set"
		out+="${out:+, }$v $(sed -n 's/^selftests: \([0-9]*\) passed.*/\1/p' "$BPFSIG_CACHE/selftests-$v.log" | tail -1)/$(expected "vm-$v")"
	done
	totals[variants]=$out
fi

log "all tests passed in $(since "$t0") s"
timing_done
echo "$(date -u +%Y-%m-%dT%H:%MZ) $(since "$t0") $([ "${BPFSIG_DEBUG:-0}" = 1 ] && echo debug-)$run_kind" >>"$BPFSIG_CACHE/test-runs.log"
