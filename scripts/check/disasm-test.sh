#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The patched tree's BPF disassembler (kernel/bpf/disasm.c, which bpftool
# shares) prints loader kfunc calls once and readably: build it on the host
# with selftests/disasm/disasm_test.c and run it.
. "$(dirname "$0")/../lib.sh"

[ -d "$KSRC/.git" ] || die "no kernel tree at $KSRC (run scripts/build/fetch-kernel.sh)"
out=$BPFSIG_CACHE/disasm-test
clang-19 -O1 -w -I"$KSRC/tools/include" -I"$KSRC/tools/include/uapi" -I"$KSRC/kernel/bpf" \
	-include "$KSRC/tools/include/linux/kernel.h" \
	"$BPFSIG_ROOT/selftests/disasm/disasm_test.c" "$KSRC/kernel/bpf/disasm.c" -o "$out" ||
	die "building the disassembler test failed"
"$out" || die "the disassembler prints loader kfunc calls wrongly (see above)"
