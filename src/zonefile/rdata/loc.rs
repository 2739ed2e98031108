//! LOC (RFC 1876 section 3):
//! `d1 [m1 [s1]] {N|S} d2 [m2 [s2]] {E|W} alt[m] [siz[m] [hp[m] [vp[m]]]]`.
//!
//! Read as Knot DNS reads it: each part checked on its own (degrees up to 90 or 180,
//! minutes up to 59, seconds below 60 with up to three decimals), metres with up to
//! two decimals, the hemisphere letters in capitals. Absent sizes take the RFC's
//! defaults: size 1 m, horizontal precision 10000 m, vertical precision 10 m.

use super::fields::{bad_item, decimal, Fields};
use super::Result;

/// RFC 1876 2: 2^31 is the equator and the prime meridian.
const EQUATOR: u64 = 1 << 31;
/// RFC 1876 2: altitude is in centimetres above a base 100000 m below the WGS 84 spheroid.
const ALTITUDE_BASE_CM: i64 = 10_000_000;
/// The highest altitude the 32-bit field holds, in centimetres (42849672.95 m).
const MAX_ALTITUDE_CM: i64 = u32::MAX as i64 - ALTITUDE_BASE_CM;
/// The largest size or precision, in centimetres (90000000.00 m, 9e9 cm).
const MAX_SIZE_CM: u64 = 9_000_000_000;
/// Default size: 1 m (RFC 1876 3).
const DEFAULT_SIZE_CM: u64 = 100;
/// Default horizontal precision: 10000 m.
const DEFAULT_HP_CM: u64 = 1_000_000;
/// Default vertical precision: 10 m.
const DEFAULT_VP_CM: u64 = 1_000;

/// Parses LOC RDATA into `out`.
pub(super) fn parse(fields: &mut Fields<'_, '_>, out: &mut Vec<u8>) -> Result<()> {
    let latitude = coordinate(fields, 90, b'N', b'S')?;
    let longitude = coordinate(fields, 180, b'E', b'W')?;
    let t = fields.token("altitude")?;
    let altitude = altitude_cm(t.text).ok_or_else(|| bad_item("LOC altitude", t.text))?;
    let mut sizes = [DEFAULT_SIZE_CM, DEFAULT_HP_CM, DEFAULT_VP_CM];
    for (size, what) in sizes.iter_mut().zip([
        "LOC size",
        "LOC horizontal precision",
        "LOC vertical precision",
    ]) {
        let Some(t) = fields.peek() else { break };
        fields.next += 1;
        *size = metres_cm(t.text)
            .filter(|&cm| cm <= MAX_SIZE_CM)
            .ok_or_else(|| bad_item(what, t.text))?;
    }
    out.push(0); // VERSION
    for size in sizes {
        out.push(size_byte(size));
    }
    out.extend_from_slice(&latitude.to_be_bytes());
    out.extend_from_slice(&longitude.to_be_bytes());
    out.extend_from_slice(&altitude.to_be_bytes());
    Ok(())
}

/// `d [m [s]] H`: thousandths of a second of arc from the equator (or meridian),
/// offset by 2^31.
fn coordinate(fields: &mut Fields<'_, '_>, max_degrees: u64, plus: u8, minus: u8) -> Result<u32> {
    let what = if plus == b'N' {
        "LOC latitude"
    } else {
        "LOC longitude"
    };
    let t = fields.token(what)?;
    let degrees = decimal(t.text, max_degrees).ok_or_else(|| bad_item(what, t.text))?;
    let mut thousandths = degrees * 3_600_000;
    let mut parts = 0;
    loop {
        let t = fields.token(what)?;
        match t.text {
            [h] if *h == plus || *h == minus => {
                let offset = i64::try_from(thousandths).unwrap_or(i64::MAX);
                let signed = if *h == plus { offset } else { -offset };
                let value = i64::try_from(EQUATOR).unwrap_or(i64::MAX) + signed;
                return u32::try_from(value).map_err(|_| bad_item(what, t.text));
            }
            _ if parts == 0 => {
                let minutes = decimal(t.text, 59).ok_or_else(|| bad_item(what, t.text))?;
                thousandths += minutes * 60_000;
            }
            _ if parts == 1 => {
                let seconds = fixed_point(t.text, 3)
                    .filter(|&s| s < 60_000)
                    .ok_or_else(|| bad_item(what, t.text))?;
                thousandths += seconds;
            }
            _ => return Err(bad_item(what, t.text)),
        }
        parts += 1;
    }
}

/// A number with at most `decimals` digits after the point (`12`, `12.`, `12.5`), in
/// units of 10^-decimals.
fn fixed_point(text: &[u8], decimals: u32) -> Option<u64> {
    let (int, frac) = match text.iter().position(|&b| b == b'.') {
        Some(dot) => (text.get(..dot)?, text.get(dot + 1..)?),
        None => (text, &[][..]),
    };
    if frac.len() > decimals as usize || !frac.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let int = decimal(int, u64::from(u32::MAX))?;
    let mut value = int.checked_mul(10u64.pow(decimals))?;
    let mut scale = 10u64.pow(decimals);
    for &d in frac {
        scale /= 10;
        value += u64::from(d - b'0') * scale;
    }
    Some(value)
}

/// Metres with an optional `m` suffix and up to two decimals, in centimetres.
fn metres_cm(text: &[u8]) -> Option<u64> {
    fixed_point(text.strip_suffix(b"m").unwrap_or(text), 2)
}

/// The altitude field: centimetres above the base, from -100000.00 m to 42849672.95 m.
fn altitude_cm(text: &[u8]) -> Option<u32> {
    let (negative, digits) = match text.strip_prefix(b"-") {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let cm = i64::try_from(metres_cm(digits)?).ok()?;
    let cm = if negative { -cm } else { cm };
    if !(-ALTITUDE_BASE_CM..=MAX_ALTITUDE_CM).contains(&cm) {
        return None;
    }
    u32::try_from(cm + ALTITUDE_BASE_CM).ok()
}

/// RFC 1876 2: a size in centimetres as mantissa (high nibble) and power of ten (low
/// nibble), truncated as Knot DNS and BIND truncate it.
fn size_byte(mut cm: u64) -> u8 {
    let mut exponent = 0u8;
    while cm > 9 {
        cm /= 10;
        exponent += 1;
    }
    ((cm as u8) << 4) | (exponent & 0x0f)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::tests::rdata;
    use super::*;

    #[test]
    fn rfc_1876_example_and_defaults() {
        // RFC 1876 appendix A: cambridge-net.kei.com.
        let loc = rdata("LOC", "42 21 54 N 71 06 18 W -24m 30m").unwrap();
        assert_eq!(loc[..4], [0, 0x33, 0x16, 0x13]);
        let lat = EQUATOR as u32 + ((42 * 60 + 21) * 60 + 54) * 1000;
        let lon = EQUATOR as u32 - ((71 * 60 + 6) * 60 + 18) * 1000;
        assert_eq!(loc[4..8], lat.to_be_bytes());
        assert_eq!(loc[8..12], lon.to_be_bytes());
        assert_eq!(loc[12..16], (10_000_000u32 - 2400).to_be_bytes());
        // Defaults: size 1m, hp 10000m, vp 10m.
        let loc = rdata("LOC", "1 N 1 E 0").unwrap();
        assert_eq!(loc[..4], [0, 0x12, 0x16, 0x13]);
        assert_eq!(loc.len(), 16);
        // RFC 1876 appendix A: every field.
        assert!(rdata(
            "LOC",
            "52 22 23.000 N 4 53 32.000 E -2.00m 0.00m 10000m 10m"
        )
        .is_ok());
        assert!(rdata("LOC", "32 7 19 S 116 2 25 E 10m").is_ok());
        assert!(rdata("LOC", "42 21 43.528 N 71 05 06.284 W 12m 1m 3m 0m").is_ok());
    }

    #[test]
    fn size_encoding() {
        assert_eq!(size_byte(0), 0x00);
        assert_eq!(size_byte(1), 0x10);
        assert_eq!(size_byte(100), 0x12);
        assert_eq!(size_byte(3000), 0x33);
        assert_eq!(size_byte(9_000_000_000), 0x99);
        assert_eq!(size_byte(123), 0x12);
    }

    /// Knot DNS's scanner tests (tests/libzscanner/data/42_LOC.in).
    #[test]
    fn knot_accepts() {
        for text in [
            "1 N 1 E 0",
            "0 1 N 1 E 0",
            "0 0 1 N 1 E 0",
            "1 N 0 1 E 0",
            "1 N 0 0 1 E 0m",
            "1 N 1 E 0 1m",
            "1 N 1 E 0 0 1m",
            "1 N 1 E 0 0 0 1m",
            "0 0 0 N 0 0 0 E -100000.00 0 0 0",
            "90 59 59.999 S 180 59 59.999 W 42849672.95m 90000000.00m 90000000.00m 90000000.00m",
            "0 S 0 0 0.001 W 0",
            "0 S 0 0 1.0 W 0",
            "0 S 0 W 0 0.01",
            "0 S 0 W 0 10000000",
        ] {
            assert!(
                rdata("LOC", text).is_ok(),
                "{text}: {:?}",
                rdata("LOC", text)
            );
        }
        assert_eq!(
            rdata("LOC", "\\# 16 00 00 00 00 00000000 00000000 00000000").unwrap(),
            [0; 16]
        );
    }

    #[test]
    fn knot_refuses() {
        for text in [
            "",
            "\\# 0",
            "91 0 0 N 0 0 0 E 0 0 0 0",
            "0 60 0 N 0 0 0 E 0 0 0 0",
            "0 0 60 0 N 0 0 0 E 0 0 0 0",
            "0 0 0 N 181 0 0 E 0 0 0 0",
            "0 0 0 N 0 60 0 E 0 0 0 0",
            "0 0 0 N 0 0 60 E 0 0 0 0",
            "0 0 0 N 0 0 0 E 42849672.96 0 0 0",
            "0 0 0 N 0 0 0 E 42849673 0 0 0",
            "0 0 0 N 0 0 0 E -100000.01 0 0 0",
            "0 0 0 N 0 0 0 E -100001 0 0 0",
            "0 0 0 N 0 0 0 E 0 90000000.01 0 0",
            "0 0 0 N 0 0 0 E 0 90000001 0 0",
            "0 0 0 N 0 0 0 E 0 0 90000001 0",
            "0 0 0 N 0 0 0 E 0 0 0 90000000.01",
            "1 1 E 0",
            "1 x 1 E 0",
            "1 N 1 0",
            "1 N 1 x 0",
            "1 N 1 E",
            "0 0 0 N 0 0 0 E 0 0 0 0 x",
            "1 n 1 e 0",
            "1 N 1 E 0 1.234",
            "1.5 N 1 E 0",
            "1 2 3.4567 N 1 E 0",
        ] {
            assert!(rdata("LOC", text).is_err(), "{text} must be refused");
        }
    }
}
