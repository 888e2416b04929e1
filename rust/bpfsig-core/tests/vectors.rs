// SPDX-License-Identifier: GPL-2.0
//! The shared test vectors agree with the independent host references, so the
//! kernel's KUnit suite compares against values it did not compute itself.
#![allow(clippy::unwrap_used, missing_docs)]

#[path = "../src/testvec.rs"]
mod testvec;

mod common;

use bpfsig_core::btf::{index_len, Btf, TypeTable};

#[test]
fn loader_btf_is_what_the_testkit_writes() {
    let (b, f) = bpfsig_testkit::loader_btf();
    assert_eq!(b, testvec::LOADER_BTF);
    assert_eq!(f, testvec::LOADER_BTF_FUNC);
    let mut idx = vec![0u32; index_len(&b).unwrap()];
    let btf = Btf::parse(&b, &mut idx).unwrap();
    let t = btf.type_by_id(f).unwrap();
    assert_eq!(
        btf.name_by_offset(t.name_off).unwrap(),
        b"bpf_loader_verify_metadata"
    );
}

#[test]
fn digest_vector_is_the_naive_reference() {
    let p = testvec::DIGEST_PROG.concat();
    assert_eq!(bpfsig_testkit::naive_digest(&p), testvec::DIGEST_PROG_SHA);
    assert_eq!(common::digest(&p), testvec::DIGEST_PROG_SHA);
}
