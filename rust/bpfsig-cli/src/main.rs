// SPDX-License-Identifier: GPL-2.0
//! The `bpfsig` command: `bpfsig inspect` and `bpfsig diff`.
//!
//! ```text
//! bpfsig inspect FILE.lskel.h [--cert CERT.pem|CERT.der ...] [--json]
//! bpfsig diff A.lskel.h B.lskel.h [--json]
//! ```
//!
//! Exit statuses (`bpfsig_cli::inspect::status`): 0 every check holds;
//! 1 usage or unreadable file; 2 not a signed light skeleton this tool can
//! read; 3 the signature is malformed or does not verify with any --cert;
//! 4 the signature is of a form this tool does not verify (fail closed);
//! 5 no metadata check of a known shape in the loader; 6 the data blob does
//! not hash to what the loader checks; 7 `opts_excl_hash` is not the
//! loader's digest; 8 (`diff`) the headers differ. When several checks fail
//! the status is the first of 2-7 in that order; every failed check prints
//! one line on stderr.

use std::io::Write;
use std::process::ExitCode;

use bpfsig_cli::cheader::MAX_HEADER;
use bpfsig_cli::diff::{diff, DiffReport};
use bpfsig_cli::inspect::{self, status, CertFile, Report};
use bpfsig_cli::pkcs7;

const USAGE: &str = "usage: bpfsig inspect FILE.lskel.h [--cert CERT.pem|CERT.der ...] [--json]
       bpfsig diff A.lskel.h B.lskel.h [--json]";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let code = match run(&args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("bpfsig: {e}");
            status::USAGE
        }
    };
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}

/// Reads a file of at most [`MAX_HEADER`] bytes.
fn read(path: &str) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let f = std::fs::File::open(path).map_err(|e| format!("{path}: {e}"))?;
    let mut buf = Vec::new();
    let limit = u64::try_from(MAX_HEADER)
        .unwrap_or(u64::MAX)
        .saturating_add(1);
    f.take(limit)
        .read_to_end(&mut buf)
        .map_err(|e| format!("{path}: {e}"))?;
    if buf.len() > MAX_HEADER {
        return Err(format!("{path}: larger than {MAX_HEADER} bytes"));
    }
    Ok(buf)
}

fn run(args: &[String]) -> Result<i32, String> {
    let mut json = false;
    let mut certs = vec![];
    let mut files = vec![];
    let (cmd, rest) = args.split_first().ok_or(USAGE)?;
    let mut it = rest.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--json" => json = true,
            "--cert" => certs.push(it.next().ok_or("--cert needs a file")?.clone()),
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(status::OK);
            }
            s if s.starts_with('-') => return Err(format!("unknown option {s}\n{USAGE}")),
            _ => files.push(a.clone()),
        }
    }
    match (cmd.as_str(), files.as_slice()) {
        ("inspect", [file]) => {
            let mut cf = vec![];
            for c in &certs {
                let certs = pkcs7::load_certs(&read(c)?).map_err(|e| format!("{c}: {e}"))?;
                cf.push(CertFile {
                    path: c.clone(),
                    certs,
                });
            }
            let r = inspect::inspect(file, &read(file)?, &cf);
            if json {
                print_json(&r)?;
            } else {
                print!("{}", render(&r));
            }
            for c in r.checks.iter().filter(|c| !c.ok) {
                eprintln!("bpfsig: {file}: {}: {}", c.name, c.message);
            }
            Ok(r.status)
        }
        ("diff", [a, b]) if certs.is_empty() => {
            let pa = inspect::parse(&read(a)?);
            let pb = inspect::parse(&read(b)?);
            let (pa, pb) = match (pa, pb) {
                (Ok(x), Ok(y)) => (x, y),
                (Err(e), _) => {
                    eprintln!("bpfsig: {a}: header: {e}");
                    return Ok(status::FORMAT);
                }
                (_, Err(e)) => {
                    eprintln!("bpfsig: {b}: header: {e}");
                    return Ok(status::FORMAT);
                }
            };
            let d = diff(&pa, &pb);
            if json {
                print_json(&DiffReport {
                    format: inspect::FORMAT,
                    a: a.clone(),
                    b: b.clone(),
                    identical: d.is_empty(),
                    differences: d.clone(),
                })?;
            } else if d.is_empty() {
                println!("identical in everything signed or loaded");
            } else {
                for x in &d {
                    println!("differs: {}: {}", x.part, x.detail);
                }
            }
            Ok(if d.is_empty() {
                status::OK
            } else {
                status::DIFFERENT
            })
        }
        _ => Err(USAGE.into()),
    }
}

fn print_json<T: serde::Serialize>(v: &T) -> Result<(), String> {
    let s = serde_json::to_string_pretty(v).map_err(|e| e.to_string())?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{s}").map_err(|e| e.to_string())
}

/// The human report: a few aligned lines per part.
fn render(r: &Report) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    let mut line = |k: &str, v: String| {
        let _ = writeln!(s, "{k:<10} {v}");
    };
    line("file", r.file.clone());
    if let Some(l) = &r.loader {
        line(
            "loader",
            format!(
                "{} insns; the signature covers {}",
                l.insn_count,
                match l.signed_scope {
                    "insns" => "the instructions only (Linux 7.2)".to_owned(),
                    _ => format!(
                        "header, instructions and the loader's BTF ({} bytes)",
                        l.btf_bytes.unwrap_or(0)
                    ),
                }
            ),
        );
        match &l.metadata_check {
            Some(c) => line(
                "",
                format!(
                    "metadata check: {} at insn {}, hash {}",
                    c.shape, c.insn, c.hash
                ),
            ),
            None => line("", "metadata check: none found".into()),
        }
        let kf: Vec<String> = l
            .kfuncs
            .iter()
            .map(|k| match &k.name {
                Some(n) => format!("{n} (insn {})", k.insn),
                None => format!("{} id {} (insn {})", k.via, k.btf_id, k.insn),
            })
            .collect();
        line(
            "",
            format!(
                "kfuncs: {}",
                if kf.is_empty() {
                    "none".into()
                } else {
                    kf.join(", ")
                }
            ),
        );
        line("", format!("digest {} (tag {})", l.digest, l.tag));
        if let Some(e) = &l.excl_prog_hash {
            line("", format!("excl_prog_hash {e}"));
        }
    }
    if let Some(m) = &r.metadata {
        line(
            "metadata",
            format!(
                "opts_data {} bytes, sha256 {}{}",
                m.size,
                m.sha256,
                match m.matches_loader_hash {
                    Some(true) => ": matches the loader's hash",
                    Some(false) => ": DIFFERS from the loader's hash",
                    None => "",
                }
            ),
        );
    }
    if let Some(x) = &r.metadata_map {
        line("", x.clone());
    }
    if let Some(g) = &r.signature {
        let signer = match (&g.key_id, &g.issuer, &g.serial) {
            (Some(k), _, _) => format!("signer key id {k}"),
            (_, Some(i), Some(n)) => format!("signer issuer {i}, serial {n}"),
            _ => "signer unknown".into(),
        };
        match &g.error {
            Some(e) => line("signature", format!("{} bytes: {e}", g.size)),
            None => line(
                "signature",
                format!(
                    "{} bytes, CMS, {signer}, {} with {}, {}",
                    g.size,
                    g.digest_algorithm.as_deref().unwrap_or("?"),
                    g.signature_algorithm.as_deref().unwrap_or("?"),
                    if g.signed_attributes == Some(true) {
                        "signed attributes"
                    } else {
                        "no signed attributes"
                    }
                ),
            ),
        }
        line("", format!("keyring: {}", g.keyring.meaning));
        for v in &g.verification {
            line(
                "",
                format!(
                    "{} ({}): {}{}",
                    v.cert,
                    v.subject,
                    v.result,
                    v.reason
                        .as_ref()
                        .map(|x| format!(": {x}"))
                        .unwrap_or_default()
                ),
            );
        }
    }
    for (i, p) in r.programs.iter().enumerate() {
        line(
            if i == 0 { "programs" } else { "" },
            format!(
                "{} {}{}{} {} insns, license {}{}",
                p.name,
                p.prog_type,
                p.attach_type
                    .as_ref()
                    .map(|t| format!("/{t}"))
                    .unwrap_or_default(),
                p.attach_target
                    .as_ref()
                    .map(|t| format!(" -> {t}"))
                    .unwrap_or_default(),
                p.insn_count,
                p.license.as_deref().unwrap_or("?"),
                if p.prog_flags.is_empty() {
                    String::new()
                } else {
                    format!(", {}", p.prog_flags.join("|"))
                }
            ),
        );
    }
    for (i, m) in r.maps.iter().enumerate() {
        line(
            if i == 0 { "maps" } else { "" },
            format!(
                "{} {} key {} value {} max {}{}{}{}{}{}",
                m.name,
                m.map_type,
                m.key_size,
                m.value_size,
                m.max_entries,
                if m.map_flags.is_empty() {
                    String::new()
                } else {
                    format!(" {}", m.map_flags.join("|"))
                },
                if m.frozen { ", frozen" } else { "" },
                if m.initial_value_runtime {
                    ", initial value from the caller"
                } else {
                    ""
                },
                if m.exclusive { ", exclusive" } else { "" },
                if m.inner { ", inner-map template" } else { "" }
            ),
        );
    }
    for n in &r.notes {
        line("note", n.clone());
    }
    let failed = r.checks.iter().filter(|c| !c.ok).count();
    line(
        "result",
        if failed == 0 {
            format!("all {} checks hold", r.checks.len())
        } else {
            format!(
                "{failed} of {} checks failed (exit status {})",
                r.checks.len(),
                r.status
            )
        },
    );
    s
}
