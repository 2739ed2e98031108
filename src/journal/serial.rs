//! SOA serial numbers: RFC 1982 comparison, and how a zone's serial advances on
//! each change (Knot DNS's `serial-policy`).

use serde::Deserialize;

/// How the serial advances.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SerialPolicy {
    /// One more each time.
    #[default]
    Increment,
    /// The time in seconds since the epoch, or one more when that is not newer.
    Unixtime,
    /// YYYYMMDDnn for today, or one more when that is not newer.
    Dateserial,
}

/// Whether `a` is newer than `b` in serial number arithmetic (RFC 1982 3.2).
pub fn is_newer(a: u32, b: u32) -> bool {
    a != b && a.wrapping_sub(b) < 0x8000_0000
}

impl SerialPolicy {
    /// The serial after `current`, at `now` (seconds since the epoch): always newer
    /// than `current` (RFC 1982).
    pub fn next(self, current: u32, now: u64) -> u32 {
        let plus_one = current.wrapping_add(1);
        let candidate = match self {
            SerialPolicy::Increment => return plus_one,
            SerialPolicy::Unixtime => now as u32,
            SerialPolicy::Dateserial => {
                let (y, m, d) = civil_date(now / 86_400);
                (y * 10_000 + m * 100 + d).wrapping_mul(100)
            }
        };
        if is_newer(candidate, current) {
            candidate
        } else {
            plus_one
        }
    }
}

/// The (year, month, day) of a day count since 1970-01-01 (proleptic Gregorian).
fn civil_date(days: u64) -> (u32, u32, u32) {
    // Howard Hinnant's days_from_civil, inverted.
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y as u32, m as u32, d as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc1982_comparison() {
        assert!(is_newer(2, 1));
        assert!(!is_newer(1, 2));
        assert!(!is_newer(5, 5));
        assert!(is_newer(0, u32::MAX), "wraps");
        assert!(is_newer(100, u32::MAX - 100));
        assert!(!is_newer(0x8000_0000, 0), "undefined half-way: not newer");
    }

    #[test]
    fn policies_always_advance() {
        // 2026-11-23 12:00 UTC.
        let now = 1_795_435_200;
        assert_eq!(civil_date(now / 86_400), (2026, 11, 23));
        assert_eq!(civil_date(0), (1970, 1, 1));
        assert_eq!(civil_date(11_016), (2000, 2, 29));
        assert_eq!(SerialPolicy::Increment.next(7, now), 8);
        assert_eq!(SerialPolicy::Increment.next(u32::MAX, now), 0);
        assert_eq!(SerialPolicy::Unixtime.next(7, now), now as u32);
        assert_eq!(SerialPolicy::Unixtime.next(now as u32, now), now as u32 + 1);
        assert_eq!(
            SerialPolicy::Dateserial.next(2_026_010_105, now),
            2_026_112_300
        );
        assert_eq!(
            SerialPolicy::Dateserial.next(2_026_112_300, now),
            2_026_112_301
        );
        assert_eq!(
            SerialPolicy::Dateserial.next(2_027_010_100, now),
            2_027_010_101
        );
    }
}
