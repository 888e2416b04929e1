// SPDX-License-Identifier: GPL-2.0
//! Function prototypes as BPF sees them, and when two are compatible.
//!
//! A loader declares the kfuncs it calls in its own BTF; the kernel has the
//! real declaration in vmlinux BTF. Only what the BPF calling convention can
//! observe is compared: how many arguments, and for each (and the return value)
//! whether it is a scalar of a given size or a pointer. Names, signedness and
//! pointee types are not compared (the verifier checks the real argument types
//! against the vmlinux prototype afterwards).

use super::btf::{skip_modifiers, BtfError, Kind, TypeTable};
use super::errno::EINVAL;

/// Most arguments a BPF call can pass (`MAX_BPF_FUNC_REG_ARGS`).
pub const MAX_ARGS: usize = 5;

/// The BPF-visible class of a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArgKind {
    /// No value (a `void` return).
    Void,
    /// An integer or enum of this many bytes.
    Scalar {
        /// Size in bytes: 1, 2, 4 or 8.
        size: u32,
    },
    /// Any pointer, `void *` included.
    Ptr,
}

/// Why a prototype cannot be read or compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProtoError {
    /// The id is not a `BTF_KIND_FUNC`.
    NotFunc,
    /// The FUNC does not point at a FUNC_PROTO.
    NoProto,
    /// More than [`MAX_ARGS`] arguments.
    TooManyArgs,
    /// An argument or return type BPF cannot pass (struct by value, float,
    /// varargs, a void argument, an odd-sized integer).
    Unsupported,
    /// The BTF itself is malformed.
    Btf(BtfError),
}

impl ProtoError {
    /// The kernel errno for this error.
    pub const fn to_errno(self) -> i32 {
        -EINVAL
    }
}

impl From<BtfError> for ProtoError {
    fn from(e: BtfError) -> Self {
        Self::Btf(e)
    }
}

/// A prototype reduced to what BPF can observe.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Proto {
    /// The return value.
    pub ret: ArgKind,
    args: [ArgKind; MAX_ARGS],
    nargs: usize,
}

impl Proto {
    /// The arguments.
    pub fn args(&self) -> &[ArgKind] {
        self.args.get(..self.nargs).unwrap_or_default()
    }

    /// Same number of arguments, and the same class and size for each and for
    /// the return value.
    pub fn compatible_with(&self, other: &Proto) -> bool {
        self == other
    }
}

fn classify<T: TypeTable + ?Sized>(
    table: &T,
    id: u32,
    is_ret: bool,
) -> Result<ArgKind, ProtoError> {
    let id = skip_modifiers(table, id)?;
    if id == 0 {
        return if is_ret {
            Ok(ArgKind::Void)
        } else {
            Err(ProtoError::Unsupported)
        };
    }
    let t = table.type_by_id(id)?;
    match t.kind {
        Kind::Ptr => Ok(ArgKind::Ptr),
        Kind::Int | Kind::Enum | Kind::Enum64 if matches!(t.size_or_type, 1 | 2 | 4 | 8) => {
            Ok(ArgKind::Scalar {
                size: t.size_or_type,
            })
        }
        _ => Err(ProtoError::Unsupported),
    }
}

/// Reads the prototype of the FUNC `func_id`.
pub fn func_proto<T: TypeTable + ?Sized>(table: &T, func_id: u32) -> Result<Proto, ProtoError> {
    let func = table.type_by_id(func_id).map_err(|_| ProtoError::NotFunc)?;
    if func.kind != Kind::Func {
        return Err(ProtoError::NotFunc);
    }
    let proto = table
        .type_by_id(func.size_or_type)
        .map_err(|_| ProtoError::NoProto)?;
    if proto.kind != Kind::FuncProto {
        return Err(ProtoError::NoProto);
    }
    let nargs = usize::try_from(proto.vlen).map_err(|_| ProtoError::TooManyArgs)?;
    if nargs > MAX_ARGS {
        return Err(ProtoError::TooManyArgs);
    }
    let mut out = Proto {
        ret: classify(table, proto.size_or_type, true)?,
        args: [ArgKind::Void; MAX_ARGS],
        nargs: 0,
    };
    for ((_, ty), slot) in proto.params().zip(out.args.iter_mut()) {
        *slot = classify(table, ty, false)?;
    }
    out.nargs = nargs;
    Ok(out)
}
