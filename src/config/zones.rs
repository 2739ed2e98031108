//! The zones we serve: `zone_dir` (`--zone-dir` over it), the `[[zone]]` tables
//! with a `file`, and the secondary zones (`[[zone]]` with `primaries`). With no
//! zones named anywhere, `zones/` here if there is one, else the built-in copy.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use crate::transfer::client::TransferLimits;
use crate::transfer::secondary::SecondaryZone;
use crate::tsig::keys::KeyRing;
use crate::zonefile::{origin_from_text, zones_in_dir, ZoneSource};

use super::keys::known_key;
use super::transfer_in::zone_limits;
use super::{ConfigError, ConfigFile, Overrides, ZoneEntry};

/// Where zones come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ZoneOrigin {
    /// Zone files on disk.
    Files(Vec<ZoneSource>),
    /// The example zones compiled into the binary (no config, no `zones/` folder here).
    BuiltIn,
}

/// The zone files to serve and the folder watched for more.
#[derive(Debug)]
pub(super) struct ZoneFiles {
    /// The zones: the folder's files, then each `[[zone]]` with a file (one of
    /// the same name in the folder gives way to it).
    pub(super) zones: ZoneOrigin,
    /// The folder whose files are served, watched even when empty.
    pub(super) zone_dir: Option<PathBuf>,
}

/// The primary zones: the files of the zone folder and of `[[zone]]`; the folder
/// is read here. A `[[zone]]` with `primaries` only takes the place of a file of
/// its name (see [`secondary_zones`]).
pub(super) fn zone_files(
    file: &ConfigFile,
    overrides: &Overrides,
    resolve: &dyn Fn(&Path) -> PathBuf,
) -> Result<ZoneFiles, ConfigError> {
    let mut zone_dir = overrides
        .zone_dir
        .clone()
        .or_else(|| file.zone_dir.as_deref().map(resolve));
    let zones = if zone_dir.is_none() && file.zone.is_empty() {
        // No zones named anywhere: zones/ here if there is one, else the built-in copy.
        let here = PathBuf::from("zones");
        if here.is_dir() {
            zone_dir = Some(here.clone());
            ZoneOrigin::Files(zones_in_dir(&here)?)
        } else {
            ZoneOrigin::BuiltIn
        }
    } else {
        let mut sources = match &zone_dir {
            Some(dir) => zones_in_dir(dir)?,
            None => Vec::new(),
        };
        for entry in &file.zone {
            let file_path = entry.file.as_deref().map(resolve);
            let shown = file_path.clone().unwrap_or_else(|| PathBuf::from("config"));
            let origin = origin_from_text(&entry.name, &shown)?;
            sources.retain(|s| s.origin != origin);
            if entry.primaries.is_some() {
                continue; // a secondary zone: see secondary_zones
            }
            if entry.catalog == Some(true) {
                return Err(ConfigError::Invalid {
                    key: "zone.catalog",
                    reason: format!(
                        "'{}': a catalog zone is taken from primaries (zonal's own is [catalog] produce)",
                        entry.name
                    ),
                });
            }
            let Some(file_path) = file_path else {
                return Err(ConfigError::Invalid {
                    key: "zone",
                    reason: format!("'{}' needs a file or primaries", entry.name),
                });
            };
            sources.push(ZoneSource {
                origin,
                file: file_path,
            });
        }
        ZoneOrigin::Files(sources)
    };
    Ok(ZoneFiles { zones, zone_dir })
}

/// The secondary zones: each `[[zone]]` with `primaries`, its key found in `keys`.
/// Their transfer limits are `limits` (the file's) under their own keys.
pub(super) fn secondary_zones(
    entries: &[ZoneEntry],
    keys: &KeyRing,
    limits: TransferLimits,
    resolve: &dyn Fn(&Path) -> PathBuf,
) -> Result<Vec<SecondaryZone>, ConfigError> {
    let mut zones = Vec::new();
    for entry in entries {
        let limits = zone_limits(entry, limits)?;
        if let Some(primaries) = &entry.primaries {
            zones.push(secondary_zone(entry, primaries, keys, limits, resolve)?);
        }
    }
    Ok(zones)
}

/// A `[[zone]]` with `primaries`: at least one, each an address (port 53 when
/// not given); its key one we know.
fn secondary_zone(
    entry: &ZoneEntry,
    primaries: &[String],
    keys: &KeyRing,
    limits: TransferLimits,
    resolve: &dyn Fn(&Path) -> PathBuf,
) -> Result<SecondaryZone, ConfigError> {
    let invalid = |reason: String| ConfigError::Invalid {
        key: "zone.primaries",
        reason,
    };
    let file = entry.file.as_deref().map(resolve);
    let origin = origin_from_text(&entry.name, Path::new("config"))?.to_ascii_lowercase();
    if primaries.is_empty() {
        return Err(invalid(format!("'{}' lists no primary", entry.name)));
    }
    let primaries = primaries
        .iter()
        .map(|p| {
            p.parse::<SocketAddr>()
                .or_else(|_| {
                    p.parse::<std::net::IpAddr>()
                        .map(|ip| SocketAddr::new(ip, 53))
                })
                .map_err(|_| invalid(format!("'{p}' is not an ADDRESS:PORT or an address")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let key = entry
        .key
        .as_deref()
        .map(|name| known_key("zone.key", name, keys).cloned())
        .transpose()?;
    Ok(SecondaryZone {
        origin,
        primaries,
        key,
        file,
        catalog: entry.catalog.unwrap_or(false),
        limits,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::config::load::parse_str as parse;

    #[test]
    fn secondary_zones_need_primaries_or_a_file_and_known_keys() {
        let key =
            "[[key]]\nname = \"xfr-key\"\nalgorithm = \"hmac-sha256\"\nsecret = \"c2VjcmV0\"\n";
        let c = parse(&format!(
            "{key}[[zone]]\nname = \"Example.NET\"\nprimaries = [\"192.0.2.1\", \"[2001:db8::1]:5300\"]\nkey = \"xfr-key\"\n"
        ))
        .unwrap();
        let [secondary] = c.secondaries.as_slice() else {
            panic!("one secondary zone expected")
        };
        assert_eq!(secondary.origin, b"\x07example\x03net\x00");
        assert_eq!(secondary.primaries[0], "192.0.2.1:53".parse().unwrap());
        assert_eq!(secondary.primaries[1].port(), 5300);
        assert_eq!(secondary.key.as_ref().unwrap().display_name(), "xfr-key.");
        assert!(matches!(&c.zones, ZoneOrigin::Files(files) if files.is_empty()));
        assert!(!secondary.catalog);
        let c = parse(
            "[[zone]]\nname = \"cat.example\"\nprimaries = [\"192.0.2.1\"]\ncatalog = true\n",
        )
        .unwrap();
        assert!(c.secondaries[0].catalog, "a catalog to consume");
        for bad in [
            "[[zone]]\nname = \"a\"\nfile = \"a.zone\"\ncatalog = true\n",
            "[[zone]]\nname = \"a\"\n",
            "[[zone]]\nname = \"a\"\nprimaries = []\n",
            "[[zone]]\nname = \"a\"\nprimaries = [\"nowhere\"]\n",
            "[[zone]]\nname = \"a\"\nprimaries = [\"192.0.2.1\"]\nkey = \"nobody\"\n",
        ] {
            assert!(
                matches!(parse(bad), Err(ConfigError::Invalid { .. })),
                "{bad}"
            );
        }
    }
}
