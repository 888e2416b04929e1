// SPDX-License-Identifier: GPL-2.0

//! bpfsig: the checks behind signed BPF light-skeleton loaders.
//!
//! The decisions are a `no_std`, allocation-free core (`btf`, `digest`,
//! `insn`, `metadata`, `proto`, `resolve`) that is also built and tested on
//! the host with cargo. The other modules are what only the kernel has: its
//! SHA-256 (`crypto`), its BTF objects (`kernel_btf`) and one module per
//! entry point C calls (`prog_digest`, `prog_btf_calls`, `loader_kfunc`),
//! each a `Result`-returning body behind a thin `#[export]`.
//!
//! The core handles untrusted bytes (instructions, BTF). A panic here is a
//! kernel crash, so the constructs that can panic are denied for the whole
//! crate, tests included; `make CLIPPY=1` enforces what rustc cannot.
#![deny(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::arithmetic_side_effects,
    clippy::unreachable,
    clippy::todo,
    clippy::unimplemented,
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::undocumented_unsafe_blocks
)]

// The core, shared with the host build (rust/bpfsig-core in the bpfsig
// repository); public, so that what only host tools use is not dead code.
pub mod btf;
pub mod digest;
pub mod errno;
pub mod insn;
pub mod metadata;
pub mod proto;
pub mod resolve;
pub mod sha256;

// The kernel side; the modules with a C entry point are public, as the
// entry points are.
mod bpf_objects;
mod crypto;
mod kernel_btf;
pub mod loader_kfunc;
pub mod prog_btf_calls;
pub mod prog_digest;
mod rejection;

#[cfg(CONFIG_BPFSIG_KUNIT_TEST)]
mod kunit_bpf;
#[cfg(CONFIG_BPFSIG_KUNIT_TEST)]
mod kunit_core;
#[cfg(CONFIG_BPFSIG_KUNIT_TEST)]
mod testvec;

use kernel::bindings;

/// Prefix of this crate's log lines (what `module!` defines for a module).
const __LOG_PREFIX: &[u8] = b"bpfsig\0";

// The core cannot depend on the kernel crate, so it carries its own errno
// numbers; they must be the kernel's.
const _: () = {
    assert!(errno::ENOENT.unsigned_abs() == bindings::ENOENT);
    assert!(errno::ENOMEM.unsigned_abs() == bindings::ENOMEM);
    assert!(errno::EACCES.unsigned_abs() == bindings::EACCES);
    assert!(errno::EINVAL.unsigned_abs() == bindings::EINVAL);
};

// The same for the verdicts the kfunc reads and writes (enum bpf_sig_verdict).
const _: () = {
    use metadata::SigVerdict;
    assert!(SigVerdict::Unsigned as u32 == bindings::bpf_sig_verdict_BPF_SIG_UNSIGNED);
    assert!(SigVerdict::Verified as u32 == bindings::bpf_sig_verdict_BPF_SIG_VERIFIED);
    assert!(
        SigVerdict::MetadataVerified as u32 == bindings::bpf_sig_verdict_BPF_SIG_METADATA_VERIFIED
    );
};
