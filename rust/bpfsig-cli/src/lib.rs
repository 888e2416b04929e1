// SPDX-License-Identifier: GPL-2.0
//! `bpfsig inspect` / `bpfsig diff`: check signed light-skeleton headers
//! (`bpftool gen skeleton -L -S`) offline.
//!
//! Headers are untrusted input: every parser here is total (no panics, no
//! indexing that can fail) and does work linear in the header's size, which
//! is bounded by [`cheader::MAX_HEADER`].
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

pub mod blob;
pub mod cheader;
pub mod diff;
pub mod inspect;
pub mod loader;
pub mod names;
pub mod pkcs7;
pub mod signed;
