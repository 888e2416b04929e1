// SPDX-License-Identifier: GPL-2.0
//! A typed view over raw `struct bpf_insn` bytes.
//!
//! Decoding is total: any byte string whose length is a multiple of eight is a
//! valid instruction sequence as far as this layer is concerned; meaning is
//! checked by the users (digest, resolver) and, in the kernel, the verifier.

/// Size of one `struct bpf_insn`.
pub const INSN_SIZE: usize = 8;

/// `BPF_LD | BPF_IMM | BPF_DW`: first slot of a 16-byte `ld_imm64`.
pub const LD_IMM64: u8 = 0x18;
/// `BPF_JMP | BPF_CALL`.
pub const JMP_CALL: u8 = 0x85;

/// `ld_imm64` src_reg: imm is a map fd.
pub const BPF_PSEUDO_MAP_FD: u8 = 1;
/// `ld_imm64` src_reg: imm is a map fd, second imm an offset into its value.
pub const BPF_PSEUDO_MAP_VALUE: u8 = 2;
/// `ld_imm64` src_reg: imm is an index into `fd_array`.
pub const BPF_PSEUDO_MAP_IDX: u8 = 5;
/// `ld_imm64` src_reg: `fd_array` index, second imm an offset into the value.
pub const BPF_PSEUDO_MAP_IDX_VALUE: u8 = 6;

/// Call src_reg: a helper id.
pub const BPF_HELPER_CALL: u8 = 0;
/// Call src_reg: a bpf-to-bpf call.
pub const BPF_PSEUDO_CALL: u8 = 1;
/// Call src_reg: a kfunc, imm = FUNC id in vmlinux (or module BTF via off).
pub const BPF_PSEUDO_KFUNC_CALL: u8 = 2;
/// Call src_reg (new in bpfsig): a kfunc, imm = FUNC id in the program's own
/// BTF, resolved by name against vmlinux before verification.
pub const BPF_PSEUDO_KFUNC_CALL_PROG_BTF: u8 = 3;

/// One decoded instruction.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Insn {
    /// Opcode.
    pub code: u8,
    /// Destination register (4 bits).
    pub dst_reg: u8,
    /// Source register (4 bits), or a pseudo-kind for calls and `ld_imm64`.
    pub src_reg: u8,
    /// Signed offset.
    pub off: i16,
    /// Signed immediate.
    pub imm: i32,
}

impl Insn {
    /// Decodes one instruction in the host's byte order (BPF programs are
    /// loaded in native order; the bitfield order of the register byte follows
    /// the C ABI of the target).
    pub fn from_bytes(b: [u8; INSN_SIZE]) -> Self {
        let [code, regs, o0, o1, i0, i1, i2, i3] = b;
        let (dst_reg, src_reg) = if cfg!(target_endian = "little") {
            (regs & 0xf, regs >> 4)
        } else {
            (regs >> 4, regs & 0xf)
        };
        Self {
            code,
            dst_reg,
            src_reg,
            off: i16::from_ne_bytes([o0, o1]),
            imm: i32::from_ne_bytes([i0, i1, i2, i3]),
        }
    }

    /// Encodes the instruction; register numbers are truncated to 4 bits as
    /// the C bitfields would.
    pub fn to_bytes(self) -> [u8; INSN_SIZE] {
        let (d, s) = (self.dst_reg & 0xf, self.src_reg & 0xf);
        let regs = if cfg!(target_endian = "little") {
            d | (s << 4)
        } else {
            (d << 4) | s
        };
        let [o0, o1] = self.off.to_ne_bytes();
        let [i0, i1, i2, i3] = self.imm.to_ne_bytes();
        [self.code, regs, o0, o1, i0, i1, i2, i3]
    }

    /// First slot of an `ld_imm64`.
    pub fn is_ld_imm64(&self) -> bool {
        self.code == LD_IMM64
    }

    /// A call resolved through the program's BTF.
    pub fn is_prog_btf_kfunc_call(&self) -> bool {
        self.code == JMP_CALL && self.src_reg == BPF_PSEUDO_KFUNC_CALL_PROG_BTF
    }
}

/// Why a byte string is not an instruction sequence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InsnError {
    /// The length is not a multiple of [`INSN_SIZE`].
    BadLength,
}

impl InsnError {
    /// The kernel errno for this error.
    pub const fn to_errno(self) -> i32 {
        -super::errno::EINVAL
    }
}

fn chunk(bytes: &[u8], idx: usize) -> Option<[u8; INSN_SIZE]> {
    let start = idx.checked_mul(INSN_SIZE)?;
    let end = start.checked_add(INSN_SIZE)?;
    bytes.get(start..end)?.try_into().ok()
}

/// A read-only instruction sequence.
#[derive(Clone, Copy, Debug)]
pub struct Insns<'a> {
    bytes: &'a [u8],
}

impl<'a> Insns<'a> {
    /// Wraps raw instruction bytes.
    pub fn new(bytes: &'a [u8]) -> Result<Self, InsnError> {
        if bytes.len() % INSN_SIZE != 0 {
            return Err(InsnError::BadLength);
        }
        Ok(Self { bytes })
    }

    /// Number of 8-byte slots.
    pub fn len(&self) -> usize {
        self.bytes.len() / INSN_SIZE
    }

    /// Whether there are no instructions.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// The instruction in slot `idx`.
    pub fn get(&self, idx: usize) -> Option<Insn> {
        chunk(self.bytes, idx).map(Insn::from_bytes)
    }

    /// All slots in order (the second half of an `ld_imm64` is a slot too).
    pub fn iter(&self) -> impl Iterator<Item = Insn> + 'a {
        self.bytes
            .chunks_exact(INSN_SIZE)
            .filter_map(|c| <[u8; INSN_SIZE]>::try_from(c).ok())
            .map(Insn::from_bytes)
    }
}

/// A mutable instruction sequence, for rewrites before verification.
#[derive(Debug)]
pub struct InsnsMut<'a> {
    bytes: &'a mut [u8],
}

impl<'a> InsnsMut<'a> {
    /// Wraps raw instruction bytes.
    pub fn new(bytes: &'a mut [u8]) -> Result<Self, InsnError> {
        Insns::new(bytes)?;
        Ok(Self { bytes })
    }

    /// A read-only view.
    pub fn as_insns(&self) -> Insns<'_> {
        Insns { bytes: self.bytes }
    }

    /// The raw bytes, for in-place work that keeps the length.
    pub(crate) fn bytes_mut(&mut self) -> &mut [u8] {
        self.bytes
    }

    /// Replaces slot `idx`; `false` if it does not exist.
    pub fn set(&mut self, idx: usize, insn: Insn) -> bool {
        let Some(start) = idx.checked_mul(INSN_SIZE) else {
            return false;
        };
        let Some(end) = start.checked_add(INSN_SIZE) else {
            return false;
        };
        match self.bytes.get_mut(start..end) {
            Some(dst) => {
                dst.copy_from_slice(&insn.to_bytes());
                true
            }
            None => false,
        }
    }
}
