// SPDX-License-Identifier: GPL-2.0
//! The security paths the 2026-11-26 review found untested: the LSM asked
//! on every run, resolution and kfunc refusals, BTF and keyring misuse, and
//! a BTF fd swapped under a signed load.

use super::{go, load_failed, loaded};
use crate::asm::*;
use crate::bpf::{self, Load};
use crate::loader::{Scenario, Tamper, ENOKEY};
use crate::{check, Ctx, Outcome};
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};

pub const CASES: &[crate::Case] = &[
    (
        "promoted_loader_run_again_asks_the_lsm_again",
        rerun_asks_lsm,
    ),
    ("lsm_deny_with_enokey_names_this_prog", lsm_deny_enokey),
    ("name_of_a_non_kfunc_is_eacces", non_kfunc_name),
    (
        "self_signed_btf_naming_another_kfunc_is_eacces",
        self_signed_other_kfunc,
    ),
    (
        "kfunc_from_a_socket_filter_is_eacces",
        kfunc_wrong_prog_type,
    ),
    ("call_src_reg_4_is_reserved_einval", src_reg_4),
    ("kernel_btf_as_prog_btf_fd_is_eacces", kernel_btf_fd),
    (
        "insns_only_signature_prog_btf_call_is_eacces",
        insns_only_sig,
    ),
    (
        "unsearchable_keyring_refuses_signed_load",
        unsearchable_keyring,
    ),
    ("expired_keyring_refuses_signed_load", expired_keyring),
    ("btf_fd_swapped_by_dup2_never_mixes", dup2_race),
];

const EPERM: i32 = -1;
const EACCES: i32 = -13;
const EINVAL: i32 = -22;
const EKEYREJECTED: i32 = -129;
const EKEYEXPIRED: i32 = -127;
const METADATA_VERIFIED: u64 = 2;

fn probe_deny_after(ctx: &mut Ctx, after: u64, enokey: bool) -> Result<(), Outcome> {
    let (_, probe) = ctx
        .loader_env()
        .map_err(|e| Outcome::Fail(format!("setup: {e}")))?;
    probe.deny_after(after, enokey);
    Ok(())
}

/// SPEC §3 step 6 (revised): a loader promoted by its first run is run
/// again; the LSM, now denying, must be asked and its errno returned.
fn rerun_asks_lsm(ctx: &mut Ctx) -> Outcome {
    if let Err(o) = probe_deny_after(ctx, 2, false) {
        return o;
    }
    let r = go(
        ctx,
        Scenario {
            second_run: true,
            ..Scenario::default()
        },
    );
    let _ = probe_deny_after(ctx, 0, false);
    let r = match r {
        Ok(r) => r,
        Err(o) => return o,
    };
    if let Err(o) = loaded(&r) {
        return o;
    }
    check!(r.retval == 0, "first run returned {}", r.retval);
    check!(
        r.retval2 == Some(EPERM),
        "second run returned {:?}, expected the LSM's {EPERM}",
        r.retval2
    );
    check!(
        r.hook_calls == 2,
        "hook ran {} times, expected 2",
        r.hook_calls
    );
    check!(
        r.verdict == METADATA_VERIFIED,
        "verdict {} (the first run promoted it)",
        r.verdict
    );
    Outcome::Pass
}

/// An LSM's unusual errno comes back unchanged, for this program.
fn lsm_deny_enokey(ctx: &mut Ctx) -> Outcome {
    if let Err(o) = probe_deny_after(ctx, 1, true) {
        return o;
    }
    let r = go(ctx, Scenario::default());
    let _ = probe_deny_after(ctx, 0, false);
    let r = match r {
        Ok(r) => r,
        Err(o) => return o,
    };
    if let Err(o) = loaded(&r) {
        return o;
    }
    check!(
        r.retval == ENOKEY,
        "kfunc returned {}, expected {ENOKEY}",
        r.retval
    );
    check!(r.hook_saw_this_prog, "the hook saw another program's id");
    check!(r.verdict == 1, "verdict {} (must stay VERIFIED)", r.verdict);
    Outcome::Pass
}

/// A name vmlinux has, with a fitting prototype, that is not a loader
/// kfunc (not a kfunc at all): the resolver refuses it.
fn non_kfunc_name(ctx: &mut Ctx) -> Outcome {
    let r = match go(
        ctx,
        Scenario {
            signed: false,
            exclusive: false,
            func_name: "strncmp",
            len_size: 8,
            ..Scenario::default()
        },
    ) {
        Ok(r) => r,
        Err(o) => return o,
    };
    load_failed(&r, EACCES, "not a loader kfunc")
}

/// Review finding: "signed over its BTF" includes a key the caller put in
/// its own keyring. The loader's instructions with a self-signed BTF naming
/// another kfunc of the same shape (bpf_strncasecmp, allowed for every
/// program type) must not get the loader's exclusive map, nor call it.
fn self_signed_other_kfunc(ctx: &mut Ctx) -> Outcome {
    match go(
        ctx,
        Scenario {
            func_name: "bpf_strncasecmp",
            len_size: 8,
            ..Scenario::default()
        },
    ) {
        Ok(r) => load_failed(&r, EACCES, "not a loader kfunc"),
        Err(o) => o,
    }
}

fn vmlinux_kfunc_id() -> Result<i32, Outcome> {
    crate::vmlinux::Vmlinux::load()
        .map_err(Outcome::Fail)?
        .find(bpfsig_core::btf::Kind::Func, "bpf_loader_verify_metadata")
        .map(|id| id as i32)
        .ok_or_else(|| Outcome::Fail("no bpf_loader_verify_metadata in vmlinux BTF".into()))
}

/// A load that must fail with `errno`, its verifier log containing `log_has`.
fn refused(l: &Load<'_>, errno: i32, log_has: &str, what: &str) -> Outcome {
    match bpf::prog_load(l) {
        Ok(_) => Outcome::Fail(format!("{what} loaded")),
        Err((e, log)) => {
            let e = bpf::errno(&e);
            check!(e == errno, "errno {e}, expected {errno}\n{log}");
            check!(log.contains(log_has), "log lacks {log_has:?}:\n{log}");
            Outcome::Pass
        }
    }
}

/// The kfunc is registered for SYSCALL programs only.
fn kfunc_wrong_prog_type(_: &mut Ctx) -> Outcome {
    let id = match vmlinux_kfunc_id() {
        Ok(id) => id,
        Err(o) => return o,
    };
    let insns = [ins(0x85, 0, 2, 0, id), mov_imm(0, 0), exit()].concat();
    let load = Load {
        prog_type: bpf::BPF_PROG_TYPE_SOCKET_FILTER,
        insns: &insns,
        name: "bpfsig_sockf",
        ..Load::default()
    };
    // The kfunc set is registered for SYSCALL programs only. (A socket
    // filter is not sleepable either, which is also -EACCES: the log line
    // tells the two refusals apart.)
    refused(
        &load,
        EACCES,
        "calling kernel function bpf_loader_verify_metadata is not allowed",
        "a socket filter calling the kfunc",
    )
}

/// src_reg 4 is not a call kind: reserved, as before the series.
fn src_reg_4(_: &mut Ctx) -> Outcome {
    let insns = [ins(0x85, 0, 4, 0, 1), mov_imm(0, 0), exit()].concat();
    let load = Load {
        prog_type: bpf::BPF_PROG_TYPE_SYSCALL,
        prog_flags: bpf::BPF_F_SLEEPABLE,
        insns: &insns,
        name: "bpfsig_src4",
        ..Load::default()
    };
    refused(&load, EINVAL, "reserved", "a call with src_reg 4")
}

/// SPEC §2: a kernel BTF (vmlinux, id 1) is not a program's BTF.
fn kernel_btf_fd(_: &mut Ctx) -> Outcome {
    let vmlinux = match bpf::btf_fd_by_id(1) {
        Ok(fd) => fd,
        Err(e) => return Outcome::Fail(format!("BTF_GET_FD_BY_ID(1): {e}")),
    };
    let insns = [mov_imm(0, 0), exit()].concat();
    let load = Load {
        prog_type: bpf::BPF_PROG_TYPE_SYSCALL,
        prog_flags: bpf::BPF_F_SLEEPABLE,
        insns: &insns,
        btf: Some(&vmlinux),
        name: "bpfsig_kbtf",
        ..Load::default()
    };
    refused(&load, EACCES, "", "a program with vmlinux BTF as its BTF")
}

/// SPEC §2 (revised 2026-12-02): a signature over the instructions alone
/// leaves the BTF unsigned, so the kfunc it names cannot be trusted: a
/// program-BTF call of such a program is refused.
fn insns_only_sig(ctx: &mut Ctx) -> Outcome {
    match go(
        ctx,
        Scenario {
            tamper: Tamper::SignInsnsOnly,
            ..Scenario::default()
        },
    ) {
        Ok(r) => load_failed(&r, EACCES, "need a signature over the BTF"),
        Err(o) => o,
    }
}

/// A signed load against `keyring` changed by `f` must fail, leaving no
/// program; returns the errno for the caller to check.
fn signed_load_with_keyring(
    ctx: &mut Ctx,
    name: &std::ffi::CStr,
    f: impl FnOnce(i32) -> Result<(), String>,
) -> Result<(i32, String), Outcome> {
    let keyring = {
        let (signer, _) = ctx
            .loader_env()
            .map_err(|e| Outcome::Fail(format!("setup: {e}")))?;
        signer.another_keyring(name).map_err(Outcome::Fail)?
    };
    // The keyring works before it is changed.
    let ok = go(
        ctx,
        Scenario {
            keyring: Some(keyring),
            ..Scenario::default()
        },
    )?;
    loaded(&ok)?;
    f(keyring).map_err(Outcome::Fail)?;
    let r = go(
        ctx,
        Scenario {
            keyring: Some(keyring),
            ..Scenario::default()
        },
    )?;
    r.load_err
        .ok_or_else(|| Outcome::Fail("the signed load succeeded".into()))
}

/// A keyring whose search permission is gone must not vouch for a load.
fn unsearchable_keyring(ctx: &mut Ctx) -> Outcome {
    // Possessor and user may view and read, not search.
    let r = signed_load_with_keyring(ctx, c"bpfsig-nosearch", |k| {
        bpf::keyctl(bpf::KEYCTL_SETPERM, k, 0x0303_0000).map_err(|e| format!("KEYCTL_SETPERM: {e}"))
    });
    match r {
        Ok((e, log)) => {
            // The key search of the PKCS#7 check is refused, so no
            // trusted key is found.
            check!(e == ENOKEY, "errno {e}, expected -ENOKEY\n{log}");
            Outcome::Pass
        }
        Err(o) => o,
    }
}

/// An expired keyring must not vouch for a load.
fn expired_keyring(ctx: &mut Ctx) -> Outcome {
    let r = signed_load_with_keyring(ctx, c"bpfsig-expired", |k| {
        bpf::keyctl(bpf::KEYCTL_SET_TIMEOUT, k, 1)
            .map_err(|e| format!("KEYCTL_SET_TIMEOUT: {e}"))?;
        std::thread::sleep(std::time::Duration::from_millis(1500));
        Ok(())
    });
    match r {
        Ok((e, log)) => {
            check!(e == EKEYEXPIRED, "errno {e}, expected -EKEYEXPIRED\n{log}");
            Outcome::Pass
        }
        Err(o) => o,
    }
}

/// SPEC §2: the BTF is taken from the fd once. A thread swaps the fd
/// between the signed BTF and another valid one with dup2() while the
/// signed loader is loaded many times: every load that succeeds must run
/// with the BTF that was signed, and every other one fail to verify.
fn dup2_race(ctx: &mut Ctx) -> Outcome {
    let (signer, _) = match ctx.loader_env() {
        Ok(e) => e,
        Err(e) => return Outcome::Fail(format!("setup: {e}")),
    };
    let (btf, func) = crate::loader::loader_btf();
    let mut other = bpfsig_testkit::BtfBuilder::new();
    let int = other.int("int", 4, true);
    let u32_ = other.int("u32", 4, false);
    let v = other.ptr(0);
    let p = other.proto(int, &[("m", v), ("h", v), ("hash__sz", u32_)]);
    other.func("bpf_loader_verify_metadata", p);
    let (good, bad) = match (bpf::btf_load(&btf), bpf::btf_load(&other.finish())) {
        (Ok(g), Ok(b)) => (g, b),
        _ => return Outcome::Fail("BTF load".into()),
    };
    let good_id = match bpf::btf_id(&good) {
        Ok(id) => id,
        Err(e) => return Outcome::Fail(format!("btf id: {e}")),
    };
    let hash = [0x5au8; 32];
    let insns = crate::loader::loader_insns(&hash, 32, call_prog_btf(func as i32, 0));
    let sig = match signer.sign(&crate::sign::btf_signed_bytes(&insns, &btf)) {
        Ok(s) => s,
        Err(e) => return Outcome::Fail(e),
    };
    let map = match bpf::array_map(8, None) {
        Ok(m) => m,
        Err(e) => return Outcome::Fail(format!("map: {e}")),
    };
    // The fd the load names; the swapper points it at `good` or `bad`.
    let slot: OwnedFd = match good.try_clone() {
        Ok(f) => f,
        Err(e) => return Outcome::Fail(format!("dup: {e}")),
    };
    let stop = AtomicBool::new(false);
    let (mut ok, mut rejected, mut mixed) = (0u32, 0u32, Vec::new());
    std::thread::scope(|s| {
        s.spawn(|| {
            let mut flip = false;
            while !stop.load(Ordering::Relaxed) {
                let src = if flip { &good } else { &bad };
                // SAFETY: both fds are open for the whole scope.
                unsafe { libc::dup2(src.as_raw_fd(), slot.as_raw_fd()) };
                flip = !flip;
            }
        });
        for _ in 0..200 {
            let fds = [map.as_raw_fd()];
            match bpf::prog_load(&Load {
                prog_type: bpf::BPF_PROG_TYPE_SYSCALL,
                prog_flags: bpf::BPF_F_SLEEPABLE | bpf::BPF_F_SIG_BTF,
                insns: &insns,
                btf: Some(&slot),
                fd_array: &fds,
                signature: Some(&sig),
                keyring: signer.keyring,
                name: "bpfsig_dup2",
                ..Load::default()
            }) {
                Ok(prog) => match bpf::prog_info(&prog) {
                    Ok(i) if i.btf_id == good_id => ok += 1,
                    Ok(i) => mixed.push(i.btf_id),
                    Err(e) => mixed.push(e.raw_os_error().unwrap_or(0) as u32),
                },
                Err((e, _)) if bpf::errno(&e) == EKEYREJECTED => rejected += 1,
                Err((e, _)) => mixed.push(bpf::errno(&e) as u32),
            }
        }
        stop.store(true, Ordering::Relaxed);
    });
    check!(
        mixed.is_empty(),
        "{} loads ran with another BTF or failed otherwise: {mixed:?}",
        mixed.len()
    );
    check!(
        ok > 0 && rejected > 0,
        "the race never hit both BTFs ({ok} verified, {rejected} rejected)"
    );
    Outcome::Pass
}
