// SPDX-License-Identifier: GPL-2.0

//! The body of the kfunc `bpf_loader_verify_metadata()`
//! (`kernel/bpf/loader.c`, `bpfsig_loader_verify_metadata()` in
//! `include/linux/bpfsig.h`).

use crate::crypto::KernelMemneq;
use crate::metadata::{self, Decision, SigVerdict};
use kernel::{bindings, prelude::*, str::CStr};

/// Why a call failed: the errno and, for a failed check, what failed, for
/// the C side's rate-limited log line.
pub(crate) struct Failure {
    pub(crate) err: Error,
    pub(crate) why: Option<&'static CStr>,
}

impl From<Error> for Failure {
    fn from(err: Error) -> Self {
        Self { err, why: None }
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
) -> Result<(), Failure> {
    // The map and the program are shared with C, which may update `sha`
    // (BPF_OBJ_GET_INFO_BY_FD, without a lock) and the verdict (a concurrent
    // run of this loader) at any time: read each once, into locals.
    //
    // SAFETY: `map` is live (caller). `excl_prog_sha` is set at creation,
    // points to 32 bytes and never changes, and `frozen` only goes from
    // false to true. `sha` may be rewritten concurrently; the volatile read
    // gives a copy that may be torn, and a torn copy can only fail the
    // comparison below.
    let (excl, frozen, sha) = unsafe {
        let excl = (*map).excl_prog_sha.cast::<[u8; metadata::HASH_SIZE]>();
        (
            (!excl.is_null()).then(|| excl.read()),
            core::ptr::read_volatile(&raw const (*map).frozen),
            core::ptr::read_volatile(&raw const (*map).sha),
        )
    };
    // The loader's buffer is BPF memory (its stack, or a map value another
    // CPU can write): one volatile copy, and only of a buffer of the right
    // size; any other size is refused by its length alone.
    let local: Option<[u8; metadata::HASH_SIZE]> = match usize::try_from(hash_sz) {
        Ok(metadata::HASH_SIZE) if !hash.is_null() => {
            // SAFETY: the caller guarantees `hash` is readable for
            // `hash_sz` (32) bytes; `[u8; 32]` has alignment 1.
            Some(unsafe { core::ptr::read_volatile(hash.cast::<[u8; metadata::HASH_SIZE]>()) })
        }
        _ => None,
    };
    let hash: &[u8] = local.as_ref().map_or(&[], |h| h.as_slice());
    // SAFETY: `aux` is live (caller), and so is its program. The verdict is
    // written concurrently only with WRITE_ONCE(), hence the volatile read
    // (READ_ONCE()); the digest, the BTF and `sig.btf` are set before the
    // program can run and never change.
    let (verdict, digest, unsigned_btf) = unsafe {
        (
            core::ptr::read_volatile(&raw const (*aux).sig.verdict),
            (*(*aux).prog).__bindgen_anon_1.digest,
            !(*aux).btf.is_null() && !(*aux).sig.btf,
        )
    };
    let view = metadata::MapView {
        excl_prog_sha: excl.as_ref(),
        frozen,
        sha: &sha,
    };
    let caller = metadata::Caller {
        verdict: u32::from(verdict),
        digest: &digest,
        unsigned_btf,
    };
    match metadata::decide(&view, hash, &caller, &KernelMemneq) {
        Err(e) => Err(Failure {
            err: Error::from_errno(e.to_errno()),
            why: Some(e.reason()),
        }),
        Ok(Decision::HookThenPromote) => {
            // Every run asks: a promoted loader run again creates maps and
            // programs again, and the LSM's answer may have changed.
            //
            // SAFETY: `aux` is live and `aux->prog` is its program.
            let rc = unsafe { bindings::security_bpf_prog_load_post_integrity((*aux).prog) };
            if rc != 0 {
                return Err(Failure {
                    err: Error::from_errno(rc),
                    why: Some(c"denied by an LSM"),
                });
            }
            let promoted =
                u8::try_from(SigVerdict::MetadataVerified as u32).map_err(Error::from)?;
            // SAFETY: as above; concurrent runs write the same value
            // (WRITE_ONCE()).
            unsafe { core::ptr::write_volatile(&raw mut (*aux).sig.verdict, promoted) };
            Ok(())
        }
        Ok(Decision::NoPromotion) => Ok(()),
    }
}

/// C entry point; see `include/linux/bpfsig.h`.
///
/// # Safety
///
/// See [`verify_metadata`]; `reason` must be valid for writing.
#[export]
pub unsafe extern "C" fn bpfsig_loader_verify_metadata(
    map: *mut bindings::bpf_map,
    hash: *const kernel::ffi::c_void,
    hash_sz: u32,
    aux: *mut bindings::bpf_prog_aux,
    reason: *mut *const kernel::ffi::c_char,
) -> kernel::ffi::c_int {
    // SAFETY: the caller's guarantees are the callee's requirements.
    match unsafe { verify_metadata(map, hash.cast(), hash_sz, aux) } {
        Ok(()) => 0,
        Err(f) => {
            if let Some(why) = f.why {
                // SAFETY: the caller guarantees `reason` is valid for writing.
                unsafe { *reason = why.as_char_ptr() };
            }
            f.err.to_errno()
        }
    }
}
