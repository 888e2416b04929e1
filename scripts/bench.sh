#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# bpfsig's benchmarks (not part of the test command). Every figure is
# measured in this run, on this machine and kernel, and each comparison is a
# ratio against a baseline measured in the same run:
#   1. digest: Rust in-place digest vs bpf_prog_calc_tag() (KUnit bpfsig_bench)
#   2. loader: instructions and verified instructions, kfunc vs 7.2's inline check
#   3. load latency: bpf_load_and_run() of a signed skeleton, both loader shapes
#   4. resolution: PROG_BTF calls vs the same calls by vmlinux id, 1..2048 calls
#   5. build loop: warm test run, one Rust file touched, one C file touched
#      (and the last cold run recorded by scripts/test.sh)
# Writes BENCHMARKS.md (machine, date, commit) and prints it.
#   BPFSIG_BENCH_RUNS   loads per skeleton for 3 (default 101)
#   BPFSIG_BENCH_QUICK=1  skip 5's warm test run
#   BPFSIG_BENCH_COLD_FROM  a cache dir whose test-runs.log has the cold run
#                           to report (e.g. the empty cache .ci/run was given)
. "$(dirname "$0")/lib.sh"

cd "$BPFSIG_ROOT"
t0=$(date +%s)
runs=${BPFSIG_BENCH_RUNS:-101}
out=$BPFSIG_CACHE/bench
rm -rf "$out" && mkdir -p "$out"
ratio() { python3 -c "import sys; a, b = float(sys.argv[1]), float(sys.argv[2]); print(f'{a / b:.2f}' if b else '-')" "$1" "$2"; }

bash scripts/setup-toolchain.sh
bash scripts/fetch-kernel.sh
bash scripts/build-kernel.sh
bash scripts/build-skels.sh
(cargo build -q --release -p bpfsig-selftests) || die "building the selftests failed"

log "== 1. digest: KUnit bpfsig_bench in QEMU"
BPFSIG_KUNIT_ARGS="kunit.filter_glob=bpfsig_bench" BPFSIG_KUNIT_REQUIRE=bpfsig_bench BPFSIG_KUNIT_TIMEOUT=900 \
	bash scripts/run-kunit.sh >"$out/kunit.txt" || { cat "$out/kunit.txt"; die "the digest benchmark failed"; }
grep -o 'bench digest .*' "$BPFSIG_CACHE/kunit/console.log.txt" >"$out/digest.txt" || die "no digest results"

log "== 2-4. loaders, load latency and resolution in a VM"
cat >"$out/vm.sh" <<EOF
set -e
cd "$BPFSIG_CACHE/skel"
for p in counter maps lsm; do
	for v in "" -7.2; do bin/\$p\$v signing.crt.der | sed -n "s/^# loader verified_insns /loader \$p\$v verified_insns /p"; done
done
# rounds alternate the two loader shapes, so that drift hits both alike
for round in 1 2 3 4 5; do
	for p in counter maps; do
		for v in "" -7.2; do SKEL_BENCH=$((runs / 5)) bin/\$p\$v signing.crt.der | sed -n "s/^sample [a-z]* /sample \$p\$v /p"; done
	done
done
$CARGO_TARGET_DIR/release/bpfsig-selftest --bench-resolution
EOF
timeout -k 10 1200 "$VNG" --run "$KBUILD" "${VM_OPTS[@]}" --user root -- \
	bash "$out/vm.sh" </dev/null >"$out/vm.txt" 2>"$out/vm.stderr" || { tail "$out/vm.stderr"; die "the VM benchmarks failed"; }

# stats NAME PREFIX: PREFIX_median, _p10, _p90 of NAME's load samples
stats() {
	sed -n "s/^sample $1 load_ns=//p" "$out/vm.txt" | sort -n | awk -v p="$2" \
		'{ v[NR] = $1 } END { printf "%s_median=%d; %s_p10=%d; %s_p90=%d;", p, v[int(NR / 2) + 1], p, v[int(NR / 10) + 1], p, v[int(NR * 9 / 10) + 1] }'
}

insns() { python3 - "$1" <<'PY'
import re, sys
t = open(sys.argv[1]).read()
m = re.search(r'static const char opts_insn\[\][^=]*= "\\\n(.*?)";', t, re.S)
print(len(re.findall(r'\\(?:x[0-9a-f]{2}|0)', m.group(1))) // 8)
PY
}

log "== 5. build loop"
build_time() { local t=$(date +%s); bash scripts/build-kernel.sh >/dev/null; since "$t"; }
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
cold=$(grep ' cold$' "${BPFSIG_BENCH_COLD_FROM:-$BPFSIG_CACHE}/test-runs.log" 2>/dev/null | tail -1 || true)

{
	echo "# bpfsig benchmarks"
	echo
	echo "Written by \`scripts/bench.sh\`; every figure below was measured in one run of it."
	echo
	echo "- machine: $(nproc) CPUs ($(sed -n 's/^model name\t: //p' /proc/cpuinfo | head -1)), $(free -g | awk '/Mem:/ {print $2}') GiB, QEMU TCG (no KVM)"
	echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "- commit: $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- . ':!BENCHMARKS.md' || echo ' (with uncommitted changes)'), kernel $(cat "$KBUILD/include/config/kernel.release")"
	echo
	echo "## 1. Program digest: Rust (in place) vs \`bpf_prog_calc_tag()\`"
	echo
	echo "In-kernel (KUnit \`bpfsig_bench\`), same generated programs, median of the runs, alternating."
	echo "Every Nth instruction is a map \`ld_imm64\` with both imms non-zero: dense (16) or sparse (512)."
	echo
	echo "| instructions | map load every | runs | Rust ns | C ns | Rust / C | Rust allocates | C allocates |"
	echo "|---:|---:|---:|---:|---:|---:|---:|---:|"
	while read -r line; do
		eval "$(echo "$line" | grep -o '[a-z_]*=[0-9]*' | sed 's/^/d_/' | tr '\n' ';')"
		echo "| $d_insns | $d_map_load_every | $d_runs | $d_rust_median_ns | $d_c_median_ns | $(ratio "$d_rust_median_ns" "$d_c_median_ns") | $d_rust_alloc_bytes B | $d_c_alloc_bytes B |"
	done <"$out/digest.txt"
	echo
	echo "## 2. Signed loaders: kfunc check vs 7.2's inline check"
	echo
	echo "Same BPF object, same kernel; the 7.2 loader is generated by 7.2's bpftool."
	echo
	echo "| object | loader insns (bpfsig) | loader insns (7.2) | verified insns (bpfsig) | verified insns (7.2) | verified ratio |"
	echo "|---|---:|---:|---:|---:|---:|"
	for p in counter maps lsm; do
		v=$(sed -n "s/^loader $p verified_insns //p" "$out/vm.txt")
		v72=$(sed -n "s/^loader $p-7.2 verified_insns //p" "$out/vm.txt")
		echo "| $p.bpf.c | $(insns "$BPFSIG_CACHE/skel/$p.lskel.h") | $(insns "$BPFSIG_CACHE/skel/$p-7.2.lskel.h") | $v | $v72 | $(ratio "$v" "$v72") |"
	done
	echo
	echo "## 3. Load latency of a signed skeleton (\`bpf_load_and_run()\`)"
	echo
	echo "$runs loads per skeleton in one VM boot, in five rounds alternating the two shapes; bpfsig's loader also loads its BTF. Target: within 5 %."
	echo
	echo "| object | bpfsig median µs | 7.2 shape median µs | ratio | bpfsig p10–p90 µs | 7.2 p10–p90 µs |"
	echo "|---|---:|---:|---:|---:|---:|"
	for p in counter maps; do
		eval "$(stats "$p" n) $(stats "$p-7.2" o)"
		echo "| $p.bpf.c | $((n_median / 1000)) | $((o_median / 1000)) | $(ratio "$n_median" "$o_median") | $((n_p10 / 1000))–$((n_p90 / 1000)) | $((o_p10 / 1000))–$((o_p90 / 1000)) |"
	done
	echo
	echo "## 4. Resolution of PROG_BTF calls"
	echo
	echo "Median BPF_PROG_LOAD time of a program with N calls to the kfunc, named through program BTF or by vmlinux id (same BTF, same map); the difference is the resolution."
	echo
	echo "| calls | PROG_BTF µs | vmlinux id µs | resolution µs | share of the load |"
	echo "|---:|---:|---:|---:|---:|"
	grep '^bench resolution calls=' "$out/vm.txt" | while read -r line; do
		eval "$(echo "$line" | grep -o '[a-z_]*=[0-9]*' | tr '\n' ';')"
		echo "| $calls | $((prog_btf_ns / 1000)) | $((vmlinux_id_ns / 1000)) | $((resolution_ns / 1000)) | $(python3 -c "print(f'{100 * $resolution_ns / $prog_btf_ns:.1f} %')") |"
	done
	echo
	echo "## 5. Build loop"
	echo
	echo "| step | seconds |"
	echo "|---|---:|"
	echo "| fresh machine, empty cache → test results (last cold \`scripts/test.sh\`, $( [ -n "$cold" ] && echo "${cold%% *}" || echo "none recorded"))  | $( [ -n "$cold" ] && echo "$cold" | awk '{print $2}' || echo "-") |"
	echo "| warm re-run of \`scripts/test.sh\` | $warm_s |"
	echo "| one Rust file touched → bzImage | $rust_s |"
	echo "| one C file touched → bzImage | $c_s |"
} >BENCHMARKS.md
cat BENCHMARKS.md
log "benchmarks done in $(since "$t0") s; written to BENCHMARKS.md"
