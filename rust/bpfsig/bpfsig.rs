// SPDX-License-Identifier: GPL-2.0

//! bpfsig: the checks behind signed BPF light-skeleton loaders.
//!
//! The decisions are [`rules`]: a `no_std`, allocation-free core that is
//! also built and tested on the host with cargo. Each module beside it is
//! the kernel side of the rule of the same name: what only the kernel has
//! (its SHA-256, its BTF objects) or the entry point C calls, a
//! `Result`-returning body behind a thin `#[export]`. `bpf_objects` reads
//! the BPF structures they are given, and `rejection` is how they refuse.
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

/// The decisions on untrusted input (instructions, BTF, the metadata
/// hash). They use nothing of the kernel, so the same files are built and
/// tested in userspace too; public, so that what only userspace tools use
/// is not dead code.
pub mod rules {
    pub mod btf;
    pub mod digest;
    pub mod errno;
    pub mod insn;
    pub mod metadata;
    pub mod proto;
    pub mod resolve;
    pub mod sha256;
}

// The kernel side of each rule, under the rule's name; the modules with a
// C entry point are public, as the entry points are.
mod bpf_objects;
mod btf;
pub mod digest;
pub mod metadata;
mod rejection;
pub mod resolve;
mod sha256;

#[cfg(CONFIG_BPFSIG_KUNIT_TEST)]
mod kunit;

use kernel::bindings;

/// Prefix of this crate's log lines (what `module!` defines for a module).
const __LOG_PREFIX: &[u8] = b"bpfsig\0";

// The core cannot depend on the kernel crate, so it carries its own errno
// numbers; they must be the kernel's.
const _: () = {
    assert!(rules::errno::ENOENT.unsigned_abs() == bindings::ENOENT);
    assert!(rules::errno::ENOMEM.unsigned_abs() == bindings::ENOMEM);
    assert!(rules::errno::EACCES.unsigned_abs() == bindings::EACCES);
    assert!(rules::errno::EINVAL.unsigned_abs() == bindings::EINVAL);
};

// The same for the verdicts the kfunc reads and writes (enum bpf_sig_verdict).
const _: () = {
    use rules::metadata::SigVerdict;
    assert!(SigVerdict::Unsigned as u32 == bindings::bpf_sig_verdict_BPF_SIG_UNSIGNED);
    assert!(SigVerdict::Verified as u32 == bindings::bpf_sig_verdict_BPF_SIG_VERIFIED);
    assert!(
        SigVerdict::MetadataVerified as u32 == bindings::bpf_sig_verdict_BPF_SIG_METADATA_VERIFIED
    );
};
