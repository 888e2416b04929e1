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
    (
        "kernel_tags_equal_an_independent_digest",
        tags_equal_an_independent_digest,
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

/// The digest of `prog` by `selftests/digest_oracle.py`, which shares no
/// code with bpfsig (Python's hashlib, its own masking loop).
fn oracle(prog: &[u8]) -> Result<[u8; 32], String> {
    use std::io::Write;
    let root = std::env::var("BPFSIG_ROOT").map_err(|_| "BPFSIG_ROOT is not set")?;
    let mut child = std::process::Command::new("python3")
        .arg(format!("{root}/selftests/digest_oracle.py"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("python3: {e}"))?;
    let hex: String = prog.iter().map(|b| format!("{b:02x}")).collect();
    child
        .stdin
        .take()
        .ok_or("no stdin")?
        .write_all(hex.as_bytes())
        .map_err(|e| e.to_string())?;
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&out.stdout);
    let text = text.trim();
    if !out.status.success() || text.len() != 64 {
        return Err(format!("oracle: {text:?} ({})", out.status));
    }
    let mut d = [0u8; 32];
    for (i, b) in d.iter_mut().enumerate() {
        *b = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).map_err(|e| e.to_string())?;
    }
    Ok(d)
}

/// `bpf_prog_info` tags: the main tag and `nr_prog_tags` tags of its
/// functions.
fn tags(fd: &std::os::fd::OwnedFd) -> Result<([u8; 8], Vec<[u8; 8]>), String> {
    let mut info = [0u8; 232];
    let mut func_tags = [[0u8; 8]; 4];
    info[180..184].copy_from_slice(&4u32.to_ne_bytes());
    info[184..192].copy_from_slice(&(func_tags.as_mut_ptr() as usize as u64).to_ne_bytes());
    let mut a = bpf::Attr::default();
    a.fd(0, fd)
        .u32(4, info.len() as u32)
        .ptr(8, info.as_mut_ptr());
    bpf::sys_bpf(bpf::BPF_OBJ_GET_INFO_BY_FD, &mut a).map_err(|e| e.to_string())?;
    let n = u32::from_ne_bytes(info[180..184].try_into().unwrap()) as usize;
    Ok((
        info[8..16].try_into().unwrap(),
        func_tags[..n.min(4)].to_vec(),
    ))
}

/// SPEC §4: the tag (the digest taken at BPF_PROG_LOAD entry) of a program
/// with map-fd and map-value loads equals an independent implementation of
/// 7.2's rule over the instructions as given; a subprogram's tag is 7.2's
/// (computed over its own instructions); and a program whose loader kfunc
/// call was rewritten by §5 keeps the digest of what was loaded.
fn tags_equal_an_independent_digest(_: &mut Ctx) -> Outcome {
    use crate::asm::*;
    let map = match bpf::array_map(8, None) {
        Ok(m) => m,
        Err(e) => return Outcome::Fail(format!("map: {e}")),
    };
    let fd = std::os::fd::AsRawFd::as_raw_fd(&map) as u64;
    let mut value = ld_imm64(1, 2, fd);
    value[1] = ins(0, 0, 0, 0, 4); // map value + 4
    let sub = [mov_reg(0, 1), exit()].concat();
    let insns = [
        ld_imm64(1, 1, fd).concat(),
        value.concat(),
        [mov_imm(1, 1), ins(0x85, 0, 1, 0, 2), mov_imm(0, 0), exit()].concat(),
        sub.clone(),
    ]
    .concat();
    let prog = match bpf::prog_load(&bpf::Load {
        prog_type: bpf::BPF_PROG_TYPE_SOCKET_FILTER,
        insns: &insns,
        name: "bpfsig_oracle",
        ..Default::default()
    }) {
        Ok(p) => p,
        Err((e, log)) => return Outcome::Fail(format!("load: {e}\n{log}")),
    };
    let (want, want_sub) = match (oracle(&insns), oracle(&sub)) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => return Outcome::Fail(e),
    };
    let (tag, funcs) = match tags(&prog) {
        Ok(t) => t,
        Err(e) => return Outcome::Fail(format!("prog info: {e}")),
    };
    check!(
        tag == want[..8],
        "tag {tag:02x?}, the oracle says {:02x?}",
        &want[..8]
    );
    check!(
        funcs.len() == 2,
        "{} function tags, expected 2",
        funcs.len()
    );
    check!(
        funcs[1] == want_sub[..8],
        "subprogram tag {:02x?}, the oracle says {:02x?}",
        funcs[1],
        &want_sub[..8]
    );

    // A loader kfunc call named through program BTF, rewritten by the
    // verifier to a vmlinux id: the tag is still that of the call as given.
    let l = match crate::loader::plain_loader("bpfsig_oracle2") {
        Ok(l) => l,
        Err(e) => return Outcome::Fail(e),
    };
    let want = match oracle(&l.insns) {
        Ok(d) => d,
        Err(e) => return Outcome::Fail(e),
    };
    match tags(&l.prog) {
        Ok((tag, _)) => check!(
            tag == want[..8],
            "loader tag {tag:02x?}, the oracle (over the PROG_BTF call as given) says {:02x?}",
            &want[..8]
        ),
        Err(e) => return Outcome::Fail(format!("prog info: {e}")),
    }
    Outcome::Pass
}
