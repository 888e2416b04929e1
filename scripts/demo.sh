#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# bpfsig's main job: from a fresh machine, build the 7.2 kernel with bpfsig
# in it, boot it, and show what it does. Installs what it needs.
. "$(dirname "$0")/lib.sh"

t0=$(date +%s)
cd "$BPFSIG_ROOT"
bash scripts/setup-toolchain.sh
bash scripts/fetch-kernel.sh
bash scripts/build-kernel.sh

log "== boot 1: the KUnit suites built into the kernel (bpfsig_core and bpfsig_bpf are ours)"
BPFSIG_KUNIT_REQUIRE=bpfsig_core,bpfsig_bpf bash scripts/run-kunit.sh

log "== boot 2: the booted kernel under virtme-ng, driving bpf(2)"
bash scripts/run-selftests.sh

log "demo finished in $(since "$t0") s"
