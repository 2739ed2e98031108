//! The older types BIND still reads and old zone files still hold: X25 and ISDN
//! (RFC 1183 3), NSAP (RFC 1706 5), GPOS (RFC 1712 3), WKS (RFC 1035 3.4.2) and NXT
//! (RFC 2535 5.2).
//! Where no RFC says how strict to be, zonal is as strict as BIND's
//! `named-checkzone`.

use data_encoding::HEXLOWER_PERMISSIVE;

use super::fields::{bad_item, decimal, unescape, Fields};
use super::{type_code_any, RdataError, Result};

/// NXT (RFC 2535 5.2): the next name, then the types present as a bitmap of types 1
/// to 127 ("NXT is only specified for types 1..127", as BIND refuses others), bit 0x80
/// of byte 0 for type 0, as long as the highest type needs. A type is a mnemonic or a
/// bare decimal number, as BIND reads it.
pub(super) fn nxt(fields: &mut Fields<'_, '_>, out: &mut Vec<u8>) -> Result<()> {
    fields.name(out, "next name")?;
    let mut bitmap = [0u8; 16];
    let mut highest: Option<u16> = None;
    while fields.more() {
        let text = fields.text("type")?;
        let code = decimal(text.as_bytes(), u16::MAX.into())
            .and_then(|n| u16::try_from(n).ok())
            .or_else(|| type_code_any(text))
            .ok_or_else(|| RdataError::UnknownType(text.to_owned()))?;
        if !(1..=127).contains(&code) {
            return Err(bad_item("NXT type (1 to 127)", text.as_bytes()));
        }
        bitmap[usize::from(code / 8)] |= 0x80 >> (code % 8);
        highest = highest.max(Some(code));
    }
    if let Some(highest) = highest {
        out.extend_from_slice(&bitmap[..usize::from(highest / 8) + 1]);
    }
    Ok(())
}

/// X25: one character-string of at least four digits, the PSDN address (BIND refuses
/// shorter ones).
pub(super) fn x25(fields: &mut Fields<'_, '_>, out: &mut Vec<u8>) -> Result<()> {
    let t = fields.token("PSDN address")?;
    let digits = unescape(t.text)
        .filter(|d| (4..=255).contains(&d.len()) && d.iter().all(u8::is_ascii_digit))
        .ok_or_else(|| bad_item("X25 PSDN address", t.text))?;
    out.push(digits.len() as u8);
    out.extend_from_slice(&digits);
    Ok(())
}

/// ISDN: the ISDN address and an optional subaddress, character-strings.
pub(super) fn isdn(fields: &mut Fields<'_, '_>, out: &mut Vec<u8>) -> Result<()> {
    fields.string(out, "ISDN address")?;
    if fields.more() {
        fields.string(out, "subaddress")?;
    }
    Ok(())
}

/// NSAP: `0x` and an even number of hex digits, dots allowed anywhere for
/// readability (RFC 1706 5).
pub(super) fn nsap(fields: &mut Fields<'_, '_>, out: &mut Vec<u8>) -> Result<()> {
    let t = fields.token("NSAP address")?;
    let bad = || bad_item("NSAP address", t.text);
    let hex: Vec<u8> = t
        .text
        .strip_prefix(b"0x")
        .or_else(|| t.text.strip_prefix(b"0X"))
        .ok_or_else(bad)?
        .iter()
        .copied()
        .filter(|&b| b != b'.')
        .collect();
    if hex.is_empty() {
        return Err(bad());
    }
    out.extend_from_slice(&HEXLOWER_PERMISSIVE.decode(&hex).map_err(|_| bad())?);
    Ok(())
}

/// GPOS: longitude, latitude and altitude as character-strings (BIND checks no
/// more than that).
pub(super) fn gpos(fields: &mut Fields<'_, '_>, out: &mut Vec<u8>) -> Result<()> {
    fields.string(out, "longitude")?;
    fields.string(out, "latitude")?;
    fields.string(out, "altitude")
}

/// WKS: `address protocol service...`, the protocol and services by number or by
/// the common names of `/etc/services`, the services written as a bitmap.
pub(super) fn wks(fields: &mut Fields<'_, '_>, out: &mut Vec<u8>) -> Result<()> {
    let t = fields.token("address")?;
    let addr: std::net::Ipv4Addr = std::str::from_utf8(t.text)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| {
            super::RdataError::BadAddress(String::from_utf8_lossy(t.text).into_owned())
        })?;
    out.extend_from_slice(&addr.octets());
    let t = fields.token("protocol")?;
    let protocol = match t.text.to_ascii_lowercase().as_slice() {
        b"tcp" => 6,
        b"udp" => 17,
        other => {
            decimal(other, u8::MAX.into()).ok_or_else(|| bad_item("WKS protocol", t.text))? as u8
        }
    };
    out.push(protocol);
    let mut bitmap: Vec<u8> = Vec::new();
    while let Some(t) = fields.peek() {
        fields.next += 1;
        let lower = t.text.to_ascii_lowercase();
        let port = SERVICES
            .iter()
            .find(|(name, _)| name.as_bytes() == lower.as_slice())
            .map(|&(_, port)| u64::from(port))
            .or_else(|| decimal(&lower, u16::MAX.into()))
            .ok_or_else(|| bad_item("WKS service", t.text))? as usize;
        if bitmap.len() <= port / 8 {
            bitmap.resize(port / 8 + 1, 0);
        }
        if let Some(byte) = bitmap.get_mut(port / 8) {
            *byte |= 0x80 >> (port % 8);
        }
    }
    out.extend_from_slice(&bitmap);
    Ok(())
}

/// Service names found in old WKS records, with their ports (IANA, `/etc/services`).
const SERVICES: &[(&str, u16)] = &[
    ("echo", 7),
    ("discard", 9),
    ("systat", 11),
    ("daytime", 13),
    ("netstat", 15),
    ("chargen", 19),
    ("ftp-data", 20),
    ("ftp", 21),
    ("ssh", 22),
    ("telnet", 23),
    ("smtp", 25),
    ("time", 37),
    ("nameserver", 42),
    ("whois", 43),
    ("domain", 53),
    ("bootps", 67),
    ("bootpc", 68),
    ("tftp", 69),
    ("gopher", 70),
    ("finger", 79),
    ("http", 80),
    ("www", 80),
    ("kerberos", 88),
    ("pop2", 109),
    ("pop3", 110),
    ("sunrpc", 111),
    ("auth", 113),
    ("sftp", 115),
    ("nntp", 119),
    ("ntp", 123),
    ("netbios-ns", 137),
    ("netbios-dgm", 138),
    ("netbios-ssn", 139),
    ("imap", 143),
    ("imap2", 143),
    ("snmp", 161),
    ("snmp-trap", 162),
    ("xdmcp", 177),
    ("bgp", 179),
    ("irc", 194),
    ("ldap", 389),
    ("https", 443),
    ("microsoft-ds", 445),
    ("kpasswd", 464),
    ("submissions", 465),
    ("syslog", 514),
    ("printer", 515),
    ("submission", 587),
    ("ldaps", 636),
    ("domain-s", 853),
    ("rsync", 873),
    ("imaps", 993),
    ("pop3s", 995),
];

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::tests::rdata;

    /// BIND's tsig/ns1/example.db records.
    #[test]
    fn nxt_as_bind_reads_it() {
        let got = rdata("NXT", "a.secure ( NS SOA MX SIG KEY LOC NXT )").unwrap();
        let name_len = b"\x01a\x06secure\x07example\x00".len();
        // NS 2, SOA 6, MX 15, SIG 24, KEY 25, LOC 29, NXT 30.
        assert_eq!(got[name_len..], [0x22, 0x01, 0x00, 0xc6]);
        assert_eq!(rdata("NXT", ". ( NSAP-PTR NXT )").unwrap(), [0, 0, 0, 1, 2]);
        assert_eq!(rdata("NXT", ". A").unwrap(), [0, 0x40]);
        let top = rdata("NXT", ". 127").unwrap();
        assert_eq!((top.len(), top[16]), (17, 1));
        assert_eq!(rdata("NXT", ".").unwrap(), [0]);
        for bad in [". 128", ". 0", ". AAAAA", ". TYPE300"] {
            assert!(rdata("NXT", bad).is_err(), "{bad}");
        }
    }

    /// RFC 1183 3.1, 3.2 examples; short or non-digit X25 refused as BIND does.
    #[test]
    fn x25_and_isdn() {
        assert_eq!(rdata("X25", "311061700956").unwrap(), b"\x0c311061700956");
        assert_eq!(
            rdata("X25", "\"311061700956\"").unwrap(),
            b"\x0c311061700956"
        );
        for text in ["", "\\# 0", "\"31106170095a\"", "123", "\"\"", "1234 5678"] {
            assert!(rdata("X25", text).is_err(), "{text} must be refused");
        }
        assert_eq!(
            rdata("ISDN", "150862028003217 004").unwrap(),
            b"\x0f150862028003217\x03004"
        );
        assert_eq!(
            rdata("ISDN", "\"150862028003217\"").unwrap(),
            b"\x0f150862028003217"
        );
        assert!(rdata("ISDN", "").is_err());
        assert!(rdata("ISDN", "a b c").is_err());
    }

    /// RFC 1706 5 examples.
    #[test]
    fn nsap() {
        let want = data_encoding::HEXLOWER
            .decode(b"47000580005a0000000001e133ffffff00016100")
            .unwrap();
        assert_eq!(
            rdata("NSAP", "0x47.0005.80.005a00.0000.0001.e133.ffffff000161.00").unwrap(),
            want
        );
        assert_eq!(
            rdata("NSAP", "0x47000580005a0000000001e133ffffff00016100").unwrap(),
            want
        );
        assert_eq!(rdata("NSAP", "0x47..00").unwrap(), [0x47, 0]);
        for text in ["47000580005a", "0x4", "0x", "0x.", "0xzz", ""] {
            assert!(rdata("NSAP", text).is_err(), "{text} must be refused");
        }
        assert_eq!(rdata("NSAP-PTR", "foo.").unwrap(), b"\x03foo\x00");
    }

    /// RFC 1712 3 and RFC 2163 4 examples.
    #[test]
    fn gpos_px_and_mail_types() {
        assert_eq!(
            rdata("GPOS", "-32.6882 116.8652 10.0").unwrap(),
            b"\x08-32.6882\x08116.8652\x0410.0"
        );
        assert!(rdata("GPOS", "\"-32.6882\" \"116.8652\"").is_err());
        assert!(rdata("PX", "10 net2.it. PRMD-net2.ADMD-p400.C-it.").is_ok());
        assert!(rdata("PX", "10 net2.it.").is_err());
        assert_eq!(
            rdata("MINFO", "a b").unwrap(),
            b"\x01a\x07example\x00\x01b\x07example\x00"
        );
        assert!(rdata("MINFO", "\\# 0").is_err());
        assert_eq!(rdata("MB", "a.").unwrap(), b"\x01a\x00");
        assert_eq!(rdata("MG", "a.").unwrap(), b"\x01a\x00");
        assert_eq!(rdata("MR", "a.").unwrap(), b"\x01a\x00");
        assert_eq!(rdata("RT", "1 a.").unwrap(), b"\x00\x01\x01a\x00");
        assert!(rdata("MB", "").is_err());
    }

    /// RFC 1035 3.4.2; the names BIND takes from /etc/services.
    #[test]
    fn wks() {
        assert_eq!(
            rdata("WKS", "192.0.2.1 6 0 7").unwrap(),
            [192, 0, 2, 1, 6, 0x81]
        );
        let named = rdata("WKS", "192.0.2.1 tcp smtp domain").unwrap();
        assert_eq!(named, rdata("WKS", "192.0.2.1 TCP 25 53").unwrap());
        assert_eq!(named.len(), 5 + 7);
        assert_eq!(rdata("WKS", "192.0.2.1 udp").unwrap(), [192, 0, 2, 1, 17]);
        for text in [
            "",
            "192.0.2.1",
            "192.0.2.1 tcp bogus",
            "192.0.2.1 xtp 25",
            "192.0.2.1 6 65536",
        ] {
            assert!(rdata("WKS", text).is_err(), "{text} must be refused");
        }
    }
}
