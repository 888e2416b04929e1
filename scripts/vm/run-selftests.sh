#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Run the VM selftests: boot the built kernel with virtme-ng (host root file
# system, read-only, TCG) and run the bpfsig-selftest binary inside it.
# Exits with the selftest's status; QEMU problems get the console's last lines.
# Whatever the cases said, the run fails if the kernel log shows a warning, a
# BUG or oops, a refcount, KASAN, UBSAN or lockdep report.
. "$(dirname "$0")/../lib.sh"

img=$KBUILD/arch/x86/boot/bzImage
[ -f "$img" ] || die "no kernel at $img (run scripts/build/build-kernel.sh)"
[ -x "$VNG" ] || die "virtme-ng is not installed in $VENV (run scripts/build/setup-toolchain.sh)"
command -v udevadm >/dev/null || die "udev is not installed; virtme-ng needs it"

(cd "$BPFSIG_ROOT" && cargo build -q --release -p bpfsig-selftests) || die "building the selftests failed"
bin=$CARGO_TARGET_DIR/release/bpfsig-selftest
skel=$BPFSIG_CACHE/skel
[ -x "$skel/bin/maps" ] || die "no light skeletons in $skel (run scripts/build/build-skels.sh)"
out=$BPFSIG_CACHE/selftests${BPFSIG_VARIANT:+-$BPFSIG_VARIANT}.log
limit=${BPFSIG_VM_TIMEOUT:-$([ "${BPFSIG_DEBUG:-0}" = 1 ] && echo 1500 || echo 300)}

# UEFI firmware whose db holds the platform test certificate: the kernel
# loads it into the platform keyring (bpf_keyring=PLATFORM). A fresh copy of
# the variable store each run (the firmware writes to it).
vars=$BPFSIG_CACHE/ovmf-vars.fd
[ -f "$OVMF_CODE" ] || die "no UEFI firmware at $OVMF_CODE (run scripts/build/setup-toolchain.sh)"
"$VENV/bin/virt-fw-vars" -i "$OVMF_VARS" -o "$vars" --add-db "$OVMF_DB_OWNER" \
	"$BPFSIG_ROOT/selftests/skel/keys/platform.crt.pem" >"$vars.log" 2>&1 ||
	die "virt-fw-vars could not enroll the platform certificate: $(tail -3 "$vars.log")"
UEFI_OPTS=(--disable-microvm "--qemu-opts=-machine q35 -drive if=pflash,format=raw,unit=0,file=$OVMF_CODE,readonly=on -drive if=pflash,format=raw,unit=1,file=$vars")

t0=$(date +%s)
log "selftests in a VM (virtme-ng, TCG, limit ${limit}s)"
set +e
# No terminal: stdin from /dev/null; the output goes to the log through tee.
# After the cases, the VM prints its kernel log behind a marker line.
marker=$KLOG_MARKER
timeout -k 10 "$limit" "$VNG" --run "$KBUILD" "${VM_OPTS[@]}" "${UEFI_OPTS[@]}" \
	--user root -- env BPFSIG_SKEL_DIR="$skel" BPFSIG_ROOT="$BPFSIG_ROOT" BPFSIG_VARIANT="${BPFSIG_VARIANT:-}" sh -c '"$0" "$@"; rc=$?; echo "'"$marker"'"; dmesg; exit $rc' "$bin" "$@" \
	</dev/null 2>"$out.stderr" | tee "$out" | sed "/^$marker\$/,\$d"
rc=${PIPESTATUS[0]}
set -e
if ! grep -q '^selftests: ' "$out"; then
	tail -20 "$out.stderr" >&2
	((rc == 124)) && die "the VM did not finish within ${limit}s"
	die "the VM ended (rc $rc) before the selftests reported"
fi
check_vm_klog "$out" "the selftests"
# A whole run (no filter) runs every pinned case, and skips none that is
# not listed as allowed to.
if [ $# = 0 ]; then
	read -r pass fail skip < <(sed -n 's/^selftests: \([0-9]*\) passed, \([0-9]*\) failed, \([0-9]*\) skipped$/\1 \2 \3/p' "$out" | tail -1)
	want=$(expected "vm${BPFSIG_VARIANT:+-$BPFSIG_VARIANT}")
	((pass + fail + skip == want)) ||
		die "the selftests ran $((pass + fail + skip)) cases, $want expected (selftests/expected-counts)"
	while read -r name; do
		expected vm-skip | grep -qxF "$name" || die "VM case $name skipped (not listed as allowed to in selftests/expected-counts)"
	done < <(sed -n 's/^ok [0-9]* \(.*\) # SKIP.*/\1/p' "$out")
fi
log "VM selftests done in $(since "$t0") s (rc $rc), kernel log clean"
exit "$rc"
