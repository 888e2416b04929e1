// SPDX-License-Identifier: GPL-2.0
//! The bytes a loader's signature covers: the one place that knows the layout.
//!
//! Without BTF covering the kernel verifies the raw instructions (Linux 7.2).
//! When the load asks for its BTF to be covered, the signed data is a
//! 16-byte header, then the instructions, then the raw BTF:
//!
//! ```text
//! offset 0  u8[8]  magic  00 'B' 'P' 'F' 'S' 'I' 'G' 01
//! offset 8  le32   insn_bytes
//! offset 12 le32   btf_bytes
//! offset 16        insns (insn_bytes) || btf (btf_bytes)
//! ```
//!
//! The first byte 0x00 is an opcode no verifier accepts, so signed header
//! bytes are never themselves a loadable program, and the two lengths bind
//! the split between instructions and BTF (no other split verifies).

/// `BPFSIG_MAGIC`: the first 8 bytes of BTF-covering signed data.
pub const MAGIC: [u8; 8] = [0x00, b'B', b'P', b'F', b'S', b'I', b'G', 0x01];
/// Size of the header before the instructions.
pub const HEADER_LEN: usize = 16;

/// What a signature covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Linux 7.2: the raw instructions only.
    InsnsOnly,
    /// Header, instructions and the loader's BTF.
    InsnsAndBtf,
}

impl Scope {
    /// Stable name used in the JSON report.
    pub const fn name(self) -> &'static str {
        match self {
            Self::InsnsOnly => "insns",
            Self::InsnsAndBtf => "header+insns+btf",
        }
    }
}

/// The 16-byte header for these lengths; `None` if a length exceeds u32.
pub fn header(insn_bytes: usize, btf_bytes: usize) -> Option<[u8; HEADER_LEN]> {
    let i = u32::try_from(insn_bytes).ok()?.to_le_bytes();
    let b = u32::try_from(btf_bytes).ok()?.to_le_bytes();
    let [m0, m1, m2, m3, m4, m5, m6, m7] = MAGIC;
    let [i0, i1, i2, i3] = i;
    let [b0, b1, b2, b3] = b;
    Some([
        m0, m1, m2, m3, m4, m5, m6, m7, i0, i1, i2, i3, b0, b1, b2, b3,
    ])
}

/// The signed bytes and their scope: the instructions alone without BTF,
/// the header format with it. `None` if a length does not fit the header.
pub fn signed_data(insns: &[u8], btf: Option<&[u8]>) -> Option<(Scope, Vec<u8>)> {
    match btf {
        None => Some((Scope::InsnsOnly, insns.to_vec())),
        Some(btf) => {
            let h = header(insns.len(), btf.len())?;
            let total = HEADER_LEN
                .checked_add(insns.len())?
                .checked_add(btf.len())?;
            let mut v = Vec::with_capacity(total);
            v.extend_from_slice(&h);
            v.extend_from_slice(insns);
            v.extend_from_slice(btf);
            Some((Scope::InsnsAndBtf, v))
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn header_layout() {
        let h = header(0x0102_0304, 0x20).unwrap();
        assert_eq!(
            h,
            [0, 0x42, 0x50, 0x46, 0x53, 0x49, 0x47, 1, 4, 3, 2, 1, 0x20, 0, 0, 0]
        );
        let (scope, d) = signed_data(&[0xaa; 8], Some(&[0xbb; 3])).unwrap();
        assert_eq!(scope, Scope::InsnsAndBtf);
        assert_eq!(d.len(), HEADER_LEN + 11);
        assert_eq!(&d[..HEADER_LEN], &header(8, 3).unwrap());
        assert_eq!(&d[HEADER_LEN..HEADER_LEN + 8], &[0xaa; 8]);
        assert_eq!(&d[HEADER_LEN + 8..], &[0xbb; 3]);
        let (scope, d) = signed_data(&[1; 16], None).unwrap();
        assert_eq!((scope, d), (Scope::InsnsOnly, vec![1; 16]));
    }

    #[test]
    fn the_split_is_bound() {
        // Moving bytes from the instructions to the BTF changes the header.
        let a = signed_data(&[7; 16], Some(&[7; 8])).unwrap().1;
        let b = signed_data(&[7; 8], Some(&[7; 16])).unwrap().1;
        assert_ne!(a, b);
        assert_eq!(a.len(), b.len());
    }
}
