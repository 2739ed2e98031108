//! Catalog zones (RFC 9432), as producer: a zone listing every other zone zonal
//! serves, for secondaries (Knot DNS's `catalog-role: interpret`, BIND's
//! `catalog-zones`) to learn which zones to take. It is built whole from the zone
//! set — `version` TXT "2", NS `invalid.`, one `<id>.zones` PTR per member, the id
//! a hash of the member's name so it stays the same from one version to the next
//! (RFC 9432 4.1) — and built again, with a new serial, whenever the zones served
//! change; it is served, transferred and notified as any other zone.

use std::path::Path;

use sha2::{Digest, Sha256};

use crate::auth::{Zone, ZoneSet};
use crate::wire::name::to_presentation;
use crate::zonefile::load_zone_text;

/// Builds the catalog zone.
#[derive(Debug, Clone)]
pub struct CatalogProducer {
    /// The catalog's name, lowercase wire format.
    pub origin: Box<[u8]>,
}

impl CatalogProducer {
    /// A producer of the catalog `origin` (wire format).
    pub fn new(origin: &[u8]) -> CatalogProducer {
        CatalogProducer {
            origin: origin.to_ascii_lowercase().into(),
        }
    }

    /// The members the catalog should list now: every zone of `zones` but itself.
    pub fn members(&self, zones: &ZoneSet) -> Vec<Box<[u8]>> {
        let mut members: Vec<Box<[u8]>> = zones
            .zones()
            .map(|z| z.origin.clone())
            .filter(|o| *o != self.origin)
            .collect();
        members.sort();
        members
    }

    /// The members the catalog `zone` lists.
    pub fn listed(zone: &Zone) -> Vec<Box<[u8]>> {
        let mut members: Vec<Box<[u8]>> = zone
            .names()
            .filter_map(|(_, node)| node.rrset(crate::wire::types::PTR))
            .flat_map(|set| {
                set.rdatas()
                    .map(|r| r.to_ascii_lowercase().into_boxed_slice())
            })
            .collect();
        members.sort();
        members
    }

    /// The catalog listing `members`, with `serial`. `None` only if the text made
    /// does not load (a member name that cannot be written back, which the zone
    /// set never holds).
    pub fn build(&self, members: &[Box<[u8]>], serial: u32) -> Option<Zone> {
        let mut text = format!(
            "$TTL 0\n@ SOA invalid. invalid. {serial} 3600 600 2147483646 0\n@ NS invalid.\n\
             version TXT \"2\"\n"
        );
        for member in members {
            text.push_str(&format!(
                "{}.zones PTR {}\n",
                member_id(member),
                to_presentation(member)
            ));
        }
        load_zone_text(&self.origin, text.as_bytes(), Path::new("(catalog)")).ok()
    }

    /// The catalog for `zones` when what it should list differs from `current`
    /// (or there is none yet): the next version, its serial above the current one.
    pub fn next(&self, zones: &ZoneSet, current: Option<&Zone>, now: u64) -> Option<Zone> {
        let members = self.members(zones);
        if let Some(current) = current {
            if CatalogProducer::listed(current) == members {
                return None;
            }
        }
        // The time as serial (unique across restarts), past the current one.
        let serial = current.map_or(now as u32, |z| (now as u32).max(z.serial().wrapping_add(1)));
        self.build(&members, serial)
    }
}

/// A member's unique label (RFC 9432 4.1): the first 8 bytes of the SHA-256 of its
/// lowercase wire name, in hex — the same for the same zone every time.
pub fn member_id(member: &[u8]) -> String {
    let digest = Sha256::digest(member.to_ascii_lowercase());
    digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::wire::name::parse_presentation;
    use std::sync::Arc;

    fn zone(name: &str) -> Arc<Zone> {
        let origin = parse_presentation(name.as_bytes(), None).unwrap();
        let text = "$TTL 300\n@ SOA ns hm 1 2 3 4 5\n@ NS ns\nns A 192.0.2.1\n";
        Arc::new(load_zone_text(&origin, text.as_bytes(), Path::new("t")).unwrap())
    }

    #[test]
    fn lists_every_other_zone_and_changes_only_when_they_do() {
        let producer = CatalogProducer::new(&parse_presentation(b"cat.example.", None).unwrap());
        let set = ZoneSet::new([zone("a.test."), zone("B.test.")]);
        let first = producer.next(&set, None, 1_000).unwrap();
        assert_eq!(first.serial(), 1_000);
        let listed = CatalogProducer::listed(&first);
        assert_eq!(listed.len(), 2);
        assert!(first
            .node_by_name(b"\x07version\x03cat\x07example\x00")
            .is_some());
        let set = set.with_zone(Arc::new(first.clone()));
        assert!(
            producer.next(&set, Some(&first), 1_001).is_none(),
            "the same members"
        );
        let set = set.with_zone(zone("c.test."));
        let second = producer.next(&set, Some(&first), 999).unwrap();
        assert_eq!(second.serial(), 1_001, "above the current serial");
        assert_eq!(CatalogProducer::listed(&second).len(), 3);
        assert_eq!(
            member_id(b"\x01a\x04test\x00"),
            member_id(b"\x01A\x04TEST\x00")
        );
    }
}
