// SPDX-License-Identifier: GPL-2.0
//! Any bytes as program BTF: parse, index, and read every type, name and
//! prototype. Must never panic; index_len and parse must agree.
#![no_main]

use bpfsig_core::btf::{index_len, skip_modifiers, Btf, TypeTable};
use bpfsig_core::proto::func_proto;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let n = index_len(data);
    let mut idx = vec![0u32; *n.as_ref().unwrap_or(&0)];
    let parsed = Btf::parse(data, &mut idx);
    assert_eq!(n.is_ok(), parsed.is_ok());
    if let Ok(btf) = parsed {
        for id in 0..=btf.type_count().saturating_add(1) {
            if let Ok(t) = btf.type_by_id(id) {
                let _ = btf.name_by_offset(t.name_off);
                for (name, ty) in t.params() {
                    let _ = btf.name_by_offset(name);
                    let _ = skip_modifiers(&btf, ty);
                }
                let _ = func_proto(&btf, id);
            }
        }
    }
});
