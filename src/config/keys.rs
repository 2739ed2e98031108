//! The TSIG keys: `tsig_key_files` and `--tsig-key` (key files), then `[[key]]`
//! tables. Updates, transfers, NOTIFY and secondary zones name keys from this ring.

use std::path::{Path, PathBuf};

use crate::tsig::keys::{read_key_file, Algorithm, KeyRing, TsigKey};

use super::values::name_wire;
use super::{ConfigError, ConfigFile, Overrides};

/// Every key we know: the key files of the file, those of the flags, then `[[key]]`.
pub(super) fn key_ring(
    file: &ConfigFile,
    overrides: &Overrides,
    resolve: &dyn Fn(&Path) -> PathBuf,
) -> Result<KeyRing, ConfigError> {
    let invalid = |reason: String| ConfigError::Invalid { key: "key", reason };
    let mut keys = Vec::new();
    let files = file.tsig_key_files.iter().flatten().map(|p| resolve(p));
    for path in files.chain(overrides.tsig_keys.iter().cloned()) {
        keys.extend(read_key_file(&path)?);
    }
    for entry in &file.key {
        let algorithm = Algorithm::from_mnemonic(&entry.algorithm).ok_or_else(|| {
            invalid(format!(
                "'{}': unknown algorithm '{}'",
                entry.name, entry.algorithm
            ))
        })?;
        // The error names the key, never its secret.
        let key = TsigKey::new(&entry.name, algorithm, &entry.secret)
            .map_err(|e| invalid(format!("'{}': {e}", entry.name)))?;
        keys.push(key);
    }
    Ok(KeyRing::new(keys))
}

/// The key named `name` in `keys` (`key` names the setting in errors).
pub(super) fn known_key<'k>(
    key: &'static str,
    name: &str,
    keys: &'k KeyRing,
) -> Result<&'k TsigKey, ConfigError> {
    name_wire(name)
        .and_then(|wire| keys.by_name(&wire))
        .ok_or_else(|| ConfigError::Invalid {
            key,
            reason: format!("no key '{name}'"),
        })
}
