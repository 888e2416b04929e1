// SPDX-License-Identifier: GPL-2.0
//! The `bpfsig` command.
fn main() {}
