//! Record type codes zonal treats specially (RFC 1035 3.2.2 and later RFCs), and the
//! mnemonics of every type.

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

/// Every type with a mnemonic (IANA "Resource Record (RR) TYPEs"), data and meta alike.
const MNEMONICS: &[(u16, &str)] = &[
    (1, "A"),
    (2, "NS"),
    (3, "MD"),
    (4, "MF"),
    (5, "CNAME"),
    (6, "SOA"),
    (7, "MB"),
    (8, "MG"),
    (9, "MR"),
    (10, "NULL"),
    (11, "WKS"),
    (12, "PTR"),
    (13, "HINFO"),
    (14, "MINFO"),
    (15, "MX"),
    (16, "TXT"),
    (17, "RP"),
    (18, "AFSDB"),
    (19, "X25"),
    (20, "ISDN"),
    (21, "RT"),
    (22, "NSAP"),
    (23, "NSAP-PTR"),
    (24, "SIG"),
    (25, "KEY"),
    (26, "PX"),
    (27, "GPOS"),
    (28, "AAAA"),
    (29, "LOC"),
    (30, "NXT"),
    (31, "EID"),
    (32, "NIMLOC"),
    (33, "SRV"),
    (34, "ATMA"),
    (35, "NAPTR"),
    (36, "KX"),
    (37, "CERT"),
    (38, "A6"),
    (39, "DNAME"),
    (40, "SINK"),
    (41, "OPT"),
    (42, "APL"),
    (43, "DS"),
    (44, "SSHFP"),
    (45, "IPSECKEY"),
    (46, "RRSIG"),
    (47, "NSEC"),
    (48, "DNSKEY"),
    (49, "DHCID"),
    (50, "NSEC3"),
    (51, "NSEC3PARAM"),
    (52, "TLSA"),
    (53, "SMIMEA"),
    (55, "HIP"),
    (56, "NINFO"),
    (57, "RKEY"),
    (58, "TALINK"),
    (59, "CDS"),
    (60, "CDNSKEY"),
    (61, "OPENPGPKEY"),
    (62, "CSYNC"),
    (63, "ZONEMD"),
    (64, "SVCB"),
    (65, "HTTPS"),
    (66, "DSYNC"),
    (67, "HHIT"),
    (68, "BRID"),
    (99, "SPF"),
    (100, "UINFO"),
    (101, "UID"),
    (102, "GID"),
    (103, "UNSPEC"),
    (104, "NID"),
    (105, "L32"),
    (106, "L64"),
    (107, "LP"),
    (108, "EUI48"),
    (109, "EUI64"),
    (249, "TKEY"),
    (250, "TSIG"),
    (251, "IXFR"),
    (252, "AXFR"),
    (253, "MAILB"),
    (254, "MAILA"),
    (255, "ANY"),
    (256, "URI"),
    (257, "CAA"),
    (258, "AVC"),
    (259, "DOA"),
    (260, "AMTRELAY"),
    (261, "RESINFO"),
    (262, "WALLET"),
    (32768, "TA"),
    (32769, "DLV"),
];

/// Appends the type bitmap of `codes` (sorted, no duplicates) as NSEC, NSEC3 and
/// CSYNC carry it (RFC 4034 4.1.2): a window block per high byte in use.
pub fn encode_bitmap(codes: &[u16], out: &mut Vec<u8>) {
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
            if let Some(byte) = bitmap.get_mut(low / 8) {
                *byte |= 0x80 >> (low % 8);
            }
            used = low / 8 + 1;
            i += 1;
        }
        out.push(window);
        out.push(used as u8);
        out.extend_from_slice(bitmap.get(..used).unwrap_or_default());
    }
}

/// Whether `code` is a meta type (RFC 6895 3.1: OPT and the range 128-255, where TSIG,
/// AXFR, ANY ... live) or the reserved type 0: a question or a message part, never
/// data in a zone. BIND refuses them all as record types; so does zonal.
pub fn is_meta(code: u16) -> bool {
    code == 0 || code == OPT || (128..=255).contains(&code)
}

/// Resolves a type mnemonic (`A`, `nsec3param`, `TYPE65280`) to its code, meta types
/// included (for type bitmaps and the type fields of RDATA).
pub fn type_code_any(text: &str) -> Option<u16> {
    if let Some(number) = text
        .get(..4)
        .filter(|p| p.eq_ignore_ascii_case("TYPE"))
        .and_then(|_| text.get(4..))
    {
        if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        return number.parse().ok();
    }
    MNEMONICS
        .iter()
        .find(|(_, name)| name.eq_ignore_ascii_case(text))
        .map(|&(code, _)| code)
}

/// Resolves the mnemonic of a record type (`A`, `nsec3param`, `TYPE65280`) to its
/// code. Meta types (OPT, ANY, AXFR, `TYPE255`, ...) are not record types and give
/// `None`.
pub fn type_code(text: &str) -> Option<u16> {
    type_code_any(text).filter(|&code| !is_meta(code))
}

/// The mnemonic of a type code (`A`, `TYPE65280`), for messages and `check-zone`.
pub fn type_name(code: u16) -> String {
    MNEMONICS
        .iter()
        .find(|&&(c, _)| c == code)
        .map_or_else(|| format!("TYPE{code}"), |(_, name)| (*name).to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mnemonics_both_ways() {
        for &(code, name) in MNEMONICS {
            assert_eq!(type_code_any(name), Some(code), "{name}");
            assert_eq!(type_name(code), name);
        }
        assert_eq!(type_code("https"), Some(65));
        assert_eq!(type_code("Type64"), Some(64));
        assert_eq!(type_code("TYPE65536"), None);
        assert_eq!(type_code("TYPE"), None);
        assert_eq!(type_code("TYPE+1"), None);
        assert_eq!(type_name(65280), "TYPE65280");
    }

    #[test]
    fn meta_types_are_not_record_types() {
        for meta in [
            "ANY", "AXFR", "IXFR", "OPT", "TSIG", "TKEY", "MAILA", "MAILB",
        ] {
            assert_eq!(type_code(meta), None, "{meta}");
            assert!(type_code_any(meta).is_some(), "{meta}");
        }
        for meta in ["TYPE0", "TYPE41", "TYPE128", "TYPE255"] {
            assert_eq!(type_code(meta), None, "{meta}");
        }
        assert_eq!(type_code("TYPE127"), Some(127));
        assert_eq!(type_code("TYPE256"), Some(256));
    }
}
