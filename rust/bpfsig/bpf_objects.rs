// SPDX-License-Identifier: GPL-2.0

//! What the glue reads of `struct bpf_map` and `struct bpf_prog_aux`, in
//! one place: the fields other CPUs may write are read once, volatile, and
//! the verdict is written the way C writes it (`WRITE_ONCE()`).

use crate::rules::metadata::{self, SigVerdict, HASH_SIZE};
use kernel::{bindings, prelude::*};

/// A map the kfunc was given.
///
/// # Invariants
///
/// `self.0` is a live `struct bpf_map` for the lifetime of `self`.
pub(crate) struct MapRef(*mut bindings::bpf_map);

/// One read of what the metadata check needs of a map.
pub(crate) struct MapSnapshot {
    pub(crate) excl_prog_sha: Option<[u8; HASH_SIZE]>,
    pub(crate) frozen: bool,
    pub(crate) sha: [u8; HASH_SIZE],
}

impl MapRef {
    /// # Safety
    ///
    /// `map` must be a live map for the lifetime of the result.
    pub(crate) unsafe fn new(map: *mut bindings::bpf_map) -> Self {
        // INVARIANT: guaranteed by the caller.
        Self(map)
    }

    /// Reads the map once. `sha` may be rewritten concurrently by
    /// BPF_OBJ_GET_INFO_BY_FD, without a lock: the copy may be torn, and a
    /// torn copy can only fail the comparison it is used for.
    pub(crate) fn snapshot(&self) -> MapSnapshot {
        let map = self.0;
        // SAFETY: `map` is live (type invariant). `excl_prog_sha` is set at
        // creation, points to HASH_SIZE bytes and never changes; `frozen`
        // only goes from false to true; `sha` is read volatile (above).
        unsafe {
            let excl = (*map).excl_prog_sha.cast::<[u8; HASH_SIZE]>();
            MapSnapshot {
                excl_prog_sha: (!excl.is_null()).then(|| excl.read()),
                frozen: core::ptr::read_volatile(&raw const (*map).frozen),
                sha: core::ptr::read_volatile(&raw const (*map).sha),
            }
        }
    }
}

impl MapSnapshot {
    /// The core's view of this snapshot.
    pub(crate) fn view(&self) -> metadata::MapView<'_> {
        metadata::MapView {
            excl_prog_sha: self.excl_prog_sha.as_ref(),
            frozen: self.frozen,
            sha: &self.sha,
        }
    }
}

/// The program calling the kfunc, through its `bpf_prog_aux`.
///
/// # Invariants
///
/// `self.0` is the live `bpf_prog_aux` of a live program for the lifetime
/// of `self`.
pub(crate) struct ProgRef(*mut bindings::bpf_prog_aux);

impl ProgRef {
    /// # Safety
    ///
    /// `aux` must be the `bpf_prog_aux` of a live program for the lifetime
    /// of the result.
    pub(crate) unsafe fn new(aux: *mut bindings::bpf_prog_aux) -> Self {
        // INVARIANT: guaranteed by the caller.
        Self(aux)
    }

    /// The raw verdict; promoted concurrently with WRITE_ONCE(), hence one
    /// volatile read (READ_ONCE()).
    pub(crate) fn verdict(&self) -> u32 {
        // SAFETY: `self.0` is live (type invariant).
        u32::from(unsafe { core::ptr::read_volatile(&raw const (*self.0).sig.verdict) })
    }

    /// `prog->digest`, set at BPF_PROG_LOAD entry and never changed.
    pub(crate) fn digest(&self) -> [u8; HASH_SIZE] {
        // SAFETY: `self.0` and its program are live (type invariant).
        unsafe { (*(*self.0).prog).__bindgen_anon_1.digest }
    }

    /// The program has BTF its signature does not cover; both fields are
    /// set before the program can run and never change.
    pub(crate) fn unsigned_btf(&self) -> bool {
        // SAFETY: `self.0` is live (type invariant).
        unsafe { !(*self.0).btf.is_null() && !(*self.0).sig.btf }
    }

    /// The program, for the LSM hook.
    pub(crate) fn prog(&self) -> *mut bindings::bpf_prog {
        // SAFETY: `self.0` is live (type invariant).
        unsafe { (*self.0).prog }
    }

    /// Promotes the verdict; concurrent runs write the same value.
    pub(crate) fn promote(&self) -> Result {
        let v = u8::try_from(SigVerdict::MetadataVerified as u32)?;
        // SAFETY: `self.0` is live (type invariant); WRITE_ONCE().
        unsafe { core::ptr::write_volatile(&raw mut (*self.0).sig.verdict, v) };
        Ok(())
    }
}
