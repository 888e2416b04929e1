// SPDX-License-Identifier: GPL-2.0
//! `bpfsig inspect`: every check on one header, as a [`Report`].
//!
//! The report is also the JSON output (`--json`), so its field names are a
//! stable interface: `format` is bumped on any incompatible change.

use bpfsig_core::btf::{index_len, Btf};
use bpfsig_core::digest::prog_digest;
use bpfsig_core::insn::{Insns, InsnsMut};
use serde::Serialize;
use sha2::Digest;

use crate::blob::{self, Region};
use crate::cheader::{self, Header};
use crate::loader::{self, Loader};
use crate::names::{self, hex};
use crate::pkcs7::{self, Cert, SigError, SignerId};
use crate::signed::{self, Scope};

/// `BPF_PROG_TYPE_CGROUP_SKB`, whose attach type 0 is a real one.
const CGROUP_SKB: u32 = 8;

/// Version of the JSON layout.
pub const FORMAT: u32 = 1;

/// Exit statuses, one per failure class. When several checks fail, the
/// status is the first failed class in this order.
pub mod status {
    /// Every check asked for holds.
    pub const OK: i32 = 0;
    /// Bad usage, or a file (header, certificate) that cannot be read.
    pub const USAGE: i32 = 1;
    /// Not a signed light skeleton this tool can read.
    pub const FORMAT: i32 = 2;
    /// The signature is malformed or does not verify with any `--cert`.
    pub const SIGNATURE: i32 = 3;
    /// The signature is of a form this tool does not verify (fail closed).
    pub const UNSUPPORTED: i32 = 4;
    /// The loader has no metadata check of a known shape.
    pub const NO_CHECK: i32 = 5;
    /// The data blob does not hash to what the loader checks (tampered blob).
    pub const METADATA: i32 = 6;
    /// `opts_excl_hash` is not the loader's digest: the kernel would not let
    /// the loader use its metadata map.
    pub const EXCLUSIVE: i32 = 7;
    /// `bpfsig diff`: the headers differ.
    pub const DIFFERENT: i32 = 8;
}

/// One check and its outcome.
#[derive(Clone, Debug, Serialize)]
pub struct Check {
    /// `header`, `signature`, `metadata-check`, `metadata-hash`, `exclusive-hash`.
    pub name: &'static str,
    /// Whether it holds.
    pub ok: bool,
    /// The exit status it gives when it fails (see [`status`]).
    pub status: i32,
    /// One line.
    pub message: String,
}

/// The loader program.
#[derive(Clone, Debug, Serialize)]
pub struct LoaderReport {
    /// Number of instruction slots.
    pub insn_count: usize,
    /// `insns` or `header+insns+btf`.
    pub signed_scope: &'static str,
    /// Size of the loader's BTF (`opts_btf`), if the header has one.
    pub btf_bytes: Option<usize>,
    /// The metadata check, if found.
    pub metadata_check: Option<CheckReport>,
    /// Kfunc calls.
    pub kfuncs: Vec<KfuncReport>,
    /// `prog->digest` at `BPF_PROG_LOAD` (hex); pin this.
    pub digest: String,
    /// `prog->tag` (first 8 bytes of the digest, hex).
    pub tag: String,
    /// `opts_excl_hash` (hex), the hash the metadata map is exclusive to.
    pub excl_prog_hash: Option<String>,
}

/// The metadata check found in the loader.
#[derive(Clone, Debug, Serialize)]
pub struct CheckReport {
    /// `kfunc` or `inline`.
    pub shape: &'static str,
    /// Slot of its first instruction.
    pub insn: usize,
    /// The hash it compares with `map->sha` (hex).
    pub hash: String,
}

/// A kfunc the loader calls.
#[derive(Clone, Debug, Serialize)]
pub struct KfuncReport {
    /// Slot of its first call.
    pub insn: usize,
    /// Number of calls.
    pub calls: usize,
    /// `prog_btf` (named in the loader's BTF) or `vmlinux_id`.
    pub via: &'static str,
    /// BTF id in the call's `imm`.
    pub btf_id: i32,
    /// The name, when the loader's BTF gives one.
    pub name: Option<String>,
}

/// The data blob.
#[derive(Clone, Debug, Serialize)]
pub struct MetadataReport {
    /// Size of `opts_data`.
    pub size: usize,
    /// Its SHA-256 (what the kernel computes as `map->sha`), hex.
    pub sha256: String,
    /// Whether it equals the loader's hash (`null` without a check).
    pub matches_loader_hash: Option<bool>,
}

/// The signature.
#[derive(Clone, Debug, Serialize)]
pub struct SignatureReport {
    /// Size of `opts_sig`.
    pub size: usize,
    /// Why it cannot be decoded, if it cannot.
    pub error: Option<String>,
    /// Signer issuer (issuer-and-serial signers).
    pub issuer: Option<String>,
    /// Signer serial number, hex (issuer-and-serial signers).
    pub serial: Option<String>,
    /// Signer subject key identifier, hex (bpftool's signers).
    pub key_id: Option<String>,
    /// Digest algorithm.
    pub digest_algorithm: Option<String>,
    /// Signature (key) algorithm.
    pub signature_algorithm: Option<String>,
    /// Whether signed attributes (messageDigest) are present.
    pub signed_attributes: Option<bool>,
    /// Subjects of certificates carried in the signature (information only).
    pub embedded_certs: Vec<String>,
    /// The `keyring_id` the header passes.
    pub keyring: KeyringReport,
    /// One entry per `--cert` certificate.
    pub verification: Vec<VerifyReport>,
}

/// The keyring the load asks for.
#[derive(Clone, Debug, Serialize)]
pub struct KeyringReport {
    /// The expression assigned to `opts.keyring_id`, if any.
    pub expr: Option<String>,
    /// Its value when it is a literal (0 = builtin trusted keys).
    pub value: Option<i64>,
    /// In words.
    pub meaning: String,
}

/// The outcome with one certificate.
#[derive(Clone, Debug, Serialize)]
pub struct VerifyReport {
    /// The file given.
    pub cert: String,
    /// Certificate subject.
    pub subject: String,
    /// Certificate issuer.
    pub issuer: String,
    /// Certificate serial, hex.
    pub serial: String,
    /// `verified`, `failed` or `unsupported`.
    pub result: &'static str,
    /// Why not, when not verified.
    pub reason: Option<String>,
}

/// A program the loader loads.
#[derive(Clone, Debug, Serialize)]
pub struct ProgramReport {
    /// `prog_name`.
    pub name: String,
    /// Program type name.
    pub prog_type: String,
    /// Expected attach type name (`null` when 0 for a type other than
    /// cgroup_skb, for which 0 means "none").
    pub attach_type: Option<String>,
    /// Attach target looked up by name at run time, if any.
    pub attach_target: Option<String>,
    /// Instruction count.
    pub insn_count: u32,
    /// License string, when the loader points the attr at one in the blob.
    pub license: Option<String>,
    /// Program flags.
    pub prog_flags: Vec<String>,
    /// CO-RE relocations the kernel applies to it.
    pub core_relo_cnt: u32,
    /// SHA-256 of its instructions as stored in the blob (before the
    /// loader's run-time relocations), hex.
    pub insns_sha256: Option<String>,
}

/// A map the loader creates.
#[derive(Clone, Debug, Serialize)]
pub struct MapReport {
    /// `map_name`.
    pub name: String,
    /// Map type name.
    pub map_type: String,
    /// Key size.
    pub key_size: u32,
    /// Value size.
    pub value_size: u32,
    /// Max entries as signed.
    pub max_entries: u32,
    /// Whether the skeleton's caller can change max_entries at run time.
    pub max_entries_runtime: bool,
    /// Map flags.
    pub map_flags: Vec<String>,
    /// The loader freezes it.
    pub frozen: bool,
    /// Exclusive to a program hash.
    pub exclusive: bool,
    /// Inner-map template rather than a skeleton map.
    pub inner: bool,
    /// SHA-256 of the initial value stored in the blob, hex.
    pub initial_value_sha256: Option<String>,
    /// The loader replaces that value with the skeleton caller's at run time.
    pub initial_value_runtime: bool,
}

/// Everything `bpfsig inspect` says about a header.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// Version of this layout ([`FORMAT`]).
    pub format: u32,
    /// The header's path as given.
    pub file: String,
    /// The loader.
    pub loader: Option<LoaderReport>,
    /// The data blob.
    pub metadata: Option<MetadataReport>,
    /// The signature.
    pub signature: Option<SignatureReport>,
    /// The metadata map itself, which the skeleton (not the loader) creates.
    pub metadata_map: Option<String>,
    /// Programs the loader loads.
    pub programs: Vec<ProgramReport>,
    /// Maps the loader creates.
    pub maps: Vec<MapReport>,
    /// Sizes of the BTF objects the loader loads for its programs.
    pub btf_loads: Vec<u32>,
    /// What could not be determined, in words.
    pub notes: Vec<String>,
    /// Every check made.
    pub checks: Vec<Check>,
    /// The exit status (0 when every check holds).
    pub status: i32,
}

/// A header's parts, decoded once; shared by inspect and diff.
#[derive(Debug)]
pub struct Parsed {
    /// The arrays.
    pub header: Header,
    /// What the loader does.
    pub loader: Loader,
    /// What the blob holds.
    pub contents: blob::Contents,
}

impl Parsed {
    /// `opts_insn`.
    pub fn insns(&self) -> &[u8] {
        self.header.array("opts_insn").unwrap_or_default()
    }

    /// `opts_data`.
    pub fn data(&self) -> &[u8] {
        self.header.array("opts_data").unwrap_or_default()
    }

    /// `opts_btf`.
    pub fn btf(&self) -> Option<&[u8]> {
        self.header.array("opts_btf")
    }
}

/// Parses a header and reads its loader and blob; the error is one line.
pub fn parse(text: &[u8]) -> Result<Parsed, String> {
    let header = cheader::parse(text).map_err(|e| e.to_string())?;
    let insns = header
        .array("opts_insn")
        .ok_or("no opts_insn[]: not a light skeleton (bpftool gen skeleton -L)")?;
    header
        .array("opts_data")
        .ok_or("no opts_data[]: not a light skeleton")?;
    let insns = Insns::new(insns)
        .map_err(|_| "opts_insn is not a whole number of 8-byte instructions".to_owned())?;
    let mut index = Vec::new();
    let btf = match header.array("opts_btf") {
        Some(raw) => {
            let n = index_len(raw).map_err(|e| format!("opts_btf is not valid BTF: {e:?}"))?;
            index.resize(n, 0u32);
            Some(Btf::parse(raw, &mut index).map_err(|e| format!("opts_btf: {e:?}"))?)
        }
        None => None,
    };
    let loader = loader::analyze(insns, btf.as_ref());
    let contents = blob::decode(header.array("opts_data").unwrap_or_default(), &loader);
    Ok(Parsed {
        header,
        loader,
        contents,
    })
}

fn sha256(b: &[u8]) -> [u8; 32] {
    sha2::Sha256::digest(b).into()
}

/// The loader's digest as the kernel computes it at `BPF_PROG_LOAD`.
pub fn loader_digest(insns: &[u8]) -> [u8; 32] {
    let mut copy = insns.to_vec();
    match InsnsMut::new(&mut copy) {
        Ok(mut m) => prog_digest(&mut m, sha2::Sha256::default()),
        Err(_) => [0; 32],
    }
}

/// A certificate file as given on the command line.
pub struct CertFile {
    /// The path, for the report.
    pub path: String,
    /// Its certificates.
    pub certs: Vec<Cert>,
}

/// What `keyring_id` selects, as 7.2's `bpf_prog_verify_signature()` reads
/// it: 0..=2 are the system keyrings (`VERIFY_USE_*`), anything else a user
/// keyring's serial.
fn keyring(expr: Option<&str>) -> KeyringReport {
    let value = expr.and_then(|e| e.parse::<i64>().ok());
    let meaning = match (expr, value) {
        (None, _) => "the header sets no keyring_id: 0, the builtin trusted keys".into(),
        (Some(_), Some(0)) => "0: the builtin trusted keys".into(),
        (Some(_), Some(1)) => "1: the secondary trusted keys".into(),
        (Some(_), Some(2)) => "2: the platform keys".into(),
        (Some(_), Some(v)) => format!("{v}: the user keyring with this serial"),
        (Some(e), None) => format!(
            "{e}: set by the skeleton's caller at run time (0 unless set: the builtin trusted keys)"
        ),
    };
    KeyringReport {
        expr: expr.map(str::to_owned),
        value,
        meaning,
    }
}

/// Bytes a report may hash or compare for its regions: regions may overlap
/// (a hostile loader can point every map at the whole blob), so the work is
/// bounded by a multiple of the blob rather than by their count.
pub struct Budget(usize);

impl Budget {
    /// The budget for a blob of `len` bytes.
    pub fn for_blob(len: usize) -> Self {
        Self(len.saturating_mul(4).saturating_add(1 << 20))
    }

    /// Takes `n` bytes of work; `false` once the budget is spent.
    pub fn take(&mut self, n: usize) -> bool {
        match self.0.checked_sub(n) {
            Some(rest) => {
                self.0 = rest;
                true
            }
            None => false,
        }
    }
}

fn region_sha(blob: &[u8], r: Option<Region>, budget: &mut Budget) -> Option<String> {
    let b = r.and_then(|r| r.of(blob))?;
    budget.take(b.len()).then(|| hex(&sha256(b)))
}

/// Runs every check on a header's text.
pub fn inspect(file: &str, text: &[u8], certs: &[CertFile]) -> Report {
    let mut r = Report {
        format: FORMAT,
        file: file.to_owned(),
        loader: None,
        metadata: None,
        signature: None,
        metadata_map: None,
        programs: vec![],
        maps: vec![],
        btf_loads: vec![],
        notes: vec![],
        checks: vec![],
        status: status::OK,
    };
    let p = match parse(text) {
        Ok(p) => p,
        Err(e) => {
            fail(&mut r, "header", status::FORMAT, e);
            return finish(r);
        }
    };
    let Some(sig) = p.header.array("opts_sig") else {
        fail(
            &mut r,
            "header",
            status::FORMAT,
            "no opts_sig[]: the loader is not signed (bpftool gen skeleton -L -S)".into(),
        );
        return finish(r);
    };
    pass(
        &mut r,
        "header",
        status::FORMAT,
        "a signed light skeleton".into(),
    );
    let insns = p.insns();
    let data = p.data();
    let Some((scope, signed)) = signed::signed_data(insns, p.btf()) else {
        fail(&mut r, "header", status::FORMAT, "arrays too large".into());
        return finish(r);
    };
    let digest = loader_digest(insns);
    let excl = p.header.array("opts_excl_hash");
    let l = &p.loader;
    r.loader = Some(LoaderReport {
        insn_count: l.insn_count,
        signed_scope: scope.name(),
        btf_bytes: p.btf().map(<[u8]>::len),
        metadata_check: l.check.map(|c| CheckReport {
            shape: c.shape.name(),
            insn: c.first_insn,
            hash: hex(&c.hash),
        }),
        kfuncs: l
            .kfuncs
            .iter()
            .map(|k| KfuncReport {
                insn: k.insn,
                calls: k.calls,
                via: if k.src_reg == bpfsig_core::insn::BPF_PSEUDO_KFUNC_CALL_PROG_BTF {
                    "prog_btf"
                } else {
                    "vmlinux_id"
                },
                btf_id: k.btf_id,
                name: k.name.clone(),
            })
            .collect(),
        digest: hex(&digest),
        tag: hex(digest.get(..8).unwrap_or_default()),
        excl_prog_hash: excl.map(hex),
    });
    let data_sha = sha256(data);
    r.metadata = Some(MetadataReport {
        size: data.len(),
        sha256: hex(&data_sha),
        matches_loader_hash: l.check.map(|c| c.hash == data_sha),
    });
    r.signature = Some(signature(&mut r, sig, &signed, scope, &p, certs));

    match l.check {
        None => fail(
            &mut r,
            "metadata-check",
            status::NO_CHECK,
            "the loader has no metadata check of a known shape (kfunc or 7.2 inline)".into(),
        ),
        Some(c) => {
            let m = format!(
                "{} check at insn {} compares map->sha with {}",
                c.shape.name(),
                c.first_insn,
                hex(&c.hash)
            );
            pass(&mut r, "metadata-check", status::NO_CHECK, m);
            if c.hash == data_sha {
                pass(
                    &mut r,
                    "metadata-hash",
                    status::METADATA,
                    "sha256(opts_data) equals the loader's hash".into(),
                );
            } else {
                fail(
                    &mut r,
                    "metadata-hash",
                    status::METADATA,
                    format!(
                        "metadata blob tampered: sha256(opts_data) = {} but the loader checks {}",
                        hex(&data_sha),
                        hex(&c.hash)
                    ),
                );
            }
        }
    }
    match excl {
        Some(e) if e == digest => pass(
            &mut r,
            "exclusive-hash",
            status::EXCLUSIVE,
            "opts_excl_hash equals the loader's digest".into(),
        ),
        Some(e) => fail(
            &mut r,
            "exclusive-hash",
            status::EXCLUSIVE,
            format!(
                "opts_excl_hash {} is not the loader's digest {}: the kernel refuses the metadata map (instructions changed?)",
                hex(e),
                hex(&digest)
            ),
        ),
        None => fail(
            &mut r,
            "exclusive-hash",
            status::EXCLUSIVE,
            "no opts_excl_hash[]: the metadata map would not be exclusive to the loader".into(),
        ),
    }
    r.metadata_map = excl.map(|e| {
        format!(
            "the data blob ({} bytes): created by the skeleton as a frozen array map exclusive to program hash {}",
            data.len(),
            hex(e)
        )
    });
    contents(&mut r, &p);
    finish(r)
}

fn contents(r: &mut Report, p: &Parsed) {
    let data = p.data();
    let mut budget = Budget::for_blob(data.len());
    let c = &p.contents;
    r.programs = c
        .programs
        .iter()
        .map(|g| ProgramReport {
            name: g.name.clone(),
            prog_type: names::prog_type(g.prog_type),
            attach_type: (g.attach_type != 0 || g.prog_type == CGROUP_SKB)
                .then(|| names::attach_type(g.attach_type)),
            attach_target: g.attach_target.clone(),
            insn_count: g.insn_cnt,
            license: g.license.clone(),
            prog_flags: names::prog_flags(g.prog_flags),
            core_relo_cnt: g.core_relo_cnt,
            insns_sha256: region_sha(data, g.insns, &mut budget),
        })
        .collect();
    r.maps = c
        .maps
        .iter()
        .map(|m| MapReport {
            name: m.name.clone(),
            map_type: names::map_type(m.map_type),
            key_size: m.key_size,
            value_size: m.value_size,
            max_entries: m.max_entries,
            max_entries_runtime: m.max_entries_runtime,
            map_flags: names::map_flags(m.map_flags),
            frozen: m.frozen,
            exclusive: m.exclusive,
            inner: m.inner,
            initial_value_sha256: region_sha(data, m.initial_value, &mut budget),
            initial_value_runtime: m.initial_value_runtime,
        })
        .collect();
    r.btf_loads.clone_from(&c.btf_loads);
    r.notes.clone_from(&c.notes);
    r.notes.push(
        "programs' instructions are as signed in the blob; the loader relocates map fds, kfunc and attach BTF ids at run time".into(),
    );
    let runtime: Vec<&str> = c
        .maps
        .iter()
        .filter(|m| m.initial_value_runtime)
        .map(|m| m.name.as_str())
        .collect();
    if !runtime.is_empty() {
        r.notes.push(format!(
            "the initial values of {} come from the skeleton's caller at run time (bpf_copy_from_user), not from the signed blob",
            runtime.join(", ")
        ));
    } else if c.maps.iter().any(|m| m.initial_value.is_some()) {
        r.notes.push(
            "map initial values are the signed blob's; the header's data[] arrays are not used by the loader".into(),
        );
    }
}

fn signature(
    r: &mut Report,
    sig: &[u8],
    signed: &[u8],
    scope: Scope,
    p: &Parsed,
    certs: &[CertFile],
) -> SignatureReport {
    let mut s = SignatureReport {
        size: sig.len(),
        error: None,
        issuer: None,
        serial: None,
        key_id: None,
        digest_algorithm: None,
        signature_algorithm: None,
        signed_attributes: None,
        embedded_certs: vec![],
        keyring: keyring(p.header.keyring_expr.as_deref()),
        verification: vec![],
    };
    let parsed = match pkcs7::parse(sig) {
        Ok(x) => x,
        Err(e) => {
            let st = match e {
                SigError::Unsupported(_) => status::UNSUPPORTED,
                _ => status::SIGNATURE,
            };
            s.error = Some(e.to_string());
            fail(r, "signature", st, format!("opts_sig: {e}"));
            return s;
        }
    };
    let rep = &parsed.report;
    match &rep.id {
        SignerId::IssuerSerial { issuer, serial } => {
            s.issuer = Some(issuer.clone());
            s.serial = Some(serial.clone());
        }
        SignerId::KeyId(k) => s.key_id = Some(k.clone()),
    }
    s.digest_algorithm = Some(rep.digest_algorithm.clone());
    s.signature_algorithm = Some(rep.signature_algorithm.clone());
    s.signed_attributes = Some(rep.signed_attributes);
    s.embedded_certs.clone_from(&rep.embedded_certs);
    if certs.is_empty() {
        return s;
    }
    let mut failures: Vec<(i32, String)> = vec![];
    for f in certs {
        for c in &f.certs {
            let res = parsed.verify(signed, c);
            let (result, st) = match &res {
                Ok(()) => ("verified", status::OK),
                Err(SigError::Unsupported(_)) => ("unsupported", status::UNSUPPORTED),
                Err(_) => ("failed", status::SIGNATURE),
            };
            let reason = res.is_err().then(|| res_reason(&res, scope, p, &parsed, c));
            if let Some(why) = &reason {
                failures.push((st, format!("{}: {why}", f.path)));
            }
            s.verification.push(VerifyReport {
                cert: f.path.clone(),
                subject: c.subject(),
                issuer: c.issuer(),
                serial: c.serial(),
                result,
                reason,
            });
        }
    }
    if s.verification.iter().any(|v| v.result == "verified") {
        let m = format!("verifies over {} with {}", scope.name(), verified_by(&s));
        pass(r, "signature", status::SIGNATURE, m);
    } else {
        // Unsupported only when no certificate even got to the cryptography.
        let st = if failures.iter().any(|f| f.0 == status::SIGNATURE) {
            status::SIGNATURE
        } else {
            status::UNSUPPORTED
        };
        let why: Vec<String> = failures.into_iter().map(|f| f.1).collect();
        fail(
            r,
            "signature",
            st,
            format!("signature does not verify: {}", why.join("; ")),
        );
    }
    s
}

fn verified_by(s: &SignatureReport) -> String {
    s.verification
        .iter()
        .filter(|v| v.result == "verified")
        .map(|v| v.cert.clone())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The reason for a failed verification, with a hint when the signature is
/// over the series' interim `insns || btf` bytes (no header), which kernels
/// with the header format no longer accept.
fn res_reason(
    res: &Result<(), SigError>,
    scope: Scope,
    p: &Parsed,
    sig: &pkcs7::Signature,
    cert: &Cert,
) -> String {
    let base = res
        .as_ref()
        .err()
        .map(ToString::to_string)
        .unwrap_or_default();
    if scope != Scope::InsnsAndBtf {
        return format!("{base} (over the instructions)");
    }
    let mut interim = p.insns().to_vec();
    interim.extend_from_slice(p.btf().unwrap_or_default());
    if sig.verify(&interim, cert).is_ok() {
        return format!(
            "{base} over header+insns+btf; it signs the interim insns||btf without the header, which the kernel no longer accepts (rebuild with the current bpftool)"
        );
    }
    format!("{base} (over header+insns+btf)")
}

fn pass(r: &mut Report, name: &'static str, status: i32, message: String) {
    r.checks.push(Check {
        name,
        ok: true,
        status,
        message,
    });
}

fn fail(r: &mut Report, name: &'static str, status: i32, message: String) {
    r.checks.push(Check {
        name,
        ok: false,
        status,
        message,
    });
}

/// Order in which failure classes decide the exit status.
const PRIORITY: [i32; 6] = [
    status::FORMAT,
    status::SIGNATURE,
    status::UNSUPPORTED,
    status::NO_CHECK,
    status::METADATA,
    status::EXCLUSIVE,
];

fn finish(mut r: Report) -> Report {
    r.status = PRIORITY
        .iter()
        .copied()
        .find(|&s| r.checks.iter().any(|c| !c.ok && c.status == s))
        .unwrap_or(status::OK);
    r
}
