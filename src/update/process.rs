//! RFC 2136 section 3 on one zone snapshot: prerequisites, the prescan of the update
//! section, and the update itself, as a [`ChangeSet`] and the zone version it makes.
//!
//! Pure: no I/O, no clock but the one given. The update runs on a working copy of the
//! RRsets it touches (loaded from the snapshot as met), then the difference from the
//! snapshot, with the SOA serial advanced once, is applied with [`Zone::apply`],
//! which runs the zone's checks: a change that would leave the zone invalid is
//! refused whole.

use std::collections::{BTreeMap, HashSet};

use crate::auth::{ChangeSet, Record, Zone};
use crate::journal::serial::{is_newer, SerialPolicy};
use crate::wire::header::class::{ANY as CLASS_ANY, IN as CLASS_IN, NONE as CLASS_NONE};
use crate::wire::message::{check_rdata, Message, RecordView};
use crate::wire::name::{is_subdomain, to_presentation};
use crate::wire::{rcode, types};
use crate::zonefile::check_data_of_type;

/// Why an update was not made: the rcode, and a reason for the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// The response code (FORMERR, NOTZONE, YXDOMAIN, NXDOMAIN, YXRRSET, NXRRSET,
    /// REFUSED).
    pub rcode: u16,
    /// What was wrong, for the log.
    pub reason: String,
}

fn reject(rcode: u16, reason: impl Into<String>) -> Rejection {
    Rejection {
        rcode,
        reason: reason.into(),
    }
}

/// A made update: the change and the zone version it gives.
#[derive(Debug, Clone)]
pub struct Applied {
    /// The difference from the snapshot, old SOA first removed, new SOA first added
    /// (RFC 1995's form).
    pub changes: ChangeSet,
    /// The new version.
    pub zone: Zone,
    /// Its serial.
    pub serial: u32,
}

/// Types that are not records one can add or delete (RFC 2136 3.4.1.2).
fn is_meta_type(rtype: u16) -> bool {
    // RFC 6895 3.1: 0 is reserved, 128-255 are Q and meta types (ANY, 255, has its
    // meaning in an UPDATE and is checked beside this); OPT is a pseudo-record.
    rtype == 0 || rtype == types::OPT || (128..=254).contains(&rtype)
}

/// Types that may stand beside a CNAME (RFC 4035 2.5).
fn is_dnssec_type(rtype: u16) -> bool {
    matches!(rtype, types::RRSIG | types::NSEC)
}

/// Processes the prerequisite and update sections of `message` against `zone`.
/// `allowed(owner, type)` says what the requester may change (type ANY: every
/// type at the name). `Ok(None)`: nothing to change (NOERROR, serial unchanged).
pub fn process(
    message: &Message<'_>,
    zone: &Zone,
    allowed: &dyn Fn(&[u8], u16) -> bool,
    serial_policy: SerialPolicy,
    now: u64,
) -> Result<Option<Applied>, Rejection> {
    check_prerequisites(message, zone)?;
    prescan(message, zone, allowed)?;
    let mut work = Working::new(zone);
    for rr in &message.authorities {
        work.update(message, rr)?;
    }
    let Some(mut changes) = work.difference() else {
        return Ok(None);
    };
    let old_soa = soa_record(zone);
    let explicit_soa = changes
        .added
        .iter()
        .find(|r| r.rtype == types::SOA)
        .cloned();
    let new_soa = match explicit_soa {
        Some(soa) => soa,
        None => {
            let soa = next_soa(zone, serial_policy, now);
            changes.removed.insert(0, old_soa);
            changes.added.insert(0, soa.clone());
            soa
        }
    };
    // RFC 1995's order: the old SOA first among the removed, the new among the added.
    for list in [&mut changes.removed, &mut changes.added] {
        if let Some(at) = list.iter().position(|r| r.rtype == types::SOA) {
            let soa = list.remove(at);
            list.insert(0, soa);
        }
    }
    let serial = serial_of(&new_soa.rdata);
    let zone = zone
        .apply(&changes)
        .map_err(|e| reject(rcode::REFUSED, format!("the zone would not be valid: {e}")))?;
    Ok(Some(Applied {
        changes,
        zone,
        serial,
    }))
}

/// The change that only advances the zone's serial: the old SOA out, the new in.
pub fn serial_bump(zone: &Zone, serial_policy: SerialPolicy, now: u64) -> ChangeSet {
    ChangeSet {
        removed: vec![soa_record(zone)],
        added: vec![next_soa(zone, serial_policy, now)],
    }
}

/// The zone's SOA with the serial advanced as `serial_policy` says.
fn next_soa(zone: &Zone, serial_policy: SerialPolicy, now: u64) -> Record {
    let mut soa = soa_record(zone);
    set_serial(&mut soa.rdata, serial_policy.next(zone.serial(), now));
    soa
}

/// The zone's SOA as a record.
fn soa_record(zone: &Zone) -> Record {
    Record {
        owner: zone.origin.to_vec(),
        rtype: types::SOA,
        ttl: zone.soa.ttl,
        rdata: zone.soa.rdatas().next().unwrap_or_default().to_vec(),
    }
}

/// Where the serial is in SOA RDATA (after the two names).
fn serial_at(rdata: &[u8]) -> Option<usize> {
    let first = crate::wire::writer::wire_name_len(rdata);
    let second = first + crate::wire::writer::wire_name_len(rdata.get(first..)?);
    (rdata.len() >= second + 20).then_some(second)
}

fn serial_of(rdata: &[u8]) -> u32 {
    serial_at(rdata)
        .and_then(|at| rdata.get(at..at + 4))
        .map_or(0, |s| u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

fn set_serial(rdata: &mut [u8], serial: u32) {
    if let Some(at) = serial_at(rdata) {
        rdata[at..at + 4].copy_from_slice(&serial.to_be_bytes());
    }
}

/// RFC 2136 3.2: every prerequisite, against the snapshot.
fn check_prerequisites(message: &Message<'_>, zone: &Zone) -> Result<(), Rejection> {
    // Value-dependent prerequisites, collected per RRset and compared at the end.
    let mut wanted: BTreeMap<(Vec<u8>, u16), Vec<Vec<u8>>> = BTreeMap::new();
    for rr in &message.answers {
        let name = rr.owner.to_ascii_lowercase();
        let shown = to_presentation(&rr.owner);
        if rr.ttl != 0 {
            return Err(reject(
                rcode::FORMERR,
                format!("prerequisite {shown}: TTL not 0"),
            ));
        }
        if !is_subdomain(&name, &zone.origin) {
            return Err(reject(
                rcode::NOTZONE,
                format!("prerequisite {shown}: outside the zone"),
            ));
        }
        let node = zone.node(&name);
        let in_use = node.is_some_and(|n| !n.rrsets.is_empty());
        let rrset_exists = node.is_some_and(|n| n.rrset(rr.rtype).is_some());
        match rr.class {
            CLASS_ANY | CLASS_NONE if rr.rdata_len != 0 => {
                return Err(reject(
                    rcode::FORMERR,
                    format!("prerequisite {shown}: data where none belongs"),
                ));
            }
            CLASS_ANY if rr.rtype == types::ANY => {
                if !in_use {
                    return Err(reject(
                        rcode::NXDOMAIN,
                        format!("prerequisite: {shown} is not in use"),
                    ));
                }
            }
            CLASS_ANY => {
                if !rrset_exists {
                    return Err(reject(
                        rcode::NXRRSET,
                        format!("prerequisite: no {} at {shown}", types::type_name(rr.rtype)),
                    ));
                }
            }
            CLASS_NONE if rr.rtype == types::ANY => {
                if in_use {
                    return Err(reject(
                        rcode::YXDOMAIN,
                        format!("prerequisite: {shown} is in use"),
                    ));
                }
            }
            CLASS_NONE => {
                if rrset_exists {
                    return Err(reject(
                        rcode::YXRRSET,
                        format!(
                            "prerequisite: {} exists at {shown}",
                            types::type_name(rr.rtype)
                        ),
                    ));
                }
            }
            CLASS_IN => {
                let rdata = message
                    .rdata_uncompressed(rr)
                    .map_err(|_| reject(rcode::FORMERR, "malformed prerequisite data"))?;
                let set = wanted.entry((name, rr.rtype)).or_default();
                if !set.contains(&rdata) {
                    set.push(rdata);
                }
            }
            _ => {
                return Err(reject(
                    rcode::FORMERR,
                    format!("prerequisite {shown}: bad class"),
                ))
            }
        }
    }
    // RFC 2136 3.2.3: the RRset must be exactly the one given.
    for ((name, rtype), mut want) in wanted {
        let mut have: Vec<Vec<u8>> = zone
            .node(&name)
            .and_then(|n| n.rrset(rtype))
            .map(|set| set.rdatas().map(<[u8]>::to_vec).collect())
            .unwrap_or_default();
        want.sort();
        have.sort();
        if want != have {
            return Err(reject(
                rcode::NXRRSET,
                format!(
                    "prerequisite: {} at {} is not as given",
                    types::type_name(rtype),
                    to_presentation(&name)
                ),
            ));
        }
    }
    Ok(())
}

/// RFC 2136 3.4.1: every update record is well formed, in the zone, and allowed.
fn prescan(
    message: &Message<'_>,
    zone: &Zone,
    allowed: &dyn Fn(&[u8], u16) -> bool,
) -> Result<(), Rejection> {
    for rr in &message.authorities {
        let name = rr.owner.to_ascii_lowercase();
        let shown = to_presentation(&rr.owner);
        if !is_subdomain(&name, &zone.origin) {
            return Err(reject(
                rcode::NOTZONE,
                format!("update {shown}: outside the zone"),
            ));
        }
        let well_formed = match rr.class {
            CLASS_IN => !is_meta_type(rr.rtype) && rr.rtype != types::ANY,
            CLASS_ANY => rr.ttl == 0 && rr.rdata_len == 0 && !is_meta_type(rr.rtype),
            CLASS_NONE => rr.ttl == 0 && !is_meta_type(rr.rtype) && rr.rtype != types::ANY,
            _ => false,
        };
        if !well_formed {
            return Err(reject(
                rcode::FORMERR,
                format!(
                    "update {shown} {}: bad class, type or TTL",
                    types::type_name(rr.rtype)
                ),
            ));
        }
        // Data to add or delete must read as its type (a 5-byte A, a name that does
        // not end): never into the zone, where a saved copy would then not load.
        // And as a zone file would take it (no empty DHCID, say): the saved zone
        // must load again, or the updates past the journal's history are lost.
        let as_file = || {
            message
                .rdata_uncompressed(rr)
                .ok()
                .is_some_and(|rdata| check_data_of_type(rr.rtype, &rdata, &zone.origin).is_ok())
        };
        if rr.class != CLASS_ANY && (check_rdata(message.packet, rr).is_err() || !as_file()) {
            return Err(reject(
                rcode::FORMERR,
                format!(
                    "update {shown} {}: RDATA does not read as its type",
                    types::type_name(rr.rtype)
                ),
            ));
        }
        if !allowed(&name, rr.rtype) {
            return Err(reject(
                rcode::REFUSED,
                format!(
                    "update {shown} {}: not allowed for this key",
                    types::type_name(rr.rtype)
                ),
            ));
        }
    }
    Ok(())
}

/// An RRset being worked on: its TTL and records.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct Set {
    ttl: u32,
    rdatas: Vec<Vec<u8>>,
}

/// The RRsets the update touches, as they are now and as they were.
struct Working<'z> {
    zone: &'z Zone,
    /// Names whose RRsets are all loaded.
    loaded: HashSet<Vec<u8>>,
    /// RRsets now (an empty one: gone).
    sets: BTreeMap<(Vec<u8>, u16), Set>,
    /// RRsets as the snapshot has them.
    original: BTreeMap<(Vec<u8>, u16), Set>,
}

impl<'z> Working<'z> {
    fn new(zone: &'z Zone) -> Self {
        Working {
            zone,
            loaded: HashSet::new(),
            sets: BTreeMap::new(),
            original: BTreeMap::new(),
        }
    }

    /// Loads every RRset of `name` from the snapshot (once).
    fn load(&mut self, name: &[u8]) {
        if !self.loaded.insert(name.to_vec()) {
            return;
        }
        let Some(node) = self.zone.node(name) else {
            return;
        };
        for set in &node.rrsets {
            let loaded = Set {
                ttl: set.ttl,
                rdatas: set.rdatas().map(<[u8]>::to_vec).collect(),
            };
            self.original
                .insert((name.to_vec(), set.rtype), loaded.clone());
            self.sets.insert((name.to_vec(), set.rtype), loaded);
        }
    }

    /// The types with records at `name` now.
    fn types_at(&mut self, name: &[u8]) -> Vec<u16> {
        self.load(name);
        self.sets
            .range((name.to_vec(), 0)..=(name.to_vec(), u16::MAX))
            .filter(|(_, set)| !set.rdatas.is_empty())
            .map(|((_, t), _)| *t)
            .collect()
    }

    fn set(&mut self, name: &[u8], rtype: u16) -> &mut Set {
        self.load(name);
        self.sets.entry((name.to_vec(), rtype)).or_default()
    }

    /// RFC 2136 3.4.2: one update record.
    fn update(&mut self, message: &Message<'_>, rr: &RecordView) -> Result<(), Rejection> {
        let name = rr.owner.to_ascii_lowercase();
        let is_apex = *name == *self.zone.origin;
        match rr.class {
            CLASS_IN => {
                let rdata = message
                    .rdata_uncompressed(rr)
                    .map_err(|_| reject(rcode::FORMERR, "malformed update data"))?;
                if rdata.len() > usize::from(u16::MAX) {
                    return Err(reject(rcode::FORMERR, "update data too long"));
                }
                let present = self.types_at(&name);
                match rr.rtype {
                    types::SOA => {
                        // 3.4.2.2: only at the apex, only a newer serial.
                        let current = self
                            .set(&name, types::SOA)
                            .rdatas
                            .first()
                            .map(|r| serial_of(r));
                        if let Some(current) = current {
                            if is_newer(serial_of(&rdata), current) {
                                *self.set(&name, types::SOA) = Set {
                                    ttl: rr.ttl,
                                    rdatas: vec![rdata],
                                };
                            }
                        }
                    }
                    types::CNAME => {
                        // A CNAME beside other data is ignored; one CNAME replaces another.
                        if present
                            .iter()
                            .all(|&t| t == types::CNAME || is_dnssec_type(t))
                        {
                            *self.set(&name, types::CNAME) = Set {
                                ttl: rr.ttl,
                                rdatas: vec![rdata],
                            };
                        }
                    }
                    rtype => {
                        // Other data beside a CNAME is ignored.
                        if present.contains(&types::CNAME) && !is_dnssec_type(rtype) {
                            return Ok(());
                        }
                        let set = self.set(&name, rtype);
                        // A record joining a set gives the set its TTL; a repeated one
                        // replaces itself (a TTL change at most).
                        set.ttl = rr.ttl;
                        if !set.rdatas.contains(&rdata) {
                            set.rdatas.push(rdata);
                        }
                    }
                }
            }
            CLASS_ANY if rr.rtype == types::ANY => {
                for rtype in self.types_at(&name) {
                    if !(is_apex && matches!(rtype, types::SOA | types::NS)) {
                        self.set(&name, rtype).rdatas.clear();
                    }
                }
            }
            CLASS_ANY => {
                if !(is_apex && matches!(rr.rtype, types::SOA | types::NS)) {
                    self.set(&name, rr.rtype).rdatas.clear();
                }
            }
            CLASS_NONE => {
                if rr.rtype == types::SOA {
                    return Ok(());
                }
                let rdata = message
                    .rdata_uncompressed(rr)
                    .map_err(|_| reject(rcode::FORMERR, "malformed update data"))?;
                let set = self.set(&name, rr.rtype);
                if rr.rtype == types::NS && is_apex && set.rdatas == [rdata.clone()] {
                    // The last NS of the apex stays.
                    return Ok(());
                }
                set.rdatas.retain(|r| *r != rdata);
            }
            _ => return Err(reject(rcode::FORMERR, "bad class")),
        }
        Ok(())
    }

    /// The change from the snapshot, or `None` when there is none.
    fn difference(&self) -> Option<ChangeSet> {
        let mut changes = ChangeSet::default();
        let empty = Set::default();
        for ((name, rtype), now) in &self.sets {
            let was = self.original.get(&(name.clone(), *rtype)).unwrap_or(&empty);
            if was == now {
                continue;
            }
            let record = |rdata: &Vec<u8>, ttl| Record {
                owner: name.clone(),
                rtype: *rtype,
                ttl,
                rdata: rdata.clone(),
            };
            if was.ttl != now.ttl && !was.rdatas.is_empty() && !now.rdatas.is_empty() {
                // A new TTL: the whole set out and in again (a journal names records).
                changes
                    .removed
                    .extend(was.rdatas.iter().map(|r| record(r, was.ttl)));
                changes
                    .added
                    .extend(now.rdatas.iter().map(|r| record(r, now.ttl)));
                continue;
            }
            changes.removed.extend(
                was.rdatas
                    .iter()
                    .filter(|r| !now.rdatas.contains(r))
                    .map(|r| record(r, was.ttl)),
            );
            changes.added.extend(
                now.rdatas
                    .iter()
                    .filter(|r| !was.rdatas.contains(r))
                    .map(|r| record(r, now.ttl)),
            );
        }
        (!changes.is_empty()).then_some(changes)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
