// SPDX-License-Identifier: GPL-2.0
//! `bpfsig-selftest --bench-resolution`: what resolving loader kfunc calls
//! by name through program BTF costs at BPF_PROG_LOAD, and how it grows with
//! the number of calls. Each program makes N calls to
//! `bpf_loader_verify_metadata()`; it is loaded once naming the kfunc through
//! its BTF (`BPF_PSEUDO_KFUNC_CALL_PROG_BTF`) and once by its vmlinux id
//! (what the resolver rewrites the calls to), with the same BTF and map. The
//! difference of the median load times is the resolution; the share is of
//! the PROG_BTF load. Prints one line per N; asserts nothing.
//!
//! With skeleton headers as arguments, the same for each one's real loader
//! (the loader shape: one PROG_BTF call among its `bpf_sys_bpf()` calls),
//! loaded unsigned as `bpf_load_and_run()` would, with its BTF and a map of
//! its blob's size, and again with its call rewritten to the vmlinux id.

use crate::asm::*;
use crate::{bpf, loader, vmlinux::Vmlinux};
use bpfsig_core::btf::Kind;
use bpfsig_core::insn::{Insn, Insns, InsnsMut, BPF_PSEUDO_KFUNC_CALL};
use std::os::fd::AsRawFd;
use std::time::Instant;

// The header scanner of `bpfsig inspect`, by path: the selftests need only
// it, not the CLI's signature stack.
#[allow(dead_code)]
#[path = "../../rust/bpfsig-cli/src/cheader.rs"]
mod cheader;

const RUNS: usize = 31;
/// The real loaders' loads vary more (their maps, their helpers): more runs.
const LOADER_RUNS: usize = 101;

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

fn load_ns(insns: &[u8], btf: &std::os::fd::OwnedFd, map: i32, name: &str) -> Result<u64, String> {
    let fd_array = [map];
    let t = Instant::now();
    let r = bpf::prog_load(&bpf::Load {
        prog_type: bpf::BPF_PROG_TYPE_SYSCALL,
        insns,
        btf: Some(btf),
        fd_array: &fd_array,
        prog_flags: bpf::BPF_F_SLEEPABLE,
        name,
        quiet: true,
        ..Default::default()
    });
    let ns = t.elapsed().as_nanos() as u64;
    r.map_err(|(e, _)| format!("BPF_PROG_LOAD: {e}"))?;
    Ok(ns)
}

/// Median load times of `a` and `b`, loaded `runs` times each in turn, so
/// that a drift of the guest's state (allocator, RCU) hits both alike.
fn median_pair_ns(
    a: &[u8],
    b: &[u8],
    btf: &std::os::fd::OwnedFd,
    map: i32,
    name: &str,
    runs: usize,
) -> Result<(u64, u64), String> {
    let (mut va, mut vb) = (Vec::with_capacity(runs), Vec::with_capacity(runs));
    for _ in 0..runs {
        va.push(load_ns(a, btf, map, name)?);
        vb.push(load_ns(b, btf, map, name)?);
    }
    va.sort_unstable();
    vb.sort_unstable();
    Ok((va[runs / 2], vb[runs / 2]))
}

/// Loads the loader of each skeleton header in `headers`, by name and by id.
fn loaders(headers: &[String], vmlinux_id: u32) -> Result<(), String> {
    for path in headers {
        let text = std::fs::read(path).map_err(|e| format!("{path}: {e}"))?;
        let h = cheader::parse(&text).map_err(|e| format!("{path}: {e}"))?;
        let part = |n: &str| h.array(n).ok_or(format!("{path}: no {n}[]"));
        let (insns, btf, data) = (part("opts_insn")?, part("opts_btf")?, part("opts_data")?);
        let view = Insns::new(insns)
            .map_err(|_| format!("{path}: opts_insn is not whole instructions"))?;
        let calls: Vec<(usize, Insn)> = view
            .iter()
            .enumerate()
            .filter(|(_, i)| i.is_prog_btf_kfunc_call())
            .collect();
        let [(call, insn)] = calls[..] else {
            return Err(format!("{path}: {} PROG_BTF calls, not 1", calls.len()));
        };
        let mut by_id = insns.to_vec();
        InsnsMut::new(&mut by_id)
            .map_err(|_| format!("{path}: opts_insn is not whole instructions"))?
            .set(
                call,
                Insn {
                    src_reg: BPF_PSEUDO_KFUNC_CALL,
                    imm: vmlinux_id as i32,
                    ..insn
                },
            );
        let btf = bpf::btf_load(btf).map_err(|(e, log)| format!("{path}: BTF load: {e}\n{log}"))?;
        let map = bpf::array_map(data.len() as u32, None).map_err(|e| format!("map: {e}"))?;
        let name = "__loader.prog";
        let (by_name, by_id) =
            median_pair_ns(insns, &by_id, &btf, map.as_raw_fd(), name, LOADER_RUNS)?;
        let object = std::path::Path::new(path)
            .file_name()
            .and_then(|f| f.to_str())
            .and_then(|f| f.strip_suffix(".lskel.h"))
            .unwrap_or(path);
        println!(
            "bench resolution loader={object} insns={} prog_btf_ns={by_name} vmlinux_id_ns={by_id} resolution_ns={}",
            insns.len() / 8,
            by_name.saturating_sub(by_id)
        );
    }
    Ok(())
}

pub fn resolution(headers: &[String]) -> Result<(), String> {
    let mut vm = Vmlinux::load()?;
    let vmlinux_id = vm
        .find(Kind::Func, "bpf_loader_verify_metadata")
        .ok_or("no bpf_loader_verify_metadata in vmlinux BTF")?;
    let (btf, func) = loader::loader_btf();
    let btf = bpf::btf_load(&btf).map_err(|(e, log)| format!("BTF load: {e}\n{log}"))?;
    let map = bpf::array_map(32, None).map_err(|e| format!("map: {e}"))?;
    println!("bench resolution runs={RUNS}");
    for calls in [1usize, 16, 256, 2048] {
        let name = "bpfsig_bench";
        let (by_name, by_id) = median_pair_ns(
            &program(calls, 3, func as i32),
            &program(calls, 2, vmlinux_id as i32),
            &btf,
            map.as_raw_fd(),
            name,
            RUNS,
        )?;
        println!(
            "bench resolution calls={calls} prog_btf_ns={by_name} vmlinux_id_ns={by_id} resolution_ns={}",
            by_name.saturating_sub(by_id)
        );
    }
    loaders(headers, vmlinux_id)
}
