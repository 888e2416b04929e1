// SPDX-License-Identifier: GPL-2.0
//! What a light-skeleton loader does, read from its instructions by shape.
//!
//! libbpf's gen_loader emits a few fixed instruction shapes (see
//! tools/lib/bpf/gen_loader.c): the metadata check, `bpf_sys_bpf(cmd, attr,
//! size)` calls whose `attr` is an offset into the data blob, stores of blob
//! pointers into those attrs, and `bpf_btf_find_by_name_kind()` lookups.
//! Matching these shapes (rather than interpreting the program) is enough to
//! find every `union bpf_attr` image the loader hands to the kernel; what the
//! loader computes at run time is reported as such, never guessed.

use std::collections::BTreeMap;

use bpfsig_core::btf::{Btf, Kind, TypeTable};
use bpfsig_core::insn::{
    Insn, Insns, BPF_PSEUDO_KFUNC_CALL, BPF_PSEUDO_KFUNC_CALL_PROG_BTF, BPF_PSEUDO_MAP_IDX,
    BPF_PSEUDO_MAP_IDX_VALUE, JMP_CALL, LD_IMM64,
};

/// `BPF_STX | BPF_MEM | BPF_DW`.
const STX_DW: u8 = 0x7b;
/// `BPF_STX | BPF_MEM | BPF_W`.
const STX_W: u8 = 0x63;
/// `BPF_LDX | BPF_MEM | BPF_W`.
const LDX_W: u8 = 0x61;
/// `BPF_LDX | BPF_MEM | BPF_DW`.
const LDX_DW: u8 = 0x79;
/// `BPF_ALU64 | BPF_MOV | BPF_K`.
const MOV64_IMM: u8 = 0xb7;
/// `BPF_ALU64 | BPF_MOV | BPF_X`.
const MOV64_REG: u8 = 0xbf;
/// `BPF_ALU64 | BPF_ADD | BPF_K`.
const ADD64_IMM: u8 = 0x07;
/// `BPF_JMP | BPF_JNE | BPF_K`.
const JNE_IMM: u8 = 0x55;
/// `BPF_JMP | BPF_JNE | BPF_X`.
const JNE_REG: u8 = 0x5d;
/// `BPF_FUNC_sys_bpf`.
pub const FUNC_SYS_BPF: i32 = 166;
/// `BPF_FUNC_btf_find_by_name_kind`.
pub const FUNC_BTF_FIND_BY_NAME_KIND: i32 = 167;
/// `BPF_FUNC_copy_from_user`: an unsigned loader's copy of a map's initial
/// value from the skeleton over the blob's.
pub const FUNC_COPY_FROM_USER: i32 = 148;
/// The kfunc of the series' metadata check.
pub const VERIFY_KFUNC: &str = "bpf_loader_verify_metadata";
/// `-EINVAL`, what the inline check puts in R7 before a mismatch jump.
const EINVAL: i32 = -22;
/// Offset of `excl` in `struct bpf_map` (SPEC §0, §9).
const MAP_EXCL_OFF: i16 = 32;
/// Register numbers used by the shapes.
const R1: u8 = 1;
const R2: u8 = 2;
const R3: u8 = 3;
const R4: u8 = 4;
const R7: u8 = 7;
const R10: u8 = 10;

/// Which shape the loader's metadata check has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CheckShape {
    /// The series: `bpf_loader_verify_metadata(map, &hash, 32)` by PROG_BTF call.
    Kfunc,
    /// Linux 7.2: `excl` and the four words of `map->sha` compared inline.
    Inline,
}

impl CheckShape {
    /// Stable name used in the JSON report.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Kfunc => "kfunc",
            Self::Inline => "inline",
        }
    }
}

/// The loader's metadata check and the hash it compares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HashCheck {
    /// Its shape.
    pub shape: CheckShape,
    /// Slot of its first instruction.
    pub first_insn: usize,
    /// The 32 bytes it requires `map->sha` to equal.
    pub hash: [u8; 32],
}

/// A kfunc the loader calls (one entry per distinct `src_reg`/`imm`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KfuncCall {
    /// Slot of its first call.
    pub insn: usize,
    /// Number of calls.
    pub calls: usize,
    /// The call's `src_reg` (2: vmlinux id, 3: id in the loader's BTF).
    pub src_reg: u8,
    /// The call's `imm`.
    pub btf_id: i32,
    /// The FUNC's name when it resolves in the loader's BTF.
    pub name: Option<String>,
}

/// One `bpf_sys_bpf(cmd, attr, size)` call of the loader.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SysBpf {
    /// Slot of the call.
    pub insn: usize,
    /// The command (`BPF_MAP_CREATE`, ...).
    pub cmd: i32,
    /// Offset of the attr image in the data blob.
    pub attr_off: u32,
    /// Its size.
    pub attr_size: i32,
}

/// A `bpf_btf_find_by_name_kind(name, len, kind, 0)` lookup.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NameLookup {
    /// Slot of the call.
    pub insn: usize,
    /// Offset of the name in the blob.
    pub name_off: u32,
    /// Length passed (including the NUL).
    pub len: i32,
    /// BTF kind looked for.
    pub kind: i32,
}

/// A 4- or 8-byte copy into the blob done by the loader at run time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlobStore {
    /// Slot of the store.
    pub insn: usize,
    /// Blob offset written.
    pub dst: u32,
    /// What is written.
    pub src: StoreSrc,
}

/// Where a [`BlobStore`] takes its value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoreSrc {
    /// The address of blob offset N (`emit_rel_store`: a pointer in an attr).
    BlobAddr(u32),
    /// The 4 bytes at blob offset N (`move_blob2blob`, e.g. a map fd).
    BlobValue(u32),
    /// R7, the result of the last call (a new fd, or a BTF id found).
    Result,
    /// Anything else (stack or context values).
    Other,
}

/// Everything read from a loader's instructions.
#[derive(Clone, Debug, Default)]
pub struct Loader {
    /// Number of 8-byte slots.
    pub insn_count: usize,
    /// The metadata check, if one of the known shapes is there.
    pub check: Option<HashCheck>,
    /// Kfuncs called, in order of first call.
    pub kfuncs: Vec<KfuncCall>,
    /// Slots of the calls to [`VERIFY_KFUNC`].
    pub verify_calls: Vec<usize>,
    /// `bpf_sys_bpf()` calls in program order.
    pub sys_bpf: Vec<SysBpf>,
    /// `bpf_btf_find_by_name_kind()` lookups in program order.
    pub lookups: Vec<NameLookup>,
    /// Stores into the blob in program order.
    pub stores: Vec<BlobStore>,
    /// Blob offsets the loader overwrites at run time with data from the
    /// skeleton's caller (`bpf_copy_from_user()` of a map's initial value).
    pub runtime_values: Vec<u32>,
}

/// Instruction access by slot, `None` past the end.
struct View<'a>(Insns<'a>);

impl View<'_> {
    fn at(&self, i: usize) -> Option<Insn> {
        self.0.get(i)
    }

    /// Slot `i` minus `back`, if it exists.
    fn before(&self, i: usize, back: usize) -> Option<Insn> {
        self.at(i.checked_sub(back)?)
    }

    /// The `ld_imm64` at `i` into `dst` with this `src_reg`: (imm, second imm).
    fn ld_imm64(&self, i: usize, dst: u8, src: u8) -> Option<(i32, i32)> {
        let a = self.at(i)?;
        let b = self.at(i.checked_add(1)?)?;
        let second_ok = b.code == 0 && b.dst_reg == 0 && b.src_reg == 0 && b.off == 0;
        (a.code == LD_IMM64 && a.dst_reg == dst && a.src_reg == src && a.off == 0 && second_ok)
            .then_some((a.imm, b.imm))
    }

    /// `ld_imm64 dst, map_value(fd_array[0]) + off`: the blob offset `off`.
    fn blob_addr(&self, i: usize, dst: u8) -> Option<u32> {
        let (idx, off) = self.ld_imm64(i, dst, BPF_PSEUDO_MAP_IDX_VALUE)?;
        (idx == 0).then(|| u32::try_from(off).ok())?
    }

    /// `mov64 dst, imm`.
    fn mov_imm(&self, i: usize, dst: u8) -> Option<i32> {
        let x = self.at(i)?;
        (x.code == MOV64_IMM && x.dst_reg == dst && x.src_reg == 0 && x.off == 0).then_some(x.imm)
    }

    fn is(&self, i: usize, code: u8, dst: u8, src: u8, off: i16) -> Option<Insn> {
        let x = self.at(i)?;
        (x.code == code && x.dst_reg == dst && x.src_reg == src && x.off == off).then_some(x)
    }
}

fn imm64(lo: i32, hi: i32) -> u64 {
    let lo = u32::from_ne_bytes(lo.to_ne_bytes());
    let hi = u32::from_ne_bytes(hi.to_ne_bytes());
    u64::from(lo) | (u64::from(hi) << 32)
}

/// Reads a loader. `btf` is its own BTF when the header has one.
pub fn analyze(insns: Insns<'_>, btf: Option<&Btf<'_>>) -> Loader {
    let v = View(insns);
    let mut l = Loader {
        insn_count: insns.len(),
        ..Loader::default()
    };
    // Each distinct kfunc is resolved once, however often it is called.
    let mut seen = BTreeMap::new();
    for (i, x) in insns.iter().enumerate() {
        if x.code == JMP_CALL {
            call(&v, i, x, btf, &mut seen, &mut l);
        } else if let Some(s) = store(&v, i, x) {
            l.stores.push(s);
        }
    }
    l.check = l
        .verify_calls
        .iter()
        .find_map(|&c| kfunc_check(&v, c))
        .or_else(|| (0..insns.len()).find_map(|i| inline_check(&v, i)));
    l
}

fn call(
    v: &View<'_>,
    i: usize,
    x: Insn,
    btf: Option<&Btf<'_>>,
    seen: &mut BTreeMap<(u8, i32), (usize, bool)>,
    l: &mut Loader,
) {
    match x.src_reg {
        BPF_PSEUDO_KFUNC_CALL | BPF_PSEUDO_KFUNC_CALL_PROG_BTF => {
            let (at, is_verify) = *seen.entry((x.src_reg, x.imm)).or_insert_with(|| {
                let name = (x.src_reg == BPF_PSEUDO_KFUNC_CALL_PROG_BTF)
                    .then(|| func_name(btf?, x.imm))
                    .flatten();
                let is_verify = name.as_deref() == Some(VERIFY_KFUNC);
                l.kfuncs.push(KfuncCall {
                    insn: i,
                    calls: 0,
                    src_reg: x.src_reg,
                    btf_id: x.imm,
                    name,
                });
                (l.kfuncs.len().saturating_sub(1), is_verify)
            });
            if let Some(k) = l.kfuncs.get_mut(at) {
                k.calls = k.calls.saturating_add(1);
            }
            if is_verify {
                l.verify_calls.push(i);
            }
        }
        0 if x.imm == FUNC_SYS_BPF => {
            let found = (|| {
                let attr_size = v.mov_imm(i.checked_sub(1)?, R3)?;
                let attr_off = v.blob_addr(i.checked_sub(3)?, R2)?;
                let cmd = v.mov_imm(i.checked_sub(4)?, R1)?;
                Some(SysBpf {
                    insn: i,
                    cmd,
                    attr_off,
                    attr_size,
                })
            })();
            l.sys_bpf.extend(found);
        }
        // r1 = blob + value; r2 = size; r0 = ctx->flags; if kernel skip; call
        0 if x.imm == FUNC_COPY_FROM_USER => {
            l.runtime_values
                .extend(i.checked_sub(5).and_then(|j| v.blob_addr(j, R1)));
        }
        0 if x.imm == FUNC_BTF_FIND_BY_NAME_KIND => {
            let found = (|| {
                (v.mov_imm(i.checked_sub(1)?, R4)? == 0).then_some(())?;
                let kind = v.mov_imm(i.checked_sub(2)?, R3)?;
                let len = v.mov_imm(i.checked_sub(3)?, R2)?;
                let name_off = v.blob_addr(i.checked_sub(5)?, R1)?;
                Some(NameLookup {
                    insn: i,
                    name_off,
                    len,
                    kind,
                })
            })();
            l.lookups.extend(found);
        }
        _ => {}
    }
}

/// The FUNC named by a PROG_BTF call.
fn func_name(btf: &Btf<'_>, id: i32) -> Option<String> {
    let t = btf.type_by_id(u32::try_from(id).ok()?).ok()?;
    if t.kind != Kind::Func {
        return None;
    }
    let n = btf.name_by_offset(t.name_off).ok()?;
    Some(String::from_utf8_lossy(n).into_owned())
}

/// A store into the blob: `stx [rX + off] = rY` right after `ld_imm64 rX,
/// blob + N` (N + off is the destination).
fn store(v: &View<'_>, i: usize, x: Insn) -> Option<BlobStore> {
    if x.code != STX_DW && x.code != STX_W {
        return None;
    }
    let base = v.blob_addr(i.checked_sub(2)?, x.dst_reg)?;
    let dst = base.checked_add(u32::try_from(x.off).ok()?)?;
    let src = if x.src_reg == R7 {
        StoreSrc::Result
    } else if let Some(p) = i
        .checked_sub(4)
        .and_then(|j| v.blob_addr(j, x.src_reg))
        .filter(|_| x.code == STX_DW)
    {
        StoreSrc::BlobAddr(p)
    } else if let Some(p) = (|| {
        let ld = v.before(i, 3)?;
        let ok = ld.code == LDX_W && ld.dst_reg == x.src_reg && ld.off == 0;
        ok.then(|| v.blob_addr(i.checked_sub(5)?, ld.src_reg))?
    })()
    .filter(|_| x.code == STX_W)
    {
        StoreSrc::BlobValue(p)
    } else {
        StoreSrc::Other
    };
    Some(BlobStore { insn: i, dst, src })
}

/// The series' shape, ending with the call at `c`:
///
/// ```text
/// 4x { r3 = imm64 (ld_imm64, src 0); *(u64 *)(r10 + H + 8k) = r3 }
/// r1 = map fd_array[0] (ld_imm64, BPF_PSEUDO_MAP_IDX)
/// r2 = r10; r2 += H; r3 = 32
/// call bpf_loader_verify_metadata (BPF_PSEUDO_KFUNC_CALL_PROG_BTF)
/// ```
fn kfunc_check(v: &View<'_>, c: usize) -> Option<HashCheck> {
    (v.mov_imm(c.checked_sub(1)?, R3)? == 32).then_some(())?;
    let h = v.is(c.checked_sub(2)?, ADD64_IMM, R2, 0, 0)?.imm;
    v.is(c.checked_sub(3)?, MOV64_REG, R2, R10, 0)?;
    let (map, _) = v.ld_imm64(c.checked_sub(5)?, R1, BPF_PSEUDO_MAP_IDX)?;
    (map == 0).then_some(())?;
    let mut words = [None; 4];
    for k in 0..4usize {
        // Group k (of 4) ends 3 * (4 - k) slots before the map load.
        let stx_at = c
            .checked_sub(6)?
            .checked_sub(3usize.checked_mul(3usize.checked_sub(k)?)?)?;
        let stx = v.at(stx_at)?;
        if stx.code != STX_DW || stx.dst_reg != R10 || stx.src_reg != R3 {
            return None;
        }
        let (lo, hi) = v.ld_imm64(stx_at.checked_sub(2)?, R3, 0)?;
        let rel = i32::from(stx.off).checked_sub(h)?;
        let slot = usize::try_from(rel).ok().filter(|r| r % 8 == 0)? / 8;
        words
            .get_mut(slot)?
            .replace(imm64(lo, hi))
            .is_none()
            .then_some(())?;
    }
    Some(HashCheck {
        shape: CheckShape::Kfunc,
        first_insn: c.checked_sub(17)?,
        hash: hash_from_words(words)?,
    })
}

/// Linux 7.2's shape starting at `s` (33 slots):
///
/// ```text
/// r1 = map fd_array[0]; r2 = *(u32 *)(r1 + 32); r7 = -EINVAL; if r2 != 1 goto cleanup
/// 4x { r1 = map fd_array[0]; r2 = *(u64 *)(r1 + 8k); r3 = imm64;
///      r7 = -EINVAL; if r2 != r3 goto cleanup }
/// ```
fn inline_check(v: &View<'_>, s: usize) -> Option<HashCheck> {
    let map0 = |i: usize| {
        v.ld_imm64(i, R1, BPF_PSEUDO_MAP_IDX)
            .filter(|&(m, _)| m == 0)
    };
    map0(s)?;
    v.is(s.checked_add(2)?, LDX_W, R2, R1, MAP_EXCL_OFF)?;
    (v.mov_imm(s.checked_add(3)?, R7)? == EINVAL).then_some(())?;
    let j = v.at(s.checked_add(4)?)?;
    (j.code == JNE_IMM && j.dst_reg == R2 && j.src_reg == 0 && j.imm == 1).then_some(())?;
    let mut words = [None; 4];
    let mut at = s.checked_add(5)?;
    for _ in 0..4 {
        map0(at)?;
        let ld = v.at(at.checked_add(2)?)?;
        if ld.code != LDX_DW || ld.dst_reg != R2 || ld.src_reg != R1 {
            return None;
        }
        let (lo, hi) = v.ld_imm64(at.checked_add(3)?, R3, 0)?;
        (v.mov_imm(at.checked_add(5)?, R7)? == EINVAL).then_some(())?;
        let j = v.at(at.checked_add(6)?)?;
        (j.code == JNE_REG && j.dst_reg == R2 && j.src_reg == R3).then_some(())?;
        let slot = usize::try_from(ld.off).ok().filter(|o| o % 8 == 0)? / 8;
        words
            .get_mut(slot)?
            .replace(imm64(lo, hi))
            .is_none()
            .then_some(())?;
        at = at.checked_add(7)?;
    }
    Some(HashCheck {
        shape: CheckShape::Inline,
        first_insn: s,
        hash: hash_from_words(words)?,
    })
}

/// The 32 bytes four native-order words make in memory, as the kernel
/// compares them with `map->sha`.
fn hash_from_words(words: [Option<u64>; 4]) -> Option<[u8; 32]> {
    let mut h = [0u8; 32];
    for (chunk, w) in h.chunks_exact_mut(8).zip(words) {
        chunk.copy_from_slice(&w?.to_ne_bytes());
    }
    Some(h)
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects
)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn ins(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> Insn {
        Insn {
            code,
            dst_reg: dst,
            src_reg: src,
            off,
            imm,
        }
    }

    pub(crate) fn ld64(dst: u8, src: u8, imm: i32, imm2: i32) -> [Insn; 2] {
        [ins(LD_IMM64, dst, src, 0, imm), ins(0, 0, 0, 0, imm2)]
    }

    pub(crate) fn bytes(v: &[Insn]) -> Vec<u8> {
        v.iter().flat_map(|i| i.to_bytes()).collect()
    }

    fn words(hash: &[u8; 32]) -> [(i32, i32); 4] {
        core::array::from_fn(|k| {
            let w = u64::from_ne_bytes(hash[8 * k..8 * k + 8].try_into().unwrap());
            (w as u32 as i32, (w >> 32) as u32 as i32)
        })
    }

    /// The series' check as gen_loader emits it (hash at r10 - 96).
    pub(crate) fn kfunc_shape(hash: &[u8; 32], func_id: i32) -> Vec<Insn> {
        let h = -96;
        let mut v = vec![];
        for (k, (lo, hi)) in words(hash).into_iter().enumerate() {
            v.extend(ld64(R3, 0, lo, hi));
            v.push(ins(STX_DW, R10, R3, (h + 8 * k as i32) as i16, 0));
        }
        v.extend(ld64(R1, BPF_PSEUDO_MAP_IDX, 0, 0));
        v.push(ins(MOV64_REG, R2, R10, 0, 0));
        v.push(ins(ADD64_IMM, R2, 0, 0, h));
        v.push(ins(MOV64_IMM, R3, 0, 0, 32));
        v.push(ins(JMP_CALL, 0, BPF_PSEUDO_KFUNC_CALL_PROG_BTF, 0, func_id));
        v
    }

    /// 7.2's inline check.
    pub(crate) fn inline_shape(hash: &[u8; 32]) -> Vec<Insn> {
        let mut v = vec![];
        v.extend(ld64(R1, BPF_PSEUDO_MAP_IDX, 0, 0));
        v.push(ins(LDX_W, R2, R1, 32, 0));
        v.push(ins(MOV64_IMM, R7, 0, 0, EINVAL));
        v.push(ins(JNE_IMM, R2, 0, 100, 1));
        for (k, (lo, hi)) in words(hash).into_iter().enumerate() {
            v.extend(ld64(R1, BPF_PSEUDO_MAP_IDX, 0, 0));
            v.push(ins(LDX_DW, R2, R1, 8 * k as i16, 0));
            v.extend(ld64(R3, 0, lo, hi));
            v.push(ins(MOV64_IMM, R7, 0, 0, EINVAL));
            v.push(ins(JNE_REG, R2, R3, 90, 0));
        }
        v
    }

    #[test]
    fn finds_the_inline_check() {
        let hash: [u8; 32] = core::array::from_fn(|i| i as u8 + 1);
        let mut prog = vec![ins(MOV64_IMM, 0, 0, 0, 0)];
        prog.extend(inline_shape(&hash));
        assert_eq!(inline_shape(&hash).len(), 33);
        let b = bytes(&prog);
        let l = analyze(Insns::new(&b).unwrap(), None);
        let c = l.check.unwrap();
        assert_eq!(
            (c.shape, c.first_insn, c.hash),
            (CheckShape::Inline, 1, hash)
        );
    }

    #[test]
    fn finds_the_kfunc_check_through_the_loader_btf() {
        let (btf_raw, func_id) = bpfsig_testkit::loader_btf();
        let mut idx = vec![0; bpfsig_core::btf::index_len(&btf_raw).unwrap()];
        let btf = Btf::parse(&btf_raw, &mut idx).unwrap();
        let hash: [u8; 32] = core::array::from_fn(|i| 0xa0 ^ i as u8);
        let mut prog = vec![ins(MOV64_IMM, 0, 0, 0, 0); 3];
        prog.extend(kfunc_shape(&hash, func_id as i32));
        let b = bytes(&prog);
        let l = analyze(Insns::new(&b).unwrap(), Some(&btf));
        let c = l.check.unwrap();
        assert_eq!(
            (c.shape, c.first_insn, c.hash),
            (CheckShape::Kfunc, 3, hash)
        );
        assert_eq!(l.kfuncs.len(), 1);
        assert_eq!(l.kfuncs[0].name.as_deref(), Some(VERIFY_KFUNC));
        // Without the BTF the call names nothing, so there is no check.
        assert!(analyze(Insns::new(&b).unwrap(), None).check.is_none());
        // A hash word stored at the wrong offset breaks the shape.
        let mut bad = prog.clone();
        bad[3 + 2].off += 8;
        let b = bytes(&bad);
        assert!(analyze(Insns::new(&b).unwrap(), Some(&btf)).check.is_none());
    }

    #[test]
    fn a_broken_inline_check_is_not_found() {
        let hash = [7u8; 32];
        let mut prog = inline_shape(&hash);
        prog[3].imm = 0; // r7 = 0 instead of -EINVAL
        let b = bytes(&prog);
        assert!(analyze(Insns::new(&b).unwrap(), None).check.is_none());
    }

    #[test]
    fn sys_bpf_and_stores() {
        let mut p = vec![];
        p.push(ins(MOV64_IMM, R1, 0, 0, 5));
        p.extend(ld64(R2, BPF_PSEUDO_MAP_IDX_VALUE, 0, 1280));
        p.push(ins(MOV64_IMM, R3, 0, 0, 140));
        p.push(ins(JMP_CALL, 0, 0, 0, FUNC_SYS_BPF));
        p.extend(ld64(0, BPF_PSEUDO_MAP_IDX_VALUE, 0, 1000));
        p.extend(ld64(R1, BPF_PSEUDO_MAP_IDX_VALUE, 0, 1288));
        p.push(ins(STX_DW, R1, 0, 0, 0));
        let b = bytes(&p);
        let l = analyze(Insns::new(&b).unwrap(), None);
        assert_eq!(
            l.sys_bpf,
            vec![SysBpf {
                insn: 4,
                cmd: 5,
                attr_off: 1280,
                attr_size: 140
            }]
        );
        assert_eq!(l.stores[0].dst, 1288);
        assert!(l.runtime_values.is_empty());
        // An unsigned loader's copy of an initial value from the caller.
        let mut p = ld64(R1, BPF_PSEUDO_MAP_IDX_VALUE, 0, 1400).to_vec();
        p.push(ins(MOV64_IMM, R2, 0, 0, 8));
        p.push(ins(LDX_W, 0, 6, 4, 0));
        p.push(ins(0x45, 0, 0, 2, 1));
        p.push(ins(JMP_CALL, 0, 0, 0, FUNC_COPY_FROM_USER));
        let b = bytes(&p);
        assert_eq!(
            analyze(Insns::new(&b).unwrap(), None).runtime_values,
            [1400]
        );
        assert_eq!(l.stores[0].src, StoreSrc::BlobAddr(1000));
    }
}
