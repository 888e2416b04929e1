// SPDX-License-Identifier: GPL-2.0
//! Writes the fuzzers' seed corpora: `mkseeds DIR` creates DIR/{btf,resolve,digest}.

use bpfsig_testkit::{fake_vmlinux_btf, insn, kind, loader_btf, BtfBuilder};
use std::{fs, path::Path};

fn main() -> std::io::Result<()> {
    let dir = std::env::args().nth(1).unwrap_or_else(|| "seeds".into());
    let put = |target: &str, name: &str, data: &[u8]| -> std::io::Result<()> {
        let d = Path::new(&dir).join(target);
        fs::create_dir_all(&d)?;
        fs::write(d.join(name), data)
    };
    let (loader, fid) = loader_btf();
    let (vmlinux, _) = fake_vmlinux_btf();
    let mut mixed = BtfBuilder::new();
    let int = mixed.int("int", 4, true);
    let t = mixed.modifier(kind::TYPEDEF, "t", int);
    let c = mixed.modifier(kind::CONST, "", t);
    let p = mixed.ptr(c);
    mixed.raw("arr", kind::ARRAY, 0, 0, &[0; 12]);
    mixed.raw("e", kind::ENUM, 1, 4, &[0; 8]);
    mixed.raw("s", kind::STRUCT, 1, 8, &[0; 12]);
    mixed.raw("f", kind::FLOAT, 0, 8, &[]);
    let pr = mixed.proto(int, &[("a", p), ("b", t)]);
    mixed.func("bpf_loader_verify_metadata", pr);
    let mixed = mixed.finish();
    for (name, b) in [
        ("loader", &loader),
        ("vmlinux", &vmlinux),
        ("mixed", &mixed),
    ] {
        put("btf", name, b)?;
    }
    // resolve: [count][insns][btf]
    let call = |imm: i32, off: i16| insn(0x85, 0, 3, off, imm);
    type Seed<'a> = (&'a str, Vec<[u8; 8]>, &'a [u8]);
    let progs: [Seed<'_>; 4] = [
        (
            "ok",
            vec![
                insn(0xb7, 0, 0, 0, 0),
                call(fid as i32, 0),
                insn(0x95, 0, 0, 0, 0),
            ],
            &loader,
        ),
        (
            "bad-off",
            vec![call(fid as i32, 1), insn(0x95, 0, 0, 0, 0)],
            &loader,
        ),
        (
            "mixed",
            vec![call(9, 0), call(1, 0), insn(0x95, 0, 0, 0, 0)],
            &mixed,
        ),
        ("no-btf", vec![call(5, 0)], &[]),
    ];
    for (name, insns, btf) in progs {
        let mut d = vec![insns.len() as u8];
        d.extend(insns.concat());
        d.extend_from_slice(btf);
        put("resolve", name, &d)?;
    }
    let map_loads = [
        insn(0x18, 1, 1, 0, 3),
        insn(0, 0, 0, 0, 4),
        insn(0x18, 2, 2, 0, 5),
        insn(0x18, 2, 2, 0, 6),
        insn(0, 0, 0, 0, 7),
        insn(0x95, 0, 0, 0, 0),
        insn(0x18, 1, 1, 0, 3),
    ]
    .concat();
    put("digest", "map-loads", &map_loads)?;
    Ok(())
}
