// SPDX-License-Identifier: GPL-2.0
//! The selftest cases, grouped by what they exercise, and what the
//! scenario-based ones share.

use crate::loader::{run, Report, Scenario};
use crate::{check, Ctx, Outcome};

pub(crate) fn go(ctx: &mut Ctx, sc: Scenario) -> Result<Report, Outcome> {
    let (signer, probe) = ctx
        .loader_env()
        .map_err(|e| Outcome::Fail(format!("setup: {e}")))?;
    run(&sc, signer, probe).map_err(Outcome::Fail)
}

macro_rules! scenario {
    ($ctx:expr, $sc:expr) => {
        match go($ctx, $sc) {
            Ok(r) => r,
            Err(o) => return o,
        }
    };
}

pub(crate) fn loaded(r: &Report) -> Result<(), Outcome> {
    match &r.load_err {
        None => Ok(()),
        Some((e, log)) => Err(Outcome::Fail(format!("load failed: {e}\n{log}"))),
    }
}

/// A run that loaded and whose kfunc failed: errno, verdict unchanged, no hook.
pub(crate) fn kfunc_failed(r: &Report, errno: i32, verdict: u64) -> Outcome {
    if let Err(o) = loaded(r) {
        return o;
    }
    check!(
        r.retval == errno,
        "kfunc returned {}, expected {errno}",
        r.retval
    );
    check!(
        r.verdict == verdict,
        "verdict {} changed (expected {verdict})",
        r.verdict
    );
    check!(
        r.hook_calls == 0,
        "post-integrity hook ran {} times",
        r.hook_calls
    );
    Outcome::Pass
}

pub(crate) fn load_failed(r: &Report, errno: i32, log_has: &str) -> Outcome {
    match &r.load_err {
        None => Outcome::Fail(format!(
            "loaded (kfunc returned {}), expected {errno}",
            r.retval
        )),
        Some((e, log)) => {
            check!(*e == errno, "load failed with {e}, expected {errno}\n{log}");
            check!(
                log.contains(log_has),
                "verifier log lacks {log_has:?}:\n{log}"
            );
            Outcome::Pass
        }
    }
}

mod binding;
mod hardening;
mod ipe;
mod kernel;
mod loader;
mod rewrites;
mod skel;
pub mod variant;

pub fn all() -> Vec<crate::Case> {
    let mut v = Vec::new();
    v.extend_from_slice(kernel::CASES);
    v.extend_from_slice(loader::CASES);
    v.extend_from_slice(rewrites::CASES);
    v.extend_from_slice(hardening::CASES);
    v.extend_from_slice(binding::CASES);
    v.extend_from_slice(skel::CASES);
    // last: they leave a policy behind
    v.extend_from_slice(ipe::CASES);
    v
}
