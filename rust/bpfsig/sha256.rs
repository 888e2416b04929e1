// SPDX-License-Identifier: GPL-2.0

//! The kernel's `lib/crypto` SHA-256 behind the core's seam
//! ([`crate::rules::sha256`]): the core does not hash by itself, because
//! inside the kernel there is one audited implementation.

use crate::rules::sha256::Sha256;
use kernel::bindings;

/// An incremental SHA-256 of `lib/crypto`.
///
/// # Invariants
///
/// `ctx` was initialised by `sha256_init()`.
pub(crate) struct KernelSha256 {
    ctx: bindings::sha256_ctx,
}

impl KernelSha256 {
    /// Starts a new message.
    pub(crate) fn new() -> Self {
        // SAFETY: `sha256_ctx` holds only integers, for which all-zero is a
        // valid value; `sha256_init()` below sets the real initial state.
        let mut ctx: bindings::sha256_ctx = unsafe { core::mem::zeroed() };
        // SAFETY: `ctx` is a valid, exclusively borrowed `sha256_ctx`.
        unsafe { bindings::sha256_init(&mut ctx) };
        // INVARIANT: initialised just above.
        Self { ctx }
    }
}

impl Sha256 for KernelSha256 {
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
