//! A zone's private signing keys, read from the files `dnssec-keygen` writes (BIND's
//! `K<zone>+<alg>+<tag>.key` with the DNSKEY record and `.private` in
//! Private-key-format v1.3), and signing with them: ECDSA P-256 with SHA-256
//! (algorithm 13, RFC 6605) and Ed25519 (algorithm 15, RFC 8080), by ring.
//!
//! The timing metadata BIND writes into the files is honoured: a key whose
//! `Activate` time has not come, or whose `Inactive` or `Delete` time has passed,
//! does not sign.
//!
//! Knot DNS's `keymgr` keeps a key as a PKCS#8 PEM file (`<id>.pem`) and its flags
//! and zone in its database; such a key ([`PemKey`]) belongs to whichever zone
//! publishes a DNSKEY with its public key, and takes that DNSKEY's flags.

use std::path::{Path, PathBuf};

use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, Ed25519KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};

use crate::wire::name::{parse_presentation, to_presentation};

/// ECDSA P-256 with SHA-256 (RFC 6605).
pub const ECDSAP256SHA256: u8 = 13;
/// Ed25519 (RFC 8080).
pub const ED25519: u8 = 15;
/// DNSKEY flag: a zone key (RFC 4034 2.1.1).
const ZONE_KEY_FLAG: u16 = 0x0100;
/// DNSKEY flag: secure entry point, a key-signing key (RFC 4034 2.1.1).
const SEP_FLAG: u16 = 0x0001;

/// Why a key could not be used.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// A key file could not be read.
    #[error("{path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A key file does not hold what it should.
    #[error("{path}: {problem}")]
    Malformed {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        problem: &'static str,
    },
    /// The key's algorithm is not one zonal signs with.
    #[error("{path}: algorithm {algorithm} is not supported for online signing (13 ECDSAP256SHA256 and 15 ED25519 are)")]
    Algorithm {
        /// The file.
        path: PathBuf,
        /// Its algorithm number.
        algorithm: u8,
    },
    /// The private key does not match the public key, or is not a valid key.
    #[error("{path}: the private key is not valid or does not match the DNSKEY")]
    Rejected {
        /// The file.
        path: PathBuf,
    },
}

/// Signing failed (ring could not make the signature).
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("signing failed")]
pub struct SignError;

/// The private half, by algorithm.
enum PrivateKey {
    EcdsaP256(EcdsaKeyPair),
    Ed25519(Ed25519KeyPair),
}

impl std::fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            PrivateKey::EcdsaP256(_) => "EcdsaP256(..)",
            PrivateKey::Ed25519(_) => "Ed25519(..)",
        })
    }
}

/// One signing key of a zone. See the module doc.
#[derive(Debug)]
pub struct SigningKey {
    /// The zone it belongs to (the DNSKEY's owner), lowercase wire format.
    pub zone: Box<[u8]>,
    /// The DNSKEY RDATA (flags, protocol, algorithm, public key).
    pub dnskey: Box<[u8]>,
    /// The key tag (RFC 4034 appendix B).
    pub tag: u16,
    /// The algorithm number.
    pub algorithm: u8,
    /// When it starts signing, and when it stops (UNIX seconds), from the files.
    pub active: (Option<u64>, Option<u64>),
    /// The `.private` file, for messages.
    pub file: PathBuf,
    private: PrivateKey,
    rng: SystemRandom,
}

impl SigningKey {
    /// Reads the key whose files are `<stem>.key` and `<stem>.private` (either path
    /// may be given, or the stem).
    pub fn read(path: &Path) -> Result<SigningKey, KeyError> {
        let text = path.to_string_lossy();
        let stem = text
            .strip_suffix(".private")
            .or_else(|| text.strip_suffix(".key"))
            .unwrap_or(&text);
        let public = PathBuf::from(format!("{stem}.key"));
        let private = PathBuf::from(format!("{stem}.private"));
        let read = |p: &Path| {
            std::fs::read_to_string(p).map_err(|source| KeyError::Read {
                path: p.to_owned(),
                source,
            })
        };
        let public_text = read(&public)?;
        let private_text = read(&private)?;
        SigningKey::from_texts(&public_text, &private_text, &private)
    }

    /// The key from the texts of its two files (`file` names it in errors).
    pub fn from_texts(public: &str, private: &str, file: &Path) -> Result<SigningKey, KeyError> {
        let malformed = |problem| KeyError::Malformed {
            path: file.to_owned(),
            problem,
        };
        let (zone, dnskey) =
            parse_dnskey(public).ok_or_else(|| malformed("no DNSKEY record in the .key file"))?;
        let fields = PrivateFields::parse(private);
        let algorithm = *dnskey.get(3).ok_or_else(|| malformed("DNSKEY too short"))?;
        if fields.algorithm != Some(algorithm) {
            return Err(malformed(
                "the .private file's Algorithm differs from the DNSKEY's",
            ));
        }
        let secret = fields
            .private_key
            .ok_or_else(|| malformed("no PrivateKey in the .private file"))?;
        let public_key = dnskey.get(4..).unwrap_or_default();
        let rejected = || KeyError::Rejected {
            path: file.to_owned(),
        };
        let rng = SystemRandom::new();
        let private_key = match algorithm {
            ECDSAP256SHA256 => {
                // ring takes the uncompressed point: 0x04, then X and Y as in the DNSKEY.
                let mut point = vec![4u8];
                point.extend_from_slice(public_key);
                EcdsaKeyPair::from_private_key_and_public_key(
                    &ECDSA_P256_SHA256_FIXED_SIGNING,
                    &secret,
                    &point,
                    &rng,
                )
                .map(PrivateKey::EcdsaP256)
                .map_err(|_| rejected())?
            }
            ED25519 => Ed25519KeyPair::from_seed_and_public_key(&secret, public_key)
                .map(PrivateKey::Ed25519)
                .map_err(|_| rejected())?,
            other => {
                return Err(KeyError::Algorithm {
                    path: file.to_owned(),
                    algorithm: other,
                })
            }
        };
        let flags = u16::from_be_bytes([dnskey[0], dnskey[1]]);
        if flags & ZONE_KEY_FLAG == 0 {
            return Err(malformed("the DNSKEY is not a zone key (flag 256 unset)"));
        }
        Ok(SigningKey {
            zone: zone.into(),
            tag: key_tag(&dnskey),
            algorithm,
            dnskey: dnskey.into(),
            active: (fields.activate, fields.inactive),
            file: file.to_owned(),
            private: private_key,
            rng,
        })
    }

    /// Whether it is a key-signing key (the SEP flag): it signs the DNSKEY RRset.
    pub fn is_ksk(&self) -> bool {
        u16::from_be_bytes([self.dnskey[0], self.dnskey[1]]) & SEP_FLAG != 0
    }

    /// Whether it signs at `now` (UNIX seconds).
    pub fn is_active(&self, now: u64) -> bool {
        self.active.0.is_none_or(|from| from <= now) && self.active.1.is_none_or(|to| now < to)
    }

    /// The signature over `data`, in the form RRSIG carries (for ECDSA r and s,
    /// 32 bytes each: RFC 6605 4).
    pub fn sign(&self, data: &[u8]) -> Result<Vec<u8>, SignError> {
        match &self.private {
            PrivateKey::EcdsaP256(pair) => pair
                .sign(&self.rng, data)
                .map(|s| s.as_ref().to_vec())
                .map_err(|_| SignError),
            PrivateKey::Ed25519(pair) => Ok(pair.sign(data).as_ref().to_vec()),
        }
    }

    /// The key as `zone/alg/tag`, for logs.
    pub fn describe(&self) -> String {
        format!(
            "{}+{:03}+{:05}",
            to_presentation(&self.zone),
            self.algorithm,
            self.tag
        )
    }

    /// The public key ring derived from the private one (for tests).
    #[cfg(test)]
    fn public_key(&self) -> Vec<u8> {
        use ring::signature::KeyPair;
        match &self.private {
            PrivateKey::EcdsaP256(pair) => pair.public_key().as_ref()[1..].to_vec(),
            PrivateKey::Ed25519(pair) => pair.public_key().as_ref().to_vec(),
        }
    }
}

/// The owner (lowercase wire format) and RDATA of the DNSKEY record in a `.key`
/// file: `owner [ttl] [class] DNSKEY flags protocol algorithm base64...`, after
/// `;` comments.
fn parse_dnskey(text: &str) -> Option<(Vec<u8>, Vec<u8>)> {
    text.lines()
        .map(|line| line.split(';').next().unwrap_or_default())
        .find_map(|line| {
            let tokens: Vec<&str> = line.split_whitespace().collect();
            let at = tokens
                .iter()
                .position(|t| t.eq_ignore_ascii_case("DNSKEY"))?;
            let owner = parse_presentation(tokens.first()?.as_bytes(), None).ok()?;
            let flags: u16 = tokens.get(at + 1)?.parse().ok()?;
            let protocol: u8 = tokens.get(at + 2)?.parse().ok()?;
            let algorithm: u8 = tokens.get(at + 3)?.parse().ok()?;
            let key = data_encoding::BASE64
                .decode(tokens.get(at + 4..)?.concat().as_bytes())
                .ok()?;
            let mut rdata = flags.to_be_bytes().to_vec();
            rdata.push(protocol);
            rdata.push(algorithm);
            rdata.extend_from_slice(&key);
            Some((owner.to_ascii_lowercase(), rdata))
        })
}

/// What a Private-key-format v1.3 file says (`Field: value` lines).
#[derive(Debug, Default)]
struct PrivateFields {
    algorithm: Option<u8>,
    private_key: Option<Vec<u8>>,
    activate: Option<u64>,
    inactive: Option<u64>,
}

impl PrivateFields {
    fn parse(text: &str) -> PrivateFields {
        let mut fields = PrivateFields::default();
        for line in text.lines() {
            let Some((field, value)) = line.split_once(':') else {
                continue;
            };
            let value = value.trim();
            let first = value.split_whitespace().next().unwrap_or_default();
            match field.trim() {
                "Algorithm" => fields.algorithm = first.parse().ok(),
                "PrivateKey" => {
                    fields.private_key = data_encoding::BASE64
                        .decode(value.replace(' ', "").as_bytes())
                        .ok()
                }
                "Activate" => fields.activate = timestamp(first),
                // A deleted key is inactive too.
                "Inactive" | "Delete" => {
                    let at = timestamp(first);
                    fields.inactive = match (fields.inactive, at) {
                        (Some(a), Some(b)) => Some(a.min(b)),
                        (a, b) => a.or(b),
                    };
                }
                _ => {}
            }
        }
        fields
    }
}

/// A `YYYYMMDDHHMMSS` time (UTC) as UNIX seconds.
pub(crate) fn timestamp(text: &str) -> Option<u64> {
    if text.len() != 14 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n = |range: std::ops::Range<usize>| text.get(range)?.parse::<u64>().ok();
    let (year, month, day) = (n(0..4)?, n(4..6)?, n(6..8)?);
    let (hour, minute, second) = (n(8..10)?, n(10..12)?, n(12..14)?);
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    // Days from 1970-01-01 to the date (Howard Hinnant's civil-from-days, inverted).
    let (y, m) = if month <= 2 {
        (year - 1, month + 9)
    } else {
        (year, month - 3)
    };
    let era = y / 400;
    let yoe = y - era * 400;
    let doy = (153 * m + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = (era * 146_097 + doe).checked_sub(719_468)?;
    Some(days * 86_400 + hour * 3600 + minute * 60 + second)
}

/// A private key in PKCS#8 PEM form (Knot's `keymgr` store), not yet tied to a
/// zone. See the module doc.
#[derive(Debug)]
pub struct PemKey {
    /// The key itself (PKCS#8 DER).
    der: Vec<u8>,
    /// Its algorithm: 13 or 15.
    pub algorithm: u8,
    /// The public key as a DNSKEY carries it.
    pub public_key: Vec<u8>,
    /// The file, for messages.
    pub file: PathBuf,
}

impl PemKey {
    /// Reads a `-----BEGIN PRIVATE KEY-----` file (ECDSA P-256 or Ed25519).
    pub fn read(path: &Path) -> Result<PemKey, KeyError> {
        let text = std::fs::read_to_string(path).map_err(|source| KeyError::Read {
            path: path.to_owned(),
            source,
        })?;
        PemKey::from_text(&text, path)
    }

    /// The key from the text of its file (`file` names it in errors).
    pub fn from_text(text: &str, file: &Path) -> Result<PemKey, KeyError> {
        let body: String = text
            .lines()
            .skip_while(|l| !l.starts_with("-----BEGIN PRIVATE KEY-----"))
            .skip(1)
            .take_while(|l| !l.starts_with("-----END"))
            .collect();
        let der =
            data_encoding::BASE64
                .decode(body.as_bytes())
                .map_err(|_| KeyError::Malformed {
                    path: file.to_owned(),
                    problem: "not a PEM PRIVATE KEY (PKCS#8)",
                })?;
        let (algorithm, public_key) = if let Some((_, point)) = ec_private_key(&der) {
            (ECDSAP256SHA256, point.get(1..).unwrap_or_default().to_vec())
        } else if let Ok(pair) = Ed25519KeyPair::from_pkcs8_maybe_unchecked(&der) {
            use ring::signature::KeyPair;
            (ED25519, pair.public_key().as_ref().to_vec())
        } else {
            return Err(KeyError::Malformed {
                path: file.to_owned(),
                problem: "not an ECDSA P-256 or Ed25519 key in PKCS#8 form",
            });
        };
        Ok(PemKey {
            der,
            algorithm,
            public_key,
            file: file.to_owned(),
        })
    }

    /// The signing key of zone `zone` when `dnskey` (an RDATA of its DNSKEY RRset)
    /// is this key's public half.
    pub fn for_dnskey(&self, zone: &[u8], dnskey: &[u8]) -> Option<SigningKey> {
        if dnskey.get(3) != Some(&self.algorithm) || dnskey.get(4..)? != &self.public_key[..] {
            return None;
        }
        let flags = u16::from_be_bytes([*dnskey.first()?, *dnskey.get(1)?]);
        if flags & ZONE_KEY_FLAG == 0 {
            return None;
        }
        let rng = SystemRandom::new();
        let private = match self.algorithm {
            ECDSAP256SHA256 => {
                let (scalar, point) = ec_private_key(&self.der)?;
                PrivateKey::EcdsaP256(
                    EcdsaKeyPair::from_private_key_and_public_key(
                        &ECDSA_P256_SHA256_FIXED_SIGNING,
                        &scalar,
                        point,
                        &rng,
                    )
                    .ok()?,
                )
            }
            _ => PrivateKey::Ed25519(Ed25519KeyPair::from_pkcs8_maybe_unchecked(&self.der).ok()?),
        };
        Some(SigningKey {
            zone: zone.into(),
            dnskey: dnskey.into(),
            tag: key_tag(dnskey),
            algorithm: self.algorithm,
            active: (None, None),
            file: self.file.clone(),
            private,
            rng,
        })
    }
}

/// One DER element at the start of `der`: (tag, contents, the rest).
fn der_element(der: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let tag = *der.first()?;
    let first = *der.get(1)?;
    let (len, start) = match first {
        0..=0x7F => (usize::from(first), 2),
        0x81 => (usize::from(*der.get(2)?), 3),
        0x82 => (
            usize::from(u16::from_be_bytes([*der.get(2)?, *der.get(3)?])),
            4,
        ),
        _ => return None,
    };
    let contents = der.get(start..start + len)?;
    Some((tag, contents, der.get(start + len..)?))
}

/// The P-256 private scalar (32 bytes: GnuTLS, and so Knot, writes it with a
/// leading zero when its high bit is set, which ring refuses) and the public point
/// (uncompressed) of a PKCS#8 ECDSA key (RFC 5208, RFC 5915).
fn ec_private_key(der: &[u8]) -> Option<([u8; 32], &[u8])> {
    const P256: &[u8] = b"\x2a\x86\x48\xce\x3d\x03\x01\x07";
    let (0x30, info, _) = der_element(der)? else {
        return None;
    };
    let (0x02, _, rest) = der_element(info)? else {
        return None;
    };
    let (0x30, algorithm, rest) = der_element(rest)? else {
        return None;
    };
    if !algorithm.windows(P256.len()).any(|w| w == P256) {
        return None;
    }
    let (0x04, key, _) = der_element(rest)? else {
        return None;
    };
    let (0x30, key, _) = der_element(key)? else {
        return None;
    };
    let (0x02, _, rest) = der_element(key)? else {
        return None;
    };
    let (0x04, d, mut rest) = der_element(rest)? else {
        return None;
    };
    let d = if d.len() == 33 && d.first() == Some(&0) {
        d.get(1..)?
    } else {
        d
    };
    let mut scalar = [0u8; 32];
    scalar
        .get_mut(32usize.checked_sub(d.len())?..)?
        .copy_from_slice(d);
    while let Some((tag, contents, after)) = der_element(rest) {
        if tag == 0xA1 {
            // [1] BIT STRING: no unused bits, then the point.
            let (0x03, bits, _) = der_element(contents)? else {
                return None;
            };
            return Some((scalar, bits.get(1..)?));
        }
        rest = after;
    }
    None
}

/// The key tag of a DNSKEY RDATA (RFC 4034 appendix B).
pub fn key_tag(dnskey: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    for (i, byte) in dnskey.iter().enumerate() {
        sum += if i % 2 == 0 {
            u32::from(*byte) << 8
        } else {
            u32::from(*byte)
        };
    }
    sum += (sum >> 16) & 0xFFFF;
    (sum & 0xFFFF) as u16
}

/// A key for unit tests elsewhere: Ed25519, zone-signing, for `example.com.`.
#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) fn tests_key() -> SigningKey {
    SigningKey::from_texts(tests::ED_KEY, tests::ED_PRIVATE, Path::new("k")).unwrap()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const ECDSA_KEY: &str = "; This is a key-signing key, keyid 35138, for example.com.\n\
        example.com. IN DNSKEY 257 3 13 59absS3AYm7Ja0xSCUyxORtShx3H8Qxh8T9i3UDcAsIFZMF3z1nquXtr Et8RtXJcjJ3koGjNW228utBzgeu63A==\n";
    const ECDSA_PRIVATE: &str = "Private-key-format: v1.3\nAlgorithm: 13 (ECDSAP256SHA256)\n\
        PrivateKey: KApCAmC7+QAv29CU9z29hHN5BG5QmeGg/tGJqFnSzOM=\nCreated: 20261123213147\n\
        Publish: 20261123213147\nActivate: 20261123213147\n";
    pub(super) const ED_KEY: &str =
        "example.com. 3600 IN DNSKEY 256 3 15 wB35aMxAXMOYETpBPnSUd5sFPssU6Z39S3nFBh9NLqg=\n";
    pub(super) const ED_PRIVATE: &str = "Private-key-format: v1.3\nAlgorithm: 15 (ED25519)\n\
        PrivateKey: iz9xoJ4clcT2miUJOfETS9CFv+kl9rUR3uTYluH7CRw=\nInactive: 20300101000000\n";

    #[test]
    fn reads_dnssec_keygen_files() {
        let ksk = SigningKey::from_texts(ECDSA_KEY, ECDSA_PRIVATE, Path::new("k")).unwrap();
        assert_eq!((ksk.tag, ksk.algorithm, ksk.is_ksk()), (35138, 13, true));
        assert_eq!(&ksk.zone[..], b"\x07example\x03com\x00");
        assert_eq!(ksk.public_key(), &ksk.dnskey[4..]);
        assert_eq!(ksk.sign(b"data").unwrap().len(), 64);
        let zsk = SigningKey::from_texts(ED_KEY, ED_PRIVATE, Path::new("k")).unwrap();
        assert_eq!((zsk.tag, zsk.algorithm, zsk.is_ksk()), (30469, 15, false));
        assert_eq!(zsk.sign(b"data").unwrap().len(), 64);
        assert!(zsk.is_active(1_800_000_000));
        assert!(!zsk.is_active(timestamp("20300101000000").unwrap()));
    }

    #[test]
    fn refuses_mismatched_or_missing_parts() {
        let err = |public: &str, private: &str| {
            SigningKey::from_texts(public, private, Path::new("k"))
                .unwrap_err()
                .to_string()
        };
        assert!(err(ECDSA_KEY, ED_PRIVATE).contains("Algorithm differs"));
        let wrong = ECDSA_PRIVATE.replace("KApCAmC7", "LApCAmC7");
        assert!(err(ECDSA_KEY, &wrong).contains("does not match"));
        assert!(err("nothing here\n", ECDSA_PRIVATE).contains("no DNSKEY"));
        let rsa = "x. DNSKEY 256 3 8 AwEAAQ==\n";
        assert!(err(rsa, "Algorithm: 8\nPrivateKey: AAAA\n").contains("algorithm 8"));
    }

    #[test]
    fn reads_keymgr_pem_keys_and_ties_them_to_their_dnskey() {
        // As Knot DNS's keymgr wrote them (an ECDSA KSK, an Ed25519 ZSK).
        let ecdsa = "-----BEGIN PRIVATE KEY-----\n\
            MIGUAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBHoweAIBAQQhAK4jAbtZ3sWGU139\n\
            /3D3zJktLFC/Z8FIAy8hnN0loEYaoAoGCCqGSM49AwEHoUQDQgAExfSPnG4X5Buf\n\
            QDK4OSWP5TUdbP8Frujn5fD1GvY3LP3QoaCLMkQTXEaqBWM1VX7ZehHWfPb4Vh3o\n\
            NXISUKZOcQ==\n-----END PRIVATE KEY-----\n";
        let ed = "-----BEGIN PRIVATE KEY-----\n\
            MC4CAQAwBQYDK2VwBCIEIDl1X+wzCBHjyBPb3w3G4nmgzQieyC7mPHNUo7VDDrYf\n\
            -----END PRIVATE KEY-----\n";
        let ksk = PemKey::from_text(ecdsa, Path::new("k.pem")).unwrap();
        let (zone, dnskey) = parse_dnskey(
            "example.com. DNSKEY 257 3 13 xfSPnG4X5BufQDK4OSWP5TUdbP8Frujn5fD1GvY3LP3QoaCLMkQTXEaqBWM1VX7ZehHWfPb4Vh3oNXISUKZOcQ==",
        )
        .unwrap();
        let key = ksk.for_dnskey(&zone, &dnskey).unwrap();
        assert_eq!((key.tag, key.is_ksk()), (9176, true));
        assert_eq!(key.sign(b"data").unwrap().len(), 64);
        let zsk = PemKey::from_text(ed, Path::new("z.pem")).unwrap();
        assert_eq!(zsk.algorithm, ED25519);
        assert!(
            zsk.for_dnskey(&zone, &dnskey).is_none(),
            "another key's DNSKEY"
        );
        assert!(PemKey::from_text("garbage", Path::new("g.pem")).is_err());
    }

    #[test]
    fn timestamps_are_utc() {
        assert_eq!(timestamp("19700101000000"), Some(0));
        assert_eq!(timestamp("20261123213147"), Some(1_795_469_507));
        assert_eq!(timestamp("2026112321314"), None);
        assert_eq!(timestamp("20261323213147"), None);
    }
}
