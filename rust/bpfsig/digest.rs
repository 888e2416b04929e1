// SPDX-License-Identifier: GPL-2.0

//! `prog->digest` at `BPF_PROG_LOAD` entry (`bpfsig_prog_digest()` in
//! `include/linux/bpfsig.h`): the core's in-place digest over the kernel's
//! SHA-256, so the program is never copied to be hashed: the kernel side
//! of [`rule`].

use crate::rules::{digest as rule, insn};
use crate::sha256::KernelSha256;
use kernel::{bindings, prelude::*};

// The instruction forms the digest masks are the kernel's: a uapi change
// the rule did not follow would make it hash other bytes than the C rule.
const _: () = {
    assert!(insn::INSN_SIZE == core::mem::size_of::<bindings::bpf_insn>());
    assert!(insn::LD_IMM64 as u32 == bindings::BPF_LD | bindings::BPF_IMM | bindings::BPF_DW);
    assert!(insn::BPF_PSEUDO_MAP_FD as u32 == bindings::BPF_PSEUDO_MAP_FD);
    assert!(insn::BPF_PSEUDO_MAP_VALUE as u32 == bindings::BPF_PSEUDO_MAP_VALUE);
};

/// The digest of `len` instructions at `insns`, bit-identical to
/// `bpf_prog_calc_tag()`.
///
/// The instructions are modified while it runs and restored before it
/// returns.
///
/// # Safety
///
/// `insns` must be valid for reading and writing `len` instructions, and
/// nothing else may access them until this returns.
pub(crate) unsafe fn prog_digest(
    insns: *mut bindings::bpf_insn,
    len: u32,
) -> Result<[u8; rule::DIGEST_SIZE]> {
    let size = usize::try_from(len)?
        .checked_mul(insn::INSN_SIZE)
        .ok_or(EINVAL)?;
    // SAFETY: the caller guarantees `insns` is valid for reading and writing
    // `len` instructions of `INSN_SIZE` bytes each, and exclusive to us.
    let bytes = unsafe { core::slice::from_raw_parts_mut(insns.cast::<u8>(), size) };
    let mut view = insn::InsnsMut::new(bytes)?;
    Ok(rule::prog_digest(&mut view, KernelSha256::new()))
}

/// C entry point; see `include/linux/bpfsig.h`.
///
/// # Safety
///
/// `insns` must be valid for reading and writing `len` instructions that
/// nothing else accesses meanwhile, and `out` for writing
/// `SHA256_DIGEST_SIZE` bytes.
#[export]
pub unsafe extern "C" fn bpfsig_prog_digest(
    insns: *mut bindings::bpf_insn,
    len: u32,
    out: *mut u8,
) -> kernel::ffi::c_int {
    kernel::error::from_result(|| {
        // SAFETY: the caller guarantees `insns` is valid and exclusive for
        // `len` insns.
        let d = unsafe { prog_digest(insns, len) }?;
        // SAFETY: the caller guarantees `out` is writable for 32 bytes; a
        // local array cannot overlap it.
        unsafe { core::ptr::copy_nonoverlapping(d.as_ptr(), out, d.len()) };
        Ok(0)
    })
}

impl From<insn::InsnError> for Error {
    fn from(e: insn::InsnError) -> Self {
        Error::from_errno(e.to_errno())
    }
}

#[cfg(CONFIG_BPFSIG_KUNIT_TEST)]
mod kunit;
#[cfg(CONFIG_BPFSIG_KUNIT_TEST)]
mod vectors;
