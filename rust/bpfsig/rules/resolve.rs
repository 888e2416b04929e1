// SPDX-License-Identifier: GPL-2.0
//! Loader-style kfunc calls (`BPF_PSEUDO_KFUNC_CALL_PROG_BTF`), resolved by
//! name through the program's own BTF.
//!
//! A signed loader cannot know vmlinux BTF ids at signing time, and ids differ
//! between kernels, so it names the kfunc in its own (signed) BTF instead. Before
//! the verifier looks at any call, each such call is checked and rewritten to an
//! ordinary `BPF_PSEUDO_KFUNC_CALL` with the vmlinux id; from there the existing
//! kfunc rules (CAP_BPF, prog-type allow lists, implicit args, JIT) apply, so the
//! "is this a kfunc for this program type" decision stays where it is.

use super::btf::{BtfError, TypeTable};
use super::errno::{EACCES, EINVAL, ENOENT};
use super::insn::{Insn, Insns, InsnsMut, BPF_PSEUDO_KFUNC_CALL};
use super::proto::{func_proto, ProtoError};

/// The kernel's BTF (vmlinux), as the resolver needs it.
pub trait KernelBtf: TypeTable {
    /// The id of the `BTF_KIND_FUNC` with this name, if any.
    fn find_func(&self, name: &[u8]) -> Option<u32>;

    /// Whether the FUNC `id` may be called by name through program BTF: a
    /// loader kfunc. Program BTF is not covered by the digest and may be
    /// signed by any key, so a name must not reach any other kfunc.
    fn is_loader_kfunc(&self, id: u32) -> bool;
}

/// Why a program's calls cannot be resolved. Each names the instruction, for
/// the verifier log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResolveError {
    /// A PROG_BTF call, but the load carried no program BTF.
    NoProgBtf {
        /// Instruction index.
        insn: usize,
    },
    /// `off` is not 0 (it selects module BTF for ordinary kfunc calls).
    BadOff {
        /// Instruction index.
        insn: usize,
    },
    /// `imm` is not the id of a FUNC in the program's BTF.
    BadId {
        /// Instruction index.
        insn: usize,
        /// The imm.
        id: i32,
    },
    /// The program's BTF is malformed where the call points.
    BadProgBtf {
        /// Instruction index.
        insn: usize,
        /// What is wrong.
        err: BtfError,
    },
    /// vmlinux has no FUNC of that name.
    UnknownName {
        /// Instruction index.
        insn: usize,
    },
    /// The prototypes differ (or one uses types BPF cannot pass).
    ProtoMismatch {
        /// Instruction index.
        insn: usize,
    },
    /// The name is a vmlinux function that is not a loader kfunc.
    NotLoaderKfunc {
        /// Instruction index.
        insn: usize,
    },
    /// More calls than the caller's scratch space has slots for.
    TooManyCalls {
        /// Instruction index.
        insn: usize,
    },
}

impl ResolveError {
    /// The kernel errno for this error.
    pub const fn to_errno(self) -> i32 {
        match self {
            Self::UnknownName { .. } => -ENOENT,
            Self::NotLoaderKfunc { .. } => -EACCES,
            _ => -EINVAL,
        }
    }

    /// The instruction the error is about.
    pub const fn insn(self) -> usize {
        match self {
            Self::NoProgBtf { insn }
            | Self::BadOff { insn }
            | Self::BadId { insn, .. }
            | Self::BadProgBtf { insn, .. }
            | Self::UnknownName { insn }
            | Self::ProtoMismatch { insn }
            | Self::NotLoaderKfunc { insn }
            | Self::TooManyCalls { insn } => insn,
        }
    }

    /// What is wrong, in the kernel's words, for the verifier log (a C
    /// string: the kernel prints it from C).
    pub const fn reason(self) -> &'static core::ffi::CStr {
        match self {
            Self::NoProgBtf { .. } => c"the program has no BTF (prog_btf_fd)",
            Self::BadOff { .. } => c"off must be 0",
            Self::BadId { .. } => c"imm is not a FUNC in the program's BTF",
            Self::BadProgBtf { .. } => c"the program's BTF is malformed",
            Self::UnknownName { .. } => c"the kernel has no function of that name",
            Self::ProtoMismatch { .. } => c"the prototype differs from the kernel's",
            Self::NotLoaderKfunc { .. } => c"the kernel function is not a loader kfunc",
            Self::TooManyCalls { .. } => c"more calls than expected",
        }
    }
}

/// One entry of the caller's scratch space per PROG_BTF call: the
/// program-BTF FUNC id (then the resolved vmlinux id) and the instruction.
pub type CallSlot = (u32, u32);

/// The number of `BPF_PSEUDO_KFUNC_CALL_PROG_BTF` calls, which is how many
/// [`CallSlot`]s [`resolve_prog_btf_calls`] needs.
pub fn count_prog_btf_calls(insns: &Insns<'_>) -> usize {
    insns.iter().filter(Insn::is_prog_btf_kfunc_call).count()
}

/// Resolves one program-BTF FUNC id to the id of the vmlinux FUNC of the
/// same name, checking that the prototypes agree.
fn resolve_id<P, K>(btf: &P, kernel: &K, id: u32, insn: usize) -> Result<u32, ResolveError>
where
    P: TypeTable + ?Sized,
    K: KernelBtf + ?Sized,
{
    let bad_id = ResolveError::BadId {
        insn,
        id: i32::try_from(id).unwrap_or(i32::MAX),
    };
    let want = match func_proto(btf, id) {
        Ok(p) => p,
        Err(ProtoError::NotFunc) => return Err(bad_id),
        Err(ProtoError::Btf(err)) => return Err(ResolveError::BadProgBtf { insn, err }),
        Err(_) => return Err(ResolveError::ProtoMismatch { insn }),
    };
    let bad_btf = |err| ResolveError::BadProgBtf { insn, err };
    let name_off = btf.type_by_id(id).map_err(bad_btf)?.name_off;
    let name = btf.name_by_offset(name_off).map_err(bad_btf)?;
    if name.is_empty() {
        return Err(bad_id);
    }
    let kid = kernel
        .find_func(name)
        .ok_or(ResolveError::UnknownName { insn })?;
    // vmlinux ids fit in imm (BTF_MAX_TYPE); anything else is no kfunc.
    if i32::try_from(kid).is_err() {
        return Err(ResolveError::UnknownName { insn });
    }
    if !kernel.is_loader_kfunc(kid) {
        return Err(ResolveError::NotLoaderKfunc { insn });
    }
    let have = func_proto(kernel, kid).map_err(|_| ResolveError::ProtoMismatch { insn })?;
    if !want.compatible_with(&have) {
        return Err(ResolveError::ProtoMismatch { insn });
    }
    Ok(kid)
}

/// Resolves and rewrites every `BPF_PSEUDO_KFUNC_CALL_PROG_BTF` call in `insns`.
///
/// `scratch` needs one slot per call ([`count_prog_btf_calls`]). Each
/// distinct FUNC id is resolved against `kernel` once, however many calls
/// use it: the calls are sorted by id, so the work is O(n log n) in the
/// number of calls plus one vmlinux lookup per distinct id.
///
/// Returns how many calls were rewritten. All calls are checked before any
/// is rewritten, so on error `insns` is unchanged. Errors of the calls
/// themselves (no BTF, `off`, a negative id) are reported in program order;
/// errors of what an id names, for the lowest id that fails, at its first
/// call.
pub fn resolve_prog_btf_calls<P, K>(
    insns: &mut InsnsMut<'_>,
    prog_btf: Option<&P>,
    kernel: &K,
    scratch: &mut [CallSlot],
) -> Result<usize, ResolveError>
where
    P: TypeTable + ?Sized,
    K: KernelBtf + ?Sized,
{
    // Pass 1, in program order: the calls themselves.
    let mut n = 0usize;
    for (idx, insn) in insns.as_insns().iter().enumerate() {
        if !insn.is_prog_btf_kfunc_call() {
            continue;
        }
        if prog_btf.is_none() {
            return Err(ResolveError::NoProgBtf { insn: idx });
        }
        if insn.off != 0 {
            return Err(ResolveError::BadOff { insn: idx });
        }
        let id = u32::try_from(insn.imm).map_err(|_| ResolveError::BadId {
            insn: idx,
            id: insn.imm,
        })?;
        let at = u32::try_from(idx).map_err(|_| ResolveError::TooManyCalls { insn: idx })?;
        let slot = scratch
            .get_mut(n)
            .ok_or(ResolveError::TooManyCalls { insn: idx })?;
        *slot = (id, at);
        n = n.saturating_add(1);
    }
    let (Some(btf), Some(calls)) = (prog_btf, scratch.get_mut(..n)) else {
        return Ok(0);
    };

    // Pass 2: each distinct id once; its slots get the vmlinux id.
    calls.sort_unstable();
    let mut rest = &mut *calls;
    while let Some(&(id, first)) = rest.first() {
        let same = rest.iter().take_while(|(i, _)| *i == id).count();
        let kid = resolve_id(btf, kernel, id, first as usize)?;
        let (group, tail) = core::mem::take(&mut rest).split_at_mut(same);
        for slot in group.iter_mut() {
            slot.0 = kid;
        }
        rest = tail;
    }

    // Pass 3: rewrite; every target is known, so nothing can fail halfway.
    for &(kid, at) in calls.iter() {
        let idx = at as usize;
        let (Some(insn), Ok(imm)) = (insns.as_insns().get(idx), i32::try_from(kid)) else {
            continue;
        };
        insns.set(
            idx,
            Insn {
                src_reg: BPF_PSEUDO_KFUNC_CALL,
                imm,
                ..insn
            },
        );
    }
    Ok(n)
}
