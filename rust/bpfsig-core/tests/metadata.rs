// SPDX-License-Identifier: GPL-2.0
//! The metadata decision: every check, in order, and what it promotes.
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    missing_docs
)]

use bpfsig_core::metadata::*;
use bpfsig_core::FoldNeq;

const H: [u8; 32] = [0xab; 32];
/// The calling loader's digest, and the map's `excl_prog_sha`.
const D: [u8; 32] = [0x5c; 32];

fn caller(verdict: u32) -> Caller<'static> {
    Caller {
        verdict,
        digest: &D,
        unsigned_btf: false,
    }
}

fn decide(map: &MapView<'_>, hash: &[u8], verdict: u32) -> Result<Decision, MetaError> {
    bpfsig_core::metadata::decide(map, hash, &caller(verdict), &FoldNeq)
}

fn good() -> MapView<'static> {
    MapView {
        excl_prog_sha: Some(&D),
        frozen: true,
        sha: &H,
    }
}

#[test]
fn signed_loader_with_matching_metadata_calls_the_hook() {
    assert_eq!(decide(&good(), &H, 1), Ok(Decision::HookThenPromote));
}

#[test]
fn unsigned_loader_is_checked_but_never_promoted() {
    assert_eq!(decide(&good(), &H, 0), Ok(Decision::NoPromotion));
    // The checks still apply to it.
    let m = MapView {
        frozen: false,
        ..good()
    };
    assert_eq!(decide(&m, &H, 0), Err(MetaError::NotFrozen));
}

#[test]
fn a_signature_that_leaves_the_btf_unsigned_proves_no_loader() {
    for verdict in [1, 2] {
        let c = Caller {
            unsigned_btf: true,
            ..caller(verdict)
        };
        assert_eq!(
            bpfsig_core::metadata::decide(&good(), &H, &c, &FoldNeq),
            Ok(Decision::NoPromotion)
        );
    }
}

#[test]
fn promoted_loader_asks_the_lsm_again() {
    assert_eq!(decide(&good(), &H, 2), Ok(Decision::HookThenPromote));
}

#[test]
fn a_map_exclusive_to_another_program_is_refused_with_eacces() {
    for i in 0..32 {
        let mut other = D;
        other[i] ^= 0x01;
        let m = MapView {
            excl_prog_sha: Some(&other),
            ..good()
        };
        assert_eq!(decide(&m, &H, 1), Err(MetaError::ForeignMap), "byte {i}");
        assert_eq!(decide(&m, &H, 0), Err(MetaError::ForeignMap), "byte {i}");
    }
    assert_eq!(MetaError::ForeignMap.to_errno(), -13);
}

#[test]
fn each_check_fails_closed_with_einval() {
    for sz in [0usize, 31, 33, 64] {
        let buf = [0xab; 64];
        assert_eq!(decide(&good(), &buf[..sz], 1), Err(MetaError::BadHashSize));
    }
    assert_eq!(
        decide(
            &MapView {
                excl_prog_sha: None,
                ..good()
            },
            &H,
            1
        ),
        Err(MetaError::NotExclusive)
    );
    assert_eq!(
        decide(
            &MapView {
                frozen: false,
                ..good()
            },
            &H,
            1
        ),
        Err(MetaError::NotFrozen)
    );
    for i in 0..32 {
        let mut h = H;
        h[i] ^= 0x01;
        assert_eq!(
            decide(&good(), &h, 1),
            Err(MetaError::HashMismatch),
            "byte {i}"
        );
    }
    assert_eq!(decide(&good(), &H, 3), Err(MetaError::BadVerdict));
    for e in [
        MetaError::BadHashSize,
        MetaError::NotExclusive,
        MetaError::NotFrozen,
        MetaError::ZeroHash,
        MetaError::HashMismatch,
        MetaError::BadVerdict,
    ] {
        assert_eq!(e.to_errno(), -22);
    }
}

#[test]
fn a_hash_never_computed_fails() {
    let zero = [0u8; 32];
    let m = MapView {
        sha: &zero,
        ..good()
    };
    assert_eq!(decide(&m, &H, 1), Err(MetaError::ZeroHash));
}

#[test]
fn a_zero_hash_proves_nothing() {
    let zero = [0u8; 32];
    let m = MapView {
        sha: &zero,
        ..good()
    };
    // Even when it equals the map's (never computed) hash.
    assert_eq!(decide(&m, &zero, 1), Err(MetaError::ZeroHash));
    assert_eq!(decide(&good(), &zero, 1), Err(MetaError::ZeroHash));
    // One non-zero byte is a hash like any other.
    let mut one = [0u8; 32];
    one[31] = 1;
    let m = MapView {
        sha: &one,
        ..good()
    };
    assert_eq!(decide(&m, &one, 1), Ok(Decision::HookThenPromote));
}

#[test]
fn the_comparison_is_the_seam() {
    struct Always(bool);
    impl HashNeq for Always {
        fn neq(&self, _: &[u8; 32], _: &[u8; 32]) -> bool {
            self.0
        }
    }
    // The first comparison (map owner) already differs.
    assert_eq!(
        bpfsig_core::metadata::decide(&good(), &H, &caller(1), &Always(true)),
        Err(MetaError::ForeignMap)
    );
    let mut other = H;
    other[0] ^= 1;
    assert_eq!(
        bpfsig_core::metadata::decide(&good(), &other, &caller(1), &Always(false)),
        Ok(Decision::HookThenPromote)
    );
}

#[test]
fn every_error_has_a_reason() {
    for e in [
        MetaError::BadHashSize,
        MetaError::NotExclusive,
        MetaError::NotFrozen,
        MetaError::ZeroHash,
        MetaError::ForeignMap,
        MetaError::HashMismatch,
        MetaError::BadVerdict,
    ] {
        assert!(!e.reason().is_empty());
        assert!(e.reason().to_bytes().is_ascii());
    }
}

#[test]
fn checks_run_in_spec_order() {
    // Everything wrong at once: the first check in SPEC §3 order wins.
    let zero = [0u8; 32];
    let other = [0x77; 32];
    let bad = MapView {
        excl_prog_sha: None,
        frozen: false,
        sha: &zero,
    };
    assert_eq!(decide(&bad, &H[..31], 1), Err(MetaError::BadHashSize));
    assert_eq!(decide(&bad, &H, 1), Err(MetaError::NotExclusive));
    let bad = MapView {
        excl_prog_sha: Some(&other),
        ..bad
    };
    assert_eq!(decide(&bad, &H, 1), Err(MetaError::NotFrozen));
    let bad = MapView {
        frozen: true,
        ..bad
    };
    assert_eq!(decide(&bad, &H, 1), Err(MetaError::ZeroHash));
    let bad = MapView {
        sha: &[0x99; 32],
        ..bad
    };
    assert_eq!(decide(&bad, &H, 1), Err(MetaError::ForeignMap));
    let bad = MapView {
        excl_prog_sha: Some(&D),
        ..bad
    };
    assert_eq!(decide(&bad, &H, 1), Err(MetaError::HashMismatch));
    assert_eq!(decide(&good(), &H, 7), Err(MetaError::BadVerdict));
}
