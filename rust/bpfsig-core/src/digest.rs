// SPDX-License-Identifier: GPL-2.0
//! The program digest (`prog->digest`, whose first 8 bytes are `prog->tag`).
//!
//! Bit-identical to 7.2's `bpf_prog_calc_tag()`: SHA-256 over the instructions
//! with both imm halves of a map-fd or map-value `ld_imm64` zeroed, because fds
//! are not stable across loads. 7.2 vmallocs a masked copy of the program and
//! hashes that. Here the imms are zeroed in place, a bounded number at a time,
//! each stretch of the program is hashed where it lies, and the imms are put
//! back: no allocation, no copy, and few calls into SHA-256 (each of which
//! costs a SIMD section in the kernel).

use crate::insn::{Insn, InsnsMut, BPF_PSEUDO_MAP_FD, BPF_PSEUDO_MAP_VALUE, INSN_SIZE, LD_IMM64};
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

/// How many non-zero imms are zeroed before a stretch is hashed and they are
/// restored: the stack cost (8 bytes each) against the number of SHA-256 calls.
pub const SAVED_IMMS: usize = 64;

/// Byte offset of `imm` in an instruction slot.
const IMM_OFF: usize = 4;

/// Imms zeroed in the stretch being hashed: their slots' offsets from the
/// start of the stretch and their original bytes.
struct Zeroed<const N: usize> {
    rel: [u32; N],
    imm: [[u8; 4]; N],
    len: usize,
}

// Its stack cost (520 bytes), well under the 2 KiB frame limit C is held to.
const _: () = assert!(core::mem::size_of::<Zeroed<SAVED_IMMS>>() <= 520);

impl<const N: usize> Zeroed<N> {
    /// With no room for an imm nothing could be masked.
    const NOT_EMPTY: () = assert!(N > 0);

    /// Puts every saved imm back into `stretch` and forgets them.
    fn restore(&mut self, stretch: &mut [u8]) {
        for (&rel, &imm) in self.rel.iter().zip(&self.imm).take(self.len) {
            if let Some(dst) = imm_mut(stretch, rel as usize) {
                *dst = imm;
            }
        }
        self.len = 0;
    }
}

/// The imm of the slot at byte offset `at`, as a fixed-size array so that
/// saving, zeroing and restoring it are single moves (a slice copy would be
/// a `memcpy()` call per map load in the kernel).
fn imm_mut(bytes: &mut [u8], at: usize) -> Option<&mut [u8; 4]> {
    let imm = bytes.get_mut(at.checked_add(IMM_OFF)?..at.checked_add(INSN_SIZE)?)?;
    <&mut [u8; 4]>::try_from(imm).ok()
}

/// Computes the digest of `insns` with the SHA-256 state `h`.
///
/// The program is modified while this runs and is as it was when it returns:
/// the caller must own it exclusively (at `BPF_PROG_LOAD` entry nobody else can
/// see it yet), which `&mut` guarantees here.
pub fn prog_digest<H: Sha256>(insns: &mut InsnsMut<'_>, h: H) -> [u8; DIGEST_SIZE] {
    prog_digest_batched::<H, SAVED_IMMS>(insns, h)
}

/// [`prog_digest`] zeroing up to `N` imms per stretch; the same digest for any
/// `N` > 0. A parameter so that tests can put the stretch boundary anywhere.
pub fn prog_digest_batched<H: Sha256, const N: usize>(
    insns: &mut InsnsMut<'_>,
    mut h: H,
) -> [u8; DIGEST_SIZE] {
    let () = Zeroed::<N>::NOT_EMPTY;
    let bytes = insns.bytes_mut();
    let mut zeroed = Zeroed::<N> {
        rel: [0; N],
        imm: [[0; 4]; N],
        len: 0,
    };
    let mut state = MaskState::default();
    // Start of the stretch not hashed yet.
    let mut from = 0usize;
    let mut at = 0usize;

    while let Some(slot) = bytes.get(at..at.saturating_add(INSN_SIZE)) {
        // Most slots can neither start nor continue a map load: skip the
        // decoding (this loop runs for every instruction of every load).
        if !state.was_ld_map && slot.first() != Some(&LD_IMM64) {
            at = at.saturating_add(INSN_SIZE);
            continue;
        }
        let Ok(raw) = <[u8; INSN_SIZE]>::try_from(slot) else {
            break;
        };
        let insn = Insn::from_bytes(raw);
        // The rule reads code, registers and off, never imm, so zeroing imms
        // cannot change a later decision.
        if state.step(&insn) && insn.imm != 0 {
            // A full set, or (beyond 4 GiB) an offset u32 cannot hold: hash
            // the stretch so far, restore it and start the next one here.
            let rel = match at.checked_sub(from).and_then(|d| u32::try_from(d).ok()) {
                Some(rel) if zeroed.len < N => rel,
                _ => {
                    h.update(bytes.get(from..at).unwrap_or_default());
                    zeroed.restore(bytes.get_mut(from..).unwrap_or_default());
                    from = at;
                    0
                }
            };
            if let (Some(imm), Some(r), Some(i)) = (
                imm_mut(bytes, at),
                zeroed.rel.get_mut(zeroed.len),
                zeroed.imm.get_mut(zeroed.len),
            ) {
                *r = rel;
                *i = *imm;
                *imm = [0; 4];
                zeroed.len = zeroed.len.saturating_add(1);
            }
        }
        at = at.saturating_add(INSN_SIZE);
    }
    h.update(bytes.get(from..).unwrap_or_default());
    zeroed.restore(bytes.get_mut(from..).unwrap_or_default());
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

    /// The digest of a copy of `bytes`, checking the copy is left as it was.
    fn digest_n<const N: usize>(bytes: &[u8]) -> [u8; 32] {
        let mut copy = bytes.to_vec();
        let d = prog_digest_batched::<_, N>(
            &mut InsnsMut::new(&mut copy).unwrap(),
            sha2::Sha256::default(),
        );
        assert_eq!(copy, bytes, "the program was not restored (N = {N})");
        d
    }

    fn digest(bytes: &[u8]) -> [u8; 32] {
        digest_n::<SAVED_IMMS>(bytes)
    }

    /// `n` map-value loads, each after a plain instruction, all `2 n` imms
    /// non-zero.
    fn dense(n: usize) -> Vec<u8> {
        (0..n as i32)
            .flat_map(|i| {
                [
                    ins(0x07, 1, 0, 0, i),
                    ins(LD_IMM64, 1, BPF_PSEUDO_MAP_VALUE, 0, i + 1),
                    ins(0, 0, 0, 0, i + 2),
                ]
                .concat()
            })
            .collect()
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
        // The quirk is real: the naive reference keeps the imm of slot 1 of case 2.
        let mut changed = cases[2].clone();
        changed[12] ^= 1;
        assert_ne!(naive(&cases[2]), naive(&changed));
    }

    #[test]
    fn stretch_boundaries_anywhere() {
        let half = SAVED_IMMS / 2;
        // Fewer, exactly as many, one more and several times as many
        // non-zero imms as one stretch holds.
        for n in [half - 1, half, half + 1, SAVED_IMMS * 3 + 1] {
            let p = dense(n);
            assert_eq!(digest(&p), naive(&p), "{n} loads");
            // Stretches of 1, 2 and 3 imms end inside a map load, between
            // loads and on the last slot.
            assert_eq!(digest_n::<1>(&p), naive(&p), "{n} loads, N = 1");
            assert_eq!(digest_n::<2>(&p), naive(&p), "{n} loads, N = 2");
            assert_eq!(digest_n::<3>(&p), naive(&p), "{n} loads, N = 3");
        }
        // A full stretch, then one more imm in the program's last slot.
        let mut p = dense(half);
        p.extend_from_slice(&ins(LD_IMM64, 1, BPF_PSEUDO_MAP_FD, 0, 0));
        p.extend_from_slice(&ins(0, 0, 0, 0, 5));
        assert_eq!(digest(&p), naive(&p));
        // Zero imms take no room: only the non-zero ones count.
        let mut q = dense(half);
        for load in q.chunks_exact_mut(24) {
            load[20..24].fill(0);
        }
        assert_eq!(digest_n::<1>(&q), naive(&q));
    }
}
