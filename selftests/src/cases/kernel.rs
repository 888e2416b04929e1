// SPDX-License-Identifier: GPL-2.0
//! Facts of the booted kernel: it is the bpfsig build, its LSMs are active,
//! vmlinux BTF is there, and bpf(2) loads a program whose tag is the digest
//! bpfsig-core computes.

use crate::bpf;
use crate::{check, Ctx, Outcome};
use bpfsig_core::digest::prog_digest;
use bpfsig_core::insn::InsnsMut;

pub const CASES: &[crate::Case] = &[
    ("kernel_is_the_bpfsig_build", kernel_is_the_bpfsig_build),
    ("lsms_ipe_and_bpf_are_active", lsms_ipe_and_bpf_are_active),
    ("vmlinux_btf_is_present", vmlinux_btf_is_present),
    (
        "minimal_prog_loads_with_the_core_digest_as_tag",
        minimal_prog_loads,
    ),
];

fn kernel_is_the_bpfsig_build(_: &mut Ctx) -> Outcome {
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    check!(
        release.starts_with("7.2"),
        "kernel release is {release:?}, not 7.2"
    );
    check!(
        release.trim_end().ends_with("-bpfsig"),
        "release {release:?} is not <version>-bpfsig"
    );
    // The Rust crate is linked in: its (v0-mangled) symbols carry "6bpfsig".
    let syms = std::fs::read_to_string("/proc/kallsyms").unwrap_or_default();
    check!(
        syms.lines().any(|l| l.contains("6bpfsig")),
        "no bpfsig Rust symbol in /proc/kallsyms"
    );
    Outcome::Pass
}

fn lsms_ipe_and_bpf_are_active(_: &mut Ctx) -> Outcome {
    let p = "/sys/kernel/security/lsm";
    if std::fs::metadata(p).is_err() {
        let _ = std::process::Command::new("mount")
            .args(["-t", "securityfs", "securityfs", "/sys/kernel/security"])
            .status();
    }
    let lsm = std::fs::read_to_string(p).unwrap_or_default();
    let names: Vec<&str> = lsm.trim().split(',').collect();
    check!(
        names.contains(&"ipe") && names.contains(&"bpf"),
        "active LSMs are {lsm:?}"
    );
    Outcome::Pass
}

fn vmlinux_btf_is_present(_: &mut Ctx) -> Outcome {
    let btf = std::fs::read("/sys/kernel/btf/vmlinux").unwrap_or_default();
    check!(
        btf.len() > 1024,
        "/sys/kernel/btf/vmlinux has {} bytes",
        btf.len()
    );
    check!(
        btf[..2] == 0xeb9fu16.to_ne_bytes(),
        "bad BTF magic {:02x?}",
        &btf[..2]
    );
    Outcome::Pass
}

fn minimal_prog_loads(_: &mut Ctx) -> Outcome {
    // r0 = 0; exit
    let insns = [[0xb7u8, 0, 0, 0, 0, 0, 0, 0], [0x95, 0, 0, 0, 0, 0, 0, 0]].concat();
    let load = bpf::Load {
        prog_type: bpf::BPF_PROG_TYPE_SOCKET_FILTER,
        insns: &insns,
        name: "bpfsig_min",
        ..Default::default()
    };
    let fd = match bpf::prog_load(&load) {
        Ok(fd) => fd,
        Err((e, log)) => return Outcome::Fail(format!("BPF_PROG_LOAD: {e}\n{log}")),
    };
    let info = match bpf::prog_info(&fd) {
        Ok(i) => i,
        Err(e) => return Outcome::Fail(format!("BPF_OBJ_GET_INFO_BY_FD: {e}")),
    };
    check!(
        info.prog_type == bpf::BPF_PROG_TYPE_SOCKET_FILTER,
        "prog type {}",
        info.prog_type
    );
    let mut copy = insns.clone();
    let digest = prog_digest(
        &mut InsnsMut::new(&mut copy).unwrap(),
        sha2::Sha256::default(),
    );
    check!(
        info.tag == digest[..8],
        "kernel tag {:02x?} != core digest prefix {:02x?}",
        info.tag,
        &digest[..8]
    );
    Outcome::Pass
}
