//! Signing a change to a signed zone as it is made: the change's data, then the
//! NSEC/NSEC3 chain repaired ([`super::chain`]), then the signatures brought in line
//! (every changed RRset, the SOA and every rewritten link signed afresh; RRSIGs of
//! RRsets that are gone or no longer authoritative removed; RRsets that became
//! authoritative signed). The result is one [`ChangeSet`]: the data and every
//! DNSSEC record it takes out and puts in, as the journal keeps it and an IXFR
//! carries it.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use super::chain::{is_chain_or_signature, repair_nsec, repair_nsec3, Canonical, Nsec3Params};
use super::key::{SignError, SigningKey};
use super::rrsig::{sign_rrset, RrsigFields, Validity};
use crate::auth::name_tree::NameKey;
use crate::auth::node::{flags, Node};
use crate::auth::{ChangeSet, CheckError, Denial, Record, Zone};
use crate::wire::name::to_presentation;
use crate::wire::types;

/// How long signatures are made valid for, and when they are made again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignatureTiming {
    /// Validity of a new signature from now (Knot DNS's rrsig-lifetime).
    pub lifetime_secs: u32,
    /// A signature with less than this left is made again (Knot's rrsig-refresh).
    pub refresh_secs: u32,
    /// Inception is set this far in the past, for validators with slow clocks.
    pub inception_offset_secs: u32,
}

impl Default for SignatureTiming {
    fn default() -> Self {
        SignatureTiming {
            lifetime_secs: 14 * 86_400,
            refresh_secs: 7 * 86_400,
            inception_offset_secs: 3_600,
        }
    }
}

/// Why a change could not be signed.
#[derive(Debug, thiserror::Error)]
pub enum SigningError {
    /// None of the zone's keys is active and published in its DNSKEY RRset.
    #[error("zone {zone}: no active signing key whose DNSKEY is published in the zone")]
    NoActiveKey {
        /// The zone.
        zone: String,
    },
    /// The crypto library failed.
    #[error("zone {zone}: {source}")]
    Sign {
        /// The zone.
        zone: String,
        /// What failed.
        source: SignError,
    },
    /// The signing task did not finish (the runtime is stopping).
    #[error("the signing task did not finish")]
    Interrupted,
    /// The signed change does not apply (a bug, or a zone in a shape it cannot
    /// repair).
    #[error("zone {zone}: the signed change does not apply: {source}")]
    Apply {
        /// The zone.
        zone: String,
        /// The check that failed.
        source: CheckError,
    },
}

/// A change with its DNSSEC records, and the version it makes.
#[derive(Debug)]
pub struct SignedChange {
    /// Everything the change takes out and puts in.
    pub changes: ChangeSet,
    /// The new version of the zone.
    pub zone: Zone,
    /// Signatures made.
    pub signatures: usize,
}

/// One zone's keys and timing: signs its changes.
#[derive(Debug, Clone)]
pub struct ZoneSigner {
    /// The zone's keys (the files found for it).
    pub keys: Vec<Arc<SigningKey>>,
    /// Validity and refresh.
    pub timing: SignatureTiming,
}

/// A set of RRsets by owner: (owner, type).
type RRsetNames = BTreeSet<(Canonical, u16)>;

impl ZoneSigner {
    /// The keys that sign in `zone` at `now`: active, and published at its apex.
    fn usable<'k>(&'k self, zone: &Zone, now: u64) -> Vec<&'k SigningKey> {
        let published = zone.apex().and_then(|apex| apex.rrset(types::DNSKEY));
        self.keys
            .iter()
            .map(|k| &**k)
            .filter(|k| k.is_active(now))
            .filter(|k| published.is_some_and(|set| set.contains(&k.dnskey)))
            .collect()
    }

    /// Whether the keys can sign `zone` now.
    pub fn can_sign(&self, zone: &Zone, now: u64) -> bool {
        !self.usable(zone, now).is_empty()
    }

    /// Applies `data` (a change without DNSSEC records, the SOA serial advanced) to
    /// `zone` and signs it; `refresh` names more RRsets to sign again (their own
    /// signatures replaced, others' kept).
    pub fn sign_change(
        &self,
        zone: &Zone,
        data: ChangeSet,
        refresh: &[(Box<[u8]>, u16)],
        now: u64,
    ) -> Result<SignedChange, SigningError> {
        let shown = to_presentation(&zone.origin);
        let keys = self.usable(zone, now);
        if keys.is_empty() {
            return Err(SigningError::NoActiveKey { zone: shown });
        }
        let apply = |z: &Zone, c: &ChangeSet| {
            z.apply(c).map_err(|source| SigningError::Apply {
                zone: shown.clone(),
                source,
            })
        };
        let with_data = apply(zone, &data)?;

        // The names whose links and signatures may change.
        let mut affected = BTreeSet::new();
        let mut fresh = RRsetNames::new();
        for record in data.removed.iter().chain(&data.added) {
            let Some(owner) = Canonical::new(&record.owner) else {
                continue;
            };
            fresh.insert((owner.clone(), record.rtype));
            add_with_ancestors(&mut affected, &owner, &zone.origin);
            if matches!(record.rtype, types::NS | types::DNAME) {
                // A cut or DNAME that came or went changes what is authoritative below.
                for z in [zone, &with_data] {
                    if let Some(key) = NameKey::new(&owner.name) {
                        affected
                            .extend(z.subtree(key.full()).filter_map(|(n, _)| Canonical::new(n)));
                    }
                }
            }
        }
        let ttl = chain_ttl(zone);
        let chain = match with_data.dnssec {
            Denial::Nsec => repair_nsec(&with_data, &affected, ttl),
            Denial::Nsec3 => match Nsec3Params::of(&with_data) {
                Some(params) => repair_nsec3(&with_data, &affected, &params, ttl),
                None => Default::default(),
            },
            Denial::Unsigned => Default::default(),
        };
        let chain_changes = ChangeSet {
            removed: chain.removed,
            added: chain.added,
        };
        let with_chain = apply(&with_data, &chain_changes)?;
        for record in chain_changes.added.iter().chain(&chain_changes.removed) {
            if let Some(owner) = Canonical::new(&record.owner) {
                fresh.insert((owner.clone(), record.rtype));
                affected.insert(owner);
            }
        }
        if let Some(apex) = Canonical::new(&zone.origin) {
            fresh.insert((apex, types::SOA));
        }
        let mut refreshed = RRsetNames::new();
        for (owner, rtype) in refresh {
            if let Some(owner) = Canonical::new(owner) {
                refreshed.insert((owner.clone(), *rtype));
                affected.insert(owner);
            }
        }

        let validity = self.validity(now);
        let mut signatures = ChangeSet::default();
        let mut made = 0usize;
        for name in &affected {
            let Some(node) = with_chain.node(&name.name) else {
                continue;
            };
            made += self
                .reconcile(
                    &with_chain,
                    name,
                    node,
                    &fresh,
                    &refreshed,
                    &keys,
                    validity,
                    &mut signatures,
                )
                .map_err(|source| SigningError::Sign {
                    zone: to_presentation(&zone.origin),
                    source,
                })?;
        }
        let signed = apply(&with_chain, &signatures)?;
        let mut changes = data;
        changes.removed.extend(chain_changes.removed);
        changes.removed.extend(signatures.removed);
        changes.added.extend(chain_changes.added);
        changes.added.extend(signatures.added);
        Ok(SignedChange {
            changes,
            zone: signed,
            signatures: made,
        })
    }

    /// The validity of signatures made at `now`.
    fn validity(&self, now: u64) -> Validity {
        Validity {
            inception: (now as u32).wrapping_sub(self.timing.inception_offset_secs),
            expiration: (now as u32).wrapping_add(self.timing.lifetime_secs),
        }
    }

    /// Brings the signatures at one name in line with its RRsets; returns how many
    /// were made.
    #[allow(clippy::too_many_arguments)]
    fn reconcile(
        &self,
        zone: &Zone,
        name: &Canonical,
        node: &Node,
        fresh: &RRsetNames,
        refreshed: &RRsetNames,
        keys: &[&SigningKey],
        validity: Validity,
        out: &mut ChangeSet,
    ) -> Result<usize, SignError> {
        let is_apex = name.name[..] == zone.origin[..];
        let sigs: Vec<&[u8]> = node
            .rrset(types::RRSIG)
            .map(|s| s.rdatas().collect())
            .unwrap_or_default();
        let sig_ttl = node.rrset(types::RRSIG).map_or(0, |s| s.ttl);
        let covering = |rtype: u16| {
            sigs.iter()
                .copied()
                .filter(move |r| RrsigFields::of(r).is_some_and(|f| f.covered == rtype))
        };
        let mut made = 0;
        // Signatures of RRsets that are gone, or that are not signed here.
        for sig in &sigs {
            let Some(fields) = RrsigFields::of(sig) else {
                continue;
            };
            let present = node.rrset(fields.covered).is_some();
            if !present || !is_signed(node, fields.covered, is_apex) {
                out.removed
                    .push(record(&name.name, types::RRSIG, sig_ttl, sig));
            }
        }
        for set in &node.rrsets {
            if !is_signed(node, set.rtype, is_apex) {
                continue;
            }
            let key = (name.clone(), set.rtype);
            let ours =
                |r: &&[u8]| RrsigFields::of(r).is_some_and(|f| keys.iter().any(|k| f.is_by(k)));
            let stale: Vec<&[u8]> = if fresh.contains(&key) {
                covering(set.rtype).collect()
            } else if refreshed.contains(&key) {
                covering(set.rtype).filter(ours).collect()
            } else if covering(set.rtype).next().is_none() {
                Vec::new()
            } else {
                continue;
            };
            for sig in stale {
                out.removed
                    .push(record(&name.name, types::RRSIG, sig_ttl, sig));
            }
            for key in signers_of(keys, set.rtype) {
                let rdata =
                    sign_rrset(key, &name.name, set.rtype, set.ttl, set.rdatas(), validity)?;
                out.added.push(Record {
                    owner: name.name.to_vec(),
                    rtype: types::RRSIG,
                    ttl: set.ttl,
                    rdata,
                });
                made += 1;
            }
        }
        Ok(made)
    }

    /// The RRsets whose signatures by these keys expire within the refresh time:
    /// (owner, type covered). Walks the whole zone.
    pub fn expiring(&self, zone: &Zone, now: u64) -> Vec<(Box<[u8]>, u16)> {
        let keys = self.usable(zone, now);
        let mut due = BTreeMap::new();
        for (name, node) in zone.names() {
            let Some(sigs) = node.rrset(types::RRSIG) else {
                continue;
            };
            for sig in sigs.rdatas() {
                let Some(fields) = RrsigFields::of(sig) else {
                    continue;
                };
                // RFC 4034 3.1.5: serial-number arithmetic on 32-bit times.
                let left = fields.expiration.wrapping_sub(now as u32) as i32;
                if keys.iter().any(|k| fields.is_by(k))
                    && i64::from(left) < i64::from(self.timing.refresh_secs)
                {
                    due.insert((Box::<[u8]>::from(name), fields.covered), ());
                }
            }
        }
        due.into_keys().collect()
    }
}

/// Adds `name` and each of its ancestors down to `origin`.
fn add_with_ancestors(set: &mut BTreeSet<Canonical>, name: &Canonical, origin: &[u8]) {
    let mut offsets = crate::wire::name::suffix_offsets(&name.name);
    for off in offsets.by_ref() {
        let suffix = &name.name[off..];
        if suffix.len() < origin.len() {
            break;
        }
        if let Some(c) = Canonical::new(suffix) {
            set.insert(c);
        }
    }
}

/// Whether the RRset of `rtype` at `node` is signed (RFC 4035 2.2): authoritative
/// data only — at a cut just DS and NSEC, nothing below a cut, never RRSIG.
fn is_signed(node: &Node, rtype: u16, is_apex: bool) -> bool {
    if rtype == types::RRSIG || node.flags & flags::OCCLUDED != 0 {
        return false;
    }
    if !is_apex && node.flags & flags::CUT != 0 {
        return matches!(rtype, types::DS | types::NSEC);
    }
    true
}

/// The keys that sign an RRset of `rtype`: key-signing keys sign the DNSKEY RRset
/// (and CDS/CDNSKEY), zone-signing keys the rest; a zone with keys of one kind
/// only signs everything with them.
fn signers_of<'k>(keys: &[&'k SigningKey], rtype: u16) -> Vec<&'k SigningKey> {
    let wants_ksk = matches!(rtype, types::DNSKEY | 59 | 60);
    let chosen: Vec<&SigningKey> = keys
        .iter()
        .copied()
        .filter(|k| k.is_ksk() == wants_ksk)
        .collect();
    if chosen.is_empty() {
        keys.to_vec()
    } else {
        chosen
    }
}

/// The TTL of new NSEC/NSEC3 records: that of the chain's links already there
/// (the apex NSEC, or the first NSEC3), else the negative TTL (RFC 9077).
fn chain_ttl(zone: &Zone) -> u32 {
    let nsec = zone.apex().and_then(|a| a.rrset(types::NSEC));
    let nsec3 = || {
        let index = zone.nsec3.as_deref()?;
        index.record(zone, 0)?.1.rrset(types::NSEC3)
    };
    nsec.or_else(nsec3).map_or(zone.negative_ttl, |s| s.ttl)
}

fn record(owner: &[u8], rtype: u16, ttl: u32, rdata: &[u8]) -> Record {
    Record {
        owner: owner.to_vec(),
        rtype,
        ttl,
        rdata: rdata.to_vec(),
    }
}

/// Whether a change touches records the signer keeps itself.
pub fn touches_dnssec(changes: &ChangeSet) -> bool {
    changes
        .removed
        .iter()
        .chain(&changes.added)
        .any(|r| is_chain_or_signature(r.rtype))
}
