// SPDX-License-Identifier: GPL-2.0
//! The in-place digest equals the naive copy-mask-hash reference on any
//! program and leaves the program as it was, with the kernel's stretch size
//! and with stretches of one imm, whose boundaries fall everywhere (inputs
//! are truncated to whole instructions).
#![no_main]

use bpfsig_core::digest::{prog_digest, prog_digest_batched};
use bpfsig_core::insn::InsnsMut;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let prog = &data[..data.len() / 8 * 8];
    let want = bpfsig_testkit::naive_digest(prog);
    let mut copy = prog.to_vec();
    let d = prog_digest(
        &mut InsnsMut::new(&mut copy).unwrap(),
        sha2::Sha256::default(),
    );
    assert_eq!(d, want);
    assert_eq!(copy, prog);
    let d = prog_digest_batched::<_, 1>(
        &mut InsnsMut::new(&mut copy).unwrap(),
        sha2::Sha256::default(),
    );
    assert_eq!(d, want);
    assert_eq!(copy, prog);
});
