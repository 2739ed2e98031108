//! Who may update what: rules naming a TSIG key and, optionally, the zones, the
//! client networks, the names and the record types it may change — BIND's
//! `update-policy` (`zonesub`, `name`, `subdomain`) and Knot DNS's ACL
//! `update-owner`/`update-type`, in one shape. No rule for a zone: its updates are
//! refused.

use std::net::IpAddr;

use crate::exchange::ClientAcl;
use crate::wire::name::is_subdomain;
use crate::wire::types;

/// Which names a rule covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameScope {
    /// Every name of the zone (BIND `zonesub`).
    Zone,
    /// Exactly this name, lowercase wire format (BIND `name`).
    Name(Vec<u8>),
    /// This name and every name below it (BIND `subdomain`).
    Subdomain(Vec<u8>),
}

/// One rule. See the module doc.
#[derive(Debug, Clone)]
pub struct UpdateRule {
    /// The key that must sign the update (lowercase wire format).
    pub key: Vec<u8>,
    /// The zones it covers (origins, lowercase wire format); `None`: every zone.
    pub zones: Option<Vec<Vec<u8>>>,
    /// The client networks it covers; `None`: any.
    pub networks: Option<ClientAcl>,
    /// The names it covers.
    pub names: NameScope,
    /// The types it covers; `None`: any.
    pub types: Option<Vec<u16>>,
}

impl UpdateRule {
    /// A rule letting `key` update every name and type of every zone, from anywhere
    /// (`--allow-update KEY`).
    pub fn everything(key: Vec<u8>) -> Self {
        UpdateRule {
            key,
            zones: None,
            networks: None,
            names: NameScope::Zone,
            types: None,
        }
    }

    fn covers_zone(&self, origin: &[u8]) -> bool {
        self.zones
            .as_ref()
            .is_none_or(|zones| zones.iter().any(|z| z.eq_ignore_ascii_case(origin)))
    }

    /// Whether the rule lets its key change `rtype` at `owner` (lowercase); type
    /// ANY stands for every type at the name.
    pub fn allows(&self, owner: &[u8], rtype: u16) -> bool {
        let name_ok = match &self.names {
            NameScope::Zone => true,
            NameScope::Name(name) => owner == name.as_slice(),
            NameScope::Subdomain(name) => is_subdomain(owner, name),
        };
        let type_ok = match &self.types {
            None => true,
            Some(list) => rtype != types::ANY && list.contains(&rtype),
        };
        name_ok && type_ok
    }
}

/// Every rule.
#[derive(Debug, Clone, Default)]
pub struct UpdatePolicy {
    /// The rules.
    pub rules: Vec<UpdateRule>,
}

impl UpdatePolicy {
    /// Whether any rule covers the zone: if none does, its updates are refused.
    pub fn covers(&self, origin: &[u8]) -> bool {
        self.rules.iter().any(|r| r.covers_zone(origin))
    }

    /// The rules that let `key` update `origin` from `client`.
    pub fn rules_for<'p>(
        &'p self,
        origin: &[u8],
        key: &[u8],
        client: IpAddr,
    ) -> Vec<&'p UpdateRule> {
        self.rules
            .iter()
            .filter(|r| {
                r.covers_zone(origin)
                    && r.key.eq_ignore_ascii_case(key)
                    && r.networks.as_ref().is_none_or(|n| n.allows(client))
            })
            .collect()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn rules_match_zone_key_network_name_and_type() {
        let key = b"\x03reg\x00".to_vec();
        let policy = UpdatePolicy {
            rules: vec![UpdateRule {
                key: key.clone(),
                zones: Some(vec![b"\x07example\x00".to_vec()]),
                networks: Some(ClientAcl::new(vec!["192.0.2.0/24".parse().unwrap()])),
                names: NameScope::Subdomain(b"\x03dyn\x07example\x00".to_vec()),
                types: Some(vec![types::A, types::TXT]),
            }],
        };
        let client: IpAddr = "192.0.2.7".parse().unwrap();
        assert!(policy.covers(b"\x07EXAMPLE\x00"));
        assert!(!policy.covers(b"\x05other\x00"));
        assert!(policy
            .rules_for(b"\x07example\x00", b"\x03other\x00", client)
            .is_empty());
        assert!(policy
            .rules_for(b"\x07example\x00", &key, "10.0.0.1".parse().unwrap())
            .is_empty());
        let rules = policy.rules_for(b"\x07example\x00", b"\x03REG\x00", client);
        assert_eq!(rules.len(), 1);
        assert!(rules[0].allows(b"\x01h\x03dyn\x07example\x00", types::A));
        assert!(rules[0].allows(b"\x03dyn\x07example\x00", types::TXT));
        assert!(!rules[0].allows(b"\x01h\x03dyn\x07example\x00", types::MX));
        assert!(!rules[0].allows(b"\x01h\x03dyn\x07example\x00", types::ANY));
        assert!(!rules[0].allows(b"\x03www\x07example\x00", types::A));
        let all = UpdateRule::everything(key);
        assert!(all.allows(b"\x03www\x07example\x00", types::ANY));
    }
}
