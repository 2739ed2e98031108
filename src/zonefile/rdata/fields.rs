//! The cursor over a record's RDATA tokens, and the field encodings the types share:
//! numbers, names, character-strings, hex, base64, algorithms, times, type bitmaps.

use data_encoding::{BASE64, HEXLOWER_PERMISSIVE};

use super::{type_code_any, RdataError, Result};
use crate::wire::name::{self, parse_escape};
use crate::zonefile::lexer::Token;

/// A cursor over a record's RDATA tokens.
pub(super) struct Fields<'t, 'a> {
    /// The tokens after the type.
    pub(super) tokens: &'t [Token<'a>],
    /// Index of the next unread token.
    pub(super) next: usize,
    /// Origin for relative names.
    pub(super) origin: &'t [u8],
}

impl<'a> Fields<'_, 'a> {
    pub(super) fn more(&self) -> bool {
        self.next < self.tokens.len()
    }

    /// The next token, not consumed.
    pub(super) fn peek(&self) -> Option<Token<'a>> {
        self.tokens.get(self.next).copied()
    }

    pub(super) fn token(&mut self, what: &'static str) -> Result<Token<'a>> {
        let t = self.peek().ok_or(RdataError::Missing(what))?;
        self.next += 1;
        Ok(t)
    }

    pub(super) fn text(&mut self, what: &'static str) -> Result<&'a str> {
        let t = self.token(what)?;
        std::str::from_utf8(t.text).map_err(|_| RdataError::BadString(lossy(t.text)))
    }

    pub(super) fn number(&mut self, what: &'static str, max: u64) -> Result<u64> {
        let t = self.token(what)?;
        decimal(t.text, max).ok_or_else(|| bad_number(&t))
    }

    pub(super) fn u8(&mut self, out: &mut Vec<u8>, what: &'static str) -> Result<()> {
        out.push(self.number(what, u8::MAX.into())? as u8);
        Ok(())
    }

    pub(super) fn u16(&mut self, out: &mut Vec<u8>, what: &'static str) -> Result<()> {
        out.extend_from_slice(&(self.number(what, u16::MAX.into())? as u16).to_be_bytes());
        Ok(())
    }

    pub(super) fn u32(&mut self, out: &mut Vec<u8>, what: &'static str) -> Result<()> {
        out.extend_from_slice(&(self.number(what, u32::MAX.into())? as u32).to_be_bytes());
        Ok(())
    }

    /// A DNSSEC algorithm, by number or mnemonic (RFC 4034 appendix A.1).
    pub(super) fn algorithm(&mut self, out: &mut Vec<u8>) -> Result<()> {
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
            _ => decimal(&upper, u8::MAX.into()).ok_or_else(|| bad_number(&t))? as u8,
        };
        out.push(code);
        Ok(())
    }

    /// A type mnemonic or `TYPEnnn`, as a 16-bit field (RRSIG type covered, DSYNC).
    pub(super) fn rtype(&mut self, out: &mut Vec<u8>, what: &'static str) -> Result<()> {
        let text = self.text(what)?;
        let code = type_code_any(text).ok_or_else(|| RdataError::UnknownType(text.to_owned()))?;
        out.extend_from_slice(&code.to_be_bytes());
        Ok(())
    }

    pub(super) fn time(&mut self, out: &mut Vec<u8>, what: &'static str) -> Result<()> {
        let t = self.token(what)?;
        let secs =
            parse_signature_time(t.text).ok_or_else(|| RdataError::BadTime(lossy(t.text)))?;
        out.extend_from_slice(&secs.to_be_bytes());
        Ok(())
    }

    /// A domain name, completed with the origin, written uncompressed.
    pub(super) fn name(&mut self, out: &mut Vec<u8>, what: &'static str) -> Result<()> {
        let t = self.token(what)?;
        out.extend_from_slice(&self.name_of(&t)?);
        Ok(())
    }

    /// The wire form of the name in `t`.
    pub(super) fn name_of(&self, t: &Token<'_>) -> Result<Vec<u8>> {
        name::parse_presentation(t.text, Some(self.origin)).map_err(|source| RdataError::BadName {
            text: lossy(t.text),
            source,
        })
    }

    /// One character-string (RFC 1035 3.3): a length byte and up to 255 bytes.
    pub(super) fn string(&mut self, out: &mut Vec<u8>, what: &'static str) -> Result<()> {
        let t = self.token(what)?;
        let bytes = unescape(t.text)
            .filter(|b| b.len() <= 255)
            .ok_or_else(|| RdataError::BadString(lossy(t.text)))?;
        out.push(bytes.len() as u8);
        out.extend_from_slice(&bytes);
        Ok(())
    }

    /// One or more character-strings to the end (TXT and its kin).
    pub(super) fn strings(&mut self, out: &mut Vec<u8>) -> Result<()> {
        self.string(out, "text")?;
        while self.more() {
            self.string(out, "text")?;
        }
        Ok(())
    }

    fn rest_joined(&mut self) -> Vec<u8> {
        let mut joined = Vec::new();
        for t in self.tokens.get(self.next..).unwrap_or_default() {
            joined.extend_from_slice(t.text);
        }
        self.next = self.tokens.len();
        joined
    }

    pub(super) fn rest_hex(&mut self, out: &mut Vec<u8>) -> Result<()> {
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

    pub(super) fn rest_base64(&mut self, out: &mut Vec<u8>) -> Result<()> {
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

    pub(super) fn salt(&mut self, out: &mut Vec<u8>) -> Result<()> {
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

    /// The type bitmap of NSEC, NSEC3 and CSYNC (RFC 4034 4.1.2) from the remaining
    /// tokens; may be empty.
    pub(super) fn type_bitmap(&mut self, out: &mut Vec<u8>) -> Result<()> {
        let mut codes = Vec::new();
        while self.more() {
            let text = self.text("type")?;
            codes
                .push(type_code_any(text).ok_or_else(|| RdataError::UnknownType(text.to_owned()))?);
        }
        codes.sort_unstable();
        codes.dedup();
        crate::wire::types::encode_bitmap(&codes, out);
        Ok(())
    }
}

/// A decimal number of ASCII digits only (no sign, no blank), at most `max`.
pub(super) fn decimal(text: &[u8], max: u64) -> Option<u64> {
    if text.is_empty() || !text.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(text)
        .ok()?
        .parse::<u64>()
        .ok()
        .filter(|&n| n <= max)
}

/// Base64 made of whole 4-character blocks, padding only at the end.
pub(super) fn base64_blocks(text: &[u8]) -> Result<Vec<u8>> {
    if text.is_empty() || text.len() % 4 != 0 {
        return Err(RdataError::BadEncoding("base64"));
    }
    BASE64
        .decode(text)
        .map_err(|_| RdataError::BadEncoding("base64"))
}

/// Decodes the escapes of a character-string (`\"`, `\DDD`, `\X`).
pub(super) fn unescape(text: &[u8]) -> Option<Vec<u8>> {
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

pub(super) fn lossy(text: &[u8]) -> String {
    String::from_utf8_lossy(text).into_owned()
}

pub(super) fn bad_number(t: &Token<'_>) -> RdataError {
    RdataError::BadNumber(lossy(t.text))
}

/// A `BadItem` error for the text of `t`.
pub(super) fn bad_item(what: &'static str, text: &[u8]) -> RdataError {
    RdataError::BadItem {
        what,
        text: lossy(text),
    }
}
