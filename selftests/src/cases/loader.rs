// SPDX-License-Identifier: GPL-2.0
//! Signed loaders end to end (SPEC §1-§5, §7): real PKCS#7 signatures over
//! `insns || BTF`, a real exclusive, frozen metadata map, the kfunc called
//! through program BTF, and a BPF LSM probe on the post-integrity hook.

use super::{go, kfunc_failed, load_failed, loaded};
use crate::loader::{Scenario, Tamper};
use crate::{check, Ctx, Outcome};

const EINVAL: i32 = -22;
const EACCES: i32 = -13;
const E2BIG: i32 = -7;
const ENOENT: i32 = -2;
const EPERM: i32 = -1;
const EKEYREJECTED: i32 = -129;
const UNSIGNED: u64 = 0;
const VERIFIED: u64 = 1;
const METADATA_VERIFIED: u64 = 2;

pub const CASES: &[crate::Case] = &[
    (
        "signed_loader_is_metadata_verified_and_hook_runs_once",
        signed_loader_verified,
    ),
    ("changed_metadata_byte_is_einval", changed_metadata),
    ("non_exclusive_map_is_einval", non_exclusive),
    ("unfrozen_map_is_einval", unfrozen),
    ("hash_never_computed_is_einval", hash_never_computed),
    ("hash_size_not_32_is_einval", bad_hash_size),
    ("unsigned_loader_checked_not_promoted", unsigned_loader),
    ("flipped_insn_byte_is_ekeyrejected", flipped_insn),
    ("flipped_btf_byte_is_ekeyrejected", flipped_btf),
    ("other_valid_btf_is_ekeyrejected", other_btf),
    ("prog_btf_call_without_btf_is_einval", call_without_btf),
    ("prog_btf_call_bad_id_is_einval", call_bad_id),
    ("prog_btf_call_unknown_name_is_enoent", call_unknown_name),
    ("prog_btf_call_nonzero_off_is_einval", call_nonzero_off),
    ("lsm_deny_on_post_integrity_is_returned", lsm_deny),
    (
        "signed_7_2_inline_check_loader_still_loads",
        inline_check_loader,
    ),
    (
        "unsigned_7_2_inline_check_loader_is_left_alone",
        unsigned_inline_check_loader,
    ),
    ("signed_load_with_core_relos_is_einval", signed_core_relo),
    (
        "insns_only_signature_with_16mib_btf_is_e2big",
        huge_btf_e2big,
    ),
    (
        "unsigned_prog_btf_call_cannot_bind_exclusive_map",
        unsigned_prog_btf_call_exclusive,
    ),
    (
        "other_btf_prog_btf_call_cannot_bind_exclusive_map",
        other_btf_prog_btf_call_exclusive,
    ),
];

/// A signed loader whose kfunc must fail with -EINVAL and leave it VERIFIED.
fn signed_kfunc_einval(ctx: &mut Ctx, sc: Scenario) -> Outcome {
    kfunc_failed(&scenario!(ctx, sc), EINVAL, VERIFIED)
}

fn signed_loader_verified(ctx: &mut Ctx) -> Outcome {
    let r = scenario!(ctx, Scenario::default());
    if let Err(o) = loaded(&r) {
        return o;
    }
    check!(r.retval == 0, "kfunc returned {}", r.retval);
    check!(r.verdict == METADATA_VERIFIED, "verdict {}", r.verdict);
    check!(
        r.hook_calls == 1,
        "post-integrity hook ran {} times",
        r.hook_calls
    );
    check!(r.hook_saw_this_prog, "the hook saw another program");
    Outcome::Pass
}

fn changed_metadata(ctx: &mut Ctx) -> Outcome {
    signed_kfunc_einval(
        ctx,
        Scenario {
            tamper: Tamper::Metadata,
            ..Scenario::default()
        },
    )
}

fn non_exclusive(ctx: &mut Ctx) -> Outcome {
    signed_kfunc_einval(
        ctx,
        Scenario {
            exclusive: false,
            ..Scenario::default()
        },
    )
}

fn unfrozen(ctx: &mut Ctx) -> Outcome {
    // Without freezing, the kernel refuses to compute the hash at all.
    signed_kfunc_einval(
        ctx,
        Scenario {
            freeze: false,
            compute_hash: false,
            ..Scenario::default()
        },
    )
}

fn hash_never_computed(ctx: &mut Ctx) -> Outcome {
    signed_kfunc_einval(
        ctx,
        Scenario {
            compute_hash: false,
            ..Scenario::default()
        },
    )
}

fn bad_hash_size(ctx: &mut Ctx) -> Outcome {
    signed_kfunc_einval(
        ctx,
        Scenario {
            hash_sz: 31,
            ..Scenario::default()
        },
    )
}

/// An unsigned loader reaches the kfunc by its vmlinux id (a PROG_BTF call
/// could not bind the exclusive map, SPEC §4).
fn unsigned_loader(ctx: &mut Ctx) -> Outcome {
    let unsigned = Scenario {
        signed: false,
        with_btf: false,
        vmlinux_call: true,
        ..Scenario::default()
    };
    let r = scenario!(ctx, unsigned);
    if let Err(o) = loaded(&r) {
        return o;
    }
    check!(r.retval == 0, "kfunc returned {}", r.retval);
    check!(r.verdict == UNSIGNED, "verdict {}", r.verdict);
    check!(
        r.hook_calls == 0,
        "post-integrity hook ran {} times",
        r.hook_calls
    );
    // The checks still run for it.
    kfunc_failed(
        &scenario!(
            ctx,
            Scenario {
                compute_hash: false,
                ..unsigned
            }
        ),
        EINVAL,
        UNSIGNED,
    )
}

fn flipped_insn(ctx: &mut Ctx) -> Outcome {
    load_failed(
        &scenario!(
            ctx,
            Scenario {
                tamper: Tamper::Insn,
                ..Scenario::default()
            }
        ),
        EKEYREJECTED,
        "",
    )
}

fn flipped_btf(ctx: &mut Ctx) -> Outcome {
    load_failed(
        &scenario!(
            ctx,
            Scenario {
                tamper: Tamper::BtfByte,
                ..Scenario::default()
            }
        ),
        EKEYREJECTED,
        "",
    )
}

fn other_btf(ctx: &mut Ctx) -> Outcome {
    load_failed(
        &scenario!(
            ctx,
            Scenario {
                tamper: Tamper::OtherBtf,
                ..Scenario::default()
            }
        ),
        EKEYREJECTED,
        "",
    )
}

/// Resolution errors are checked on unsigned programs with a shared map:
/// with an exclusive one, §4's rule refuses them before resolution.
const UNSIGNED_RESOLUTION: Scenario = Scenario {
    signed: false,
    exclusive: false,
    ..DEFAULT
};
const DEFAULT: Scenario = Scenario::DEFAULT;

fn call_without_btf(ctx: &mut Ctx) -> Outcome {
    let r = scenario!(
        ctx,
        Scenario {
            signed: false,
            with_btf: false,
            ..UNSIGNED_RESOLUTION
        }
    );
    load_failed(&r, EINVAL, "has no BTF")
}

fn call_bad_id(ctx: &mut Ctx) -> Outcome {
    for id in [0, 1, 4, 6, -1] {
        let r = scenario!(
            ctx,
            Scenario {
                signed: false,
                call_imm: Some(id),
                ..UNSIGNED_RESOLUTION
            }
        );
        if let Outcome::Fail(f) = load_failed(&r, EINVAL, "not a FUNC") {
            return Outcome::Fail(format!("imm {id}: {f}"));
        }
    }
    Outcome::Pass
}

fn call_unknown_name(ctx: &mut Ctx) -> Outcome {
    // Unsigned: the load must fail in resolution, not in signature checking.
    let r = scenario!(
        ctx,
        Scenario {
            signed: false,
            func_name: "bpf_no_such_kfunc",
            ..UNSIGNED_RESOLUTION
        }
    );
    load_failed(&r, ENOENT, "no function of that name")
}

fn call_nonzero_off(ctx: &mut Ctx) -> Outcome {
    load_failed(
        &scenario!(
            ctx,
            Scenario {
                signed: false,
                call_off: 1,
                ..UNSIGNED_RESOLUTION
            }
        ),
        EINVAL,
        "off must be 0",
    )
}

fn lsm_deny(ctx: &mut Ctx) -> Outcome {
    match ctx.loader_env() {
        Ok((_, probe)) => probe.set_deny(true),
        Err(e) => return Outcome::Fail(format!("setup: {e}")),
    }
    let r = go(ctx, Scenario::default());
    if let Ok((_, probe)) = ctx.loader_env() {
        probe.set_deny(false);
    }
    let r = match r {
        Ok(r) => r,
        Err(o) => return o,
    };
    if let Err(o) = loaded(&r) {
        return o;
    }
    check!(
        r.retval == EPERM,
        "kfunc returned {}, expected the LSM's -EPERM",
        r.retval
    );
    check!(
        r.verdict == VERIFIED,
        "verdict {} (must stay VERIFIED)",
        r.verdict
    );
    check!(
        r.hook_calls == 1,
        "post-integrity hook ran {} times",
        r.hook_calls
    );
    Outcome::Pass
}

fn inline_check_loader(ctx: &mut Ctx) -> Outcome {
    let r = scenario!(
        ctx,
        Scenario {
            with_btf: false,
            inline_check: true,
            ..Scenario::default()
        }
    );
    if let Err(o) = loaded(&r) {
        return o;
    }
    check!(r.retval == 0, "inline check returned {}", r.retval);
    check!(r.verdict == VERIFIED, "verdict {}", r.verdict);
    check!(
        r.hook_calls == 0,
        "post-integrity hook ran {} times",
        r.hook_calls
    );
    Outcome::Pass
}

/// SPEC §3: an unsigned 7.2-style loader (inline check, no kfunc) is left
/// alone: it loads, its check decides, nothing is promoted or hooked.
fn unsigned_inline_check_loader(ctx: &mut Ctx) -> Outcome {
    for (tamper, want) in [(Tamper::None, 0), (Tamper::Metadata, -22)] {
        let r = scenario!(
            ctx,
            Scenario {
                with_btf: false,
                inline_check: true,
                signed: false,
                tamper,
                ..Scenario::default()
            }
        );
        if let Err(o) = loaded(&r) {
            return o;
        }
        check!(
            r.retval == want,
            "inline check returned {}, expected {want}",
            r.retval
        );
        check!(r.verdict == 0, "verdict {} (expected UNSIGNED)", r.verdict);
        check!(
            r.hook_calls == 0,
            "post-integrity hook ran {} times",
            r.hook_calls
        );
    }
    Outcome::Pass
}

/// SPEC §4: CO-RE relocations are unsigned input that rewrite signed
/// instructions after the signature check.
fn signed_core_relo(ctx: &mut Ctx) -> Outcome {
    let r = scenario!(
        ctx,
        Scenario {
            core_relo: true,
            ..Scenario::default()
        }
    );
    load_failed(&r, EINVAL, "signed programs cannot carry CO-RE relocations")
}

/// SPEC §4: a PROG_BTF call is resolved through BTF the digest does not
/// cover; without a signature over that BTF the loader's digested
/// instructions must not get its exclusive map.
fn unsigned_prog_btf_call_exclusive(ctx: &mut Ctx) -> Outcome {
    let r = scenario!(
        ctx,
        Scenario {
            signed: false,
            ..Scenario::default()
        }
    );
    load_failed(
        &r,
        EACCES,
        "program-BTF kfunc calls and no signature over its BTF",
    )
}

/// The attack itself: the loader's exact instructions, unsigned, with a
/// BTF that names another kfunc whose prototype fits the call
/// (`int bpf_strncasecmp(const char *, const char *, size_t)`, allowed for
/// every program type): before §4 it bound the loader's map and ran it.
/// The resolver, which runs before any map is bound, refuses the name
/// first; `unsigned_prog_btf_call_cannot_bind_exclusive_map` holds the
/// exclusive-map rule for a name it accepts.
fn other_btf_prog_btf_call_exclusive(ctx: &mut Ctx) -> Outcome {
    let r = scenario!(
        ctx,
        Scenario {
            signed: false,
            func_name: "bpf_strncasecmp",
            len_size: 8,
            ..Scenario::default()
        }
    );
    load_failed(&r, EACCES, "not a loader kfunc")
}

/// Review finding: the signed bytes are read through a 24-bit dynptr size,
/// so insns || 16 MiB of BTF was verified as the instructions alone: an
/// insns-only signature vouched for any BTF.
fn huge_btf_e2big(ctx: &mut Ctx) -> Outcome {
    let r = scenario!(
        ctx,
        Scenario {
            tamper: Tamper::HugeBtf,
            ..Scenario::default()
        }
    );
    load_failed(&r, E2BIG, "")
}
