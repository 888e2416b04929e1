// SPDX-License-Identifier: GPL-2.0
//! The repository's example IPE policy (`selftests/ipe/example.policy`),
//! signed with the test key (builtin-trusted in the test kernel) and made
//! active through securityfs, against real loads: the signed light
//! skeletons from the builtin keyring load, the same skeleton from a user
//! keyring and an unsigned program are denied. These cases run last: they
//! leave an allow-all policy active.

use super::skel::{runner, skel_dir};
use crate::{bpf, check, Ctx, Outcome};
use std::path::Path;
use std::process::Command;

const IPE: &str = "/sys/kernel/security/ipe";

/// Sign a policy as IPE wants it (PKCS#7 with the content) and make it the
/// active one.
fn activate(dir: &Path, text: &str, name: &str) -> Result<(), String> {
    let tmp = std::env::temp_dir();
    let (txt, p7) = (
        tmp.join(format!("{name}.policy")),
        tmp.join(format!("{name}.p7")),
    );
    std::fs::write(&txt, text).map_err(|e| format!("{}: {e}", txt.display()))?;
    let key = dir.join("signing.key.pem");
    let crt = dir.join("signing.crt.pem");
    let out = Command::new("openssl")
        .args([
            "smime",
            "-sign",
            "-noattr",
            "-nodetach",
            "-nosmimecap",
            "-binary",
        ])
        .args(["-outform", "der", "-in"])
        .arg(&txt)
        .arg("-out")
        .arg(&p7)
        .arg("-signer")
        .arg(&crt)
        .arg("-inkey")
        .arg(&key)
        .output()
        .map_err(|e| format!("openssl: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "openssl smime: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let signed = std::fs::read(&p7).map_err(|e| format!("{}: {e}", p7.display()))?;
    std::fs::write(format!("{IPE}/new_policy"), signed)
        .map_err(|e| format!("{IPE}/new_policy: {e}"))?;
    std::fs::write(format!("{IPE}/policies/{name}/active"), "1")
        .map_err(|e| format!("activating {name}: {e}"))
}

fn example(ctx: &mut Ctx) -> Result<(), Outcome> {
    if ctx.ipe_example_active {
        return Ok(());
    }
    let dir = skel_dir().map_err(Outcome::Fail)?;
    let text = std::fs::read_to_string(dir.join("example.policy"))
        .map_err(|e| Outcome::Fail(format!("example.policy: {e}")))?;
    activate(&dir, &text, "bpfsig_example").map_err(Outcome::Fail)?;
    ctx.ipe_example_active = true;
    Ok(())
}

fn example_allows_builtin_signed_skeleton_and_inner_programs(ctx: &mut Ctx) -> Outcome {
    if let Err(o) = example(ctx) {
        return o;
    }
    runner("counter", &["builtin"])
}

fn example_denies_user_keyring_skeleton(ctx: &mut Ctx) -> Outcome {
    if let Err(o) = example(ctx) {
        return o;
    }
    runner("maps-ipe-denied", &[])
}

fn example_denies_unsigned_program(ctx: &mut Ctx) -> Outcome {
    if let Err(o) = example(ctx) {
        return o;
    }
    let insns = [[0xb7u8, 0, 0, 0, 0, 0, 0, 0], [0x95, 0, 0, 0, 0, 0, 0, 0]].concat();
    let r = bpf::prog_load(&bpf::Load {
        prog_type: bpf::BPF_PROG_TYPE_SOCKET_FILTER,
        insns: &insns,
        name: "bpfsig_unsigned",
        ..Default::default()
    });
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

fn allow_all_policy_restores_loads(ctx: &mut Ctx) -> Outcome {
    let dir = match skel_dir() {
        Ok(d) => d,
        Err(e) => return Outcome::Fail(e),
    };
    let text = "policy_name=bpfsig_allow_all policy_version=0.0.2\nDEFAULT action=ALLOW\n";
    if let Err(e) = activate(&dir, text, "bpfsig_allow_all") {
        return Outcome::Fail(e);
    }
    ctx.ipe_example_active = false;
    runner("maps", &[])
}

pub const CASES: &[crate::Case] = &[
    (
        "ipe::example_allows_builtin_signed_skeleton_and_inner_programs",
        example_allows_builtin_signed_skeleton_and_inner_programs,
    ),
    (
        "ipe::example_denies_user_keyring_skeleton",
        example_denies_user_keyring_skeleton,
    ),
    (
        "ipe::example_denies_unsigned_program",
        example_denies_unsigned_program,
    ),
    (
        "ipe::allow_all_policy_restores_loads",
        allow_all_policy_restores_loads,
    ),
];
