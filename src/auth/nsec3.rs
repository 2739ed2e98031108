//! NSEC3 (RFC 5155) for signed zones that deny with it: the zone's hash chain,
//! sorted, and for every name of the zone — hashed once, when the zone is built,
//! never on the query path — the NSEC3 that matches it (or, for a name left out
//! by opt-out, the one that covers it) and the one that covers `*.name`, the
//! wildcard a missing name below it could have matched. A query for a missing
//! name hashes one name: the next closer name of its closest-encloser proof.

use std::collections::HashMap;

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

/// One link of the chain: an NSEC3's hash and its owner name.
type Link = ([u8; HASH_BYTES], Box<[u8]>);

/// The hash chain of a zone. See the module doc.
#[derive(Debug, Clone)]
pub struct Nsec3Index {
    iterations: u16,
    salt: Box<[u8]>,
    /// (hash, owner name) of every NSEC3, in hash order.
    chain: Box<[Link]>,
    by_name: HashMap<Box<[u8]>, NameProof, foldhash::fast::RandomState>,
}

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
    /// The index of `zone`, when its apex has an NSEC3PARAM (SHA-1) and NSEC3s.
    pub fn build(zone: &Zone) -> Option<Nsec3Index> {
        let param = zone.apex()?.rrset(types::NSEC3PARAM)?.rdatas().next()?;
        // Hash algorithm 1 (SHA-1), flags, iterations, salt length, salt.
        if *param.first()? != 1 {
            return None;
        }
        let iterations = u16::from_be_bytes([*param.get(2)?, *param.get(3)?]);
        let salt_len = usize::from(*param.get(4)?);
        let salt: Box<[u8]> = param.get(5..5 + salt_len)?.into();
        let mut chain: Vec<Link> = zone
            .names()
            .filter(|(_, node)| node.rrset(types::NSEC3).is_some())
            .filter_map(|(name, _)| Some((owner_hash(name)?, name.into())))
            .collect();
        chain.sort_unstable_by_key(|link| link.0);
        if chain.is_empty() {
            return None;
        }
        let mut index = Nsec3Index {
            iterations,
            salt,
            chain: chain.into_boxed_slice(),
            by_name: HashMap::default(),
        };
        let mut wildcard = [0u8; NAME_BUF_BYTES];
        let mut proofs = Vec::new();
        for (name, node) in zone.names() {
            if node.rrset(types::NSEC3).is_some() {
                continue; // the chain's own names are not hashed
            }
            let own = index.find(&hash(name, &index.salt, iterations));
            let len = name.len() + 2;
            let star = if len <= MAX_NAME_BYTES {
                wildcard[0] = 1;
                wildcard[1] = b'*';
                wildcard[2..len].copy_from_slice(name);
                index.find(&hash(&wildcard[..len], &index.salt, iterations))
            } else {
                own
            };
            proofs.push((
                Box::<[u8]>::from(name),
                NameProof {
                    matching: own.0.then_some(own.1),
                    covering: own.1,
                    wildcard: star.1,
                },
            ));
        }
        index.by_name.extend(proofs);
        Some(index)
    }

    /// Whether an NSEC3 has `digest` (true), and the index of the one that has it or
    /// covers it (the last one before it, wrapping around).
    fn find(&self, digest: &[u8; HASH_BYTES]) -> (bool, u32) {
        match self.chain.binary_search_by(|(h, _)| h.cmp(digest)) {
            Ok(at) => (true, at as u32),
            Err(0) => (false, (self.chain.len() - 1) as u32),
            Err(at) => (false, (at - 1) as u32),
        }
    }

    /// The hash of the link before `digest` in the chain (wrapping around).
    pub fn before(&self, digest: &[u8; HASH_BYTES]) -> [u8; HASH_BYTES] {
        let at = match self.chain.binary_search_by(|(h, _)| h.cmp(digest)) {
            Ok(at) | Err(at) => at,
        };
        let at = at.checked_sub(1).unwrap_or(self.chain.len() - 1);
        self.chain.get(at).map_or(*digest, |link| link.0)
    }

    /// The hash of the link after `digest` in the chain (wrapping around).
    pub fn after(&self, digest: &[u8; HASH_BYTES]) -> [u8; HASH_BYTES] {
        let at = match self.chain.binary_search_by(|(h, _)| h.cmp(digest)) {
            Ok(at) => at + 1,
            Err(at) => at,
        };
        let link = self.chain.get(at).or_else(|| self.chain.first());
        link.map_or(*digest, |link| link.0)
    }

    /// What is known of the zone name `name` (lowercase).
    pub fn name(&self, name: &[u8]) -> Option<NameProof> {
        self.by_name.get(name).copied()
    }

    /// The NSEC3 covering (or matching) the hash of `name`, a name not in the zone:
    /// hashed here, once.
    pub fn cover(&self, name: &[u8]) -> u32 {
        self.find(&hash(name, &self.salt, self.iterations)).1
    }

    /// The owner name of chain entry `at`, and its node in `zone`.
    pub fn record<'z>(&'z self, zone: &'z Zone, at: u32) -> Option<(&'z [u8], &'z Node)> {
        let (_, owner) = self.chain.get(at as usize)?;
        zone.node(owner).map(|node| (&owner[..], node))
    }
}

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
