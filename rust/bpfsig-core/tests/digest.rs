// SPDX-License-Identifier: GPL-2.0
//! The in-place digest: masking cases, batch boundaries, restoration, against the naive reference.
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    missing_docs
)]

use bpfsig_core::digest::*;
use bpfsig_core::insn::{Insn, BPF_PSEUDO_MAP_FD, BPF_PSEUDO_MAP_VALUE, LD_IMM64};

mod common;
use common::{digest, digest_n};

use bpfsig_testkit::naive_digest as naive;

fn ins(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> [u8; 8] {
    Insn {
        code,
        dst_reg: dst,
        src_reg: src,
        off,
        imm,
    }
    .to_bytes()
}

/// `n` map-value loads, each after a plain instruction, all `2 n` imms
/// non-zero.
fn dense(n: usize) -> Vec<u8> {
    (0..n as i32)
        .flat_map(|i| {
            [
                ins(0x07, 1, 0, 0, i),
                ins(LD_IMM64, 1, BPF_PSEUDO_MAP_VALUE, 0, i + 1),
                ins(0, 0, 0, 0, i + 2),
            ]
            .concat()
        })
        .collect()
}

#[test]
fn masks_map_fd_and_value_loads() {
    let with_fd = |fd: i32, off: i32| {
        [
            ins(LD_IMM64, 1, BPF_PSEUDO_MAP_FD, 0, fd),
            ins(0, 0, 0, 0, off),
            ins(0x95, 0, 0, 0, 0),
        ]
        .concat()
    };
    // The fd and the second imm are not part of the digest...
    assert_eq!(digest(&with_fd(3, 0)), digest(&with_fd(7, 9)));
    // ...but everything else is.
    assert_ne!(
        digest(&with_fd(3, 0)),
        digest(&[with_fd(3, 0), ins(0x95, 0, 0, 0, 0).to_vec()].concat())
    );
    let idx = |i: i32| [ins(LD_IMM64, 1, 5, 0, i), ins(0, 0, 0, 0, 0)].concat();
    // MAP_IDX is stable across loads and therefore hashed.
    assert_ne!(digest(&idx(0)), digest(&idx(1)));
}

#[test]
fn edge_cases_match_the_c_rule() {
    let cases: [Vec<u8>; 5] = [
        // a map ld_imm64 as the last slot
        [
            ins(0xb7, 0, 0, 0, 1),
            ins(LD_IMM64, 1, BPF_PSEUDO_MAP_VALUE, 0, 5),
        ]
        .concat(),
        // a second slot that is not a valid continuation
        [
            ins(LD_IMM64, 1, BPF_PSEUDO_MAP_FD, 0, 5),
            ins(0, 0, 0, 1, 6),
        ]
        .concat(),
        // back-to-back map loads: the second "first slot" is eaten as a
        // bad continuation and keeps its imm
        [
            ins(LD_IMM64, 1, BPF_PSEUDO_MAP_FD, 0, 5),
            ins(LD_IMM64, 2, BPF_PSEUDO_MAP_FD, 0, 6),
            ins(0, 0, 0, 0, 7),
        ]
        .concat(),
        [
            ins(LD_IMM64, 1, BPF_PSEUDO_MAP_FD, 0, 5),
            ins(0, 0, 0, 0, 1),
            ins(LD_IMM64, 2, BPF_PSEUDO_MAP_VALUE, 0, 6),
            ins(0, 0, 0, 0, 7),
        ]
        .concat(),
        Vec::new(),
    ];
    for c in &cases {
        assert_eq!(digest(c), naive(c));
    }
    // The quirk is real: the naive reference keeps the imm of slot 1 of case 2.
    let mut changed = cases[2].clone();
    changed[12] ^= 1;
    assert_ne!(naive(&cases[2]), naive(&changed));
}

#[test]
fn stretch_boundaries_anywhere() {
    let full = SAVED_LOADS;
    // Fewer, exactly as many, one more and several times as many map
    // loads as one stretch holds.
    for n in [full - 1, full, full + 1, full * 3 + 1] {
        let p = dense(n);
        assert_eq!(digest(&p), naive(&p), "{n} loads");
        // Stretches of 1, 2 and 3 loads, the last ending on the last
        // slot.
        assert_eq!(digest_n::<1>(&p), naive(&p), "{n} loads, N = 1");
        assert_eq!(digest_n::<2>(&p), naive(&p), "{n} loads, N = 2");
        assert_eq!(digest_n::<3>(&p), naive(&p), "{n} loads, N = 3");
    }
    // A full stretch, then one more load in the program's last slots.
    let mut p = dense(full);
    p.extend_from_slice(&ins(LD_IMM64, 1, BPF_PSEUDO_MAP_FD, 0, 0));
    p.extend_from_slice(&ins(0, 0, 0, 0, 5));
    assert_eq!(digest(&p), naive(&p));
    // A load whose imms are both zero takes no room; one with a zero
    // first or second imm does.
    let mut q = dense(full);
    for (k, load) in q.chunks_exact_mut(24).enumerate() {
        match k % 3 {
            0 => load[12..16].fill(0),
            1 => load[20..24].fill(0),
            _ => (load[12..16].fill(0), load[20..24].fill(0)).1,
        }
    }
    assert_eq!(digest_n::<1>(&q), naive(&q));
}
