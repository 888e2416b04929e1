// SPDX-License-Identifier: GPL-2.0
//! The errno values bpfsig's errors map to (Linux numbering, all arches
//! bpfsig builds for). Functions return them negated, as the kernel does.

/// No such entry: a kfunc name that vmlinux does not have.
pub const ENOENT: i32 = 2;
/// Out of memory (used by the glue; listed so every code has one home).
pub const ENOMEM: i32 = 12;
/// Permission denied: a policy or LSM said no.
pub const EACCES: i32 = 13;
/// Invalid argument: malformed input or a failed check.
pub const EINVAL: i32 = 22;
