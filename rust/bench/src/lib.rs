// SPDX-License-Identifier: GPL-2.0
//! Benchmarks live in `benches/`; see `cargo bench -p bpfsig-bench`.
