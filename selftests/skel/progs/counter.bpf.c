// SPDX-License-Identifier: GPL-2.0
/* A tracing program: counts the getppid() calls of one process. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

const volatile int nr_getppid = 110;	/* __NR_getppid on x86_64 */
int target_pid;
__u64 calls;

SEC("tp_btf/sys_enter")
int BPF_PROG(count_getppid, struct pt_regs *regs, long id)
{
	if (id != nr_getppid || (bpf_get_current_pid_tgid() >> 32) != target_pid)
		return 0;
	__sync_fetch_and_add(&calls, 1);
	return 0;
}
