// SPDX-License-Identifier: GPL-2.0
//! The shared test vectors agree with the independent host references, so the
//! kernel's KUnit suite compares against values it did not compute itself.
#![allow(clippy::unwrap_used, missing_docs)]

#[path = "../../bpfsig/digest/vectors.rs"]
mod digest_vectors;
#[path = "../../bpfsig/resolve/vectors.rs"]
mod resolve_vectors;

mod common;

use bpfsig_core::btf::{index_len, Btf, TypeTable};

#[test]
fn loader_btf_is_what_the_testkit_writes() {
    let (b, f) = bpfsig_testkit::loader_btf();
    assert_eq!(b, resolve_vectors::LOADER_BTF);
    assert_eq!(f, resolve_vectors::LOADER_BTF_FUNC);
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
    let p = digest_vectors::DIGEST_PROG.concat();
    assert_eq!(
        bpfsig_testkit::naive_digest(&p),
        digest_vectors::DIGEST_PROG_SHA
    );
    assert_eq!(common::digest(&p), digest_vectors::DIGEST_PROG_SHA);
}
