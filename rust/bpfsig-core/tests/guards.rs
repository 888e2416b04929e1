// SPDX-License-Identifier: GPL-2.0
//! Checks a security review found no test would miss: each test here fails
//! if its check is removed or loosened (scripts/check/mutation-check.py applies
//! those mutations and requires a failing test for each).
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    missing_docs
)]

use bpfsig_core::btf::{index_len, Btf, BtfError, Kind, TypeTable};
use bpfsig_core::insn::{BPF_PSEUDO_KFUNC_CALL_PROG_BTF, JMP_CALL};
use bpfsig_core::proto::{func_proto, ArgKind, ProtoError};
use bpfsig_core::resolve::ResolveError;
use bpfsig_testkit::{insn, kind, loader_btf, naive_digest, BtfBuilder};

mod common;
use common::{digest, parse};

fn word(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_ne_bytes());
}

fn get(b: &[u8], at: usize) -> u32 {
    u32::from_ne_bytes(b[at..at + 4].try_into().unwrap())
}

/// A map-value `ld_imm64` whose first imm (the fd) is 0 and whose second
/// (the value offset) is not: both halves are masked, as in
/// bpf_prog_calc_tag(), although the first is already zero.
#[test]
fn digest_masks_the_second_half_after_a_zero_first_imm() {
    let mut p = Vec::new();
    p.extend_from_slice(&insn(0x18, 1, 2, 0, 0));
    p.extend_from_slice(&insn(0, 0, 0, 0, 8));
    p.extend_from_slice(&insn(0x95, 0, 0, 0, 0));
    let ours = digest(&p);
    assert_eq!(ours, naive_digest(&p));
    // And the offset really is masked: another offset, the same digest.
    let mut q = p.clone();
    q[12] = 16;
    assert_eq!(ours, digest(&q));
}

/// The loader BTF with its type section moved by `pad` bytes.
fn moved_types(pad: usize) -> Vec<u8> {
    let (b, _) = loader_btf();
    let (hdr, rest) = b.split_at(24);
    let mut out = hdr.to_vec();
    word(&mut out, 8, pad as u32);
    word(&mut out, 16, get(hdr, 16) + pad as u32);
    out.extend(std::iter::repeat_n(0, pad));
    out.extend_from_slice(rest);
    out
}

#[test]
fn misaligned_type_section_is_rejected() {
    assert_eq!(parse(&moved_types(4)), Ok(5));
    assert_eq!(parse(&moved_types(2)), Err(BtfError::BadSection));
}

/// The loader BTF with a 32-byte header whose layout section is at `off`.
fn with_layout(off_in_strings: u32) -> Vec<u8> {
    let (b, _) = loader_btf();
    let (hdr, rest) = b.split_at(24);
    let mut out = hdr.to_vec();
    word(&mut out, 4, 32);
    let str_off = get(hdr, 16);
    out.extend_from_slice(&(str_off + off_in_strings).to_ne_bytes()); // layout_off
    out.extend_from_slice(&4u32.to_ne_bytes()); // layout_len
    out.extend_from_slice(rest);
    out
}

#[test]
fn layout_section_overlapping_strings_is_rejected() {
    assert_eq!(parse(&with_layout(4)), Err(BtfError::BadSection));
    assert_eq!(parse(&with_layout(0)), Err(BtfError::BadSection));
}

#[test]
fn string_section_must_start_with_nul() {
    let (mut b, _) = loader_btf();
    let str_off = 24 + get(&b, 16) as usize;
    assert_eq!(parse(&b), Ok(5));
    b[str_off] = b'x';
    assert_eq!(parse(&b), Err(BtfError::BadStrings));
}

#[test]
fn info_word_has_7_2_widths() {
    // vlen is 24 bits: a FUNC_PROTO with 1 << 16 params announces 768 KiB
    // of params, which this BTF does not have (a 16-bit reading would see
    // none and go on).
    let (mut b, _) = loader_btf();
    // [4] the FUNC_PROTO (int, u32, void *, proto): 24 + 16 + 16 + 12 = 68;
    // its info word at 72.
    let info = get(&b, 72);
    assert_eq!(info >> 24, 13, "type 4 is the FUNC_PROTO");
    word(&mut b, 72, info | 1 << 16);
    assert_eq!(parse(&b), Err(BtfError::TruncatedType { id: 4 }));
    // The kind is 7 bits: 13 | 0x20 is kind 45, which does not exist (a
    // 5-bit reading would see a FUNC_PROTO).
    let (mut b, _) = loader_btf();
    word(&mut b, 72, info | 0x20 << 24);
    assert_eq!(parse(&b), Err(BtfError::UnknownKind { id: 4 }));
}

/// Every kind with trailing data, each followed by a PTR: the reader must
/// step over exactly the kernel's trailing length to find the next type.
#[test]
fn trailing_data_of_every_kind() {
    let mut b = BtfBuilder::new();
    let int = b.int("int", 4, true);
    let w = |v: &[u32]| v.iter().flat_map(|x| x.to_ne_bytes()).collect::<Vec<u8>>();
    let mut want = vec![(int, Kind::Int)];
    let kinds: [(u32, Kind, u32, Vec<u8>); 9] = [
        (kind::ARRAY, Kind::Array, 0, w(&[int, int, 4])),
        (kind::STRUCT, Kind::Struct, 2, w(&[0, int, 0, 0, int, 32])),
        (5, Kind::Union, 2, w(&[0, int, 0, 0, int, 0])),
        (kind::ENUM, Kind::Enum, 2, w(&[0, 1, 0, 2])),
        (19, Kind::Enum64, 2, w(&[0, 1, 0, 0, 2, 0])),
        (14, Kind::Var, 0, w(&[1])),
        (15, Kind::Datasec, 2, w(&[int, 0, 4, int, 4, 4])),
        (17, Kind::DeclTag, 0, w(&[u32::MAX])),
        (kind::FUNC_PROTO, Kind::FuncProto, 2, w(&[0, int, 0, int])),
    ];
    for (k, kk, vlen, extra) in kinds {
        let size = match k {
            kind::STRUCT | 5 | kind::ENUM | 19 | 15 => 8,
            14 | 17 => int,
            _ => 0,
        };
        let id = b.raw(
            "t",
            k,
            vlen,
            if k == kind::FUNC_PROTO { int } else { size },
            &extra,
        );
        want.push((id, kk));
        let p = b.ptr(id);
        want.push((p, Kind::Ptr));
    }
    let data = b.finish();
    let mut idx = vec![0u32; index_len(&data).unwrap()];
    let btf = Btf::parse(&data, &mut idx).unwrap();
    assert_eq!(btf.type_count() as usize, want.len());
    for (id, k) in want {
        assert_eq!(btf.type_by_id(id).unwrap().kind, k, "type {id}");
    }
}

fn one_func(ret: u32, params: &[(&str, u32)], b: &mut BtfBuilder) -> u32 {
    let p = b.proto(ret, params);
    b.func("f", p)
}

fn proto_of(build: impl FnOnce(&mut BtfBuilder) -> u32) -> Result<(ArgKind, usize), ProtoError> {
    let mut b = BtfBuilder::new();
    let f = build(&mut b);
    let data = b.finish();
    let mut idx = vec![0u32; index_len(&data).unwrap()];
    let btf = Btf::parse(&data, &mut idx).unwrap();
    func_proto(&btf, f).map(|p| (p.ret, p.args().len()))
}

#[test]
fn void_is_a_return_value_not_an_argument() {
    assert_eq!(
        proto_of(|b| {
            let int = b.int("int", 4, true);
            one_func(0, &[("x", int)], b)
        }),
        Ok((ArgKind::Void, 1))
    );
    assert_eq!(
        proto_of(|b| {
            let int = b.int("int", 4, true);
            one_func(int, &[("x", 0)], b)
        }),
        Err(ProtoError::Unsupported)
    );
}

#[test]
fn five_arguments_and_no_more() {
    let args = |n: usize| {
        move |b: &mut BtfBuilder| {
            let int = b.int("int", 4, true);
            let names = ["a", "b", "c", "d", "e", "f", "g"];
            let params: Vec<(&str, u32)> = names[..n].iter().map(|s| (*s, int)).collect();
            one_func(int, &params, b)
        }
    };
    assert_eq!(proto_of(args(5)), Ok((ArgKind::Scalar { size: 4 }, 5)));
    assert_eq!(proto_of(args(6)), Err(ProtoError::TooManyArgs));
    assert_eq!(proto_of(args(7)), Err(ProtoError::TooManyArgs));
}

/// A FUNC without a name names nothing: -EINVAL, never a vmlinux lookup.
#[test]
fn unnamed_func_is_a_bad_id() {
    let mut b = BtfBuilder::new();
    let int = b.int("int", 4, true);
    let u32_ = b.int("u32", 4, false);
    let v = b.ptr(0);
    let p = b.proto(int, &[("map", v), ("hash", v), ("hash__sz", u32_)]);
    let f = b.func("", p);
    let pdata = b.finish();
    let mut p = insn(JMP_CALL, 0, BPF_PSEUDO_KFUNC_CALL_PROG_BTF, 0, f as i32).to_vec();
    p.extend_from_slice(&insn(0x95, 0, 0, 0, 0));
    let (r, lookups) = common::resolve(&mut p, Some(&pdata), None);
    let e = r.unwrap_err();
    assert_eq!(
        e,
        ResolveError::BadId {
            insn: 0,
            id: f as i32
        }
    );
    assert_eq!(lookups, 0);
}
