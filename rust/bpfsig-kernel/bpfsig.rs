// SPDX-License-Identifier: GPL-2.0

//! bpfsig in the kernel.
//!
//! The decisions are the `no_std` core in `rust/bpfsig-core/src`, compiled here
//! as modules of this crate (the same files `cargo test` checks on the host);
//! this file adds what only the kernel has: its SHA-256 and, as the kernel
//! side grows, the entry points C calls.

#[path = "../bpfsig-core/src/btf.rs"]
pub mod btf;
#[path = "../bpfsig-core/src/digest.rs"]
pub mod digest;
#[path = "../bpfsig-core/src/errno.rs"]
pub mod errno;
#[path = "../bpfsig-core/src/insn.rs"]
pub mod insn;
#[path = "../bpfsig-core/src/metadata.rs"]
pub mod metadata;
#[path = "../bpfsig-core/src/proto.rs"]
pub mod proto;
#[path = "../bpfsig-core/src/resolve.rs"]
pub mod resolve;
#[path = "../bpfsig-core/src/sha256.rs"]
pub mod sha256;

use kernel::{alloc::flags::GFP_KERNEL, bindings, prelude::*, str::CStr};

#[cfg(CONFIG_BPFSIG_KUNIT_TEST)]
use kernel::alloc::KVec;

/// Prefix of this crate's log lines (what `module!` would define for a module).
const __LOG_PREFIX: &[u8] = b"bpfsig\0";

/// The kernel's `lib/crypto` SHA-256 as the core's hash backend.
///
/// # Invariants
///
/// `ctx` was initialised by `sha256_init()`.
pub struct KernelSha256 {
    ctx: bindings::sha256_ctx,
}

impl KernelSha256 {
    /// Starts a new message.
    pub fn new() -> Self {
        // SAFETY: `sha256_ctx` holds only integers, for which all-zero is a
        // valid value; `sha256_init()` below sets the real initial state.
        let mut ctx: bindings::sha256_ctx = unsafe { core::mem::zeroed() };
        // SAFETY: `ctx` is a valid, exclusively borrowed `sha256_ctx`.
        unsafe { bindings::sha256_init(&mut ctx) };
        // INVARIANT: initialised just above.
        Self { ctx }
    }
}

impl Default for KernelSha256 {
    fn default() -> Self {
        Self::new()
    }
}

impl sha256::Sha256 for KernelSha256 {
    fn update(&mut self, data: &[u8]) {
        // SAFETY: by the type invariant `ctx` is initialised; `data` is valid
        // for `data.len()` bytes.
        unsafe { bindings::sha256_update(&mut self.ctx, data.as_ptr(), data.len()) };
    }

    fn finish(mut self) -> [u8; 32] {
        let mut out = [0u8; 32];
        // SAFETY: `ctx` is initialised (type invariant) and `out` has room
        // for `SHA256_DIGEST_SIZE` bytes.
        unsafe { bindings::sha256_final(&mut self.ctx, out.as_mut_ptr()) };
        out
    }
}

/// `prog->digest` at `BPF_PROG_LOAD` entry (`include/linux/bpfsig.h`).
///
/// # Safety
///
/// `insns` must be valid for reading `len` instructions and `digest` for
/// writing 32 bytes, for the duration of the call.
#[export]
pub unsafe extern "C" fn bpfsig_prog_digest(
    insns: *const bindings::bpf_insn,
    len: u32,
    digest: *mut u8,
) {
    let size = (len as usize).saturating_mul(insn::INSN_SIZE);
    // SAFETY: the caller guarantees `insns` is readable for `len`
    // instructions of `INSN_SIZE` bytes each.
    let bytes = unsafe { core::slice::from_raw_parts(insns.cast::<u8>(), size) };
    // `size` is a multiple of INSN_SIZE, so this cannot fail.
    let Ok(view) = insn::Insns::new(bytes) else {
        return;
    };
    let d = digest::prog_digest(&view, KernelSha256::new());
    // SAFETY: the caller guarantees `digest` is writable for 32 bytes; a
    // local array cannot overlap it.
    unsafe { core::ptr::copy_nonoverlapping(d.as_ptr(), digest, d.len()) };
}

/// The kernel's own BTF (vmlinux), read through the kernel's lookups.
///
/// # Invariants
///
/// `btf` points to a kernel BTF object that outlives `self`.
pub struct KernelTypes {
    btf: *const bindings::btf,
}

impl KernelTypes {
    /// Wraps `btf`.
    ///
    /// # Safety
    ///
    /// `btf` must be a valid kernel BTF object for the lifetime of the result.
    pub unsafe fn new(btf: *const bindings::btf) -> Self {
        // INVARIANT: guaranteed by the caller.
        Self { btf }
    }
}

impl btf::TypeTable for KernelTypes {
    fn type_by_id(&self, id: u32) -> Result<btf::Type<'_>, btf::BtfError> {
        // SAFETY: `self.btf` is valid (type invariant); the lookup is
        // bounds-checked and returns NULL for ids it does not have.
        let t = unsafe { bindings::btf_type_by_id(self.btf, id) };
        if t.is_null() {
            return Err(btf::BtfError::BadId { id });
        }
        // SAFETY: `t` points to a `struct btf_type` of the kernel's BTF.
        let info = unsafe { (*t).info };
        let kind = btf::Kind::from_raw(((info >> 24) & 0x1f) as u8)
            .ok_or(btf::BtfError::UnknownKind { id })?;
        let len = btf::TYPE_LEN.saturating_add(kind.extra_len((info & 0xffff) as u16));
        // SAFETY: kernel BTF was validated when it was loaded: the type is
        // followed by the trailing data its kind and vlen announce, and
        // lives as long as `self.btf`.
        let bytes = unsafe { core::slice::from_raw_parts(t.cast::<u8>(), len) };
        btf::Type::decode(bytes, id)
    }

    fn name_by_offset(&self, off: u32) -> Result<&[u8], btf::BtfError> {
        // SAFETY: `self.btf` is valid (type invariant).
        let name = unsafe { bindings::btf_name_by_offset(self.btf, off) };
        if name.is_null() {
            return Err(btf::BtfError::BadName);
        }
        // SAFETY: a non-NULL result is a NUL-terminated string of the BTF's
        // string section, which lives as long as `self.btf`.
        Ok(unsafe { CStr::from_char_ptr(name) }.to_bytes())
    }
}

impl resolve::KernelBtf for KernelTypes {
    fn find_func(&self, name: &[u8]) -> Option<u32> {
        let mut cname = [0u8; btf::MAX_NAME_LEN + 1];
        cname.get_mut(..name.len())?.copy_from_slice(name);
        // SAFETY: `self.btf` is valid and `cname` is NUL-terminated (the
        // name is at most MAX_NAME_LEN bytes and the buffer is zeroed).
        let id = unsafe {
            bindings::btf_find_by_name_kind(
                self.btf,
                cname.as_ptr().cast(),
                bindings::BTF_KIND_FUNC as u8,
            )
        };
        u32::try_from(id).ok().filter(|&id| id > 0)
    }
}

fn resolve_reason(e: &resolve::ResolveError) -> &'static CStr {
    use resolve::ResolveError as E;
    match e {
        E::NoProgBtf { .. } => c"the program has no BTF (prog_btf_fd)",
        E::BadOff { .. } => c"off must be 0",
        E::BadId { .. } => c"imm is not a FUNC in the program's BTF",
        E::BadProgBtf { .. } => c"the program's BTF is malformed",
        E::UnknownName { .. } => c"the kernel has no function of that name",
        E::ProtoMismatch { .. } => c"the prototype differs from the kernel's",
    }
}

/// Resolves loader kfunc calls (`include/linux/bpfsig.h`).
///
/// # Safety
///
/// `insns` must be valid for reading and writing `len` instructions;
/// `btf_data` NULL or valid for reading `btf_size` bytes; `vmlinux` a valid
/// kernel BTF or NULL; `bad_insn` and `reason` valid for writing.
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
    let size = (len as usize).saturating_mul(insn::INSN_SIZE);
    // SAFETY: the caller guarantees `insns` is valid for `len` instructions
    // and that nothing else accesses them during the call.
    let bytes = unsafe { core::slice::from_raw_parts_mut(insns.cast::<u8>(), size) };
    let Ok(mut prog) = insn::InsnsMut::new(bytes) else {
        return EINVAL.to_errno();
    };
    if !prog.as_insns().iter().any(|i| i.is_prog_btf_kfunc_call()) {
        return 0;
    }
    let fail = |idx: usize, why: &'static CStr, err: i32| {
        // SAFETY: the caller guarantees both are valid for writing.
        unsafe {
            *bad_insn = u32::try_from(idx).unwrap_or(u32::MAX);
            *reason = why.as_char_ptr();
        }
        err
    };
    if vmlinux.is_null() {
        return fail(0, c"no vmlinux BTF", EINVAL.to_errno());
    }
    // SAFETY: `vmlinux` is a valid kernel BTF for the call (caller).
    let kernel_btf = unsafe { KernelTypes::new(vmlinux) };

    let mut index = KVVec::new();
    let prog_btf = if btf_data.is_null() {
        None
    } else {
        // SAFETY: the caller guarantees `btf_data` is readable for `btf_size`.
        let data = unsafe { core::slice::from_raw_parts(btf_data.cast::<u8>(), btf_size as usize) };
        let malformed = c"the program's BTF is malformed";
        let Ok(n) = btf::index_len(data) else {
            return fail(0, malformed, EINVAL.to_errno());
        };
        if index.extend_with(n, 0u32, GFP_KERNEL).is_err() {
            return fail(0, c"out of memory", ENOMEM.to_errno());
        }
        match btf::Btf::parse(data, &mut index) {
            Ok(b) => Some(b),
            Err(_) => return fail(0, malformed, EINVAL.to_errno()),
        }
    };
    match resolve::resolve_prog_btf_calls(&mut prog, prog_btf.as_ref(), &kernel_btf) {
        Ok(n) => kernel::ffi::c_int::try_from(n).unwrap_or(kernel::ffi::c_int::MAX),
        Err(e) => fail(e.insn(), resolve_reason(&e), e.to_errno()),
    }
}

/// The body of the kfunc `bpf_loader_verify_metadata()` (`kernel/bpf/loader.c`).
///
/// # Safety
///
/// As the verifier guarantees for the kfunc: `map` is a live `struct bpf_map`,
/// `hash` is readable for `hash_sz` bytes, and `aux` is the calling program's
/// `struct bpf_prog_aux`, all for the duration of the call.
#[export]
pub unsafe extern "C" fn bpfsig_loader_verify_metadata(
    map: *mut bindings::bpf_map,
    hash: *const kernel::ffi::c_void,
    hash_sz: u32,
    aux: *mut bindings::bpf_prog_aux,
) -> kernel::ffi::c_int {
    // The fields are read through raw pointers: the map and program are
    // shared with C, which may update them (sha, verdict) concurrently.
    //
    // SAFETY: `map` is live (caller); `excl_prog_sha` is set at creation and
    // never changes, `frozen` is write-once, and `sha` is only ever
    // (re)written with the same bytes once the map is frozen.
    let (exclusive, frozen, sha) = unsafe {
        (
            !(*map).excl_prog_sha.is_null(),
            core::ptr::read_volatile(&raw const (*map).frozen),
            core::ptr::read_volatile(&raw const (*map).sha),
        )
    };
    let hash: &[u8] = if hash.is_null() {
        &[]
    } else {
        // SAFETY: the caller guarantees `hash` is readable for `hash_sz` bytes.
        unsafe { core::slice::from_raw_parts(hash.cast::<u8>(), hash_sz as usize) }
    };
    // SAFETY: `aux` is live (caller); the verdict is promoted concurrently
    // only to the same value, hence the volatile access (READ_ONCE).
    let (verdict, id) = unsafe {
        (
            core::ptr::read_volatile(&raw const (*aux).sig.verdict),
            (*aux).id,
        )
    };
    let view = metadata::MapView {
        exclusive,
        frozen,
        sha: &sha,
    };
    match metadata::decide(&view, hash, u32::from(verdict)) {
        Err(e) => {
            pr_info!("prog {}: loader metadata not verified: {:?}\n", id, e);
            e.to_errno()
        }
        Ok(metadata::Decision::HookThenPromote) => {
            // SAFETY: `aux` is live and `aux->prog` is its program.
            let rc = unsafe { bindings::security_bpf_prog_load_post_integrity((*aux).prog) };
            if rc != 0 {
                pr_info!(
                    "prog {}: loader metadata verified, denied by LSM: {}\n",
                    id,
                    rc
                );
                return rc;
            }
            // SAFETY: as above; concurrent runs write the same value (WRITE_ONCE).
            unsafe {
                core::ptr::write_volatile(
                    &raw mut (*aux).sig.verdict,
                    bindings::bpf_sig_verdict_BPF_SIG_METADATA_VERIFIED as u8,
                )
            };
            0
        }
        Ok(metadata::Decision::UnsignedNoPromotion | metadata::Decision::AlreadyPromoted) => 0,
    }
}

/// Deterministic test programs (xorshift64), biased towards map loads and
/// (in)valid second slots: the cases the digest's masking rule is about.
#[cfg(CONFIG_BPFSIG_KUNIT_TEST)]
struct TestPrograms(u64);

#[cfg(CONFIG_BPFSIG_KUNIT_TEST)]
impl TestPrograms {
    fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A program of up to `max_len` instructions.
    fn next_program(&mut self, max_len: u64) -> Result<KVec<u8>> {
        let len = (self.next_u64() % max_len) as usize;
        let mut prog = KVec::with_capacity(len * 8, GFP_KERNEL)?;
        for _ in 0..len {
            let r = self.next_u64();
            let mut slot = r.to_le_bytes();
            match r % 4 {
                0 => slot[0] = 0x18,
                1 => slot[..4].fill(0),
                _ => {}
            }
            prog.extend_from_slice(&slot, GFP_KERNEL)?;
        }
        Ok(prog)
    }
}

#[cfg(CONFIG_BPFSIG_KUNIT_TEST)]
#[path = "../bpfsig-core/src/testvec.rs"]
mod testvec;

#[cfg(CONFIG_BPFSIG_KUNIT_TEST)]
#[kernel::prelude::kunit_tests(bpfsig_core)]
mod tests {
    use super::*;
    use crate::btf::{index_len, Btf, Kind, TypeTable};
    use crate::digest::prog_digest;
    use crate::insn::Insns;
    use crate::metadata::{decide, Decision, MapView, MetaError};
    use crate::proto::{func_proto, ArgKind};

    /// Digest by the C rule, independently: copy, mask, one-shot `sha256()`.
    fn naive_digest(prog: &[u8]) -> Result<[u8; 32]> {
        let mut copy = KVec::new();
        copy.extend_from_slice(prog, GFP_KERNEL)?;
        let mut was_ld_map = false;
        for slot in copy.chunks_exact_mut(8) {
            let (code, dst, src) = (slot[0], slot[1] & 0xf, slot[1] >> 4);
            let off_zero = slot[2] == 0 && slot[3] == 0;
            if !was_ld_map && code == 0x18 && (src == 1 || src == 2) {
                was_ld_map = true;
                slot[4..8].fill(0);
            } else if was_ld_map && code == 0 && dst == 0 && src == 0 && off_zero {
                was_ld_map = false;
                slot[4..8].fill(0);
            } else {
                was_ld_map = false;
            }
        }
        let mut out = [0u8; 32];
        // SAFETY: `copy` is valid for `copy.len()` bytes and `out` for 32.
        unsafe { bindings::sha256(copy.as_ptr(), copy.len(), out.as_mut_ptr()) };
        Ok(out)
    }

    #[test]
    fn digest_matches_the_host_reference_vector() -> Result {
        let mut prog = KVec::new();
        for slot in &testvec::DIGEST_PROG {
            prog.extend_from_slice(slot, GFP_KERNEL)?;
        }
        let insns = Insns::new(&prog).map_err(|_| EINVAL)?;
        assert_eq!(
            prog_digest(&insns, KernelSha256::new()),
            testvec::DIGEST_PROG_SHA
        );
        assert_eq!(naive_digest(&prog)?, testvec::DIGEST_PROG_SHA);
        Ok(())
    }

    #[test]
    fn digest_equals_copy_mask_hash_on_generated_programs() -> Result {
        let mut programs = TestPrograms(0x9e37_79b9_7f4a_7c15);
        for round in 0..200u32 {
            let prog = programs.next_program(160)?;
            let insns = Insns::new(&prog).map_err(|_| EINVAL)?;
            let ok = prog_digest(&insns, KernelSha256::new()) == naive_digest(&prog)?;
            if !ok {
                pr_err!("digest mismatch in round {}\n", round);
            }
            assert!(ok);
        }
        Ok(())
    }

    #[test]
    fn btf_reader_reads_the_loader_btf() -> Result {
        let data = &testvec::LOADER_BTF;
        let n = index_len(data).map_err(|_| EINVAL)?;
        assert_eq!(n, 5);
        let mut index = KVec::from_elem(0u32, n, GFP_KERNEL)?;
        let btf = Btf::parse(data, &mut index).map_err(|_| EINVAL)?;
        let f = btf
            .type_by_id(testvec::LOADER_BTF_FUNC)
            .map_err(|_| EINVAL)?;
        assert!(f.kind == Kind::Func);
        assert!(btf.name_by_offset(f.name_off) == Ok(b"bpf_loader_verify_metadata".as_slice()));
        let p = func_proto(&btf, testvec::LOADER_BTF_FUNC).map_err(|_| EINVAL)?;
        assert!(p.ret == ArgKind::Scalar { size: 4 });
        assert!(p.args() == [ArgKind::Ptr, ArgKind::Ptr, ArgKind::Scalar { size: 4 }]);
        // A truncated copy is an error, not a crash.
        assert!(index_len(&data[..data.len() - 1]).is_err());
        Ok(())
    }

    #[test]
    fn metadata_decision_fails_closed() {
        let sha = [0x5a; 32];
        let good = MapView {
            exclusive: true,
            frozen: true,
            sha: &sha,
        };
        assert!(decide(&good, &sha, 1) == Ok(Decision::HookThenPromote));
        assert!(decide(&good, &sha, 0) == Ok(Decision::UnsignedNoPromotion));
        assert!(decide(&good, &sha[..31], 1) == Err(MetaError::BadHashSize));
        let unfrozen = MapView {
            frozen: false,
            ..good
        };
        assert!(decide(&unfrozen, &sha, 1) == Err(MetaError::NotFrozen));
        assert_eq!(MetaError::HashMismatch.to_errno(), EINVAL.to_errno());
    }
}

/// KUnit on real kernel objects: `struct bpf_prog` and the C digest, vmlinux
/// BTF, array maps made by the kernel's own map code.
#[cfg(CONFIG_BPFSIG_KUNIT_TEST)]
#[kernel::prelude::kunit_tests(bpfsig_bpf)]
mod bpf_tests {
    use super::*;
    use crate::insn::{Insn, BPF_PSEUDO_KFUNC_CALL, BPF_PSEUDO_KFUNC_CALL_PROG_BTF, JMP_CALL};

    /// A `struct bpf_prog` holding `insns`, freed on drop.
    struct Prog(*mut bindings::bpf_prog);

    impl Prog {
        fn new(insns: &[u8]) -> Result<Self> {
            let len = insns.len() / 8;
            let size = core::mem::offset_of!(bindings::bpf_prog, __bindgen_anon_2) + insns.len();
            // SAFETY: plain allocation; NULL on failure.
            let fp = unsafe { bindings::bpf_prog_alloc(size as u32, 0) };
            if fp.is_null() {
                return Err(ENOMEM);
            }
            // SAFETY: `fp` was just allocated with room for `len` insns after
            // the header; `insnsi` is the flexible array at that offset.
            unsafe {
                (*fp).len = len as u32;
                let dst = (&raw mut (*fp).__bindgen_anon_2).cast::<u8>();
                core::ptr::copy_nonoverlapping(insns.as_ptr(), dst, insns.len());
            }
            Ok(Self(fp))
        }

        fn aux(&self) -> *mut bindings::bpf_prog_aux {
            // SAFETY: `self.0` is a live program made by bpf_prog_alloc().
            unsafe { (*self.0).aux }
        }

        fn verdict(&self) -> u8 {
            // SAFETY: as in `aux()`.
            unsafe { (*self.aux()).sig.verdict }
        }

        fn set_verdict(&self, v: u32) {
            // SAFETY: as in `aux()`; nothing else uses this program.
            unsafe { (*self.aux()).sig.verdict = v as u8 };
        }
    }

    impl Drop for Prog {
        fn drop(&mut self) {
            // SAFETY: never published, so the direct free is the right one.
            unsafe { bindings::__bpf_prog_free(self.0) };
        }
    }

    #[test]
    fn rust_digest_equals_bpf_prog_calc_tag() -> Result {
        let mut programs = TestPrograms(0x2545_f491_4f6c_dd1d);
        for _ in 0..200 {
            let mut insns = programs.next_program(160)?;
            if insns.is_empty() {
                insns.extend_from_slice(&[0x95, 0, 0, 0, 0, 0, 0, 0], GFP_KERNEL)?;
            }
            let len = insns.len() / 8;
            let prog = Prog::new(&insns)?;
            // SAFETY: `prog` is a complete program of `len` insns.
            assert_eq!(unsafe { bindings::bpf_prog_calc_tag(prog.0) }, 0);
            let mut ours = [0u8; 32];
            // SAFETY: `insns` holds `len` instructions; `ours` has 32 bytes.
            unsafe { bpfsig_prog_digest(insns.as_ptr().cast(), len as u32, ours.as_mut_ptr()) };
            // SAFETY: `prog` is live; digest is a plain array.
            let c = unsafe { (*prog.0).__bindgen_anon_1.digest };
            assert!(ours == c);
        }
        Ok(())
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

    /// Runs the exported resolver on `[r0 = 0; call; exit]` with `btf`;
    /// returns its result and the (possibly rewritten) call.
    fn resolve_one(call: [u8; 8], btf: Option<&[u8]>) -> (i32, Insn) {
        let mut insns = [
            [0xb7, 0, 0, 0, 0, 0, 0, 0],
            call,
            [0x95, 0, 0, 0, 0, 0, 0, 0],
        ];
        let (mut bad, mut why) = (0u32, core::ptr::null());
        let (data, size) = btf.map_or((core::ptr::null(), 0), |b| {
            (b.as_ptr().cast(), b.len() as u32)
        });
        // SAFETY: all buffers are live locals of the sizes passed; vmlinux
        // BTF lives for the kernel's lifetime.
        let rc = unsafe {
            bpfsig_resolve_prog_btf_calls(
                insns.as_mut_ptr().cast(),
                3,
                data,
                size,
                bindings::bpf_get_btf_vmlinux(),
                &mut bad,
                &mut why,
            )
        };
        (rc, Insn::from_bytes(insns[1]))
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

    #[test]
    fn resolves_against_the_real_vmlinux_btf() {
        let name = c"bpf_loader_verify_metadata";
        // SAFETY: vmlinux BTF is always valid; `name` is NUL-terminated.
        let want = unsafe {
            bindings::btf_find_by_name_kind(
                bindings::bpf_get_btf_vmlinux(),
                name.as_char_ptr(),
                bindings::BTF_KIND_FUNC as u8,
            )
        };
        assert!(want > 0);
        let (rc, c) = resolve_one(
            call(testvec::LOADER_BTF_FUNC as i32, 0),
            Some(&testvec::LOADER_BTF),
        );
        assert_eq!(rc, 1);
        assert!(c.src_reg == BPF_PSEUDO_KFUNC_CALL && c.imm == want && c.off == 0);
    }

    #[test]
    fn resolution_errors_have_the_spec_errnos() {
        let btf = Some(&testvec::LOADER_BTF[..]);
        let f = testvec::LOADER_BTF_FUNC as i32;
        // Each failure leaves the call as it was.
        let unchanged =
            |c: Insn, imm: i32| c.src_reg == BPF_PSEUDO_KFUNC_CALL_PROG_BTF && c.imm == imm;
        let (rc, c) = resolve_one(call(f, 0), None);
        assert!(rc == EINVAL.to_errno() && unchanged(c, f));
        let (rc, c) = resolve_one(call(f, 1), btf);
        assert!(rc == EINVAL.to_errno() && unchanged(c, f));
        for id in [0, 1, 4, 6, -1] {
            let (rc, c) = resolve_one(call(id, 0), btf);
            assert!(rc == EINVAL.to_errno() && unchanged(c, id));
        }
        let unknown = loader_btf_variant(Some(b"bpf_loader_verify_metadatx"), false);
        let (rc, _) = resolve_one(call(f, 0), Some(&unknown));
        assert_eq!(rc, ENOENT.to_errno());
        let widened = loader_btf_variant(None, true);
        let (rc, _) = resolve_one(call(f, 0), Some(&widened));
        assert_eq!(rc, EINVAL.to_errno());
        // A real vmlinux function with another prototype is a mismatch too.
        let other = loader_btf_variant(Some(b"bpf_prog_calc_tag\0\0\0\0\0\0\0\0\0"), false);
        let (rc, _) = resolve_one(call(f, 0), Some(&other));
        assert_eq!(rc, EINVAL.to_errno());
    }

    /// An array map made by the kernel's array map code, freed on drop.
    struct Map(*mut bindings::bpf_map);

    impl Map {
        fn new() -> Result<Self> {
            // SAFETY: `bpf_attr` is plain data; zero is its "unset" value.
            let mut attr: bindings::bpf_attr = unsafe { core::mem::zeroed() };
            attr.__bindgen_anon_1.map_type = bindings::bpf_map_type_BPF_MAP_TYPE_ARRAY;
            attr.__bindgen_anon_1.key_size = 4;
            attr.__bindgen_anon_1.value_size = 8;
            attr.__bindgen_anon_1.max_entries = 4;
            // SAFETY: `array_map_ops` is the kernel's; `attr` describes a
            // valid array map.
            let map = unsafe { (bindings::array_map_ops.map_alloc.ok_or(EINVAL)?)(&mut attr) };
            if map.is_null() || (map as usize) >= (-4095isize) as usize {
                return Err(ENOMEM);
            }
            // SAFETY: `map` is a new, unshared map; map_create() sets ops too.
            unsafe { (*map).ops = &raw const bindings::array_map_ops };
            Ok(Self(map))
        }

        /// Freezes the map and caches its hash, as BPF_MAP_FREEZE and
        /// BPF_OBJ_GET_INFO_BY_FD would.
        fn freeze_and_hash(&self) -> [u8; 32] {
            // SAFETY: `self.0` is a live, unshared array map.
            unsafe {
                (*self.0).frozen = true;
                let get_hash = bindings::array_map_ops.map_get_hash.unwrap_unchecked();
                get_hash(self.0);
                (*self.0).sha
            }
        }

        fn set_exclusive(&self, on: bool) {
            static NON_NULL: [u8; 32] = [0; 32];
            // SAFETY: `self.0` is live and unshared; the pointer is only
            // tested for NULL (and reset before the map is freed).
            unsafe {
                (*self.0).excl_prog_sha = if on {
                    NON_NULL.as_ptr().cast_mut().cast()
                } else {
                    core::ptr::null_mut()
                }
            };
        }
    }

    impl Drop for Map {
        fn drop(&mut self) {
            self.set_exclusive(false);
            // SAFETY: the map was made by array_map_ops and never published.
            unsafe { (bindings::array_map_ops.map_free.unwrap_unchecked())(self.0) };
        }
    }

    fn kfunc(map: &Map, hash: &[u8], prog: &Prog) -> i32 {
        // SAFETY: all three are live; `hash` has `hash.len()` bytes.
        unsafe {
            bpfsig_loader_verify_metadata(
                map.0,
                hash.as_ptr().cast(),
                hash.len() as u32,
                prog.aux(),
            )
        }
    }

    const VERIFIED: u32 = bindings::bpf_sig_verdict_BPF_SIG_VERIFIED;
    const PROMOTED: u8 = bindings::bpf_sig_verdict_BPF_SIG_METADATA_VERIFIED as u8;

    #[test]
    fn kfunc_promotes_a_signed_loader_with_matching_metadata() -> Result {
        let map = Map::new()?;
        map.set_exclusive(true);
        let sha = map.freeze_and_hash();
        assert!(sha != [0; 32]);
        let prog = Prog::new(&[0x95, 0, 0, 0, 0, 0, 0, 0])?;
        prog.set_verdict(VERIFIED);
        assert_eq!(kfunc(&map, &sha, &prog), 0);
        assert_eq!(prog.verdict(), PROMOTED);
        // Running again is idempotent.
        assert_eq!(kfunc(&map, &sha, &prog), 0);
        assert_eq!(prog.verdict(), PROMOTED);
        Ok(())
    }

    #[test]
    fn kfunc_fails_closed_on_real_maps() -> Result {
        let prog = Prog::new(&[0x95, 0, 0, 0, 0, 0, 0, 0])?;
        prog.set_verdict(VERIFIED);
        let einval = EINVAL.to_errno();

        // Unfrozen: no hash can be cached, the check must still say no.
        let unfrozen = Map::new()?;
        unfrozen.set_exclusive(true);
        // SAFETY: the map is live and unshared.
        let zero = unsafe { (*unfrozen.0).sha };
        assert_eq!(kfunc(&unfrozen, &zero, &prog), einval);

        // Not exclusive.
        let shared = Map::new()?;
        let sha = shared.freeze_and_hash();
        assert_eq!(kfunc(&shared, &sha, &prog), einval);

        // Exclusive and frozen, but one byte of the hash differs, or the
        // size is wrong, or the hash was never computed.
        let map = Map::new()?;
        map.set_exclusive(true);
        let sha = map.freeze_and_hash();
        let mut bad = sha;
        bad[31] ^= 1;
        assert_eq!(kfunc(&map, &bad, &prog), einval);
        assert_eq!(kfunc(&map, &sha[..31], &prog), einval);
        let never = Map::new()?;
        never.set_exclusive(true);
        // SAFETY: the map is live and unshared.
        unsafe { (*never.0).frozen = true };
        assert_eq!(kfunc(&never, &sha, &prog), einval);

        // None of this changed the verdict.
        assert_eq!(u32::from(prog.verdict()), VERIFIED);

        // An unsigned loader passes the checks but is never promoted.
        let unsigned = Prog::new(&[0x95, 0, 0, 0, 0, 0, 0, 0])?;
        assert_eq!(kfunc(&map, &sha, &unsigned), 0);
        assert_eq!(unsigned.verdict(), 0);
        Ok(())
    }
}
