// SPDX-License-Identifier: GPL-2.0

//! bpfsig in the kernel.
//!
//! The decisions are the `no_std` core in `rust/bpfsig-core/src`, compiled here
//! as modules of this crate (the same files `cargo test` checks on the host);
//! this file adds what only the kernel has: its SHA-256 and, as the kernel
//! side grows, the entry points C calls.

#[path = "../bpfsig-core/src/btf.rs"]
pub mod btf;
#[path = "../bpfsig-core/src/digest.rs"]
pub mod digest;
#[path = "../bpfsig-core/src/errno.rs"]
pub mod errno;
#[path = "../bpfsig-core/src/insn.rs"]
pub mod insn;
#[path = "../bpfsig-core/src/metadata.rs"]
pub mod metadata;
#[path = "../bpfsig-core/src/proto.rs"]
pub mod proto;
#[path = "../bpfsig-core/src/resolve.rs"]
pub mod resolve;
#[path = "../bpfsig-core/src/sha256.rs"]
pub mod sha256;

use kernel::{bindings, prelude::*};

/// Prefix of this crate's log lines (what `module!` would define for a module).
const __LOG_PREFIX: &[u8] = b"bpfsig\0";

/// The kernel's `lib/crypto` SHA-256 as the core's hash backend.
///
/// # Invariants
///
/// `ctx` was initialised by `sha256_init()`.
pub struct KernelSha256 {
    ctx: bindings::sha256_ctx,
}

impl KernelSha256 {
    /// Starts a new message.
    pub fn new() -> Self {
        // SAFETY: `sha256_ctx` holds only integers, for which all-zero is a
        // valid value; `sha256_init()` below sets the real initial state.
        let mut ctx: bindings::sha256_ctx = unsafe { core::mem::zeroed() };
        // SAFETY: `ctx` is a valid, exclusively borrowed `sha256_ctx`.
        unsafe { bindings::sha256_init(&mut ctx) };
        // INVARIANT: initialised just above.
        Self { ctx }
    }
}

impl Default for KernelSha256 {
    fn default() -> Self {
        Self::new()
    }
}

impl sha256::Sha256 for KernelSha256 {
    fn update(&mut self, data: &[u8]) {
        // SAFETY: by the type invariant `ctx` is initialised; `data` is valid
        // for `data.len()` bytes.
        unsafe { bindings::sha256_update(&mut self.ctx, data.as_ptr(), data.len()) };
    }

    fn finish(mut self) -> [u8; 32] {
        let mut out = [0u8; 32];
        // SAFETY: `ctx` is initialised (type invariant) and `out` has room
        // for `SHA256_DIGEST_SIZE` bytes.
        unsafe { bindings::sha256_final(&mut self.ctx, out.as_mut_ptr()) };
        out
    }
}

/// `prog->digest` at `BPF_PROG_LOAD` entry (`include/linux/bpfsig.h`).
///
/// # Safety
///
/// `insns` must be valid for reading `len` instructions and `digest` for
/// writing 32 bytes, for the duration of the call.
#[export]
pub unsafe extern "C" fn bpfsig_prog_digest(
    insns: *const bindings::bpf_insn,
    len: u32,
    digest: *mut u8,
) {
    let size = (len as usize).saturating_mul(insn::INSN_SIZE);
    // SAFETY: the caller guarantees `insns` is readable for `len`
    // instructions of `INSN_SIZE` bytes each.
    let bytes = unsafe { core::slice::from_raw_parts(insns.cast::<u8>(), size) };
    // `size` is a multiple of INSN_SIZE, so this cannot fail.
    let Ok(view) = insn::Insns::new(bytes) else {
        return;
    };
    let d = digest::prog_digest(&view, KernelSha256::new());
    // SAFETY: the caller guarantees `digest` is writable for 32 bytes; a
    // local array cannot overlap it.
    unsafe { core::ptr::copy_nonoverlapping(d.as_ptr(), digest, d.len()) };
}

#[cfg(CONFIG_BPFSIG_KUNIT_TEST)]
#[path = "../bpfsig-core/src/testvec.rs"]
mod testvec;

#[cfg(CONFIG_BPFSIG_KUNIT_TEST)]
#[kernel::prelude::kunit_tests(bpfsig_core)]
mod tests {
    use super::*;
    use crate::btf::{index_len, Btf, Kind, TypeTable};
    use crate::digest::prog_digest;
    use crate::insn::Insns;
    use crate::metadata::{decide, Decision, MapView, MetaError};
    use crate::proto::{func_proto, ArgKind};
    use kernel::alloc::{flags::GFP_KERNEL, KVec};

    /// Digest by the C rule, independently: copy, mask, one-shot `sha256()`.
    fn naive_digest(prog: &[u8]) -> Result<[u8; 32]> {
        let mut copy = KVec::new();
        copy.extend_from_slice(prog, GFP_KERNEL)?;
        let mut was_ld_map = false;
        for slot in copy.chunks_exact_mut(8) {
            let (code, dst, src) = (slot[0], slot[1] & 0xf, slot[1] >> 4);
            let off_zero = slot[2] == 0 && slot[3] == 0;
            if !was_ld_map && code == 0x18 && (src == 1 || src == 2) {
                was_ld_map = true;
                slot[4..8].fill(0);
            } else if was_ld_map && code == 0 && dst == 0 && src == 0 && off_zero {
                was_ld_map = false;
                slot[4..8].fill(0);
            } else {
                was_ld_map = false;
            }
        }
        let mut out = [0u8; 32];
        // SAFETY: `copy` is valid for `copy.len()` bytes and `out` for 32.
        unsafe { bindings::sha256(copy.as_ptr(), copy.len(), out.as_mut_ptr()) };
        Ok(out)
    }

    #[test]
    fn digest_matches_the_host_reference_vector() -> Result {
        let mut prog = KVec::new();
        for slot in &testvec::DIGEST_PROG {
            prog.extend_from_slice(slot, GFP_KERNEL)?;
        }
        let insns = Insns::new(&prog).map_err(|_| EINVAL)?;
        assert_eq!(prog_digest(&insns, KernelSha256::new()), testvec::DIGEST_PROG_SHA);
        assert_eq!(naive_digest(&prog)?, testvec::DIGEST_PROG_SHA);
        Ok(())
    }

    #[test]
    fn digest_equals_copy_mask_hash_on_generated_programs() -> Result {
        // xorshift64: deterministic programs biased towards map loads and
        // (in)valid second slots, the cases the masking rule is about.
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for round in 0..200u32 {
            let len = (next() % 64) as usize;
            let mut prog = KVec::with_capacity(len * 8, GFP_KERNEL)?;
            for _ in 0..len {
                let r = next();
                let mut slot = r.to_le_bytes();
                match r % 4 {
                    0 => slot[0] = 0x18,
                    1 => slot[..4].fill(0),
                    _ => {}
                }
                prog.extend_from_slice(&slot, GFP_KERNEL)?;
            }
            let insns = Insns::new(&prog).map_err(|_| EINVAL)?;
            let ok = prog_digest(&insns, KernelSha256::new()) == naive_digest(&prog)?;
            if !ok {
                pr_err!("digest mismatch in round {}\n", round);
            }
            assert!(ok);
        }
        Ok(())
    }

    #[test]
    fn btf_reader_reads_the_loader_btf() -> Result {
        let data = &testvec::LOADER_BTF;
        let n = index_len(data).map_err(|_| EINVAL)?;
        assert_eq!(n, 5);
        let mut index = KVec::from_elem(0u32, n, GFP_KERNEL)?;
        let btf = Btf::parse(data, &mut index).map_err(|_| EINVAL)?;
        let f = btf.type_by_id(testvec::LOADER_BTF_FUNC).map_err(|_| EINVAL)?;
        assert!(f.kind == Kind::Func);
        assert!(btf.name_by_offset(f.name_off) == Ok(b"bpf_loader_verify_metadata".as_slice()));
        let p = func_proto(&btf, testvec::LOADER_BTF_FUNC).map_err(|_| EINVAL)?;
        assert!(p.ret == ArgKind::Scalar { size: 4 });
        assert!(p.args() == [ArgKind::Ptr, ArgKind::Ptr, ArgKind::Scalar { size: 4 }]);
        // A truncated copy is an error, not a crash.
        assert!(index_len(&data[..data.len() - 1]).is_err());
        Ok(())
    }

    #[test]
    fn metadata_decision_fails_closed() {
        let sha = [0x5a; 32];
        let good = MapView { exclusive: true, frozen: true, sha: &sha };
        assert!(decide(&good, &sha, 1) == Ok(Decision::HookThenPromote));
        assert!(decide(&good, &sha, 0) == Ok(Decision::UnsignedNoPromotion));
        assert!(decide(&good, &sha[..31], 1) == Err(MetaError::BadHashSize));
        let unfrozen = MapView { frozen: false, ..good };
        assert!(decide(&unfrozen, &sha, 1) == Err(MetaError::NotFrozen));
        assert_eq!(MetaError::HashMismatch.to_errno(), EINVAL.to_errno());
    }
}
