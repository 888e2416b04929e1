#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Run the tree's BPF selftests signed_loader and map_excl (7.2's, adapted by
# the series) and ipe_bpf (added by the series), built from the patched tree
# by scripts/build/build-test-progs.sh, on the bpfsig kernel in a VM. ipe_bpf signs
# its IPE policies with the test key, builtin-trusted in the test kernel.
# Fails unless every subtest passed and the kernel log is clean.
. "$(dirname "$0")/../lib.sh"

img=$KBUILD/arch/x86/boot/bzImage
tp=$BPFSIG_CACHE/test_progs
[ -f "$img" ] || die "no kernel at $img (run scripts/build/build-kernel.sh)"
[ -x "$tp/test_progs" ] || die "no test_progs in $tp (run scripts/build/build-test-progs.sh)"
out=$BPFSIG_CACHE/test_progs.log
marker=$KLOG_MARKER
t0=$(date +%s)
log "test_progs -t signed_loader,map_excl,ipe_bpf in a VM"
set +e
timeout -k 10 "${BPFSIG_VM_TIMEOUT:-300}" "$VNG" --run "$KBUILD" "${VM_OPTS[@]}" \
	--user root -- env IPE_BPF_POLICY_KEY="$tp/build/signing_key.pem" sh -c 'cd "$0" && ./test_progs -t signed_loader,map_excl,ipe_bpf; echo "'"$marker"'"; dmesg' "$tp" \
	</dev/null >"$out" 2>"$out.stderr"
set -e
sed "/^$marker\$/,\$d" "$out" | grep -E '^#|^Summary' || true
summary=$(grep '^Summary: ' "$out" || true)
[ -n "$summary" ] || { tail -20 "$out.stderr" >&2; die "test_progs did not report (log: $out)"; }
check_vm_klog "$out" "test_progs"
# every subtest of both tests must run and pass
subtests=$(grep -cE '^#[0-9]+/[0-9]+ +[a-z_]+/[a-z_]+:OK$' "$out" || true)
failed=$(grep -cE '^#[0-9]+(/[0-9]+)? +[a-z_/]+:FAIL' "$out" || true)
[[ "$summary" == "Summary: 3/"*" PASSED, 0 SKIPPED, 0 FAILED" ]] && ((failed == 0 && subtests > 0)) ||
	die "test_progs: $summary ($subtests subtests ok, $failed failed; log: $out)"
# and each test ran its pinned number of subtests
while read -r t n; do
	got=$(grep -cE "^#[0-9]+/[0-9]+ +$t/[a-z_0-9]+:OK\$" "$out" || true)
	((got == n)) || die "test_progs: $t ran $got subtests, $n expected (selftests/expected-counts)"
done < <(expected test_progs)
echo "test_progs: $subtests passed, 0 failed"
log "test_progs done in $(since "$t0") s, kernel log clean"
