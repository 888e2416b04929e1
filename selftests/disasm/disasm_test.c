// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel's BPF disassembler (kernel/bpf/disasm.c, shared with bpftool)
 * on loader kfunc calls: each call prints once, with its imm once.
 * Built on the host against the patched tree by scripts/check/disasm-test.sh.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <linux/bpf.h>
#include "disasm.h"

static char out[256];

static void print(void *private_data, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(out, sizeof(out), fmt, ap);
	va_end(ap);
}

static int expect(__u8 src_reg, __s32 imm, const char *want)
{
	struct bpf_insn call = {
		.code = BPF_JMP | BPF_CALL, .src_reg = src_reg, .imm = imm,
	};
	struct bpf_insn_cbs cbs = { .cb_print = print };

	out[0] = 0;
	print_bpf_insn(&cbs, &call, false);
	if (strcmp(out, want)) {
		fprintf(stderr, "src_reg %u imm %d: got \"%s\", want \"%s\"\n",
			src_reg, imm, out, want);
		return 1;
	}
	printf("ok: %s", out);
	return 0;
}

int main(void)
{
	int bad = 0;

	bad |= expect(BPF_PSEUDO_KFUNC_CALL_PROG_BTF, 5,
		      "(85) call prog-btf-kernel-function#5\n");
	bad |= expect(BPF_PSEUDO_KFUNC_CALL_PROG_BTF, -1,
		      "(85) call prog-btf-kernel-function#-1\n");
	bad |= expect(BPF_PSEUDO_KFUNC_CALL, 77, "(85) call kernel-function#77\n");
	bad |= expect(4, 9, "(85) call unknown#9\n");
	return bad;
}
