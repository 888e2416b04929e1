// SPDX-License-Identifier: GPL-2.0
//! bpfsig VM selftests. Run as root inside the built kernel:
//! `bpfsig-selftest [FILTER]` (with `BPFSIG_VARIANT` set: that kernel
//! variant's smoke cases). Prints KTAP-like lines and a closing
//! "selftests: N passed, N failed, N skipped"; exits 1 if any case failed.
//!
//! Adding a case: write `fn(&mut Ctx) -> Outcome` in a module under `cases/`
//! and list it in that module's `CASES`.
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    missing_docs
)]

mod asm;
mod bench;
mod bpf;
mod cases;
mod loader;
mod sign;
mod vmlinux;

use std::process::ExitCode;

/// What a case concluded. `Fail` carries the reason, printed under the case.
pub enum Outcome {
    Pass,
    Skip(String),
    Fail(String),
}

/// Shared state for cases, set up on first use.
#[derive(Default)]
pub struct Ctx {
    signer: Option<sign::Signer>,
    probe: Option<loader::Probe>,
    /// The example IPE policy is the active one.
    ipe_example_active: bool,
}

impl Ctx {
    /// The signing key (in its own keyring) and the LSM probe on the
    /// post-integrity hook.
    pub fn loader_env(&mut self) -> Result<(&sign::Signer, &loader::Probe), String> {
        if self.signer.is_none() {
            self.signer = Some(sign::Signer::new()?);
        }
        if self.probe.is_none() {
            let mut vm = vmlinux::Vmlinux::load()?;
            self.probe = Some(loader::Probe::attach(&mut vm)?);
        }
        match (&self.signer, &self.probe) {
            (Some(s), Some(p)) => Ok((s, p)),
            _ => Err("setup failed".into()),
        }
    }
}

/// Fail the case with a message unless `cond`.
#[macro_export]
macro_rules! check {
    ($cond:expr, $($fmt:tt)+) => {
        if !$cond {
            return $crate::Outcome::Fail(format!($($fmt)+));
        }
    };
}

pub type Case = (&'static str, fn(&mut Ctx) -> Outcome);

fn main() -> ExitCode {
    let filter = std::env::args().nth(1).unwrap_or_default();
    if filter == "--bench-resolution" {
        let headers: Vec<String> = std::env::args().skip(2).collect();
        return match bench::resolution(&headers) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("bench: {e}");
                ExitCode::FAILURE
            }
        };
    }
    // A kernel built without part of the series runs its smoke set.
    let set: Vec<Case> = match std::env::var("BPFSIG_VARIANT") {
        Ok(v) if !v.is_empty() => match cases::variant::cases(&v) {
            Some(c) => c.to_vec(),
            None => {
                eprintln!("no smoke cases for BPFSIG_VARIANT={v}");
                return ExitCode::FAILURE;
            }
        },
        _ => cases::all(),
    };
    let all: Vec<Case> = set
        .into_iter()
        .filter(|(n, _)| n.contains(&filter))
        .collect();
    let mut ctx = Ctx::default();
    let (mut pass, mut fail, mut skip) = (0, 0, 0);
    println!("TAP version 13\n1..{}", all.len());
    for (i, (name, f)) in all.iter().enumerate() {
        match f(&mut ctx) {
            Outcome::Pass => {
                pass += 1;
                println!("ok {} {name}", i + 1);
            }
            Outcome::Skip(why) => {
                skip += 1;
                println!("ok {} {name} # SKIP {why}", i + 1);
            }
            Outcome::Fail(why) => {
                fail += 1;
                println!("not ok {} {name}", i + 1);
                for l in why.lines() {
                    println!("# {l}");
                }
            }
        }
    }
    println!("selftests: {pass} passed, {fail} failed, {skip} skipped");
    if fail > 0 || all.is_empty() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
