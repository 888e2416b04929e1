// SPDX-License-Identifier: GPL-2.0

//! How an entry point refuses: one type for every C entry point that
//! reports more than an errno, and the core's errors as kernel errors (each
//! rule's error is converted next to the entry point that meets it).

use kernel::{prelude::*, str::CStr};

/// A refusal: the errno, what failed in the kernel's words (for the C
/// caller's log), and the instruction at fault when there is one.
pub(crate) struct Rejection {
    pub(crate) err: Error,
    pub(crate) why: Option<&'static CStr>,
    pub(crate) insn: Option<usize>,
}

impl Rejection {
    /// A refusal with a reason but no instruction.
    pub(crate) fn because(err: Error, why: &'static CStr) -> Self {
        Self {
            err,
            why: Some(why),
            insn: None,
        }
    }

    /// Hands the refusal to C: the reason through `reason`, the instruction
    /// through `bad_insn` (when given), and the errno as the result.
    ///
    /// # Safety
    ///
    /// `reason` must be valid for writing, and `bad_insn` NULL or valid for
    /// writing.
    pub(crate) unsafe fn report(
        self,
        reason: *mut *const kernel::ffi::c_char,
        bad_insn: *mut u32,
    ) -> kernel::ffi::c_int {
        if let Some(why) = self.why {
            // SAFETY: the caller guarantees `reason` is valid for writing.
            unsafe { *reason = why.as_char_ptr() };
        }
        if !bad_insn.is_null() {
            let insn = self.insn.unwrap_or(0);
            // SAFETY: non-NULL, so valid for writing (caller).
            unsafe { *bad_insn = u32::try_from(insn).unwrap_or(u32::MAX) };
        }
        self.err.to_errno()
    }
}

impl From<Error> for Rejection {
    fn from(err: Error) -> Self {
        Self {
            err,
            why: None,
            insn: None,
        }
    }
}
