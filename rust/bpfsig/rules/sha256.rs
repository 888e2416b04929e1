// SPDX-License-Identifier: GPL-2.0
//! The SHA-256 backend seam.
//!
//! The core never implements SHA-256 itself: in the kernel it must be
//! `lib/crypto` (no SIMD in kernel Rust, and one audited implementation), on the
//! host the `sha2` crate. Both are incremental, which the in-place digest
//! relies on to avoid copying programs.

/// Incremental SHA-256.
pub trait Sha256 {
    /// Absorbs `data`.
    fn update(&mut self, data: &[u8]);
    /// Consumes the state and returns the digest.
    fn finish(self) -> [u8; 32];
}
