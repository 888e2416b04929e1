// SPDX-License-Identifier: GPL-2.0
//! What IPE's BPF properties say about a program (SPEC §8).
//!
//! A rule such as `op=BPF_PROG_LOAD bpf_signature=OK bpf_keyring=BUILTIN
//! action=ALLOW` applies to a program when each of its properties holds.
//! Which value a program has is a decision: which verdict a policy sees at
//! each op, which keyring class a signature counts as, whether the load came
//! from the kernel. It is made here, once; IPE's parser, hooks and audit
//! (C) only carry the program and the property to it.

use crate::metadata::SigVerdict;

/// The `bpf_*=VALUE` tokens, numbered as `enum bpfsig_ipe_prop` in
/// `<linux/bpfsig.h>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum Prop {
    /// `bpf_signature=UNSIGNED`
    SigUnsigned = 0,
    /// `bpf_signature=OK`
    SigOk = 1,
    /// `bpf_signature=METADATA_VERIFIED`
    SigMetadataVerified = 2,
    /// `bpf_keyring=BUILTIN`
    KeyringBuiltin = 3,
    /// `bpf_keyring=SECONDARY`
    KeyringSecondary = 4,
    /// `bpf_keyring=PLATFORM`
    KeyringPlatform = 5,
    /// `bpf_keyring=USER`
    KeyringUser = 6,
    /// `bpf_kernel=FALSE`
    KernelFalse = 7,
    /// `bpf_kernel=TRUE`
    KernelTrue = 8,
}

impl Prop {
    /// Every property, in numbering order.
    pub const ALL: [Prop; 9] = [
        Prop::SigUnsigned,
        Prop::SigOk,
        Prop::SigMetadataVerified,
        Prop::KeyringBuiltin,
        Prop::KeyringSecondary,
        Prop::KeyringPlatform,
        Prop::KeyringUser,
        Prop::KernelFalse,
        Prop::KernelTrue,
    ];

    /// Decodes a raw property; unknown values are no property.
    pub fn from_raw(v: u32) -> Option<Self> {
        Self::ALL.into_iter().find(|p| *p as u32 == v)
    }
}

/// The keyring a signature was verified against (`prog->aux->sig.keyring_type`,
/// `BPF_SIG_KEYRING_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum Keyring {
    /// The builtin trusted keys.
    Builtin = 1,
    /// The secondary trusted keyring.
    Secondary = 2,
    /// The platform keyring (firmware keys).
    Platform = 3,
    /// A keyring the caller named by serial: anyone's.
    User = 4,
}

impl Keyring {
    /// Decodes the raw field; `BPF_SIG_KEYRING_NONE` and unknown values are
    /// no keyring.
    pub const fn from_raw(v: u32) -> Option<Self> {
        match v {
            1 => Some(Self::Builtin),
            2 => Some(Self::Secondary),
            3 => Some(Self::Platform),
            4 => Some(Self::User),
            _ => None,
        }
    }
}

/// The IPE operation being evaluated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// `op=BPF_PROG_LOAD`, at `security_bpf_prog_load()`.
    ProgLoad,
    /// `op=BPF_PROG_LOAD_POST_INTEGRITY`, at
    /// `security_bpf_prog_load_post_integrity()`.
    PostIntegrity,
}

/// A program as IPE's BPF properties see it at one op.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Facts {
    /// The verdict the policy judges; `None` for a value this code does not
    /// know (no `bpf_signature` value then holds).
    pub verdict: Option<SigVerdict>,
    /// The keyring of a verified signature.
    pub keyring: Option<Keyring>,
    /// The load came from the kernel (a loader's inner programs).
    pub kernel: bool,
}

impl Facts {
    /// From the program's raw fields (`sig.verdict`, `sig.keyring_type`,
    /// `is_kernel`) at `op`.
    pub fn new(verdict: u32, keyring: u32, kernel: bool, op: Op) -> Self {
        let verdict = match (op, SigVerdict::from_raw(verdict)) {
            // The hook fires once the metadata proved equal to the signed
            // hash, just before the promotion: the policy judges the verdict
            // the loader is about to get. Only signed loaders get there.
            (Op::PostIntegrity, Some(SigVerdict::Verified | SigVerdict::MetadataVerified)) => {
                Some(SigVerdict::MetadataVerified)
            }
            (_, v) => v,
        };
        // A keyring belongs to a verified signature; whatever the field
        // says, an unsigned program has none.
        let keyring = match verdict {
            Some(SigVerdict::Verified | SigVerdict::MetadataVerified) => Keyring::from_raw(keyring),
            _ => None,
        };
        Self {
            verdict,
            keyring,
            kernel,
        }
    }

    /// Whether `prop` holds for this program.
    pub fn matches(&self, prop: Prop) -> bool {
        match prop {
            Prop::SigUnsigned => self.verdict == Some(SigVerdict::Unsigned),
            Prop::SigOk => self.verdict == Some(SigVerdict::Verified),
            Prop::SigMetadataVerified => self.verdict == Some(SigVerdict::MetadataVerified),
            Prop::KeyringBuiltin => self.keyring == Some(Keyring::Builtin),
            Prop::KeyringSecondary => self.keyring == Some(Keyring::Secondary),
            Prop::KeyringPlatform => self.keyring == Some(Keyring::Platform),
            Prop::KeyringUser => self.keyring == Some(Keyring::User),
            Prop::KernelFalse => !self.kernel,
            Prop::KernelTrue => self.kernel,
        }
    }

    /// [`Self::matches`] for a raw property: unknown properties never hold.
    pub fn matches_raw(&self, prop: u32) -> bool {
        Prop::from_raw(prop).is_some_and(|p| self.matches(p))
    }

    /// The raw verdict for the audit record (`u32::MAX` if unknown).
    pub fn verdict_raw(&self) -> u32 {
        self.verdict.map_or(u32::MAX, |v| v as u32)
    }

    /// The raw keyring for the audit record (`BPF_SIG_KEYRING_NONE` = 0).
    pub fn keyring_raw(&self) -> u32 {
        self.keyring.map_or(0, |k| k as u32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VERDICTS: [u32; 4] = [0, 1, 2, 7];
    const KEYRINGS: [u32; 6] = [0, 1, 2, 3, 4, 9];

    /// The expected truth table, written out independently of `matches`.
    fn expected(verdict: u32, keyring: u32, kernel: bool, op: Op, prop: Prop) -> bool {
        let signed = verdict == 1 || verdict == 2;
        let seen = if op == Op::PostIntegrity && signed {
            2
        } else {
            verdict
        };
        let ring = if signed { keyring } else { 0 };
        match prop {
            Prop::SigUnsigned => seen == 0,
            Prop::SigOk => seen == 1,
            Prop::SigMetadataVerified => seen == 2,
            Prop::KeyringBuiltin => ring == 1,
            Prop::KeyringSecondary => ring == 2,
            Prop::KeyringPlatform => ring == 3,
            Prop::KeyringUser => ring == 4,
            Prop::KernelFalse => !kernel,
            Prop::KernelTrue => kernel,
        }
    }

    #[test]
    fn every_combination_against_every_property() {
        let mut n = 0;
        for op in [Op::ProgLoad, Op::PostIntegrity] {
            for v in VERDICTS {
                for k in KEYRINGS {
                    for kernel in [false, true] {
                        let f = Facts::new(v, k, kernel, op);
                        for p in Prop::ALL {
                            assert_eq!(
                                f.matches(p),
                                expected(v, k, kernel, op, p),
                                "verdict {v} keyring {k} kernel {kernel} {op:?} {p:?}"
                            );
                            assert_eq!(f.matches_raw(p as u32), f.matches(p));
                            n += 1;
                        }
                    }
                }
            }
        }
        assert_eq!(n, 2 * 4 * 6 * 2 * 9);
    }

    #[test]
    fn post_integrity_sees_metadata_verified_only_for_signed_loaders() {
        let f = Facts::new(1, 1, false, Op::PostIntegrity);
        assert!(f.matches(Prop::SigMetadataVerified) && !f.matches(Prop::SigOk));
        let f = Facts::new(1, 1, false, Op::ProgLoad);
        assert!(f.matches(Prop::SigOk) && !f.matches(Prop::SigMetadataVerified));
        let f = Facts::new(0, 0, false, Op::PostIntegrity);
        assert!(f.matches(Prop::SigUnsigned) && !f.matches(Prop::SigMetadataVerified));
    }

    #[test]
    fn unknown_values_match_nothing_of_their_kind() {
        let f = Facts::new(7, 9, true, Op::ProgLoad);
        assert!(!f.matches(Prop::SigUnsigned) && !f.matches(Prop::SigOk));
        assert!(!f.matches(Prop::SigMetadataVerified));
        assert!(!f.matches(Prop::KeyringUser) && f.matches(Prop::KernelTrue));
        assert_eq!(f.verdict_raw(), u32::MAX);
        assert!(!f.matches_raw(9) && !f.matches_raw(u32::MAX));
        // an unsigned program has no keyring, whatever its field says
        assert!(!Facts::new(0, 1, false, Op::ProgLoad).matches(Prop::KeyringBuiltin));
    }
}
