// SPDX-License-Identifier: GPL-2.0
//! The repository's example IPE policy (`selftests/ipe/example.policy`),
//! signed with the test key (builtin-trusted in the test kernel) and made
//! active through securityfs, against real loads: the signed light
//! skeletons from the builtin keyring load, the same skeleton from a user
//! keyring and an unsigned program are denied. These cases run last: they
//! leave an allow-all policy active.

use super::skel::{runner, skel_dir};
use crate::asm::*;
use crate::{bpf, check, Ctx, Outcome};
use sha2::Digest;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::Path;
use std::process::Command;

const IPE: &str = "/sys/kernel/security/ipe";

/// Sign a policy as IPE wants it (PKCS#7 with the content) and make it the
/// active one.
pub(crate) fn activate(dir: &Path, text: &str, name: &str) -> Result<(), String> {
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

/// A policy that allows everything (it restores loads after a case).
pub(crate) const ALLOW_ALL: &str =
    "policy_name=bpfsig_allow_all policy_version=0.0.2\nDEFAULT action=ALLOW\n";

/// The skeleton directory (with the test keys) and the example policy's text.
pub(crate) fn example_policy() -> Result<(std::path::PathBuf, String), Outcome> {
    let dir = skel_dir().map_err(Outcome::Fail)?;
    let text = std::fs::read_to_string(dir.join("example.policy"))
        .map_err(|e| Outcome::Fail(format!("example.policy: {e}")))?;
    Ok((dir, text))
}

fn example(ctx: &mut Ctx) -> Result<(), Outcome> {
    if ctx.ipe_example_active {
        return Ok(());
    }
    let (dir, text) = example_policy()?;
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
    // A program no other case loads, so that its audit record is its own.
    let insns = [mov_imm(0, 0x51b), exit()].concat();
    // Audit records reach the kernel log through printk's rate limit.
    let limit = std::fs::read_to_string("/proc/sys/kernel/printk_ratelimit").unwrap_or_default();
    let _ = std::fs::write("/proc/sys/kernel/printk_ratelimit", "0");
    let r = bpf::prog_load(&bpf::Load {
        prog_type: bpf::BPF_PROG_TYPE_SOCKET_FILTER,
        insns: &insns,
        name: "bpfsig_unsigned",
        ..Default::default()
    });
    // SPEC §4: LSMs see the digest at security_bpf_prog_load(); the audit
    // record carries its tag (nothing here masks: no map loads). kauditd
    // prints asynchronously: wait for the record a little.
    let digest: [u8; 32] = sha2::Sha256::digest(&insns).into();
    let tag: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    let want = format!("bpf_prog_tag={tag} bpf_signature=UNSIGNED");
    let mut found = false;
    for _ in 0..30 {
        let log = Command::new("dmesg")
            .output()
            .map(|o| o.stdout)
            .unwrap_or_default();
        if String::from_utf8_lossy(&log)
            .lines()
            .any(|l| l.contains("ipe_op=BPF_PROG_LOAD") && l.contains(&want))
        {
            found = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let _ = std::fs::write("/proc/sys/kernel/printk_ratelimit", limit.trim());
    match r {
        Ok(_) => {
            return Outcome::Fail("an unsigned program loaded under the example policy".into())
        }
        Err((e, _)) => check!(
            bpf::errno(&e) == -13,
            "unsigned load failed with {e}, expected EACCES"
        ),
    }
    check!(found, "no audit record of the denied load with {want}");
    Outcome::Pass
}

/// The metadata check an inner loader makes before its inner load.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Check {
    /// None at all.
    None,
    /// On fd_array[1], a plain map: the check fails (the loader goes on).
    Failing,
    /// On fd_array[1], its own exclusive, frozen map whose hash is signed,
    /// unless the run's context (a u32) is non-zero: then it is skipped.
    Genuine,
}

/// A SYSCALL program that loads a trivial socket filter through
/// bpf_sys_bpf() and returns its fd or errno, after the metadata check
/// `check` says, whatever it returned. Its data map (fd_array[0]) holds the
/// inner load's attr at 0, its instructions at 128 and license at 144; the
/// map for the check is the second returned, the last its metadata.
fn inner_loader(check: Check) -> (Vec<u8>, OwnedFd, Option<[u8; 64]>) {
    let mut value = [0u8; 256];
    value[0..4].copy_from_slice(&bpf::BPF_PROG_TYPE_SOCKET_FILTER.to_ne_bytes());
    value[4..8].copy_from_slice(&2u32.to_ne_bytes());
    value[128..144].copy_from_slice(&[mov_imm(0, 0), exit()].concat());
    value[144..148].copy_from_slice(b"GPL\0");
    let map = bpf::array_map(value.len() as u32, None).expect("inner loader map");
    bpf::map_update(&map, 0, &value).expect("inner loader map update");
    let mut meta = [0u8; 64];
    let text = b"bpfsig inner loader: the metadata its signer hashed";
    meta[..text.len()].copy_from_slice(text);
    let hash: [u8; 32] = match check {
        Check::Genuine => sha2::Sha256::digest(meta).into(),
        _ => [0x5a; 32],
    };
    let mut p: Vec<Slot> = Vec::new();
    if check != Check::None {
        let (_, func) = crate::loader::loader_btf();
        let c = crate::loader::check_block(1, &hash, 32, call_prog_btf(func as i32, 0));
        if check == Check::Genuine {
            // if (*(u32 *)ctx) skip the check
            p.push(ldx_w(2, 1, 0));
            p.push(jne_imm(2, 0, c.len() as i16));
        }
        p.extend(c);
    }
    p.extend(ld_imm64(6, 6, 0));
    p.extend([
        mov_reg(1, 6),
        add_imm(1, 128),
        stx_dw(6, 8, 1),
        mov_reg(1, 6),
        add_imm(1, 144),
        stx_dw(6, 16, 1),
        mov_imm(1, bpf::BPF_PROG_LOAD as i32),
        mov_reg(2, 6),
        mov_imm(3, 120),
        call_helper(166), // bpf_sys_bpf
        exit(),
    ]);
    (p.concat(), map, (check == Check::Genuine).then_some(meta))
}

/// A builtin-signed (BPF_F_SIG_BTF) inner loader with its check's map.
fn signed_inner_loader(check: Check) -> Result<(OwnedFd, [OwnedFd; 2]), Outcome> {
    let dir = skel_dir().map_err(Outcome::Fail)?;
    let signer = crate::sign::Signer::builtin(&dir).map_err(Outcome::Fail)?;
    let (insns, map, meta) = inner_loader(check);
    let checked = match meta {
        Some(meta) => {
            let digest: [u8; 32] = sha2::Sha256::digest(&insns).into();
            let m = bpf::array_map(64, Some(&digest)).expect("metadata map");
            bpf::map_update(&m, 0, &meta)
                .and_then(|_| bpf::map_freeze(&m))
                .and_then(|_| bpf::map_hash(&m))
                .map_err(|e| Outcome::Fail(format!("metadata map: {e}")))?;
            m
        }
        None => bpf::array_map(64, None).expect("plain map"),
    };
    let (btf, _) = crate::loader::loader_btf();
    let btf_fd = bpf::btf_load(&btf).map_err(|(e, l)| Outcome::Fail(format!("BTF: {e}\n{l}")))?;
    let sig = signer
        .sign(&crate::sign::btf_signed_bytes(&insns, &btf))
        .map_err(Outcome::Fail)?;
    let fds = [map.as_raw_fd(), checked.as_raw_fd()];
    let loader = bpf::prog_load(&bpf::Load {
        prog_type: bpf::BPF_PROG_TYPE_SYSCALL,
        prog_flags: bpf::BPF_F_SLEEPABLE | bpf::BPF_F_SIG_BTF,
        insns: &insns,
        btf: Some(&btf_fd),
        fd_array: &fds,
        signature: Some(&sig),
        keyring: 0,
        name: "bpfsig_inloader",
        ..Default::default()
    })
    .map_err(|(e, log)| {
        Outcome::Fail(format!(
            "a builtin-signed SYSCALL program must load under the example policy: {e}\n{log}"
        ))
    })?;
    Ok((loader, [map, checked]))
}

/// Runs a loader; its inner load must have been refused with -EACCES.
fn inner_load_denied(loader: &OwnedFd, ctx: u32) -> Outcome {
    match bpf::test_run_ctx(loader, &ctx.to_ne_bytes()) {
        Ok(r) if r >= 0 => {
            // SAFETY: the loader returned an fd it created in our table.
            unsafe { libc::close(r) };
            Outcome::Fail("the inner program loaded under the example policy".into())
        }
        Ok(r) => {
            check!(r == -13, "inner load failed with {r}, expected -EACCES");
            Outcome::Pass
        }
        Err(e) => Outcome::Fail(format!("test run: {e}")),
    }
}

/// SPEC §8 (2026-12-02): an unsigned SYSCALL program loaded before the
/// policy (here: before it became active) loads an inner program: it is
/// not a verified loader, so its inner program is denied.
fn example_denies_inner_program_of_unsigned_loader(ctx: &mut Ctx) -> Outcome {
    if ctx.ipe_example_active {
        return Outcome::Fail("the example policy was active before this case".into());
    }
    let (insns, map, _) = inner_loader(Check::None);
    let fds = [map.as_raw_fd()];
    let loader = match bpf::prog_load(&bpf::Load {
        prog_type: bpf::BPF_PROG_TYPE_SYSCALL,
        prog_flags: bpf::BPF_F_SLEEPABLE,
        insns: &insns,
        fd_array: &fds,
        name: "bpfsig_unsloader",
        ..Default::default()
    }) {
        Ok(l) => l,
        Err((e, log)) => return Outcome::Fail(format!("loader: {e}\n{log}")),
    };
    if let Err(o) = example(ctx) {
        return o;
    }
    inner_load_denied(&loader, 0)
}

/// A builtin-signed loader whose metadata check failed, going on to load
/// an inner program: the loader loads (signed, builtin), its inner program
/// is denied (its loader is only VERIFIED in this run).
fn example_denies_inner_program_of_failed_check_loader(ctx: &mut Ctx) -> Outcome {
    if let Err(o) = example(ctx) {
        return o;
    }
    match signed_inner_loader(Check::Failing) {
        Ok((loader, _maps)) => inner_load_denied(&loader, 0),
        Err(o) => o,
    }
}

/// SPEC §8: trust comes from the run. A builtin-signed loader proves its
/// metadata in a first run (promoted, its inner program allowed), then runs
/// again skipping the check: it is still METADATA_VERIFIED in fdinfo, but
/// what this run loads is not trusted through it.
fn example_trusts_inner_programs_per_run(ctx: &mut Ctx) -> Outcome {
    if let Err(o) = example(ctx) {
        return o;
    }
    let (loader, _maps) = match signed_inner_loader(Check::Genuine) {
        Ok(l) => l,
        Err(o) => return o,
    };
    match bpf::test_run_ctx(&loader, &0u32.to_ne_bytes()) {
        Ok(fd) if fd >= 0 => {
            // SAFETY: the loader returned an fd it created in our table.
            unsafe { libc::close(fd) };
        }
        Ok(e) => {
            return Outcome::Fail(format!(
                "a run that proved its metadata had its inner program refused: {e}"
            ))
        }
        Err(e) => return Outcome::Fail(format!("first run: {e}")),
    }
    let v = bpf::fdinfo(&loader, "sig_verdict");
    check!(
        v == Some(2),
        "after the first run: verdict {v:?}, expected 2"
    );
    if let Outcome::Fail(f) = inner_load_denied(&loader, 1) {
        return Outcome::Fail(f);
    }
    // DECISIONS: the verdict says what the loader has proven, not what its
    // latest run did.
    let v = bpf::fdinfo(&loader, "sig_verdict");
    check!(
        v == Some(2),
        "after the second run: verdict {v:?}, expected 2"
    );
    Outcome::Pass
}

/// A socket filter no other case loads, signed (instructions only) by
/// `signer` for `keyring`, or unsigned: the load's errno, 0 if it loaded.
fn keyring_load(signer: Option<&crate::sign::Signer>, keyring: i32) -> Result<i32, Outcome> {
    let insns = [mov_imm(0, 0x5ec), exit()].concat();
    let sig = match signer {
        Some(s) => Some(s.sign(&insns).map_err(Outcome::Fail)?),
        None => None,
    };
    let r = bpf::prog_load(&bpf::Load {
        prog_type: bpf::BPF_PROG_TYPE_SOCKET_FILTER,
        insns: &insns,
        signature: sig.as_deref(),
        keyring,
        name: "bpfsig_keyring",
        ..Default::default()
    });
    Ok(match r {
        Ok(_) => 0,
        Err((e, _)) => bpf::errno(&e),
    })
}

/// A policy that allows BPF loads signed for `keyring` only.
fn keyring_policy(ctx: &mut Ctx, keyring: &str) -> Result<std::path::PathBuf, Outcome> {
    policy(
        ctx,
        &format!("bpfsig_keyring_{}", keyring.to_lowercase()),
        &format!(
            "DEFAULT op=BPF_PROG_LOAD action=DENY\n\
             op=BPF_PROG_LOAD bpf_signature=OK bpf_keyring={keyring} action=ALLOW\n"
        ),
    )
}

/// Make `rules` (after `DEFAULT action=ALLOW`) the active policy `name`.
fn policy(ctx: &mut Ctx, name: &str, rules: &str) -> Result<std::path::PathBuf, Outcome> {
    let dir = skel_dir().map_err(Outcome::Fail)?;
    let text = format!("policy_name={name} policy_version=0.0.2\nDEFAULT action=ALLOW\n{rules}");
    activate(&dir, &text, name).map_err(Outcome::Fail)?;
    ctx.ipe_example_active = false;
    Ok(dir)
}

/// SPEC §8: `bpf_signature=` matches one verdict exactly. Each policy denies
/// one value; a load with another verdict is not caught by that rule.
fn bpf_signature_matches_one_verdict(ctx: &mut Ctx) -> Outcome {
    let builtin = match skel_dir().and_then(|d| crate::sign::Signer::builtin(&d)) {
        Ok(s) => s,
        Err(e) => return Outcome::Fail(e),
    };
    // (denied value, signed load's errno, unsigned load's errno)
    for (value, signed, unsigned) in [
        ("UNSIGNED", 0, -13),
        ("OK", -13, 0),
        // No program is METADATA_VERIFIED when it is loaded.
        ("METADATA_VERIFIED", 0, 0),
    ] {
        let name = format!("bpfsig_sig_{}", value.to_lowercase());
        let rules = format!("op=BPF_PROG_LOAD bpf_signature={value} action=DENY\n");
        if let Err(o) = policy(ctx, &name, &rules) {
            return o;
        }
        for (what, signer, want) in [
            ("signed", Some(&builtin), signed),
            ("unsigned", None, unsigned),
        ] {
            match keyring_load(signer, 0) {
                Ok(e) => check!(
                    e == want,
                    "deny {value}: {what} load errno {e}, expected {want}"
                ),
                Err(o) => return o,
            }
        }
    }
    // At the post-integrity op a proving loader is METADATA_VERIFIED, not
    // OK: a rule denying OK there lets the signed skeleton through.
    let rules = "op=BPF_PROG_LOAD_POST_INTEGRITY bpf_signature=OK action=DENY\n";
    if let Err(o) = policy(ctx, "bpfsig_post_ok", rules) {
        return o;
    }
    if let o @ Outcome::Fail(_) = runner("maps", &[]) {
        return o;
    }
    let rules = "op=BPF_PROG_LOAD_POST_INTEGRITY bpf_signature=METADATA_VERIFIED action=DENY\n";
    if let Err(o) = policy(ctx, "bpfsig_post_mv", rules) {
        return o;
    }
    runner("maps-ipe-denied", &[])
}

/// SPEC §8: `bpf_kernel=FALSE` is every load from user space; the loader's
/// own loads (from the kernel) are not.
fn bpf_kernel_false_is_user_space(ctx: &mut Ctx) -> Outcome {
    let rules = "op=BPF_PROG_LOAD bpf_prog_type=SYSCALL action=ALLOW\n\
                 op=BPF_PROG_LOAD bpf_kernel=FALSE action=DENY\n";
    if let Err(o) = policy(ctx, "bpfsig_kernel_false", rules) {
        return o;
    }
    match keyring_load(None, 0) {
        Ok(e) => check!(e == -13, "a user-space load: errno {e}, expected EACCES"),
        Err(o) => return o,
    }
    runner("maps", &[])
}

/// SPEC §8: loader properties and `bpf_prog_type=` match exactly: inner
/// programs of a loader from another keyring than the rule's, and a
/// builtin-signed program of another type, are denied.
fn loader_keyring_and_prog_type_match_exactly(ctx: &mut Ctx) -> Outcome {
    let rules = "DEFAULT op=BPF_PROG_LOAD action=DENY\n\
                 op=BPF_PROG_LOAD bpf_prog_type=SYSCALL bpf_signature=OK action=ALLOW\n\
                 op=BPF_PROG_LOAD bpf_loader_signature=METADATA_VERIFIED \
                 bpf_loader_keyring=SECONDARY action=ALLOW\n";
    let dir = match policy(ctx, "bpfsig_loader_secondary", rules) {
        Ok(d) => d,
        Err(o) => return o,
    };
    let builtin = match crate::sign::Signer::builtin(&dir) {
        Ok(s) => s,
        Err(e) => return Outcome::Fail(e),
    };
    match keyring_load(Some(&builtin), 0) {
        Ok(e) => check!(
            e == -13,
            "a signed socket filter: errno {e}, expected EACCES"
        ),
        Err(o) => return o,
    }
    // The loader (user keyring) loads and proves its metadata; its inner
    // programs (loader keyring USER, not SECONDARY) are refused.
    runner("maps-ipe-denied", &[])
}

/// SPEC §8: the audit record of an inner program names its loader's
/// verdict and keyring and its own type; a program no loader created has
/// NONE (success auditing on for the allowed ones).
fn audit_records_name_the_loader(ctx: &mut Ctx) -> Outcome {
    if let Err(o) = example(ctx) {
        return o;
    }
    let sa = format!("{IPE}/success_audit");
    let limit = std::fs::read_to_string("/proc/sys/kernel/printk_ratelimit").unwrap_or_default();
    let _ = std::fs::write("/proc/sys/kernel/printk_ratelimit", "0");
    if let Err(e) = std::fs::write(&sa, "1") {
        return Outcome::Fail(format!("{sa}: {e}"));
    }
    let run = runner("counter", &["builtin"]);
    let denied = keyring_load(None, 0);
    let _ = std::fs::write(&sa, "0");
    let want = [
        "bpf_loader_signature=METADATA_VERIFIED bpf_loader_keyring=BUILTIN bpf_prog_type=TRACING",
        "bpf_kernel=FALSE bpf_loader_signature=NONE bpf_loader_keyring=NONE bpf_prog_type=SOCKET_FILTER",
    ];
    let mut found = [false; 2];
    for _ in 0..30 {
        let log = Command::new("dmesg")
            .output()
            .map(|o| o.stdout)
            .unwrap_or_default();
        let log = String::from_utf8_lossy(&log);
        for (f, w) in found.iter_mut().zip(want) {
            *f = log
                .lines()
                .any(|l| l.contains("ipe_op=BPF_PROG_LOAD ") && l.contains(w));
        }
        if found.iter().all(|&f| f) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let _ = std::fs::write("/proc/sys/kernel/printk_ratelimit", limit.trim());
    if let o @ Outcome::Fail(_) = run {
        return o;
    }
    match denied {
        Ok(e) => check!(e == -13, "unsigned load: errno {e}, expected EACCES"),
        Err(o) => return o,
    }
    for (f, w) in found.iter().zip(want) {
        check!(*f, "no BPF_PROG_LOAD audit record with {w}");
    }
    Outcome::Pass
}

/// SPEC §8 `bpf_keyring=SECONDARY`: a key the builtin key vouched for, in
/// the secondary trusted keyring, and a signature checked against it.
fn bpf_keyring_secondary_matches_secondary_signatures(ctx: &mut Ctx) -> Outcome {
    let dir = match keyring_policy(ctx, "SECONDARY") {
        Ok(d) => d,
        Err(o) => return o,
    };
    let secondary = match crate::sign::Signer::secondary(&dir) {
        Ok(s) => s,
        Err(e) => return Outcome::Fail(e),
    };
    let builtin = match crate::sign::Signer::builtin(&dir) {
        Ok(s) => s,
        Err(e) => return Outcome::Fail(e),
    };
    let loads = [
        (
            "secondary key, keyring 1",
            keyring_load(Some(&secondary), 1),
        ),
        ("builtin key, keyring 0", keyring_load(Some(&builtin), 0)),
        (
            "secondary key, keyring 0",
            keyring_load(Some(&secondary), 0),
        ),
        ("unsigned", keyring_load(None, 0)),
    ];
    let mut got = Vec::new();
    for (what, r) in loads {
        match r {
            Ok(e) => got.push((what, e)),
            Err(o) => return o,
        }
    }
    check!(
        got[0].1 == 0,
        "{}: errno {}, expected to load",
        got[0].0,
        got[0].1
    );
    check!(
        got[1].1 == -13,
        "{}: errno {}, expected EACCES (IPE: keyring BUILTIN)",
        got[1].0,
        got[1].1
    );
    // Not in the builtin keyring: the signature itself fails, before IPE.
    check!(
        got[2].1 == -126 || got[2].1 == -129,
        "{}: errno {}, expected ENOKEY or EKEYREJECTED",
        got[2].0,
        got[2].1
    );
    check!(
        got[3].1 == -13,
        "{}: errno {}, expected EACCES",
        got[3].0,
        got[3].1
    );
    Outcome::Pass
}

/// SPEC §8 `bpf_keyring=PLATFORM`: the VM's firmware (OVMF) holds the
/// platform test certificate in db, which the kernel loaded into the
/// platform keyring at boot; a signature checked against it is PLATFORM and
/// nothing else is.
fn bpf_keyring_platform_matches_platform_signatures(ctx: &mut Ctx) -> Outcome {
    let dir = match keyring_policy(ctx, "PLATFORM") {
        Ok(d) => d,
        Err(o) => return o,
    };
    let keys = std::fs::read_to_string("/proc/keys").unwrap_or_default();
    check!(
        keys.lines()
            .any(|l| l.contains(".platform:") && !l.ends_with("empty")),
        "no platform keyring with keys (the VM did not boot under OVMF with the test db?):\n{keys}"
    );
    let signers = (
        crate::sign::Signer::platform(&dir),
        crate::sign::Signer::secondary(&dir),
        crate::sign::Signer::builtin(&dir),
    );
    let (platform, secondary, builtin) = match signers {
        (Ok(p), Ok(s), Ok(b)) => (p, s, b),
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => return Outcome::Fail(e),
    };
    for (what, signer, keyring, want) in [
        ("platform key, keyring 2", &platform, 2, 0),
        ("builtin key, keyring 0", &builtin, 0, -13),
        ("builtin key, keyring 1", &builtin, 1, -13),
        ("secondary key, keyring 1", &secondary, 1, -13),
    ] {
        match keyring_load(Some(signer), keyring) {
            Ok(e) => check!(e == want, "{what}: errno {e}, expected {want}"),
            Err(o) => return o,
        }
    }
    // Not in the builtin or secondary keyrings: the signature fails.
    for keyring in [0, 1] {
        match keyring_load(Some(&platform), keyring) {
            Ok(e) => check!(
                e == -126 || e == -129,
                "platform key, keyring {keyring}: errno {e}, expected ENOKEY or EKEYREJECTED"
            ),
            Err(o) => return o,
        }
    }
    Outcome::Pass
}

fn allow_all_policy_restores_loads(ctx: &mut Ctx) -> Outcome {
    let dir = match skel_dir() {
        Ok(d) => d,
        Err(e) => return Outcome::Fail(e),
    };
    if let Err(e) = activate(&dir, ALLOW_ALL, "bpfsig_allow_all") {
        return Outcome::Fail(e);
    }
    ctx.ipe_example_active = false;
    runner("maps", &[])
}

pub const CASES: &[crate::Case] = &[
    // first: it loads its loader before the example policy is active
    (
        "ipe::example_denies_inner_program_of_unsigned_loader",
        example_denies_inner_program_of_unsigned_loader,
    ),
    (
        "ipe::example_denies_inner_program_of_failed_check_loader",
        example_denies_inner_program_of_failed_check_loader,
    ),
    (
        "ipe::example_trusts_inner_programs_per_run",
        example_trusts_inner_programs_per_run,
    ),
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
        "ipe::audit_records_name_the_loader",
        audit_records_name_the_loader,
    ),
    (
        "ipe::bpf_signature_matches_one_verdict",
        bpf_signature_matches_one_verdict,
    ),
    (
        "ipe::bpf_kernel_false_is_user_space",
        bpf_kernel_false_is_user_space,
    ),
    (
        "ipe::loader_keyring_and_prog_type_match_exactly",
        loader_keyring_and_prog_type_match_exactly,
    ),
    (
        "ipe::bpf_keyring_secondary_matches_secondary_signatures",
        bpf_keyring_secondary_matches_secondary_signatures,
    ),
    (
        "ipe::bpf_keyring_platform_matches_platform_signatures",
        bpf_keyring_platform_matches_platform_signatures,
    ),
    (
        "ipe::allow_all_policy_restores_loads",
        allow_all_policy_restores_loads,
    ),
];
