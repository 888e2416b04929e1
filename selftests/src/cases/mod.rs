// SPDX-License-Identifier: GPL-2.0
//! The selftest cases, grouped by what they exercise.

mod kernel;
mod loader;
mod rewrites;

pub fn all() -> Vec<crate::Case> {
    let mut v = Vec::new();
    v.extend_from_slice(kernel::CASES);
    v.extend_from_slice(loader::CASES);
    v.extend_from_slice(rewrites::CASES);
    v
}
