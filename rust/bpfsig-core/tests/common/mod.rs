// SPDX-License-Identifier: GPL-2.0
//! Shared by the integration tests: a stand-in for vmlinux BTF.
#![allow(dead_code)]

use bpfsig_core::btf::{Btf, BtfError, Kind, Type, TypeTable};
use bpfsig_core::resolve::KernelBtf;
use bpfsig_testkit::{kind, BtfBuilder};

/// A stand-in for vmlinux: a Btf plus a by-name lookup that counts its calls.
pub struct FakeKernel<'a> {
    pub btf: Btf<'a>,
    pub lookups: std::cell::Cell<usize>,
}

impl TypeTable for FakeKernel<'_> {
    fn type_by_id(&self, id: u32) -> Result<Type<'_>, BtfError> {
        self.btf.type_by_id(id)
    }
    fn name_by_offset(&self, off: u32) -> Result<&[u8], BtfError> {
        self.btf.name_by_offset(off)
    }
}

impl KernelBtf for FakeKernel<'_> {
    fn find_func(&self, name: &[u8]) -> Option<u32> {
        self.lookups.set(self.lookups.get() + 1);
        self.btf
            .types()
            .find(|(_, t)| {
                t.kind == Kind::Func && self.btf.name_by_offset(t.name_off).ok() == Some(name)
            })
            .map(|(id, _)| id)
    }
}

/// vmlinux-like BTF: filler types, then the kfunc with its BPF-visible
/// prototype (the `aux` argument is implicit), and some near misses.
pub fn vmlinux() -> (Vec<u8>, u32) {
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
    (b.finish(), f)
}

/// The host SHA-256 backend (the crate's own impl is behind its `sha2` feature).
#[derive(Default)]
pub struct HostSha(sha2::Sha256);

impl bpfsig_core::sha256::Sha256 for HostSha {
    fn update(&mut self, data: &[u8]) {
        sha2::Digest::update(&mut self.0, data);
    }
    fn finish(self) -> [u8; 32] {
        sha2::Digest::finalize(self.0).into()
    }
}
