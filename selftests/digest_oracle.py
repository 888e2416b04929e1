#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The program digest as 7.2's bpf_prog_calc_tag() defines it, written
apart from bpfsig's Rust: SHA-256 of the instructions with both imm halves
of every ld_imm64 BPF_PSEUDO_MAP_FD (1) or BPF_PSEUDO_MAP_VALUE (2) zeroed.

Reads the program's bytes as hex on stdin; prints the digest in hex.
"""
import hashlib
import sys

prog = bytearray(bytes.fromhex(sys.stdin.read().strip()))
if len(prog) % 8:
    sys.exit("not a whole number of instructions")
i = 0
while i + 8 <= len(prog):
    code, regs = prog[i], prog[i + 1]
    if code == 0x18 and (regs >> 4) in (1, 2) and i + 16 <= len(prog):
        prog[i + 4:i + 8] = bytes(4)
        prog[i + 12:i + 16] = bytes(4)
        i += 16
        continue
    i += 8
print(hashlib.sha256(prog).hexdigest())
