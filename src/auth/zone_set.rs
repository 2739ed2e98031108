//! The set of zones served, found by longest suffix: the most specific zone wins.
//!
//! A `ZoneSet` is immutable; the server holds it behind an `ArcSwap` and replaces it
//! whole, so a query sees either the old set or the new one, never a mix. Its zones
//! sit in a [`NameTree`] by origin, so a set with one zone replaced, added or removed
//! ([`ZoneSet::with_zone`], [`ZoneSet::without_zone`]) shares the rest with the old
//! set and costs O(log zones), whether it serves ten zones or a registrar's million.

use std::sync::Arc;

use super::name_tree::{NameKey, NameTree};
use super::zone::Zone;
use crate::wire::name::{label_count, suffix_offsets};
use crate::wire::types;

/// The zone set every worker reads and the handlers that change zones replace:
/// swapped whole on a change, read without a lock.
pub type SharedZones = arc_swap::ArcSwap<ZoneSet>;

/// All zones served. See the module doc.
#[derive(Debug, Default, Clone)]
pub struct ZoneSet {
    /// Zones by origin.
    zones: NameTree<Arc<Zone>>,
    /// The most labels any origin has: longer suffixes of a query name need no lookup.
    max_labels: usize,
}

impl ZoneSet {
    /// A set of the given zones (a later zone with the same origin replaces an earlier one).
    pub fn new(zones: impl IntoIterator<Item = Arc<Zone>>) -> Self {
        let mut set = ZoneSet::default();
        for zone in zones {
            set.insert(zone);
        }
        set.zones.sync_index();
        set
    }

    fn insert(&mut self, zone: Arc<Zone>) {
        let Some(key) = NameKey::new(&zone.origin) else {
            return;
        };
        self.max_labels = self.max_labels.max(key.labels());
        let new = match self.zones.get_mut(key.full()) {
            Some(slot) => {
                *slot = zone;
                None
            }
            None => Some(zone),
        };
        if let Some(zone) = new {
            self.zones.get_or_insert_with(key.full(), || zone);
        }
    }

    /// This set with `zone` added, or replacing the zone of the same origin.
    pub fn with_zone(&self, zone: Arc<Zone>) -> ZoneSet {
        let mut next = self.clone();
        next.insert(zone);
        next.zones.sync_index();
        next
    }

    /// This set without the zone of this origin (wire format).
    pub fn without_zone(&self, origin: &[u8]) -> ZoneSet {
        let mut next = self.clone();
        if let Some(key) = NameKey::new(origin) {
            next.zones.remove(key.full());
        }
        next.zones.sync_index();
        next
    }

    /// The zone that is authoritative for `qname` (lowercase wire format). For a DS
    /// query at the apex of a zone whose parent we also serve, the parent answers: DS
    /// lives on the parent side of a cut (RFC 4035 3.1.4.1).
    #[inline]
    pub fn find(&self, qname: &[u8], qtype: u16) -> Option<&Arc<Zone>> {
        let labels = label_count(qname);
        let skip = labels.saturating_sub(self.max_labels);
        let mut found = None;
        for off in suffix_offsets(qname).skip(skip) {
            if let Some(leaf) = self.zones.get_exact(&qname[off..]) {
                if off == 0 && qtype == types::DS && qname.len() > 1 {
                    found = Some(&leaf.value);
                    continue;
                }
                return Some(&leaf.value);
            }
        }
        found
    }

    /// The zone with exactly this origin (wire format, any case).
    pub fn get(&self, origin: &[u8]) -> Option<&Arc<Zone>> {
        let key = NameKey::new(origin)?;
        self.zones.get_exact(key.name()).map(|leaf| &leaf.value)
    }

    /// Every zone, in canonical order of their origins.
    pub fn zones(&self) -> impl Iterator<Item = &Arc<Zone>> {
        self.zones.iter().map(|leaf| &leaf.value)
    }

    /// Number of zones.
    pub fn len(&self) -> usize {
        self.zones.len()
    }

    /// Whether no zone is served.
    pub fn is_empty(&self) -> bool {
        self.zones.is_empty()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::zonefile::load_zone_text;
    use std::path::Path;

    fn zone(origin: &str) -> Arc<Zone> {
        let origin = crate::wire::name::parse_presentation(origin.as_bytes(), None).unwrap();
        let text = "$TTL 60\n@ SOA ns.x. hm.x. 1 2 3 4 5\n@ NS ns.x.\n";
        Arc::new(load_zone_text(&origin, text.as_bytes(), Path::new("t")).unwrap())
    }

    fn found(set: &ZoneSet, name: &str, qtype: u16) -> Option<String> {
        let wire = crate::wire::name::parse_presentation(name.as_bytes(), None).unwrap();
        let key = NameKey::new(&wire).unwrap();
        set.find(key.name(), qtype)
            .map(|z| crate::wire::name::to_presentation(&z.origin))
    }

    #[test]
    fn longest_suffix_wins_and_ds_goes_to_the_parent() {
        let set = ZoneSet::new([zone("example."), zone("sub.example."), zone("org.")]);
        assert_eq!(
            found(&set, "www.sub.EXAMPLE.", 1).as_deref(),
            Some("sub.example.")
        );
        assert_eq!(found(&set, "www.example.", 1).as_deref(), Some("example."));
        assert_eq!(found(&set, "sub.example.", 43).as_deref(), Some("example."));
        assert_eq!(
            found(&set, "sub.example.", 1).as_deref(),
            Some("sub.example.")
        );
        assert_eq!(
            found(&set, "example.", 43).as_deref(),
            Some("example."),
            "no parent here"
        );
        assert_eq!(found(&set, "example.com.", 1), None);
        let smaller = set.without_zone(b"\x03sub\x07example\x00");
        assert_eq!(
            found(&smaller, "www.sub.example.", 1).as_deref(),
            Some("example.")
        );
        assert_eq!(
            found(&set, "www.sub.example.", 1).as_deref(),
            Some("sub.example.")
        );
        assert_eq!(smaller.len(), 2);
    }
}
