//! TSIG keys (RFC 8945): their algorithms, the key files `tsig-keygen` writes, and
//! the key ring a server checks signatures against. A secret never leaves this
//! module in text: `Debug` shows the key's name and algorithm only.

use std::path::{Path, PathBuf};

use crate::wire::name::{parse_presentation, to_presentation};

/// The HMAC algorithms of RFC 8945 6 (MD5 and SHA-1 for old clients).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// HMAC-MD5 (`hmac-md5.sig-alg.reg.int.`).
    HmacMd5,
    /// HMAC-SHA1.
    HmacSha1,
    /// HMAC-SHA224.
    HmacSha224,
    /// HMAC-SHA256, what `tsig-keygen` makes by default.
    HmacSha256,
    /// HMAC-SHA384.
    HmacSha384,
    /// HMAC-SHA512.
    HmacSha512,
}

impl Algorithm {
    /// Every algorithm.
    pub const ALL: [Algorithm; 6] = [
        Algorithm::HmacMd5,
        Algorithm::HmacSha1,
        Algorithm::HmacSha224,
        Algorithm::HmacSha256,
        Algorithm::HmacSha384,
        Algorithm::HmacSha512,
    ];

    /// The algorithm's name as key files and configs write it (`hmac-sha256`).
    pub fn mnemonic(self) -> &'static str {
        match self {
            Algorithm::HmacMd5 => "hmac-md5",
            Algorithm::HmacSha1 => "hmac-sha1",
            Algorithm::HmacSha224 => "hmac-sha224",
            Algorithm::HmacSha256 => "hmac-sha256",
            Algorithm::HmacSha384 => "hmac-sha384",
            Algorithm::HmacSha512 => "hmac-sha512",
        }
    }

    /// The algorithm's name in a TSIG record, wire format (RFC 8945 6).
    pub fn wire_name(self) -> &'static [u8] {
        match self {
            Algorithm::HmacMd5 => b"\x08hmac-md5\x07sig-alg\x03reg\x03int\x00",
            Algorithm::HmacSha1 => b"\x09hmac-sha1\x00",
            Algorithm::HmacSha224 => b"\x0bhmac-sha224\x00",
            Algorithm::HmacSha256 => b"\x0bhmac-sha256\x00",
            Algorithm::HmacSha384 => b"\x0bhmac-sha384\x00",
            Algorithm::HmacSha512 => b"\x0bhmac-sha512\x00",
        }
    }

    /// The algorithm of a mnemonic (any case, `hmac-md5.sig-alg.reg.int` too).
    pub fn from_mnemonic(text: &str) -> Option<Algorithm> {
        let text = text.trim_end_matches('.').to_ascii_lowercase();
        let text = text.strip_suffix(".sig-alg.reg.int").unwrap_or(&text);
        Algorithm::ALL.into_iter().find(|a| a.mnemonic() == text)
    }

    /// The algorithm of a TSIG record's algorithm name (wire format, any case).
    pub fn from_wire_name(name: &[u8]) -> Option<Algorithm> {
        Algorithm::ALL
            .into_iter()
            .find(|a| a.wire_name().eq_ignore_ascii_case(name))
    }

    /// Bytes of the full MAC.
    pub fn mac_len(self) -> usize {
        match self {
            Algorithm::HmacMd5 => 16,
            Algorithm::HmacSha1 => 20,
            Algorithm::HmacSha224 => 28,
            Algorithm::HmacSha256 => 32,
            Algorithm::HmacSha384 => 48,
            Algorithm::HmacSha512 => 64,
        }
    }
}

/// A shared secret and what it is called.
#[derive(Clone, PartialEq, Eq)]
pub struct TsigKey {
    /// The key's name, lowercase wire format.
    pub name: Vec<u8>,
    /// Its algorithm.
    pub algorithm: Algorithm,
    /// The secret (never printed).
    secret: Vec<u8>,
}

impl std::fmt::Debug for TsigKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TsigKey")
            .field("name", &to_presentation(&self.name))
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

impl TsigKey {
    /// Bytes the TSIG record of a message signed with this key takes (RFC 8945
    /// 4.2: name, type, class, TTL, RDLENGTH, then algorithm name, time signed,
    /// fudge, MAC size, MAC, original ID, error, other length): room a reply keeps.
    pub fn signature_room(&self) -> usize {
        self.name.len() + 10 + self.algorithm.wire_name().len() + 16 + self.algorithm.mac_len() + 6
    }
}

impl TsigKey {
    /// A key named `name` (presentation form) with a base64 `secret`.
    pub fn new(
        name: &str,
        algorithm: Algorithm,
        secret_base64: &str,
    ) -> Result<TsigKey, KeyErrorKind> {
        let name = key_name(name)?;
        let secret = data_encoding::BASE64
            .decode(secret_base64.trim().as_bytes())
            .map_err(|_| KeyErrorKind::BadSecret)?;
        if secret.is_empty() {
            return Err(KeyErrorKind::BadSecret);
        }
        Ok(TsigKey {
            name,
            algorithm,
            secret,
        })
    }

    /// The secret, for computing MACs (crate-internal: nothing else sees it).
    pub(crate) fn secret(&self) -> &[u8] {
        &self.secret
    }

    /// The key's name in presentation form.
    pub fn display_name(&self) -> String {
        to_presentation(&self.name)
    }
}

/// A key name in presentation form, as lowercase wire format.
fn key_name(text: &str) -> Result<Vec<u8>, KeyErrorKind> {
    let absolute = if text.ends_with('.') {
        text.to_owned()
    } else {
        format!("{text}.")
    };
    parse_presentation(absolute.as_bytes(), None)
        .map(|n| n.to_ascii_lowercase())
        .map_err(|_| KeyErrorKind::BadName(text.to_owned()))
}

/// A key that cannot be used, and where it was.
#[derive(Debug, thiserror::Error)]
#[error("{}{}: {kind}", file.display(), line.map(|l| format!(":{l}")).unwrap_or_default())]
pub struct KeyError {
    /// The key file.
    pub file: PathBuf,
    /// The line, when the problem is on one.
    pub line: Option<u32>,
    /// What is wrong.
    pub kind: KeyErrorKind,
}

/// What can be wrong with a key (never the secret itself).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyErrorKind {
    /// The file could not be read.
    #[error("cannot read: {0}")]
    Io(String),
    /// Not the `key "name" { algorithm ...; secret "..."; };` form.
    #[error("expected {0}")]
    Syntax(&'static str),
    /// A key name that is not a domain name.
    #[error("bad key name '{0}'")]
    BadName(String),
    /// An algorithm zonal does not know.
    #[error("unknown algorithm '{0}' (hmac-md5, hmac-sha1, hmac-sha224, hmac-sha256, hmac-sha384, hmac-sha512)")]
    UnknownAlgorithm(String),
    /// A secret that is not base64, or is empty.
    #[error("the secret is not valid base64")]
    BadSecret,
    /// A key without an algorithm or a secret.
    #[error("key '{0}' has no {1}")]
    Incomplete(String, &'static str),
    /// The file holds no key.
    #[error("no key in the file")]
    NoKey,
}

/// The keys of a BIND key file (`tsig-keygen NAME > FILE`): one or more
/// `key "NAME" { algorithm ALG; secret "BASE64"; };` blocks; `#`, `//` and `/* */`
/// comments are skipped.
pub fn parse_key_file(text: &str, file: &Path) -> Result<Vec<TsigKey>, KeyError> {
    let err = |line: u32, kind| KeyError {
        file: file.to_path_buf(),
        line: Some(line),
        kind,
    };
    let tokens =
        tokenize(text).map_err(|line| err(line, KeyErrorKind::Syntax("a closing quote or */")))?;
    let mut keys = Vec::new();
    let mut i = 0usize;
    let at = |i: usize| tokens.get(i).map(|t| t.0.as_str());
    let line_of = |i: usize| tokens.get(i).or(tokens.last()).map_or(1, |t| t.1);
    while i < tokens.len() {
        if at(i) != Some("key") {
            return Err(err(line_of(i), KeyErrorKind::Syntax("'key'")));
        }
        let name = at(i + 1).ok_or_else(|| err(line_of(i), KeyErrorKind::Syntax("a key name")))?;
        if at(i + 2) != Some("{") {
            return Err(err(line_of(i + 2), KeyErrorKind::Syntax("'{'")));
        }
        let start = i;
        i += 3;
        let (mut algorithm, mut secret) = (None, None);
        while at(i) != Some("}") {
            let (Some(field), Some(value), Some(";")) = (at(i), at(i + 1), at(i + 2)) else {
                return Err(err(
                    line_of(i),
                    KeyErrorKind::Syntax("'algorithm ...;' or 'secret \"...\";'"),
                ));
            };
            match field {
                "algorithm" => {
                    algorithm = Some(Algorithm::from_mnemonic(value).ok_or_else(|| {
                        err(line_of(i), KeyErrorKind::UnknownAlgorithm(value.to_owned()))
                    })?)
                }
                "secret" => secret = Some((value.to_owned(), line_of(i))),
                _ => {
                    return Err(err(
                        line_of(i),
                        KeyErrorKind::Syntax("'algorithm' or 'secret'"),
                    ))
                }
            }
            i += 3;
        }
        if at(i + 1) != Some(";") {
            return Err(err(line_of(i + 1), KeyErrorKind::Syntax("';' after '}'")));
        }
        i += 2;
        let algorithm = algorithm.ok_or_else(|| {
            err(
                line_of(start),
                KeyErrorKind::Incomplete(name.to_owned(), "algorithm"),
            )
        })?;
        let (secret, secret_line) = secret.ok_or_else(|| {
            err(
                line_of(start),
                KeyErrorKind::Incomplete(name.to_owned(), "secret"),
            )
        })?;
        keys.push(TsigKey::new(name, algorithm, &secret).map_err(|kind| err(secret_line, kind))?);
    }
    if keys.is_empty() {
        return Err(KeyError {
            file: file.to_path_buf(),
            line: None,
            kind: KeyErrorKind::NoKey,
        });
    }
    Ok(keys)
}

/// Reads and parses a key file.
pub fn read_key_file(file: &Path) -> Result<Vec<TsigKey>, KeyError> {
    let text = std::fs::read_to_string(file).map_err(|e| KeyError {
        file: file.to_path_buf(),
        line: None,
        kind: KeyErrorKind::Io(e.to_string()),
    })?;
    parse_key_file(&text, file)
}

/// Words, quoted strings (unquoted) and `{ } ;`, each with its line; `Err(line)`
/// for an unclosed quote or comment.
fn tokenize(text: &str) -> Result<Vec<(String, u32)>, u32> {
    let mut tokens = Vec::new();
    let mut line = 1u32;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\n' => line += 1,
            c if c.is_whitespace() => {}
            '#' => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        line += 1;
                        break;
                    }
                }
            }
            '/' if chars.peek() == Some(&'/') => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        line += 1;
                        break;
                    }
                }
            }
            '/' if chars.peek() == Some(&'*') => {
                chars.next();
                let start = line;
                let mut last = ' ';
                loop {
                    let Some(c) = chars.next() else {
                        return Err(start);
                    };
                    if c == '\n' {
                        line += 1;
                    }
                    if last == '*' && c == '/' {
                        break;
                    }
                    last = c;
                }
            }
            '"' => {
                let start = line;
                let mut word = String::new();
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\n') => return Err(start),
                        Some(c) => word.push(c),
                        None => return Err(start),
                    }
                }
                tokens.push((word, start));
            }
            '{' | '}' | ';' => tokens.push((c.to_string(), line)),
            c => {
                let mut word = c.to_string();
                while let Some(&n) = chars.peek() {
                    if n.is_whitespace() || matches!(n, '{' | '}' | ';' | '"') {
                        break;
                    }
                    word.push(n);
                    chars.next();
                }
                tokens.push((word, line));
            }
        }
    }
    Ok(tokens)
}

/// The keys a server knows.
#[derive(Debug, Clone, Default)]
pub struct KeyRing {
    /// The keys.
    keys: Vec<TsigKey>,
}

impl KeyRing {
    /// A ring of these keys.
    pub fn new(keys: Vec<TsigKey>) -> KeyRing {
        KeyRing { keys }
    }

    /// The key of this name (wire format, any case) and algorithm.
    pub fn find(&self, name: &[u8], algorithm: Algorithm) -> Option<&TsigKey> {
        self.keys
            .iter()
            .find(|k| k.algorithm == algorithm && k.name.eq_ignore_ascii_case(name))
    }

    /// The key of this name, whatever its algorithm.
    pub fn by_name(&self, name: &[u8]) -> Option<&TsigKey> {
        self.keys.iter().find(|k| k.name.eq_ignore_ascii_case(name))
    }

    /// Whether the ring holds no key.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const TSIG_KEYGEN: &str = "key \"demo-key\" {\n\talgorithm hmac-sha256;\n\tsecret \"jEH3Wk4RDkvM44AQRLwx8W/eyGFSAKsWalrADEQoCXY=\";\n};\n";

    #[test]
    fn reads_what_tsig_keygen_writes() {
        let keys = parse_key_file(TSIG_KEYGEN, Path::new("k")).unwrap();
        assert_eq!(keys.len(), 1);
        assert_eq!(keys[0].name, b"\x08demo-key\x00");
        assert_eq!(keys[0].algorithm, Algorithm::HmacSha256);
        assert_eq!(keys[0].secret().len(), 32);
        let two = format!("# comment\n{TSIG_KEYGEN}/* two\nlines */ key old {{ algorithm hmac-md5.sig-alg.reg.int; secret \"c2VjcmV0\"; }};\n");
        let keys = parse_key_file(&two, Path::new("k")).unwrap();
        assert_eq!(keys[1].algorithm, Algorithm::HmacMd5);
    }

    #[test]
    fn errors_name_the_line_and_never_the_secret() {
        let bad = TSIG_KEYGEN.replace("hmac-sha256", "hmac-sha999");
        let e = parse_key_file(&bad, Path::new("k.key")).unwrap_err();
        assert_eq!(e.line, Some(2));
        assert!(e.to_string().starts_with("k.key:2: unknown algorithm"));
        let bad = TSIG_KEYGEN.replace(
            "jEH3Wk4RDkvM44AQRLwx8W/eyGFSAKsWalrADEQoCXY=",
            "not base64!",
        );
        let e = parse_key_file(&bad, Path::new("k.key")).unwrap_err();
        assert_eq!(e.line, Some(3));
        assert!(!e.to_string().contains("not base64"), "{e}");
        let keys = parse_key_file(TSIG_KEYGEN, Path::new("k")).unwrap();
        let shown = format!("{:?}", keys[0]);
        assert!(!shown.contains("jEH3"), "{shown}");
        assert!(parse_key_file("key x { algorithm hmac-sha256; };", Path::new("k")).is_err());
        assert!(parse_key_file("", Path::new("k")).is_err());
        assert!(parse_key_file("key \"x", Path::new("k")).is_err());
    }

    #[test]
    fn algorithm_names() {
        for a in Algorithm::ALL {
            assert_eq!(Algorithm::from_mnemonic(a.mnemonic()), Some(a));
            assert_eq!(Algorithm::from_wire_name(a.wire_name()), Some(a));
        }
        assert_eq!(
            Algorithm::from_wire_name(b"\x0bHMAC-SHA256\x00"),
            Some(Algorithm::HmacSha256)
        );
    }
}
