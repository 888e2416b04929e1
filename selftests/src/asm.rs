// SPDX-License-Identifier: GPL-2.0
//! Just enough of a BPF assembler for hand-written loaders and probes.

use bpfsig_core::insn::Insn;

pub type Slot = [u8; 8];

pub fn ins(code: u8, dst_reg: u8, src_reg: u8, off: i16, imm: i32) -> Slot {
    Insn {
        code,
        dst_reg,
        src_reg,
        off,
        imm,
    }
    .to_bytes()
}
/// dst = imm64 (src selects a pseudo kind: 0 plain, 1 map fd, 5 map idx).
pub fn ld_imm64(dst: u8, src: u8, imm: u64) -> [Slot; 2] {
    [
        ins(0x18, dst, src, 0, imm as u32 as i32),
        ins(0, 0, 0, 0, (imm >> 32) as u32 as i32),
    ]
}
pub fn mov_imm(dst: u8, imm: i32) -> Slot {
    ins(0xb7, dst, 0, 0, imm)
}
pub fn mov_reg(dst: u8, src: u8) -> Slot {
    ins(0xbf, dst, src, 0, 0)
}
pub fn add_imm(dst: u8, imm: i32) -> Slot {
    ins(0x07, dst, 0, 0, imm)
}
pub fn stx_dw(dst: u8, off: i16, src: u8) -> Slot {
    ins(0x7b, dst, src, off, 0)
}
pub fn st_w(dst: u8, off: i16, imm: i32) -> Slot {
    ins(0x62, dst, 0, off, imm)
}
pub fn ldx_dw(dst: u8, src: u8, off: i16) -> Slot {
    ins(0x79, dst, src, off, 0)
}
pub fn ldx_w(dst: u8, src: u8, off: i16) -> Slot {
    ins(0x61, dst, src, off, 0)
}
/// lock *(u64 *)(dst + off) += src
pub fn atomic_add_dw(dst: u8, off: i16, src: u8) -> Slot {
    ins(0xdb, dst, src, off, 0)
}
pub fn call_helper(id: i32) -> Slot {
    ins(0x85, 0, 0, 0, id)
}
pub fn call_prog_btf(imm: i32, off: i16) -> Slot {
    ins(0x85, 0, 3, off, imm)
}
pub fn jeq_imm(dst: u8, imm: i32, off: i16) -> Slot {
    ins(0x15, dst, 0, off, imm)
}
pub fn jne_imm(dst: u8, imm: i32, off: i16) -> Slot {
    ins(0x55, dst, 0, off, imm)
}
pub fn jne_reg(dst: u8, src: u8, off: i16) -> Slot {
    ins(0x5d, dst, src, off, 0)
}
pub fn exit() -> Slot {
    ins(0x95, 0, 0, 0, 0)
}
