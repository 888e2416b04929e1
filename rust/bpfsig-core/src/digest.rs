// SPDX-License-Identifier: GPL-2.0
//! The program digest (`prog->digest`, whose first 8 bytes are `prog->tag`).
//!
//! Bit-identical to 7.2's `bpf_prog_calc_tag()`: SHA-256 over the instructions
//! with both imm halves of a map-fd or map-value `ld_imm64` zeroed, because fds
//! are not stable across loads. 7.2 copies the whole program into a vmalloc'd
//! buffer first; here unmodified runs are hashed in place and only a masked slot
//! is copied (8 bytes on the stack), so the cost is one pass and no allocation.

use crate::insn::{Insn, Insns, BPF_PSEUDO_MAP_FD, BPF_PSEUDO_MAP_VALUE, INSN_SIZE, LD_IMM64};
use crate::sha256::Sha256;

/// Length of a digest.
pub const DIGEST_SIZE: usize = 32;

/// The masking rule of `bpf_prog_calc_tag()`, one slot at a time.
///
/// Note the quirk it preserves: after a map `ld_imm64` whose second slot is not
/// a valid continuation, that slot is *not* considered as the start of a new
/// map load, exactly as in C.
#[derive(Clone, Copy, Debug, Default)]
pub struct MaskState {
    was_ld_map: bool,
}

impl MaskState {
    /// Whether `insn`'s imm is excluded from the digest, advancing the state.
    pub fn step(&mut self, insn: &Insn) -> bool {
        if !self.was_ld_map
            && insn.is_ld_imm64()
            && (insn.src_reg == BPF_PSEUDO_MAP_FD || insn.src_reg == BPF_PSEUDO_MAP_VALUE)
        {
            self.was_ld_map = true;
            true
        } else if self.was_ld_map
            && insn.code == 0
            && insn.dst_reg == 0
            && insn.src_reg == 0
            && insn.off == 0
        {
            self.was_ld_map = false;
            true
        } else {
            self.was_ld_map = false;
            false
        }
    }
}

/// Bytes of program staged on the stack between hash updates: large enough
/// that SHA-256 sees whole runs of blocks, small enough for a kernel stack.
const STAGE: usize = 512;

/// Computes the digest of `insns` with the SHA-256 state `h`, streaming.
///
/// Unmasked runs of at least [`STAGE`] bytes are hashed in place; everything
/// else (short runs and zeroed slots) goes through a `STAGE`-byte buffer, so
/// the hash is fed in large pieces without a copy of the program.
pub fn prog_digest<H: Sha256>(insns: &Insns<'_>, mut h: H) -> [u8; DIGEST_SIZE] {
    let bytes = insns.as_bytes();
    let mut stage = [0u8; STAGE];
    let mut staged = 0usize;
    let mut state = MaskState::default();
    // Start of the run of input bytes not yet staged or hashed.
    let mut pending = 0usize;
    let mut at = 0usize;

    let flush_run = |h: &mut H, stage: &mut [u8; STAGE], staged: &mut usize, run: &[u8]| {
        if run.len() >= STAGE {
            h.update(stage.get(..*staged).unwrap_or_default());
            *staged = 0;
            h.update(run);
            return;
        }
        let mut rest = run;
        while !rest.is_empty() {
            let room = STAGE.saturating_sub(*staged);
            let (now, later) = rest.split_at(room.min(rest.len()));
            if let Some(dst) = stage.get_mut(*staged..staged.saturating_add(now.len())) {
                dst.copy_from_slice(now);
            }
            *staged = staged.saturating_add(now.len());
            if *staged == STAGE {
                h.update(stage);
                *staged = 0;
            }
            rest = later;
        }
    };

    for slot in bytes.chunks_exact(INSN_SIZE) {
        let next = at.saturating_add(INSN_SIZE);
        // Most slots can neither start nor continue a map load: skip the
        // decoding (this loop runs for every instruction of every load).
        if !state.was_ld_map && slot.first() != Some(&LD_IMM64) {
            at = next;
            continue;
        }
        let Ok(raw) = <[u8; INSN_SIZE]>::try_from(slot) else {
            break;
        };
        let insn = Insn::from_bytes(raw);
        if state.step(&insn) && insn.imm != 0 {
            flush_run(
                &mut h,
                &mut stage,
                &mut staged,
                bytes.get(pending..at).unwrap_or_default(),
            );
            flush_run(
                &mut h,
                &mut stage,
                &mut staged,
                &Insn { imm: 0, ..insn }.to_bytes(),
            );
            pending = next;
        }
        at = next;
    }
    flush_run(
        &mut h,
        &mut stage,
        &mut staged,
        bytes.get(pending..).unwrap_or_default(),
    );
    h.update(stage.get(..staged).unwrap_or_default());
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::insn::LD_IMM64;
    use std::vec::Vec;

    use bpfsig_testkit::naive_digest as naive;

    fn ins(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> [u8; 8] {
        Insn {
            code,
            dst_reg: dst,
            src_reg: src,
            off,
            imm,
        }
        .to_bytes()
    }

    fn digest(bytes: &[u8]) -> [u8; 32] {
        prog_digest(&Insns::new(bytes).unwrap(), sha2::Sha256::default())
    }

    #[test]
    fn masks_map_fd_and_value_loads() {
        let with_fd = |fd: i32, off: i32| {
            [
                ins(LD_IMM64, 1, BPF_PSEUDO_MAP_FD, 0, fd),
                ins(0, 0, 0, 0, off),
                ins(0x95, 0, 0, 0, 0),
            ]
            .concat()
        };
        // The fd and the second imm are not part of the digest...
        assert_eq!(digest(&with_fd(3, 0)), digest(&with_fd(7, 9)));
        // ...but everything else is.
        assert_ne!(
            digest(&with_fd(3, 0)),
            digest(&[with_fd(3, 0), ins(0x95, 0, 0, 0, 0).to_vec()].concat())
        );
        let idx = |i: i32| [ins(LD_IMM64, 1, 5, 0, i), ins(0, 0, 0, 0, 0)].concat();
        // MAP_IDX is stable across loads and therefore hashed.
        assert_ne!(digest(&idx(0)), digest(&idx(1)));
    }

    #[test]
    fn edge_cases_match_the_c_rule() {
        let cases: [Vec<u8>; 5] = [
            // a map ld_imm64 as the last slot
            [
                ins(0xb7, 0, 0, 0, 1),
                ins(LD_IMM64, 1, BPF_PSEUDO_MAP_VALUE, 0, 5),
            ]
            .concat(),
            // a second slot that is not a valid continuation
            [
                ins(LD_IMM64, 1, BPF_PSEUDO_MAP_FD, 0, 5),
                ins(0, 0, 0, 1, 6),
            ]
            .concat(),
            // back-to-back map loads: the second "first slot" is eaten as a
            // bad continuation and keeps its imm
            [
                ins(LD_IMM64, 1, BPF_PSEUDO_MAP_FD, 0, 5),
                ins(LD_IMM64, 2, BPF_PSEUDO_MAP_FD, 0, 6),
                ins(0, 0, 0, 0, 7),
            ]
            .concat(),
            [
                ins(LD_IMM64, 1, BPF_PSEUDO_MAP_FD, 0, 5),
                ins(0, 0, 0, 0, 1),
                ins(LD_IMM64, 2, BPF_PSEUDO_MAP_VALUE, 0, 6),
                ins(0, 0, 0, 0, 7),
            ]
            .concat(),
            Vec::new(),
        ];
        for c in &cases {
            assert_eq!(digest(c), naive(c));
        }
        // Runs around the staging size: shorter, equal and longer than STAGE
        // bytes on either side of masked loads.
        for (a, b) in [
            (63usize, 64usize),
            (64, 63),
            (64, 64),
            (65, 200),
            (200, 1),
            (1, 130),
        ] {
            let plain = |n: usize| {
                (0..n)
                    .flat_map(|i| ins(0x07, 1, 0, 0, i as i32))
                    .collect::<Vec<u8>>()
            };
            let p = [
                plain(a),
                ins(LD_IMM64, 1, BPF_PSEUDO_MAP_FD, 0, 7).to_vec(),
                ins(0, 0, 0, 0, 9).to_vec(),
                plain(b),
            ]
            .concat();
            assert_eq!(digest(&p), naive(&p), "runs {a} and {b}");
        }
        // The quirk is real: the naive reference keeps the imm of slot 1 of case 2.
        let mut changed = cases[2].clone();
        changed[12] ^= 1;
        assert_ne!(naive(&cases[2]), naive(&changed));
    }
}
