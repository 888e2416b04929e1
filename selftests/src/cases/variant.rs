// SPDX-License-Identifier: GPL-2.0
//! Smoke cases for the kernels built without part of the series
//! (`scripts/series/check-series.sh configs` boots them): with `BPFSIG_VARIANT`
//! set, the binary runs that variant's cases in place of the full set, and
//! each case asserts what its configuration promises (SPEC §5, §8, §9).

use super::ipe::{activate, example_policy, ALLOW_ALL};
use super::skel::runner;
use crate::asm::*;
use crate::{bpf, check, Ctx, Outcome};
use std::os::fd::AsRawFd;
use std::process::Command;

/// SPEC §5: without CONFIG_BPFSIG a loader-style call is -EOPNOTSUPP and the
/// log says why (not "reserved fields").
fn prog_btf_call_is_eopnotsupp(_: &mut Ctx) -> Outcome {
    let (btf, func) = crate::loader::loader_btf();
    let btf = match bpf::btf_load(&btf) {
        Ok(b) => b,
        Err((e, l)) => return Outcome::Fail(format!("BTF: {e}\n{l}")),
    };
    let map = bpf::array_map(64, None).expect("map");
    let insns = crate::loader::loader_insns(&[0x5a; 32], 32, call_prog_btf(func as i32, 0));
    let fds = [map.as_raw_fd()];
    match bpf::prog_load(&bpf::Load {
        prog_type: bpf::BPF_PROG_TYPE_SYSCALL,
        prog_flags: bpf::BPF_F_SLEEPABLE,
        insns: &insns,
        btf: Some(&btf),
        fd_array: &fds,
        name: "bpfsig_n",
        ..Default::default()
    }) {
        Ok(_) => Outcome::Fail("a PROG_BTF call loaded on a kernel without CONFIG_BPFSIG".into()),
        Err((e, log)) => {
            check!(
                bpf::errno(&e) == -95,
                "load failed with {e}, expected EOPNOTSUPP\n{log}"
            );
            check!(
                log.contains("need a kernel built with CONFIG_BPFSIG"),
                "the verifier log does not say why:\n{log}"
            );
            Outcome::Pass
        }
    }
}

/// SPEC §9 on a kernel without bpfsig: 7.2's signed light skeletons load.
fn signed_7_2_skeletons_load(_: &mut Ctx) -> Outcome {
    for name in ["counter-7.2", "maps-7.2", "lsm-7.2"] {
        if let o @ (Outcome::Fail(_) | Outcome::Skip(_)) = runner(name, &[]) {
            return o;
        }
    }
    Outcome::Pass
}

/// The example policy parses and is enforced (IPE's BPF properties do not
/// depend on bpfsig): an unsigned load is denied; allow-all restores.
fn example_policy_is_enforced(_: &mut Ctx) -> Outcome {
    let (dir, text) = match example_policy() {
        Ok(p) => p,
        Err(o) => return o,
    };
    if let Err(e) = activate(&dir, &text, "bpfsig_example") {
        return Outcome::Fail(e);
    }
    let insns = [mov_imm(0, 0x0ff), exit()].concat();
    let r = bpf::prog_load(&bpf::Load {
        prog_type: bpf::BPF_PROG_TYPE_SOCKET_FILTER,
        insns: &insns,
        name: "bpfsig_unsigned",
        ..Default::default()
    });
    if let Err(e) = activate(&dir, ALLOW_ALL, "bpfsig_allow_all") {
        return Outcome::Fail(e);
    }
    match r {
        Ok(_) => Outcome::Fail("an unsigned program loaded under the example policy".into()),
        Err((e, _)) => {
            check!(
                bpf::errno(&e) == -13,
                "unsigned load failed with {e}, expected EACCES"
            );
            Outcome::Pass
        }
    }
}

/// The variant is what it says: no bpf() at all.
fn bpf_syscall_is_absent(_: &mut Ctx) -> Outcome {
    match bpf::array_map(8, None) {
        Ok(_) => Outcome::Fail("BPF_MAP_CREATE worked on a kernel built without it".into()),
        Err(e) => {
            check!(
                e.raw_os_error() == Some(38),
                "bpf() failed with {e}, expected ENOSYS"
            );
            Outcome::Pass
        }
    }
}

fn bpf_warnings() -> usize {
    let log = Command::new("dmesg")
        .output()
        .map(|o| o.stdout)
        .unwrap_or_default();
    String::from_utf8_lossy(&log)
        .lines()
        .filter(|l| l.contains("names BPF operations or properties"))
        .count()
}

/// SPEC §8: with IPE_PROP_BPF_SIGNATURE=n a policy naming BPF ops or
/// properties parses (it stays valid) and logs one warning; a policy that
/// names none logs nothing.
fn example_policy_parses_with_one_warning(_: &mut Ctx) -> Outcome {
    let (dir, text) = match example_policy() {
        Ok(p) => p,
        Err(o) => return o,
    };
    let before = bpf_warnings();
    if let Err(e) = activate(&dir, &text, "bpfsig_example") {
        return Outcome::Fail(format!("the example policy does not parse: {e}"));
    }
    let after = bpf_warnings();
    check!(
        after == before + 1,
        "{} warnings for the example policy, expected 1",
        after - before
    );
    if let Err(e) = activate(&dir, ALLOW_ALL, "bpfsig_allow_all") {
        return Outcome::Fail(e);
    }
    check!(
        bpf_warnings() == after,
        "a policy without BPF rules logged the warning"
    );
    Outcome::Pass
}

/// The cases of variant `name` (qemu/variant-NAME.config), if it is one.
pub fn cases(name: &str) -> Option<&'static [crate::Case]> {
    match name {
        "bpfsig-n" => Some(&[
            (
                "bpfsig_n::prog_btf_call_is_eopnotsupp",
                prog_btf_call_is_eopnotsupp,
            ),
            (
                "bpfsig_n::signed_7_2_skeletons_load",
                signed_7_2_skeletons_load,
            ),
            (
                "bpfsig_n::example_policy_is_enforced",
                example_policy_is_enforced,
            ),
        ]),
        "ipe-prop-n" => Some(&[
            ("ipe_prop_n::bpf_syscall_is_absent", bpf_syscall_is_absent),
            (
                "ipe_prop_n::example_policy_parses_with_one_warning",
                example_policy_parses_with_one_warning,
            ),
        ]),
        _ => None,
    }
}
