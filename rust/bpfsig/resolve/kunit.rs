// SPDX-License-Identifier: GPL-2.0

//! KUnit suite `bpfsig_resolve`: resolution against the running kernel's
//! vmlinux BTF, with program BTF given as bytes (read by the core's reader:
//! KUnit cannot make a BPF_BTF_LOAD object), and the core's BTF reader on
//! the vector the host checked.

use super::vectors;
use crate::btf::KernelTypes;
use crate::kunit::EXIT;
use crate::rules::btf::{index_len, Btf, BtfError, Kind, TypeTable};
use crate::rules::insn::{Insn, BPF_PSEUDO_KFUNC_CALL, BPF_PSEUDO_KFUNC_CALL_PROG_BTF, JMP_CALL};
use crate::rules::proto::{func_proto, ArgKind};
use crate::rules::resolve::KernelBtf;
use kernel::{alloc::flags::GFP_KERNEL, alloc::KVec, bindings, prelude::*};

fn call(imm: i32, off: i16) -> [u8; 8] {
    Insn {
        code: JMP_CALL,
        dst_reg: 0,
        src_reg: BPF_PSEUDO_KFUNC_CALL_PROG_BTF,
        off,
        imm,
    }
    .to_bytes()
}

fn vmlinux() -> Result<KernelTypes> {
    // SAFETY: no preconditions; the result is vmlinux BTF, an ERR_PTR or NULL.
    let btf = kernel::error::from_err_ptr(unsafe { bindings::bpf_get_btf_vmlinux() })?;
    if btf.is_null() {
        return Err(ENOENT);
    }
    // SAFETY: a valid vmlinux BTF lives for the kernel's lifetime.
    Ok(unsafe { KernelTypes::new(btf) })
}

/// Resolves `insns` with program BTF given as raw bytes (read by the
/// core's reader: KUnit cannot make a BPF_BTF_LOAD object) against `vm`;
/// returns the errno or the count.
fn resolve_with<K: KernelBtf>(insns: &mut [u8], btf: Option<&[u8]>, vm: &K) -> Result<i32> {
    let rc = match btf {
        None => super::resolve::<Btf<'_>, K>(insns, None, Some(vm)),
        Some(data) => {
            let mut index =
                KVec::from_elem(0u32, index_len(data).map_err(|_| EINVAL)?, GFP_KERNEL)?;
            let parsed = Btf::parse(data, &mut index).map_err(|_| EINVAL)?;
            super::resolve(insns, Some(&parsed), Some(vm))
        }
    };
    Ok(match rc {
        Ok(n) => i32::try_from(n).unwrap_or(i32::MAX),
        Err(f) => f.err.to_errno(),
    })
}

/// Resolves `[r0 = 0; call; exit]` with `btf`; returns the errno (or the
/// count) and the call as it is afterwards.
fn resolve_one(call: [u8; 8], btf: Option<&[u8]>) -> Result<(i32, Insn)> {
    let mut insns = [[0xb7, 0, 0, 0, 0, 0, 0, 0], call, EXIT];
    let rc = resolve_with(insns.as_flattened_mut(), btf, &vmlinux()?)?;
    Ok((rc, Insn::from_bytes(insns[1])))
}

/// vmlinux BTF that counts its name lookups.
struct Counting {
    vm: KernelTypes,
    lookups: core::cell::Cell<usize>,
}

impl TypeTable for Counting {
    fn type_by_id(&self, id: u32) -> core::result::Result<crate::rules::btf::Type<'_>, BtfError> {
        self.vm.type_by_id(id)
    }

    fn name_by_offset(&self, off: u32) -> core::result::Result<&[u8], BtfError> {
        self.vm.name_by_offset(off)
    }
}

impl KernelBtf for Counting {
    fn find_func(&self, name: &[u8]) -> Option<u32> {
        self.lookups.set(self.lookups.get().saturating_add(1));
        self.vm.find_func(name)
    }

    fn is_loader_kfunc(&self, id: u32) -> bool {
        self.vm.is_loader_kfunc(id)
    }
}

/// The loader BTF (as libbpf writes it for a signed loader) with `extra`
/// more FUNCs of the same name and prototype appended: ids 5 ..= 5 + extra.
fn loader_btf_with_funcs(extra: u32) -> Result<KVec<u8>> {
    const HDR: usize = 24;
    const TYPES: usize = 92;
    let lb = &vectors::LOADER_BTF;
    let (hdr, rest) = lb.split_at(HDR);
    let (types, strings) = rest.split_at(TYPES);
    let func = types.get(TYPES - 12..).ok_or(EINVAL)?;
    let types_len = u32::try_from(TYPES)?
        .checked_add(extra.checked_mul(12).ok_or(EINVAL)?)
        .ok_or(EINVAL)?;
    let mut out = KVec::new();
    out.extend_from_slice(hdr.get(..12).ok_or(EINVAL)?, GFP_KERNEL)?;
    out.extend_from_slice(&types_len.to_le_bytes(), GFP_KERNEL)?; // type_len
    out.extend_from_slice(&types_len.to_le_bytes(), GFP_KERNEL)?; // str_off
    out.extend_from_slice(hdr.get(20..).ok_or(EINVAL)?, GFP_KERNEL)?; // str_len
    out.extend_from_slice(types, GFP_KERNEL)?;
    for _ in 0..extra {
        out.extend_from_slice(func, GFP_KERNEL)?;
    }
    out.extend_from_slice(strings, GFP_KERNEL)?;
    Ok(out)
}

/// The loader BTF with its FUNC renamed (same length) or its `u32`
/// parameter widened to 8 bytes.
fn loader_btf_variant(rename: Option<&[u8; 26]>, widen: bool) -> [u8; 170] {
    let mut b = vectors::LOADER_BTF;
    if let Some(name) = rename {
        b[143..169].copy_from_slice(name);
    }
    if widen {
        b[48] = 8; // [2] "u32" (bytes 40..56): size 4 -> 8
        b[52] = 64; // and 64 bits
    }
    b
}

#[kunit_tests(bpfsig_resolve)]
mod tests {
    use super::*;

    #[test]
    fn btf_reader_reads_the_loader_btf() -> Result {
        let data = &vectors::LOADER_BTF;
        let n = index_len(data).map_err(|_| EINVAL)?;
        assert_eq!(n, 5);
        let mut index = KVec::from_elem(0u32, n, GFP_KERNEL)?;
        let btf = Btf::parse(data, &mut index).map_err(|_| EINVAL)?;
        let f = btf
            .type_by_id(vectors::LOADER_BTF_FUNC)
            .map_err(|_| EINVAL)?;
        assert!(f.kind == Kind::Func);
        assert!(btf.name_by_offset(f.name_off) == Ok(b"bpf_loader_verify_metadata".as_slice()));
        let p = func_proto(&btf, vectors::LOADER_BTF_FUNC).map_err(|_| EINVAL)?;
        assert!(p.ret == ArgKind::Scalar { size: 4 });
        assert!(p.args() == [ArgKind::Ptr, ArgKind::Ptr, ArgKind::Scalar { size: 4 }]);
        // A truncated copy is an error, not a crash.
        let short = data.split_last().map_or(&[][..], |(_, rest)| rest);
        assert!(index_len(short).is_err());
        Ok(())
    }

    #[test]
    fn resolves_against_the_real_vmlinux_btf() -> Result {
        let name = c"bpf_loader_verify_metadata";
        let func = u8::try_from(bindings::BTF_KIND_FUNC)?;
        // SAFETY: vmlinux BTF is always valid; `name` is NUL-terminated.
        let want = unsafe {
            bindings::btf_find_by_name_kind(
                bindings::bpf_get_btf_vmlinux(),
                name.as_char_ptr(),
                func,
            )
        };
        assert!(want > 0);
        let f = i32::try_from(vectors::LOADER_BTF_FUNC)?;
        let (rc, c) = resolve_one(call(f, 0), Some(&vectors::LOADER_BTF))?;
        assert_eq!(rc, 1);
        assert!(c.src_reg == BPF_PSEUDO_KFUNC_CALL && c.imm == want && c.off == 0);
        Ok(())
    }

    #[test]
    fn resolution_errors_have_the_spec_errnos() -> Result {
        let btf = Some(&vectors::LOADER_BTF[..]);
        let f = i32::try_from(vectors::LOADER_BTF_FUNC)?;
        // Each failure leaves the call as it was.
        let unchanged =
            |c: Insn, imm: i32| c.src_reg == BPF_PSEUDO_KFUNC_CALL_PROG_BTF && c.imm == imm;
        let (rc, c) = resolve_one(call(f, 0), None)?;
        assert!(rc == EINVAL.to_errno() && unchanged(c, f));
        let (rc, c) = resolve_one(call(f, 1), btf)?;
        assert!(rc == EINVAL.to_errno() && unchanged(c, f));
        for id in [0, 1, 4, 6, -1] {
            let (rc, c) = resolve_one(call(id, 0), btf)?;
            assert!(rc == EINVAL.to_errno() && unchanged(c, id));
        }
        let unknown = loader_btf_variant(Some(b"bpf_loader_verify_metadatx"), false);
        let (rc, _) = resolve_one(call(f, 0), Some(&unknown))?;
        assert_eq!(rc, ENOENT.to_errno());
        let widened = loader_btf_variant(None, true);
        let (rc, _) = resolve_one(call(f, 0), Some(&widened))?;
        assert_eq!(rc, EINVAL.to_errno());
        // A real vmlinux function that is not a loader kfunc may not be
        // named, whatever its prototype.
        let other = loader_btf_variant(Some(b"bpf_prog_calc_tag\0\0\0\0\0\0\0\0\0"), false);
        let (rc, _) = resolve_one(call(f, 0), Some(&other))?;
        assert_eq!(rc, EACCES.to_errno());
        Ok(())
    }

    /// One vmlinux lookup per distinct program-BTF FUNC id,
    /// however many calls (here 64 ids, 4096 calls cycling through them).
    #[test]
    fn each_distinct_id_is_looked_up_once() -> Result {
        const IDS: u32 = 64;
        const CALLS: u32 = 4096;
        let btf = loader_btf_with_funcs(IDS - 1)?;
        let first = vectors::LOADER_BTF_FUNC;
        let mut insns = KVec::new();
        for i in 0..CALLS {
            let id = first.checked_add(i % IDS).ok_or(EINVAL)?;
            insns.extend_from_slice(&call(i32::try_from(id)?, 0), GFP_KERNEL)?;
        }
        insns.extend_from_slice(&EXIT, GFP_KERNEL)?;
        let vm = Counting {
            vm: vmlinux()?,
            lookups: core::cell::Cell::new(0),
        };
        let rc = resolve_with(&mut insns, Some(&btf), &vm)?;
        assert_eq!(rc, i32::try_from(CALLS)?);
        assert_eq!(vm.lookups.get(), usize::try_from(IDS)?);
        Ok(())
    }

    #[test]
    fn vmlinux_lookup_refuses_names_c_would_truncate() -> Result {
        let vm = vmlinux()?;
        assert!(vm.find_func(b"bpf_loader_verify_metadata").is_some());
        // A NUL inside: C would look up the prefix, which exists.
        assert!(vm.find_func(b"bpf_loader_verify_metadata\0x").is_none());
        // Longer than any BTF name, with no room for a terminator.
        assert!(vm.find_func(&[b'a'; 513]).is_none());
        assert!(vm.find_func(&[b'a'; 4096]).is_none());
        Ok(())
    }
}
