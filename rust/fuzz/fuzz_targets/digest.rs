// SPDX-License-Identifier: GPL-2.0
//! The streaming digest equals the naive copy-mask-hash reference on any
//! program (inputs are truncated to whole instructions).
#![no_main]

use bpfsig_core::digest::prog_digest;
use bpfsig_core::insn::Insns;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let prog = &data[..data.len() / 8 * 8];
    let insns = Insns::new(prog).unwrap();
    assert_eq!(
        prog_digest(&insns, sha2::Sha256::default()),
        bpfsig_testkit::naive_digest(prog)
    );
});
