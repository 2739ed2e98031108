//! One zone as served: an immutable snapshot of its names in canonical order, each
//! holding pre-encoded RRsets, and the one lookup primitive answers are built on.
//!
//! Names (empty non-terminals included) live in a [`NameTree`]. Flags kept per name
//! mark zone cuts, DNAMEs and the names they occlude, so most queries are answered
//! from one name. A new version of a zone ([`Zone::apply`], in [`super::change`])
//! shares every name it does not change with the version it came from.

use std::path::PathBuf;
use std::sync::Arc;

use super::name_tree::{KeyRef, Leaf, NameKey, NameTree};
use super::node::{flags, Node, RRset};
use crate::wire::name::{label_count, suffix_offsets, MAX_NAME_BYTES, NAME_BUF_BYTES};
use crate::wire::types;
use crate::wire::writer::wire_name_len;

/// How far back the covering NSEC is looked for past names without one.
const MAX_NSEC_SEARCH: usize = 1024;

/// What a name is in a zone: the outcomes of RFC 1034 4.3.2 step 3 (and RFC 6672).
#[derive(Debug, Clone, Copy)]
pub enum Lookup<'z> {
    /// The name exists here, authoritatively (possibly as an empty non-terminal):
    /// its name (lowercase) and node.
    Found(&'z [u8], &'z Node),
    /// The name is at or below a zone cut: refer to the child (owner, node with NS).
    Delegation(&'z [u8], &'z Node),
    /// A DNAME above the name redirects it (owner, node with DNAME).
    Dname(&'z [u8], &'z Node),
    /// The name does not exist but a wildcard covers it (RFC 4592): the wildcard's
    /// name and node.
    Wildcard(&'z [u8], &'z Node),
    /// The name does not exist.
    NxDomain,
}

/// A zone as served. Immutable; a change makes a new version (cloning is cheap: the
/// names are shared).
#[derive(Debug, Clone)]
pub struct Zone {
    /// The apex name, lowercase wire format.
    pub origin: Box<[u8]>,
    /// Labels in `origin`.
    pub(crate) origin_labels: usize,
    /// Every name of the zone, in canonical order.
    pub(crate) names: NameTree<Node>,
    /// The SOA RRset, for negative answers.
    pub soa: RRset,
    /// TTL of the SOA in negative answers: min(SOA TTL, MINIMUM) (RFC 2308 3).
    pub negative_ttl: u32,
    /// Files the zone was read from, for messages (RRsets point into it).
    pub files: Arc<[PathBuf]>,
    /// How many records the zone holds.
    pub record_count: usize,
    /// Whether and how the zone is signed (DNSSEC), from its apex.
    pub dnssec: Denial,
    /// The NSEC3 chain and every name's place in it, for NSEC3 zones.
    pub(crate) nsec3: Option<Arc<super::nsec3::Nsec3Index>>,
    /// What loading the zone warned about (`file:line: problem`), as BIND and Knot
    /// DNS warn and load: records outside the zone (ignored), NS targets in the zone
    /// without an address.
    pub warnings: Arc<[String]>,
    /// A secondary copy not refreshed from a primary within its SOA expire: answered
    /// SERVFAIL (a copy with the flag set is swapped in; the names are shared).
    pub expired: bool,
    /// A secondary copy: changed by transfers from its primaries only (never signed
    /// or updated here).
    pub secondary: bool,
}

/// How a signed zone proves that names and types do not exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denial {
    /// Not signed: no RRSIG at the apex.
    Unsigned,
    /// Signed, with an NSEC chain (RFC 4034).
    Nsec,
    /// Signed, with an NSEC3 chain (RFC 5155; NSEC3PARAM at the apex).
    Nsec3,
}

impl Denial {
    /// What the apex node says.
    pub(crate) fn of_apex(apex: &Node) -> Denial {
        if apex.rrset(types::RRSIG).is_none() {
            Denial::Unsigned
        } else if apex.rrset(types::NSEC3PARAM).is_some() {
            Denial::Nsec3
        } else {
            Denial::Nsec
        }
    }
}

impl Zone {
    /// A zone over `names` (built and checked by the caller): reads the SOA, counts
    /// labels and brings the exact-lookup index up to date. `None` when the apex has
    /// no SOA.
    pub(crate) fn from_names(
        origin: Box<[u8]>,
        mut names: NameTree<Node>,
        files: Arc<[PathBuf]>,
        record_count: usize,
    ) -> Option<Zone> {
        names.sync_index();
        let apex = &names.get_exact(&origin)?.value;
        let soa = apex.rrset(types::SOA)?.clone();
        let dnssec = Denial::of_apex(apex);
        let mut zone = Zone {
            dnssec,
            nsec3: None,
            warnings: Arc::from(Vec::new()),
            expired: false,
            secondary: false,
            origin_labels: label_count(&origin),
            origin,
            names,
            negative_ttl: negative_ttl(&soa),
            soa,
            files,
            record_count,
        };
        zone.index_nsec3();
        Some(zone)
    }

    /// Hashes every name into the NSEC3 chain, for an NSEC3 zone (at load).
    pub(crate) fn index_nsec3(&mut self) {
        self.nsec3 = if self.dnssec == Denial::Nsec3 {
            super::nsec3::Nsec3Index::build(self).map(Arc::new)
        } else {
            None
        };
    }

    /// The closest name before `name` (lowercase wire format) in canonical order
    /// that has an NSEC record: the NSEC that covers `name` (RFC 4034 6.1).
    pub fn covering_nsec(&self, name: &[u8]) -> Option<(&[u8], &Node)> {
        let mut key = NameKey::new(name)?;
        // Glue and occluded names have no NSEC; a few steps back find one.
        for _ in 0..MAX_NSEC_SEARCH {
            let (before, node) = self.predecessor(key.full())?;
            if node.rrset(types::NSEC).is_some() {
                return Some((before, node));
            }
            if !key.set(before) {
                return None;
            }
        }
        None
    }

    /// The closest encloser of `name` (RFC 5155 1.3): the longest of its ancestors
    /// that exists in the zone, with its node.
    pub fn closest_encloser(&self, name: &[u8]) -> Option<(&[u8], &Node)> {
        suffix_offsets(name)
            .skip(1)
            .take_while(|&off| name.len() - off >= self.origin.len())
            .find_map(|off| self.names.get_exact(&name[off..]))
            .map(|leaf| (leaf.name(), &leaf.value))
    }

    /// The node at `name` (lowercase wire format), if it exists.
    #[inline]
    pub fn node(&self, name: &[u8]) -> Option<&Node> {
        self.names.get_exact(name).map(|leaf| &leaf.value)
    }

    /// The node at `name` (lowercase wire format) with its name as the zone holds it.
    #[inline]
    pub(crate) fn node_with_name(&self, name: &[u8]) -> Option<(&[u8], &Node)> {
        self.names
            .get_exact(name)
            .map(|leaf| (leaf.name(), &leaf.value))
    }

    /// The node at the name of `key`, found by walking the trie: right also while a
    /// change is being made, before the exact-lookup index is brought up to date.
    pub(crate) fn node_at(&self, key: KeyRef<'_>) -> Option<&Node> {
        self.names.get(key).map(|leaf| &leaf.value)
    }

    /// The node at `name` (wire format, any case), if it exists.
    pub fn node_by_name(&self, name: &[u8]) -> Option<&Node> {
        self.node(NameKey::new(name)?.name())
    }

    /// The apex node.
    pub fn apex(&self) -> Option<&Node> {
        self.node(&self.origin)
    }

    /// Number of names, empty non-terminals included.
    pub fn node_count(&self) -> usize {
        self.names.len()
    }

    /// Every name with its node, in DNSSEC canonical order (RFC 4034 6.1).
    pub fn names(&self) -> impl Iterator<Item = (&[u8], &Node)> {
        self.names.iter().map(|leaf| (leaf.name(), &leaf.value))
    }

    /// The greatest name of the zone before `key` in canonical order: the owner of the
    /// NSEC record that covers a missing name (RFC 4034 6.1, RFC 4035 3.1.3.2).
    pub fn predecessor(&self, key: KeyRef<'_>) -> Option<(&[u8], &Node)> {
        self.names
            .predecessor(key)
            .map(|leaf: &Leaf<Node>| (leaf.name(), &leaf.value))
    }

    /// The name of `key` and every name below it, in canonical order.
    pub fn subtree(&self, key: KeyRef<'_>) -> impl Iterator<Item = (&[u8], &Node)> {
        self.names
            .subtree(key)
            .map(|leaf| (leaf.name(), &leaf.value))
    }

    /// The serial number of the zone's SOA.
    pub fn serial(&self) -> u32 {
        soa_serial(&self.soa)
    }

    /// Finds what `qname` (lowercase wire format, at or below the origin) is in this
    /// zone. A DS query at a zone cut is answered from this side of the cut (RFC 4035
    /// 3.1.4.1). Every step is an exact lookup by hash.
    pub fn lookup<'z>(&'z self, qname: &[u8], qtype: u16) -> Lookup<'z> {
        if let Some(leaf) = self.names.get_exact(qname) {
            let node = &leaf.value;
            if node.flags & flags::OCCLUDED != 0 {
                return self.walk_down(qname, qtype);
            }
            if node.flags & flags::CUT != 0 && qtype != types::DS {
                return Lookup::Delegation(leaf.name(), node);
            }
            return Lookup::Found(leaf.name(), node);
        }
        // RFC 1034 4.3.2 step 3c / RFC 4592 3.3.1: find the closest encloser.
        let closest = suffix_offsets(qname)
            .skip(1)
            .take_while(|&off| qname.len() - off >= self.origin.len())
            .find_map(|off| self.names.get_exact(&qname[off..]));
        let Some(encloser) = closest else {
            return Lookup::NxDomain;
        };
        let node = &encloser.value;
        if node.flags & flags::OCCLUDED != 0 {
            return self.walk_down(qname, qtype);
        }
        if node.flags & flags::CUT != 0 {
            return Lookup::Delegation(encloser.name(), node);
        }
        if node.flags & flags::DNAME != 0 {
            return Lookup::Dname(encloser.name(), node);
        }
        let encloser_name = encloser.name();
        let len = encloser_name.len() + 2;
        if len > MAX_NAME_BYTES {
            return Lookup::NxDomain;
        }
        let mut wildcard = [0u8; NAME_BUF_BYTES];
        wildcard[0] = 1;
        wildcard[1] = b'*';
        wildcard[2..len].copy_from_slice(encloser_name);
        match self.names.get_exact(&wildcard[..len]) {
            Some(source) => Lookup::Wildcard(source.name(), &source.value),
            None => Lookup::NxDomain,
        }
    }

    /// For names below a cut or DNAME: the topmost one from the apex down wins.
    fn walk_down<'z>(&'z self, qname: &[u8], qtype: u16) -> Lookup<'z> {
        // A 255-byte name has at most 128 labels; offsets fit a byte.
        let mut offsets = [0u8; 128];
        let mut count = 0usize;
        for (slot, off) in offsets.iter_mut().zip(suffix_offsets(qname)) {
            *slot = off as u8;
            count += 1;
        }
        let below_apex = count.saturating_sub(self.origin_labels + 1);
        for off in offsets[..below_apex].iter().rev().map(|&o| usize::from(o)) {
            let Some(leaf) = self.names.get_exact(&qname[off..]) else {
                break;
            };
            let node = &leaf.value;
            let is_qname = off == 0;
            if node.flags & flags::CUT != 0 && !(is_qname && qtype == types::DS) {
                return Lookup::Delegation(leaf.name(), node);
            }
            if node.flags & flags::DNAME != 0 && !is_qname {
                return Lookup::Dname(leaf.name(), node);
            }
        }
        if let Some(apex) = self.names.get_exact(&self.origin) {
            if apex.value.flags & flags::DNAME != 0 && qname.len() > self.origin.len() {
                return Lookup::Dname(apex.name(), &apex.value);
            }
        }
        // Only reached for inconsistent flags; answer as for an exact match.
        self.names
            .get_exact(qname)
            .map_or(Lookup::NxDomain, |leaf| {
                Lookup::Found(leaf.name(), &leaf.value)
            })
    }
}

/// The serial of an SOA RRset (0 when malformed).
pub(crate) fn soa_serial(soa: &RRset) -> u32 {
    let rdata = soa.rdatas().next().unwrap_or_default();
    let names = wire_name_len(rdata);
    let names = names + wire_name_len(rdata.get(names..).unwrap_or_default());
    rdata
        .get(names..names + 4)
        .map_or(0, |s| u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

/// RFC 2308 3: the TTL of the SOA in a negative answer, min(SOA TTL, MINIMUM).
pub(crate) fn negative_ttl(soa: &RRset) -> u32 {
    let minimum = soa
        .rdatas()
        .next()
        .and_then(|r| r.get(r.len().checked_sub(4)?..))
        .map_or(0, |m| u32::from_be_bytes([m[0], m[1], m[2], m[3]]));
    soa.ttl.min(minimum)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) mod tests {
    use super::*;
    use crate::wire::name::{parse_presentation, to_presentation};
    use crate::zonefile::load_zone_text;
    use std::path::Path;

    pub(crate) const ORIGIN: &[u8] = b"\x07example\x00";
    pub(crate) const HEAD: &str = "$TTL 300\n@ SOA ns hm 1 2 3 4 60\n@ NS ns\nns A 192.0.2.53\n";

    pub(crate) fn build(body: &str) -> Zone {
        let text = format!("{HEAD}{body}");
        load_zone_text(ORIGIN, text.as_bytes(), Path::new("t.zone")).unwrap()
    }

    pub(crate) fn key(text: &str) -> NameKey {
        NameKey::new(&parse_presentation(text.as_bytes(), Some(ORIGIN)).unwrap()).unwrap()
    }

    fn outcome(zone: &Zone, qname: &str, qtype: u16) -> String {
        match zone.lookup(key(qname).name(), qtype) {
            Lookup::Found(_, n) => format!("found {}", n.rrsets.len()),
            Lookup::Delegation(o, _) => format!("delegation {}", to_presentation(o)),
            Lookup::Dname(o, _) => format!("dname {}", to_presentation(o)),
            Lookup::Wildcard(_, n) => format!("wildcard {}", n.rrsets.len()),
            Lookup::NxDomain => "nxdomain".into(),
        }
    }

    #[test]
    fn outcomes() {
        let zone = build(
            "www A 192.0.2.1\na.b.c A 192.0.2.2\n*.w A 192.0.2.3\nsub NS ns.sub\nns.sub A 192.0.2.4\nd DNAME other.\n",
        );
        assert_eq!(outcome(&zone, "www", 1), "found 1");
        assert_eq!(outcome(&zone, "WWW", 1), "found 1");
        assert_eq!(outcome(&zone, "b.c", 1), "found 0", "empty non-terminal");
        assert_eq!(outcome(&zone, "x.c", 1), "nxdomain");
        assert_eq!(outcome(&zone, "x.w", 1), "wildcard 1");
        assert_eq!(outcome(&zone, "y.x.w", 1), "wildcard 1");
        assert_eq!(outcome(&zone, "sub", 1), "delegation sub.example.");
        assert_eq!(outcome(&zone, "sub", types::DS), "found 1");
        assert_eq!(outcome(&zone, "ns.sub", 1), "delegation sub.example.");
        assert_eq!(outcome(&zone, "deep.er.sub", 1), "delegation sub.example.");
        assert_eq!(outcome(&zone, "x.d", 1), "dname d.example.");
        assert_eq!(outcome(&zone, "d", 1), "found 1");
        assert_eq!(outcome(&zone, "nope", 1), "nxdomain");
        assert_eq!(zone.negative_ttl, 60);
        assert_eq!(zone.serial(), 1);
    }

    #[test]
    fn merges_duplicates_and_keeps_first_ttl() {
        let zone = build("www A 192.0.2.1\nwww 60 A 192.0.2.1\nwww 60 A 192.0.2.2\n");
        let node = zone.node(key("www").name()).unwrap();
        let a = node.rrset(1).unwrap();
        assert_eq!((a.count, a.ttl), (2, 300));
    }

    #[test]
    fn canonical_order_and_predecessor() {
        let zone = build("z A 192.0.2.1\na A 192.0.2.2\n*.z A 192.0.2.3\nb.a TXT x\n");
        let names: Vec<String> = zone.names().map(|(n, _)| to_presentation(n)).collect();
        assert_eq!(
            names,
            [
                "example.",
                "a.example.",
                "b.a.example.",
                "ns.example.",
                "z.example.",
                "*.z.example.",
            ]
        );
        let before = |q: &str| {
            zone.predecessor(key(q).full())
                .map(|(n, _)| to_presentation(n))
        };
        assert_eq!(before("c.a").as_deref(), Some("b.a.example."));
        assert_eq!(before("a").as_deref(), Some("example."));
        assert_eq!(before("zz").as_deref(), Some("*.z.example."));
        let below_a: Vec<String> = zone
            .subtree(key("a").full())
            .map(|(n, _)| to_presentation(n))
            .collect();
        assert_eq!(below_a, ["a.example.", "b.a.example."]);
    }
}
