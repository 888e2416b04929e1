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

use crate::btf::{BtfError, TypeTable};
use crate::errno::{EINVAL, ENOENT};
use crate::insn::{Insn, InsnsMut, BPF_PSEUDO_KFUNC_CALL};
use crate::proto::{func_proto, ProtoError};

/// The kernel's BTF (vmlinux), as the resolver needs it.
pub trait KernelBtf: TypeTable {
    /// The id of the `BTF_KIND_FUNC` with this name, if any.
    fn find_func(&self, name: &[u8]) -> Option<u32>;
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
}

impl ResolveError {
    /// The kernel errno for this error (SPEC §5).
    pub const fn to_errno(self) -> i32 {
        match self {
            Self::UnknownName { .. } => -ENOENT,
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
            | Self::ProtoMismatch { insn } => insn,
        }
    }
}

/// Distinct call targets remembered per run, so a program calling the same
/// kfunc many times pays for one vmlinux lookup, not one per call.
const CACHE: usize = 8;

/// Resolves and rewrites every `BPF_PSEUDO_KFUNC_CALL_PROG_BTF` call in `insns`.
///
/// Returns how many calls were rewritten. All calls are checked before any is
/// rewritten, so on error `insns` is unchanged.
pub fn resolve_prog_btf_calls<P, K>(
    insns: &mut InsnsMut<'_>,
    prog_btf: Option<&P>,
    kernel: &K,
) -> Result<usize, ResolveError>
where
    P: TypeTable + ?Sized,
    K: KernelBtf + ?Sized,
{
    let mut cache = [(0u32, 0i32); CACHE];
    let mut cached = 0usize;
    let mut lookup = |idx: usize, insn: &Insn| -> Result<i32, ResolveError> {
        let btf = prog_btf.ok_or(ResolveError::NoProgBtf { insn: idx })?;
        if insn.off != 0 {
            return Err(ResolveError::BadOff { insn: idx });
        }
        let bad_id = ResolveError::BadId {
            insn: idx,
            id: insn.imm,
        };
        let id = u32::try_from(insn.imm).map_err(|_| bad_id)?;
        if let Some((_, kid)) = cache.iter().take(cached).find(|(pid, _)| *pid == id) {
            return Ok(*kid);
        }
        let want = match func_proto(btf, id) {
            Ok(p) => p,
            Err(ProtoError::NotFunc) => return Err(bad_id),
            Err(ProtoError::Btf(err)) => return Err(ResolveError::BadProgBtf { insn: idx, err }),
            Err(_) => return Err(ResolveError::ProtoMismatch { insn: idx }),
        };
        let name_off = btf
            .type_by_id(id)
            .map_err(|err| ResolveError::BadProgBtf { insn: idx, err })?
            .name_off;
        let name = btf
            .name_by_offset(name_off)
            .map_err(|err| ResolveError::BadProgBtf { insn: idx, err })?;
        if name.is_empty() {
            return Err(bad_id);
        }
        let kid = kernel
            .find_func(name)
            .ok_or(ResolveError::UnknownName { insn: idx })?;
        // vmlinux ids fit in imm (BTF_MAX_TYPE); anything else is no kfunc.
        let kimm = i32::try_from(kid).map_err(|_| ResolveError::UnknownName { insn: idx })?;
        let have =
            func_proto(kernel, kid).map_err(|_| ResolveError::ProtoMismatch { insn: idx })?;
        if !want.compatible_with(&have) {
            return Err(ResolveError::ProtoMismatch { insn: idx });
        }
        if let Some(slot) = cache.get_mut(cached) {
            *slot = (id, kimm);
            cached = cached.saturating_add(1);
        }
        Ok(kimm)
    };

    // Pass 1: check everything; nothing is written on error.
    let view = insns.as_insns();
    for (idx, insn) in view.iter().enumerate() {
        if insn.is_prog_btf_kfunc_call() {
            lookup(idx, &insn)?;
        }
    }
    // Pass 2: rewrite, from the cache where it holds the target.
    let mut rewritten = 0usize;
    for idx in 0..view.len() {
        let Some(insn) = insns.as_insns().get(idx) else {
            break;
        };
        if !insn.is_prog_btf_kfunc_call() {
            continue;
        }
        let imm = lookup(idx, &insn)?;
        insns.set(
            idx,
            Insn {
                src_reg: BPF_PSEUDO_KFUNC_CALL,
                imm,
                ..insn
            },
        );
        rewritten = rewritten.saturating_add(1);
    }
    Ok(rewritten)
}
