// SPDX-License-Identifier: GPL-2.0
//! The `bpfsig` binary on fixture headers (tests/data): good ones pass,
//! each tampering fails with its own exit status and message, `diff` names
//! the part. Tampered copies are made here from the fixtures.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::panic,
    missing_docs
)]

use std::path::{Path, PathBuf};
use std::process::Command;

use bpfsig_cli::cheader;

const BIN: &str = env!("CARGO_BIN_EXE_bpfsig");

/// Every good fixture: synthetic ones of both shapes and scopes, and real
/// ones made by bpftool.
const GOOD: &[&str] = &[
    "synth-inline.lskel.h",
    "synth-kfunc.lskel.h",
    "counter-7.2.lskel.h",
];

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

fn key(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../selftests/skel/keys")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

struct Out {
    status: i32,
    stdout: String,
    stderr: String,
}

fn run(args: &[&str]) -> Out {
    let o = Command::new(BIN).args(args).output().unwrap();
    Out {
        status: o.status.code().unwrap(),
        stdout: String::from_utf8(o.stdout).unwrap(),
        stderr: String::from_utf8(o.stderr).unwrap(),
    }
}

fn inspect(file: &Path, cert: &str) -> Out {
    run(&["inspect", file.to_str().unwrap(), "--cert", &key(cert)])
}

/// A copy of fixture `name` with byte `at` (from the end if negative) of
/// array `arr` flipped.
fn tampered(name: &str, arr: &str, at: isize, tag: &str) -> PathBuf {
    let text = std::fs::read_to_string(data(name)).unwrap();
    let h = cheader::parse(text.as_bytes()).unwrap();
    let mut bytes = h.array(arr).unwrap().to_vec();
    let i = if at < 0 {
        bytes.len() - at.unsigned_abs()
    } else {
        at as usize
    };
    bytes[i] ^= 1;
    let out = cheader::replace_array(&text, arr, &bytes).unwrap();
    let p = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{tag}-{name}"));
    std::fs::write(&p, out).unwrap();
    p
}

#[test]
fn good_headers_verify_with_the_signing_cert_pem_and_der() {
    for &f in GOOD {
        for cert in ["signing.crt.pem", "signing.crt.der"] {
            let o = inspect(&data(f), cert);
            assert_eq!(o.status, 0, "{f} {cert}: {}{}", o.stdout, o.stderr);
            assert!(o.stderr.is_empty(), "{}", o.stderr);
            assert!(o.stdout.contains(": verified"), "{}", o.stdout);
        }
    }
}

#[test]
fn what_it_reports() {
    let o = inspect(&data("synth-kfunc.lskel.h"), "signing.crt.pem");
    let s = &o.stdout;
    assert!(
        s.contains("covers header, instructions and the loader's BTF"),
        "{s}"
    );
    assert!(s.contains("metadata check: kfunc at insn 1"), "{s}");
    assert!(
        s.contains("kfuncs: bpf_loader_verify_metadata (insn 18)"),
        "{s}"
    );
    assert!(
        s.contains("count tracing/trace_fentry -> bpf_fentry_test1 2 insns, license GPL"),
        "{s}"
    );
    assert!(s.contains("counter.bss array key 4 value 8 max 1"), "{s}");
    assert!(s.contains(", frozen"), "{s}");
    let o = inspect(&data("synth-inline.lskel.h"), "signing.crt.pem");
    assert!(o.stdout.contains("the instructions only (Linux 7.2)"));
    assert!(o.stdout.contains("metadata check: inline at insn 1"));
    assert!(o
        .stdout
        .contains("signer key id ed4785366caf4270bc9782e426735134455da0ff"));
}

#[test]
fn a_real_7_2_skeleton() {
    let o = inspect(&data("counter-7.2.lskel.h"), "signing.crt.pem");
    let s = &o.stdout;
    assert_eq!(o.status, 0, "{s}");
    assert!(s.contains("the instructions only (Linux 7.2)"), "{s}");
    assert!(s.contains("metadata check: inline at insn"), "{s}");
    assert!(
        s.contains("signer key id ed4785366caf4270bc9782e426735134455da0ff"),
        "{s}"
    );
    assert!(s.contains("programs   "), "{s}");
    assert!(s.contains(".rodata array key 4 value "), "{s}");
    assert!(
        s.contains("the header's data[] arrays are not used by the loader"),
        "{s}"
    );
}

#[test]
fn json_is_stable() {
    let f = data("synth-inline.lskel.h");
    let o = run(&[
        "inspect",
        f.to_str().unwrap(),
        "--json",
        "--cert",
        &key("signing.crt.pem"),
    ]);
    assert_eq!(o.status, 0);
    let v: serde_json::Value = serde_json::from_str(&o.stdout).unwrap();
    assert_eq!(v["format"], 1);
    assert_eq!(v["status"], 0);
    assert_eq!(v["loader"]["signed_scope"], "insns");
    assert_eq!(v["loader"]["metadata_check"]["shape"], "inline");
    assert_eq!(v["loader"]["digest"], v["loader"]["excl_prog_hash"]);
    assert_eq!(v["metadata"]["matches_loader_hash"], true);
    assert_eq!(v["signature"]["verification"][0]["result"], "verified");
    assert_eq!(v["signature"]["keyring"]["expr"], "skel->keyring_id");
    assert_eq!(v["programs"][0]["prog_type"], "tracing");
    assert_eq!(v["maps"][0]["frozen"], true);
    let names: Vec<&str> = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "header",
            "signature",
            "metadata-check",
            "metadata-hash",
            "exclusive-hash"
        ]
    );
}

#[test]
fn the_other_cert_does_not_verify() {
    for &f in GOOD {
        let o = inspect(&data(f), "other.crt.pem");
        assert_eq!(o.status, 3, "{f}: {}", o.stdout);
        assert!(
            o.stderr.contains(": signature: signature does not verify"),
            "{}",
            o.stderr
        );
        assert_eq!(o.stderr.lines().count(), 1, "{}", o.stderr);
    }
}

#[test]
fn a_tampered_blob_byte_fails_the_metadata_hash() {
    // A byte of the fd_array scratch: only the hash notices.
    for &f in GOOD {
        let t = tampered(f, "opts_data", 4 * 319, "data");
        let o = inspect(&t, "signing.crt.pem");
        assert_eq!(o.status, 6, "{f}: {}{}", o.stdout, o.stderr);
        assert!(
            o.stderr.contains("metadata-hash: metadata blob tampered"),
            "{}",
            o.stderr
        );
        assert_eq!(o.stderr.lines().count(), 1, "{}", o.stderr);
    }
}

#[test]
fn a_tampered_instruction_byte_fails_the_signature_and_the_exclusive_hash() {
    for &f in GOOD {
        // The last instruction (exit's imm) keeps the check's shape intact.
        let t = tampered(f, "opts_insn", -1, "insn");
        let o = inspect(&t, "signing.crt.pem");
        assert_eq!(o.status, 3, "{f}: {}{}", o.stdout, o.stderr);
        assert!(
            o.stderr.contains("signature: signature does not verify"),
            "{}",
            o.stderr
        );
        assert!(
            o.stderr.contains("exclusive-hash: opts_excl_hash"),
            "{}",
            o.stderr
        );
        // Without --cert only the exclusive hash can tell.
        let o = run(&["inspect", t.to_str().unwrap()]);
        assert_eq!(o.status, 7, "{}", o.stderr);
    }
}

#[test]
fn a_tampered_btf_byte_fails_the_signature() {
    let t = tampered("synth-kfunc.lskel.h", "opts_btf", -3, "btf");
    let o = inspect(&t, "signing.crt.pem");
    assert_eq!(o.status, 3, "{}{}", o.stdout, o.stderr);
    assert!(
        o.stderr.contains("signature does not verify"),
        "{}",
        o.stderr
    );
    // The kfunc's name changed: the loader's check is no longer found.
    assert!(o.stderr.contains("metadata-check"), "{}", o.stderr);
}

#[test]
fn a_tampered_signature_byte_fails() {
    for &f in GOOD {
        let t = tampered(f, "opts_sig", -1, "sig");
        let o = inspect(&t, "signing.crt.pem");
        assert_eq!(o.status, 3, "{f}: {}{}", o.stdout, o.stderr);
        assert!(
            o.stderr.contains("the signature does not verify"),
            "{}",
            o.stderr
        );
    }
}

#[test]
fn the_interim_insns_btf_format_is_refused_with_a_hint() {
    let o = inspect(&data("synth-interim.lskel.h"), "signing.crt.pem");
    assert_eq!(o.status, 3, "{}", o.stdout);
    assert!(o.stderr.contains("interim insns||btf"), "{}", o.stderr);
}

#[test]
fn not_a_signed_skeleton() {
    let text = std::fs::read_to_string(data("synth-inline.lskel.h")).unwrap();
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let unsigned = dir.join("unsigned.lskel.h");
    std::fs::write(&unsigned, text.replace("opts_sig", "opts_nosig")).unwrap();
    let o = run(&["inspect", unsigned.to_str().unwrap()]);
    assert_eq!(o.status, 2);
    assert!(o.stderr.contains("not signed"), "{}", o.stderr);
    let garbage = dir.join("garbage.lskel.h");
    std::fs::write(&garbage, "static const char opts_insn[] = \"\\x1\";").unwrap();
    assert_eq!(run(&["inspect", garbage.to_str().unwrap()]).status, 2);
    assert_eq!(run(&["inspect", "/nonexistent.lskel.h"]).status, 1);
    assert_eq!(run(&["inspect"]).status, 1);
    assert_eq!(run(&["frobnicate", "x"]).status, 1);
}

#[test]
fn diff_names_the_part() {
    let a = data("synth-kfunc.lskel.h");
    let a = a.to_str().unwrap();
    let o = run(&["diff", a, a]);
    assert_eq!(
        (o.status, o.stdout.trim()),
        (0, "identical in everything signed or loaded")
    );
    let cases = [
        (
            "opts_data",
            4 * 319,
            "blob",
            "outside the program and map images",
        ),
        ("opts_data", 1352, "blob", "map counter.bss initial value"),
        (
            "opts_insn",
            -1,
            "loader-insns",
            "first difference in insn 91",
        ),
        ("opts_btf", -3, "loader-btf", "first difference at byte 167"),
        ("opts_sig", -1, "signature", "only the signature differs"),
    ];
    for (arr, at, part, detail) in cases {
        let t = tampered("synth-kfunc.lskel.h", arr, at, &format!("diff{at}"));
        let o = run(&["diff", a, t.to_str().unwrap()]);
        assert_eq!(o.status, 8, "{arr}: {}", o.stdout);
        let first = o.stdout.lines().next().unwrap();
        assert!(
            first.starts_with(&format!("differs: {part}: ")),
            "{arr}: {}",
            o.stdout
        );
        assert!(first.contains(detail), "{arr}: {}", o.stdout);
    }
    let b = data("synth-inline.lskel.h");
    let o = run(&["diff", a, b.to_str().unwrap(), "--json"]);
    let v: serde_json::Value = serde_json::from_str(&o.stdout).unwrap();
    assert_eq!(v["identical"], false);
    assert_eq!(v["differences"][0]["part"], "loader-insns");
}

/// A hostile loader: tens of thousands of map creations and kfunc calls
/// that all name the same attr, fd slot and BTF id. The report stays small
/// and the work linear.
#[test]
fn hostile_repetition_is_bounded() {
    use bpfsig_cli::cheader::render_literal;
    fn ins(code: u8, regs: u8, off: i16, imm: i32) -> Vec<u8> {
        let mut v = vec![code, regs];
        v.extend(off.to_le_bytes());
        v.extend(imm.to_le_bytes());
        v
    }
    let ld = |dst: u8, off: i32| [ins(0x18, dst | (6 << 4), 0, 0), ins(0, 0, 0, off)].concat();
    let mut prog = vec![];
    for _ in 0..40_000 {
        prog.extend(ins(0xb7, 1, 0, 0)); // r1 = BPF_MAP_CREATE
        prog.extend(ld(2, 0)); // r2 = blob + 0
        prog.extend(ins(0xb7, 3, 0, 72));
        prog.extend(ins(0x85, 0, 0, 166)); // sys_bpf
        prog.extend(ld(1, 8)); // fd slot
        prog.extend(ins(0x63, 1 | (7 << 4), 0, 0));
        prog.extend(ins(0x85, 3 << 4, 0, 1)); // a PROG_BTF kfunc call
    }
    let text = format!(
        "static const char opts_data[] = {};\nstatic const char opts_insn[] = {};\nstatic const char opts_sig[] = \"\\x30\";\n",
        render_literal(&[0u8; 1024]),
        render_literal(&prog)
    );
    let t = std::time::Instant::now();
    let r = bpfsig_cli::inspect::inspect("hostile", text.as_bytes(), &[]);
    assert!(t.elapsed().as_secs() < 20, "{:?}", t.elapsed());
    assert_eq!(r.maps.len(), 1024);
    assert_eq!(r.loader.as_ref().unwrap().kfuncs.len(), 1);
    assert_eq!(r.loader.as_ref().unwrap().kfuncs[0].calls, 40_000);
    assert_eq!(r.status, 3); // the one-byte signature is malformed
}
