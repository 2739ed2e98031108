//! Who may transfer which zone: rules of zones, client networks and a TSIG key,
//! as Knot DNS's ACLs have them. A request is let in when one rule matches all
//! three: the zone is among the rule's zones (every zone when it names none), the
//! client among its networks (any client when it names none), and the request is
//! signed with the rule's key (signed or not when it names none — a signature is
//! checked all the same). The old `allow_transfer = ["CIDR", ...]` is one rule
//! of networks alone.

use std::net::IpAddr;

use crate::exchange::ClientAcl;
use crate::tsig::keys::KeyRing;

/// One rule. See the module doc.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TransferRule {
    /// The key that must sign the request (lowercase wire format), if any.
    pub key: Option<Vec<u8>>,
    /// The zones it covers (lowercase wire format); `None`: every zone.
    pub zones: Option<Vec<Vec<u8>>>,
    /// The client networks it covers; `None`: any client.
    pub networks: Option<ClientAcl>,
}

impl TransferRule {
    /// Whether the rule lets `client` transfer `zone` (lowercase wire format),
    /// signed with `key` (its name, lowercase wire format) or unsigned.
    fn allows(&self, zone: &[u8], client: IpAddr, key: Option<&[u8]>) -> bool {
        self.zones
            .as_ref()
            .is_none_or(|zones| zones.iter().any(|z| z.as_slice() == zone))
            && self.networks.as_ref().is_none_or(|n| n.allows(client))
            && self.key.as_deref().is_none_or(|k| Some(k) == key)
    }
}

/// Every rule, and the keys a signed request is checked against.
#[derive(Debug, Clone, Default)]
pub struct TransferAcl {
    /// The rules, any of which may let a request in.
    rules: Vec<TransferRule>,
    /// The TSIG keys known.
    pub keys: KeyRing,
}

impl TransferAcl {
    /// An ACL of these rules, checking signatures against `keys`.
    pub fn new(rules: Vec<TransferRule>, keys: KeyRing) -> Self {
        TransferAcl { rules, keys }
    }

    /// Whether `client` may transfer `zone` (lowercase wire format), signed with
    /// the key named `key` (a signature that checked) or unsigned (`None`).
    pub fn allows(&self, zone: &[u8], client: IpAddr, key: Option<&[u8]>) -> bool {
        self.rules.iter().any(|r| r.allows(zone, client, key))
    }

    /// Whether nobody may transfer anything.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_rule_matches_on_zone_network_and_key() {
        let zone = b"\x07example\x00".to_vec();
        let key = b"\x07xfr-key\x00".to_vec();
        let acl = TransferAcl::new(
            vec![
                TransferRule {
                    key: Some(key.clone()),
                    zones: Some(vec![zone.clone()]),
                    networks: None,
                },
                TransferRule {
                    key: None,
                    zones: None,
                    networks: Some(ClientAcl::new(vec!["10.0.0.0/8".parse().unwrap()])),
                },
            ],
            KeyRing::default(),
        );
        let far: IpAddr = "192.0.2.1".parse().unwrap();
        let near: IpAddr = "10.1.2.3".parse().unwrap();
        assert!(acl.allows(&zone, far, Some(&key)));
        assert!(!acl.allows(&zone, far, None));
        assert!(!acl.allows(&zone, far, Some(b"\x05other\x00")));
        assert!(!acl.allows(b"\x05other\x00", far, Some(&key)));
        assert!(acl.allows(b"\x05other\x00", near, None));
        assert!(TransferAcl::default().is_empty());
        assert!(!TransferAcl::default().allows(&zone, near, None));
    }
}
