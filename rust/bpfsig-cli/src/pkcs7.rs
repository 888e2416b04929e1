// SPDX-License-Identifier: GPL-2.0
//! The loader's PKCS#7/CMS signature: who signed, and whether it verifies
//! over exactly the bytes the kernel verifies.
//!
//! What the kernel's `verify_pkcs7_signature()` accepts for a BPF program,
//! restricted to what this tool can check for sure: one signer, detached
//! `id-data` content, SHA-256/384/512, RSA PKCS#1 v1.5, with or without
//! signed attributes. Anything else is reported as unsupported (fail closed),
//! never as verified. Trust (which keyring holds the key) is the kernel's
//! business: here a signature "verifies with CERT".

use cms::cert::CertificateChoices;
use cms::content_info::ContentInfo;
use cms::signed_data::{SignedData, SignerIdentifier, SignerInfo};
use der::asn1::OctetString;
use der::oid::ObjectIdentifier as Oid;
use der::{Decode, Encode};
use rsa::pkcs8::DecodePublicKey;
use rsa::{Pkcs1v15Sign, RsaPublicKey};
use sha2::Digest;
use x509_cert::Certificate;

use crate::names::hex;

const ID_SIGNED_DATA: Oid = Oid::new_unwrap("1.2.840.113549.1.7.2");
const ID_DATA: Oid = Oid::new_unwrap("1.2.840.113549.1.7.1");
const ID_CONTENT_TYPE: Oid = Oid::new_unwrap("1.2.840.113549.1.9.3");
const ID_MESSAGE_DIGEST: Oid = Oid::new_unwrap("1.2.840.113549.1.9.4");
const RSA_ENCRYPTION: Oid = Oid::new_unwrap("1.2.840.113549.1.1.1");
const SHA256_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.11");
const SHA384_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.12");
const SHA512_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.13");
const ID_SHA256: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.1");
const ID_SHA384: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.2");
const ID_SHA512: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.3");
const ID_CE_SUBJECT_KEY_IDENTIFIER: Oid = Oid::new_unwrap("2.5.29.14");

/// Digests this tool verifies with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hash {
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

impl Hash {
    fn from_oid(o: &Oid) -> Option<Self> {
        match *o {
            ID_SHA256 => Some(Self::Sha256),
            ID_SHA384 => Some(Self::Sha384),
            ID_SHA512 => Some(Self::Sha512),
            _ => None,
        }
    }

    /// Name as in the kernel's hash_algo table.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Sha256 => "sha256",
            Self::Sha384 => "sha384",
            Self::Sha512 => "sha512",
        }
    }

    fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            Self::Sha256 => sha2::Sha256::digest(data).to_vec(),
            Self::Sha384 => sha2::Sha384::digest(data).to_vec(),
            Self::Sha512 => sha2::Sha512::digest(data).to_vec(),
        }
    }

    fn scheme(self) -> Pkcs1v15Sign {
        match self {
            Self::Sha256 => Pkcs1v15Sign::new::<sha2::Sha256>(),
            Self::Sha384 => Pkcs1v15Sign::new::<sha2::Sha384>(),
            Self::Sha512 => Pkcs1v15Sign::new::<sha2::Sha512>(),
        }
    }
}

/// How the signer names its certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SignerId {
    /// Issuer name and serial number.
    IssuerSerial {
        /// Issuer (RFC 4514).
        issuer: String,
        /// Serial number, hex.
        serial: String,
    },
    /// Subject key identifier, hex (bpftool signs with `CMS_USE_KEYID`).
    KeyId(String),
}

/// What the signature says about its signer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignerInfoReport {
    /// The signer's certificate reference.
    pub id: SignerId,
    /// Digest algorithm (name or OID).
    pub digest_algorithm: String,
    /// Signature algorithm (name or OID).
    pub signature_algorithm: String,
    /// Whether signed attributes are present.
    pub signed_attributes: bool,
    /// Subjects of certificates embedded in the signature (information only:
    /// the kernel trusts keys from its keyrings, not from the signature).
    pub embedded_certs: Vec<String>,
}

/// Why a signature cannot be checked or does not verify.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SigError {
    /// Not DER this reader can decode.
    Malformed(String),
    /// A form the tool does not verify: fail closed.
    Unsupported(String),
    /// Decoded and checked: it does not verify.
    Invalid(String),
}

impl std::fmt::Display for SigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Malformed(s) => write!(f, "malformed signature: {s}"),
            Self::Unsupported(s) => write!(f, "unsupported signature: {s}"),
            Self::Invalid(s) => write!(f, "{s}"),
        }
    }
}

/// A decoded signature.
#[derive(Clone, Debug)]
pub struct Signature {
    signer: SignerInfo,
    /// The raw DER of the signed attributes, as signed (with the SET tag).
    signed_attrs_der: Option<Vec<u8>>,
    /// What it says about its signer.
    pub report: SignerInfoReport,
}

fn oid_name(o: &Oid) -> String {
    match *o {
        ID_SHA256 => "sha256".into(),
        ID_SHA384 => "sha384".into(),
        ID_SHA512 => "sha512".into(),
        RSA_ENCRYPTION => "rsaEncryption".into(),
        SHA256_WITH_RSA => "sha256WithRSAEncryption".into(),
        SHA384_WITH_RSA => "sha384WithRSAEncryption".into(),
        SHA512_WITH_RSA => "sha512WithRSAEncryption".into(),
        _ => o.to_string(),
    }
}

/// Decodes a detached CMS `SignedData` with one signer.
pub fn parse(sig: &[u8]) -> Result<Signature, SigError> {
    let bad = |e: der::Error| SigError::Malformed(e.to_string());
    let ci = ContentInfo::from_der(sig).map_err(bad)?;
    if ci.content_type != ID_SIGNED_DATA {
        return Err(SigError::Unsupported(format!(
            "content type {} is not signedData",
            ci.content_type
        )));
    }
    let sd: SignedData = ci.content.decode_as().map_err(bad)?;
    if sd.encap_content_info.econtent_type != ID_DATA {
        return Err(SigError::Unsupported(
            "encapsulated content type is not id-data".into(),
        ));
    }
    if sd.encap_content_info.econtent.is_some() {
        return Err(SigError::Unsupported(
            "the signature embeds its content; the kernel verifies detached signatures".into(),
        ));
    }
    let signers = sd.signer_infos.0.as_slice();
    let [signer] = signers else {
        return Err(SigError::Unsupported(format!(
            "{} signers; only single-signer signatures are checked",
            signers.len()
        )));
    };
    let id = match &signer.sid {
        SignerIdentifier::IssuerAndSerialNumber(i) => SignerId::IssuerSerial {
            issuer: i.issuer.to_string(),
            serial: hex(i.serial_number.as_bytes()),
        },
        SignerIdentifier::SubjectKeyIdentifier(k) => SignerId::KeyId(hex(k.0.as_bytes())),
    };
    let embedded_certs = sd
        .certificates
        .iter()
        .flat_map(|s| s.0.iter())
        .filter_map(|c| match c {
            CertificateChoices::Certificate(c) => Some(c.tbs_certificate.subject.to_string()),
            CertificateChoices::Other(_) => None,
        })
        .collect();
    let signed_attrs_der = match signer.signed_attrs {
        Some(_) => Some(
            raw_signed_attrs(sig)
                .ok_or_else(|| SigError::Malformed("cannot locate the signed attributes".into()))?,
        ),
        None => None,
    };
    Ok(Signature {
        report: SignerInfoReport {
            id,
            digest_algorithm: oid_name(&signer.digest_alg.oid),
            signature_algorithm: oid_name(&signer.signature_algorithm.oid),
            signed_attributes: signer.signed_attrs.is_some(),
            embedded_certs,
        },
        signer: signer.clone(),
        signed_attrs_der,
    })
}

/// One DER TLV: (tag, content, rest). Definite lengths only, as DER requires.
fn tlv(b: &[u8]) -> Option<(u8, &[u8], &[u8], usize)> {
    let (&tag, rest) = b.split_first()?;
    let (&l0, rest) = rest.split_first()?;
    let (len, rest) = if l0 < 0x80 {
        (usize::from(l0), rest)
    } else {
        let n = usize::from(l0 & 0x7f);
        if n == 0 || n > 4 {
            return None;
        }
        let (lb, rest) = rest.split_at_checked(n)?;
        let len = lb.iter().try_fold(0usize, |a, &x| {
            a.checked_mul(256)?.checked_add(usize::from(x))
        })?;
        (len, rest)
    };
    let (content, after) = rest.split_at_checked(len)?;
    let header_len = b.len().checked_sub(rest.len())?;
    Some((tag, content, after, header_len))
}

/// The signed attributes exactly as they are in the signature, with their
/// `[0] IMPLICIT` tag replaced by SET's (0x31): the bytes the signer signed.
/// Decoding and re-encoding would sort the set and could differ from them.
fn raw_signed_attrs(sig: &[u8]) -> Option<Vec<u8>> {
    let (_, ci, _, _) = tlv(sig)?; // ContentInfo SEQUENCE
    let (_, _oid, rest, _) = tlv(ci)?;
    let (_, explicit, _, _) = tlv(rest)?; // [0] EXPLICIT
    let (_, sd, _, _) = tlv(explicit)?; // SignedData SEQUENCE
    let (_, _, mut rest, _) = tlv(sd)?; // version
    let mut signer_infos = None;
    while !rest.is_empty() {
        let (tag, content, after, _) = tlv(rest)?;
        if tag == 0x31 && after.is_empty() {
            signer_infos = Some(content);
        }
        rest = after;
    }
    let (_, si, _, _) = tlv(signer_infos?)?; // the first SignerInfo
    let (_, _, rest, _) = tlv(si)?; // version
    let (_, _, rest, _) = tlv(rest)?; // sid
    let (_, _, rest, _) = tlv(rest)?; // digestAlgorithm
    let (tag, content, _, hl) = tlv(rest)?;
    if tag != 0xa0 {
        return None;
    }
    let mut out = rest.get(..hl.checked_add(content.len())?)?.to_vec();
    *out.first_mut()? = 0x31;
    Some(out)
}

/// One certificate given on the command line.
#[derive(Clone, Debug)]
pub struct Cert {
    cert: Certificate,
}

impl Cert {
    /// Subject (RFC 4514).
    pub fn subject(&self) -> String {
        self.cert.tbs_certificate.subject.to_string()
    }

    /// Issuer (RFC 4514).
    pub fn issuer(&self) -> String {
        self.cert.tbs_certificate.issuer.to_string()
    }

    /// Serial number, hex.
    pub fn serial(&self) -> String {
        hex(self.cert.tbs_certificate.serial_number.as_bytes())
    }

    fn key_id(&self) -> Option<Vec<u8>> {
        let ext = self
            .cert
            .tbs_certificate
            .extensions
            .iter()
            .flatten()
            .find(|e| e.extn_id == ID_CE_SUBJECT_KEY_IDENTIFIER)?;
        let os = OctetString::from_der(ext.extn_value.as_bytes()).ok()?;
        Some(os.as_bytes().to_vec())
    }

    /// Whether this certificate is the one the signer names.
    fn matches(&self, sid: &SignerIdentifier) -> bool {
        match sid {
            SignerIdentifier::IssuerAndSerialNumber(i) => {
                i.issuer == self.cert.tbs_certificate.issuer
                    && i.serial_number == self.cert.tbs_certificate.serial_number
            }
            SignerIdentifier::SubjectKeyIdentifier(k) => {
                self.key_id().as_deref() == Some(k.0.as_bytes())
            }
        }
    }
}

/// Reads certificates from PEM (one or more) or DER.
pub fn load_certs(bytes: &[u8]) -> Result<Vec<Cert>, String> {
    let certs = if bytes.trim_ascii_start().starts_with(b"-----BEGIN") {
        Certificate::load_pem_chain(bytes).map_err(|e| e.to_string())?
    } else {
        vec![Certificate::from_der(bytes).map_err(|e| e.to_string())?]
    };
    if certs.is_empty() {
        return Err("no certificate in the file".into());
    }
    Ok(certs.into_iter().map(|cert| Cert { cert }).collect())
}

impl Signature {
    /// Verifies the signature over `data` with `cert`.
    pub fn verify(&self, data: &[u8], cert: &Cert) -> Result<(), SigError> {
        let s = &self.signer;
        let hash = Hash::from_oid(&s.digest_alg.oid).ok_or_else(|| {
            SigError::Unsupported(format!("digest algorithm {}", s.digest_alg.oid))
        })?;
        let sig_hash_ok = match s.signature_algorithm.oid {
            RSA_ENCRYPTION => true,
            SHA256_WITH_RSA => hash == Hash::Sha256,
            SHA384_WITH_RSA => hash == Hash::Sha384,
            SHA512_WITH_RSA => hash == Hash::Sha512,
            ref o => {
                return Err(SigError::Unsupported(format!(
                    "signature algorithm {} (only RSA PKCS#1 v1.5 is checked)",
                    oid_name(o)
                )))
            }
        };
        if !sig_hash_ok {
            return Err(SigError::Invalid(
                "signature and digest algorithms disagree".into(),
            ));
        }
        if !cert.matches(&s.sid) {
            return Err(SigError::Invalid(format!(
                "certificate {} is not the signer's",
                cert.subject()
            )));
        }
        let spki = &cert.cert.tbs_certificate.subject_public_key_info;
        if spki.algorithm.oid != RSA_ENCRYPTION {
            return Err(SigError::Unsupported(format!(
                "certificate key algorithm {} (only RSA is checked)",
                spki.algorithm.oid
            )));
        }
        let spki_der = spki
            .to_der()
            .map_err(|e| SigError::Malformed(e.to_string()))?;
        let key = RsaPublicKey::from_public_key_der(&spki_der)
            .map_err(|e| SigError::Malformed(format!("certificate RSA key: {e}")))?;
        let content_digest = hash.digest(data);
        let signed_digest = match (&s.signed_attrs, &self.signed_attrs_der) {
            (Some(attrs), Some(raw)) => {
                check_attrs(attrs, &content_digest)?;
                hash.digest(raw)
            }
            _ => content_digest,
        };
        key.verify(hash.scheme(), &signed_digest, s.signature.as_bytes())
            .map_err(|_| SigError::Invalid("the signature does not verify".into()))
    }
}

/// RFC 5652 §5.4 as the kernel applies it: with signed attributes, the
/// content type must be id-data and the message digest the content's.
fn check_attrs(attrs: &cms::signed_data::SignedAttributes, digest: &[u8]) -> Result<(), SigError> {
    let one = |oid: Oid| {
        let mut it = attrs.iter().filter(|a| a.oid == oid);
        match (it.next(), it.next()) {
            (Some(a), None) => match a.values.as_slice() {
                [v] => Ok(v.clone()),
                _ => Err(SigError::Invalid(format!(
                    "attribute {oid} has not one value"
                ))),
            },
            _ => Err(SigError::Invalid(format!(
                "signed attributes lack {oid}, or have it twice"
            ))),
        }
    };
    let ct = one(ID_CONTENT_TYPE)?
        .decode_as::<Oid>()
        .map_err(|e| SigError::Malformed(e.to_string()))?;
    if ct != ID_DATA {
        return Err(SigError::Invalid(
            "signed content type is not id-data".into(),
        ));
    }
    let md = one(ID_MESSAGE_DIGEST)?
        .decode_as::<OctetString>()
        .map_err(|e| SigError::Malformed(e.to_string()))?;
    if md.as_bytes() != digest {
        return Err(SigError::Invalid(
            "the signed messageDigest is not the digest of the signed bytes".into(),
        ));
    }
    Ok(())
}
