//! Dynamic updates: who may update what (`allow_update`, `[[update]]`), how
//! serials advance, where journals and saved zones go, and the online signing
//! of signed zones (`[signing]`, `--key-dir`).

use std::path::{Path, PathBuf};

use crate::journal::JournalLimits;
use crate::sign::{SignatureTiming, ZoneKeys};
use crate::tsig::keys::KeyRing;
use crate::update::policy::{NameScope, UpdatePolicy, UpdateRule};
use crate::update::updater::UpdateSettings;

use super::values::{name_wire, networks, zone_names};
use super::{ConfigError, ConfigFile, Overrides};

/// Default state folder, relative to the working directory.
pub const DEFAULT_STATE_DIR: &str = "zonal-state";
/// Default changes kept in a journal after its zone is saved.
pub const DEFAULT_JOURNAL_KEEP: usize = 1000;
/// Default bytes a journal may grow to before its zone is saved at once.
pub const DEFAULT_JOURNAL_MAX_BYTES: u64 = 1 << 20;
/// The smallest `journal_max_bytes` taken: below it a zone would be saved for
/// nearly every change.
const MIN_JOURNAL_MAX_BYTES: u64 = 4096;
/// Default seconds between saves of a changed zone.
pub const DEFAULT_ZONE_SAVE_SECS: u64 = 300;

/// Update rules and journal settings from the file and the flags; the keys the
/// rules name must be in `ring`, which the settings then hold.
pub(super) fn update_settings(
    file: &ConfigFile,
    overrides: &Overrides,
    ring: KeyRing,
    resolve: &dyn Fn(&Path) -> PathBuf,
) -> Result<UpdateSettings, ConfigError> {
    let invalid = |key: &'static str, reason: String| ConfigError::Invalid { key, reason };
    let key_name = |key: &'static str, name: &str| -> Result<Vec<u8>, ConfigError> {
        ring.by_name(
            &name_wire(name).ok_or_else(|| invalid(key, format!("bad key name '{name}'")))?,
        )
        .map(|k| k.name.clone())
        .ok_or_else(|| {
            invalid(
                key,
                format!(
                    "no key '{name}' (give it with --tsig-key FILE, tsig_key_files or [[key]])"
                ),
            )
        })
    };
    let mut rules = Vec::new();
    for name in file
        .allow_update
        .iter()
        .flatten()
        .chain(&overrides.allow_update)
    {
        rules.push(UpdateRule::everything(key_name("allow_update", name)?));
    }
    for entry in &file.update {
        let zones = entry
            .zones
            .as_deref()
            .map(|list| zone_names("update", list))
            .transpose()?;
        let networks = entry
            .networks
            .as_deref()
            .map(|list| networks("update", list))
            .transpose()?;
        let names = match (&entry.name, &entry.subdomain) {
            (None, None) => NameScope::Zone,
            (Some(n), None) => NameScope::Name(
                name_wire(n).ok_or_else(|| invalid("update", format!("bad name '{n}'")))?,
            ),
            (None, Some(n)) => NameScope::Subdomain(
                name_wire(n).ok_or_else(|| invalid("update", format!("bad name '{n}'")))?,
            ),
            (Some(_), Some(_)) => {
                return Err(invalid("update", "give name or subdomain, not both".into()))
            }
        };
        let types = entry
            .types
            .as_ref()
            .map(|list| {
                list.iter()
                    .map(|t| {
                        crate::wire::types::type_code(t)
                            .ok_or_else(|| invalid("update", format!("unknown type '{t}'")))
                    })
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()?;
        rules.push(UpdateRule {
            key: key_name("update", &entry.key)?,
            zones,
            networks,
            names,
            types,
        });
    }
    let state_dir = overrides
        .state_dir
        .clone()
        .or_else(|| file.state_dir.as_deref().map(resolve))
        .unwrap_or_else(|| PathBuf::from(DEFAULT_STATE_DIR));
    let save_secs = file.zone_save_secs.unwrap_or(DEFAULT_ZONE_SAVE_SECS);
    if save_secs == 0 {
        return Err(invalid("zone_save_secs", "must be at least 1".into()));
    }
    let max_bytes = file.journal_max_bytes.unwrap_or(DEFAULT_JOURNAL_MAX_BYTES);
    if max_bytes < MIN_JOURNAL_MAX_BYTES {
        return Err(invalid(
            "journal_max_bytes",
            format!("must be at least {MIN_JOURNAL_MAX_BYTES}"),
        ));
    }
    let signing = signing_keys(file, overrides, resolve)?;
    Ok(UpdateSettings {
        signing,
        keys: ring,
        policy: UpdatePolicy { rules },
        serial_policy: file.serial_policy.unwrap_or_default(),
        state_dir,
        journal: JournalLimits {
            keep: file.journal_keep.unwrap_or(DEFAULT_JOURNAL_KEEP),
            max_bytes,
        },
        save_interval: std::time::Duration::from_secs(save_secs),
    })
}

/// The private DNSSEC keys of `[signing]` / `--key-dir`, with the signature timing.
fn signing_keys(
    file: &ConfigFile,
    overrides: &Overrides,
    resolve: &dyn Fn(&Path) -> PathBuf,
) -> Result<ZoneKeys, ConfigError> {
    let table = file.signing.clone().unwrap_or_default();
    let defaults = SignatureTiming::default();
    let timing = SignatureTiming {
        lifetime_secs: table.rrsig_lifetime_secs.unwrap_or(defaults.lifetime_secs),
        refresh_secs: table.rrsig_refresh_secs.unwrap_or(defaults.refresh_secs),
        ..defaults
    };
    if timing.refresh_secs == 0 || timing.refresh_secs >= timing.lifetime_secs {
        return Err(ConfigError::Invalid {
            key: "signing.rrsig_refresh_secs",
            reason: format!(
                "must be at least 1 and less than rrsig_lifetime_secs ({})",
                timing.lifetime_secs
            ),
        });
    }
    let dir = overrides
        .key_dir
        .clone()
        .or_else(|| table.key_dir.as_deref().map(resolve));
    match dir {
        Some(dir) => ZoneKeys::read_dir(&dir, timing).map_err(|e| ConfigError::Invalid {
            key: "signing.key_dir",
            reason: e.to_string(),
        }),
        None => Ok(ZoneKeys::none(timing)),
    }
}
