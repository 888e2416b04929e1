// SPDX-License-Identifier: GPL-2.0

//! The body of the kfunc `bpf_loader_verify_metadata()`
//! (`kernel/bpf/loader.c`, `bpfsig_loader_verify_metadata()` in
//! `include/linux/bpfsig.h`): the kernel side of [`rule`].

use crate::bpf_objects::{MapRef, ProgRef};
use crate::rejection::Rejection;
use crate::rules::metadata::{self as rule, Decision, MetaError};
use kernel::{bindings, prelude::*};

/// The kernel's `crypto_memneq()` as the core's hash comparison.
pub(crate) struct KernelMemneq;

impl rule::HashNeq for KernelMemneq {
    fn neq(&self, a: &[u8; 32], b: &[u8; 32]) -> bool {
        // SAFETY: both are valid for 32 bytes.
        unsafe { bindings::crypto_memneq(a.as_ptr().cast(), b.as_ptr().cast(), a.len()) != 0 }
    }
}

/// The kfunc's checks and, for a signed loader, the LSM hook and the
/// promotion of its verdict.
fn verify_metadata(map: &MapRef, hash: &[u8], prog: &ProgRef) -> Result<(), Rejection> {
    let snapshot = map.snapshot();
    let digest = prog.digest();
    let caller = rule::Caller {
        verdict: prog.verdict(),
        digest: &digest,
        unsigned_btf: prog.unsigned_btf(),
    };
    match rule::decide(&snapshot.view(), hash, &caller, &KernelMemneq)? {
        Decision::HookThenPromote => {
            // Every run asks: a promoted loader run again creates maps and
            // programs again, and the LSM's answer may have changed.
            //
            // SAFETY: the program is live (`ProgRef`'s invariant).
            let rc = unsafe { bindings::security_bpf_prog_load_post_integrity(prog.prog()) };
            if rc != 0 {
                return Err(Rejection::because(
                    Error::from_errno(rc),
                    c"denied by an LSM",
                ));
            }
            prog.promote()?;
            Ok(())
        }
        Decision::NoPromotion => Ok(()),
    }
}

/// C entry point; see `include/linux/bpfsig.h`.
///
/// # Safety
///
/// As the verifier guarantees for the kfunc: `map` is a live `struct
/// bpf_map`, `hash` is readable for `hash_sz` bytes, and `aux` is the
/// calling program's `struct bpf_prog_aux`, all for the duration of the
/// call; `reason` must be valid for writing.
#[export]
pub unsafe extern "C" fn bpfsig_loader_verify_metadata(
    map: *mut bindings::bpf_map,
    hash: *const kernel::ffi::c_void,
    hash_sz: u32,
    aux: *mut bindings::bpf_prog_aux,
    reason: *mut *const kernel::ffi::c_char,
) -> kernel::ffi::c_int {
    // The loader's buffer is BPF memory (its stack, or a map value another
    // CPU can write): one volatile copy, and only of a buffer of the right
    // size; any other size is refused by its length alone.
    let local: Option<[u8; rule::HASH_SIZE]> = match usize::try_from(hash_sz) {
        Ok(rule::HASH_SIZE) if !hash.is_null() => {
            // SAFETY: the caller guarantees `hash` is readable for
            // `hash_sz` (32) bytes; `[u8; 32]` has alignment 1.
            Some(unsafe { core::ptr::read_volatile(hash.cast::<[u8; rule::HASH_SIZE]>()) })
        }
        _ => None,
    };
    let hash: &[u8] = local.as_ref().map_or(&[], |h| h.as_slice());
    // SAFETY: the caller guarantees both are live for the call.
    let (map, prog) = unsafe { (MapRef::new(map), ProgRef::new(aux)) };
    match verify_metadata(&map, hash, &prog) {
        Ok(()) => 0,
        // SAFETY: the caller guarantees `reason` is valid for writing; no
        // instruction is reported.
        Err(r) => unsafe { r.report(reason, core::ptr::null_mut()) },
    }
}

impl From<MetaError> for Error {
    fn from(e: MetaError) -> Self {
        Error::from_errno(e.to_errno())
    }
}

impl From<MetaError> for Rejection {
    fn from(e: MetaError) -> Self {
        Self::because(e.into(), e.reason())
    }
}

#[cfg(CONFIG_BPFSIG_KUNIT_TEST)]
mod kunit;
