// SPDX-License-Identifier: GPL-2.0
//! bpfsig core: the decisions bpfsig makes on untrusted BPF input, built on
//! the host.
//!
//! The modules are the files of `rust/bpfsig/rules/`, which the kernel
//! crate (`rust/bpfsig/bpfsig.rs`, `kernel/bpf/bpfsig/` in the kernel tree)
//! declares as its `rules` module: one source, two builds. They refer to
//! each other through `super::`, which is this crate root here and `rules`
//! there.
//!
//! Everything in them is `no_std`, allocation-free and panic-free, because
//! in the kernel a panic is a crash. Every input gives a value or an error;
//! work is linear in the input size. Errors carry kernel errno values
//! (negative, as the kernel returns them) through `to_errno()`, so the glue
//! never has to invent a mapping.
//!
//! What only the host needs stays in this file: the `sha2` backend and a
//! portable hash comparison.
#![no_std]
#![cfg_attr(
    test,
    allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::arithmetic_side_effects,
        clippy::panic,
        clippy::cast_possible_truncation,
        clippy::cast_possible_wrap
    )
)]

#[cfg(test)]
extern crate std;

#[path = "../../bpfsig/rules/btf.rs"]
pub mod btf;
#[path = "../../bpfsig/rules/digest.rs"]
pub mod digest;
#[path = "../../bpfsig/rules/errno.rs"]
pub mod errno;
#[path = "../../bpfsig/rules/insn.rs"]
pub mod insn;
#[path = "../../bpfsig/rules/metadata.rs"]
pub mod metadata;
#[path = "../../bpfsig/rules/proto.rs"]
pub mod proto;
#[path = "../../bpfsig/rules/resolve.rs"]
pub mod resolve;
#[path = "../../bpfsig/rules/sha256.rs"]
pub mod sha256;

/// The host's SHA-256 (tests, fuzzing, `bpfsig inspect`); the kernel
/// hashes with `lib/crypto` instead.
#[cfg(any(feature = "sha2", test))]
impl sha256::Sha256 for sha2::Sha256 {
    fn update(&mut self, data: &[u8]) {
        sha2::Digest::update(self, data);
    }

    fn finish(self) -> [u8; 32] {
        sha2::Digest::finalize(self).into()
    }
}

/// A portable constant-time comparison for host builds (tests, fuzzing);
/// the kernel uses `crypto_memneq()`.
pub struct FoldNeq;

impl metadata::HashNeq for FoldNeq {
    fn neq(&self, a: &[u8; metadata::HASH_SIZE], b: &[u8; metadata::HASH_SIZE]) -> bool {
        let diff = a
            .iter()
            .zip(b.iter())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y));
        core::hint::black_box(diff) != 0
    }
}
