// SPDX-License-Identifier: GPL-2.0
//! Loader-call resolution (SPEC §5): every errno, and the rewrite itself.
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    missing_docs
)]

use bpfsig_core::btf::{index_len, Btf};
use bpfsig_core::insn::{
    Insn, Insns, InsnsMut, BPF_PSEUDO_KFUNC_CALL, BPF_PSEUDO_KFUNC_CALL_PROG_BTF, JMP_CALL,
};
use bpfsig_core::proto::{func_proto, ArgKind};
use bpfsig_core::resolve::{resolve_prog_btf_calls, ResolveError};
use bpfsig_testkit::{insn, kind, loader_btf, BtfBuilder};

mod common;
use common::{vmlinux, FakeKernel};

/// Program BTF declaring `name` with the loader's prototype; returns the FUNC id.
fn prog_btf_for(name: &str) -> (Vec<u8>, u32) {
    let mut b = BtfBuilder::new();
    let int = b.int("int", 4, true);
    let u32_ = b.int("u32", 4, false);
    let vptr = b.ptr(0);
    let p = b.proto(int, &[("map", vptr), ("hash", vptr), ("hash__sz", u32_)]);
    let f = b.func(name, p);
    (b.finish(), f)
}

fn call(imm: i32, off: i16) -> [u8; 8] {
    insn(JMP_CALL, 0, BPF_PSEUDO_KFUNC_CALL_PROG_BTF, off, imm)
}

fn prog(calls: &[[u8; 8]]) -> Vec<u8> {
    let mut p = insn(0xb7, 0, 0, 0, 0).to_vec(); // r0 = 0
    for c in calls {
        p.extend_from_slice(c);
    }
    p.extend_from_slice(&insn(0x95, 0, 0, 0, 0)); // exit
    p
}

fn run(p: &mut [u8], prog_btf: Option<&[u8]>) -> Result<usize, ResolveError> {
    common::resolve(p, prog_btf, None).0
}

#[test]
fn resolves_and_rewrites_to_a_vmlinux_kfunc_call() {
    let (pbtf, fid) = loader_btf();
    let (_, kid) = vmlinux();
    let mut p = prog(&[call(fid as i32, 0)]);
    let before = p.clone();
    assert_eq!(run(&mut p, Some(&pbtf)), Ok(1));
    let insns = Insns::new(&p).unwrap();
    let c = insns.get(1).unwrap();
    assert_eq!(
        c,
        Insn {
            code: JMP_CALL,
            dst_reg: 0,
            src_reg: BPF_PSEUDO_KFUNC_CALL,
            off: 0,
            imm: kid as i32
        }
    );
    // Nothing else changed.
    assert_eq!(p[..8], before[..8]);
    assert_eq!(p[16..], before[16..]);
}

#[test]
fn programs_without_prog_btf_calls_are_untouched() {
    let mut p = prog(&[
        insn(JMP_CALL, 0, BPF_PSEUDO_KFUNC_CALL, 0, 77),
        insn(JMP_CALL, 0, 0, 0, 1),
    ]);
    let before = p.clone();
    assert_eq!(run(&mut p, None), Ok(0));
    assert_eq!(p, before);
}

#[test]
fn repeated_calls_share_one_lookup() {
    let (pbtf, fid) = loader_btf();
    let (kdata, _) = vmlinux();
    let mut kidx = vec![0u32; index_len(&kdata).unwrap()];
    let kernel = FakeKernel {
        btf: Btf::parse(&kdata, &mut kidx).unwrap(),
        lookups: 0.into(),
    };
    let mut pidx = vec![0u32; index_len(&pbtf).unwrap()];
    let pb = Btf::parse(&pbtf, &mut pidx).unwrap();
    let mut p = prog(&[call(fid as i32, 0); 100]);
    let mut scratch = bpfsig_testkit::call_slots(&p);
    assert_eq!(
        resolve_prog_btf_calls(
            &mut InsnsMut::new(&mut p).unwrap(),
            Some(&pb),
            &kernel,
            &mut scratch
        ),
        Ok(100)
    );
    assert_eq!(kernel.lookups.get(), 1);
}

#[test]
fn no_prog_btf_is_einval() {
    let mut p = prog(&[call(5, 0)]);
    let e = run(&mut p, None).unwrap_err();
    assert_eq!(e, ResolveError::NoProgBtf { insn: 1 });
    assert_eq!(e.to_errno(), -22);
}

#[test]
fn nonzero_off_is_einval() {
    let (pbtf, fid) = loader_btf();
    for off in [1i16, -1, i16::MAX] {
        let mut p = prog(&[call(fid as i32, off)]);
        let e = run(&mut p, Some(&pbtf)).unwrap_err();
        assert_eq!(e, ResolveError::BadOff { insn: 1 });
        assert_eq!(e.to_errno(), -22);
    }
}

#[test]
fn bad_ids_are_einval() {
    let (pbtf, fid) = loader_btf();
    // 0 (void), past the end, negative, and existing non-FUNC types (int, proto).
    for id in [0, fid as i32 + 1, -1, i32::MIN, 1, fid as i32 - 1] {
        let mut p = prog(&[call(id, 0)]);
        let e = run(&mut p, Some(&pbtf)).unwrap_err();
        assert_eq!(e, ResolveError::BadId { insn: 1, id }, "id {id}");
        assert_eq!(e.to_errno(), -22);
    }
}

#[test]
fn unknown_name_is_enoent() {
    let (pbtf, fid) = prog_btf_for("bpf_no_such_kfunc");
    let mut p = prog(&[call(fid as i32, 0)]);
    let e = run(&mut p, Some(&pbtf)).unwrap_err();
    assert_eq!(e, ResolveError::UnknownName { insn: 1 });
    assert_eq!(e.to_errno(), -2);
}

#[test]
fn prototype_mismatch_is_einval() {
    // The loader kfunc's name, with the prototypes of the stand-in
    // vmlinux's other FUNCs: a wider size, too few arguments, a pointer
    // returned, a scalar for a pointer.
    type Shape = fn(&mut BtfBuilder, u32, u32, u32, u32) -> u32;
    let shapes: [(&str, Shape); 4] = [
        ("wide_size", |b, int, v, _u32, u64_| {
            b.proto(int, &[("map", v), ("hash", v), ("hash__sz", u64_)])
        }),
        ("two_args", |b, int, v, _, _| {
            b.proto(int, &[("map", v), ("hash", v)])
        }),
        ("returns_ptr", |b, _, v, u32_, _| {
            b.proto(v, &[("map", v), ("hash", v), ("hash__sz", u32_)])
        }),
        ("scalar_for_ptr", |b, int, v, u32_, u64_| {
            b.proto(int, &[("map", v), ("hash", u64_), ("hash__sz", u32_)])
        }),
    ];
    for (what, shape) in shapes {
        let mut b = BtfBuilder::new();
        let int = b.int("int", 4, true);
        let u32_ = b.int("u32", 4, false);
        let u64_ = b.int("u64", 8, false);
        let v = b.ptr(0);
        let proto = shape(&mut b, int, v, u32_, u64_);
        let fid = b.func("bpf_loader_verify_metadata", proto);
        let pbtf = b.finish();
        let mut p = prog(&[call(fid as i32, 0)]);
        let e = run(&mut p, Some(&pbtf)).unwrap_err();
        assert_eq!(e, ResolveError::ProtoMismatch { insn: 1 }, "{what}");
        assert_eq!(e.to_errno(), -22);
    }
    // A program-side prototype BPF cannot call (struct by value) is a mismatch too.
    let mut b = BtfBuilder::new();
    let int = b.int("int", 4, true);
    let s = b.raw("s", kind::STRUCT, 0, 16, &[]);
    let p = b.proto(int, &[("x", s)]);
    let f = b.func("bpf_loader_verify_metadata", p);
    let data = b.finish();
    let mut pr = prog(&[call(f as i32, 0)]);
    assert_eq!(
        run(&mut pr, Some(&data)),
        Err(ResolveError::ProtoMismatch { insn: 1 })
    );
}

#[test]
fn an_error_leaves_every_insn_unchanged() {
    let (pbtf, fid) = loader_btf();
    // A good call first, then a bad one: the good one must not be rewritten.
    let mut p = prog(&[call(fid as i32, 0), call(fid as i32, 4)]);
    let before = p.clone();
    assert_eq!(
        run(&mut p, Some(&pbtf)),
        Err(ResolveError::BadOff { insn: 2 })
    );
    assert_eq!(p, before);
}

#[test]
fn the_loader_prototype_is_what_the_spec_says() {
    let (pbtf, fid) = loader_btf();
    let mut idx = vec![0u32; index_len(&pbtf).unwrap()];
    let btf = Btf::parse(&pbtf, &mut idx).unwrap();
    let p = func_proto(&btf, fid).unwrap();
    assert_eq!(p.ret, ArgKind::Scalar { size: 4 });
    assert_eq!(
        p.args(),
        [ArgKind::Ptr, ArgKind::Ptr, ArgKind::Scalar { size: 4 }]
    );
}

/// SPEC §5: each distinct FUNC id is looked up in vmlinux once, however many
/// calls use it and however many distinct ids there are (an 8-entry cache
/// used to fall back to one lookup per call past its eighth id).
#[test]
fn distinct_ids_are_each_looked_up_once() {
    let mut b = BtfBuilder::new();
    let int = b.int("int", 4, true);
    let u32_ = b.int("u32", 4, false);
    let vptr = b.ptr(0);
    let p = b.proto(int, &[("map", vptr), ("hash", vptr), ("hash__sz", u32_)]);
    let ids: Vec<u32> = (0..300)
        .map(|_| b.func("bpf_loader_verify_metadata", p))
        .collect();
    let pbtf = b.finish();
    let calls: Vec<[u8; 8]> = (0..30_000)
        .map(|i| call(ids[(i * 7) % ids.len()] as i32, 0))
        .collect();
    let mut p = prog(&calls);
    let (kdata, kid) = vmlinux();
    let mut kidx = vec![0u32; index_len(&kdata).unwrap()];
    let kernel = FakeKernel {
        btf: Btf::parse(&kdata, &mut kidx).unwrap(),
        lookups: 0.into(),
    };
    let mut pidx = vec![0u32; index_len(&pbtf).unwrap()];
    let pb = Btf::parse(&pbtf, &mut pidx).unwrap();
    let mut scratch = bpfsig_testkit::call_slots(&p);
    assert_eq!(
        resolve_prog_btf_calls(
            &mut InsnsMut::new(&mut p).unwrap(),
            Some(&pb),
            &kernel,
            &mut scratch
        ),
        Ok(30_000)
    );
    assert_eq!(kernel.lookups.get(), ids.len());
    assert!(Insns::new(&p)
        .unwrap()
        .iter()
        .filter(|i| i.code == JMP_CALL)
        .all(|i| i.src_reg == BPF_PSEUDO_KFUNC_CALL && i.imm == kid as i32));
}

/// Too little scratch space is an error, and nothing is rewritten.
#[test]
fn too_little_scratch_is_einval_and_rewrites_nothing() {
    let (pbtf, fid) = loader_btf();
    let mut p = prog(&[call(fid as i32, 0); 3]);
    let before = p.clone();
    let e = common::resolve(&mut p, Some(&pbtf), Some(2)).0.unwrap_err();
    assert_eq!(e, ResolveError::TooManyCalls { insn: 3 });
    assert_eq!(e.to_errno(), -22);
    assert_eq!(p, before);
}

/// Only loader kfuncs may be named through program BTF: a vmlinux FUNC with
/// the loader's exact prototype that is not one is -EACCES, and nothing is
/// rewritten.
#[test]
fn only_loader_kfuncs_may_be_named() {
    let (pbtf, fid) = prog_btf_for("same_shape");
    let mut p = prog(&[call(fid as i32, 0)]);
    let before = p.clone();
    let e = run(&mut p, Some(&pbtf)).unwrap_err();
    assert_eq!(e, ResolveError::NotLoaderKfunc { insn: 1 });
    assert_eq!(e.to_errno(), -13);
    assert_eq!(p, before);
}

#[test]
fn every_error_has_a_reason_in_kernel_words() {
    use bpfsig_core::btf::BtfError;
    let all = [
        ResolveError::NoProgBtf { insn: 1 },
        ResolveError::BadOff { insn: 1 },
        ResolveError::BadId { insn: 1, id: 7 },
        ResolveError::BadProgBtf {
            insn: 1,
            err: BtfError::BadMagic,
        },
        ResolveError::UnknownName { insn: 1 },
        ResolveError::ProtoMismatch { insn: 1 },
        ResolveError::NotLoaderKfunc { insn: 1 },
        ResolveError::TooManyCalls { insn: 1 },
    ];
    let mut seen = Vec::new();
    for e in all {
        let why = e.reason().to_str().unwrap();
        assert!(!why.is_empty() && why.is_ascii(), "{e:?}");
        // No Rust names in the kernel's log.
        assert!(!why.contains("Btf") && !why.contains("Error"), "{why}");
        assert!(!seen.contains(&why), "{why} twice");
        seen.push(why);
    }
}
