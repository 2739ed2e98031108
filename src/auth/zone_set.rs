//! The set of zones served, found by longest suffix: the most specific zone wins.
//!
//! A `ZoneSet` is immutable; the server holds it behind an `ArcSwap` and replaces it
//! whole, so a query sees either the old set or the new one, never a mix.

use std::sync::Arc;

use super::zone::Zone;
use crate::wire::name::{label_count, suffix_offsets};
use crate::zonefile::rdata::types;

/// All zones served, keyed by lowercase origin.
#[derive(Debug, Default)]
pub struct ZoneSet {
    /// Zones by lowercase wire-format origin.
    zones: hashbrown::HashMap<Box<[u8]>, Arc<Zone>>,
    /// The most labels any origin has: longer suffixes of a query name need no lookup.
    max_labels: usize,
}

impl ZoneSet {
    /// A set of the given zones (a later zone with the same origin replaces an earlier one).
    pub fn new(zones: impl IntoIterator<Item = Arc<Zone>>) -> Self {
        let mut set = ZoneSet::default();
        for zone in zones {
            set.max_labels = set.max_labels.max(label_count(&zone.origin));
            set.zones.insert(zone.origin.clone(), zone);
        }
        set
    }

    /// The zone that is authoritative for `qname` (lowercase wire format). For a DS
    /// query at the apex of a zone whose parent we also serve, the parent answers:
    /// DS lives on the parent side of a cut (RFC 4035 3.1.4.1).
    pub fn find(&self, qname: &[u8], qtype: u16) -> Option<&Zone> {
        let labels = label_count(qname);
        let skip = labels.saturating_sub(self.max_labels);
        let mut found = None;
        for off in suffix_offsets(qname).skip(skip) {
            if let Some(zone) = self.zones.get(&qname[off..]) {
                if off == 0 && qtype == types::DS && qname.len() > 1 {
                    found = Some(zone);
                    continue;
                }
                return Some(zone);
            }
        }
        found.map(|z| &**z)
    }

    /// The zone with exactly this origin.
    pub fn get(&self, origin: &[u8]) -> Option<&Arc<Zone>> {
        self.zones.get(origin)
    }

    /// Every zone, in no particular order.
    pub fn zones(&self) -> impl Iterator<Item = &Arc<Zone>> {
        self.zones.values()
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
