// SPDX-License-Identifier: GPL-2.0
//! A total reader for program BTF (the raw bytes given to `BPF_BTF_LOAD`).
//!
//! Parsing validates the header and walks the type section once, recording each
//! type's offset in a caller-provided index (the core does not allocate; the
//! kernel glue sizes it with [`index_len`]). Lookups are then O(1), names are
//! bounded by `KSYM_NAME_LEN`, and modifier chains by [`MAX_RESOLVE_DEPTH`], so
//! no input can make the reader do more than linear work or read outside its
//! input.

use super::errno::EINVAL;

/// `BTF_MAGIC` in native byte order.
pub const BTF_MAGIC: u16 = 0xeb9f;
/// The only BTF version.
pub const BTF_VERSION: u8 = 1;
/// Size of the original `struct btf_header` (no layout section).
pub const HDR_LEN: usize = 24;
/// Size of 7.2's `struct btf_header`, with `layout_off`/`layout_len`.
pub const HDR_LEN_LAYOUT: usize = 32;
/// Size of `struct btf_layout`.
pub const LAYOUT_ENTRY_LEN: usize = 4;
/// Size of `struct btf_type`.
pub const TYPE_LEN: usize = 12;
/// Longest name read (`KSYM_NAME_LEN`, the kernel's own bound on symbol names).
pub const MAX_NAME_LEN: usize = 512;
/// Longest typedef/modifier chain followed (the kernel's `MAX_RESOLVE_DEPTH`).
pub const MAX_RESOLVE_DEPTH: usize = 32;
/// Largest type id (`BTF_MAX_TYPE`).
pub const MAX_TYPE_ID: u32 = 0x000f_ffff;
/// `BTF_INFO_VLEN()`: the low 24 bits of `btf_type.info`.
pub const fn info_vlen(info: u32) -> u32 {
    info & 0x00ff_ffff
}

/// `BTF_INFO_KIND()`: bits 24 to 30 of `btf_type.info`.
pub const fn info_kind(info: u32) -> u8 {
    // Masked to 7 bits: the cast cannot truncate.
    ((info >> 24) & 0x7f) as u8
}

/// Why bytes are not usable BTF, or a lookup failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BtfError {
    /// Shorter than a header, or than the header says.
    Truncated,
    /// Wrong magic (includes the other byte order, which the kernel rejects too).
    BadMagic,
    /// Unknown version.
    BadVersion,
    /// Non-zero flags, or non-zero bytes in an extended header.
    BadHeader,
    /// A section lies outside the data, overlaps, or is misaligned.
    BadSection,
    /// The string section is empty or does not start and end with NUL.
    BadStrings,
    /// A type of a kind this reader does not know.
    UnknownKind {
        /// Type id.
        id: u32,
    },
    /// A type's trailing data runs past the type section.
    TruncatedType {
        /// Type id.
        id: u32,
    },
    /// More types than `BTF_MAX_TYPE`.
    TooManyTypes,
    /// The index given to [`Btf::parse`] is shorter than [`index_len`].
    IndexTooSmall,
    /// A type id that does not exist.
    BadId {
        /// The id.
        id: u32,
    },
    /// A name offset outside the string section, or an unterminated name.
    BadName,
    /// A name longer than [`MAX_NAME_LEN`].
    NameTooLong,
    /// A modifier chain longer than [`MAX_RESOLVE_DEPTH`] (or a cycle).
    ChainTooLong,
}

impl BtfError {
    /// The kernel errno for this error.
    pub const fn to_errno(self) -> i32 {
        -EINVAL
    }
}

/// BTF kinds (`BTF_KIND_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Kind {
    /// Integer.
    Int = 1,
    /// Pointer.
    Ptr = 2,
    /// Array.
    Array = 3,
    /// Struct.
    Struct = 4,
    /// Union.
    Union = 5,
    /// Enum (32-bit values).
    Enum = 6,
    /// Forward declaration.
    Fwd = 7,
    /// Typedef.
    Typedef = 8,
    /// `volatile`.
    Volatile = 9,
    /// `const`.
    Const = 10,
    /// `restrict`.
    Restrict = 11,
    /// Function.
    Func = 12,
    /// Function prototype.
    FuncProto = 13,
    /// Variable.
    Var = 14,
    /// Data section.
    Datasec = 15,
    /// Floating point.
    Float = 16,
    /// Declaration tag.
    DeclTag = 17,
    /// Type tag.
    TypeTag = 18,
    /// Enum (64-bit values).
    Enum64 = 19,
}

impl Kind {
    /// Decodes a kind number.
    pub const fn from_raw(k: u8) -> Option<Self> {
        Some(match k {
            1 => Self::Int,
            2 => Self::Ptr,
            3 => Self::Array,
            4 => Self::Struct,
            5 => Self::Union,
            6 => Self::Enum,
            7 => Self::Fwd,
            8 => Self::Typedef,
            9 => Self::Volatile,
            10 => Self::Const,
            11 => Self::Restrict,
            12 => Self::Func,
            13 => Self::FuncProto,
            14 => Self::Var,
            15 => Self::Datasec,
            16 => Self::Float,
            17 => Self::DeclTag,
            18 => Self::TypeTag,
            19 => Self::Enum64,
            _ => return None,
        })
    }

    /// Bytes that follow `struct btf_type` for this kind with `vlen` members.
    pub const fn extra_len(self, vlen: u32) -> usize {
        // 24 bits of vlen times 12 fit in a 32-bit usize; saturate anyway.
        let n = vlen as usize;
        match self {
            Self::Int | Self::Var | Self::DeclTag => 4,
            Self::Array => 12,
            Self::Struct | Self::Union | Self::Datasec | Self::Enum64 => n.saturating_mul(12),
            Self::Enum | Self::FuncProto => n.saturating_mul(8),
            _ => 0,
        }
    }

    /// Kinds that only qualify another type and are skipped when resolving.
    pub const fn is_modifier(self) -> bool {
        matches!(
            self,
            Self::Typedef | Self::Volatile | Self::Const | Self::Restrict | Self::TypeTag
        )
    }
}

/// One type: the fixed `struct btf_type` fields and its trailing data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Type<'a> {
    /// Offset of the name in the string section.
    pub name_off: u32,
    /// Kind.
    pub kind: Kind,
    /// Member/param count (for FUNC: the linkage), 24 bits.
    pub vlen: u32,
    /// The kind flag.
    pub kflag: bool,
    /// Size for INT/ENUM/STRUCT/..., referenced type id for PTR/FUNC/modifiers.
    pub size_or_type: u32,
    /// The trailing data, exactly [`Kind::extra_len`] bytes.
    pub extra: &'a [u8],
}

fn u32_at(b: &[u8], off: usize) -> Option<u32> {
    let end = off.checked_add(4)?;
    Some(u32::from_ne_bytes(b.get(off..end)?.try_into().ok()?))
}

impl<'a> Type<'a> {
    /// Decodes the type at the start of `b`; `id` is only used in errors.
    pub fn decode(b: &'a [u8], id: u32) -> Result<Self, BtfError> {
        let (Some(name_off), Some(info), Some(size_or_type)) =
            (u32_at(b, 0), u32_at(b, 4), u32_at(b, 8))
        else {
            return Err(BtfError::TruncatedType { id });
        };
        let kind = Kind::from_raw(info_kind(info)).ok_or(BtfError::UnknownKind { id })?;
        let vlen = info_vlen(info);
        let extra = b
            .get(TYPE_LEN..)
            .and_then(|rest| rest.get(..kind.extra_len(vlen)))
            .ok_or(BtfError::TruncatedType { id })?;
        Ok(Self {
            name_off,
            kind,
            vlen,
            kflag: info & 0x8000_0000 != 0,
            size_or_type,
            extra,
        })
    }

    /// Bytes this type occupies in the type section.
    pub fn len(&self) -> usize {
        TYPE_LEN.saturating_add(self.extra.len())
    }

    /// Always false: a type is at least a `struct btf_type`.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// For FUNC_PROTO: the params as `(name_off, type_id)`.
    pub fn params(&self) -> impl Iterator<Item = (u32, u32)> + 'a {
        let extra = if self.kind == Kind::FuncProto {
            self.extra
        } else {
            &[]
        };
        extra
            .chunks_exact(8)
            .filter_map(|p| Some((u32_at(p, 0)?, u32_at(p, 4)?)))
    }

    /// For INT: the encoding word (bits, offset, signedness).
    pub fn int_encoding(&self) -> Option<u32> {
        if self.kind == Kind::Int {
            u32_at(self.extra, 0)
        } else {
            None
        }
    }
}

/// What the prototype logic needs from a BTF: types by id and names by offset.
/// Implemented by [`Btf`] for program BTF and by the kernel glue for vmlinux.
pub trait TypeTable {
    /// The type with this id; id 0 (void) is not a type and is an error.
    fn type_by_id(&self, id: u32) -> Result<Type<'_>, BtfError>;
    /// The NUL-free name at this string offset.
    fn name_by_offset(&self, off: u32) -> Result<&[u8], BtfError>;
}

/// Follows typedefs and qualifiers from `id`; returns the id of the first type
/// that is none of them (0 for void).
pub fn skip_modifiers<T: TypeTable + ?Sized>(table: &T, mut id: u32) -> Result<u32, BtfError> {
    for _ in 0..MAX_RESOLVE_DEPTH {
        if id == 0 {
            return Ok(0);
        }
        let t = table.type_by_id(id)?;
        if !t.kind.is_modifier() {
            return Ok(id);
        }
        id = t.size_or_type;
    }
    Err(BtfError::ChainTooLong)
}

/// Where the sections are, after header validation.
#[derive(Clone, Copy, Debug)]
struct Sections<'a> {
    types: &'a [u8],
    strings: &'a [u8],
}

fn sections(data: &[u8]) -> Result<Sections<'_>, BtfError> {
    let word = |off| u32_at(data, off).ok_or(BtfError::Truncated);
    let magic: [u8; 2] = data
        .get(0..2)
        .and_then(|m| m.try_into().ok())
        .ok_or(BtfError::Truncated)?;
    if u16::from_ne_bytes(magic) != BTF_MAGIC {
        return Err(BtfError::BadMagic);
    }
    if data.get(2) != Some(&BTF_VERSION) {
        return Err(BtfError::BadVersion);
    }
    if data.get(3) != Some(&0) {
        return Err(BtfError::BadHeader);
    }
    let hdr_len = word(4)? as usize;
    let [type_off, type_len, str_off, str_len] =
        [word(8)?, word(12)?, word(16)?, word(20)?].map(|w| w as usize);
    if hdr_len < HDR_LEN {
        return Err(BtfError::BadHeader);
    }
    let rest = data.get(hdr_len..).ok_or(BtfError::Truncated)?;
    // As in the kernel: the layout section exists only in a header that has
    // its fields, and bytes past the known header must be zero.
    // A zero-length layout section is no section, wherever it claims to be.
    let layout = match hdr_len >= HDR_LEN_LAYOUT {
        true if word(28)? != 0 => (word(24)? as usize, word(28)? as usize),
        _ => (0, 0),
    };
    if data
        .get(HDR_LEN_LAYOUT..hdr_len)
        .is_some_and(|x| x.iter().any(|&b| b != 0))
    {
        return Err(BtfError::BadHeader);
    }
    let span = |off: usize, len: usize| {
        let end = off.checked_add(len).ok_or(BtfError::BadSection)?;
        rest.get(off..end).ok_or(BtfError::BadSection)?;
        Ok((off, end))
    };
    let t = span(type_off, type_len)?;
    let s = span(str_off, str_len)?;
    let l = span(layout.0, layout.1)?;
    let overlap = |a: (usize, usize), b: (usize, usize)| a.0 < b.1 && b.0 < a.1;
    if type_off % 4 != 0
        || type_len % 4 != 0
        || overlap(t, s)
        || (layout.1 != 0
            && (layout.0 % 4 != 0
                || layout.1 % LAYOUT_ENTRY_LEN != 0
                || overlap(l, t)
                || overlap(l, s)))
    {
        return Err(BtfError::BadSection);
    }
    let types = rest.get(t.0..t.1).ok_or(BtfError::BadSection)?;
    let strings = rest.get(s.0..s.1).ok_or(BtfError::BadSection)?;
    if strings.first() != Some(&0) || strings.last() != Some(&0) {
        return Err(BtfError::BadStrings);
    }
    Ok(Sections { types, strings })
}

/// Walks the type section, calling `f(id, offset)` for every type. Returns the
/// number of types.
fn walk(
    types: &[u8],
    mut f: impl FnMut(u32, u32) -> Result<(), BtfError>,
) -> Result<u32, BtfError> {
    let mut off = 0usize;
    let mut id = 0u32;
    while off < types.len() {
        id = id
            .checked_add(1)
            .filter(|&i| i <= MAX_TYPE_ID)
            .ok_or(BtfError::TooManyTypes)?;
        let t = Type::decode(types.get(off..).unwrap_or_default(), id)?;
        f(id, u32::try_from(off).map_err(|_| BtfError::BadSection)?)?;
        off = off
            .checked_add(t.len())
            .ok_or(BtfError::TruncatedType { id })?;
    }
    Ok(id)
}

/// The number of index slots [`Btf::parse`] needs for `data` (its type count).
/// Validates everything `parse` validates.
pub fn index_len(data: &[u8]) -> Result<usize, BtfError> {
    let s = sections(data)?;
    Ok(walk(s.types, |_, _| Ok(()))? as usize)
}

/// Validated program BTF with an index of its types.
#[derive(Clone, Copy, Debug)]
pub struct Btf<'a> {
    types: &'a [u8],
    strings: &'a [u8],
    index: &'a [u32],
}

impl<'a> Btf<'a> {
    /// Validates `data` and fills `index` (at least [`index_len`] slots).
    pub fn parse(data: &'a [u8], index: &'a mut [u32]) -> Result<Self, BtfError> {
        let s = sections(data)?;
        let n = {
            let slots = &mut *index;
            walk(s.types, |id, off| {
                let slot = (id as usize).checked_sub(1).and_then(|i| slots.get_mut(i));
                *slot.ok_or(BtfError::IndexTooSmall)? = off;
                Ok(())
            })?
        };
        let index: &'a [u32] = index;
        Ok(Self {
            types: s.types,
            strings: s.strings,
            index: index.get(..n as usize).unwrap_or_default(),
        })
    }

    /// Number of types (ids `1..=count`).
    pub fn type_count(&self) -> u32 {
        // The index length came from a u32 count.
        u32::try_from(self.index.len()).unwrap_or(0)
    }

    /// All types with their ids.
    pub fn types(&self) -> impl Iterator<Item = (u32, Type<'a>)> + 'a {
        let this = *self;
        (1..=self.type_count()).filter_map(move |id| Some((id, this.get(id).ok()?)))
    }

    /// The type with this id, borrowing the BTF data rather than `self`.
    pub fn get(&self, id: u32) -> Result<Type<'a>, BtfError> {
        let off = (id as usize)
            .checked_sub(1)
            .and_then(|i| self.index.get(i))
            .ok_or(BtfError::BadId { id })?;
        Type::decode(self.types.get(*off as usize..).unwrap_or_default(), id)
    }
}

impl TypeTable for Btf<'_> {
    fn type_by_id(&self, id: u32) -> Result<Type<'_>, BtfError> {
        self.get(id)
    }

    fn name_by_offset(&self, off: u32) -> Result<&[u8], BtfError> {
        let tail = self.strings.get(off as usize..).ok_or(BtfError::BadName)?;
        let window = tail.get(..MAX_NAME_LEN.saturating_add(1)).unwrap_or(tail);
        match window.iter().position(|&b| b == 0) {
            Some(len) => Ok(window.get(..len).unwrap_or_default()),
            None if window.len() > MAX_NAME_LEN => Err(BtfError::NameTooLong),
            None => Err(BtfError::BadName),
        }
    }
}
