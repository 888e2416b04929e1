// SPDX-License-Identifier: GPL-2.0

//! What the KUnit suites share: `struct bpf_prog` and `struct bpf_map`
//! made by the kernel's own code, never published, freed on drop.

use kernel::{bindings, prelude::*};

/// A program that only returns.
pub(crate) const EXIT: [u8; 8] = [0x95, 0, 0, 0, 0, 0, 0, 0];

/// A `struct bpf_prog` holding a copy of some instructions, freed on drop.
///
/// # Invariants
///
/// `self.0` is a live program made by `bpf_prog_alloc()`, never published.
pub(crate) struct Prog(pub(crate) *mut bindings::bpf_prog);

impl Prog {
    pub(crate) fn new(insns: &[u8]) -> Result<Self> {
        let len = u32::try_from(insns.len().checked_div(8).ok_or(EINVAL)?)?;
        let size = core::mem::offset_of!(bindings::bpf_prog, __bindgen_anon_2)
            .checked_add(insns.len())
            .ok_or(EINVAL)?;
        // SAFETY: plain allocation; NULL on failure.
        let fp = unsafe { bindings::bpf_prog_alloc(u32::try_from(size)?, 0) };
        if fp.is_null() {
            return Err(ENOMEM);
        }
        // SAFETY: `fp` was just allocated with room for the instructions
        // after the header; `insnsi` is the flexible array at that offset.
        unsafe {
            (*fp).len = len;
            let dst = (&raw mut (*fp).__bindgen_anon_2).cast::<u8>();
            core::ptr::copy_nonoverlapping(insns.as_ptr(), dst, insns.len());
        }
        // INVARIANT: allocated above and not shared.
        Ok(Self(fp))
    }

    pub(crate) fn aux(&self) -> *mut bindings::bpf_prog_aux {
        // SAFETY: `self.0` is live (type invariant).
        unsafe { (*self.0).aux }
    }

    pub(crate) fn verdict(&self) -> u8 {
        // SAFETY: `self.0` and its aux are live (type invariant).
        unsafe { (*self.aux()).sig.verdict }
    }

    pub(crate) fn set_verdict(&self, v: u32) -> Result {
        let v = u8::try_from(v)?;
        // SAFETY: as in `verdict()`; nothing else uses this program.
        unsafe { (*self.aux()).sig.verdict = v };
        Ok(())
    }
}

impl Drop for Prog {
    fn drop(&mut self) {
        // SAFETY: never published (type invariant), so the direct free is
        // the right one.
        unsafe { bindings::__bpf_prog_free(self.0) };
    }
}

/// An array map made by the kernel's array map code, freed on drop.
///
/// # Invariants
///
/// `self.0` is a live map made by `array_map_ops.map_alloc`, never
/// published; its `excl_prog_sha` is NULL or points to a static.
pub(crate) struct Map(pub(crate) *mut bindings::bpf_map);

impl Map {
    pub(crate) fn new() -> Result<Self> {
        // SAFETY: `bpf_attr` is plain data; zero is its "unset" value.
        let mut attr: bindings::bpf_attr = unsafe { core::mem::zeroed() };
        attr.__bindgen_anon_1.map_type = bindings::bpf_map_type_BPF_MAP_TYPE_ARRAY;
        attr.__bindgen_anon_1.key_size = 4;
        attr.__bindgen_anon_1.value_size = 8;
        attr.__bindgen_anon_1.max_entries = 4;
        // SAFETY: `array_map_ops` is the kernel's, constant after boot.
        let alloc = unsafe { bindings::array_map_ops.map_alloc }.ok_or(EINVAL)?;
        // SAFETY: `attr` describes a valid array map.
        let map = unsafe { alloc(&mut attr) };
        if map.is_null() || kernel::error::from_err_ptr(map).is_err() {
            return Err(ENOMEM);
        }
        // SAFETY: `map` is a new, unshared map; map_create() sets ops too.
        unsafe { (*map).ops = &raw const bindings::array_map_ops };
        // INVARIANT: made by map_alloc above; `excl_prog_sha` is NULL.
        Ok(Self(map))
    }

    /// Freezes the map and caches its hash, as BPF_MAP_FREEZE and
    /// BPF_OBJ_GET_INFO_BY_FD would.
    pub(crate) fn freeze_and_hash(&self) -> Result<[u8; 32]> {
        // SAFETY: `array_map_ops` is the kernel's, constant after boot.
        let get_hash = unsafe { bindings::array_map_ops.map_get_hash }.ok_or(EINVAL)?;
        // SAFETY: `self.0` is a live, unshared array map (type invariant).
        unsafe {
            (*self.0).frozen = true;
            if get_hash(self.0) != 0 {
                return Err(EINVAL);
            }
            Ok((*self.0).sha)
        }
    }

    pub(crate) fn sha(&self) -> [u8; 32] {
        // SAFETY: `self.0` is live and unshared (type invariant).
        unsafe { (*self.0).sha }
    }

    pub(crate) fn set_frozen(&self, frozen: bool) {
        // SAFETY: `self.0` is live and unshared (type invariant).
        unsafe { (*self.0).frozen = frozen };
    }

    /// Exclusive to programs whose digest is all zero, as [`Prog::new`]'s
    /// are (they are never digested), or not exclusive.
    pub(crate) fn set_exclusive(&self, on: bool) {
        static ZERO: [u8; 32] = [0; 32];
        self.set_exclusive_to(on.then_some(&ZERO));
    }

    pub(crate) fn set_exclusive_to(&self, digest: Option<&'static [u8; 32]>) {
        let p = digest.map_or(core::ptr::null_mut(), |d| d.as_ptr().cast_mut().cast());
        // SAFETY: `self.0` is live and unshared (type invariant); the
        // pointer is only read, and reset before the map is freed.
        unsafe { (*self.0).excl_prog_sha = p };
    }
}

impl Drop for Map {
    fn drop(&mut self) {
        self.set_exclusive(false);
        // SAFETY: `array_map_ops` is the kernel's, constant after boot.
        if let Some(free) = unsafe { bindings::array_map_ops.map_free } {
            // SAFETY: made by array_map_ops and never published (type
            // invariant).
            unsafe { free(self.0) };
        }
    }
}
