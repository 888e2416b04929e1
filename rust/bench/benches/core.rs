// SPDX-License-Identifier: GPL-2.0
//! Host benchmarks. Each prints the measured throughput of bpfsig's code next
//! to a baseline measured in the same run, and their ratio; no absolute
//! threshold is asserted (machines differ, ratios are what matter).
//!
//! `cargo bench -p bpfsig-bench` (or `-- --quick` for a short run).
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    missing_docs
)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use bpfsig_core::btf::{index_len, Btf};
use bpfsig_core::digest::prog_digest;
use bpfsig_core::insn::InsnsMut;
use bpfsig_testkit::{insn, naive_digest, BtfBuilder};

/// Median seconds per call over `rounds`, each at least `min` long.
fn time<F: FnMut()>(mut f: F, min: Duration, rounds: usize) -> f64 {
    let mut per_call = Vec::new();
    for _ in 0..rounds {
        let (start, mut n) = (Instant::now(), 0u32);
        while start.elapsed() < min || n == 0 {
            f();
            n += 1;
        }
        per_call.push(start.elapsed().as_secs_f64() / f64::from(n));
    }
    per_call.sort_by(f64::total_cmp);
    per_call[rounds / 2]
}

/// A program shaped like real ones: ALU/jumps, a map `ld_imm64` every 16 slots
/// (fd in the imm, so the in-place path really masks), calls, exit.
fn program(len: usize) -> Vec<u8> {
    let mut p = Vec::with_capacity(len * 8);
    let mut i = 0;
    while i + 2 < len {
        if i % 16 == 0 {
            p.extend_from_slice(&insn(0x18, 1, 1, 0, 3 + (i as i32 % 7)));
            p.extend_from_slice(&insn(0, 0, 0, 0, 0));
            i += 2;
        } else {
            p.extend_from_slice(&insn(0x07, (i % 10) as u8, 0, 0, i as i32));
            i += 1;
        }
    }
    while p.len() < len * 8 {
        p.extend_from_slice(&insn(0x95, 0, 0, 0, 0));
    }
    p
}

fn btf(types: usize) -> Vec<u8> {
    let mut b = BtfBuilder::new();
    let int = b.int("int", 4, true);
    let v = b.ptr(0);
    while (b.finish().len() / 16) < types && types > 0 {
        for k in 0..64 {
            let p = b.proto(int, &[("a", v), ("b", int)]);
            b.func(&format!("f{k}"), p);
        }
    }
    b.finish()
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let (min, rounds) = if quick {
        (Duration::from_millis(20), 3)
    } else {
        (Duration::from_millis(200), 7)
    };

    println!("digest: in place (bpfsig-core) vs copy-then-hash (7.2's bpf_prog_calc_tag shape), both sha2");
    println!(
        "{:>10} {:>14} {:>14} {:>8}",
        "insns", "inplace MB/s", "naive MB/s", "ratio"
    );
    for len in [4096usize, 65536, 1 << 20] {
        let p = program(len);
        let mut work = p.clone();
        let mut insns = InsnsMut::new(&mut work).unwrap();
        assert_eq!(
            prog_digest(&mut insns, sha2::Sha256::default()),
            naive_digest(&p)
        );
        let s = time(
            || {
                black_box(prog_digest(black_box(&mut insns), sha2::Sha256::default()));
            },
            min,
            rounds,
        );
        let n = time(
            || {
                black_box(naive_digest(black_box(&p)));
            },
            min,
            rounds,
        );
        let mb = p.len() as f64 / 1e6;
        println!(
            "{len:>10} {:>14.1} {:>14.1} {:>7.2}x",
            mb / s,
            mb / n,
            n / s
        );
    }

    println!("\nbtf: parse + index (bpfsig-core) vs a plain byte scan of the same blob (memory-bound floor)");
    println!(
        "{:>10} {:>14} {:>14} {:>8}",
        "bytes", "parse MB/s", "scan MB/s", "ratio"
    );
    for types in [1_000usize, 100_000] {
        let data = btf(types);
        let mut idx = vec![0u32; index_len(&data).unwrap()];
        let parse = time(
            || {
                black_box(Btf::parse(black_box(&data), &mut idx).unwrap().type_count());
            },
            min,
            rounds,
        );
        let scan = time(
            || {
                black_box(black_box(&data).iter().fold(0u8, |a, b| a ^ b));
            },
            min,
            rounds,
        );
        let mb = data.len() as f64 / 1e6;
        println!(
            "{:>10} {:>14.1} {:>14.1} {:>7.2}x",
            data.len(),
            mb / parse,
            mb / scan,
            parse / scan
        );
    }
}
