// SPDX-License-Identifier: GPL-2.0
//! bpfsig core: the decisions bpfsig makes on untrusted BPF input.
//!
//! Everything here is `no_std`, allocation-free and panic-free, because the
//! same source is compiled into the kernel (see `rust/bpfsig-kernel/bpfsig.rs`, which
//! includes these modules by path) where a panic is a crash. Every input gives a
//! value or an error; work is linear in the input size.
//!
//! Errors carry kernel errno values (negative, as the kernel returns them)
//! through `to_errno()`, so the glue never has to invent a mapping.
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

pub mod btf;
pub mod digest;
pub mod errno;
pub mod insn;
pub mod metadata;
pub mod proto;
pub mod resolve;
pub mod sha256;
