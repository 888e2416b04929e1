// SPDX-License-Identifier: GPL-2.0

//! The kernel's BTF objects as the core's [`TypeTable`]: read through the
//! kernel's own lookups, which are bounds-checked and work on BTF the kernel
//! validated when it was loaded.

use crate::rules::btf::{self, BtfError, TypeTable};
use crate::rules::resolve::KernelBtf;
use kernel::{bindings, prelude::*, str::CStr};

/// A kernel BTF object: vmlinux, or a program's BTF as BPF_BTF_LOAD
/// validated it.
///
/// # Invariants
///
/// `btf` points to a kernel BTF object that outlives `self`.
pub(crate) struct KernelTypes {
    btf: *const bindings::btf,
}

impl KernelTypes {
    /// Wraps `btf`.
    ///
    /// # Safety
    ///
    /// `btf` must be a valid kernel BTF object for the lifetime of the result.
    pub(crate) unsafe fn new(btf: *const bindings::btf) -> Self {
        // INVARIANT: guaranteed by the caller.
        Self { btf }
    }

    /// Wraps `btf`, or gives `None` for NULL.
    ///
    /// # Safety
    ///
    /// `btf` must be NULL or a valid kernel BTF object for the lifetime of
    /// the result.
    pub(crate) unsafe fn from_ptr(btf: *const bindings::btf) -> Option<Self> {
        // SAFETY: guaranteed by the caller for a non-NULL `btf`.
        (!btf.is_null()).then(|| unsafe { Self::new(btf) })
    }
}

impl TypeTable for KernelTypes {
    fn type_by_id(&self, id: u32) -> Result<btf::Type<'_>, BtfError> {
        // SAFETY: `self.btf` is valid (type invariant); the lookup is
        // bounds-checked and returns NULL for ids it does not have.
        let t = unsafe { bindings::btf_type_by_id(self.btf, id) };
        if t.is_null() {
            return Err(BtfError::BadId { id });
        }
        // The trailing data is stepped over by the kernel's own reading of
        // the info word, the one its validation used.
        //
        // SAFETY: `t` points to a `struct btf_type` of the kernel's BTF.
        let (kind, vlen) = unsafe { (bindings::btf_kind(t), bindings::btf_type_vlen(t)) };
        let kind = u8::try_from(kind)
            .ok()
            .and_then(btf::Kind::from_raw)
            .ok_or(BtfError::UnknownKind { id })?;
        let len = btf::TYPE_LEN.saturating_add(kind.extra_len(vlen));
        // SAFETY: kernel BTF was validated when it was loaded: the type is
        // followed by the trailing data its kind and vlen announce, and
        // lives as long as `self.btf`.
        let bytes = unsafe { core::slice::from_raw_parts(t.cast::<u8>(), len) };
        btf::Type::decode(bytes, id)
    }

    fn name_by_offset(&self, off: u32) -> Result<&[u8], BtfError> {
        // SAFETY: `self.btf` is valid (type invariant).
        let name = unsafe { bindings::btf_name_by_offset(self.btf, off) };
        if name.is_null() {
            return Err(BtfError::BadName);
        }
        // SAFETY: a non-NULL result is a NUL-terminated string of the BTF's
        // string section, which lives as long as `self.btf`.
        Ok(unsafe { CStr::from_char_ptr(name) }.to_bytes())
    }
}

impl KernelBtf for KernelTypes {
    fn find_func(&self, name: &[u8]) -> Option<u32> {
        // The lookup takes a C string. A name no BTF may hold, or one with a
        // NUL inside (which C would silently truncate), names nothing; any
        // other fits a zeroed buffer with its terminator to spare.
        if name.len() > btf::MAX_NAME_LEN || name.contains(&0) {
            return None;
        }
        let mut cname = [0u8; btf::MAX_NAME_LEN + 1];
        cname.get_mut(..name.len())?.copy_from_slice(name);
        let kind = u8::try_from(bindings::BTF_KIND_FUNC).ok()?;
        // SAFETY: `self.btf` is valid (type invariant) and `cname` is
        // NUL-terminated.
        let id = unsafe { bindings::btf_find_by_name_kind(self.btf, cname.as_ptr().cast(), kind) };
        u32::try_from(id).ok().filter(|&id| id > 0)
    }

    fn is_loader_kfunc(&self, id: u32) -> bool {
        // SAFETY: a lookup in a static BTF id set; any id is fine.
        unsafe { bindings::bpf_loader_kfunc_id(id) }
    }
}
