#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Run the cargo-fuzz targets: scripts/check/fuzz.sh SECONDS [TARGET...]
# Seeds (rust/fuzz/seeds) are read-only; the growing corpus lives in the cache.
# Stable rustc runs libFuzzer's -Z flags through RUSTC_BOOTSTRAP (no nightly
# toolchain can be fetched here). No sanitizer (-s none): Debian's rustc ships
# no ASan runtime, and the core forbids unsafe code, so Rust's own checks are
# what a crash would come from. Exits non-zero on any crash.
. "$(dirname "$0")/../lib.sh"

secs=${1:-10}
shift || true
targets=("$@")
((${#targets[@]})) || targets=(btf resolve digest inspect)
command -v cargo-fuzz >/dev/null || die "cargo-fuzz is not installed (run scripts/build/setup-toolchain.sh)"
cd "$BPFSIG_ROOT/rust/fuzz"
# cargo-fuzz builds with its own flags; keep its objects apart from the host's.
export CARGO_TARGET_DIR=$BPFSIG_CACHE/fuzz-target
export RUSTC_BOOTSTRAP=1
for t in "${targets[@]}"; do
	corpus=$BPFSIG_CACHE/fuzz/corpus/$t
	mkdir -p "$corpus"
	out=$BPFSIG_CACHE/fuzz/$t.log
	if ! cargo fuzz run -s none --fuzz-dir . "$t" "$corpus" "seeds/$t" -- \
		-max_total_time="$secs" -print_final_stats=1 >"$out" 2>&1; then
		grep -E -A20 'panicked|ERROR|SUMMARY' "$out" | head -40
		die "fuzz target $t crashed (log: $out; reproducer in rust/fuzz/artifacts/$t)"
	fi
	runs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$out" | tail -1 | grep -oE '[0-9]+$')
	rate=$(grep -oE 'stat::average_exec_per_sec: *[0-9]+' "$out" | tail -1 | grep -oE '[0-9]+$')
	cov=$(grep -oE 'cov: [0-9]+' "$out" | tail -1)
	log "fuzz $t: ${secs}s, $runs executions, $rate exec/s, $cov, 0 crashes"
done
