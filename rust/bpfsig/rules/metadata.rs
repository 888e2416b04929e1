// SPDX-License-Identifier: GPL-2.0
//! The decision behind the kfunc `bpf_loader_verify_metadata()`.
//!
//! A signed light-skeleton loader's signature covers its instructions (and
//! BTF), in which the SHA-256 of its metadata blob is an immediate. The blob
//! itself lives in a map the loader reads at run time, so the signature only
//! means something once the kernel has checked that this map is the one that
//! was hashed: exclusive to this loader, frozen, and with a cached hash equal
//! to the signed one. Only then may the program's verdict say so.

use super::errno::{EACCES, EINVAL};

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
