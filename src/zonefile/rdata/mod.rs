//! RDATA in presentation form → wire format, one arm per record type.
//!
//! Every type Knot DNS's zone scanner reads in presentation form is read here, with
//! the same strictness, plus the older types BIND still reads (MB, MG, MR, MINFO, X25,
//! ISDN, NSAP, NSAP-PTR, PX, GPOS, SIG, ...). The simple types are parsed in this
//! file; those with a grammar of their own have a module each: [`svcb`] (SVCB and
//! HTTPS, RFC 9460), [`loc`] (LOC, RFC 1876), [`apl`] (APL, RFC 3123), [`keys`]
//! (CERT, IPSECKEY, HIP), [`ilnp`] (NID, L32, L64, LP, EUI48, EUI64) and [`legacy`]
//! (the RFC 1183/1706/2163 types). [`fields`] is the token cursor they share.
//!
//! Any type, known or not, is accepted in the RFC 3597 generic form `\# LEN HEX`,
//! except `\# 0` for a type whose data cannot be empty (as Knot DNS refuses it).
//! Names inside the data are written uncompressed; which of them the wire writer
//! compresses is its business (RFC 3597 section 4).

mod apl;
mod fields;
mod ilnp;
mod keys;
mod legacy;
mod loc;
mod svcb;

use std::net::{Ipv4Addr, Ipv6Addr};

use data_encoding::BASE32HEX_NOPAD;

use self::fields::{bad_number, lossy, unescape, Fields};
use super::lexer::Token;
use crate::wire::message::{check_uncompressed_rdata, Malformed};
use crate::wire::name::NameError;

/// Record type codes, shared with the wire layer.
pub(super) use crate::wire::types;
pub(super) use crate::wire::types::{type_code, type_code_any, type_name};

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
    /// A field with a syntax of its own that does not follow it (an APL item, a LOC
    /// coordinate, an EUI-48, a certificate type, ...).
    #[error("bad {what} '{text}'")]
    BadItem {
        /// Which field.
        what: &'static str,
        /// The text as written.
        text: String,
    },
    /// A SvcParam of SVCB or HTTPS that is malformed (RFC 9460 appendix A).
    #[error("bad SvcParam '{param}': {reason}")]
    BadSvcParam {
        /// The parameter as written.
        param: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A SvcParamKey given twice (RFC 9460 2.2: "SvcParamKeys SHALL appear in
    /// increasing numeric order" with no repeats).
    #[error("SvcParamKey '{0}' appears more than once")]
    DuplicateSvcParam(String),
    /// A key listed in `mandatory` that the record does not have (RFC 9460 8).
    #[error("key '{0}' is listed in mandatory but not present")]
    MissingMandatory(String),
    /// The RFC 3597 length disagrees with the data.
    #[error("\\# length {declared} but {actual} bytes of data")]
    GenericLength {
        /// Length given.
        declared: usize,
        /// Bytes found.
        actual: usize,
    },
    /// Generic data of the wrong size for a fixed-size type (A, AAAA).
    #[error("{actual} bytes of data where this type has {size}")]
    WrongSize {
        /// The type's size.
        size: usize,
        /// Bytes found.
        actual: usize,
    },
    /// RFC 3597 data that does not read as RDATA of its (known) type.
    #[error("\\# data does not read as this type's RDATA at byte {0} (names must be uncompressed and end at the root, fields must have their length)")]
    BadGeneric(usize),
    /// `\# 0` for a type whose data cannot be empty.
    #[error("empty data (\\# 0) is not valid for this type")]
    EmptyGeneric,
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
    // BIND: in a TXT record, `\#` not followed by a number is an escaped `#`.
    let txt_hash = rtype == types::TXT
        && tokens
            .get(1)
            .is_none_or(|t| fields::decimal(t.text, u64::MAX).is_none());
    if !txt_hash
        && tokens
            .first()
            .is_some_and(|t| !t.quoted && t.text == b"\\#")
    {
        fields.next = 1;
        generic(&mut fields, out)?;
        return check_data_of_type(rtype, out, origin);
    }
    presentation(rtype, &mut fields, out)?;
    if let Some(extra) = fields.peek() {
        return Err(RdataError::Extra(lossy(extra.text)));
    }
    if out.len() > usize::from(u16::MAX) {
        return Err(RdataError::TooLong);
    }
    Ok(())
}

/// RFC 3597 5: data of a known type in the generic form must read as that type's
/// RDATA, "all further processing" treating it "as a known type": the checker that
/// UPDATE and transfers in use ([`check_uncompressed_rdata`]), with every name
/// uncompressed — `x NS \# 2 c00c` would be served as a compression pointer. What
/// passes is the wire form the presentation form gives, so it is stored as it is.
/// What RDATA of `rtype` in wire form (names uncompressed) must be for a zone file
/// to take it: the checks of RFC 3597 `\# LEN HEX` data, also for RDATA from the
/// network (an UPDATE, a transfer in), so that what is taken saves as a zone file
/// that loads again. Empty data only for the types that may be empty; data of a
/// fixed size of that size (as BIND checks: an A of five bytes would be served
/// malformed); the layout the type's RDATA has.
pub fn check_data_of_type(rtype: u16, rdata: &[u8], origin: &[u8]) -> Result<()> {
    if rdata.is_empty() && !may_be_empty(rtype, origin) {
        return Err(RdataError::EmptyGeneric);
    }
    let fixed = match rtype {
        types::A => Some(4),
        types::AAAA => Some(16),
        _ => None,
    };
    if let Some(size) = fixed.filter(|&size| rdata.len() != size) {
        return Err(RdataError::WrongSize {
            size,
            actual: rdata.len(),
        });
    }
    check_generic(rtype, rdata)
}

fn check_generic(rtype: u16, rdata: &[u8]) -> Result<()> {
    check_uncompressed_rdata(rtype, rdata).map_err(|Malformed(at)| RdataError::BadGeneric(at))
}

/// Whether data of `rtype` may be empty: for the types zonal reads only in generic
/// form (unknown ones, NULL), and for those whose presentation form may be empty
/// (APL). Found by reading no tokens in presentation form.
fn may_be_empty(rtype: u16, origin: &[u8]) -> bool {
    let mut none = Fields {
        tokens: &[],
        next: 0,
        origin,
    };
    matches!(
        presentation(rtype, &mut none, &mut Vec::new()),
        Ok(()) | Err(RdataError::GenericOnly)
    )
}

/// The presentation form of `rtype`, field by field.
fn presentation(rtype: u16, fields: &mut Fields<'_, '_>, out: &mut Vec<u8>) -> Result<()> {
    match rtype {
        types::A => address4(fields, out)?,
        types::AAAA => {
            let text = fields.text("address")?;
            let addr: Ipv6Addr = text.parse().map_err(|_| RdataError::BadAddress(text.to_owned()))?;
            out.extend_from_slice(&addr.octets());
        }
        types::NS | types::CNAME | types::PTR | types::DNAME => fields.name(out, "target")?,
        7 /* MB */ | 8 /* MG */ | 9 /* MR */ | 23 /* NSAP-PTR */ => fields.name(out, "name")?,
        types::MX | 36 /* KX */ | 18 /* AFSDB */ | 21 /* RT */ | 107 /* LP */ => {
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
        types::TXT | 99 /* SPF */ | 56 /* NINFO */ | 258 /* AVC */ | 261 /* RESINFO */
        | 262 /* WALLET */ => fields.strings(out)?,
        13 /* HINFO */ => {
            fields.string(out, "cpu")?;
            fields.string(out, "os")?;
        }
        14 /* MINFO */ => {
            fields.name(out, "rmailbx")?;
            fields.name(out, "emailbx")?;
        }
        17 /* RP */ => {
            fields.name(out, "mbox")?;
            fields.name(out, "txt")?;
        }
        58 /* TALINK */ => {
            fields.name(out, "previous")?;
            fields.name(out, "next")?;
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
        types::DS | 59 /* CDS */ | 32768 /* TA */ | 32769 /* DLV */ => {
            fields.u16(out, "key tag")?;
            fields.algorithm(out)?;
            fields.u8(out, "digest type")?;
            fields.rest_hex(out)?;
        }
        48 /* DNSKEY */ | 60 /* CDNSKEY */ | 25 /* KEY */ | 57 /* RKEY */ => {
            fields.u16(out, "flags")?;
            fields.u8(out, "protocol")?;
            fields.algorithm(out)?;
            fields.rest_base64(out)?;
        }
        types::RRSIG | 24 /* SIG */ => {
            fields.rtype(out, "type covered")?;
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
        49 /* DHCID */ => fields.rest_base64(out)?,
        62 /* CSYNC */ => {
            // RFC 7477 2.1: SOA serial, flags, type bitmap (which may be empty).
            fields.u32(out, "SOA serial")?;
            fields.u16(out, "flags")?;
            fields.type_bitmap(out)?;
        }
        63 /* ZONEMD */ => {
            fields.u32(out, "serial")?;
            fields.u8(out, "scheme")?;
            fields.u8(out, "hash algorithm")?;
            fields.rest_hex(out)?;
        }
        66 /* DSYNC */ => {
            // draft-ietf-dnsop-generalized-notify: RRtype, scheme, port, target.
            fields.rtype(out, "type")?;
            let t = fields.token("scheme")?;
            let scheme = if t.text.eq_ignore_ascii_case(b"NOTIFY") {
                1
            } else {
                fields::decimal(t.text, u8::MAX.into()).ok_or_else(|| fields::bad_item("DSYNC scheme", t.text))? as u8
            };
            out.push(scheme);
            fields.u16(out, "port")?;
            fields.name(out, "target")?;
        }
        100 /* UINFO */ => fields.string(out, "text")?,
        101 /* UID */ | 102 /* GID */ => fields.u32(out, "id")?,
        64 /* SVCB */ | 65 /* HTTPS */ => svcb::parse(fields, out)?,
        29 /* LOC */ => loc::parse(fields, out)?,
        42 /* APL */ => apl::parse(fields, out)?,
        37 /* CERT */ => keys::cert(fields, out)?,
        45 /* IPSECKEY */ => keys::ipseckey(fields, out)?,
        55 /* HIP */ => keys::hip(fields, out)?,
        104 /* NID */ | 106 /* L64 */ => ilnp::locator64(fields, out)?,
        105 /* L32 */ => {
            fields.u16(out, "preference")?;
            address4(fields, out)?;
        }
        108 /* EUI48 */ => ilnp::eui(fields, out, 6)?,
        109 /* EUI64 */ => ilnp::eui(fields, out, 8)?,
        19 /* X25 */ => legacy::x25(fields, out)?,
        20 /* ISDN */ => legacy::isdn(fields, out)?,
        22 /* NSAP */ => legacy::nsap(fields, out)?,
        26 /* PX */ => {
            // RFC 2163 4: preference, MAP822, MAPX400.
            fields.u16(out, "preference")?;
            fields.name(out, "map822")?;
            fields.name(out, "mapx400")?;
        }
        27 /* GPOS */ => legacy::gpos(fields, out)?,
        11 /* WKS */ => legacy::wks(fields, out)?,
        30 /* NXT */ => legacy::nxt(fields, out)?,
        // draft-ietf-drip-registries: a base64 blob, as BIND 9.18 reads it.
        67 /* HHIT */ | 68 /* BRID */ => fields.rest_base64(out)?,
        _ => return Err(RdataError::GenericOnly),
    }
    Ok(())
}

/// A dotted-quad IPv4 address.
fn address4(fields: &mut Fields<'_, '_>, out: &mut Vec<u8>) -> Result<()> {
    let text = fields.text("address")?;
    let addr: Ipv4Addr = text
        .parse()
        .map_err(|_| RdataError::BadAddress(text.to_owned()))?;
    out.extend_from_slice(&addr.octets());
    Ok(())
}

/// RFC 3597 section 5: `\# LEN HEX...`.
fn generic(fields: &mut Fields<'_, '_>, out: &mut Vec<u8>) -> Result<()> {
    let t = fields.token("length")?;
    let declared = fields::decimal(t.text, u16::MAX.into()).ok_or_else(|| bad_number(&t))? as usize;
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::zonefile::lexer::Lexer;

    const ORIGIN: &[u8] = b"\x07example\x00";

    pub(super) fn rdata(rtype: &str, text: &str) -> Result<Vec<u8>> {
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
        // BIND's unknown/ns1/example-in.db: `\#` not before a number is a `#`.
        assert_eq!(rdata("TXT", "\\# text").unwrap(), b"\x01#\x04text");
        assert_eq!(rdata("TXT", "\\#").unwrap(), b"\x01#");
        assert_eq!(rdata("TXT", "\\# 2 0145").unwrap(), b"\x01E");
        assert!(rdata("SPF", "\\# text").is_err());
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
            rdata("A", "\\# 5 0a00000100"),
            Err(RdataError::WrongSize { size: 4, actual: 5 })
        ));
        assert!(matches!(
            rdata("TYPE65280", "\\# 3 0a000001"),
            Err(RdataError::GenericLength {
                declared: 3,
                actual: 4
            })
        ));
        assert_eq!(rdata("TYPE65280", "1 2"), Err(RdataError::GenericOnly));
    }

    /// RFC 3597 data of a known type reads as that type, names uncompressed (as
    /// `named-checkzone` decides: "disallowed (by application policy)" for a
    /// pointer, "unexpected end of input" for a name cut short, "extra input data"
    /// past it); valid data is the same bytes the presentation form gives.
    #[test]
    fn generic_data_of_a_known_type_must_read_as_that_type() {
        for (rtype, generic, presentation) in [
            ("NS", "\\# 12 026e73076578616d706c6500", "ns.example."),
            ("NS", "\\# 1 00", "."),
            ("MX", "\\# 3 000a00", "10 ."),
            ("CNAME", "\\# 3 016100", "a."),
            ("SRV", "\\# 7 00010002003500", "1 2 53 ."),
            ("TXT", "\\# 3 02 6869", "hi"),
        ] {
            assert_eq!(
                rdata(rtype, generic).unwrap(),
                rdata(rtype, presentation).unwrap(),
                "{rtype} {generic}"
            );
        }
        for (rtype, generic) in [
            ("NS", "\\# 2 c00c"),
            ("MX", "\\# 4 000ac000"),
            ("CNAME", "\\# 5 0141c00c00"),
            ("NS", "\\# 6 016103636f6d"),
            ("NS", "\\# 5 026e7300ff"),
            ("NS", "\\# 4 01410100"),
            ("SOA", "\\# 3 000000"),
            ("TXT", "\\# 1 05"),
            ("TYPE2", "\\# 2 c00c"),
        ] {
            assert!(
                matches!(rdata(rtype, generic), Err(RdataError::BadGeneric(_))),
                "{rtype} {generic}: {:?}",
                rdata(rtype, generic)
            );
        }
        // A type zonal knows only generically is taken as it is.
        assert_eq!(rdata("TYPE65280", "\\# 2 c00c").unwrap(), [0xc0, 0x0c]);
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
