// SPDX-License-Identifier: GPL-2.0
//! Real PKCS#7 signatures: a throw-away RSA key and self-signed certificate
//! made with openssl at test time, the certificate added to a keyring of its
//! own, and detached CMS signatures (no attributes, no certificates), the
//! format bpftool and sign-file produce.

use crate::bpf;
use std::path::PathBuf;
use std::process::Command;

pub struct Signer {
    dir: PathBuf,
    /// Serial of the keyring holding the certificate (BPF_PROG_LOAD keyring_id).
    pub keyring: i32,
}

fn openssl(args: &[&str]) -> Result<(), String> {
    let out = Command::new("openssl")
        .args(args)
        .output()
        .map_err(|e| format!("openssl: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "openssl {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

impl Signer {
    pub fn new() -> Result<Self, String> {
        let dir = std::env::temp_dir().join(format!("bpfsig-selftest-{}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let p = |f: &str| dir.join(f).to_string_lossy().into_owned();
        openssl(&[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=bpfsig selftest",
            "-addext",
            "keyUsage=digitalSignature",
            "-keyout",
            &p("key.pem"),
            "-out",
            &p("cert.pem"),
        ])?;
        openssl(&[
            "x509",
            "-in",
            &p("cert.pem"),
            "-outform",
            "DER",
            "-out",
            &p("cert.der"),
        ])?;
        let der = std::fs::read(dir.join("cert.der")).map_err(|e| e.to_string())?;
        let keyring = bpf::add_key(
            c"keyring",
            c"bpfsig-selftest",
            &[],
            bpf::KEY_SPEC_USER_KEYRING,
        )
        .map_err(|e| format!("add_key(keyring): {e}"))?;
        bpf::add_key(c"asymmetric", c"", &der, keyring)
            .map_err(|e| format!("add_key(asymmetric): {e}"))?;
        Ok(Self { dir, keyring })
    }

    /// The test key of `dir` (`signing.crt.pem`, `signing.key.pem`), which
    /// the test kernel trusts as a builtin key: signatures for keyring 0.
    pub fn builtin(dir: &std::path::Path) -> Result<Self, String> {
        Self::committed(dir, "signing", 0)
    }

    /// A committed test key (`dir`'s `STEM.crt.pem`, `STEM.key.pem`) for
    /// `keyring`, copied so that the signer owns (and removes) its files.
    fn committed(dir: &std::path::Path, stem: &str, keyring: i32) -> Result<Self, String> {
        let tmp = std::env::temp_dir().join(format!("bpfsig-{stem}-{}", std::process::id()));
        std::fs::create_dir_all(&tmp).map_err(|e| e.to_string())?;
        for (from, to) in [("crt.pem", "cert.pem"), ("key.pem", "key.pem")] {
            let from = format!("{stem}.{from}");
            std::fs::copy(dir.join(&from), tmp.join(to)).map_err(|e| format!("{from}: {e}"))?;
        }
        Ok(Self { dir: tmp, keyring })
    }

    /// A fresh key whose certificate the builtin test key (`dir`'s
    /// `signing.*`) issued, added to the kernel's secondary trusted keyring
    /// (which accepts only keys a builtin or secondary key vouches for):
    /// signatures for keyring 1 (`VERIFY_USE_SECONDARY_KEYRING`) that the
    /// builtin keyring alone does not accept.
    pub fn secondary(dir: &std::path::Path) -> Result<Self, String> {
        let tmp = std::env::temp_dir().join(format!("bpfsig-secondary-{}", std::process::id()));
        std::fs::create_dir_all(&tmp).map_err(|e| e.to_string())?;
        let p = |f: &str| tmp.join(f).to_string_lossy().into_owned();
        let ca = |f: &str| dir.join(f).to_string_lossy().into_owned();
        openssl(&[
            "req",
            "-new",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=bpfsig selftest (secondary)",
            "-keyout",
            &p("key.pem"),
            "-out",
            &p("req.pem"),
        ])?;
        std::fs::write(
            tmp.join("ext.cnf"),
            "keyUsage=digitalSignature\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n",
        )
        .map_err(|e| e.to_string())?;
        openssl(&[
            "x509",
            "-req",
            "-in",
            &p("req.pem"),
            "-CA",
            &ca("signing.crt.pem"),
            "-CAkey",
            &ca("signing.key.pem"),
            "-set_serial",
            &format!("{}", std::process::id()),
            "-days",
            "2",
            "-extfile",
            &p("ext.cnf"),
            "-out",
            &p("cert.pem"),
        ])?;
        openssl(&[
            "x509",
            "-in",
            &p("cert.pem"),
            "-outform",
            "DER",
            "-out",
            &p("cert.der"),
        ])?;
        let der = std::fs::read(tmp.join("cert.der")).map_err(|e| e.to_string())?;
        let secondary = system_keyring(".secondary_trusted_keys")?;
        bpf::add_key(c"asymmetric", c"", &der, secondary)
            .map_err(|e| format!("add_key(asymmetric) to .secondary_trusted_keys: {e}"))?;
        Ok(Self {
            dir: tmp,
            keyring: 1,
        })
    }

    /// The platform test key (`dir`'s `platform.*`), whose certificate the
    /// selftest VM's firmware holds in its db and the kernel loads into the
    /// platform keyring: signatures for keyring 2
    /// (`VERIFY_USE_PLATFORM_KEYRING`).
    pub fn platform(dir: &std::path::Path) -> Result<Self, String> {
        Self::committed(dir, "platform", 2)
    }

    /// Another keyring holding the same certificate.
    pub fn another_keyring(&self, name: &std::ffi::CStr) -> Result<i32, String> {
        let der = std::fs::read(self.dir.join("cert.der")).map_err(|e| e.to_string())?;
        let keyring = bpf::add_key(c"keyring", name, &[], bpf::KEY_SPEC_USER_KEYRING)
            .map_err(|e| format!("add_key(keyring): {e}"))?;
        bpf::add_key(c"asymmetric", c"", &der, keyring)
            .map_err(|e| format!("add_key(asymmetric): {e}"))?;
        Ok(keyring)
    }

    /// A detached PKCS#7 signature of `data`.
    pub fn sign(&self, data: &[u8]) -> Result<Vec<u8>, String> {
        let p = |f: &str| self.dir.join(f).to_string_lossy().into_owned();
        std::fs::write(self.dir.join("data"), data).map_err(|e| e.to_string())?;
        openssl(&[
            "cms",
            "-sign",
            "-binary",
            "-noattr",
            "-nocerts",
            "-nosmimecap",
            "-md",
            "sha256",
            "-in",
            &p("data"),
            "-signer",
            &p("cert.pem"),
            "-inkey",
            &p("key.pem"),
            "-outform",
            "DER",
            "-out",
            &p("sig"),
        ])?;
        std::fs::read(self.dir.join("sig")).map_err(|e| e.to_string())
    }
}

/// The serial of a kernel keyring by description (as root: the system
/// keyrings grant their owner view permission, so /proc/keys lists them).
fn system_keyring(desc: &str) -> Result<i32, String> {
    let keys = std::fs::read_to_string("/proc/keys").map_err(|e| format!("/proc/keys: {e}"))?;
    keys.lines()
        .find(|l| {
            l.split_whitespace()
                .any(|w| w.trim_end_matches(':') == desc)
        })
        .and_then(|l| l.split_whitespace().next())
        .and_then(|serial| i32::from_str_radix(serial, 16).ok())
        .ok_or_else(|| format!("no keyring {desc} in /proc/keys"))
}

impl Drop for Signer {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// What a signature with BPF_F_SIG_BTF covers: `struct bpf_sig_btf_hdr`
/// (magic, little-endian lengths), the instructions, the raw BTF.
pub fn btf_signed_bytes(insns: &[u8], btf: &[u8]) -> Vec<u8> {
    let mut b = b"\0BPFSIG\x01".to_vec();
    b.extend_from_slice(&(insns.len() as u32).to_le_bytes());
    b.extend_from_slice(&(btf.len() as u32).to_le_bytes());
    b.extend_from_slice(insns);
    b.extend_from_slice(btf);
    b
}
