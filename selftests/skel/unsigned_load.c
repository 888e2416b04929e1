// SPDX-License-Identifier: GPL-2.0
/*
 * Load an unsigned BPF program (a socket filter: r0 = 0; exit) and say what
 * happened. Exits 0 if it loaded, else with the errno.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <linux/bpf.h>

int main(void)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	union bpf_attr attr;
	int fd;

	memset(&attr, 0, sizeof(attr));
	attr.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
	attr.insns = (unsigned long)insns;
	attr.insn_cnt = 2;
	attr.license = (unsigned long)"GPL";
	strcpy(attr.prog_name, "bpfsig_unsigned");
	fd = syscall(__NR_bpf, BPF_PROG_LOAD, &attr, sizeof(attr));
	if (fd < 0) {
		printf("unsigned load: %s (-%d)\n", strerror(errno), errno);
		return errno;
	}
	printf("unsigned load: loaded\n");
	close(fd);
	return 0;
}
