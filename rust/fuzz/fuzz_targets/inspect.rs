// SPDX-License-Identifier: GPL-2.0
//! Any bytes as a light-skeleton header for `bpfsig inspect` and `diff`:
//! header scanning, loader shapes, blob attrs, CMS decoding and verification
//! with the test certificate. Must never panic; a header equals itself.
//!
//! Inputs starting with `#raw` skip the text layer: two little-endian u16
//! lengths split the rest into instructions, data blob and signature, so
//! the fuzzer reaches the binary readers without having to write C escapes.
#![no_main]

use bpfsig_cli::cheader::render_literal;
use bpfsig_cli::diff::diff;
use bpfsig_cli::inspect::{inspect, parse, CertFile};
use bpfsig_cli::pkcs7::load_certs;
use libfuzzer_sys::fuzz_target;

const CERT: &[u8] = include_bytes!("../../../selftests/skel/keys/signing.crt.der");

fn header(insns: &[u8], data: &[u8], sig: &[u8]) -> Vec<u8> {
    format!(
        "static const char opts_data[] = {};\nstatic const char opts_insn[] = {};\n\
         static const char opts_sig[] = {};\n",
        render_literal(data),
        render_literal(insns),
        render_literal(sig)
    )
    .into_bytes()
}

fuzz_target!(|input: &[u8]| {
    let text = match input.strip_prefix(b"#raw") {
        Some([a0, a1, b0, b1, rest @ ..]) => {
            let a = usize::from(u16::from_le_bytes([*a0, *a1])).min(rest.len());
            let (insns, rest) = rest.split_at(a);
            let b = usize::from(u16::from_le_bytes([*b0, *b1])).min(rest.len());
            let (data, sig) = rest.split_at(b);
            header(insns, data, sig)
        }
        _ => input.to_vec(),
    };
    let certs = [CertFile {
        path: "signing.crt.der".into(),
        certs: load_certs(CERT).unwrap(),
    }];
    let r = inspect("fuzz", &text, &certs);
    serde_json::to_string(&r).unwrap();
    if let Ok(p) = parse(&text) {
        assert!(diff(&p, &p).is_empty());
    }
});
