// SPDX-License-Identifier: GPL-2.0
//! The instruction view: layout, bounds, and the mutable view.
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    missing_docs
)]

use bpfsig_core::insn::*;

#[test]
fn roundtrip_and_field_layout() {
    let i = Insn {
        code: JMP_CALL,
        dst_reg: 0,
        src_reg: BPF_PSEUDO_KFUNC_CALL_PROG_BTF,
        off: -2,
        imm: 0x1234_5678,
    };
    let b = i.to_bytes();
    // struct bpf_insn on x86: dst in the low nibble, src in the high one.
    #[cfg(target_endian = "little")]
    assert_eq!(b, [0x85, 0x30, 0xfe, 0xff, 0x78, 0x56, 0x34, 0x12]);
    assert_eq!(Insn::from_bytes(b), i);
    assert!(i.is_prog_btf_kfunc_call());
}

#[test]
fn bad_length_is_an_error_not_a_truncation() {
    assert_eq!(Insns::new(&[0; 9]).unwrap_err(), InsnError::BadLength);
    assert_eq!(InsnError::BadLength.to_errno(), -22);
    let ok = Insns::new(&[0; 16]).unwrap();
    assert_eq!(ok.len(), 2);
    assert_eq!(ok.iter().count(), 2);
    assert!(ok.get(2).is_none());
}

#[test]
fn set_out_of_range_is_refused() {
    let mut buf = [0u8; 8];
    let mut m = InsnsMut::new(&mut buf).unwrap();
    assert!(!m.set(1, Insn::default()));
    assert!(!m.set(usize::MAX, Insn::default()));
    assert!(m.set(
        0,
        Insn {
            code: 0x95,
            ..Insn::default()
        }
    ));
    assert_eq!(buf[0], 0x95);
}
