// SPDX-License-Identifier: GPL-2.0

//! KUnit suite `bpfsig_digest`: the in-place digest on the kernel's
//! SHA-256, against vectors the host computed with independent references,
//! against copy-mask-hash on generated programs, and through the C entry
//! point against `bpf_prog_calc_tag()` on real `struct bpf_prog`s.

use super::vectors;
use crate::kunit::{Prog, EXIT};
use kernel::{alloc::flags::GFP_KERNEL, alloc::KVec, bindings, prelude::*};

/// Deterministic test programs (xorshift64), biased towards map loads and
/// (in)valid second slots: the cases the digest's masking rule is about.
struct TestPrograms(u64);

impl TestPrograms {
    fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0.wrapping_shl(13);
        self.0 ^= self.0.wrapping_shr(7);
        self.0 ^= self.0.wrapping_shl(17);
        self.0
    }

    /// A program of fewer than `max_len` instructions (`max_len` > 0).
    fn next_program(&mut self, max_len: u64) -> Result<KVec<u8>> {
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
fn dense_program(loads: usize) -> Result<KVec<u8>> {
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
fn naive_digest(prog: &[u8]) -> Result<[u8; 32]> {
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

#[kunit_tests(bpfsig_digest)]
mod tests {
    use super::*;
    use crate::rules::digest::{prog_digest, prog_digest_batched, SAVED_LOADS};
    use crate::rules::insn::InsnsMut;
    use crate::sha256::KernelSha256;

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
        for slot in &vectors::DIGEST_PROG {
            prog.extend_from_slice(slot, GFP_KERNEL)?;
        }
        assert_eq!(digest(&mut prog)?, vectors::DIGEST_PROG_SHA);
        assert_eq!(naive_digest(&prog)?, vectors::DIGEST_PROG_SHA);
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
    fn rust_digest_equals_bpf_prog_calc_tag() -> Result {
        let mut programs = TestPrograms(0x2545_f491_4f6c_dd1d);
        for round in 0..201 {
            let mut insns = if round < 200 {
                programs.next_program(160)?
            } else {
                dense_program(200)?
            };
            if insns.is_empty() {
                insns.extend_from_slice(&EXIT, GFP_KERNEL)?;
            }
            let prog = Prog::new(&insns)?;
            // SAFETY: `prog` is a complete program.
            assert_eq!(unsafe { bindings::bpf_prog_calc_tag(prog.0) }, 0);
            // SAFETY: `prog` is live; the digest is a plain array.
            let c = unsafe { (*prog.0).__bindgen_anon_1.digest };
            // The C entry point on the program's own instructions, as at
            // BPF_PROG_LOAD entry.
            let len = u32::try_from(insns.len().checked_div(8).ok_or(EINVAL)?)?;
            let mut ours = [0u8; 32];
            // SAFETY: `prog` is live and not shared (type invariant);
            // `insnsi` is its flexible array of `len` instructions.
            let insnsi =
                unsafe { (&raw mut (*prog.0).__bindgen_anon_2).cast::<bindings::bpf_insn>() };
            // SAFETY: `insnsi` holds `len` instructions nothing else uses;
            // `ours` has room for the digest.
            let rc = unsafe { super::super::bpfsig_prog_digest(insnsi, len, ours.as_mut_ptr()) };
            assert_eq!(rc, 0);
            assert!(ours == c);
            // SAFETY: as above, and the call has returned.
            let now = unsafe { core::slice::from_raw_parts(insnsi.cast::<u8>(), insns.len()) };
            assert!(*now == *insns);
        }
        Ok(())
    }
}
