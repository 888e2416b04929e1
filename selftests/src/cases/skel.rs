// SPDX-License-Identifier: GPL-2.0
//! Light skeletons as a user makes them: real BPF C programs, compiled with
//! clang and turned into signed loaders by the series' own bpftool
//! (`gen skeleton -L -S`), each driven by a runner built from
//! `selftests/skel/skel_run.c` (scripts/build/build-skels.sh). The runner does
//! the checks; a case passes when its runner reports no failure.

use crate::{Ctx, Outcome};
use std::path::PathBuf;
use std::process::Command;

pub(crate) fn skel_dir() -> Result<PathBuf, String> {
    std::env::var_os("BPFSIG_SKEL_DIR")
        .map(PathBuf::from)
        .ok_or_else(|| "BPFSIG_SKEL_DIR is not set (scripts/build/build-skels.sh output)".into())
}

/// Run one runner; its lines become TAP comments.
pub(crate) fn runner(name: &str, args: &[&str]) -> Outcome {
    let dir = match skel_dir() {
        Ok(d) => d,
        Err(e) => return Outcome::Fail(e),
    };
    let out = match Command::new(dir.join("bin").join(name))
        .arg(dir.join("signing.crt.der"))
        .args(args)
        .output()
    {
        Ok(o) => o,
        Err(e) => return Outcome::Fail(format!("{name}: {e}")),
    };
    let text = String::from_utf8_lossy(&out.stdout);
    for l in text.lines() {
        println!("# {l}");
    }
    if out.status.success() && text.lines().any(|l| l.ends_with(": 0 failed")) {
        Outcome::Pass
    } else {
        Outcome::Fail(format!(
            "{name} exited with {}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// `bpftool prog load -L -S`: the series' bpftool signs `insns || btf` and
/// runs the loader (7.2's `try_loader()` signed the insns alone).
fn bpftool_prog_load_signed_loader(_: &mut Ctx) -> Outcome {
    let dir = match skel_dir() {
        Ok(d) => d,
        Err(e) => return Outcome::Fail(e),
    };
    let out = Command::new(dir.join("bin/bpftool"))
        .args(["-L", "-S", "-k"])
        .arg(dir.join("signing.key.pem"))
        .arg("-i")
        .arg(dir.join("signing.crt.pem"))
        .args(["prog", "load"])
        .arg(dir.join("maps.bpf.o"))
        .output();
    match out {
        Ok(o) if o.status.success() => Outcome::Pass,
        Ok(o) => Outcome::Fail(format!(
            "bpftool prog load -L -S: {}\n{}",
            o.status,
            String::from_utf8_lossy(&o.stderr)
        )),
        Err(e) => Outcome::Fail(format!("bpftool: {e}")),
    }
}

macro_rules! runners {
    ($($case:ident => $bin:literal,)*) => {
        $(fn $case(_: &mut Ctx) -> Outcome { runner($bin, &[]) })*
        pub const CASES: &[crate::Case] = &[
            $((concat!("skel::", stringify!($case)), $case),)*
            ("skel::bpftool_prog_load_signed_loader", bpftool_prog_load_signed_loader),
        ];
    };
}

runners! {
    signed_counter_attaches_and_counts => "counter",
    signed_maps_and_global_data_work => "maps",
    signed_lsm_program_denies => "lsm",
    tampered_data_blob_is_einval_and_leaves_nothing => "maps-tampered-data",
    tampered_insns_are_ekeyrejected_and_leave_nothing => "maps-tampered-insn",
    tampered_loader_btf_is_ekeyrejected_and_leaves_nothing => "maps-tampered-btf",
    key_not_in_keyring_is_refused_and_leaves_nothing => "maps-other-key",
    loader_btf_refused_by_btf_load_says_so_and_leaves_nothing => "maps-bad-btf",
    bpftool_7_2_counter_skeleton_still_loads => "counter-7.2",
    bpftool_7_2_maps_skeleton_still_loads => "maps-7.2",
    bpftool_7_2_lsm_skeleton_still_loads => "lsm-7.2",
}
