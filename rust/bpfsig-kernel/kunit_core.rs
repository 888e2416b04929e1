// SPDX-License-Identifier: GPL-2.0

//! KUnit suite `bpfsig_core`: the core on the kernel's SHA-256, against
//! vectors the host computed with independent references.

use crate::testvec;
use kernel::{alloc::flags::GFP_KERNEL, alloc::KVec, bindings, prelude::*};

/// Deterministic test programs (xorshift64), biased towards map loads and
/// (in)valid second slots: the cases the digest's masking rule is about.
pub(crate) struct TestPrograms(pub(crate) u64);

impl TestPrograms {
    fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0.wrapping_shl(13);
        self.0 ^= self.0.wrapping_shr(7);
        self.0 ^= self.0.wrapping_shl(17);
        self.0
    }

    /// A program of fewer than `max_len` instructions (`max_len` > 0).
    pub(crate) fn next_program(&mut self, max_len: u64) -> Result<KVec<u8>> {
        let len = self.next_u64().checked_rem(max_len).ok_or(EINVAL)?;
        let mut prog = KVec::new();
        for _ in 0..len {
            let r = self.next_u64();
            let mut slot = r.to_le_bytes();
            match r & 3 {
                0 => slot[0] = 0x18,
                1 => slot[..4].fill(0),
                _ => {}
            }
            prog.extend_from_slice(&slot, GFP_KERNEL)?;
        }
        Ok(prog)
    }
}

/// `loads` map `ld_imm64`s, alternately of an fd and a value, with non-zero
/// first imms and second imms that are zero every third load: many stretches
/// of zeroed imms for the in-place digest.
pub(crate) fn dense_program(loads: usize) -> Result<KVec<u8>> {
    let mut prog = KVec::new();
    for i in 0..loads {
        let (n, src) = (u8::try_from(i % 251)?, if i % 2 == 0 { 0x11 } else { 0x21 });
        prog.extend_from_slice(&[0x18, src, 0, 0, n, 1, 0, 0], GFP_KERNEL)?;
        prog.extend_from_slice(&[0, 0, 0, 0, n % 3, 0, 0, 0], GFP_KERNEL)?;
    }
    Ok(prog)
}

/// The digest by the C rule, computed independently: copy, mask, one-shot
/// `sha256()`.
pub(crate) fn naive_digest(prog: &[u8]) -> Result<[u8; 32]> {
    let mut copy = KVec::new();
    copy.extend_from_slice(prog, GFP_KERNEL)?;
    let mut was_ld_map = false;
    for slot in copy.chunks_exact_mut(8) {
        let Ok(slot) = <&mut [u8; 8]>::try_from(slot) else {
            return Err(EINVAL);
        };
        let [code, regs, off_lo, off_hi, ..] = *slot;
        let (dst, src) = (regs & 0xf, regs >> 4);
        let mask = if !was_ld_map && code == 0x18 && (src == 1 || src == 2) {
            was_ld_map = true;
            true
        } else if was_ld_map && code == 0 && dst == 0 && src == 0 && off_lo == 0 && off_hi == 0 {
            was_ld_map = false;
            true
        } else {
            was_ld_map = false;
            false
        };
        if mask {
            slot[4..].fill(0);
        }
    }
    let mut out = [0u8; 32];
    // SAFETY: `copy` is valid for `copy.len()` bytes and `out` for 32.
    unsafe { bindings::sha256(copy.as_ptr(), copy.len(), out.as_mut_ptr()) };
    Ok(out)
}

#[kunit_tests(bpfsig_core)]
mod tests {
    use super::*;
    use crate::btf::{index_len, Btf, Kind, TypeTable};
    use crate::crypto::KernelSha256;
    use crate::digest::{prog_digest, prog_digest_batched, SAVED_LOADS};
    use crate::insn::InsnsMut;
    use crate::metadata::{decide, Caller, Decision, MapView, MetaError};
    use crate::proto::{func_proto, ArgKind};

    /// The in-place digest of `prog`, checking that `prog` is restored.
    fn digest(prog: &mut [u8]) -> Result<[u8; 32]> {
        let mut before = KVec::new();
        before.extend_from_slice(prog, GFP_KERNEL)?;
        let mut insns = InsnsMut::new(prog).map_err(|_| EINVAL)?;
        let d = prog_digest(&mut insns, KernelSha256::new());
        // Stretches of one imm: a boundary at every masked slot.
        let one = prog_digest_batched::<_, 1>(&mut insns, KernelSha256::new());
        assert!(*prog == *before);
        assert!(d == one);
        Ok(d)
    }

    #[test]
    fn digest_matches_the_host_reference_vector() -> Result {
        let mut prog = KVec::new();
        for slot in &testvec::DIGEST_PROG {
            prog.extend_from_slice(slot, GFP_KERNEL)?;
        }
        assert_eq!(digest(&mut prog)?, testvec::DIGEST_PROG_SHA);
        assert_eq!(naive_digest(&prog)?, testvec::DIGEST_PROG_SHA);
        Ok(())
    }

    #[test]
    fn digest_equals_copy_mask_hash_on_generated_programs() -> Result {
        let mut programs = TestPrograms(0x9e37_79b9_7f4a_7c15);
        for round in 0..200u32 {
            let mut prog = programs.next_program(160)?;
            let ok = digest(&mut prog)? == naive_digest(&prog)?;
            if !ok {
                pr_err!("digest mismatch in round {}\n", round);
            }
            assert!(ok);
        }
        // More map loads than the digest zeroes before hashing a stretch.
        let mut prog = dense_program(SAVED_LOADS * 3 + 1)?;
        assert_eq!(digest(&mut prog)?, naive_digest(&prog)?);
        Ok(())
    }

    #[test]
    fn btf_reader_reads_the_loader_btf() -> Result {
        let data = &testvec::LOADER_BTF;
        let n = index_len(data).map_err(|_| EINVAL)?;
        assert_eq!(n, 5);
        let mut index = KVec::from_elem(0u32, n, GFP_KERNEL)?;
        let btf = Btf::parse(data, &mut index).map_err(|_| EINVAL)?;
        let f = btf
            .type_by_id(testvec::LOADER_BTF_FUNC)
            .map_err(|_| EINVAL)?;
        assert!(f.kind == Kind::Func);
        assert!(btf.name_by_offset(f.name_off) == Ok(b"bpf_loader_verify_metadata".as_slice()));
        let p = func_proto(&btf, testvec::LOADER_BTF_FUNC).map_err(|_| EINVAL)?;
        assert!(p.ret == ArgKind::Scalar { size: 4 });
        assert!(p.args() == [ArgKind::Ptr, ArgKind::Ptr, ArgKind::Scalar { size: 4 }]);
        // A truncated copy is an error, not a crash.
        let short = data.split_last().map_or(&[][..], |(_, rest)| rest);
        assert!(index_len(short).is_err());
        Ok(())
    }

    #[test]
    fn metadata_decision_fails_closed_on_crypto_memneq() {
        use crate::crypto::KernelMemneq;
        let m = &KernelMemneq;
        let sha = [0x5a; 32];
        let digest = [0x3c; 32];
        let good = MapView {
            excl_prog_sha: Some(&digest),
            frozen: true,
            sha: &sha,
        };
        let caller = |verdict| Caller {
            verdict,
            digest: &digest,
            unsigned_btf: false,
        };
        assert!(decide(&good, &sha, &caller(1), m) == Ok(Decision::HookThenPromote));
        assert!(decide(&good, &sha, &caller(2), m) == Ok(Decision::HookThenPromote));
        assert!(decide(&good, &sha, &caller(0), m) == Ok(Decision::NoPromotion));
        assert!(decide(&good, &sha[..31], &caller(1), m) == Err(MetaError::BadHashSize));
        let unfrozen = MapView {
            frozen: false,
            ..good
        };
        assert!(decide(&unfrozen, &sha, &caller(1), m) == Err(MetaError::NotFrozen));
        assert!(decide(&good, &[0; 32], &caller(1), m) == Err(MetaError::ZeroHash));
        // crypto_memneq() sees a difference in any byte, of the map's owner
        // and of the hash.
        for i in 0..32 {
            let mut other = sha;
            if let Some(b) = other.get_mut(i) {
                *b ^= 0x80;
            }
            assert!(decide(&good, &other, &caller(1), m) == Err(MetaError::HashMismatch));
            let foreign = MapView {
                excl_prog_sha: Some(&other),
                ..good
            };
            assert!(decide(&foreign, &sha, &caller(1), m) == Err(MetaError::ForeignMap));
        }
        assert_eq!(MetaError::ForeignMap.to_errno(), EACCES.to_errno());
        assert_eq!(MetaError::HashMismatch.to_errno(), EINVAL.to_errno());
    }
}
