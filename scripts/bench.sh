#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# bpfsig's benchmarks (not part of the test command). Every figure is
# measured in this run, on this machine and kernel, and each comparison is a
# ratio against a baseline measured in the same run:
# Guest work is counted with QEMU's -icount (deterministic; decides the
# targets), wall-clock guest time under plain TCG is shown beside it:
#   1. digest: Rust in-place digest vs bpf_prog_calc_tag() (KUnit bpfsig_bench)
#   2. loader: instructions and verified instructions, kfunc vs 7.2's inline check
#   3. load latency: bpf_load_and_run() of a signed skeleton, both loader shapes
#   4. resolution: PROG_BTF calls vs the same calls by vmlinux id, 1..2048 calls
#   5. build loop: warm test run, one Rust file touched, one C file touched
#   6. fresh machine: the stage times of the last demo.sh and test.sh runs
#      that started from an empty cache (timing-*-fresh.txt)
# Writes BENCHMARKS.md (machine, date, commit) and prints it.
#   BPFSIG_BENCH_RUNS   loads per skeleton for 3 (default 101)
#   BPFSIG_BENCH_QUICK=1  skip 5's warm test run
#   BPFSIG_BENCH_COLD_FROM  the cache dirs of those runs, space-separated
#                           (default: this one)
. "$(dirname "$0")/lib.sh"

cd "$BPFSIG_ROOT"
t0=$(date +%s)
runs=${BPFSIG_BENCH_RUNS:-101}
out=$BPFSIG_CACHE/bench
rm -rf "$out" && mkdir -p "$out"
ratio() { python3 -c "import sys; a, b = float(sys.argv[1]), float(sys.argv[2]); print(f'{a / b:.2f}' if b else '-')" "$1" "$2"; }

setup_and_fetch --no-fuzz
bash scripts/build/build-kernel.sh
bash scripts/build/build-skels.sh
(cargo build -q --release -p bpfsig-selftests) || die "building the selftests failed"

# Each benchmark runs twice: under QEMU's instruction counting (-icount
# shift=0,sleep=off: the guest's clocks advance 1 ns per guest instruction,
# so a duration is the guest's work, the same from run to run), which
# decides the targets, and under plain TCG (wall-clock guest time, which
# moves with the host's load), shown beside it.
# One vCPU: with instruction counting QEMU runs vCPUs in turn on one thread,
# where a CPU spinning for another (the clocksource watchdog's skew check)
# stalls RCU; one vCPU is also one instruction stream, so one count.
ICOUNT="-icount shift=0,sleep=off"
for mode in icount wall; do
	mkdir -p "$out/$mode"
	extra=""
	[ "$mode" = icount ] && extra="$ICOUNT -smp 1"
	log "== 1. digest: KUnit bpfsig_bench in QEMU ($mode)"
	BPFSIG_QEMU_EXTRA="$extra" BPFSIG_KUNIT_ARGS="kunit.filter_glob=bpfsig_bench" BPFSIG_KUNIT_REQUIRE=bpfsig_bench \
		BPFSIG_KUNIT_TIMEOUT=1800 bash scripts/vm/run-kunit.sh >"$out/$mode/kunit.txt" ||
		{ cat "$out/$mode/kunit.txt"; die "the digest benchmark failed ($mode)"; }
	grep -o 'bench digest .*' "$BPFSIG_CACHE/kunit/console.log.txt" >"$out/$mode/digest.txt" || die "no digest results ($mode)"

	log "== 2-4. loaders, load latency and resolution in a VM ($mode)"
	cat >"$out/vm.sh" <<EOF
set -e
cd "$BPFSIG_CACHE/skel"
for p in counter maps lsm; do
	for v in "" -7.2; do bin/\$p\$v signing.crt.der | sed -n "s/^# loader verified_insns /loader \$p\$v verified_insns /p"; done
done
# rounds alternate the two loader shapes, so that drift hits both alike
for round in 1 2 3 4 5; do
	for p in counter maps lsm; do
		for v in "" -7.2; do SKEL_BENCH=$((runs / 5)) bin/\$p\$v signing.crt.der | sed -n "s/^sample [a-z]* /sample \$p\$v /p"; done
	done
done
$CARGO_TARGET_DIR/release/bpfsig-selftest --bench-resolution counter.lskel.h maps.lskel.h lsm.lskel.h
EOF
	qemu=()
	[ "$mode" = icount ] && qemu=(--cpus 1 "--qemu-opts=$ICOUNT")
	timeout -k 10 2400 "$VNG" --run "$KBUILD" "${VM_OPTS[@]}" "${qemu[@]}" --user root -- \
		bash "$out/vm.sh" </dev/null >"$out/$mode/vm.txt" 2>"$out/$mode/vm.stderr" ||
		{ tail "$out/$mode/vm.stderr"; die "the VM benchmarks failed ($mode)"; }
done

# stats MODE NAME PREFIX: PREFIX_median, _p10, _p90 of NAME's load samples
stats() {
	sed -n "s/^sample $2 load_ns=//p" "$out/$1/vm.txt" | sort -n | awk -v p="$3" \
		'{ v[NR] = $1 } END { printf "%s_median=%d; %s_p10=%d; %s_p90=%d;", p, v[int(NR / 2) + 1], p, v[int(NR / 10) + 1], p, v[int(NR * 9 / 10) + 1] }'
}


log "== 5. build loop"
build_time() { local t=$(date +%s); bash scripts/build/build-kernel.sh >/dev/null; since "$t"; }
touch "$KSRC/kernel/bpf/bpfsig/metadata.rs"
rust_s=$(build_time)
touch "$KSRC/kernel/bpf/loader.c"
c_s=$(build_time)
if [ "${BPFSIG_BENCH_QUICK:-0}" = 1 ]; then
	warm_s="-"
else
	t=$(date +%s)
	bash scripts/test.sh >"$out/test.txt" 2>&1 || { tail -20 "$out/test.txt"; die "the warm test run failed"; }
	warm_s=$(since "$t")
fi

[ -f BENCHMARKS.md ] && cp BENCHMARKS.md "$out/previous.md"
{
	echo "# bpfsig benchmarks"
	echo
	echo "Written by \`scripts/bench.sh\`; every figure below was measured in one run of it."
	echo
	echo "- machine: $(nproc) CPUs ($(sed -n 's/^model name\t: //p' /proc/cpuinfo | head -1)), $(free -g | awk '/Mem:/ {print $2}') GiB, QEMU TCG (no KVM), QEMU $(qemu-system-x86_64 --version | sed -n 's/.*version \([^ ]*\).*/\1/p')"
	echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "- commit: $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- . ':!BENCHMARKS.md' || echo ' (with uncommitted changes)'), kernel $(cat "$KBUILD/include/config/kernel.release")"
	echo
	python3 scripts/bench/bench-report.py "$out" "$runs" "$BPFSIG_CACHE/skel"
	echo
	echo "## 5. Build loop"
	echo
	echo "Wall-clock seconds on this machine. One file touched, then bzImage rebuilt:"
	echo
	echo "| step | seconds |"
	echo "|---|---:|"
	echo "| warm re-run of \`scripts/test.sh\` | $warm_s |"
	echo "| one Rust file touched → bzImage | $rust_s |"
	echo "| one C file touched → bzImage | $c_s |"
	echo
	echo "## 6. A fresh machine: the README's two commands from an empty cache"
	echo
	# shellcheck disable=SC2086 # a list of directories
	python3 scripts/bench/bench-fresh.py ${BPFSIG_BENCH_COLD_FROM:-$BPFSIG_CACHE}
} >BENCHMARKS.md
cat BENCHMARKS.md
# Repeatability: the icount ratios against the previous BENCHMARKS.md (if it
# had them), each within 1 %.
if [ -f "$out/previous.md" ] && grep -q icount "$out/previous.md"; then
	python3 scripts/bench/bench-compare.py "$out/previous.md" BENCHMARKS.md ||
		log "an icount ratio moved by more than 1 %, or a share by more than 0.05 points, since the previous BENCHMARKS.md (bench-compare above)"
fi
log "benchmarks done in $(since "$t0") s; written to BENCHMARKS.md"
