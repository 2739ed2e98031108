//! Catalog zones (RFC 9432), both ways.
//!
//! As producer ([`CatalogProducer`]): a zone listing every other zone zonal
//! serves, for secondaries (Knot DNS's `catalog-role: interpret`, BIND's
//! `catalog-zones`) to learn which zones to take. It is built whole from the zone
//! set — `version` TXT "2", NS `invalid.`, one `<id>.zones` PTR per member, the id
//! a hash of the member's name so it stays the same from one version to the next
//! (RFC 9432 4.1) — and built again, with a new serial, whenever the zones served
//! change; it is served, transferred and notified as any other zone.
//!
//! As consumer ([`read_catalog`]): a catalog taken from primaries like any
//! secondary zone is read for its members and their unique ids; what is done
//! with them (zones added, removed, reset) is [`super::secondary`]'s.

use std::collections::BTreeMap;
use std::path::Path;

use sha2::{Digest, Sha256};

use std::sync::Arc;

use super::notifier::Notifier;
use crate::auth::{SharedZones, Zone, ZoneSet};
use crate::wire::name::{is_subdomain, label_count, to_presentation};
use crate::wire::types;
use crate::zonefile::load_zone_text;

/// The only catalog schema version zonal reads (RFC 9432 4.2.1).
const SCHEMA_VERSION: &[u8] = b"2";

/// Why a catalog zone is not read (its members are left as they were).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogError {
    /// No `version` TXT record at all.
    #[error("no version property (version TXT \"2\"): not read as a catalog")]
    NoVersion,
    /// A `version` that is not exactly one TXT "2".
    #[error("schema version {0} not supported (zonal reads version \"2\"): not read as a catalog")]
    Version(String),
}

/// The members a catalog zone lists: member origin (lowercase wire format) to its
/// unique id (the `<id>` label, lowercase).
pub type Members = BTreeMap<Box<[u8]>, Box<[u8]>>;

/// Reads the catalog `zone` as a consumer (RFC 9432 4): its schema version must be
/// "2" (4.2.1: a consumer does not process a catalog without a version, with more
/// than one, or with one it does not implement); each member is the PTR at
/// `<id>.zones.<catalog>`. An id with more than one PTR, and a member listed under
/// a second id, are left out with a warning; properties (`group`, `coo`, anything
/// below a member's id) are ignored (logged at debug).
pub fn read_catalog(zone: &Zone) -> Result<Members, CatalogError> {
    let catalog = zone.origin.to_ascii_lowercase();
    let name = to_presentation(&catalog);
    let mut version_name = b"\x07version".to_vec();
    version_name.extend_from_slice(&catalog);
    let versions: Vec<&[u8]> = zone
        .node_by_name(&version_name)
        .and_then(|node| node.rrset(types::TXT))
        .map(|set| set.rdatas().collect())
        .unwrap_or_default();
    match versions.as_slice() {
        [] => return Err(CatalogError::NoVersion),
        // One TXT with one string: "2".
        [rdata]
            if rdata.first() == Some(&(SCHEMA_VERSION.len() as u8))
                && rdata[1..] == *SCHEMA_VERSION => {}
        other => {
            let shown: Vec<String> = other
                .iter()
                .map(|r| String::from_utf8_lossy(r.get(1..).unwrap_or_default()).into_owned())
                .collect();
            return Err(CatalogError::Version(format!("{shown:?}")));
        }
    }
    let mut zones = b"\x05zones".to_vec();
    zones.extend_from_slice(&catalog);
    let member_labels = label_count(&zones) + 1;
    let mut members = Members::new();
    for (owner, node) in zone.names() {
        let owner = owner.to_ascii_lowercase();
        // Below `zones` by labels, not by bytes: `a\005zones` is not a member.
        if !is_subdomain(&owner, &zones) || owner.len() == zones.len() {
            continue;
        }
        let labels = label_count(&owner);
        if labels > member_labels {
            if node.rrset(types::PTR).is_some() || node.rrset(types::TXT).is_some() {
                tracing::debug!(catalog = %name, property = %to_presentation(&owner),
                    "catalog member property ignored (group, coo and the like are not used)");
            }
            continue;
        }
        let Some(set) = node.rrset(types::PTR) else {
            continue;
        };
        let id: Box<[u8]> = owner[1..=usize::from(owner[0])].into();
        let targets: Vec<&[u8]> = set.rdatas().collect();
        let [target] = targets.as_slice() else {
            tracing::warn!(catalog = %name, id = %String::from_utf8_lossy(&id),
                "catalog member with more than one PTR left out");
            continue;
        };
        let member: Box<[u8]> = target.to_ascii_lowercase().into();
        if *member == *catalog {
            continue;
        }
        match members.get(&member) {
            Some(first) => {
                tracing::warn!(catalog = %name, member = %to_presentation(&member),
                    first = %String::from_utf8_lossy(first), second = %String::from_utf8_lossy(&id),
                    "catalog lists a member twice: the first id kept");
            }
            None => {
                members.insert(member, id);
            }
        }
    }
    Ok(members)
}

/// Our own catalog zone, kept up to date with the zones served: made again,
/// served and notified whenever the zones served change (from files, by catalog
/// membership, at start).
#[derive(Debug)]
pub struct Catalog {
    /// Makes the catalog zone, when one is produced (`[catalog] produce`).
    producer: Option<CatalogProducer>,
    /// The zones served: listed in the catalog, which is served beside them.
    zones: Arc<SharedZones>,
    /// Tells our secondaries of each new version.
    notifier: Arc<Notifier>,
}

impl Catalog {
    /// The catalog `producer` makes (none: nothing is produced) of `zones`,
    /// notified through `notifier`.
    pub fn new(
        producer: Option<CatalogProducer>,
        zones: Arc<SharedZones>,
        notifier: Arc<Notifier>,
    ) -> Catalog {
        Catalog {
            producer,
            zones,
            notifier,
        }
    }

    /// Makes the next version of the catalog zone when the zones served changed
    /// since it was made (or makes the first), serves it and notifies it.
    pub fn refresh(&self) {
        let Some(producer) = &self.producer else {
            return;
        };
        let zones = self.zones.load();
        let current = zones.get(&producer.origin).cloned();
        let Some(next) = producer.next(&zones, current.as_deref(), crate::metrics::unix_now())
        else {
            return;
        };
        let next = Arc::new(next);
        let members = CatalogProducer::listed(&next).len();
        self.zones.rcu(|set| set.with_zone(next.clone()));
        tracing::info!(catalog = %to_presentation(&producer.origin), members, serial = next.serial(), "catalog zone made");
        self.notifier.notify(&next);
    }
}

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

    fn catalog(text: &str) -> Zone {
        let origin = parse_presentation(b"cat.example.", None).unwrap();
        let head = "$TTL 0\n@ SOA invalid. invalid. 1 3600 600 2147483646 0\n@ NS invalid.\n";
        load_zone_text(&origin, format!("{head}{text}").as_bytes(), Path::new("t")).unwrap()
    }

    fn wire(name: &str) -> Box<[u8]> {
        parse_presentation(name.as_bytes(), None).unwrap().into()
    }

    #[test]
    fn a_consumer_reads_members_and_their_ids_and_ignores_properties() {
        let zone = catalog(
            "version TXT \"2\"\nid1.zones PTR A.test.\ngroup.id1.zones TXT \"g\"\n\
             coo.id1.zones PTR other.example.\nID2.zones PTR b.test.\n\
             twice.zones PTR a.test.\ntwo.zones PTR c.test.\ntwo.zones PTR d.test.\n",
        );
        let members = read_catalog(&zone).unwrap();
        let listed: Vec<(String, String)> = members
            .iter()
            .map(|(m, id)| (to_presentation(m), String::from_utf8_lossy(id).into_owned()))
            .collect();
        assert_eq!(
            listed,
            [
                ("a.test.".to_owned(), "id1".to_owned()),
                ("b.test.".to_owned(), "id2".to_owned())
            ],
            "coo's PTR is no member; a second id and a doubled PTR are left out"
        );
        assert!(members.contains_key(&wire("a.test.")));
    }

    #[test]
    fn a_consumer_reads_only_schema_version_2() {
        assert_eq!(
            read_catalog(&catalog("a.zones PTR a.test.\n")),
            Err(CatalogError::NoVersion)
        );
        assert!(matches!(
            read_catalog(&catalog("version TXT \"1\"\na.zones PTR a.test.\n")),
            Err(CatalogError::Version(_))
        ));
        assert!(matches!(
            read_catalog(&catalog("version TXT \"2\"\nversion TXT \"3\"\n")),
            Err(CatalogError::Version(_))
        ));
        // What zonal produces, zonal reads.
        let producer = CatalogProducer::new(&wire("cat.example."));
        let built = producer
            .build(&[wire("x.test."), wire("y.test.")], 5)
            .unwrap();
        let members = read_catalog(&built).unwrap();
        assert_eq!(members.len(), 2);
        assert_eq!(
            *members[&wire("x.test.")],
            *member_id(&wire("x.test.")).as_bytes()
        );
    }

    /// Members are the names one label below `zones`, counted by labels: a label
    /// that holds the bytes of `zones` is not below it.
    #[test]
    fn members_are_found_by_labels_not_by_bytes() {
        let zone =
            catalog("version TXT \"2\"\nid1.zones PTR a.test.\na\\005zones PTR evil.test.\n");
        let members = read_catalog(&zone).unwrap();
        assert_eq!(members.len(), 1, "{members:?}");
        assert!(members.contains_key(&wire("a.test.")));
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
