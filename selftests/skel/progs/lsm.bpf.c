// SPDX-License-Identifier: GPL-2.0
/* A BPF LSM program: while armed, one process may not open files. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#define EPERM 1

char LICENSE[] SEC("license") = "GPL";

int target_pid;
int armed;
__u64 denied;

SEC("lsm/file_open")
int BPF_PROG(deny_open, struct file *file)
{
	if (!armed || (bpf_get_current_pid_tgid() >> 32) != target_pid)
		return 0;
	denied++;
	return -EPERM;
}
