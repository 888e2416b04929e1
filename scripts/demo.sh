#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# bpfsig's main job: from a fresh machine, build the 7.2 kernel with the
# series, build signed light skeletons of real BPF programs with the series'
# bpftool, boot the kernel and show, step by step, what it does with them
# (scripts/vm/demo-story.sh). Installs what it needs; the exit status says
# whether every step behaved as expected.
. "$(dirname "$0")/lib.sh"

t0=$(date +%s)
cd "$BPFSIG_ROOT"
timing_start demo
log "== setting up (toolchain, 7.2 sources, the series)"
timing_stage "toolchain and the 7.2 sources"
setup_and_fetch --no-fuzz
log "== building the kernel (cached after the first time)"
timing_stage "kernel"
bash scripts/build/build-kernel.sh
log "== building libbpf, bpftool and the signed skeletons from the patched tree"
timing_stage "userspace (libbpf, bpftool, signed skeletons)"
bash scripts/build/build-skels.sh

log "== offline, before booting anything: what bpfsig inspect says of them"
timing_stage "bpfsig inspect (host)"
(cd "$BPFSIG_ROOT" && cargo build -q -p bpfsig-cli) || die "building bpfsig failed"
"$CARGO_TARGET_DIR/debug/bpfsig" inspect "$BPFSIG_CACHE/skel/counter.lskel.h" --cert "$TEST_CERT" ||
	die "bpfsig inspect refused the skeleton the story loads"
log "   the copy with one byte of its data blob flipped (the story's step 2):"
set +e
"$CARGO_TARGET_DIR/debug/bpfsig" inspect "$BPFSIG_CACHE/skel/maps-tampered-data.lskel.h" --cert "$TEST_CERT" >/dev/null
rc=$?
set -e
((rc == 6)) || die "bpfsig inspect gave the tampered copy exit status $rc, not 6 (blob hash)"
log "   exit status 6: its data blob does not hash to what the loader checks"

log "== booting the bpfsig kernel (QEMU, TCG) and running the story"
timing_stage "VM (the story)"
t1=$(date +%s)
set +e
timeout -k 10 "${BPFSIG_VM_TIMEOUT:-300}" "$VNG" --run "$KBUILD" "${VM_OPTS[@]}" \
	--user root -- bash "$BPFSIG_ROOT/scripts/vm/demo-story.sh" "$BPFSIG_CACHE/skel" </dev/null 2>"$BPFSIG_CACHE/demo.stderr" &
vm=$!
while kill -0 "$vm" 2>/dev/null; do
	sleep 1
	(( ($(date +%s) - t1) % 30 == 0 )) && log "  VM running, $(since "$t1") s"
done
wait "$vm"
rc=$?
set -e
log "VM done in $(since "$t1") s; demo finished in $(since "$t0") s"
((rc == 0)) || { tail -5 "$BPFSIG_CACHE/demo.stderr" >&2; die "the demo did not go as expected (rc $rc)"; }
timing_done
