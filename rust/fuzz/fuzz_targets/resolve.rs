// SPDX-License-Identifier: GPL-2.0
//! Any program and any program BTF against a fixed vmlinux-like BTF: the
//! resolver must not panic, must be all-or-nothing, and must leave no
//! PROG_BTF call behind on success.
//!
//! Input: byte 0 = number of instructions (mod 32), then the instructions,
//! then the program BTF (absent if byte 0 is odd and nothing follows).
#![no_main]

use bpfsig_core::btf::{index_len, Btf, BtfError, Kind, Type, TypeTable};
use bpfsig_core::insn::{Insns, InsnsMut};
use bpfsig_core::resolve::{resolve_prog_btf_calls, KernelBtf};
use libfuzzer_sys::fuzz_target;

struct Kernel<'a>(Btf<'a>);

impl TypeTable for Kernel<'_> {
    fn type_by_id(&self, id: u32) -> Result<Type<'_>, BtfError> {
        self.0.type_by_id(id)
    }
    fn name_by_offset(&self, off: u32) -> Result<&[u8], BtfError> {
        self.0.name_by_offset(off)
    }
}

impl KernelBtf for Kernel<'_> {
    fn find_func(&self, name: &[u8]) -> Option<u32> {
        self.0
            .types()
            .find(|(_, t)| {
                t.kind == Kind::Func && self.0.name_by_offset(t.name_off).ok() == Some(name)
            })
            .map(|(id, _)| id)
    }
    fn is_loader_kfunc(&self, id: u32) -> bool {
        self.0
            .type_by_id(id)
            .and_then(|t| self.0.name_by_offset(t.name_off))
            .is_ok_and(|n| n == b"bpf_loader_verify_metadata")
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&n, rest)) = data.split_first() else {
        return;
    };
    let len = usize::from(n % 32) * 8;
    if rest.len() < len {
        return;
    }
    let (prog, btf_bytes) = rest.split_at(len);
    let mut prog = prog.to_vec();
    let before = prog.clone();

    let (kdata, _) = bpfsig_testkit::fake_vmlinux_btf();
    let mut kidx = vec![0u32; index_len(&kdata).unwrap()];
    let kernel = Kernel(Btf::parse(&kdata, &mut kidx).unwrap());
    let mut pidx = vec![0u32; index_len(btf_bytes).unwrap_or(0)];
    let pbtf = Btf::parse(btf_bytes, &mut pidx).ok();

    let calls = Insns::new(&before)
        .unwrap()
        .iter()
        .filter(|i| i.is_prog_btf_kfunc_call())
        .count();
    let mut scratch = bpfsig_testkit::call_slots(&prog);
    match resolve_prog_btf_calls(
        &mut InsnsMut::new(&mut prog).unwrap(),
        pbtf.as_ref(),
        &kernel,
        &mut scratch,
    ) {
        Ok(k) => {
            assert_eq!(k, calls);
            assert!(Insns::new(&prog)
                .unwrap()
                .iter()
                .all(|i| !i.is_prog_btf_kfunc_call()));
        }
        Err(e) => {
            assert_eq!(prog, before);
            assert!(matches!(e.to_errno(), -22 | -2 | -13));
        }
    }
});
