// SPDX-License-Identifier: GPL-2.0

//! Loader kfunc calls resolved through program BTF
//! (`bpfsig_resolve_prog_btf_calls()` in `include/linux/bpfsig.h`): the
//! kernel side of [`rule`].

use crate::btf::KernelTypes;
use crate::rejection::Rejection;
use crate::rules::resolve::{self as rule, KernelBtf, ResolveError};
use crate::rules::{btf::TypeTable, insn};
use kernel::{alloc::flags::GFP_KERNEL_ACCOUNT, bindings, prelude::*};

// The calls the rule rewrites are the ones the verifier treats as such.
const _: () = {
    assert!(insn::JMP_CALL as u32 == bindings::BPF_JMP | bindings::BPF_CALL);
    assert!(insn::BPF_PSEUDO_KFUNC_CALL as u32 == bindings::BPF_PSEUDO_KFUNC_CALL);
    assert!(
        insn::BPF_PSEUDO_KFUNC_CALL_PROG_BTF as u32 == bindings::BPF_PSEUDO_KFUNC_CALL_PROG_BTF
    );
};

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
) -> Result<usize, Rejection>
where
    P: TypeTable + ?Sized,
    K: KernelBtf + ?Sized,
{
    let mut prog =
        insn::InsnsMut::new(insns).map_err(|e| Rejection::because(e.into(), c"bad length"))?;
    let calls = rule::count_prog_btf_calls(&prog.as_insns());
    if calls == 0 {
        return Ok(0);
    }
    let vmlinux = vmlinux.ok_or_else(|| Rejection::because(EINVAL, c"no vmlinux BTF"))?;
    let mut scratch = KVVec::new();
    scratch
        .extend_with(calls, (0u32, 0u32), GFP_KERNEL_ACCOUNT)
        .map_err(|_| Rejection::because(ENOMEM, c"out of memory"))?;
    Ok(rule::resolve_prog_btf_calls(
        &mut prog,
        prog_btf,
        vmlinux,
        &mut scratch,
    )?)
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
) -> Result<usize, Rejection> {
    let bad_len = || Rejection::because(EINVAL, c"bad length");
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
        // SAFETY: the caller guarantees both are valid for writing.
        Err(r) => unsafe { r.report(reason, bad_insn) },
    }
}

impl From<ResolveError> for Error {
    fn from(e: ResolveError) -> Self {
        Error::from_errno(e.to_errno())
    }
}

impl From<ResolveError> for Rejection {
    fn from(e: ResolveError) -> Self {
        Self {
            err: e.into(),
            why: Some(e.reason()),
            insn: Some(e.insn()),
        }
    }
}

#[cfg(CONFIG_BPFSIG_KUNIT_TEST)]
mod kunit;
#[cfg(CONFIG_BPFSIG_KUNIT_TEST)]
mod vectors;
