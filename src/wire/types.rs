//! Record type codes zonal treats specially (RFC 1035 3.2.2 and later RFCs), and the
//! mnemonics of every type.

use std::str::FromStr;

use hickory_proto::rr::RecordType;

/// IPv4 address.
pub const A: u16 = 1;
/// Name server.
pub const NS: u16 = 2;
/// Canonical name.
pub const CNAME: u16 = 5;
/// Start of authority.
pub const SOA: u16 = 6;
/// Pointer.
pub const PTR: u16 = 12;
/// Mail exchanger.
pub const MX: u16 = 15;
/// Text.
pub const TXT: u16 = 16;
/// IPv6 address.
pub const AAAA: u16 = 28;
/// Service locator.
pub const SRV: u16 = 33;
/// Delegation name.
pub const DNAME: u16 = 39;
/// EDNS pseudo-record.
pub const OPT: u16 = 41;
/// DNSSEC public key.
pub const DNSKEY: u16 = 48;
/// NSEC3 parameters.
pub const NSEC3PARAM: u16 = 51;
/// Transaction signature (RFC 8945).
pub const TSIG: u16 = 250;
/// Delegation signer.
pub const DS: u16 = 43;
/// Signature.
pub const RRSIG: u16 = 46;
/// Next secure.
pub const NSEC: u16 = 47;
/// NSEC3.
pub const NSEC3: u16 = 50;
/// Zone transfer, incremental.
pub const IXFR: u16 = 251;
/// Zone transfer.
pub const AXFR: u16 = 252;
/// Any type (RFC 8482).
pub const ANY: u16 = 255;

/// Resolves a type mnemonic (`A`, `nsec3param`, `TYPE65280`) to its code. Meta types
/// (OPT, ANY, AXFR, ...) are not record types and give `None`.
pub fn type_code(text: &str) -> Option<u16> {
    let upper = text.to_ascii_uppercase();
    if let Some(number) = upper.strip_prefix("TYPE") {
        return number.parse().ok();
    }
    let extra = match upper.as_str() {
        "SPF" => Some(99),
        "RP" => Some(17),
        "AFSDB" => Some(18),
        "LOC" => Some(29),
        "KX" => Some(36),
        "DHCID" => Some(49),
        "URI" => Some(256),
        "ZONEMD" => Some(63),
        "EUI48" => Some(108),
        "EUI64" => Some(109),
        _ => None,
    };
    if extra.is_some() {
        return extra;
    }
    match RecordType::from_str(&upper).ok()? {
        RecordType::ANY
        | RecordType::AXFR
        | RecordType::IXFR
        | RecordType::OPT
        | RecordType::TSIG => None,
        rtype => Some(u16::from(rtype)),
    }
}

/// The mnemonic of a type code (`A`, `TYPE65280`), for messages and `check-zone`.
pub fn type_name(code: u16) -> String {
    match RecordType::from(code) {
        RecordType::Unknown(_) => format!("TYPE{code}"),
        rtype => rtype.to_string(),
    }
}
