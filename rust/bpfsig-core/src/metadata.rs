// SPDX-License-Identifier: GPL-2.0
//! The decision behind the kfunc `bpf_loader_verify_metadata` (SPEC §3).
//!
//! A signed light-skeleton loader's signature covers its instructions (and
//! BTF), in which the SHA-256 of its metadata blob is an immediate. The blob
//! itself lives in a map the loader reads at run time, so the signature only
//! means something once the kernel has checked that this map is the one that
//! was hashed: exclusive to this loader, frozen, and with a cached hash equal
//! to the signed one. Only then may the program's verdict say so.

use crate::errno::{EACCES, EINVAL};

/// Size of the metadata hash.
pub const HASH_SIZE: usize = 32;

/// `enum bpf_sig_verdict`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum SigVerdict {
    /// No signature, or not checked.
    Unsigned = 0,
    /// The signature over the instructions (and BTF) verified.
    Verified = 1,
    /// Verified, and the loader proved its metadata equal to the signed hash.
    MetadataVerified = 2,
}

impl SigVerdict {
    /// Decodes the raw field; unknown values are not a verdict.
    pub const fn from_raw(v: u32) -> Option<Self> {
        match v {
            0 => Some(Self::Unsigned),
            1 => Some(Self::Verified),
            2 => Some(Self::MetadataVerified),
            _ => None,
        }
    }
}

/// What the kfunc may see of a map.
#[derive(Clone, Copy, Debug)]
pub struct MapView<'a> {
    /// `map->excl_prog_sha`: the digest of the one program that may use the
    /// map, `None` if the map is not exclusive.
    pub excl_prog_sha: Option<&'a [u8; HASH_SIZE]>,
    /// The map is frozen (`map->frozen`).
    pub frozen: bool,
    /// `map->sha`: the cached SHA-256 of the values, all zero if never computed.
    pub sha: &'a [u8; HASH_SIZE],
}

/// What the kfunc may see of the program that calls it.
#[derive(Clone, Copy, Debug)]
pub struct Caller<'a> {
    /// The raw `prog->aux->sig.verdict`.
    pub verdict: u32,
    /// `prog->digest`, taken at `BPF_PROG_LOAD` entry.
    pub digest: &'a [u8; HASH_SIZE],
    /// The program carries BTF that its signature does not cover (signed
    /// over its instructions alone, without `BPF_F_SIG_BTF`): what that BTF
    /// says was never vouched for, so the signature proves no loader.
    pub unsigned_btf: bool,
}

/// Why the metadata is not verified.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetaError {
    /// `hash__sz != 32`.
    BadHashSize,
    /// The map is not exclusive to its creator program.
    NotExclusive,
    /// The map is not frozen, so its contents could still change.
    NotFrozen,
    /// The signed hash, or the map's cached hash, is all zero: a zero hash
    /// proves nothing, and an all-zero `map->sha` was never computed.
    ZeroHash,
    /// The map is exclusive to another program than the caller.
    ForeignMap,
    /// The cached hash differs from the signed one.
    HashMismatch,
    /// The program's verdict field holds no known verdict.
    BadVerdict,
}

impl MetaError {
    /// The kernel errno for this error: `-EACCES` when the map is not the
    /// caller's to use, `-EINVAL` when the loader's own checks failed.
    pub const fn to_errno(self) -> i32 {
        match self {
            Self::ForeignMap => -EACCES,
            _ => -EINVAL,
        }
    }

    /// What failed, in the kernel's words, for the log (a C string: the
    /// kernel prints it from C).
    pub const fn reason(self) -> &'static core::ffi::CStr {
        match self {
            Self::BadHashSize => c"hash__sz is not 32",
            Self::NotExclusive => c"the map is not exclusive to the loader",
            Self::NotFrozen => c"the map is not frozen",
            Self::ZeroHash => c"the signed hash or the map's hash is all zero",
            Self::ForeignMap => c"the map is exclusive to another program",
            Self::HashMismatch => c"the map's hash differs from the signed one",
            Self::BadVerdict => c"the program's signature verdict is unknown",
        }
    }
}

/// What the caller must do after the checks passed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// A signed loader: call `security_bpf_prog_load_post_integrity()`; if it
    /// returns 0, promote the verdict to [`SigVerdict::MetadataVerified`].
    /// Also for a loader promoted by an earlier run: each run creates maps
    /// and programs again, and the LSM's answer may have changed.
    HookThenPromote,
    /// An unsigned loader, or one whose BTF is unsigned: the checks passed
    /// (as 7.2's inline check would), but there is no signature to
    /// strengthen: no hook, no promotion.
    NoPromotion,
}

/// Constant-time inequality of two hashes: the seam to the kernel's
/// `crypto_memneq()`, so the core has no comparison of its own to get wrong.
pub trait HashNeq {
    /// Whether `a` and `b` differ, in time independent of where.
    fn neq(&self, a: &[u8; HASH_SIZE], b: &[u8; HASH_SIZE]) -> bool;
}

/// A portable constant-time comparison for host builds (tests, fuzzing);
/// the kernel uses `crypto_memneq()`.
#[cfg(any(feature = "sha2", test))]
pub struct FoldNeq;

#[cfg(any(feature = "sha2", test))]
impl HashNeq for FoldNeq {
    fn neq(&self, a: &[u8; HASH_SIZE], b: &[u8; HASH_SIZE]) -> bool {
        let diff = a
            .iter()
            .zip(b.iter())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y));
        core::hint::black_box(diff) != 0
    }
}

/// Decides the kfunc's result. `hash` is the loader's buffer of `hash.len()`
/// (`hash__sz`) bytes, and `map.sha` one local copy of `map->sha`: each read
/// once, since other CPUs may write them.
///
/// The order of checks is the specification's, so each failure has one cause.
pub fn decide<N: HashNeq + ?Sized>(
    map: &MapView<'_>,
    hash: &[u8],
    caller: &Caller<'_>,
    neq: &N,
) -> Result<Decision, MetaError> {
    let hash: &[u8; HASH_SIZE] = hash.try_into().map_err(|_| MetaError::BadHashSize)?;
    let excl = map.excl_prog_sha.ok_or(MetaError::NotExclusive)?;
    if !map.frozen {
        return Err(MetaError::NotFrozen);
    }
    if hash.iter().all(|&b| b == 0) || map.sha.iter().all(|&b| b == 0) {
        return Err(MetaError::ZeroHash);
    }
    // The verifier binds an exclusive map only to the program with that
    // digest; checking again here does not depend on how the map arrived.
    if neq.neq(excl, caller.digest) {
        return Err(MetaError::ForeignMap);
    }
    if neq.neq(map.sha, hash) {
        return Err(MetaError::HashMismatch);
    }
    match SigVerdict::from_raw(caller.verdict).ok_or(MetaError::BadVerdict)? {
        SigVerdict::Unsigned => Ok(Decision::NoPromotion),
        SigVerdict::Verified | SigVerdict::MetadataVerified if caller.unsigned_btf => {
            Ok(Decision::NoPromotion)
        }
        SigVerdict::Verified | SigVerdict::MetadataVerified => Ok(Decision::HookThenPromote),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        super::decide(map, hash, &caller(verdict), &FoldNeq)
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
                super::decide(&good(), &H, &c, &FoldNeq),
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
            super::decide(&good(), &H, &caller(1), &Always(true)),
            Err(MetaError::ForeignMap)
        );
        let mut other = H;
        other[0] ^= 1;
        assert_eq!(
            super::decide(&good(), &other, &caller(1), &Always(false)),
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
}
