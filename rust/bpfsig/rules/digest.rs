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

use super::insn::{Insn, InsnsMut, BPF_PSEUDO_MAP_FD, BPF_PSEUDO_MAP_VALUE, INSN_SIZE, LD_IMM64};
use super::sha256::Sha256;

/// Length of a digest.
pub const DIGEST_SIZE: usize = 32;

/// Whether the slot at byte `at` is the first slot of a map-fd or map-value
/// `ld_imm64`, whose imm the digest excludes.
fn starts_map_load(bytes: &[u8], at: usize) -> bool {
    slot(bytes, at).is_some_and(|s| {
        let insn = Insn::from_bytes(s);
        insn.is_ld_imm64()
            && (insn.src_reg == BPF_PSEUDO_MAP_FD || insn.src_reg == BPF_PSEUDO_MAP_VALUE)
    })
}

/// Whether the slot at byte `at` is a valid second slot (code, registers and
/// off all zero), whose imm the digest excludes after a map load's first.
fn continues_map_load(bytes: &[u8], at: usize) -> bool {
    slot(bytes, at).is_some_and(|s| {
        let insn = Insn::from_bytes(s);
        insn.code == 0 && insn.dst_reg == 0 && insn.src_reg == 0 && insn.off == 0
    })
}

fn slot(bytes: &[u8], at: usize) -> Option<[u8; INSN_SIZE]> {
    let s = bytes.get(at..at.checked_add(INSN_SIZE)?)?;
    <[u8; INSN_SIZE]>::try_from(s).ok()
}

/// Byte offset of the first `ld_imm64` slot at or after byte `at`, a slot
/// boundary.
///
/// This runs over every instruction of every load, so it reads only the code
/// byte of each slot, four slots per step (about 3 machine instructions per
/// BPF instruction; C's masking loop spends 12 on each as it copies it).
#[inline]
fn next_ld_imm64(bytes: &[u8], at: usize) -> Option<usize> {
    // Plain loops and fixed indices: an iterator adapter with a counter would
    // carry an overflow check and a panic path in the kernel build.
    const STEP: usize = 4 * INSN_SIZE;
    let mut quads = bytes.get(at..)?.chunks_exact(STEP);
    let mut base = at;
    for quad in &mut quads {
        let Ok(q) = <&[u8; STEP]>::try_from(quad) else {
            return None;
        };
        let k = if q[0] == LD_IMM64 {
            0
        } else if q[INSN_SIZE] == LD_IMM64 {
            INSN_SIZE
        } else if q[2 * INSN_SIZE] == LD_IMM64 {
            2 * INSN_SIZE
        } else if q[3 * INSN_SIZE] == LD_IMM64 {
            3 * INSN_SIZE
        } else {
            base = base.checked_add(STEP)?;
            continue;
        };
        return base.checked_add(k);
    }
    for s in quads.remainder().chunks_exact(INSN_SIZE) {
        if s.first() == Some(&LD_IMM64) {
            return Some(base);
        }
        base = base.checked_add(INSN_SIZE)?;
    }
    None
}

/// How many map loads have their imms zeroed before a stretch is hashed and
/// they are restored: the stack cost (12 bytes each) against the number of
/// SHA-256 calls.
pub const SAVED_LOADS: usize = 32;

/// Byte offset of `imm` in an instruction slot.
const IMM_OFF: usize = 4;

/// The map loads whose imms are zeroed in the stretch being hashed: the
/// offsets of their first slots from the start of the stretch, and both imms
/// as they were. The second is saved and put back even when it stays in the
/// digest (not a valid continuation): writing back what is there changes
/// nothing, and the restore need not know which rule applied.
struct Zeroed<const N: usize> {
    rel: [u32; N],
    imms: [[[u8; 4]; 2]; N],
    len: usize,
}

// Its stack cost (392 bytes), well under the 2 KiB frame limit C is held to.
const _: () = assert!(core::mem::size_of::<Zeroed<SAVED_LOADS>>() <= 392);

impl<const N: usize> Zeroed<N> {
    /// With no room for a load nothing could be masked.
    const NOT_EMPTY: () = assert!(N > 0);

    /// Zeroes the imm of the map load whose first slot is at byte `first`,
    /// and the second slot's imm if `both`, saving them. When the set is full
    /// (or, beyond 4 GiB, the offset does not fit a `u32`), the stretch so
    /// far is hashed and restored first and a new one starts at `first`.
    #[inline]
    fn zero<H: Sha256>(
        &mut self,
        bytes: &mut [u8],
        from: &mut usize,
        first: usize,
        both: bool,
        h: &mut H,
    ) {
        let second = first.saturating_add(INSN_SIZE);
        let Some(imm0) = imm(bytes, first) else {
            return;
        };
        let imm1 = imm(bytes, second).unwrap_or_default();
        if imm0 == [0; 4] && (!both || imm1 == [0; 4]) {
            return;
        }
        let rel = match first.checked_sub(*from).and_then(|d| u32::try_from(d).ok()) {
            Some(rel) if self.len < N => rel,
            _ => {
                h.update(bytes.get(*from..first).unwrap_or_default());
                self.restore(bytes.get_mut(*from..).unwrap_or_default());
                *from = first;
                0
            }
        };
        let (Some(r), Some(i)) = (self.rel.get_mut(self.len), self.imms.get_mut(self.len)) else {
            return;
        };
        *r = rel;
        *i = [imm0, imm1];
        self.len = self.len.saturating_add(1);
        if let Some(imm) = imm_mut(bytes, first) {
            *imm = [0; 4];
        }
        if both {
            if let Some(imm) = imm_mut(bytes, second) {
                *imm = [0; 4];
            }
        }
    }

    /// Puts every saved imm back into `stretch` and forgets them.
    fn restore(&mut self, stretch: &mut [u8]) {
        for (&rel, &[imm0, imm1]) in self.rel.iter().zip(&self.imms).take(self.len) {
            let first = rel as usize;
            if let Some(dst) = imm_mut(stretch, first) {
                *dst = imm0;
            }
            if let Some(dst) = imm_mut(stretch, first.saturating_add(INSN_SIZE)) {
                *dst = imm1;
            }
        }
        self.len = 0;
    }
}

/// The imm of the slot at byte offset `at`.
fn imm(bytes: &[u8], at: usize) -> Option<[u8; 4]> {
    let imm = bytes.get(at.checked_add(IMM_OFF)?..at.checked_add(INSN_SIZE)?)?;
    <[u8; 4]>::try_from(imm).ok()
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
    prog_digest_batched::<H, SAVED_LOADS>(insns, h)
}

/// [`prog_digest`] zeroing the imms of up to `N` loads per stretch; the same digest for any
/// `N` > 0. A parameter so that tests can put the stretch boundary anywhere.
pub fn prog_digest_batched<H: Sha256, const N: usize>(
    insns: &mut InsnsMut<'_>,
    mut h: H,
) -> [u8; DIGEST_SIZE] {
    let () = Zeroed::<N>::NOT_EMPTY;
    let bytes = insns.bytes_mut();
    let mut zeroed = Zeroed::<N> {
        rel: [0; N],
        imms: [[[0; 4]; 2]; N],
        len: 0,
    };
    // Start of the stretch not hashed yet.
    let mut from = 0usize;
    let mut next = 0usize;

    // 7.2's rule: the slot after a map load's first slot is its second slot
    // whatever it holds, so it never starts a map load itself (even when its
    // imm stays in the digest because it is not a valid continuation). Imms
    // are the only bytes changed and the rule never reads them, so zeroing
    // one cannot change a later decision.
    while let Some(first) = next_ld_imm64(bytes, next) {
        next = first.saturating_add(INSN_SIZE);
        if !starts_map_load(bytes, first) {
            continue;
        }
        let both = continues_map_load(bytes, next);
        next = next.saturating_add(INSN_SIZE);
        zeroed.zero(bytes, &mut from, first, both, &mut h);
    }
    h.update(bytes.get(from..).unwrap_or_default());
    zeroed.restore(bytes.get_mut(from..).unwrap_or_default());
    h.finish()
}
