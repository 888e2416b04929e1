// SPDX-License-Identifier: GPL-2.0

//! KUnit suite `bpfsig_metadata`: the kfunc's decision on the kernel's
//! `crypto_memneq()`, and its body on array maps made by the kernel's own
//! map code.

use crate::kunit::{Map, Prog, EXIT};
use kernel::{bindings, prelude::*};

/// Runs the kfunc's body; returns its result and the reason it gave.
fn kfunc_reason(map: &Map, hash: &[u8], prog: &Prog) -> Result<(i32, *const kernel::ffi::c_char)> {
    let mut why: *const kernel::ffi::c_char = core::ptr::null();
    // SAFETY: all three are live; `hash` has `hash.len()` bytes; `why` is
    // a local.
    let rc = unsafe {
        super::bpfsig_loader_verify_metadata(
            map.0,
            hash.as_ptr().cast(),
            u32::try_from(hash.len())?,
            prog.aux(),
            &mut why,
        )
    };
    Ok((rc, why))
}

/// Runs the kfunc's body; returns its result and whether it gave a reason.
fn kfunc_why(map: &Map, hash: &[u8], prog: &Prog) -> Result<(i32, bool)> {
    let (rc, why) = kfunc_reason(map, hash, prog)?;
    Ok((rc, !why.is_null()))
}

fn kfunc(map: &Map, hash: &[u8], prog: &Prog) -> Result<i32> {
    let (rc, why) = kfunc_why(map, hash, prog)?;
    // A failed check always says what failed, for the log (the test fails
    // through the error).
    if (rc != 0) != why {
        return Err(EINVAL);
    }
    Ok(rc)
}

const VERIFIED: u32 = bindings::bpf_sig_verdict_BPF_SIG_VERIFIED;
const PROMOTED: u32 = bindings::bpf_sig_verdict_BPF_SIG_METADATA_VERIFIED;

#[kunit_tests(bpfsig_metadata)]
mod tests {
    use super::*;
    use crate::rules::metadata::{decide, Caller, Decision, MapView, MetaError};

    #[test]
    fn metadata_decision_fails_closed_on_crypto_memneq() {
        use super::super::KernelMemneq;
        let m = &KernelMemneq;
        let sha = [0x5a; 32];
        let digest = [0x3c; 32];
        let good = MapView {
            excl_prog_sha: Some(&digest),
            frozen: true,
            sha: &sha,
        };
        let caller = |verdict| Caller {
            verdict,
            digest: &digest,
            unsigned_btf: false,
        };
        assert!(decide(&good, &sha, &caller(1), m) == Ok(Decision::HookThenPromote));
        assert!(decide(&good, &sha, &caller(2), m) == Ok(Decision::HookThenPromote));
        assert!(decide(&good, &sha, &caller(0), m) == Ok(Decision::NoPromotion));
        assert!(decide(&good, &sha[..31], &caller(1), m) == Err(MetaError::BadHashSize));
        let unfrozen = MapView {
            frozen: false,
            ..good
        };
        assert!(decide(&unfrozen, &sha, &caller(1), m) == Err(MetaError::NotFrozen));
        assert!(decide(&good, &[0; 32], &caller(1), m) == Err(MetaError::ZeroHash));
        // crypto_memneq() sees a difference in any byte, of the map's owner
        // and of the hash.
        for i in 0..32 {
            let mut other = sha;
            if let Some(b) = other.get_mut(i) {
                *b ^= 0x80;
            }
            assert!(decide(&good, &other, &caller(1), m) == Err(MetaError::HashMismatch));
            let foreign = MapView {
                excl_prog_sha: Some(&other),
                ..good
            };
            assert!(decide(&foreign, &sha, &caller(1), m) == Err(MetaError::ForeignMap));
        }
        assert_eq!(MetaError::ForeignMap.to_errno(), EACCES.to_errno());
        assert_eq!(MetaError::HashMismatch.to_errno(), EINVAL.to_errno());
    }

    #[test]
    fn kfunc_promotes_a_signed_loader_with_matching_metadata() -> Result {
        let map = Map::new()?;
        map.set_exclusive(true);
        let sha = map.freeze_and_hash()?;
        assert!(sha != [0; 32]);
        let prog = Prog::new(&EXIT)?;
        prog.set_verdict(VERIFIED)?;
        assert_eq!(kfunc(&map, &sha, &prog)?, 0);
        assert_eq!(u32::from(prog.verdict()), PROMOTED);
        // Running again is idempotent.
        assert_eq!(kfunc(&map, &sha, &prog)?, 0);
        assert_eq!(u32::from(prog.verdict()), PROMOTED);
        Ok(())
    }

    #[test]
    fn kfunc_fails_closed_on_real_maps() -> Result {
        let prog = Prog::new(&EXIT)?;
        prog.set_verdict(VERIFIED)?;
        let einval = EINVAL.to_errno();

        // Unfrozen: no hash can be cached, the check must still say no.
        let unfrozen = Map::new()?;
        unfrozen.set_exclusive(true);
        assert_eq!(kfunc(&unfrozen, &unfrozen.sha(), &prog)?, einval);

        // Not exclusive.
        let shared = Map::new()?;
        let sha = shared.freeze_and_hash()?;
        assert_eq!(kfunc(&shared, &sha, &prog)?, einval);

        // Exclusive and frozen, but one byte of the hash differs, or the
        // size is wrong, or the hash was never computed.
        let map = Map::new()?;
        map.set_exclusive(true);
        let sha = map.freeze_and_hash()?;
        let mut bad = sha;
        bad[31] ^= 1;
        assert_eq!(kfunc(&map, &bad, &prog)?, einval);
        assert_eq!(kfunc(&map, &sha[..31], &prog)?, einval);
        let never = Map::new()?;
        never.set_exclusive(true);
        never.set_frozen(true);
        assert_eq!(kfunc(&never, &sha, &prog)?, einval);
        // A zero hash proves nothing, even equal to a never computed one.
        assert_eq!(kfunc(&never, &[0; 32], &prog)?, einval);
        assert_eq!(kfunc(&map, &[0; 32], &prog)?, einval);

        // A hash computed while frozen, then `frozen` false: "not frozen"
        // on its own, not through the zero-hash check.
        let thawed = Map::new()?;
        thawed.set_exclusive(true);
        let thawed_sha = thawed.freeze_and_hash()?;
        thawed.set_frozen(false);
        let (rc, why) = kfunc_reason(&thawed, &thawed_sha, &prog)?;
        assert_eq!(rc, einval);
        let not_frozen = MetaError::NotFrozen.reason().as_char_ptr();
        assert!(why == not_frozen);

        // Exclusive to another program than the caller: -EACCES.
        static OTHER: [u8; 32] = [0x42; 32];
        let foreign = Map::new()?;
        foreign.set_exclusive_to(Some(&OTHER));
        let foreign_sha = foreign.freeze_and_hash()?;
        assert_eq!(kfunc(&foreign, &foreign_sha, &prog)?, EACCES.to_errno());

        // None of this changed the verdict.
        assert_eq!(u32::from(prog.verdict()), VERIFIED);

        // An unsigned loader passes the checks but is never promoted.
        let unsigned = Prog::new(&EXIT)?;
        assert_eq!(kfunc(&map, &sha, &unsigned)?, 0);
        assert_eq!(unsigned.verdict(), 0);
        Ok(())
    }
}
