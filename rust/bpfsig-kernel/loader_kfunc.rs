// SPDX-License-Identifier: GPL-2.0

//! The body of the kfunc `bpf_loader_verify_metadata()`
//! (`kernel/bpf/loader.c`, `bpfsig_loader_verify_metadata()` in
//! `include/linux/bpfsig.h`).

use crate::metadata::{self, Decision, MetaError, SigVerdict};
use kernel::{bindings, prelude::*};

/// What the log says when a check fails, in the kernel's words.
fn reason(e: MetaError) -> &'static str {
    match e {
        MetaError::BadHashSize => "hash__sz is not 32",
        MetaError::NotExclusive => "the map is not exclusive to the loader",
        MetaError::NotFrozen => "the map is not frozen",
        MetaError::HashMismatch => "the map's hash differs from the signed one",
        MetaError::BadVerdict => "the program's signature verdict is unknown",
    }
}

/// The kfunc's checks and, for a signed loader, the LSM hook and the
/// promotion of its verdict.
///
/// # Safety
///
/// As the verifier guarantees for the kfunc: `map` is a live `struct
/// bpf_map`, `hash` is readable for `hash_sz` bytes, and `aux` is the
/// calling program's `struct bpf_prog_aux`, all for the duration of the
/// call.
unsafe fn verify_metadata(
    map: *mut bindings::bpf_map,
    hash: *const u8,
    hash_sz: u32,
    aux: *mut bindings::bpf_prog_aux,
) -> Result {
    // The map and the program are shared with C, which may update `sha`
    // (BPF_OBJ_GET_INFO_BY_FD, without a lock) and the verdict (a concurrent
    // run of this loader) at any time: read each once, into locals.
    //
    // SAFETY: `map` is live (caller). `excl_prog_sha` is set at creation and
    // never changes and `frozen` only goes from false to true. `sha` may be
    // rewritten concurrently; the volatile read gives a copy that may be
    // torn, and a torn copy can only fail the comparison below.
    let (exclusive, frozen, sha) = unsafe {
        (
            !(*map).excl_prog_sha.is_null(),
            core::ptr::read_volatile(&raw const (*map).frozen),
            core::ptr::read_volatile(&raw const (*map).sha),
        )
    };
    let hash: &[u8] = if hash.is_null() {
        &[]
    } else {
        // SAFETY: the caller guarantees `hash` is readable for `hash_sz` bytes.
        unsafe { core::slice::from_raw_parts(hash, usize::try_from(hash_sz)?) }
    };
    // SAFETY: `aux` is live (caller); the verdict is written concurrently
    // only with WRITE_ONCE(), hence the volatile read (READ_ONCE()).
    let (verdict, id) = unsafe {
        (
            core::ptr::read_volatile(&raw const (*aux).sig.verdict),
            (*aux).id,
        )
    };
    let view = metadata::MapView {
        exclusive,
        frozen,
        sha: &sha,
    };
    match metadata::decide(&view, hash, u32::from(verdict)) {
        Err(e) => {
            pr_info!("prog {}: loader metadata not verified: {}\n", id, reason(e));
            Err(Error::from_errno(e.to_errno()))
        }
        Ok(Decision::HookThenPromote) => {
            // SAFETY: `aux` is live and `aux->prog` is its program.
            let rc = unsafe { bindings::security_bpf_prog_load_post_integrity((*aux).prog) };
            if rc != 0 {
                pr_info!(
                    "prog {}: loader metadata verified, denied by an LSM: {}\n",
                    id,
                    rc
                );
                return Err(Error::from_errno(rc));
            }
            let promoted = u8::try_from(SigVerdict::MetadataVerified as u32)?;
            // SAFETY: as above; concurrent runs write the same value
            // (WRITE_ONCE()).
            unsafe { core::ptr::write_volatile(&raw mut (*aux).sig.verdict, promoted) };
            Ok(())
        }
        Ok(Decision::UnsignedNoPromotion | Decision::AlreadyPromoted) => Ok(()),
    }
}

/// C entry point; see `include/linux/bpfsig.h`.
///
/// # Safety
///
/// See [`verify_metadata`].
#[export]
pub unsafe extern "C" fn bpfsig_loader_verify_metadata(
    map: *mut bindings::bpf_map,
    hash: *const kernel::ffi::c_void,
    hash_sz: u32,
    aux: *mut bindings::bpf_prog_aux,
) -> kernel::ffi::c_int {
    kernel::error::from_result(|| {
        // SAFETY: the caller's guarantees are the callee's requirements.
        unsafe { verify_metadata(map, hash.cast(), hash_sz, aux) }?;
        Ok(0)
    })
}
