//! Zones coming in: the bounds of one incoming transfer (AXFR, IXFR) of a secondary
//! zone — `transfer_in_max_bytes`, `transfer_in_max_records`,
//! `transfer_in_idle_timeout_secs`, `transfer_in_timeout_secs` — at the top of the
//! file for every secondary zone, and in a `[[zone]]` with `primaries` for that
//! zone (and, for a catalog, its members) over them.

use std::net::IpAddr;
use std::time::Duration;

use crate::transfer::client::{TransferLimits, TransferSource};

use super::{ConfigError, ConfigFile, ZoneEntry};

/// The four keys as one table has them (the file's top, or a `[[zone]]`).
struct LimitKeys {
    /// `transfer_in_max_bytes`.
    max_bytes: Option<u64>,
    /// `transfer_in_max_records`.
    max_records: Option<u64>,
    /// `transfer_in_idle_timeout_secs`.
    idle_secs: Option<u64>,
    /// `transfer_in_timeout_secs`.
    total_secs: Option<u64>,
}

impl LimitKeys {
    /// Whether the table sets none of them.
    fn is_empty(&self) -> bool {
        self.max_bytes.is_none()
            && self.max_records.is_none()
            && self.idle_secs.is_none()
            && self.total_secs.is_none()
    }

    /// `base` with the keys given here over it; each must be at least 1. `zone`
    /// is the `[[zone]]`'s name, `None` for the file's top.
    fn over(
        &self,
        base: TransferLimits,
        zone: Option<&str>,
    ) -> Result<TransferLimits, ConfigError> {
        let (bytes_key, records_key, idle_key, total_key) = match zone {
            None => (
                "transfer_in_max_bytes",
                "transfer_in_max_records",
                "transfer_in_idle_timeout_secs",
                "transfer_in_timeout_secs",
            ),
            Some(_) => (
                "zone.transfer_in_max_bytes",
                "zone.transfer_in_max_records",
                "zone.transfer_in_idle_timeout_secs",
                "zone.transfer_in_timeout_secs",
            ),
        };
        let positive = |key: &'static str, value: Option<u64>| match value {
            Some(0) => Err(ConfigError::Invalid {
                key,
                reason: match zone {
                    Some(name) => format!("'{name}': must be at least 1"),
                    None => "must be at least 1".into(),
                },
            }),
            other => Ok(other),
        };
        let limits = TransferLimits {
            max_bytes: positive(bytes_key, self.max_bytes)?.unwrap_or(base.max_bytes),
            max_records: positive(records_key, self.max_records)?.unwrap_or(base.max_records),
            idle_timeout: positive(idle_key, self.idle_secs)?
                .map_or(base.idle_timeout, Duration::from_secs),
            deadline: positive(total_key, self.total_secs)?
                .map_or(base.deadline, Duration::from_secs),
            source: base.source,
        };
        Ok(limits)
    }
}

/// The limits of every secondary zone: the file's top-level keys over the
/// defaults ([`TransferLimits::default`]).
pub(super) fn global_limits(file: &ConfigFile) -> Result<TransferLimits, ConfigError> {
    let limits = LimitKeys {
        max_bytes: file.transfer_in_max_bytes,
        max_records: file.transfer_in_max_records,
        idle_secs: file.transfer_in_idle_timeout_secs,
        total_secs: file.transfer_in_timeout_secs,
    }
    .over(TransferLimits::default(), None)?;
    Ok(TransferLimits {
        source: transfer_source(file)?,
        ..limits
    })
}

/// `transfer_source`: addresses, at most one IPv4 and one IPv6.
fn transfer_source(file: &ConfigFile) -> Result<TransferSource, ConfigError> {
    let invalid = |reason: String| ConfigError::Invalid {
        key: "transfer_source",
        reason,
    };
    let mut source = TransferSource::default();
    for text in file.transfer_source.iter().flatten() {
        match text.parse::<IpAddr>() {
            Ok(IpAddr::V4(v4)) if source.v4.is_none() => source.v4 = Some(v4),
            Ok(IpAddr::V6(v6)) if source.v6.is_none() => source.v6 = Some(v6),
            Ok(_) => return Err(invalid(format!("'{text}': one address per family"))),
            Err(_) => return Err(invalid(format!("'{text}' is not an address"))),
        }
    }
    Ok(source)
}

/// The limits of the secondary zone `entry`: its own keys over `global`. A zone
/// that is not a secondary takes no transfer, so the keys there are a mistake.
pub(super) fn zone_limits(
    entry: &ZoneEntry,
    global: TransferLimits,
) -> Result<TransferLimits, ConfigError> {
    let keys = LimitKeys {
        max_bytes: entry.transfer_in_max_bytes,
        max_records: entry.transfer_in_max_records,
        idle_secs: entry.transfer_in_idle_timeout_secs,
        total_secs: entry.transfer_in_timeout_secs,
    };
    if entry.primaries.is_none() && !keys.is_empty() {
        return Err(ConfigError::Invalid {
            key: "zone.transfer_in",
            reason: format!(
                "'{}': transfer_in_* limits are for a secondary zone (one with primaries)",
                entry.name
            ),
        });
    }
    keys.over(global, Some(&entry.name))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::config::load::parse_str as parse;

    const ZONE: &str = "[[zone]]\nname = \"example.net\"\nprimaries = [\"192.0.2.1\"]\n";

    #[test]
    fn defaults_then_global_keys_then_the_zone_s_own() {
        let c = parse(ZONE).unwrap();
        assert_eq!(c.secondaries[0].limits, TransferLimits::default());
        let c = parse(&format!(
            "transfer_in_max_bytes = 5000\ntransfer_in_idle_timeout_secs = 3\n{ZONE}transfer_in_max_records = 7\ntransfer_in_idle_timeout_secs = 2\n"
        ))
        .unwrap();
        let limits = c.secondaries[0].limits;
        assert_eq!(
            limits,
            TransferLimits {
                max_bytes: 5000,
                max_records: 7,
                idle_timeout: Duration::from_secs(2),
                deadline: TransferLimits::default().deadline,
                source: TransferSource::default(),
            }
        );
    }

    #[test]
    fn transfer_source_is_one_address_per_family() {
        let c = parse(&format!(
            "transfer_source = [\"192.0.2.7\", \"2001:db8::7\"]\n{ZONE}"
        ))
        .unwrap();
        let source = c.secondaries[0].limits.source;
        assert_eq!(source.v4, Some("192.0.2.7".parse().unwrap()));
        assert_eq!(source.v6, Some("2001:db8::7".parse().unwrap()));
        for bad in ["[\"192.0.2.7\", \"192.0.2.8\"]", "[\"nonsense\"]"] {
            let e = parse(&format!("transfer_source = {bad}\n{ZONE}")).unwrap_err();
            assert!(e.to_string().contains("transfer_source"), "{e}");
        }
    }

    #[test]
    fn zero_and_limits_on_a_primary_zone_are_refused() {
        for bad in [
            format!("transfer_in_max_records = 0\n{ZONE}"),
            format!("{ZONE}transfer_in_timeout_secs = 0\n"),
            "[[zone]]\nname = \"a\"\nfile = \"a.zone\"\ntransfer_in_max_bytes = 10\n".to_owned(),
        ] {
            assert!(
                matches!(parse(&bad), Err(ConfigError::Invalid { .. })),
                "{bad}"
            );
        }
        let e = parse(&format!("{ZONE}transfer_in_timeout_secs = 0\n")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "config: zone.transfer_in_timeout_secs: 'example.net': must be at least 1"
        );
    }
}
