// SPDX-License-Identifier: GPL-2.0

//! Loader kfunc calls resolved through program BTF
//! (`bpfsig_resolve_prog_btf_calls()` in `include/linux/bpfsig.h`).

use crate::{
    btf::TypeTable,
    insn,
    kernel_btf::KernelTypes,
    resolve::{self, KernelBtf, ResolveError},
};
use kernel::{alloc::flags::GFP_KERNEL_ACCOUNT, bindings, prelude::*, str::CStr};

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
        ResolveError::NotLoaderKfunc { .. } => c"the kernel function is not a loader kfunc",
        ResolveError::TooManyCalls { .. } => c"more calls than expected",
    }
}

/// Resolves and rewrites the program's `BPF_PSEUDO_KFUNC_CALL_PROG_BTF`
/// calls; returns how many were rewritten.
///
/// Program BTF is read through the kernel's object, validated when it was
/// loaded; the scratch space (one slot per call) is only allocated when
/// the program has such a call.
pub(crate) fn resolve<P, K>(
    insns: &mut [u8],
    prog_btf: Option<&P>,
    vmlinux: Option<&K>,
) -> Result<usize, Failure>
where
    P: TypeTable + ?Sized,
    K: KernelBtf + ?Sized,
{
    let mut prog = insn::InsnsMut::new(insns).map_err(|_| Failure::at0(EINVAL, c"bad length"))?;
    let calls = resolve::count_prog_btf_calls(&prog.as_insns());
    if calls == 0 {
        return Ok(0);
    }
    let vmlinux = vmlinux.ok_or_else(|| Failure::at0(EINVAL, c"no vmlinux BTF"))?;
    let mut scratch = KVVec::new();
    scratch
        .extend_with(calls, (0u32, 0u32), GFP_KERNEL_ACCOUNT)
        .map_err(|_| Failure::at0(ENOMEM, c"out of memory"))?;
    resolve::resolve_prog_btf_calls(&mut prog, prog_btf, vmlinux, &mut scratch).map_err(|e| {
        Failure {
            err: Error::from_errno(e.to_errno()),
            insn: e.insn(),
            why: reason(&e),
        }
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
    prog_btf: *const bindings::btf,
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
    // SAFETY: the caller guarantees each is NULL or a valid BTF object.
    let (prog_btf, vmlinux) = unsafe {
        (
            KernelTypes::from_ptr(prog_btf),
            KernelTypes::from_ptr(vmlinux),
        )
    };
    resolve(bytes, prog_btf.as_ref(), vmlinux.as_ref())
}

/// C entry point; see `include/linux/bpfsig.h`.
///
/// # Safety
///
/// `insns` must be valid for reading and writing `len` instructions, with
/// nothing else accessing them during the call; `prog_btf` and `vmlinux`
/// NULL or BTF objects the caller holds references to for the duration of
/// the call; `bad_insn` and `reason` valid for writing.
#[export]
pub unsafe extern "C" fn bpfsig_resolve_prog_btf_calls(
    insns: *mut bindings::bpf_insn,
    len: u32,
    prog_btf: *const bindings::btf,
    vmlinux: *const bindings::btf,
    bad_insn: *mut u32,
    reason: *mut *const kernel::ffi::c_char,
) -> kernel::ffi::c_int {
    // SAFETY: the caller's guarantees are the callee's requirements.
    match unsafe { resolve_raw(insns, len, prog_btf, vmlinux) } {
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
