// SPDX-License-Identifier: GPL-2.0
//! `bpfsig diff`: whether two headers sign and load the same bytes, and if
//! not, which part differs.

use serde::Serialize;

use crate::blob::Region;
use crate::inspect::{Budget, Parsed};

/// One differing part.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Difference {
    /// `loader-insns`, `loader-btf`, `blob`, `signature`, `excl-hash`,
    /// `keyring`, or `array:NAME` for another array.
    pub part: String,
    /// Where, in words.
    pub detail: String,
}

/// The JSON form of a diff.
#[derive(Clone, Debug, Serialize)]
pub struct DiffReport {
    /// Version of this layout.
    pub format: u32,
    /// First header.
    pub a: String,
    /// Second header.
    pub b: String,
    /// Byte-identical in everything signed or loaded, signature included.
    pub identical: bool,
    /// What differs.
    pub differences: Vec<Difference>,
}

fn first_diff(a: &[u8], b: &[u8]) -> Option<usize> {
    a.iter()
        .zip(b)
        .position(|(x, y)| x != y)
        .or_else(|| (a.len() != b.len()).then(|| a.len().min(b.len())))
}

fn sizes(a: &[u8], b: &[u8]) -> String {
    if a.len() == b.len() {
        format!("{} bytes", a.len())
    } else {
        format!("{} vs {} bytes", a.len(), b.len())
    }
}

fn push(d: &mut Vec<Difference>, part: &str, detail: String) {
    d.push(Difference {
        part: part.into(),
        detail,
    });
}

/// Compares two parsed headers.
pub fn diff(a: &Parsed, b: &Parsed) -> Vec<Difference> {
    let mut d = vec![];
    if let Some(at) = first_diff(a.insns(), b.insns()) {
        push(
            &mut d,
            "loader-insns",
            format!(
                "{} vs {} insns, first difference in insn {}",
                a.loader.insn_count,
                b.loader.insn_count,
                at / 8
            ),
        );
    }
    match (a.btf(), b.btf()) {
        (None, None) => {}
        (Some(_), None) | (None, Some(_)) => push(
            &mut d,
            "loader-btf",
            "one header has a loader BTF (opts_btf), the other not".into(),
        ),
        (Some(x), Some(y)) => {
            if let Some(at) = first_diff(x, y) {
                push(
                    &mut d,
                    "loader-btf",
                    format!("{}, first difference at byte {at}", sizes(x, y)),
                );
            }
        }
    }
    blob(a, b, &mut d);
    let arr = |p: &Parsed, n: &str| p.header.array(n).map(<[u8]>::to_vec);
    if arr(a, "opts_sig") != arr(b, "opts_sig") {
        let detail = if d.is_empty() {
            "only the signature differs: same signed and loaded bytes, another signature (key or signing run)"
        } else {
            "the signatures differ"
        };
        push(&mut d, "signature", detail.into());
    }
    if arr(a, "opts_excl_hash") != arr(b, "opts_excl_hash") {
        push(&mut d, "excl-hash", "opts_excl_hash differs".into());
    }
    if a.header.keyring_expr != b.header.keyring_expr {
        push(
            &mut d,
            "keyring",
            "the keyring_id assignment differs".into(),
        );
    }
    const KNOWN: [&str; 5] = [
        "opts_insn",
        "opts_data",
        "opts_btf",
        "opts_sig",
        "opts_excl_hash",
    ];
    let names: std::collections::BTreeSet<&String> = a
        .header
        .arrays
        .keys()
        .chain(b.header.arrays.keys())
        .collect();
    for n in names.into_iter().filter(|n| !KNOWN.contains(&n.as_str())) {
        if a.header.arrays.get(n) != b.header.arrays.get(n) {
            push(&mut d, &format!("array:{n}"), format!("array {n} differs"));
        }
    }
    d
}

/// The blob, by program and map where the reader found them.
fn blob(a: &Parsed, b: &Parsed, d: &mut Vec<Difference>) {
    let (da, db) = (a.data(), b.data());
    let Some(at) = first_diff(da, db) else {
        return;
    };
    let mut named = vec![];
    let mut budget = Budget::for_blob(da.len().max(db.len()));
    // Whether two regions differ; past the work budget, regions count as
    // equal and the summary says the comparison stopped.
    let mut differ = |x: Option<Region>, y: Option<Region>| {
        let (x, y) = (x.and_then(|r| r.of(da)), y.and_then(|r| r.of(db)));
        let n = x.map_or(0, <[u8]>::len).max(y.map_or(0, <[u8]>::len));
        budget.take(n) && x != y
    };
    let (ca, cb) = (&a.contents, &b.contents);
    if ca.programs.len() != cb.programs.len() {
        named.push(format!(
            "{} vs {} programs",
            ca.programs.len(),
            cb.programs.len()
        ));
    }
    for (x, y) in ca.programs.iter().zip(&cb.programs) {
        if differ(Some(x.attr), Some(y.attr)) {
            named.push(format!("program {} load attributes", x.name));
        }
        if differ(x.insns, y.insns) {
            named.push(format!("program {} instructions", x.name));
        }
        if x.license != y.license || x.attach_target != y.attach_target {
            named.push(format!("program {} license or attach target", x.name));
        }
    }
    if ca.maps.len() != cb.maps.len() {
        named.push(format!("{} vs {} maps", ca.maps.len(), cb.maps.len()));
    }
    for (x, y) in ca.maps.iter().zip(&cb.maps) {
        if differ(Some(x.attr), Some(y.attr)) {
            named.push(format!("map {} create attributes", x.name));
        }
        if differ(x.initial_value, y.initial_value) {
            named.push(format!("map {} initial value", x.name));
        }
        if x.frozen != y.frozen {
            named.push(format!("map {} freezing", x.name));
        }
    }
    let detail = if named.is_empty() {
        format!(
            "{}, first difference at byte {at}, outside the program and map images",
            sizes(da, db)
        )
    } else {
        format!(
            "{}, first difference at byte {at}: {}",
            sizes(da, db),
            named.join(", ")
        )
    };
    push(d, "blob", detail);
}
