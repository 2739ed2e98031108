//! Repairing a signed zone's NSEC or NSEC3 chain after a change (RFC 4035 2.3, RFC
//! 5155 7.1): names that now need a link get one, names that no longer do lose
//! theirs, links whose type bitmap changed are rewritten, and the links before
//! every added or removed one are pointed at their new next name.
//!
//! The chain is read from the zone version that has the change's data but still
//! the old chain; only the names the change touched (and their ancestors, and
//! the names below a cut or DNAME that came or went) are looked at, and the
//! neighbours in the new chain are found from the old chain plus the links added
//! and minus the links removed — the zone is never walked whole.

use std::collections::{BTreeMap, BTreeSet};

use crate::auth::name_tree::NameKey;
use crate::auth::node::{flags, Node};
use crate::auth::nsec3::{hash, HASH_BYTES};
use crate::auth::{Record, Zone};
use crate::wire::types;

/// The records a repair takes out and puts in.
#[derive(Debug, Default)]
pub struct ChainEdit {
    /// NSEC/NSEC3 records removed.
    pub removed: Vec<Record>,
    /// NSEC/NSEC3 records added.
    pub added: Vec<Record>,
}

/// A name in canonical order (RFC 4034 6.1), for sets of names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Canonical {
    /// The trie key: its bytes sort as the names do.
    order: Box<[u8]>,
    /// The name, lowercase wire format.
    pub name: Box<[u8]>,
}

impl Canonical {
    /// The name (any case); `None` for a name too long to be one.
    pub fn new(name: &[u8]) -> Option<Canonical> {
        let key = NameKey::new(name)?;
        Some(Canonical {
            order: key.full().symbols().into(),
            name: key.name().into(),
        })
    }
}

impl PartialOrd for Canonical {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Canonical {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.order.cmp(&other.order)
    }
}

/// Whether a record type is one the signer keeps (clients may not change them).
pub fn is_chain_or_signature(rtype: u16) -> bool {
    matches!(rtype, types::RRSIG | types::NSEC | types::NSEC3)
}

/// Whether `node` holds data of its own, DNSSEC records aside.
fn has_data(node: &Node) -> bool {
    node.rrsets.iter().any(|s| !is_chain_or_signature(s.rtype))
}

/// The types an NSEC or NSEC3 bitmap lists for `node` (RFC 4035 2.3, RFC 5155
/// 3.2): at a cut only NS and DS (the parent's data); RRSIG when the name has
/// signed data, and NSEC for an NSEC chain.
fn bitmap_types(node: &Node, nsec: bool) -> Vec<u16> {
    let cut = node.flags & flags::CUT != 0;
    let mut codes: Vec<u16> = node
        .rrsets
        .iter()
        .map(|s| s.rtype)
        .filter(|&t| !is_chain_or_signature(t))
        .filter(|&t| !cut || t == types::NS || t == types::DS)
        .collect();
    let signed = if cut {
        nsec || node.rrset(types::DS).is_some()
    } else {
        nsec || !codes.is_empty()
    };
    if signed {
        codes.push(types::RRSIG);
    }
    if nsec {
        codes.push(types::NSEC);
    }
    codes
}

/// The new predecessor of `x` in a chain: the old one, past removed links, or an
/// added link if closer. `before(k)`: the old link before `k`, wrapping around.
fn new_before<K: Ord + Clone>(
    x: &K,
    added: &BTreeSet<K>,
    removed: &BTreeSet<K>,
    before: &dyn Fn(&K) -> Option<K>,
) -> Option<K> {
    let mut p = before(x)?;
    for _ in 0..=removed.len() {
        if !removed.contains(&p) {
            break;
        }
        p = before(&p)?;
    }
    let inserted = added
        .range(..x.clone())
        .next_back()
        .or_else(|| added.iter().next_back())
        .filter(|c| *c != x);
    // Circular distance backwards from x: names before x first, the nearest last.
    let rank = |c: &K| (c < x, c.clone());
    Some(match inserted {
        Some(c) if rank(c) > rank(&p) => c.clone(),
        _ => p,
    })
}

/// The new successor of `r` in a chain: the old one after `r` (or after its old
/// predecessor when `r` is new), past removed links, or an added link if closer.
fn new_after<K: Ord + Clone>(
    r: &K,
    in_old: bool,
    added: &BTreeSet<K>,
    removed: &BTreeSet<K>,
    before: &dyn Fn(&K) -> Option<K>,
    after: &dyn Fn(&K) -> Option<K>,
) -> Option<K> {
    let base = if in_old { r.clone() } else { before(r)? };
    let mut s = after(&base)?;
    for _ in 0..=removed.len() {
        if !removed.contains(&s) {
            break;
        }
        s = after(&s)?;
    }
    let inserted = added
        .range((
            std::ops::Bound::Excluded(r.clone()),
            std::ops::Bound::Unbounded,
        ))
        .next()
        .or_else(|| added.iter().next())
        .filter(|c| *c != r);
    let rank = |c: &K| (c <= r, c.clone());
    Some(match inserted {
        Some(c) if rank(c) < rank(&s) => c.clone(),
        _ => s,
    })
}

/// The NSEC chain repaired for the names in `affected` (see the module doc);
/// `zone` has the change's data and the old chain. `ttl`: for new NSECs.
pub fn repair_nsec(zone: &Zone, affected: &BTreeSet<Canonical>, ttl: u32) -> ChainEdit {
    let nsec_at = |name: &Canonical| {
        zone.node(&name.name)
            .and_then(|n| n.rrset(types::NSEC))
            .and_then(|s| s.rdatas().next())
            .map(<[u8]>::to_vec)
    };
    let needs = |name: &Canonical| {
        zone.node(&name.name)
            .is_some_and(|n| n.flags & flags::OCCLUDED == 0 && has_data(n))
    };
    let mut added = BTreeSet::new();
    let mut removed = BTreeSet::new();
    // Names whose link is written anew: (new bitmap, when recomputed).
    let mut rewrite: BTreeMap<Canonical, Option<Vec<u16>>> = BTreeMap::new();
    for name in affected {
        let node = zone.node(&name.name);
        match (nsec_at(name), needs(name), node) {
            (None, true, Some(node)) => {
                added.insert(name.clone());
                rewrite.insert(name.clone(), Some(bitmap_types(node, true)));
            }
            (Some(_), false, _) => {
                removed.insert(name.clone());
            }
            (Some(_), true, Some(node)) => {
                rewrite.insert(name.clone(), Some(bitmap_types(node, true)));
            }
            _ => {}
        }
    }
    let before = |k: &Canonical| {
        zone.covering_nsec(&k.name)
            .and_then(|(name, _)| Canonical::new(name))
    };
    let after = |k: &Canonical| {
        let rdata = nsec_at(k)?;
        let len = crate::wire::writer::wire_name_len(&rdata);
        Canonical::new(rdata.get(..len)?)
    };
    for x in added.iter().chain(&removed) {
        if let Some(p) = new_before(x, &added, &removed, &before) {
            rewrite.entry(p).or_insert(None);
        }
    }
    let mut edit = ChainEdit::default();
    for name in &removed {
        if let Some(old) = nsec_at(name) {
            edit.removed.push(record(&name.name, types::NSEC, ttl, old));
        }
    }
    for (name, bitmap) in rewrite {
        if removed.contains(&name) {
            continue;
        }
        let in_old = !added.contains(&name);
        let old = nsec_at(&name);
        let Some(next) = new_after(&name, in_old, &added, &removed, &before, &after) else {
            continue;
        };
        let mut rdata = next.name.to_vec();
        match (&bitmap, &old) {
            (Some(codes), _) => encode_bitmap(codes, &mut rdata),
            (None, Some(old)) => {
                let len = crate::wire::writer::wire_name_len(old);
                rdata.extend_from_slice(old.get(len..).unwrap_or_default());
            }
            (None, None) => continue,
        }
        if old.as_ref() == Some(&rdata) {
            continue;
        }
        if let Some(old) = old {
            edit.removed.push(record(&name.name, types::NSEC, ttl, old));
        }
        edit.added.push(record(&name.name, types::NSEC, ttl, rdata));
    }
    edit
}

/// An NSEC3 chain's parameters (from the NSEC3PARAM) and opt-out (from its links).
#[derive(Debug, Clone)]
pub struct Nsec3Params {
    /// Iterations.
    pub iterations: u16,
    /// Salt.
    pub salt: Vec<u8>,
    /// Whether the chain leaves out insecure delegations (RFC 5155 6).
    pub opt_out: bool,
}

impl Nsec3Params {
    /// The parameters of `zone`'s chain.
    pub fn of(zone: &Zone) -> Option<Nsec3Params> {
        let param = zone.apex()?.rrset(types::NSEC3PARAM)?.rdatas().next()?;
        let iterations = u16::from_be_bytes([*param.get(2)?, *param.get(3)?]);
        let salt = param.get(5..5 + usize::from(*param.get(4)?))?.to_vec();
        let apex_link = hashed_owner(&zone.origin, &hash(&zone.origin, &salt, iterations));
        let opt_out = zone
            .node(&apex_link)
            .and_then(|n| n.rrset(types::NSEC3))
            .and_then(|s| s.rdatas().next())
            .and_then(|r| r.get(1).copied())
            .is_some_and(|f| f & 1 != 0);
        Some(Nsec3Params {
            iterations,
            salt,
            opt_out,
        })
    }
}

/// The owner of the NSEC3 for `digest`: its base32hex, then the zone's name.
pub fn hashed_owner(origin: &[u8], digest: &[u8; HASH_BYTES]) -> Vec<u8> {
    let label = data_encoding::BASE32HEX_NOPAD
        .encode(digest)
        .to_ascii_lowercase();
    let mut owner = vec![label.len() as u8];
    owner.extend_from_slice(label.as_bytes());
    owner.extend_from_slice(origin);
    owner
}

/// The NSEC3 chain repaired for the names in `affected` (see the module doc).
pub fn repair_nsec3(
    zone: &Zone,
    affected: &BTreeSet<Canonical>,
    params: &Nsec3Params,
    ttl: u32,
) -> ChainEdit {
    type Digest = [u8; HASH_BYTES];
    let Some(index) = zone.nsec3.as_deref() else {
        return ChainEdit::default();
    };
    let link_at = |digest: &Digest| {
        zone.node(&hashed_owner(&zone.origin, digest))
            .and_then(|n| n.rrset(types::NSEC3))
            .and_then(|s| s.rdatas().next())
            .map(<[u8]>::to_vec)
    };
    // A name the chain covers: it exists (with data, or as an empty non-terminal
    // above data), is not occluded, and is not an insecure delegation opted out.
    let needs = |name: &[u8]| {
        let Some(node) = zone.node(name) else {
            return false;
        };
        if node.flags & flags::OCCLUDED != 0 || node.rrset(types::NSEC3).is_some() {
            return false;
        }
        if params.opt_out && node.flags & flags::CUT != 0 && node.rrset(types::DS).is_none() {
            return false;
        }
        has_data(node)
            || NameKey::new(name)
                .is_some_and(|key| zone.subtree(key.full()).skip(1).any(|(_, n)| has_data(n)))
    };
    let mut added = BTreeSet::new();
    let mut removed = BTreeSet::new();
    let mut rewrite: BTreeMap<Digest, Option<Vec<u16>>> = BTreeMap::new();
    for name in affected {
        let digest = hash(&name.name, &params.salt, params.iterations);
        let bitmap = || zone.node(&name.name).map(|n| bitmap_types(n, false));
        match (link_at(&digest).is_some(), needs(&name.name)) {
            (false, true) => {
                added.insert(digest);
                rewrite.insert(digest, bitmap());
            }
            (true, false) => {
                removed.insert(digest);
            }
            (true, true) => {
                rewrite.insert(digest, bitmap());
            }
            (false, false) => {}
        }
    }
    let before = |k: &Digest| Some(index.before(k));
    let after = |k: &Digest| Some(index.after(k));
    for x in added.iter().chain(&removed) {
        if let Some(p) = new_before(x, &added, &removed, &before) {
            rewrite.entry(p).or_insert(None);
        }
    }
    let mut edit = ChainEdit::default();
    for digest in &removed {
        if let Some(old) = link_at(digest) {
            edit.removed.push(record(
                &hashed_owner(&zone.origin, digest),
                types::NSEC3,
                ttl,
                old,
            ));
        }
    }
    for (digest, bitmap) in rewrite {
        if removed.contains(&digest) {
            continue;
        }
        let old = link_at(&digest);
        let in_old = old.is_some();
        let Some(next) = new_after(&digest, in_old, &added, &removed, &before, &after) else {
            continue;
        };
        // Hash algorithm 1, flags, iterations, salt, next hash, bitmap.
        let mut rdata = vec![1, u8::from(params.opt_out)];
        rdata.extend_from_slice(&params.iterations.to_be_bytes());
        rdata.push(params.salt.len() as u8);
        rdata.extend_from_slice(&params.salt);
        rdata.push(HASH_BYTES as u8);
        rdata.extend_from_slice(&next);
        match (&bitmap, &old) {
            (Some(codes), _) => encode_bitmap(codes, &mut rdata),
            (None, Some(old)) => {
                let bitmap_at = 5 + params.salt.len() + 1 + HASH_BYTES;
                rdata.extend_from_slice(old.get(bitmap_at..).unwrap_or_default());
            }
            (None, None) => continue,
        }
        if old.as_ref() == Some(&rdata) {
            continue;
        }
        let owner = hashed_owner(&zone.origin, &digest);
        if let Some(old) = old {
            edit.removed.push(record(&owner, types::NSEC3, ttl, old));
        }
        edit.added.push(record(&owner, types::NSEC3, ttl, rdata));
    }
    edit
}

fn record(owner: &[u8], rtype: u16, ttl: u32, rdata: Vec<u8>) -> Record {
    Record {
        owner: owner.to_vec(),
        rtype,
        ttl,
        rdata,
    }
}

/// Appends the type bitmap of `codes` (RFC 4034 4.1.2).
fn encode_bitmap(codes: &[u16], out: &mut Vec<u8>) {
    let mut codes = codes.to_vec();
    codes.sort_unstable();
    codes.dedup();
    types::encode_bitmap(&codes, out);
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn set(items: &[u8]) -> BTreeSet<u8> {
        items.iter().copied().collect()
    }

    #[test]
    fn neighbours_in_the_new_chain() {
        // Old chain 10, 20, 30, 40 (circular); 25 added, 30 removed.
        let old = [10u8, 20, 30, 40];
        let before = |k: &u8| old.iter().rev().find(|&&o| o < *k).or(old.last()).copied();
        let after = |k: &u8| old.iter().find(|&&o| o > *k).or(old.first()).copied();
        let (added, removed) = (set(&[25]), set(&[30]));
        assert_eq!(new_before(&25, &added, &removed, &before), Some(20));
        assert_eq!(new_before(&30, &added, &removed, &before), Some(25));
        assert_eq!(
            new_after(&20, true, &added, &removed, &before, &after),
            Some(25)
        );
        assert_eq!(
            new_after(&25, false, &added, &removed, &before, &after),
            Some(40)
        );
        // Wrapping: 5 added before the first, 45 after the last.
        let (added, removed) = (set(&[5, 45]), set(&[]));
        assert_eq!(new_before(&5, &added, &removed, &before), Some(45));
        assert_eq!(
            new_after(&45, false, &added, &removed, &before, &after),
            Some(5)
        );
        assert_eq!(
            new_after(&40, true, &added, &removed, &before, &after),
            Some(45)
        );
        assert_eq!(new_before(&45, &added, &removed, &before), Some(40));
    }
}
