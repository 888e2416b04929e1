// SPDX-License-Identifier: GPL-2.0
//! SPEC §4: unsigned rewrites (CO-RE relocations) must not ride on a
//! program's digest. The attack of the 2026-11-26 review, built for real:
//! an unsigned program whose raw instructions hash to an exclusive map's
//! `excl_prog_hash`, with program BTF, `func_info` and one
//! `BPF_CORE_TYPE_ID_LOCAL` relocation that changes what it returns.

use crate::asm::*;
use crate::bpf::{self, Load};
use crate::{check, Ctx, Outcome};
use bpfsig_testkit::{naive_digest, BtfBuilder};
use std::os::fd::{AsRawFd, OwnedFd};

pub const CASES: &[crate::Case] = &[
    (
        "core_relo_inner_prog_without_exclusive_map_loads",
        inner_prog_loads,
    ),
    (
        "core_relo_prog_cannot_bind_exclusive_map_by_ld_imm64",
        exclusive_by_ld_imm64,
    ),
    (
        "core_relo_prog_cannot_bind_exclusive_map_by_fd_array",
        exclusive_by_fd_array,
    ),
];

const EACCES: i32 = -13;
/// What the program returns unrelocated, and the type id the relocation
/// writes into that immediate instead.
const PLAIN: i32 = 7;
const RELOCATED: u32 = 1;

/// BTF with a static FUNC for `func_info` (id 4) and the access string "0";
/// returns it and the string's offset.
fn prog_btf() -> (Vec<u8>, u32) {
    let mut b = BtfBuilder::new();
    let int = b.int("int", 4, true);
    let v = b.ptr(0);
    let p = b.proto(int, &[("ctx", v)]);
    b.raw("attack", 12, 0, p, &[]);
    let zero = b.string("0");
    (b.finish(), zero)
}

/// `r0 = 7; [r1 = &map value;] exit`, the map given by fd in the ld_imm64.
fn program(map: Option<&OwnedFd>) -> Vec<u8> {
    let mut p = vec![mov_imm(0, PLAIN)];
    if let Some(m) = map {
        // BPF_PSEUDO_MAP_VALUE, offset 0 in the second slot.
        p.extend(ld_imm64(1, 2, m.as_raw_fd() as u64));
    }
    p.push(exit());
    p.concat()
}

/// Loads `insns` unsigned with its BTF, `func_info` and one relocation of
/// insn 0 to type id RELOCATED; `fd_array` binds maps through fd_array_cnt.
fn load(insns: &[u8], fd_array: &[i32]) -> Result<Result<OwnedFd, (i32, String)>, String> {
    let (btf, zero) = prog_btf();
    let btf = bpf::btf_load(&btf).map_err(|(e, log)| format!("BTF load: {e}\n{log}"))?;
    let func_info = [0u32, 4].map(u32::to_ne_bytes).concat();
    let relo = [0u32, RELOCATED, zero, 6].map(u32::to_ne_bytes).concat();
    Ok(bpf::prog_load(&Load {
        prog_type: bpf::BPF_PROG_TYPE_SYSCALL,
        prog_flags: bpf::BPF_F_SLEEPABLE,
        insns,
        btf: Some(&btf),
        fd_array,
        func_info: &func_info,
        core_relos: &relo,
        name: "bpfsig_corerelo",
        ..Load::default()
    })
    .map_err(|(e, log)| (bpf::errno(&e), log)))
}

fn map(exclusive_to: Option<&[u8; 32]>) -> Result<OwnedFd, Outcome> {
    bpf::array_map(8, exclusive_to).map_err(|e| Outcome::Fail(format!("map: {e}")))
}

/// A light-skeleton inner program: unsigned, relocated, no exclusive map.
/// It loads and runs the relocated code, which is also what makes the
/// attack below real.
fn inner_prog_loads(_: &mut Ctx) -> Outcome {
    let m = match map(None) {
        Ok(m) => m,
        Err(o) => return o,
    };
    let prog = match load(&program(Some(&m)), &[]) {
        Ok(Ok(p)) => p,
        Ok(Err((e, log))) => return Outcome::Fail(format!("load failed: {e}\n{log}")),
        Err(e) => return Outcome::Fail(e),
    };
    match bpf::test_run(&prog) {
        Ok(r) => {
            check!(
                r == RELOCATED as i32,
                "returned {r}: the relocation (to {RELOCATED}) was not applied"
            );
            Outcome::Pass
        }
        Err(e) => Outcome::Fail(format!("test run: {e}")),
    }
}

fn refused(r: Result<Result<OwnedFd, (i32, String)>, String>, map: &str) -> Outcome {
    match r {
        Err(e) => Outcome::Fail(e),
        Ok(Ok(prog)) => Outcome::Fail(format!(
            "loaded, bound the exclusive map and returns {:?} instead of {PLAIN}",
            bpf::test_run(&prog)
        )),
        Ok(Err((e, log))) => {
            check!(e == EACCES, "errno {e}, expected {EACCES}\n{log}");
            check!(
                log.contains("CO-RE relocations") && log.contains(map),
                "the log does not name the map and the reason:\n{log}"
            );
            Outcome::Pass
        }
    }
}

fn exclusive_by_ld_imm64(_: &mut Ctx) -> Outcome {
    // The digest masks the map fd, so it is known before the map exists.
    let placeholder = bpf::array_map(8, None).map(|m| program(Some(&m)));
    let digest = match placeholder {
        Ok(p) => naive_digest(&p),
        Err(e) => return Outcome::Fail(format!("map: {e}")),
    };
    let m = match map(Some(&digest)) {
        Ok(m) => m,
        Err(o) => return o,
    };
    let insns = program(Some(&m));
    check!(
        naive_digest(&insns) == digest,
        "digest depends on the map fd"
    );
    refused(load(&insns, &[]), "exclusive map")
}

fn exclusive_by_fd_array(_: &mut Ctx) -> Outcome {
    let insns = program(None);
    let m = match map(Some(&naive_digest(&insns))) {
        Ok(m) => m,
        Err(o) => return o,
    };
    refused(load(&insns, &[m.as_raw_fd()]), "exclusive map")
}
