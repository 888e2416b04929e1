// SPDX-License-Identifier: GPL-2.0
//! `bpfsig-selftest --bench-resolution`: what resolving loader kfunc calls
//! by name through program BTF costs at BPF_PROG_LOAD, and how it grows with
//! the number of calls. Each program makes N calls to
//! `bpf_loader_verify_metadata()`; it is loaded once naming the kfunc through
//! its BTF (`BPF_PSEUDO_KFUNC_CALL_PROG_BTF`) and once by its vmlinux id
//! (what the resolver rewrites the calls to), with the same BTF and map. The
//! difference of the median load times is the resolution; the share is of
//! the PROG_BTF load. Prints one line per N; asserts nothing.

use crate::asm::*;
use crate::{bpf, loader, vmlinux::Vmlinux};
use bpfsig_core::btf::Kind;
use std::os::fd::AsRawFd;
use std::time::Instant;

const RUNS: usize = 31;

fn program(calls: usize, src_reg: u8, imm: i32) -> Vec<u8> {
    let mut p: Vec<Slot> = vec![mov_imm(1, 0)];
    for off in [-8, -16, -24, -32] {
        p.push(stx_dw(10, off, 1));
    }
    for _ in 0..calls {
        p.extend(ld_imm64(1, 5, 0)); // the map, fd_array[0]
        p.push(mov_reg(2, 10));
        p.push(add_imm(2, -32));
        p.push(mov_imm(3, 32));
        p.push(ins(0x85, 0, src_reg, 0, imm));
    }
    p.push(mov_imm(0, 0));
    p.push(exit());
    p.concat()
}

fn median_load_ns(insns: &[u8], btf: &std::os::fd::OwnedFd, map: i32) -> Result<u64, String> {
    let fd_array = [map];
    let mut ns = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let t = Instant::now();
        let r = bpf::prog_load(&bpf::Load {
            prog_type: bpf::BPF_PROG_TYPE_SYSCALL,
            insns,
            btf: Some(btf),
            fd_array: &fd_array,
            prog_flags: bpf::BPF_F_SLEEPABLE,
            name: "bpfsig_bench",
            quiet: true,
            ..Default::default()
        });
        ns.push(t.elapsed().as_nanos() as u64);
        r.map_err(|(e, _)| format!("BPF_PROG_LOAD: {e}"))?;
    }
    ns.sort_unstable();
    Ok(ns[RUNS / 2])
}

pub fn resolution() -> Result<(), String> {
    let mut vm = Vmlinux::load()?;
    let vmlinux_id = vm
        .find(Kind::Func, "bpf_loader_verify_metadata")
        .ok_or("no bpf_loader_verify_metadata in vmlinux BTF")?;
    let (btf, func) = loader::loader_btf();
    let btf = bpf::btf_load(&btf).map_err(|(e, log)| format!("BTF load: {e}\n{log}"))?;
    let map = bpf::array_map(32, None).map_err(|e| format!("map: {e}"))?;
    println!("bench resolution runs={RUNS}");
    for calls in [1usize, 16, 256, 2048] {
        let by_name = median_load_ns(&program(calls, 3, func as i32), &btf, map.as_raw_fd())?;
        let by_id = median_load_ns(&program(calls, 2, vmlinux_id as i32), &btf, map.as_raw_fd())?;
        println!(
            "bench resolution calls={calls} prog_btf_ns={by_name} vmlinux_id_ns={by_id} resolution_ns={}",
            by_name.saturating_sub(by_id)
        );
    }
    Ok(())
}
