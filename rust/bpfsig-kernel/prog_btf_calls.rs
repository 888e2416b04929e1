// SPDX-License-Identifier: GPL-2.0

//! Loader kfunc calls resolved through program BTF
//! (`bpfsig_resolve_prog_btf_calls()` in `include/linux/bpfsig.h`).

use crate::{
    btf::{self, Btf},
    insn,
    kernel_btf::KernelTypes,
    resolve::{self, ResolveError},
};
use kernel::{alloc::flags::GFP_KERNEL, bindings, prelude::*, str::CStr};

/// A failed resolution: the errno, the instruction at fault and the reason
/// for the verifier log.
pub(crate) struct Failure {
    pub(crate) err: Error,
    pub(crate) insn: usize,
    pub(crate) why: &'static CStr,
}

impl Failure {
    fn at0(err: Error, why: &'static CStr) -> Self {
        Self { err, insn: 0, why }
    }
}

fn reason(e: &ResolveError) -> &'static CStr {
    match e {
        ResolveError::NoProgBtf { .. } => c"the program has no BTF (prog_btf_fd)",
        ResolveError::BadOff { .. } => c"off must be 0",
        ResolveError::BadId { .. } => c"imm is not a FUNC in the program's BTF",
        ResolveError::BadProgBtf { .. } => c"the program's BTF is malformed",
        ResolveError::UnknownName { .. } => c"the kernel has no function of that name",
        ResolveError::ProtoMismatch { .. } => c"the prototype differs from the kernel's",
    }
}

/// Resolves and rewrites the program's `BPF_PSEUDO_KFUNC_CALL_PROG_BTF`
/// calls; returns how many were rewritten.
///
/// Program BTF is only parsed (and its index allocated) when the program has
/// such a call.
pub(crate) fn resolve(
    insns: &mut [u8],
    prog_btf: Option<&[u8]>,
    vmlinux: Option<&KernelTypes>,
) -> Result<usize, Failure> {
    let mut prog = insn::InsnsMut::new(insns).map_err(|_| Failure::at0(EINVAL, c"bad length"))?;
    if !prog.as_insns().iter().any(|i| i.is_prog_btf_kfunc_call()) {
        return Ok(0);
    }
    let vmlinux = vmlinux.ok_or_else(|| Failure::at0(EINVAL, c"no vmlinux BTF"))?;
    let malformed = || Failure::at0(EINVAL, c"the program's BTF is malformed");
    let mut index = KVVec::new();
    let prog_btf = match prog_btf {
        None => None,
        Some(data) => {
            let n = btf::index_len(data).map_err(|_| malformed())?;
            index
                .extend_with(n, 0u32, GFP_KERNEL)
                .map_err(|_| Failure::at0(ENOMEM, c"out of memory"))?;
            Some(Btf::parse(data, &mut index).map_err(|_| malformed())?)
        }
    };
    resolve::resolve_prog_btf_calls(&mut prog, prog_btf.as_ref(), vmlinux).map_err(|e| Failure {
        err: Error::from_errno(e.to_errno()),
        insn: e.insn(),
        why: reason(&e),
    })
}

/// Builds the views of the C entry point's arguments and resolves.
///
/// # Safety
///
/// As for [`bpfsig_resolve_prog_btf_calls`].
unsafe fn resolve_raw(
    insns: *mut bindings::bpf_insn,
    len: u32,
    btf_data: *const kernel::ffi::c_void,
    btf_size: u32,
    vmlinux: *const bindings::btf,
) -> Result<usize, Failure> {
    let bad_len = || Failure::at0(EINVAL, c"bad length");
    let size = usize::try_from(len)
        .ok()
        .and_then(|n| n.checked_mul(insn::INSN_SIZE))
        .ok_or_else(bad_len)?;
    // SAFETY: the caller guarantees `insns` is valid for `len` instructions
    // and that nothing else accesses them during the call.
    let bytes = unsafe { core::slice::from_raw_parts_mut(insns.cast::<u8>(), size) };
    let prog_btf = if btf_data.is_null() {
        None
    } else {
        let n = usize::try_from(btf_size).map_err(|_| bad_len())?;
        // SAFETY: the caller guarantees `btf_data` is readable for
        // `btf_size` bytes.
        Some(unsafe { core::slice::from_raw_parts(btf_data.cast::<u8>(), n) })
    };
    let kernel_btf = if vmlinux.is_null() {
        None
    } else {
        // SAFETY: the caller guarantees `vmlinux` is a valid kernel BTF.
        Some(unsafe { KernelTypes::new(vmlinux) })
    };
    resolve(bytes, prog_btf, kernel_btf.as_ref())
}

/// C entry point; see `include/linux/bpfsig.h`.
///
/// # Safety
///
/// `insns` must be valid for reading and writing `len` instructions, with
/// nothing else accessing them during the call; `btf_data` NULL or valid
/// for reading `btf_size` bytes; `vmlinux` a valid kernel BTF or NULL;
/// `bad_insn` and `reason` valid for writing.
#[export]
pub unsafe extern "C" fn bpfsig_resolve_prog_btf_calls(
    insns: *mut bindings::bpf_insn,
    len: u32,
    btf_data: *const kernel::ffi::c_void,
    btf_size: u32,
    vmlinux: *const bindings::btf,
    bad_insn: *mut u32,
    reason: *mut *const kernel::ffi::c_char,
) -> kernel::ffi::c_int {
    // SAFETY: the caller's guarantees are the callee's requirements.
    match unsafe { resolve_raw(insns, len, btf_data, btf_size, vmlinux) } {
        Ok(n) => kernel::ffi::c_int::try_from(n).unwrap_or(kernel::ffi::c_int::MAX),
        Err(f) => {
            // SAFETY: the caller guarantees both are valid for writing.
            unsafe {
                *bad_insn = u32::try_from(f.insn).unwrap_or(u32::MAX);
                *reason = f.why.as_char_ptr();
            }
            f.err.to_errno()
        }
    }
}
