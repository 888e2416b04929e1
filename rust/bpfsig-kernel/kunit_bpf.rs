// SPDX-License-Identifier: GPL-2.0

//! KUnit suite `bpfsig_bpf`: the entry points on real kernel objects:
//! `struct bpf_prog` and the C digest, vmlinux BTF, and array maps made by
//! the kernel's own map code.

use crate::btf::{index_len, Btf, BtfError, TypeTable};
use crate::insn::{Insn, BPF_PSEUDO_KFUNC_CALL, BPF_PSEUDO_KFUNC_CALL_PROG_BTF, JMP_CALL};
use crate::kunit_core::{dense_program, TestPrograms};
use crate::resolve::KernelBtf;
use crate::{loader_kfunc, prog_btf_calls, prog_digest, testvec};
use kernel::{alloc::flags::GFP_KERNEL, alloc::KVec, bindings, prelude::*};

const EXIT: [u8; 8] = [0x95, 0, 0, 0, 0, 0, 0, 0];

/// A `struct bpf_prog` holding a copy of some instructions, freed on drop.
///
/// # Invariants
///
/// `self.0` is a live program made by `bpf_prog_alloc()`, never published.
struct Prog(*mut bindings::bpf_prog);

impl Prog {
    fn new(insns: &[u8]) -> Result<Self> {
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

    fn aux(&self) -> *mut bindings::bpf_prog_aux {
        // SAFETY: `self.0` is live (type invariant).
        unsafe { (*self.0).aux }
    }

    fn verdict(&self) -> u8 {
        // SAFETY: `self.0` and its aux are live (type invariant).
        unsafe { (*self.aux()).sig.verdict }
    }

    fn set_verdict(&self, v: u32) -> Result {
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
struct Map(*mut bindings::bpf_map);

impl Map {
    fn new() -> Result<Self> {
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
    fn freeze_and_hash(&self) -> Result<[u8; 32]> {
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

    fn sha(&self) -> [u8; 32] {
        // SAFETY: `self.0` is live and unshared (type invariant).
        unsafe { (*self.0).sha }
    }

    fn set_frozen(&self, frozen: bool) {
        // SAFETY: `self.0` is live and unshared (type invariant).
        unsafe { (*self.0).frozen = frozen };
    }

    /// Exclusive to programs whose digest is all zero, as [`Prog::new`]'s
    /// are (they are never digested), or not exclusive.
    fn set_exclusive(&self, on: bool) {
        static ZERO: [u8; 32] = [0; 32];
        self.set_exclusive_to(on.then_some(&ZERO));
    }

    fn set_exclusive_to(&self, digest: Option<&'static [u8; 32]>) {
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

fn vmlinux() -> Result<crate::kernel_btf::KernelTypes> {
    // SAFETY: no preconditions; the result is vmlinux BTF, an ERR_PTR or NULL.
    let btf = kernel::error::from_err_ptr(unsafe { bindings::bpf_get_btf_vmlinux() })?;
    if btf.is_null() {
        return Err(ENOENT);
    }
    // SAFETY: a valid vmlinux BTF lives for the kernel's lifetime.
    Ok(unsafe { crate::kernel_btf::KernelTypes::new(btf) })
}

/// Resolves `insns` with program BTF given as raw bytes (read by the
/// core's reader: KUnit cannot make a BPF_BTF_LOAD object) against `vm`;
/// returns the errno or the count.
fn resolve_with<K: KernelBtf>(insns: &mut [u8], btf: Option<&[u8]>, vm: &K) -> Result<i32> {
    let rc = match btf {
        None => prog_btf_calls::resolve::<Btf<'_>, K>(insns, None, Some(vm)),
        Some(data) => {
            let mut index =
                KVec::from_elem(0u32, index_len(data).map_err(|_| EINVAL)?, GFP_KERNEL)?;
            let parsed = Btf::parse(data, &mut index).map_err(|_| EINVAL)?;
            prog_btf_calls::resolve(insns, Some(&parsed), Some(vm))
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
    vm: crate::kernel_btf::KernelTypes,
    lookups: core::cell::Cell<usize>,
}

impl TypeTable for Counting {
    fn type_by_id(&self, id: u32) -> core::result::Result<crate::btf::Type<'_>, BtfError> {
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

/// The loader BTF (SPEC §6) with `extra` more FUNCs of the same name and
/// prototype appended: ids 5 ..= 5 + extra.
fn loader_btf_with_funcs(extra: u32) -> Result<KVec<u8>> {
    const HDR: usize = 24;
    const TYPES: usize = 92;
    let lb = &testvec::LOADER_BTF;
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
    let mut b = testvec::LOADER_BTF;
    if let Some(name) = rename {
        b[143..169].copy_from_slice(name);
    }
    if widen {
        b[48] = 8; // [2] "u32" (bytes 40..56): size 4 -> 8
        b[52] = 64; // and 64 bits
    }
    b
}

/// Runs the kfunc's body; returns its result and the reason it gave.
fn kfunc_reason(map: &Map, hash: &[u8], prog: &Prog) -> Result<(i32, *const kernel::ffi::c_char)> {
    let mut why: *const kernel::ffi::c_char = core::ptr::null();
    // SAFETY: all three are live; `hash` has `hash.len()` bytes; `why` is
    // a local.
    let rc = unsafe {
        loader_kfunc::bpfsig_loader_verify_metadata(
            map.0,
            hash.as_ptr().cast(),
            u32::try_from(hash.len())?,
            prog.aux(),
            &mut why,
        )
    };
    Ok((rc, why))
}

/// Runs the kfunc's body; returns its result and whether it gave a reason.
fn kfunc_why(map: &Map, hash: &[u8], prog: &Prog) -> Result<(i32, bool)> {
    let (rc, why) = kfunc_reason(map, hash, prog)?;
    Ok((rc, !why.is_null()))
}

fn kfunc(map: &Map, hash: &[u8], prog: &Prog) -> Result<i32> {
    let (rc, why) = kfunc_why(map, hash, prog)?;
    // A failed check always says what failed, for the log (the test fails
    // through the error).
    if (rc != 0) != why {
        return Err(EINVAL);
    }
    Ok(rc)
}

const VERIFIED: u32 = bindings::bpf_sig_verdict_BPF_SIG_VERIFIED;
const PROMOTED: u32 = bindings::bpf_sig_verdict_BPF_SIG_METADATA_VERIFIED;

#[kunit_tests(bpfsig_bpf)]
mod tests {
    use super::*;

    #[test]
    fn rust_digest_equals_bpf_prog_calc_tag() -> Result {
        let mut programs = TestPrograms(0x2545_f491_4f6c_dd1d);
        for round in 0..201 {
            let mut insns = if round < 200 {
                programs.next_program(160)?
            } else {
                dense_program(200)?
            };
            if insns.is_empty() {
                insns.extend_from_slice(&EXIT, GFP_KERNEL)?;
            }
            let prog = Prog::new(&insns)?;
            // SAFETY: `prog` is a complete program.
            assert_eq!(unsafe { bindings::bpf_prog_calc_tag(prog.0) }, 0);
            // SAFETY: `prog` is live; the digest is a plain array.
            let c = unsafe { (*prog.0).__bindgen_anon_1.digest };
            // The C entry point on the program's own instructions, as at
            // BPF_PROG_LOAD entry.
            let len = u32::try_from(insns.len().checked_div(8).ok_or(EINVAL)?)?;
            let mut ours = [0u8; 32];
            // SAFETY: `prog` is live and not shared (type invariant);
            // `insnsi` is its flexible array of `len` instructions.
            let insnsi =
                unsafe { (&raw mut (*prog.0).__bindgen_anon_2).cast::<bindings::bpf_insn>() };
            // SAFETY: `insnsi` holds `len` instructions nothing else uses;
            // `ours` has room for the digest.
            let rc = unsafe { prog_digest::bpfsig_prog_digest(insnsi, len, ours.as_mut_ptr()) };
            assert_eq!(rc, 0);
            assert!(ours == c);
            // SAFETY: as above, and the call has returned.
            let now = unsafe { core::slice::from_raw_parts(insnsi.cast::<u8>(), insns.len()) };
            assert!(*now == *insns);
        }
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
        let f = i32::try_from(testvec::LOADER_BTF_FUNC)?;
        let (rc, c) = resolve_one(call(f, 0), Some(&testvec::LOADER_BTF))?;
        assert_eq!(rc, 1);
        assert!(c.src_reg == BPF_PSEUDO_KFUNC_CALL && c.imm == want && c.off == 0);
        Ok(())
    }

    #[test]
    fn resolution_errors_have_the_spec_errnos() -> Result {
        let btf = Some(&testvec::LOADER_BTF[..]);
        let f = i32::try_from(testvec::LOADER_BTF_FUNC)?;
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

    /// SPEC §5: one vmlinux lookup per distinct program-BTF FUNC id,
    /// however many calls (here 64 ids, 4096 calls cycling through them).
    #[test]
    fn each_distinct_id_is_looked_up_once() -> Result {
        const IDS: u32 = 64;
        const CALLS: u32 = 4096;
        let btf = loader_btf_with_funcs(IDS - 1)?;
        let first = testvec::LOADER_BTF_FUNC;
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

    #[test]
    fn kfunc_promotes_a_signed_loader_with_matching_metadata() -> Result {
        let map = Map::new()?;
        map.set_exclusive(true);
        let sha = map.freeze_and_hash()?;
        assert!(sha != [0; 32]);
        let prog = Prog::new(&EXIT)?;
        prog.set_verdict(VERIFIED)?;
        assert_eq!(kfunc(&map, &sha, &prog)?, 0);
        assert_eq!(u32::from(prog.verdict()), PROMOTED);
        // Running again is idempotent.
        assert_eq!(kfunc(&map, &sha, &prog)?, 0);
        assert_eq!(u32::from(prog.verdict()), PROMOTED);
        Ok(())
    }

    #[test]
    fn kfunc_fails_closed_on_real_maps() -> Result {
        let prog = Prog::new(&EXIT)?;
        prog.set_verdict(VERIFIED)?;
        let einval = EINVAL.to_errno();

        // Unfrozen: no hash can be cached, the check must still say no.
        let unfrozen = Map::new()?;
        unfrozen.set_exclusive(true);
        assert_eq!(kfunc(&unfrozen, &unfrozen.sha(), &prog)?, einval);

        // Not exclusive.
        let shared = Map::new()?;
        let sha = shared.freeze_and_hash()?;
        assert_eq!(kfunc(&shared, &sha, &prog)?, einval);

        // Exclusive and frozen, but one byte of the hash differs, or the
        // size is wrong, or the hash was never computed.
        let map = Map::new()?;
        map.set_exclusive(true);
        let sha = map.freeze_and_hash()?;
        let mut bad = sha;
        bad[31] ^= 1;
        assert_eq!(kfunc(&map, &bad, &prog)?, einval);
        assert_eq!(kfunc(&map, &sha[..31], &prog)?, einval);
        let never = Map::new()?;
        never.set_exclusive(true);
        never.set_frozen(true);
        assert_eq!(kfunc(&never, &sha, &prog)?, einval);
        // A zero hash proves nothing, even equal to a never computed one.
        assert_eq!(kfunc(&never, &[0; 32], &prog)?, einval);
        assert_eq!(kfunc(&map, &[0; 32], &prog)?, einval);

        // A hash computed while frozen, then `frozen` false: "not frozen"
        // on its own, not through the zero-hash check.
        let thawed = Map::new()?;
        thawed.set_exclusive(true);
        let thawed_sha = thawed.freeze_and_hash()?;
        thawed.set_frozen(false);
        let (rc, why) = kfunc_reason(&thawed, &thawed_sha, &prog)?;
        assert_eq!(rc, einval);
        let not_frozen = crate::metadata::MetaError::NotFrozen.reason().as_char_ptr();
        assert!(why == not_frozen);

        // Exclusive to another program than the caller: -EACCES.
        static OTHER: [u8; 32] = [0x42; 32];
        let foreign = Map::new()?;
        foreign.set_exclusive_to(Some(&OTHER));
        let foreign_sha = foreign.freeze_and_hash()?;
        assert_eq!(kfunc(&foreign, &foreign_sha, &prog)?, EACCES.to_errno());

        // None of this changed the verdict.
        assert_eq!(u32::from(prog.verdict()), VERIFIED);

        // An unsigned loader passes the checks but is never promoted.
        let unsigned = Prog::new(&EXIT)?;
        assert_eq!(kfunc(&map, &sha, &unsigned)?, 0);
        assert_eq!(unsigned.verdict(), 0);
        Ok(())
    }
}
