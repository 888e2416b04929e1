// SPDX-License-Identifier: GPL-2.0
//! Property tests: the digest equals the naive reference on any program, and
//! neither the BTF reader nor the resolver panics on any input.
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    missing_docs
)]

use bpfsig_core::btf::{index_len, Btf, TypeTable};
use bpfsig_core::insn::{Insns, InsnsMut};
use bpfsig_core::proto::func_proto;
use bpfsig_core::resolve::resolve_prog_btf_calls;
use bpfsig_testkit::{insn, loader_btf, naive_digest};
use proptest::prelude::*;

mod common;
use common::{vmlinux, FakeKernel};

/// One slot, biased towards what the masking rule cares about.
fn slot() -> impl Strategy<Value = [u8; 8]> {
    prop_oneof![
        // first slot of a map load (fd, value) or a non-masked one (idx, btf id)
        (
            prop::sample::select(vec![1u8, 2, 5, 6, 0, 3]),
            0u8..11,
            any::<i32>()
        )
            .prop_map(|(src, dst, imm)| insn(0x18, dst, src, 0, imm)),
        // a valid continuation, or one that is off by one field
        (any::<i32>(), 0u8..4).prop_map(|(imm, which)| match which {
            0 => insn(0, 0, 0, 0, imm),
            1 => insn(0, 1, 0, 0, imm),
            2 => insn(0, 0, 1, 0, imm),
            _ => insn(0, 0, 0, 1, imm),
        }),
        any::<[u8; 8]>(),
    ]
}

fn program() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(slot(), 0..200).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn digest_equals_copy_mask_hash(p in program()) {
        prop_assert_eq!(common::digest(&p), naive_digest(&p));
    }

    /// Random programs rarely fill a stretch of 64 imms; with 1 to 3 the
    /// stretch boundary falls everywhere.
    #[test]
    fn digest_is_the_same_for_any_stretch(p in program()) {
        let want = naive_digest(&p);
        prop_assert_eq!(common::digest_n::<1>(&p), want);
        prop_assert_eq!(common::digest_n::<2>(&p), want);
        prop_assert_eq!(common::digest_n::<3>(&p), want);
    }

    #[test]
    fn btf_reader_is_total_on_bytes(data in prop::collection::vec(any::<u8>(), 0..512)) {
        check_btf(&data);
    }

    #[test]
    fn btf_reader_is_total_on_mutations(flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
                                        cut in any::<prop::sample::Index>(), do_cut in any::<bool>()) {
        let (mut data, _) = loader_btf();
        for (at, x) in flips {
            let i = at.index(data.len());
            data[i] ^= x;
        }
        if do_cut {
            data.truncate(cut.index(data.len() + 1));
        }
        check_btf(&data);
    }

    #[test]
    fn resolver_is_total_and_all_or_nothing(
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..4),
        calls in prop::collection::vec((-2i32..8, prop::sample::select(vec![0i16, 0, 0, 1])), 0..6),
        with_btf in any::<bool>(),
    ) {
        let (mut pdata, _) = loader_btf();
        for (at, x) in flips {
            let i = at.index(pdata.len());
            pdata[i] ^= x;
        }
        let mut p: Vec<u8> = calls.iter().map(|&(imm, off)| insn(0x85, 0, 3, off, imm)).collect::<Vec<_>>().concat();
        p.extend_from_slice(&insn(0x95, 0, 0, 0, 0));
        let before = p.clone();

        let (kdata, _) = vmlinux();
        let mut kidx = vec![0u32; index_len(&kdata).unwrap()];
        let kernel = FakeKernel { btf: Btf::parse(&kdata, &mut kidx).unwrap(), lookups: 0.into() };
        let n = index_len(&pdata).unwrap_or(0);
        let mut pidx = vec![0u32; n];
        let pbtf = if with_btf { Btf::parse(&pdata, &mut pidx).ok() } else { None };
        let mut scratch = bpfsig_testkit::call_slots(&p);
        let res = resolve_prog_btf_calls(&mut InsnsMut::new(&mut p).unwrap(), pbtf.as_ref(), &kernel, &mut scratch);
        match res {
            Ok(n) => {
                prop_assert_eq!(n, calls.len());
                prop_assert!(Insns::new(&p).unwrap().iter().all(|i| !i.is_prog_btf_kfunc_call()));
            }
            Err(e) => {
                prop_assert_eq!(&p, &before);
                prop_assert!(matches!(e.to_errno(), -22 | -2 | -13));
                prop_assert!(e.insn() < calls.len());
            }
        }
    }
}

/// Parses and reads everything reachable; must not panic, and must agree with
/// itself (index_len and parse accept the same inputs).
fn check_btf(data: &[u8]) {
    let n = index_len(data);
    let mut idx = vec![0u32; *n.as_ref().unwrap_or(&0)];
    let parsed = Btf::parse(data, &mut idx);
    assert_eq!(n.is_ok(), parsed.is_ok());
    if let Ok(btf) = parsed {
        assert_eq!(btf.type_count() as usize, n.unwrap());
        for id in 0..=btf.type_count() + 1 {
            if let Ok(t) = btf.type_by_id(id) {
                let _ = btf.name_by_offset(t.name_off);
                let _ = t.params().count();
                let _ = func_proto(&btf, id);
            }
        }
    }
}
