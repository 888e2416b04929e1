// SPDX-License-Identifier: GPL-2.0

//! IPE's BPF properties (`bpfsig_ipe_facts()` and `bpfsig_ipe_match()` in
//! `include/linux/bpfsig.h`): the core decides what a program's verdict,
//! keyring and origin are at an IPE op; IPE's C hooks only ask.

use crate::ipe::{Facts, Keyring, Op};
use crate::metadata::SigVerdict;
use kernel::{bindings, prelude::*};

/// C entry point; see `include/linux/bpfsig.h`.
///
/// # Safety
///
/// `prog` must be a live program with its `aux`, and `facts` writable.
#[export]
pub unsafe extern "C" fn bpfsig_ipe_facts(
    prog: *const bindings::bpf_prog,
    post_integrity: bool,
    facts: *mut bindings::bpfsig_ipe_facts,
) {
    // SAFETY: `prog` and its `aux` are live (caller). The verdict may be
    // promoted concurrently with WRITE_ONCE(), hence the volatile read
    // (READ_ONCE()); the other fields are set before the program is live.
    let (verdict, keyring, kernel) = unsafe {
        let aux = (*prog).aux;
        (
            core::ptr::read_volatile(&raw const (*aux).sig.verdict),
            (*aux).sig.keyring_type,
            (*aux).is_kernel,
        )
    };
    let op = if post_integrity {
        Op::PostIntegrity
    } else {
        Op::ProgLoad
    };
    let f = Facts::new(u32::from(verdict), u32::from(keyring), kernel, op);
    // SAFETY: `facts` is writable (caller).
    unsafe {
        facts.write(bindings::bpfsig_ipe_facts {
            verdict: f.verdict_raw(),
            keyring: f.keyring_raw(),
            kernel: f.kernel,
        })
    };
}

/// C entry point; see `include/linux/bpfsig.h`.
///
/// # Safety
///
/// `facts` must be readable, as filled by [`bpfsig_ipe_facts`].
#[export]
pub unsafe extern "C" fn bpfsig_ipe_match(
    facts: *const bindings::bpfsig_ipe_facts,
    prop: u32,
) -> bool {
    // SAFETY: `facts` is readable (caller); it is plain data.
    let f = unsafe { facts.read() };
    Facts {
        verdict: SigVerdict::from_raw(f.verdict),
        keyring: Keyring::from_raw(f.keyring),
        kernel: f.kernel,
    }
    .matches_raw(prop)
}
