// SPDX-License-Identifier: GPL-2.0
//! Host-only helpers shared by bpfsig's tests, fuzz targets and benchmarks.
//!
//! Independent of `bpfsig-core` on purpose: the references here must not reuse
//! the code they check.

use sha2::{Digest, Sha256};

/// BTF kind numbers.
pub mod kind {
    #![allow(missing_docs)]
    pub const INT: u32 = 1;
    pub const PTR: u32 = 2;
    pub const ARRAY: u32 = 3;
    pub const STRUCT: u32 = 4;
    pub const ENUM: u32 = 6;
    pub const TYPEDEF: u32 = 8;
    pub const VOLATILE: u32 = 9;
    pub const CONST: u32 = 10;
    pub const FUNC: u32 = 12;
    pub const FUNC_PROTO: u32 = 13;
    pub const FLOAT: u32 = 16;
}

/// Builds raw BTF (native byte order), the way libbpf's writer lays it out.
#[derive(Clone, Debug)]
pub struct BtfBuilder {
    types: Vec<u8>,
    strings: Vec<u8>,
    count: u32,
}

impl Default for BtfBuilder {
    fn default() -> Self {
        Self {
            types: Vec::new(),
            strings: vec![0],
            count: 0,
        }
    }
}

impl BtfBuilder {
    /// An empty BTF (only the empty string).
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a string; returns its offset ("" is offset 0).
    pub fn string(&mut self, s: &str) -> u32 {
        if s.is_empty() {
            return 0;
        }
        let off = self.strings.len() as u32;
        self.strings.extend_from_slice(s.as_bytes());
        self.strings.push(0);
        off
    }

    /// Adds a raw type; returns its id.
    pub fn raw(
        &mut self,
        name: &str,
        kind: u32,
        vlen: u32,
        size_or_type: u32,
        extra: &[u8],
    ) -> u32 {
        let name_off = self.string(name);
        let info = (kind << 24) | (vlen & 0x00ff_ffff);
        for w in [name_off, info, size_or_type] {
            self.types.extend_from_slice(&w.to_ne_bytes());
        }
        self.types.extend_from_slice(extra);
        self.count += 1;
        self.count
    }

    /// `int`-like: `size` bytes, signed or not.
    pub fn int(&mut self, name: &str, size: u32, signed: bool) -> u32 {
        let enc = (u32::from(signed) << 24) | (size * 8);
        self.raw(name, kind::INT, 0, size, &enc.to_ne_bytes())
    }

    /// A pointer to `to` (0 = void).
    pub fn ptr(&mut self, to: u32) -> u32 {
        self.raw("", kind::PTR, 0, to, &[])
    }

    /// A typedef, const, volatile... of `to`.
    pub fn modifier(&mut self, kind: u32, name: &str, to: u32) -> u32 {
        self.raw(name, kind, 0, to, &[])
    }

    /// A FUNC_PROTO returning `ret` with `(name, type)` params.
    pub fn proto(&mut self, ret: u32, params: &[(&str, u32)]) -> u32 {
        let mut extra = Vec::new();
        for (n, t) in params {
            let off = self.string(n);
            extra.extend_from_slice(&off.to_ne_bytes());
            extra.extend_from_slice(&t.to_ne_bytes());
        }
        self.raw("", kind::FUNC_PROTO, params.len() as u32, ret, &extra)
    }

    /// A global FUNC named `name` with prototype `proto`.
    pub fn func(&mut self, name: &str, proto: u32) -> u32 {
        self.raw(name, kind::FUNC, 1, proto, &[])
    }

    /// The BTF blob: header, types, strings.
    pub fn finish(&self) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(&0xeb9fu16.to_ne_bytes());
        out.push(1);
        out.push(0);
        let tl = self.types.len() as u32;
        for w in [24u32, 0, tl, tl, self.strings.len() as u32] {
            out.extend_from_slice(&w.to_ne_bytes());
        }
        out.extend_from_slice(&self.types);
        out.extend_from_slice(&self.strings);
        out
    }
}

/// The BTF a bpfsig loader carries (SPEC §6): `int`, `u32`, `void *`, the
/// prototype `int (void *map, void *hash, u32 hash__sz)` and the global FUNC
/// `bpf_loader_verify_metadata`. Returns the blob and the FUNC's id.
pub fn loader_btf() -> (Vec<u8>, u32) {
    let mut b = BtfBuilder::new();
    let int = b.int("int", 4, true);
    let u32_ = b.int("u32", 4, false);
    let vptr = b.ptr(0);
    let proto = b.proto(int, &[("map", vptr), ("hash", vptr), ("hash__sz", u32_)]);
    let func = b.func("bpf_loader_verify_metadata", proto);
    (b.finish(), func)
}

/// vmlinux-like BTF for tests and fuzzing: filler types, then the kfunc with its BPF-visible
/// prototype (the `aux` argument is implicit), and some near misses.
pub fn fake_vmlinux_btf() -> (Vec<u8>, u32) {
    let mut b = BtfBuilder::new();
    for i in 0..40 {
        b.int(&format!("filler{i}"), 8, false);
    }
    let int = b.int("int", 4, true);
    let uint = b.int("unsigned int", 4, false);
    let u32_ = b.modifier(kind::TYPEDEF, "u32", uint);
    let map = b.raw("bpf_map", kind::STRUCT, 0, 0, &[]);
    let pmap = b.ptr(map);
    let cvoid = b.modifier(kind::CONST, "", 0);
    let pcvoid = b.ptr(cvoid);
    let p = b.proto(
        int,
        &[("map__map", pmap), ("hash", pcvoid), ("hash__sz", u32_)],
    );
    let f = b.func("bpf_loader_verify_metadata", p);
    let u64_ = b.int("u64", 8, false);
    let p2 = b.proto(int, &[("map", pmap), ("hash", pcvoid), ("hash__sz", u64_)]);
    b.func("wide_size", p2);
    let p3 = b.proto(int, &[("map", pmap), ("hash", pcvoid)]);
    b.func("two_args", p3);
    let p4 = b.proto(pmap, &[("map", pmap), ("hash", pcvoid), ("hash__sz", u32_)]);
    b.func("returns_ptr", p4);
    let p5 = b.proto(int, &[("map", pmap), ("hash", u64_), ("hash__sz", u32_)]);
    b.func("scalar_for_ptr", p5);
    // The loader's prototype exactly, but not a loader kfunc.
    b.func("same_shape", p);
    (b.finish(), f)
}

/// Encodes one instruction (x86 layout: dst in the low nibble).
pub fn insn(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> [u8; 8] {
    let mut b = [0u8; 8];
    b[0] = code;
    b[1] = (dst & 0xf) | (src << 4);
    b[2..4].copy_from_slice(&off.to_ne_bytes());
    b[4..8].copy_from_slice(&imm.to_ne_bytes());
    b
}

/// 7.2's `bpf_prog_calc_tag()` transcribed naively: copy the program, zero
/// the imms of map-fd/map-value `ld_imm64`s, hash the copy.
pub fn naive_digest(prog: &[u8]) -> [u8; 32] {
    let mut copy = prog.to_vec();
    let mut was_ld_map = false;
    for slot in copy.chunks_exact_mut(8) {
        let (code, dst, src) = (slot[0], slot[1] & 0xf, slot[1] >> 4);
        let off = i16::from_ne_bytes([slot[2], slot[3]]);
        if !was_ld_map && code == 0x18 && (src == 1 || src == 2) {
            was_ld_map = true;
            slot[4..8].fill(0);
        } else if was_ld_map && code == 0 && dst == 0 && src == 0 && off == 0 {
            was_ld_map = false;
            slot[4..8].fill(0);
        } else {
            was_ld_map = false;
        }
    }
    Sha256::digest(&copy).into()
}

/// Scratch space for `resolve_prog_btf_calls`: one `CallSlot` per PROG_BTF
/// call (`BPF_JMP | BPF_CALL`, src_reg 3), counted independently of the core.
pub fn call_slots(prog: &[u8]) -> Vec<(u32, u32)> {
    let n = prog
        .chunks_exact(8)
        .filter(|s| s[0] == 0x85 && s[1] >> 4 == 3)
        .count();
    vec![(0, 0); n]
}
