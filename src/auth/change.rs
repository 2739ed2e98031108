//! A change to a zone, and the new version of the zone it makes.
//!
//! A [`ChangeSet`] is the difference between two versions: records removed, then
//! records added — the form an IXFR (RFC 1995) and a journal carry and an UPDATE
//! (RFC 2136) comes down to. [`Zone::apply`] makes the new version in time and memory
//! proportional to the change: it copies only the paths to the names it touches
//! (everything else is shared with the old version), keeps empty non-terminals and
//! flags right for those names alone (a cut's subtree is one range of the tree), and
//! runs the checks of [`super::check`] on what it touched. All or nothing: on error
//! the old version is untouched and no new one is made.

use std::collections::HashSet;
use std::sync::Arc;

use super::build::{add_empty_ancestors, join_error};
use super::check::{check_apex, check_glue, check_node, check_record, CheckError, CheckErrorKind};
use super::name_tree::{KeyRef, NameKey};
use super::node::{flags, JoinTtl, Node, Occluders, NO_FILE};
use super::zone::{negative_ttl, Zone};
use crate::wire::name::{is_subdomain, lowercase_into, to_presentation, NAME_BUF_BYTES};
use crate::wire::types;

/// One record of a change.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Record {
    /// Owner name, uncompressed wire format, any case.
    pub owner: Vec<u8>,
    /// Record type.
    pub rtype: u16,
    /// TTL (ignored when removing: a record is named by owner, type and data).
    pub ttl: u32,
    /// RDATA, wire format, names uncompressed.
    pub rdata: Vec<u8>,
}

/// The difference between two versions of a zone: `removed` first, then `added`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChangeSet {
    /// Records taken out; each must be in the zone.
    pub removed: Vec<Record>,
    /// Records put in. One already there is left as it is; one joining an RRset
    /// gives the whole set its TTL (RFC 2181 5.2: a set has one TTL).
    pub added: Vec<Record>,
}

impl ChangeSet {
    /// Whether the change changes nothing.
    pub fn is_empty(&self) -> bool {
        self.removed.is_empty() && self.added.is_empty()
    }
}

/// The work of one [`Zone::apply`]: the new version and what was touched.
struct Applying {
    /// The new version, sharing all it can with the old.
    zone: Zone,
    /// Names (lowercase) whose records changed.
    touched: HashSet<Box<[u8]>>,
    /// Names (lowercase) the change created, empty non-terminals included.
    created: HashSet<Box<[u8]>>,
    /// In-zone NS targets (lowercase) of added NS records, one entry per record.
    new_targets: Vec<Box<[u8]>>,
    /// The key of the name being worked on.
    key: Box<NameKey>,
}

impl Zone {
    /// The version of this zone with `changes` made. See the module doc.
    pub fn apply(&self, changes: &ChangeSet) -> Result<Zone, CheckError> {
        let mut work = Applying {
            zone: self.clone(),
            touched: HashSet::new(),
            created: HashSet::new(),
            new_targets: Vec::new(),
            key: Box::default(),
        };
        for record in &changes.removed {
            work.remove(record)?;
        }
        for record in &changes.added {
            work.add(record)?;
        }
        work.count_new_targets();
        work.check_touched()?;
        work.prune_empty();
        work.update_flags();
        work.check_dnames()?;
        let mut zone = work.zone;
        check_apex(&zone.origin, zone.apex(), &zone.files)?;
        zone.names.sync_index();
        if let Some(soa) = zone.apex().and_then(|n| n.rrset(types::SOA)).cloned() {
            zone.negative_ttl = negative_ttl(&soa);
            zone.soa = soa;
        }
        if let Some(apex) = zone.apex() {
            zone.dnssec = super::zone::Denial::of_apex(apex);
        }
        // The NSEC3 index follows the names touched (and their ancestors, which a
        // change may have made or removed as empty non-terminals).
        zone.nsec3 = match (zone.dnssec, self.nsec3.as_deref()) {
            (super::zone::Denial::Nsec3, Some(index)) => index
                .updated(
                    &zone,
                    work.touched.iter().chain(&work.created).map(|n| &n[..]),
                )
                .map(Arc::new),
            _ => None,
        };
        if zone.nsec3.is_none() {
            zone.index_nsec3();
        }
        Ok(zone)
    }
}

impl Applying {
    /// Sets `self.key` to the record's owner and checks it belongs here.
    fn key_for(&mut self, record: &Record) -> Result<(), CheckError> {
        if !self.key.set(&record.owner) {
            return Err(CheckError::new(CheckErrorKind::OutOfZone {
                owner: to_presentation(&record.owner),
                origin: to_presentation(&self.zone.origin),
            }));
        }
        check_record(
            &self.zone.origin,
            self.key.name(),
            record.rtype,
            &record.rdata,
        )
        .map_err(CheckError::new)
    }

    fn remove(&mut self, record: &Record) -> Result<(), CheckError> {
        self.key_for(record)?;
        let missing = || {
            CheckError::new(CheckErrorKind::MissingRecord {
                owner: to_presentation(&record.owner),
                rtype: types::type_name(record.rtype),
            })
        };
        let node = self
            .zone
            .names
            .get_mut(self.key.full())
            .ok_or_else(missing)?;
        let set = node.rrset_mut(record.rtype).ok_or_else(missing)?;
        if !set.remove(&record.rdata) {
            return Err(missing());
        }
        if set.count == 0 {
            node.rrsets.retain(|s| s.rtype != record.rtype);
        }
        self.touched.insert(self.key.name().into());
        self.zone.record_count -= 1;
        if record.rtype == types::NS {
            // The target no longer counts this record (and may lose its address now).
            let mut lower = [0u8; NAME_BUF_BYTES];
            let target = lowercase_into(&record.rdata, &mut lower);
            if is_subdomain(target, &self.zone.origin) && self.key.set(target) {
                if let Some(node) = self.zone.names.get_mut(self.key.full()) {
                    node.ns_targeted = node.ns_targeted.saturating_sub(1);
                }
            }
        }
        Ok(())
    }

    fn add(&mut self, record: &Record) -> Result<(), CheckError> {
        self.key_for(record)?;
        let (node, is_new) = self
            .zone
            .names
            .get_or_insert_with(self.key.full(), Node::default);
        let ttl_before = node.rrset(record.rtype).map(|set| set.ttl);
        let added = node
            .join(
                record.rtype,
                record.ttl,
                &record.rdata,
                (NO_FILE, 0),
                JoinTtl::TakeNew,
            )
            .map_err(|e| CheckError::new(join_error(e, &record.owner, record.rtype)))?;
        if !added && ttl_before == Some(record.ttl) {
            return Ok(());
        }
        self.touched.insert(self.key.name().into());
        if is_new {
            self.created.insert(self.key.name().into());
            let created = &mut self.created;
            add_empty_ancestors(
                &mut self.zone.names,
                &self.key,
                self.zone.origin_labels,
                |name| {
                    created.insert(name.into());
                },
            );
        }
        if !added {
            return Ok(());
        }
        self.zone.record_count += 1;
        if record.rtype == types::NS {
            let mut lower = [0u8; NAME_BUF_BYTES];
            let target = lowercase_into(&record.rdata, &mut lower);
            if is_subdomain(target, &self.zone.origin) {
                self.new_targets.push(target.into());
            }
        }
        Ok(())
    }

    /// Counts the added NS records at their targets (known once every record is in).
    /// A target with no node at all is left to the glue check of the NS owner.
    fn count_new_targets(&mut self) {
        for target in std::mem::take(&mut self.new_targets) {
            if self.key.set(&target) {
                if let Some(node) = self.zone.names.get_mut(self.key.full()) {
                    node.ns_targeted += 1;
                }
            }
        }
    }

    /// The touched names that still have a node, with it.
    fn touched_nodes(&self) -> impl Iterator<Item = (&[u8], &Node)> {
        let mut key = NameKey::default();
        self.touched.iter().filter_map(move |name| {
            key.set(name);
            self.zone.node_at(key.full()).map(|node| (&**name, node))
        })
    }

    /// The per-name checks on every touched name, and the apex.
    fn check_touched(&mut self) -> Result<(), CheckError> {
        let zone = &self.zone;
        for (name, node) in self.touched_nodes() {
            check_node(name, node).map_err(|(kind, _)| CheckError::new(kind))?;
            if let Some(ns) = node.rrset(types::NS) {
                let mut target_key = NameKey::default();
                check_glue(&zone.origin, name, ns, |target| {
                    target_key.set(target);
                    zone.names.get(target_key.full()).map(|l| &l.value)
                })
                .map_err(CheckError::new)?;
            }
            if node.ns_targeted > 0 && !node.has_address() {
                return Err(CheckError::new(CheckErrorKind::GlueStillNeeded(
                    to_presentation(name),
                )));
            }
        }
        Ok(())
    }

    /// A DNAME hides the names below it: none may be an NS target (as
    /// `check_ns_alias` holds a fresh load to), unless the DNAME is itself hidden by
    /// a cut above it or is beside one. A target is counted only when it has an
    /// address, which a change already requires. Run once the flags are right.
    fn check_dnames(&self) -> Result<(), CheckError> {
        let mut key = NameKey::default();
        for (name, node) in self.touched_nodes() {
            let hiding = node.rrset(types::DNAME).is_some()
                && node.flags & (flags::OCCLUDED | flags::CUT) == 0;
            if !hiding {
                continue;
            }
            key.set(name);
            let below = self
                .zone
                .subtree(key.full())
                .find(|(below, n)| *below != name && n.ns_targeted > 0);
            if let Some((target, _)) = below {
                return Err(CheckError::new(CheckErrorKind::DnameHidesNsTarget {
                    ns: to_presentation(target),
                    dname: to_presentation(name),
                }));
            }
        }
        Ok(())
    }

    /// Removes the touched names left with no records and no names below, and the
    /// empty non-terminals above them that this leaves childless (never the apex).
    fn prune_empty(&mut self) {
        let mut key = NameKey::default();
        let touched: Vec<Box<[u8]>> = self.touched.iter().cloned().collect();
        for name in touched {
            key.set(&name);
            let mut labels = key.labels();
            while labels > self.zone.origin_labels {
                let at = key.ancestor(labels);
                if !self.is_empty_leaf(at) {
                    break;
                }
                self.zone.names.remove(at);
                labels -= 1;
            }
        }
    }

    /// Whether the name of `key` exists with no records and nothing below it.
    fn is_empty_leaf(&self, key: KeyRef<'_>) -> bool {
        let Some(node) = self.zone.node_at(key) else {
            return false;
        };
        node.rrsets.is_empty() && self.zone.names.subtree(key).nth(1).is_none()
    }

    /// Flags after the change: each touched name's own flags; then, below each name
    /// whose own flags changed, the occlusion of its subtree (one range of the tree);
    /// and the occlusion of each new name from its ancestors.
    fn update_flags(&mut self) {
        let mut key = NameKey::default();
        let mut flipped: Vec<Box<[u8]>> = Vec::new();
        for name in &self.touched {
            key.set(name);
            let is_apex = **name == *self.zone.origin;
            let Some(node) = self.zone.node_at(key.full()) else {
                continue;
            };
            let own = node.own_flags(is_apex);
            if own != node.flags & flags::OCCLUDING {
                if let Some(node) = self.zone.names.get_mut(key.full()) {
                    node.flags = (node.flags & !flags::OCCLUDING) | own;
                }
                flipped.push(name.clone());
            }
        }
        let created: Vec<Box<[u8]>> = self.created.iter().cloned().collect();
        for name in &created {
            key.set(name);
            let occluded = self.occluded_by_ancestors(&key);
            self.set_occluded(key.full(), occluded);
        }
        // In canonical order, so a subtree already redone is skipped when inside one.
        flipped.sort_by_cached_key(|name| {
            NameKey::new(name)
                .map(|k| k.full().symbols().to_vec())
                .unwrap_or_default()
        });
        let mut done: Option<Box<[u8]>> = None;
        for name in flipped {
            if done.as_deref().is_some_and(|top| is_subdomain(&name, top)) {
                continue;
            }
            key.set(&name);
            self.redo_subtree(&key);
            done = Some(name);
        }
    }

    /// Whether a name strictly above `key`'s (down to the apex) is a cut or DNAME.
    fn occluded_by_ancestors(&self, key: &NameKey) -> bool {
        (self.zone.origin_labels..key.labels()).any(|labels| {
            self.zone
                .node_at(key.ancestor(labels))
                .is_some_and(|n| n.flags & flags::OCCLUDING != 0)
        })
    }

    /// Sets the OCCLUDED flag of the name of `key`, copying its path only on a change.
    fn set_occluded(&mut self, key: KeyRef<'_>, occluded: bool) {
        let wanted = if occluded { flags::OCCLUDED } else { 0 };
        let current = self.zone.node_at(key).map(|n| n.flags & flags::OCCLUDED);
        if current.is_some_and(|c| c != wanted) {
            if let Some(node) = self.zone.names.get_mut(key) {
                node.flags = (node.flags & !flags::OCCLUDED) | wanted;
            }
        }
    }

    /// Recomputes OCCLUDED for the name of `top` and everything below it.
    fn redo_subtree(&mut self, top: &NameKey) {
        let base = self.occluded_by_ancestors(top);
        self.set_occluded(top.full(), base);
        // Names below whose flag must change, found walking the range in order with
        // the cuts and DNAMEs above each one on a stack.
        let mut changes: Vec<(Box<[u8]>, bool)> = Vec::new();
        let mut occluders: Occluders<&[u8]> = Occluders::new();
        for (name, node) in self.zone.subtree(top.full()) {
            let occluded = occluders.visit(name, node.flags, || name) || base;
            if name != top.name() && occluded != (node.flags & flags::OCCLUDED != 0) {
                changes.push((name.into(), occluded));
            }
        }
        let mut key = NameKey::default();
        for (name, occluded) in changes {
            key.set(&name);
            self.set_occluded(key.full(), occluded);
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
