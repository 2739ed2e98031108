//! RDATA in presentation form → wire format, one function per record type.
//!
//! Every type the issue lists has a parser (SOA, NS, A, AAAA, CNAME, MX, TXT, PTR, SRV,
//! CAA, DNAME, DS, DNSKEY, RRSIG, NSEC, NSEC3, NSEC3PARAM), plus the common extras
//! a BIND zone holds (HINFO, SPF, SSHFP, TLSA, NAPTR, RP, URI, OPENPGPKEY, CDS,
//! CDNSKEY, SMIMEA, ZONEMD). Any type, known or not, is accepted in the RFC 3597
//! generic form `\# LEN HEX`.

use std::net::{Ipv4Addr, Ipv6Addr};

use data_encoding::{BASE32HEX_NOPAD, BASE64, HEXLOWER_PERMISSIVE};

use super::lexer::Token;
use crate::wire::name::{self, parse_escape, NameError};

/// Record type codes, shared with the wire layer.
pub(super) use crate::wire::types;
pub(super) use crate::wire::types::{type_code, type_name};

/// What is wrong with a record's data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RdataError {
    /// Fewer fields than the type needs.
    #[error("missing field: {0}")]
    Missing(&'static str),
    /// More fields than the type takes.
    #[error("unexpected field '{0}'")]
    Extra(String),
    /// A number that does not parse or is out of range.
    #[error("bad number '{0}'")]
    BadNumber(String),
    /// An address that does not parse.
    #[error("bad address '{0}'")]
    BadAddress(String),
    /// A bad name inside the data.
    #[error("bad name '{text}': {source}")]
    BadName {
        /// The name as written.
        text: String,
        /// Why.
        source: NameError,
    },
    /// A character-string over 255 bytes or with a bad escape.
    #[error("bad character-string '{0}'")]
    BadString(String),
    /// Bad hexadecimal, base64 or base32hex.
    #[error("bad {0} encoding")]
    BadEncoding(&'static str),
    /// A type mnemonic that is not known (in NSEC bitmaps, RRSIG).
    #[error("unknown type '{0}'")]
    UnknownType(String),
    /// A signature time that is neither YYYYMMDDHHmmSS nor a number.
    #[error("bad time '{0}'")]
    BadTime(String),
    /// The RFC 3597 length disagrees with the data.
    #[error("\\# length {declared} but {actual} bytes of data")]
    GenericLength {
        /// Length given.
        declared: usize,
        /// Bytes found.
        actual: usize,
    },
    /// A type zonal knows only in the RFC 3597 generic form.
    #[error("this type is accepted only in RFC 3597 form (\\# LEN HEX)")]
    GenericOnly,
    /// RDATA longer than 65535 bytes.
    #[error("data longer than 65535 bytes")]
    TooLong,
}

type Result<T> = std::result::Result<T, RdataError>;

/// Parses the RDATA tokens of a record of type `rtype` into wire format in `out`.
/// Names are completed with `origin`.
pub(super) fn parse_rdata(
    rtype: u16,
    tokens: &[Token<'_>],
    origin: &[u8],
    out: &mut Vec<u8>,
) -> Result<()> {
    out.clear();
    let mut fields = Fields {
        tokens,
        next: 0,
        origin,
    };
    if tokens
        .first()
        .is_some_and(|t| !t.quoted && t.text == b"\\#")
    {
        fields.next = 1;
        return generic(&mut fields, out);
    }
    match rtype {
        types::A => {
            let text = fields.text("address")?;
            let addr: Ipv4Addr = text.parse().map_err(|_| RdataError::BadAddress(text.to_owned()))?;
            out.extend_from_slice(&addr.octets());
        }
        types::AAAA => {
            let text = fields.text("address")?;
            let addr: Ipv6Addr = text.parse().map_err(|_| RdataError::BadAddress(text.to_owned()))?;
            out.extend_from_slice(&addr.octets());
        }
        types::NS | types::CNAME | types::PTR | types::DNAME => fields.name(out, "target")?,
        types::MX | 36 /* KX */ | 18 /* AFSDB */ => {
            fields.u16(out, "preference")?;
            fields.name(out, "exchange")?;
        }
        types::SOA => {
            fields.name(out, "mname")?;
            fields.name(out, "rname")?;
            fields.u32(out, "serial")?;
            for what in ["refresh", "retry", "expire", "minimum"] {
                let t = fields.token(what)?;
                out.extend_from_slice(&parse_ttl(t.text).ok_or_else(|| bad_number(&t))?.to_be_bytes());
            }
        }
        types::TXT | 99 /* SPF */ => {
            fields.string(out, "text")?;
            while fields.more() {
                fields.string(out, "text")?;
            }
        }
        13 /* HINFO */ => {
            fields.string(out, "cpu")?;
            fields.string(out, "os")?;
        }
        17 /* RP */ => {
            fields.name(out, "mbox")?;
            fields.name(out, "txt")?;
        }
        types::SRV => {
            fields.u16(out, "priority")?;
            fields.u16(out, "weight")?;
            fields.u16(out, "port")?;
            fields.name(out, "target")?;
        }
        35 /* NAPTR */ => {
            fields.u16(out, "order")?;
            fields.u16(out, "preference")?;
            fields.string(out, "flags")?;
            fields.string(out, "services")?;
            fields.string(out, "regexp")?;
            fields.name(out, "replacement")?;
        }
        257 /* CAA */ => {
            fields.u8(out, "flags")?;
            let tag = fields.token("tag")?;
            if tag.text.is_empty() || tag.text.len() > 255 || !tag.text.iter().all(u8::is_ascii_alphanumeric) {
                return Err(RdataError::BadString(lossy(tag.text)));
            }
            out.push(tag.text.len() as u8);
            out.extend_from_slice(tag.text);
            let value = fields.token("value")?;
            out.extend_from_slice(&unescape(value.text).ok_or_else(|| RdataError::BadString(lossy(value.text)))?);
        }
        256 /* URI */ => {
            fields.u16(out, "priority")?;
            fields.u16(out, "weight")?;
            let target = fields.token("target")?;
            out.extend_from_slice(&unescape(target.text).ok_or_else(|| RdataError::BadString(lossy(target.text)))?);
        }
        types::DS | 59 /* CDS */ => {
            fields.u16(out, "key tag")?;
            fields.algorithm(out)?;
            fields.u8(out, "digest type")?;
            fields.rest_hex(out)?;
        }
        48 /* DNSKEY */ | 60 /* CDNSKEY */ | 25 /* KEY */ => {
            fields.u16(out, "flags")?;
            fields.u8(out, "protocol")?;
            fields.algorithm(out)?;
            fields.rest_base64(out)?;
        }
        types::RRSIG => {
            let covered = fields.text("type covered")?;
            let code = type_code(covered).ok_or_else(|| RdataError::UnknownType(covered.to_owned()))?;
            out.extend_from_slice(&code.to_be_bytes());
            fields.algorithm(out)?;
            fields.u8(out, "labels")?;
            let t = fields.token("original TTL")?;
            out.extend_from_slice(&parse_ttl(t.text).ok_or_else(|| bad_number(&t))?.to_be_bytes());
            fields.time(out, "expiration")?;
            fields.time(out, "inception")?;
            fields.u16(out, "key tag")?;
            fields.name(out, "signer")?;
            fields.rest_base64(out)?;
        }
        types::NSEC => {
            fields.name(out, "next name")?;
            fields.type_bitmap(out)?;
        }
        types::NSEC3 => {
            fields.u8(out, "hash algorithm")?;
            fields.u8(out, "flags")?;
            fields.u16(out, "iterations")?;
            fields.salt(out)?;
            let next = fields.token("next hashed owner")?;
            let upper = next.text.to_ascii_uppercase();
            let hash = BASE32HEX_NOPAD.decode(&upper).map_err(|_| RdataError::BadEncoding("base32hex"))?;
            out.push(u8::try_from(hash.len()).map_err(|_| RdataError::TooLong)?);
            out.extend_from_slice(&hash);
            fields.type_bitmap(out)?;
        }
        51 /* NSEC3PARAM */ => {
            fields.u8(out, "hash algorithm")?;
            fields.u8(out, "flags")?;
            fields.u16(out, "iterations")?;
            fields.salt(out)?;
        }
        44 /* SSHFP */ => {
            fields.u8(out, "algorithm")?;
            fields.u8(out, "fingerprint type")?;
            fields.rest_hex(out)?;
        }
        52 /* TLSA */ | 53 /* SMIMEA */ => {
            fields.u8(out, "usage")?;
            fields.u8(out, "selector")?;
            fields.u8(out, "matching type")?;
            fields.rest_hex(out)?;
        }
        61 /* OPENPGPKEY */ => fields.rest_base64(out)?,
        63 /* ZONEMD */ => {
            fields.u32(out, "serial")?;
            fields.u8(out, "scheme")?;
            fields.u8(out, "hash algorithm")?;
            fields.rest_hex(out)?;
        }
        _ => return Err(RdataError::GenericOnly),
    }
    if let Some(extra) = fields.tokens.get(fields.next) {
        return Err(RdataError::Extra(lossy(extra.text)));
    }
    if out.len() > usize::from(u16::MAX) {
        return Err(RdataError::TooLong);
    }
    Ok(())
}

/// RFC 3597 section 5: `\# LEN HEX...`.
fn generic(fields: &mut Fields<'_, '_>, out: &mut Vec<u8>) -> Result<()> {
    let t = fields.token("length")?;
    let declared: usize = std::str::from_utf8(t.text)
        .ok()
        .and_then(|s| s.parse().ok())
        .filter(|&n| n <= usize::from(u16::MAX))
        .ok_or_else(|| bad_number(&t))?;
    if fields.more() {
        fields.rest_hex(out)?;
    }
    if out.len() != declared {
        return Err(RdataError::GenericLength {
            declared,
            actual: out.len(),
        });
    }
    Ok(())
}

/// Parses a TTL or other time value: seconds, or BIND units (`1h30m`, `2d`, `1w`).
pub(super) fn parse_ttl(text: &[u8]) -> Option<u32> {
    if text.is_empty() {
        return None;
    }
    if text.iter().all(u8::is_ascii_digit) {
        return std::str::from_utf8(text).ok()?.parse().ok();
    }
    let mut total: u64 = 0;
    let mut current: Option<u64> = None;
    for &b in text {
        if b.is_ascii_digit() {
            current = Some(current.unwrap_or(0).checked_mul(10)? + u64::from(b - b'0'));
            if current? > u64::from(u32::MAX) {
                return None;
            }
            continue;
        }
        let unit = match b.to_ascii_lowercase() {
            b's' => 1,
            b'm' => 60,
            b'h' => 3600,
            b'd' => 86_400,
            b'w' => 604_800,
            _ => return None,
        };
        total += current.take()? * unit;
    }
    if current.is_some() {
        return None;
    }
    u32::try_from(total).ok()
}

/// Decodes the escapes of a character-string (`\"`, `\DDD`, `\X`).
fn unescape(text: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0usize;
    while let Some(&b) = text.get(i) {
        if b == b'\\' {
            let (byte, used) = parse_escape(text.get(i + 1..)?)?;
            out.push(byte);
            i += 1 + used;
        } else {
            out.push(b);
            i += 1;
        }
    }
    Some(out)
}

/// Seconds since the epoch for a `YYYYMMDDHHmmSS` time (RFC 4034 3.2), modulo 2^32.
fn parse_signature_time(text: &[u8]) -> Option<u32> {
    let s = std::str::from_utf8(text).ok()?;
    if s.len() != 14 {
        return s.parse().ok();
    }
    let field = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (y, m, d) = (field(0..4)?, field(4..6)?, field(6..8)?);
    let (hh, mm, ss) = (field(8..10)?, field(10..12)?, field(12..14)?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    // Days from civil date (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + hh * 3600 + mm * 60 + ss;
    Some(secs.rem_euclid(1 << 32) as u32)
}

fn lossy(text: &[u8]) -> String {
    String::from_utf8_lossy(text).into_owned()
}

fn bad_number(t: &Token<'_>) -> RdataError {
    RdataError::BadNumber(lossy(t.text))
}

/// A cursor over a record's RDATA tokens.
struct Fields<'t, 'a> {
    /// The tokens after the type.
    tokens: &'t [Token<'a>],
    /// Index of the next unread token.
    next: usize,
    /// Origin for relative names.
    origin: &'t [u8],
}

impl<'a> Fields<'_, 'a> {
    fn more(&self) -> bool {
        self.next < self.tokens.len()
    }

    fn token(&mut self, what: &'static str) -> Result<Token<'a>> {
        let t = *self
            .tokens
            .get(self.next)
            .ok_or(RdataError::Missing(what))?;
        self.next += 1;
        Ok(t)
    }

    fn text(&mut self, what: &'static str) -> Result<&'a str> {
        let t = self.token(what)?;
        std::str::from_utf8(t.text).map_err(|_| RdataError::BadString(lossy(t.text)))
    }

    fn number(&mut self, what: &'static str, max: u64) -> Result<u64> {
        let t = self.token(what)?;
        std::str::from_utf8(t.text)
            .ok()
            .and_then(|s| s.parse::<u64>().ok())
            .filter(|&n| n <= max)
            .ok_or_else(|| bad_number(&t))
    }

    fn u8(&mut self, out: &mut Vec<u8>, what: &'static str) -> Result<()> {
        out.push(self.number(what, u8::MAX.into())? as u8);
        Ok(())
    }

    fn u16(&mut self, out: &mut Vec<u8>, what: &'static str) -> Result<()> {
        out.extend_from_slice(&(self.number(what, u16::MAX.into())? as u16).to_be_bytes());
        Ok(())
    }

    fn u32(&mut self, out: &mut Vec<u8>, what: &'static str) -> Result<()> {
        out.extend_from_slice(&(self.number(what, u32::MAX.into())? as u32).to_be_bytes());
        Ok(())
    }

    fn algorithm(&mut self, out: &mut Vec<u8>) -> Result<()> {
        let t = self.token("algorithm")?;
        let upper = t.text.to_ascii_uppercase();
        let code = match upper.as_slice() {
            b"RSAMD5" => 1,
            b"DH" => 2,
            b"DSA" => 3,
            b"RSASHA1" => 5,
            b"DSA-NSEC3-SHA1" => 6,
            b"RSASHA1-NSEC3-SHA1" => 7,
            b"RSASHA256" => 8,
            b"RSASHA512" => 10,
            b"ECC-GOST" => 12,
            b"ECDSAP256SHA256" => 13,
            b"ECDSAP384SHA384" => 14,
            b"ED25519" => 15,
            b"ED448" => 16,
            b"INDIRECT" => 252,
            b"PRIVATEDNS" => 253,
            b"PRIVATEOID" => 254,
            _ => std::str::from_utf8(&upper)
                .ok()
                .and_then(|s| s.parse::<u8>().ok())
                .ok_or_else(|| bad_number(&t))?,
        };
        out.push(code);
        Ok(())
    }

    fn time(&mut self, out: &mut Vec<u8>, what: &'static str) -> Result<()> {
        let t = self.token(what)?;
        let secs =
            parse_signature_time(t.text).ok_or_else(|| RdataError::BadTime(lossy(t.text)))?;
        out.extend_from_slice(&secs.to_be_bytes());
        Ok(())
    }

    fn name(&mut self, out: &mut Vec<u8>, what: &'static str) -> Result<()> {
        let t = self.token(what)?;
        let wire = name::parse_presentation(t.text, Some(self.origin)).map_err(|source| {
            RdataError::BadName {
                text: lossy(t.text),
                source,
            }
        })?;
        out.extend_from_slice(&wire);
        Ok(())
    }

    /// One character-string (RFC 1035 3.3): a length byte and up to 255 bytes.
    fn string(&mut self, out: &mut Vec<u8>, what: &'static str) -> Result<()> {
        let t = self.token(what)?;
        let bytes = unescape(t.text)
            .filter(|b| b.len() <= 255)
            .ok_or_else(|| RdataError::BadString(lossy(t.text)))?;
        out.push(bytes.len() as u8);
        out.extend_from_slice(&bytes);
        Ok(())
    }

    fn rest_joined(&mut self) -> Vec<u8> {
        let mut joined = Vec::new();
        for t in &self.tokens[self.next..] {
            joined.extend_from_slice(t.text);
        }
        self.next = self.tokens.len();
        joined
    }

    fn rest_hex(&mut self, out: &mut Vec<u8>) -> Result<()> {
        if !self.more() {
            return Err(RdataError::Missing("hex data"));
        }
        let joined = self.rest_joined();
        let bytes = HEXLOWER_PERMISSIVE
            .decode(&joined)
            .map_err(|_| RdataError::BadEncoding("hex"))?;
        out.extend_from_slice(&bytes);
        Ok(())
    }

    fn rest_base64(&mut self, out: &mut Vec<u8>) -> Result<()> {
        if !self.more() {
            return Err(RdataError::Missing("base64 data"));
        }
        let joined = self.rest_joined();
        let bytes = BASE64
            .decode(&joined)
            .map_err(|_| RdataError::BadEncoding("base64"))?;
        out.extend_from_slice(&bytes);
        Ok(())
    }

    fn salt(&mut self, out: &mut Vec<u8>) -> Result<()> {
        let t = self.token("salt")?;
        if t.text == b"-" {
            out.push(0);
            return Ok(());
        }
        let salt = HEXLOWER_PERMISSIVE
            .decode(t.text)
            .map_err(|_| RdataError::BadEncoding("hex"))?;
        out.push(u8::try_from(salt.len()).map_err(|_| RdataError::TooLong)?);
        out.extend_from_slice(&salt);
        Ok(())
    }

    /// The type bitmap of NSEC and NSEC3 (RFC 4034 4.1.2) from the remaining tokens.
    fn type_bitmap(&mut self, out: &mut Vec<u8>) -> Result<()> {
        let mut codes = Vec::new();
        while self.more() {
            let text = self.text("type")?;
            codes.push(type_code(text).ok_or_else(|| RdataError::UnknownType(text.to_owned()))?);
        }
        codes.sort_unstable();
        codes.dedup();
        let mut i = 0usize;
        while let Some(&first) = codes.get(i) {
            let window = (first >> 8) as u8;
            let mut bitmap = [0u8; 32];
            let mut used = 0usize;
            while let Some(&code) = codes.get(i) {
                if (code >> 8) as u8 != window {
                    break;
                }
                let low = usize::from(code as u8);
                bitmap[low / 8] |= 0x80 >> (low % 8);
                used = low / 8 + 1;
                i += 1;
            }
            out.push(window);
            out.push(used as u8);
            out.extend_from_slice(&bitmap[..used]);
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::zonefile::lexer::Lexer;

    const ORIGIN: &[u8] = b"\x07example\x00";

    fn rdata(rtype: &str, text: &str) -> Result<Vec<u8>> {
        let mut lexer = Lexer::new(text.as_bytes(), 1);
        let mut tokens = Vec::new();
        lexer.next_entry(&mut tokens).unwrap();
        let mut out = Vec::new();
        parse_rdata(type_code(rtype).unwrap(), &tokens, ORIGIN, &mut out)?;
        Ok(out)
    }

    #[test]
    fn type_codes_and_names() {
        assert_eq!(type_code("a"), Some(1));
        assert_eq!(type_code("NSEC3PARAM"), Some(51));
        assert_eq!(type_code("TYPE65280"), Some(65280));
        assert_eq!(type_code("SPF"), Some(99));
        assert_eq!(type_code("ANY"), None);
        assert_eq!(type_code("BOGUS"), None);
        assert_eq!(type_name(28), "AAAA");
        assert_eq!(type_name(65280), "TYPE65280");
    }

    #[test]
    fn address_and_name_types() {
        assert_eq!(rdata("A", "192.0.2.1").unwrap(), [192, 0, 2, 1]);
        assert!(rdata("A", "192.0.2").is_err());
        assert_eq!(rdata("AAAA", "::1").unwrap().len(), 16);
        assert_eq!(rdata("NS", "ns1").unwrap(), b"\x03ns1\x07example\x00");
        assert_eq!(rdata("MX", "10 @").unwrap(), b"\x00\x0a\x07example\x00");
        assert_eq!(rdata("SRV", "1 2 53 .").unwrap(), [0, 1, 0, 2, 0, 53, 0]);
        assert!(matches!(rdata("CNAME", "a b"), Err(RdataError::Extra(_))));
        assert!(matches!(rdata("MX", "10"), Err(RdataError::Missing(_))));
    }

    #[test]
    fn soa_with_ttl_units() {
        let soa = rdata("SOA", "ns hostmaster 2024010101 1h 15m 1w 1d").unwrap();
        let tail = &soa[soa.len() - 20..];
        assert_eq!(&tail[4..8], &3600u32.to_be_bytes());
        assert_eq!(&tail[16..20], &86400u32.to_be_bytes());
    }

    #[test]
    fn txt_and_caa_strings() {
        assert_eq!(rdata("TXT", "\"a b\" c").unwrap(), b"\x03a b\x01c");
        assert_eq!(rdata("TXT", "\"\\065\\\"\"").unwrap(), b"\x02A\"");
        assert!(rdata("TXT", &format!("\"{}\"", "x".repeat(256))).is_err());
        assert_eq!(
            rdata("CAA", "0 issue \"ca.example\"").unwrap(),
            b"\x00\x05issueca.example"
        );
    }

    #[test]
    fn generic_form_for_any_type() {
        assert_eq!(rdata("TYPE65280", "\\# 4 0a000001").unwrap(), [10, 0, 0, 1]);
        assert_eq!(rdata("A", "\\# 4 0a 00 00 01").unwrap(), [10, 0, 0, 1]);
        assert_eq!(rdata("TYPE65280", "\\# 0").unwrap(), [] as [u8; 0]);
        assert!(matches!(
            rdata("TYPE65280", "\\# 3 0a000001"),
            Err(RdataError::GenericLength {
                declared: 3,
                actual: 4
            })
        ));
        assert_eq!(rdata("TYPE65280", "1 2"), Err(RdataError::GenericOnly));
    }

    #[test]
    fn dnssec_types() {
        assert_eq!(
            rdata("DS", "60485 5 1 2BB183AF 5F22588179A53B0A98631FAD1A292118")
                .unwrap()
                .len(),
            4 + 20
        );
        assert_eq!(
            rdata("DNSKEY", "257 3 8 AwEAAQ==").unwrap(),
            [1, 1, 3, 8, 3, 1, 0, 1]
        );
        let nsec = rdata("NSEC", "b A NS SOA RRSIG NSEC DNSKEY TYPE65280").unwrap();
        let bitmap = &nsec[b"\x01b\x07example\x00".len()..];
        assert_eq!(bitmap, [0, 7, 0x62, 0, 0, 0, 0, 0x03, 0x80, 0xff, 1, 0x80]);
        let sig = rdata(
            "RRSIG",
            "A 8 2 3600 20180324000000 20180310230000 41824 . AAAA",
        )
        .unwrap();
        assert_eq!(&sig[8..12], &1_521_849_600u32.to_be_bytes());
        let nsec3 = rdata(
            "NSEC3",
            "1 0 10 AABB 2T7B4G4VSA5SMI47K61MV5BV1A22BOJR A RRSIG",
        )
        .unwrap();
        assert_eq!(&nsec3[..6], &[1, 0, 0, 10, 2, 0xaa]);
        assert_eq!(rdata("NSEC3PARAM", "1 0 0 -").unwrap(), [1, 0, 0, 0, 0]);
    }

    #[test]
    fn ttl_units() {
        assert_eq!(parse_ttl(b"3600"), Some(3600));
        assert_eq!(parse_ttl(b"1h30m"), Some(5400));
        assert_eq!(parse_ttl(b"1W2D"), Some(8 * 86400 + 86400));
        assert_eq!(parse_ttl(b"h"), None);
        assert_eq!(parse_ttl(b"10x"), None);
        assert_eq!(parse_ttl(b"5000000000"), None);
    }
}
