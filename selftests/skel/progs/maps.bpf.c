// SPDX-License-Identifier: GPL-2.0
/*
 * Maps and global data: .rodata, .data and .bss, a hash map and an array,
 * used by a syscall program the test runs with BPF_PROG_RUN.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u64);
} squares SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} slots SEC(".maps");

const volatile __u64 multiplier = 7;	/* .rodata */
__u64 base = 1000;			/* .data */
__u64 runs;				/* .bss */

SEC("syscall")
int fill(void *ctx)
{
	int i;

#pragma clang loop unroll(full)
	for (i = 0; i < 4; i++) {
		__u64 sq = (__u64)i * i, v = base + multiplier * i;
		__u32 key = i;

		bpf_map_update_elem(&squares, &key, &sq, BPF_ANY);
		bpf_map_update_elem(&slots, &key, &v, BPF_ANY);
	}
	runs++;
	return 0;
}
