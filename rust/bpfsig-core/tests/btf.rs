// SPDX-License-Identifier: GPL-2.0
//! The program-BTF reader: every error it can give, and what it reads.
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    missing_docs
)]

use bpfsig_core::btf::{index_len, skip_modifiers, Btf, BtfError, Kind, TypeTable, MAX_NAME_LEN};
use bpfsig_testkit::{kind, loader_btf, BtfBuilder};

mod common;
use common::parse;

fn with_btf<R>(data: &[u8], f: impl FnOnce(&Btf<'_>) -> R) -> R {
    let mut idx = vec![0u32; index_len(data).unwrap()];
    let btf = Btf::parse(data, &mut idx).unwrap();
    f(&btf)
}

fn put32(b: &mut [u8], off: usize, v: u32) {
    b[off..off + 4].copy_from_slice(&v.to_ne_bytes());
}

#[test]
fn reads_the_loader_btf() {
    let (data, func) = loader_btf();
    with_btf(&data, |btf| {
        assert_eq!(btf.type_count(), 5);
        let f = btf.type_by_id(func).unwrap();
        assert_eq!(f.kind, Kind::Func);
        assert_eq!(
            btf.name_by_offset(f.name_off).unwrap(),
            b"bpf_loader_verify_metadata"
        );
        let p = btf.type_by_id(f.size_or_type).unwrap();
        assert_eq!(p.kind, Kind::FuncProto);
        let names: Vec<_> = p
            .params()
            .map(|(n, _)| btf.name_by_offset(n).unwrap().to_vec())
            .collect();
        assert_eq!(
            names,
            [b"map".to_vec(), b"hash".to_vec(), b"hash__sz".to_vec()]
        );
        assert_eq!(btf.types().count(), 5);
        assert_eq!(btf.type_by_id(0), Err(BtfError::BadId { id: 0 }));
        assert_eq!(btf.type_by_id(6), Err(BtfError::BadId { id: 6 }));
        assert_eq!(
            btf.type_by_id(u32::MAX),
            Err(BtfError::BadId { id: u32::MAX })
        );
    });
}

#[test]
fn header_errors() {
    let (good, _) = loader_btf();
    assert_eq!(parse(&[]), Err(BtfError::Truncated));
    assert_eq!(parse(&good[..23]), Err(BtfError::Truncated));
    let mut b = good.clone();
    b[0] ^= 0xff;
    assert_eq!(parse(&b), Err(BtfError::BadMagic));
    let mut b = good.clone();
    b.swap(0, 1); // the other byte order
    assert_eq!(parse(&b), Err(BtfError::BadMagic));
    let mut b = good.clone();
    b[2] = 2;
    assert_eq!(parse(&b), Err(BtfError::BadVersion));
    let mut b = good.clone();
    b[3] = 1;
    assert_eq!(parse(&b), Err(BtfError::BadHeader));
    let mut b = good.clone();
    put32(&mut b, 4, 20); // hdr_len below the header size
    assert_eq!(parse(&b), Err(BtfError::BadHeader));
    let mut b = good.clone();
    put32(&mut b, 4, u32::MAX);
    assert_eq!(parse(&b), Err(BtfError::Truncated));
    // Bytes past 7.2's 32-byte header must be zero.
    let mut ext = with_header(&good, 36, (0, 0));
    ext[35] = 1;
    assert_eq!(parse(&ext), Err(BtfError::BadHeader));
    ext[35] = 0;
    assert_eq!(parse(&ext), Ok(5));
    // A 28-byte header has no layout fields: its extra word is ignored, as
    // the kernel ignores it.
    let mut short = with_header(&good, 28, (0, 0));
    short[27] = 1;
    assert_eq!(parse(&short), Ok(5));
}

/// `good` re-laid with a `hdr_len`-byte header whose layout fields are `layout`.
fn with_header(good: &[u8], hdr_len: u32, layout: (u32, u32)) -> Vec<u8> {
    let mut b = good[..24].to_vec();
    put32(&mut b, 4, hdr_len);
    b.resize(hdr_len as usize, 0);
    if hdr_len >= 32 {
        put32(&mut b, 24, layout.0);
        put32(&mut b, 28, layout.1);
    }
    b.extend_from_slice(&good[24..]);
    b
}

#[test]
fn layout_section() {
    let (good, _) = loader_btf();
    // The layout section goes after the strings, 4-aligned (146 -> 148).
    let body = ((good.len() - 24) as u32 + 3) & !3;
    let pad = |b: &mut Vec<u8>, n: usize| b.resize(32 + body as usize + n, 0);
    let mut b = with_header(&good, 32, (body, 8));
    pad(&mut b, 8);
    assert_eq!(parse(&b), Ok(5));
    // Misaligned, not whole entries, overlapping, or out of bounds.
    let mut odd = with_header(&good, 32, (body + 2, 4));
    pad(&mut odd, 8);
    assert_eq!(parse(&odd), Err(BtfError::BadSection));
    let mut partial = with_header(&good, 32, (body, 6));
    pad(&mut partial, 8);
    assert_eq!(parse(&partial), Err(BtfError::BadSection));
    assert_eq!(
        parse(&with_header(&good, 32, (0, 8))),
        Err(BtfError::BadSection)
    );
    assert_eq!(
        parse(&with_header(&good, 32, (body, 8))),
        Err(BtfError::BadSection)
    );
    // layout_len 0 means no layout section, whatever the offset.
    assert_eq!(parse(&with_header(&good, 32, (u32::MAX, 0))), Ok(5));
}

#[test]
fn section_errors() {
    let (good, _) = loader_btf();
    let tl = u32::from_ne_bytes(good[12..16].try_into().unwrap());
    let sl = u32::from_ne_bytes(good[20..24].try_into().unwrap());
    for (field, v) in [
        (12, u32::MAX),
        (20, sl + 1),
        (16, u32::MAX - 2),
        (8, 2),
        (12, tl - 2),
        (16, tl - 4),
    ] {
        let mut b = good.clone();
        put32(&mut b, field, v);
        assert_eq!(parse(&b), Err(BtfError::BadSection), "field {field} = {v}");
    }
    // Strings must start and end with NUL, and exist.
    let mut b = good.clone();
    let last = b.len() - 1;
    b[last] = b'x';
    assert_eq!(parse(&b), Err(BtfError::BadStrings));
    let mut b = good.clone();
    put32(&mut b, 20, 0);
    assert_eq!(parse(&b), Err(BtfError::BadStrings));
}

#[test]
fn type_errors() {
    let (good, _) = loader_btf();
    // Type 1 ("int") starts at 24; its info word is at 28.
    let mut b = good.clone();
    put32(&mut b, 28, 20 << 24);
    assert_eq!(parse(&b), Err(BtfError::UnknownKind { id: 1 }));
    // A FUNC_PROTO whose params run past the section.
    let mut bb = BtfBuilder::new();
    let int = bb.int("int", 4, true);
    bb.raw("", kind::FUNC_PROTO, 3, int, &[0; 8]);
    assert_eq!(parse(&bb.finish()), Err(BtfError::TruncatedType { id: 2 }));
    // A type section that ends inside a btf_type.
    let mut bb = BtfBuilder::new();
    bb.int("int", 4, true);
    let mut b = bb.finish();
    let tl = u32::from_ne_bytes(b[12..16].try_into().unwrap());
    b.splice(24 + tl as usize..24 + tl as usize, [0u8; 4]);
    put32(&mut b, 12, tl + 4);
    put32(&mut b, 16, tl + 4);
    assert_eq!(parse(&b), Err(BtfError::TruncatedType { id: 2 }));
}

#[test]
fn index_must_be_large_enough() {
    let (good, _) = loader_btf();
    let mut idx = vec![0u32; 4];
    assert_eq!(
        Btf::parse(&good, &mut idx).unwrap_err(),
        BtfError::IndexTooSmall
    );
    let mut idx = vec![0u32; 9];
    assert_eq!(Btf::parse(&good, &mut idx).unwrap().type_count(), 5);
}

#[test]
fn name_errors() {
    let mut bb = BtfBuilder::new();
    let long = "a".repeat(MAX_NAME_LEN + 1);
    let fits = "b".repeat(MAX_NAME_LEN);
    let long_off = bb.string(&long);
    let fits_off = bb.string(&fits);
    bb.int("int", 4, true);
    let data = bb.finish();
    with_btf(&data, |btf| {
        assert_eq!(btf.name_by_offset(long_off), Err(BtfError::NameTooLong));
        assert_eq!(btf.name_by_offset(fits_off).unwrap().len(), MAX_NAME_LEN);
        assert_eq!(btf.name_by_offset(0).unwrap(), b"");
        assert_eq!(btf.name_by_offset(u32::MAX), Err(BtfError::BadName));
    });
}

#[test]
fn modifier_chains_are_bounded() {
    let mut bb = BtfBuilder::new();
    let int = bb.int("int", 4, true);
    let mut t = int;
    for _ in 0..31 {
        t = bb.modifier(kind::TYPEDEF, "t", t);
    }
    let deep_ok = t;
    let too_deep = bb.modifier(kind::CONST, "", t);
    // A cycle: typedef a -> typedef b -> typedef a.
    let a = bb.modifier(kind::TYPEDEF, "a", too_deep + 2);
    let _b = bb.modifier(kind::TYPEDEF, "b", a);
    let dangling = bb.modifier(kind::VOLATILE, "", 1000);
    let data = bb.finish();
    with_btf(&data, |btf| {
        assert_eq!(skip_modifiers(btf, deep_ok), Ok(int));
        assert_eq!(skip_modifiers(btf, too_deep), Err(BtfError::ChainTooLong));
        assert_eq!(skip_modifiers(btf, a), Err(BtfError::ChainTooLong));
        assert_eq!(
            skip_modifiers(btf, dangling),
            Err(BtfError::BadId { id: 1000 })
        );
        assert_eq!(skip_modifiers(btf, 0), Ok(0));
    });
    assert!(BtfError::ChainTooLong.to_errno() == -22);
}
