// SPDX-License-Identifier: GPL-2.0
//! Shared by the integration tests: a stand-in for vmlinux BTF.
#![allow(dead_code, unused_imports, clippy::arithmetic_side_effects)]

use bpfsig_core::btf::{index_len, Btf, BtfError, Kind, Type, TypeTable};
use bpfsig_core::resolve::KernelBtf;

/// Parses `data` with an index of the size the header asks for; its type count.
pub fn parse(data: &[u8]) -> Result<u32, BtfError> {
    let mut idx = vec![0u32; index_len(data)?];
    Btf::parse(data, &mut idx).map(|b| b.type_count())
}

/// `prog_digest` of a copy of `p`, checking that it leaves the copy as it was.
pub fn digest(p: &[u8]) -> [u8; 32] {
    digest_n::<{ bpfsig_core::digest::SAVED_LOADS }>(p)
}

/// [`digest`] with stretches of `N` imms.
pub fn digest_n<const N: usize>(p: &[u8]) -> [u8; 32] {
    let mut copy = p.to_vec();
    let d = bpfsig_core::digest::prog_digest_batched::<_, N>(
        &mut bpfsig_core::insn::InsnsMut::new(&mut copy).unwrap(),
        HostSha::default(),
    );
    assert_eq!(copy, p, "prog_digest did not restore the program (N = {N})");
    d
}

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

    /// The stand-in's loader kfunc set: the FUNC of the loader's kfunc name.
    fn is_loader_kfunc(&self, id: u32) -> bool {
        self.btf
            .type_by_id(id)
            .and_then(|t| self.btf.name_by_offset(t.name_off))
            .is_ok_and(|n| n == b"bpf_loader_verify_metadata")
    }
}

pub use bpfsig_testkit::fake_vmlinux_btf as vmlinux;

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

/// Resolves `p`'s PROG_BTF calls with `prog_btf` (raw) against the stand-in
/// vmlinux, with `slots` scratch slots (default: one per call); returns the
/// result and how many vmlinux lookups it made.
pub fn resolve(
    p: &mut [u8],
    prog_btf: Option<&[u8]>,
    slots: Option<usize>,
) -> (Result<usize, bpfsig_core::resolve::ResolveError>, usize) {
    let (kdata, _) = vmlinux();
    let mut kidx = vec![0u32; bpfsig_core::btf::index_len(&kdata).unwrap()];
    let kernel = FakeKernel {
        btf: Btf::parse(&kdata, &mut kidx).unwrap(),
        lookups: 0.into(),
    };
    let mut pidx = vec![0u32; prog_btf.map_or(0, |d| bpfsig_core::btf::index_len(d).unwrap())];
    let pbtf = prog_btf.map(|d| Btf::parse(d, &mut pidx).unwrap());
    let mut scratch = match slots {
        Some(n) => vec![(0, 0); n],
        None => bpfsig_testkit::call_slots(p),
    };
    let r = bpfsig_core::resolve::resolve_prog_btf_calls(
        &mut bpfsig_core::insn::InsnsMut::new(p).unwrap(),
        pbtf.as_ref(),
        &kernel,
        &mut scratch,
    );
    (r, kernel.lookups.get())
}
