// SPDX-License-Identifier: GPL-2.0
//! Extracts the byte arrays of a light-skeleton header (`bpftool gen skeleton
//! -L`): `static const char opts_data[] ... = "\x..\0...";` and friends.
//!
//! The header is untrusted text, so this is a small total scanner, not a C
//! parser: it finds each `static const char NAME[]` definition, decodes its
//! string literal(s) with C's escape rules and refuses anything it would have
//! to guess about (a name defined twice, a literal that is not closed, a hex
//! escape above 0xff). Work is linear in the header size.

use std::collections::BTreeMap;

/// Largest header read: real skeletons are a few hundred KiB; bounding the
/// input bounds every later step.
pub const MAX_HEADER: usize = 64 << 20;

/// Why a header cannot be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HeaderError {
    /// Larger than [`MAX_HEADER`].
    TooLarge,
    /// An array definition whose literal cannot be decoded.
    BadLiteral {
        /// Array name.
        name: String,
        /// What is wrong.
        why: &'static str,
    },
    /// An `opts_*` array defined twice: which one the loader uses depends on
    /// scopes this scanner does not model, so refuse rather than guess.
    Duplicate(String),
}

impl std::fmt::Display for HeaderError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::TooLarge => write!(f, "header larger than {MAX_HEADER} bytes"),
            Self::BadLiteral { name, why } => write!(f, "array {name}: {why}"),
            Self::Duplicate(n) => write!(f, "array {n} is defined more than once"),
        }
    }
}

/// The arrays of a header, by name, and the `keyring_id` assignment.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Header {
    /// Every `static const char NAME[] = "..."` array, decoded (without the
    /// literal's terminating NUL, i.e. `sizeof(NAME) - 1` bytes, which is what
    /// the skeleton passes as the size).
    pub arrays: BTreeMap<String, Vec<u8>>,
    /// Right-hand side of `opts.keyring_id = ...;`, if the header sets it.
    pub keyring_expr: Option<String>,
}

impl Header {
    /// An array by name.
    pub fn array(&self, name: &str) -> Option<&[u8]> {
        self.arrays.get(name).map(Vec::as_slice)
    }
}

const DECL: &[u8] = b"static const char";
const KEYRING: &[u8] = b"opts.keyring_id";
/// Bytes allowed between `NAME[]` and `=` (attributes such as
/// `__attribute__((__aligned__(8)))`).
const MAX_ATTR_LEN: usize = 256;

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    let tail = hay.get(from..)?;
    tail.windows(needle.len())
        .position(|w| w == needle)
        .and_then(|p| p.checked_add(from))
}

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

fn skip_ws(b: &[u8], mut at: usize) -> usize {
    while b.get(at).is_some_and(|c| c.is_ascii_whitespace()) {
        at = at.saturating_add(1);
    }
    at
}

/// Parses a header's text.
pub fn parse(text: &[u8]) -> Result<Header, HeaderError> {
    if text.len() > MAX_HEADER {
        return Err(HeaderError::TooLarge);
    }
    let mut h = Header::default();
    let mut seen = BTreeMap::new();
    let mut at = 0usize;
    while let Some(p) = find(text, DECL, at) {
        at = p.saturating_add(DECL.len());
        // The keyword must stand alone: `xstatic const char` is not ours.
        if p > 0 && text.get(p.wrapping_sub(1)).is_some_and(|&c| is_ident(c)) {
            continue;
        }
        let Some((name, body_at)) = declaration(text, at) else {
            continue;
        };
        let (bytes, end) = literal(text, body_at).map_err(|why| HeaderError::BadLiteral {
            name: name.clone(),
            why,
        })?;
        at = end;
        if !h.arrays.contains_key(&name) {
            h.arrays.insert(name, bytes);
        } else if name.starts_with("opts_") {
            return Err(HeaderError::Duplicate(name));
        } else {
            // Block-scoped arrays such as the skeleton's per-map `data[]`
            // initial values: kept in order as NAME#2, NAME#3, ...
            let k = seen.entry(name.clone()).or_insert(1usize);
            *k = k.saturating_add(1);
            h.arrays.insert(format!("{name}#{k}"), bytes);
        }
    }
    if let Some(p) = find(text, KEYRING, 0) {
        let rhs = skip_ws(text, p.saturating_add(KEYRING.len()));
        if text.get(rhs) == Some(&b'=') {
            let start = skip_ws(text, rhs.saturating_add(1));
            let end = find(text, b";", start).unwrap_or(start);
            let expr = text.get(start..end).unwrap_or_default();
            let expr = expr.get(..80).unwrap_or(expr);
            h.keyring_expr = Some(String::from_utf8_lossy(expr).trim().to_owned());
        }
    }
    Ok(h)
}

/// After `static const char`: ` NAME[] attrs =`. Returns the name and where
/// the initializer starts, or `None` if this is not an array definition.
fn declaration(b: &[u8], at: usize) -> Option<(String, usize)> {
    let start = skip_ws(b, at);
    let mut end = start;
    while b.get(end).is_some_and(|&c| is_ident(c)) {
        end = end.saturating_add(1);
    }
    let name = std::str::from_utf8(b.get(start..end)?).ok()?;
    if name.is_empty() || name.len() > 64 {
        return None;
    }
    let br = skip_ws(b, end);
    if b.get(br..br.checked_add(2)?)? != b"[]" {
        return None;
    }
    let from = br.saturating_add(2);
    let window = b.get(from..).unwrap_or_default();
    let window = window.get(..MAX_ATTR_LEN).unwrap_or(window);
    let eq = window.iter().position(|&c| c == b'=' || c == b';')?;
    if window.get(eq) != Some(&b'=') {
        return None;
    }
    Some((
        name.to_owned(),
        skip_ws(b, from.checked_add(eq)?.saturating_add(1)),
    ))
}

/// Decodes one or more adjacent string literals starting at `at` and ending
/// with `;`. Returns the bytes and the offset after the `;`.
fn literal(b: &[u8], mut at: usize) -> Result<(Vec<u8>, usize), &'static str> {
    let mut out = Vec::new();
    if b.get(at) != Some(&b'"') {
        return Err("initializer is not a string literal");
    }
    loop {
        match b.get(at) {
            Some(b'"') => at = one_literal(b, at.saturating_add(1), &mut out)?,
            Some(b';') => return Ok((out, at.saturating_add(1))),
            Some(c) if c.is_ascii_whitespace() => at = at.saturating_add(1),
            Some(_) => return Err("unexpected text after the string literal"),
            None => return Err("no ';' after the string literal"),
        }
    }
}

/// Decodes the body of one literal (after its `"`); returns the offset after
/// the closing `"`.
fn one_literal(b: &[u8], mut at: usize, out: &mut Vec<u8>) -> Result<usize, &'static str> {
    loop {
        let c = *b.get(at).ok_or("unterminated string literal")?;
        at = at.saturating_add(1);
        match c {
            b'"' => return Ok(at),
            b'\n' => return Err("newline inside a string literal"),
            b'\\' => at = escape(b, at, out)?,
            _ => out.push(c),
        }
    }
}

/// Decodes the escape after a backslash at `at`; returns where it ends.
fn escape(b: &[u8], at: usize, out: &mut Vec<u8>) -> Result<usize, &'static str> {
    let c = *b.get(at).ok_or("unterminated escape")?;
    let next = at.saturating_add(1);
    let simple = match c {
        // Line continuation (also with a CR before the LF).
        b'\n' => return Ok(next),
        b'\r' if b.get(next) == Some(&b'\n') => return Ok(next.saturating_add(1)),
        b'n' => b'\n',
        b't' => b'\t',
        b'r' => b'\r',
        b'a' => 0x07,
        b'b' => 0x08,
        b'f' => 0x0c,
        b'v' => 0x0b,
        b'\\' | b'"' | b'\'' | b'?' => c,
        b'x' => {
            // C: a hex escape takes every hex digit that follows.
            let mut v: u32 = 0;
            let mut end = next;
            while let Some(d) = b.get(end).and_then(|&d| char::from(d).to_digit(16)) {
                v = v
                    .checked_mul(16)
                    .and_then(|v| v.checked_add(d))
                    .filter(|&v| v <= 0xff)
                    .ok_or("hex escape out of range")?;
                end = end.saturating_add(1);
            }
            if end == next {
                return Err("\\x without hex digits");
            }
            out.push(u8::try_from(v).map_err(|_| "hex escape out of range")?);
            return Ok(end);
        }
        b'0'..=b'7' => {
            let mut v: u32 = 0;
            let mut end = at;
            while end < at.saturating_add(3) {
                let Some(d) = b.get(end).and_then(|&d| char::from(d).to_digit(8)) else {
                    break;
                };
                v = v.saturating_mul(8).saturating_add(d);
                end = end.saturating_add(1);
            }
            out.push(u8::try_from(v).map_err(|_| "octal escape out of range")?);
            return Ok(end);
        }
        _ => return Err("unknown escape"),
    };
    out.push(simple);
    Ok(next)
}

/// Renders bytes as bpftool does (`\xNN`, `\0`, lines under 80 columns), for
/// tests and for writing modified headers.
pub fn render_literal(data: &[u8]) -> String {
    let mut s = String::from("\"\\\n");
    let mut len = 0usize;
    for &c in data {
        let w = if c == 0 { 2 } else { 4 };
        len = len.saturating_add(w);
        if len > 78 {
            s.push_str("\\\n");
            len = w;
        }
        if c == 0 {
            s.push_str("\\0");
        } else {
            s.push_str(&format!("\\x{c:02x}"));
        }
    }
    s.push('"');
    s
}

/// Replaces the literal of array `name` in `text` with `data` (tests and the
/// tampering helpers); `None` if the array is not there exactly once.
pub fn replace_array(text: &str, name: &str, data: &[u8]) -> Option<String> {
    let b = text.as_bytes();
    let mut at = 0usize;
    let mut hit = None;
    while let Some(p) = find(b, DECL, at) {
        at = p.saturating_add(DECL.len());
        if let Some((n, body)) = declaration(b, at) {
            if n == name {
                let (_, end) = literal(b, body).ok()?;
                if hit.replace((body, end)).is_some() {
                    return None;
                }
            }
        }
    }
    let (body, end) = hit?;
    let mut s = String::with_capacity(text.len());
    s.push_str(text.get(..body)?);
    s.push_str(&render_literal(data));
    s.push(';');
    s.push_str(text.get(end..)?);
    Some(s)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn decodes_bpftool_arrays() {
        let t = b"\tstatic const char opts_data[] __attribute__((__aligned__(8))) = \"\\\n\\x01\\0\\\n\\xff\";\n\
                  \topts.keyring_id = skel->keyring_id;\n";
        let h = parse(t).unwrap();
        assert_eq!(h.array("opts_data").unwrap(), &[1, 0, 0xff]);
        assert_eq!(h.keyring_expr.as_deref(), Some("skel->keyring_id"));
    }

    #[test]
    fn c_escape_rules() {
        let h = parse(b"static const char a[] = \"\\101\\x4a\" \"b\\n\\0\";").unwrap();
        assert_eq!(h.array("a").unwrap(), b"AJb\n\0");
        assert!(parse(b"static const char a[] = \"\\x100\";").is_err());
        assert!(parse(b"static const char a[] = \"abc").is_err());
        assert!(parse(b"static const char a[] = \"\\q\";").is_err());
        assert_eq!(
            parse(b"static const char opts_sig[] = \"\";static const char opts_sig[] = \"\";")
                .unwrap_err(),
            HeaderError::Duplicate("opts_sig".into())
        );
        let h = parse(b"{static const char data[] = \"a\";}{static const char data[] = \"b\";}")
            .unwrap();
        assert_eq!(h.array("data").unwrap(), b"a");
        assert_eq!(h.array("data#2").unwrap(), b"b");
        // Not array definitions: ignored.
        let h = parse(b"static const char *p = \"x\"; static const char b[4];").unwrap();
        assert!(h.arrays.is_empty());
    }

    #[test]
    fn render_roundtrips_and_replaces() {
        let data: Vec<u8> = (0..=255u8).chain(0..40).collect();
        let t = format!("static const char x[] = {};\n", render_literal(&data));
        assert_eq!(parse(t.as_bytes()).unwrap().array("x").unwrap(), &data[..]);
        let t2 = replace_array(&t, "x", b"\x01\x02").unwrap();
        assert_eq!(
            parse(t2.as_bytes()).unwrap().array("x").unwrap(),
            b"\x01\x02"
        );
        assert!(replace_array(&t, "y", b"").is_none());
    }
}
