//! Zones going out: who may transfer them (`allow_transfer`, `[[transfer]]`),
//! which secondaries are told of changes (`[[notify]]`, `notify_ns`), and the
//! catalog zone we produce (`[catalog]`).

use std::net::SocketAddr;

use crate::transfer::acl::{TransferAcl, TransferRule};
use crate::transfer::notifier::NotifyTarget;
use crate::tsig::keys::KeyRing;

use super::keys::known_key;
use super::values::{name_wire, networks, zone_names};
use super::{ConfigError, ConfigFile, Overrides};

/// The `[[notify]]` tables, their keys found in `keys`.
pub(super) fn notify_targets(
    file: &ConfigFile,
    keys: &KeyRing,
) -> Result<Vec<NotifyTarget>, ConfigError> {
    let invalid = |reason: String| ConfigError::Invalid {
        key: "notify",
        reason,
    };
    let mut targets = Vec::new();
    for entry in &file.notify {
        let zones = entry
            .zones
            .as_ref()
            .map(|list| {
                list.iter()
                    .map(|z| {
                        name_wire(z)
                            .map(|n| n.to_ascii_lowercase().into_boxed_slice())
                            .ok_or_else(|| invalid(format!("bad zone name '{z}'")))
                    })
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()?;
        let key = match &entry.key {
            Some(name) => Some(
                name_wire(name)
                    .and_then(|n| keys.by_name(&n).cloned())
                    .ok_or_else(|| invalid(format!("no key '{name}'")))?,
            ),
            None => None,
        };
        for text in &entry.targets {
            let addr = text
                .parse::<SocketAddr>()
                .or_else(|_| {
                    text.parse::<std::net::IpAddr>()
                        .map(|ip| SocketAddr::new(ip, 53))
                })
                .map_err(|_| invalid(format!("'{text}' is not an address (ip:port or ip)")))?;
            targets.push(NotifyTarget {
                addr,
                zones: zones.clone(),
                key: key.clone(),
            });
        }
    }
    Ok(targets)
}

/// Who may transfer: `allow_transfer` (flags over the file), one rule of networks,
/// then each `[[transfer]]` rule, whose key must be one we know.
pub(super) fn transfer_acl(
    file: &ConfigFile,
    overrides: &Overrides,
    keys: &KeyRing,
) -> Result<TransferAcl, ConfigError> {
    let invalid = |key: &'static str, reason: String| ConfigError::Invalid { key, reason };
    let allow_text = if overrides.allow_transfer.is_empty() {
        file.allow_transfer.clone().unwrap_or_default()
    } else {
        overrides.allow_transfer.clone()
    };
    let mut rules = Vec::new();
    if !allow_text.is_empty() {
        rules.push(TransferRule {
            key: None,
            zones: None,
            networks: Some(networks("allow_transfer", &allow_text)?),
        });
    }
    for entry in &file.transfer {
        if entry.key.is_none() && entry.networks.is_none() {
            return Err(invalid(
                "transfer",
                "give a key, networks or both (a rule of neither would let anyone in)".into(),
            ));
        }
        let key = entry
            .key
            .as_deref()
            .map(|name| known_key("transfer", name, keys).map(|k| k.name.clone()))
            .transpose()?;
        let zones = entry
            .zones
            .as_deref()
            .map(|list| zone_names("transfer", list))
            .transpose()?;
        let networks = entry
            .networks
            .as_deref()
            .map(|list| networks("transfer", list))
            .transpose()?;
        rules.push(TransferRule {
            key,
            zones,
            networks,
        });
    }
    Ok(TransferAcl::new(rules, keys.clone()))
}

/// `[catalog] produce`: the name of the catalog zone to produce (wire format), if any.
pub(super) fn catalog_name(file: &ConfigFile) -> Result<Option<Vec<u8>>, ConfigError> {
    file.catalog
        .as_ref()
        .map(|c| {
            name_wire(&c.produce).ok_or_else(|| ConfigError::Invalid {
                key: "catalog.produce",
                reason: format!("bad zone name '{}'", c.produce),
            })
        })
        .transpose()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use crate::config::load::parse_str as parse;
    use crate::config::ConfigError;

    #[test]
    fn transfer_rules_need_a_key_or_networks_and_known_keys() {
        // A transfer rule must name a key or networks; its key must be known.
        assert!(matches!(
            parse("[[transfer]]\nzones = [\"example.org\"]"),
            Err(ConfigError::Invalid {
                key: "transfer",
                ..
            })
        ));
        assert!(matches!(
            parse("[[transfer]]\nkey = \"nobody\""),
            Err(ConfigError::Invalid {
                key: "transfer",
                ..
            })
        ));
    }
}
