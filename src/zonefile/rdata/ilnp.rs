//! Identifier and locator formats: the ILNP types NID and L64 (RFC 6742 2.1, 2.3),
//! `preference XXXX:XXXX:XXXX:XXXX`, and EUI48/EUI64 (RFC 7043 3, 4),
//! `xx-xx-xx-xx-xx-xx`. (L32 and LP are an address and a name and live with the
//! simple types.)

use super::fields::{bad_item, Fields};
use super::Result;

/// NID or L64: a preference and 64 bits as four groups of one to four hex digits
/// (`0:0:0:1`, as BIND's `locator_pton` reads them; RFC 6742 writes four).
pub(super) fn locator64(fields: &mut Fields<'_, '_>, out: &mut Vec<u8>) -> Result<()> {
    fields.u16(out, "preference")?;
    let t = fields.token("locator")?;
    let bytes = groups(t.text, b':', 4, 1..=4).ok_or_else(|| bad_item("64-bit locator", t.text))?;
    out.extend_from_slice(&bytes);
    Ok(())
}

/// EUI48 (`len` 6) or EUI64 (`len` 8): bytes as hex pairs joined by `-`.
pub(super) fn eui(fields: &mut Fields<'_, '_>, out: &mut Vec<u8>, len: usize) -> Result<()> {
    let t = fields.token("address")?;
    let what = if len == 6 {
        "EUI-48 address"
    } else {
        "EUI-64 address"
    };
    let bytes = groups(t.text, b'-', len, 2..=2).ok_or_else(|| bad_item(what, t.text))?;
    out.extend_from_slice(&bytes);
    Ok(())
}

/// `count` groups of `digits` hex digits separated by `separator`, as bytes; a
/// group shorter than the longest allowed is a number with its leading zeros left out.
fn groups(
    text: &[u8],
    separator: u8,
    count: usize,
    digits: std::ops::RangeInclusive<usize>,
) -> Option<Vec<u8>> {
    let parts: Vec<&[u8]> = text.split(|&b| b == separator).collect();
    if parts.len() != count {
        return None;
    }
    let width = *digits.end();
    let mut hex = Vec::with_capacity(count * width);
    for part in parts {
        if !digits.contains(&part.len()) || !part.iter().all(u8::is_ascii_hexdigit) {
            return None;
        }
        hex.resize(hex.len() + width - part.len(), b'0');
        hex.extend_from_slice(part);
    }
    data_encoding::HEXLOWER_PERMISSIVE.decode(&hex).ok()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::tests::rdata;

    #[test]
    fn rfc_6742_examples() {
        assert_eq!(
            rdata("NID", "10 0014:4fff:ff20:ee64").unwrap(),
            [0, 10, 0x00, 0x14, 0x4f, 0xff, 0xff, 0x20, 0xee, 0x64]
        );
        assert_eq!(rdata("L64", "10 2001:0DB8:1140:1000").unwrap().len(), 10);
        // BIND's additional/ns1/nid.db: leading zeros may be left out.
        assert_eq!(
            rdata("NID", "2 0:0:0:1").unwrap(),
            [0, 2, 0, 0, 0, 0, 0, 0, 0, 1]
        );
        assert_eq!(
            rdata("L64", "2 000:ab:1:0").unwrap(),
            [0, 2, 0, 0, 0, 0xab, 0, 1, 0, 0]
        );
        assert_eq!(rdata("L32", "10 10.1.2.0").unwrap(), [0, 10, 10, 1, 2, 0]);
        assert_eq!(
            rdata("LP", "10 l64-subnet1.example.com.").unwrap()[..3],
            [0, 10, 11]
        );
        for text in [
            "",
            "\\# 0",
            "0",
            "0 0000:0000:0000",
            "0 0000:0000:0000:0000:0000",
            "0 00000:0000:0000:0000",
            "0 :0000:0000:0000",
            "0 0000-0000-0000-0000",
            "0 000g:0000:0000:0000",
            "65536 0000:0000:0000:0000",
        ] {
            assert!(rdata("NID", text).is_err(), "{text} must be refused");
        }
        assert!(rdata("L32", "10 10.1.2").is_err());
        assert!(rdata("LP", "10").is_err());
    }

    /// RFC 7043 3.2, 4.2 examples and Knot DNS's tests (43_EUI48.in, 44_EUI64.in).
    #[test]
    fn eui_examples() {
        assert_eq!(
            rdata("EUI48", "00-00-5e-00-53-2a").unwrap(),
            [0, 0, 0x5e, 0, 0x53, 0x2a]
        );
        assert_eq!(rdata("EUI64", "00-00-5e-ef-10-00-00-2a").unwrap().len(), 8);
        assert!(rdata("EUI48", "FF-FF-FF-FF-FF-FF").is_ok());
        for text in [
            "",
            "\\# 0",
            "00-00-00-00-00",
            "00-00-00-00-00-00-00",
            "00-00-00-00-00-0",
            "00:00-00-00-00-00",
            "00-00-00-x0-00-00",
            "00-00-00-00-00-00 x",
        ] {
            assert!(rdata("EUI48", text).is_err(), "{text} must be refused");
        }
        assert!(rdata("EUI64", "00-00-5e-00-53-2a").is_err());
    }
}
