//! APL (RFC 3123 section 5): a list, maybe empty, of `[!]afi:address/prefix` items.
//!
//! On the wire each item is ADDRESSFAMILY, PREFIX, N|AFDLENGTH and the address with
//! its trailing zero bytes left out (RFC 3123 4.1). Families 1 (IPv4) and 2 (IPv6)
//! only, as Knot DNS reads it.

use std::net::{Ipv4Addr, Ipv6Addr};

use super::fields::{bad_item, decimal, Fields};
use super::Result;

/// Parses APL RDATA into `out`; no items is an empty list.
pub(super) fn parse(fields: &mut Fields<'_, '_>, out: &mut Vec<u8>) -> Result<()> {
    while let Some(t) = fields.peek() {
        fields.next += 1;
        item(t.text, out).ok_or_else(|| bad_item("APL item", t.text))?;
    }
    Ok(())
}

/// One `[!]afi:address/prefix`.
fn item(text: &[u8], out: &mut Vec<u8>) -> Option<()> {
    let (negated, text) = match text.strip_prefix(b"!") {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let colon = text.iter().position(|&b| b == b':')?;
    let slash = text.iter().rposition(|&b| b == b'/')?;
    let family = decimal(text.get(..colon)?, u16::MAX.into())? as u16;
    let address = std::str::from_utf8(text.get(colon + 1..slash)?).ok()?;
    let prefix = decimal(text.get(slash + 1..)?, u8::MAX.into())? as u8;
    let mut bytes = match family {
        1 if prefix <= 32 => address.parse::<Ipv4Addr>().ok()?.octets().to_vec(),
        2 if prefix <= 128 => address.parse::<Ipv6Addr>().ok()?.octets().to_vec(),
        _ => return None,
    };
    // RFC 3123 4.1: "trailing zero octets ... MUST NOT be sent".
    while bytes.last() == Some(&0) {
        bytes.pop();
    }
    out.extend_from_slice(&family.to_be_bytes());
    out.push(prefix);
    out.push(u8::from(negated) << 7 | bytes.len() as u8);
    out.extend_from_slice(&bytes);
    Some(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::tests::rdata;

    #[test]
    fn rfc_3123_examples() {
        // RFC 3123 6: foo.example. IN APL 1:192.168.32.0/21 !1:192.168.38.0/28
        assert_eq!(
            rdata("APL", "1:192.168.32.0/21 !1:192.168.38.0/28").unwrap(),
            [0, 1, 21, 3, 192, 168, 32, 0, 1, 28, 0x83, 192, 168, 38]
        );
        assert_eq!(
            rdata("APL", "1:224.0.0.0/4 2:FF00:0:0:0:0:0:0:0/8").unwrap(),
            [0, 1, 4, 1, 224, 0, 2, 8, 1, 0xff]
        );
        assert_eq!(rdata("APL", "").unwrap(), [] as [u8; 0]);
        assert_eq!(rdata("APL", "\\# 0").unwrap(), [] as [u8; 0]);
        assert_eq!(rdata("APL", "1:0.0.0.0/0").unwrap(), [0, 1, 0, 0]);
    }

    /// Knot DNS's scanner tests (tests/libzscanner/data/32_APL.in).
    #[test]
    fn knot_cases() {
        for text in [
            "1:255.255.255.255/32",
            "1:255.255.255.255/30",
            "2:::/0",
            "2:0::0/128",
            "2:FFFF:FFFF:FFFF::/2",
            "!1:0.0.0.0/0",
            "1:0.0.0.0/0 1:255.255.255.255/32",
        ] {
            assert!(rdata("APL", text).is_ok(), "{text}");
        }
        for text in [
            "0:0.0.0.0/32",
            "x:0.0.0.0/32",
            "!x:0.0.0.0/32",
            "2:0.0.0.0/32",
            "1:0::0/32",
            "1:0.0.0.0/33",
            "2:0::0/129",
            "2::/0",
            "2:0::0/x",
            "1:0.0.0.0/",
        ] {
            assert!(rdata("APL", text).is_err(), "{text} must be refused");
        }
    }
}
