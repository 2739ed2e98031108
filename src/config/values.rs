//! Values more than one section reads: networks (CIDRs) and domain names.

use crate::exchange::ClientAcl;
use crate::wire::name::parse_presentation;

use super::ConfigError;

/// The networks of a list (`key` names the list in errors).
pub(super) fn networks(key: &'static str, list: &[String]) -> Result<ClientAcl, ConfigError> {
    list.iter()
        .map(|n| {
            parse_network(n).ok_or_else(|| ConfigError::Invalid {
                key,
                reason: format!("'{n}' is not a network (CIDR)"),
            })
        })
        .collect::<Result<Vec<_>, _>>()
        .map(ClientAcl::new)
}

/// The zone names of a list, lowercase wire format (`key` names the list in errors).
pub(super) fn zone_names(key: &'static str, list: &[String]) -> Result<Vec<Vec<u8>>, ConfigError> {
    list.iter()
        .map(|z| {
            name_wire(z).ok_or_else(|| ConfigError::Invalid {
                key,
                reason: format!("bad zone name '{z}'"),
            })
        })
        .collect()
}

/// A network in CIDR form (`192.0.2.0/24`, `2001:db8::/32`), or one address.
pub(super) fn parse_network(text: &str) -> Option<ipnet::IpNet> {
    text.parse().ok().or_else(|| {
        text.parse::<std::net::IpAddr>()
            .ok()
            .map(ipnet::IpNet::from)
    })
}

/// A name in presentation form (relative taken as absolute), lowercase wire format.
pub(super) fn name_wire(text: &str) -> Option<Vec<u8>> {
    let absolute = if text.ends_with('.') {
        text.to_owned()
    } else {
        format!("{text}.")
    };
    parse_presentation(absolute.as_bytes(), None)
        .ok()
        .map(|n| n.to_ascii_lowercase())
}
