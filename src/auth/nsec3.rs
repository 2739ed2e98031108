//! NSEC3 (RFC 5155) for signed zones that deny with it: the zone's hash chain,
//! sorted, and for every name of the zone — hashed once, when the zone is built or
//! the name is added, never on the query path — its hash and that of `*.name`, the
//! wildcard a missing name below it could have matched; the NSEC3 that matches or
//! covers each is found in the chain by binary search. A query for a missing name
//! hashes one name: the next closer name of its closest-encloser proof.
//!
//! A new version of the zone ([`Nsec3Index::updated`]) copies the chain (hashes
//! only: a memory copy) and hashes only the names the change added; the names
//! of the last full build are shared between versions, the names changed since
//! are kept beside them, and the two are merged when the changes grow large.

use std::collections::HashMap;
use std::sync::Arc;

use sha1::{Digest, Sha1};

use super::node::Node;
use super::zone::Zone;
use crate::wire::name::{suffix_offsets, MAX_NAME_BYTES, NAME_BUF_BYTES};
use crate::wire::types;

/// SHA-1 digest length.
pub const HASH_BYTES: usize = 20;
/// Most iterations hashed (RFC 9276 asks for 0; 2,500 was RFC 5155's ceiling).
pub const MAX_ITERATIONS: u16 = 2_500;

/// What a zone name's NSEC3s are, by index into the chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NameProof {
    /// The NSEC3 whose hash is the name's.
    pub matching: Option<u32>,
    /// The NSEC3 covering the name's hash, when none matches (opt-out).
    pub covering: u32,
    /// The NSEC3 covering the hash of `*.name`, or matching it when that exists.
    pub wildcard: u32,
}

/// A zone name's hash and its wildcard's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct NameHashes {
    own: [u8; HASH_BYTES],
    star: [u8; HASH_BYTES],
}

type NameMap = HashMap<Box<[u8]>, NameHashes, foldhash::fast::RandomState>;

/// Names changed since the shared map was built: `None` for a name removed.
type RecentMap = HashMap<Box<[u8]>, Option<NameHashes>, foldhash::fast::RandomState>;

/// The hash chain of a zone. See the module doc.
#[derive(Debug, Clone)]
pub struct Nsec3Index {
    iterations: u16,
    salt: Box<[u8]>,
    /// The hash of every NSEC3's owner, in hash order.
    chain: Vec<[u8; HASH_BYTES]>,
    /// Every name's hashes as of the last full build, shared between versions.
    names: Arc<NameMap>,
    /// Names added or removed since.
    recent: RecentMap,
}

/// Names changed since the last full build past which the next version builds
/// the shared map again (besides an eighth of its size).
const RECENT_FOLD: usize = 4096;

/// The NSEC3 hash of `name` (lowercase wire format) (RFC 5155 5).
pub fn hash(name: &[u8], salt: &[u8], iterations: u16) -> [u8; HASH_BYTES] {
    let mut digest: [u8; HASH_BYTES] = Sha1::new()
        .chain_update(name)
        .chain_update(salt)
        .finalize()
        .into();
    for _ in 0..iterations.min(MAX_ITERATIONS) {
        digest = Sha1::new()
            .chain_update(digest)
            .chain_update(salt)
            .finalize()
            .into();
    }
    digest
}

/// The hash in the first label of an NSEC3 owner (base32hex, RFC 4648 7).
fn owner_hash(owner: &[u8]) -> Option<[u8; HASH_BYTES]> {
    let len = usize::from(*owner.first()?);
    let label = owner.get(1..1 + len)?;
    let decoded = data_encoding::BASE32HEX_NOPAD
        .decode(&label.to_ascii_uppercase())
        .ok()?;
    decoded.try_into().ok()
}

impl Nsec3Index {
    /// The salt and iterations of `zone`'s NSEC3PARAM (SHA-1 only).
    fn parameters(zone: &Zone) -> Option<(u16, Box<[u8]>)> {
        let param = zone.apex()?.rrset(types::NSEC3PARAM)?.rdatas().next()?;
        // Hash algorithm 1 (SHA-1), flags, iterations, salt length, salt.
        if *param.first()? != 1 {
            return None;
        }
        let iterations = u16::from_be_bytes([*param.get(2)?, *param.get(3)?]);
        let salt_len = usize::from(*param.get(4)?);
        Some((iterations, param.get(5..5 + salt_len)?.into()))
    }

    /// The index of `zone`, when its apex has an NSEC3PARAM (SHA-1) and NSEC3s.
    pub fn build(zone: &Zone) -> Option<Nsec3Index> {
        let (iterations, salt) = Nsec3Index::parameters(zone)?;
        let mut chain: Vec<[u8; HASH_BYTES]> = zone
            .names()
            .filter(|(_, node)| node.rrset(types::NSEC3).is_some())
            .filter_map(|(name, _)| owner_hash(name))
            .collect();
        chain.sort_unstable();
        chain.dedup();
        if chain.is_empty() {
            return None;
        }
        let mut index = Nsec3Index {
            iterations,
            salt,
            chain,
            names: Arc::default(),
            recent: RecentMap::default(),
        };
        let names: NameMap = zone
            .names()
            .filter(|(_, node)| node.rrset(types::NSEC3).is_none())
            .map(|(name, _)| (Box::<[u8]>::from(name), index.hashes(name)))
            .collect();
        index.names = Arc::new(names);
        Some(index)
    }

    /// The index of `zone`, a new version of the zone this index is of, in which
    /// only the names `changed` (and their ancestors) may have come or gone or
    /// changed their NSEC3 records. Built whole when the parameters changed.
    pub fn updated<'n>(
        &self,
        zone: &Zone,
        changed: impl Iterator<Item = &'n [u8]>,
    ) -> Option<Nsec3Index> {
        let (iterations, salt) = Nsec3Index::parameters(zone)?;
        if iterations != self.iterations || salt != self.salt {
            return Nsec3Index::build(zone);
        }
        let mut next = Nsec3Index {
            iterations,
            salt,
            chain: self.chain.clone(),
            names: self.names.clone(),
            recent: self.recent.clone(),
        };
        for name in changed {
            for offset in suffix_offsets(name) {
                let suffix = &name[offset..];
                if suffix.len() < zone.origin.len() {
                    break;
                }
                next.update_name(zone, suffix);
            }
        }
        if next.chain.is_empty() {
            return None;
        }
        if next.recent.len() > RECENT_FOLD + next.names.len() / 8 {
            let mut names = (*next.names).clone();
            for (name, hashes) in next.recent.drain() {
                match hashes {
                    Some(h) => names.insert(name, h),
                    None => names.remove(&name),
                };
            }
            next.names = Arc::new(names);
        }
        Some(next)
    }

    /// Brings one name's entries up to date with `zone`.
    fn update_name(&mut self, zone: &Zone, name: &[u8]) {
        let node = zone.node(name);
        let is_link = node.is_some_and(|n| n.rrset(types::NSEC3).is_some());
        if let Some(digest) = owner_hash(name) {
            match (self.chain.binary_search(&digest), is_link) {
                (Err(at), true) => self.chain.insert(at, digest),
                (Ok(at), false) => {
                    self.chain.remove(at);
                }
                _ => {}
            }
        }
        let wanted = node.is_some() && !is_link;
        let known = self.known(name).is_some();
        if wanted && !known {
            let hashes = self.hashes(name);
            self.recent.insert(name.into(), Some(hashes));
        } else if !wanted && known {
            self.recent.insert(name.into(), None);
        }
    }

    /// The hashes of `name` and of `*.name`.
    fn hashes(&self, name: &[u8]) -> NameHashes {
        let own = hash(name, &self.salt, self.iterations);
        let len = name.len() + 2;
        let star = if len <= MAX_NAME_BYTES {
            let mut wildcard = [0u8; NAME_BUF_BYTES];
            wildcard[0] = 1;
            wildcard[1] = b'*';
            wildcard[2..len].copy_from_slice(name);
            hash(&wildcard[..len], &self.salt, self.iterations)
        } else {
            own
        };
        NameHashes { own, star }
    }

    /// The hashes of the zone name `name`, if it is one.
    fn known(&self, name: &[u8]) -> Option<NameHashes> {
        match self.recent.get(name) {
            Some(entry) => *entry,
            None => self.names.get(name).copied(),
        }
    }

    /// Whether an NSEC3 has `digest` (true), and the index of the one that has it or
    /// covers it (the last one before it, wrapping around).
    fn find(&self, digest: &[u8; HASH_BYTES]) -> (bool, u32) {
        match self.chain.binary_search(digest) {
            Ok(at) => (true, at as u32),
            Err(0) => (false, (self.chain.len().saturating_sub(1)) as u32),
            Err(at) => (false, (at - 1) as u32),
        }
    }

    /// The hash of the link before `digest` in the chain (wrapping around).
    pub fn before(&self, digest: &[u8; HASH_BYTES]) -> [u8; HASH_BYTES] {
        let at = match self.chain.binary_search(digest) {
            Ok(at) | Err(at) => at,
        };
        let at = at
            .checked_sub(1)
            .unwrap_or(self.chain.len().saturating_sub(1));
        self.chain.get(at).copied().unwrap_or(*digest)
    }

    /// The hash of the link after `digest` in the chain (wrapping around).
    pub fn after(&self, digest: &[u8; HASH_BYTES]) -> [u8; HASH_BYTES] {
        let at = match self.chain.binary_search(digest) {
            Ok(at) => at + 1,
            Err(at) => at,
        };
        self.chain
            .get(at)
            .or_else(|| self.chain.first())
            .copied()
            .unwrap_or(*digest)
    }

    /// What is known of the zone name `name` (lowercase).
    pub fn name(&self, name: &[u8]) -> Option<NameProof> {
        let hashes = self.known(name)?;
        let own = self.find(&hashes.own);
        Some(NameProof {
            matching: own.0.then_some(own.1),
            covering: own.1,
            wildcard: self.find(&hashes.star).1,
        })
    }

    /// The NSEC3 covering (or matching) the hash of `name`, a name not in the zone:
    /// hashed here, once.
    pub fn cover(&self, name: &[u8]) -> u32 {
        self.find(&hash(name, &self.salt, self.iterations)).1
    }

    /// The owner name of chain entry `at`, and its node in `zone`.
    pub fn record<'z>(&self, zone: &'z Zone, at: u32) -> Option<(&'z [u8], &'z Node)> {
        let digest = self.chain.get(at as usize)?;
        let mut owner = [0u8; NAME_BUF_BYTES];
        let label_len = BASE32_HASH_CHARS;
        let len = 1 + label_len + zone.origin.len();
        if len > MAX_NAME_BYTES {
            return None;
        }
        owner[0] = label_len as u8;
        data_encoding::BASE32HEX_NOPAD.encode_mut(digest, &mut owner[1..1 + label_len]);
        owner[1..1 + label_len].make_ascii_lowercase();
        owner[1 + label_len..len].copy_from_slice(&zone.origin);
        zone.node_with_name(&owner[..len])
    }
}

/// Characters of a SHA-1 hash in base32hex.
const BASE32_HASH_CHARS: usize = 32;

/// The next closer name of `name` for closest encloser `encloser` (RFC 5155 1.3):
/// `name`'s ancestor one label longer than `encloser`.
pub fn next_closer<'n>(name: &'n [u8], encloser: &[u8]) -> &'n [u8] {
    let mut previous = 0usize;
    for offset in suffix_offsets(name) {
        if name.len() - offset == encloser.len() {
            return &name[previous..];
        }
        previous = offset;
    }
    name
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn hashes_match_rfc_5155_appendix_a() {
        // RFC 5155 appendix A: salt aabbccdd, 12 iterations; H(example) =
        // 0p9mhaveqvm6t7vbl5lop2u3t2rp3tom.
        let salt = [0xaa, 0xbb, 0xcc, 0xdd];
        let digest = hash(b"\x07example\x00", &salt, 12);
        assert_eq!(
            data_encoding::BASE32HEX_NOPAD
                .encode(&digest)
                .to_ascii_lowercase(),
            "0p9mhaveqvm6t7vbl5lop2u3t2rp3tom"
        );
        let digest = hash(b"\x01a\x07example\x00", &salt, 12);
        assert_eq!(
            data_encoding::BASE32HEX_NOPAD
                .encode(&digest)
                .to_ascii_lowercase(),
            "35mthgpgcu1qg68fab165klnsnk3dpvl"
        );
        assert_eq!(
            owner_hash(b"\x200p9mhaveqvm6t7vbl5lop2u3t2rp3tom\x07example\x00"),
            Some(hash(b"\x07example\x00", &salt, 12))
        );
    }

    /// An NSEC3 zone (no real signatures: the index needs none) over `names`.
    fn nsec3_zone(names: &[&str]) -> Zone {
        use crate::wire::name::parse_presentation;
        let origin = b"\x07example\x00";
        let mut text = String::from(
            "$TTL 300\n@ SOA ns hm 1 2 3 4 60\n@ NS ns\nns A 192.0.2.53\n\
             @ NSEC3PARAM 1 0 0 -\n@ RRSIG SOA 13 1 300 20300101000000 20200101000000 1 example. AAAA\n",
        );
        let mut all = vec!["example.", "ns.example."];
        all.extend_from_slice(names);
        for name in &all {
            text.push_str(&format!("{name} A 192.0.2.1\n"));
        }
        for name in all {
            let wire = parse_presentation(name.as_bytes(), None).unwrap();
            let label = data_encoding::BASE32HEX_NOPAD
                .encode(&hash(&wire, &[], 0))
                .to_ascii_lowercase();
            text.push_str(&format!(
                "{label} NSEC3 1 0 0 - 00000000000000000000000000000000 A\n"
            ));
        }
        crate::zonefile::load_zone_text(origin, text.as_bytes(), std::path::Path::new("t")).unwrap()
    }

    #[test]
    fn an_updated_index_is_the_index_built_whole() {
        use crate::auth::{ChangeSet, Record};
        use crate::wire::name::parse_presentation;
        let zone = nsec3_zone(&["a.example.", "b.c.example."]);
        assert!(zone.nsec3.is_some());
        // A name two labels down (and its NSEC3) comes, one goes with its NSEC3.
        let wire = |n: &str| parse_presentation(n.as_bytes(), None).unwrap();
        let link = |n: &str| {
            let label = data_encoding::BASE32HEX_NOPAD
                .encode(&hash(&wire(n), &[], 0))
                .to_ascii_lowercase();
            wire(&format!("{label}.example."))
        };
        let nsec3 = b"\x01\x00\x00\x00\x00\x14\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x40".to_vec();
        let record = |owner: Vec<u8>, rtype: u16, rdata: Vec<u8>| Record {
            owner,
            rtype,
            ttl: 300,
            rdata,
        };
        let mut change = ChangeSet::default();
        change
            .removed
            .push(record(wire("b.c.example."), types::A, vec![192, 0, 2, 1]));
        change.removed.push(record(link("b.c.example."), types::NSEC3, b"\x01\x00\x00\x00\x00\x14\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x40".to_vec()));
        change
            .added
            .push(record(wire("x.y.example."), types::A, vec![192, 0, 2, 9]));
        change
            .added
            .push(record(link("x.y.example."), types::NSEC3, nsec3));
        let changed = zone.apply(&change).unwrap();
        let updated = changed.nsec3.as_deref().unwrap();
        let whole = Nsec3Index::build(&changed).unwrap();
        assert_eq!(updated.chain, whole.chain);
        for (name, _) in changed.names() {
            assert_eq!(updated.name(name), whole.name(name), "{name:?}");
        }
        for gone in ["b.c.example.", "c.example."] {
            assert_eq!(updated.name(&wire(gone)), None, "{gone} is gone");
        }
        assert!(
            updated.name(&wire("y.example.")).is_some(),
            "the new empty non-terminal"
        );
        assert_eq!(
            updated.cover(&wire("zz.example.")),
            whole.cover(&wire("zz.example."))
        );
    }

    #[test]
    fn next_closer_is_one_label_below_the_encloser() {
        assert_eq!(
            next_closer(b"\x01a\x01b\x01c\x07example\x00", b"\x07example\x00"),
            b"\x01c\x07example\x00"
        );
        assert_eq!(
            next_closer(b"\x01c\x07example\x00", b"\x07example\x00"),
            b"\x01c\x07example\x00"
        );
    }
}
