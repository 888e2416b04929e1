#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Boot the built kernel in QEMU, let the built-in KUnit suites run, and
# summarise their KTAP output. Exits non-zero if any test failed, the kernel
# panicked or oopsed, or no complete results appeared within the time limit.
#
# QEMU uses TCG: on these machines /dev/kvm opens but QEMU aborts or hangs with
# it. BPFSIG_ACCEL=kvm tries it anyway. BPFSIG_QEMU_EXTRA: more QEMU
# arguments (the benchmarks' -icount).
. "$(dirname "$0")/../lib.sh"

limit=${BPFSIG_KUNIT_TIMEOUT:-$([ "${BPFSIG_DEBUG:-0}" = 1 ] && echo 900 || echo 180)}
img=$KBUILD/arch/x86/boot/bzImage
[ -f "$img" ] || die "no kernel at $img (run scripts/build/build-kernel.sh)"
out=$BPFSIG_CACHE/kunit
mkdir -p "$out"
console=$out/console.log

# A tiny initramfs whose init powers off at once, so the boot ends cleanly
# after the tests instead of panicking on a missing root.
initrd=$out/initramfs.cpio.gz
if [ ! -f "$initrd" ]; then
	r=$out/initramfs
	rm -rf "$r" && mkdir -p "$r/bin"
	cp /bin/busybox "$r/bin/" || die "busybox-static is missing"
	printf '#!/bin/busybox sh\n/bin/busybox echo BPFSIG-INIT-REACHED\n/bin/busybox poweroff -f\n' >"$r/init"
	chmod +x "$r/init"
	(cd "$r" && find . | cpio -o -H newc --quiet | gzip -1 >"$initrd")
fi

t0=$(date +%s)
log "booting $(basename "$img") under ${BPFSIG_ACCEL:-tcg} (limit ${limit}s), console: $console"
set +e
timeout --foreground -k 5 "$limit" qemu-system-x86_64 -accel "${BPFSIG_ACCEL:-tcg}" -M q35 -cpu max -smp 2 -m 1G \
	-nographic -no-reboot -kernel "$img" -initrd "$initrd" \
	-append "console=ttyS0 panic=-1 oops=panic kunit.enable=1 ${BPFSIG_KUNIT_ARGS:-kunit.filter=speed>slow}" \
	${BPFSIG_QEMU_EXTRA:-} </dev/null >"$console" 2>&1
rc=$?
set -e
tr -d '\r' <"$console" >"$console.txt"

fail() {
	log "last console lines:"
	tail -25 "$console.txt" >&2
	die "$*"
}
grep -qE 'Kernel panic|BUG:|Oops:|general protection fault' "$console.txt" &&
	! grep -q BPFSIG-INIT-REACHED "$console.txt" && fail "the kernel crashed during boot"
grep -qE "Kernel panic|$KERNEL_REPORTS" "$console.txt" &&
	fail "the kernel crashed, warned or reported a bug during the tests: $(grep -m1 -E "Kernel panic|$KERNEL_REPORTS" "$console.txt")"
((rc == 124 || rc == 137)) && fail "no complete results within ${limit}s (QEMU killed)"
grep -q BPFSIG-INIT-REACHED "$console.txt" || fail "QEMU exited ($rc) before init ran"

python3 "$BPFSIG_ROOT/scripts/vm/ktap_summary.py" "$console.txt" ${BPFSIG_KUNIT_REQUIRE:+--require "$BPFSIG_KUNIT_REQUIRE"}
log "KUnit done in $(since "$t0") s"
