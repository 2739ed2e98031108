//! One zone as served: an immutable snapshot of its nodes, each holding pre-encoded
//! RRsets, and the one lookup primitive answers are built on.
//!
//! Every name of the zone, empty non-terminals included, is a [`Node`] in a hash map
//! keyed by its lowercased wire name. Load-time flags mark zone cuts and the names
//! they occlude, so most queries are answered with a single hash lookup.

use std::path::PathBuf;

use crate::wire::name::{self, is_subdomain, suffix_offsets, to_presentation};
use crate::wire::writer::wire_name_len;
use crate::zonefile::error::{ZoneError, ZoneErrorKind};
use crate::zonefile::rdata::types;

/// Names to nodes. hashbrown for `entry_ref`: while building, an owner is hashed
/// once and its key allocated only when the name is new.
type NodeMap = hashbrown::HashMap<Box<[u8]>, Node>;

/// An RRset with its RDATA pre-encoded in wire format.
#[derive(Debug, Clone)]
pub struct RRset {
    /// Record type.
    pub rtype: u16,
    /// Number of records.
    pub count: u16,
    /// TTL of the set (RFC 2181 5.2: one TTL for all its records).
    pub ttl: u32,
    /// Line in the zone file of the set's first record, for error messages.
    pub line: u32,
    /// Index into [`Zone::files`] of the file that line is in.
    pub file: u16,
    /// The records' RDATA, each as a 16-bit length and the bytes. A `Vec` so a
    /// record joins the set while loading without copying it; exact-sized after.
    pub data: Vec<u8>,
}

impl RRset {
    /// Iterates over the RDATA of each record.
    pub fn rdatas(&self) -> impl Iterator<Item = &[u8]> {
        rdatas(&self.data)
    }

    /// The target names inside the RDATA that additional-section processing follows
    /// (RFC 1034 4.3.2 step 6; RFC 2782 for SRV).
    pub fn additional_targets(&self) -> impl Iterator<Item = &[u8]> {
        let skip = match self.rtype {
            types::NS => Some(0),
            types::MX => Some(2),
            types::SRV => Some(6),
            _ => None,
        };
        self.rdatas().filter_map(move |r| r.get(skip?..))
    }
}

/// Flags computed at load time.
pub mod flags {
    /// The node is a zone cut: NS records below the apex.
    pub const CUT: u8 = 1;
    /// The node is below a zone cut or a DNAME: glue or occluded data.
    pub const OCCLUDED: u8 = 2;
    /// The node has a DNAME record.
    pub const DNAME: u8 = 4;
}

/// One name of the zone and its RRsets (none for an empty non-terminal).
#[derive(Debug, Clone, Default)]
pub struct Node {
    /// RRsets, one per type (exact-sized: most names have one).
    pub rrsets: Vec<RRset>,
    /// See [`flags`].
    pub flags: u8,
}

impl Node {
    /// The RRset of type `rtype`, if any.
    pub fn rrset(&self, rtype: u16) -> Option<&RRset> {
        self.rrsets.iter().find(|r| r.rtype == rtype)
    }
}

/// What a name is in a zone: the outcomes of RFC 1034 4.3.2 step 3 (and RFC 6672).
#[derive(Debug, Clone, Copy)]
pub enum Lookup<'z> {
    /// The name exists here, authoritatively (possibly as an empty non-terminal).
    Found(&'z Node),
    /// The name is at or below a zone cut: refer to the child (owner, node with NS).
    Delegation(&'z [u8], &'z Node),
    /// A DNAME above the name redirects it (owner, node with DNAME).
    Dname(&'z [u8], &'z Node),
    /// The name does not exist but a wildcard covers it (RFC 4592): its node.
    Wildcard(&'z Node),
    /// The name does not exist.
    NxDomain,
}

/// A zone as served. Immutable once built; replaced whole on reload.
#[derive(Debug)]
pub struct Zone {
    /// The apex name, lowercase wire format.
    pub origin: Box<[u8]>,
    /// Labels in `origin`.
    origin_labels: usize,
    /// Every name of the zone.
    nodes: NodeMap,
    /// The SOA RRset, for negative answers.
    pub soa: RRset,
    /// TTL of the SOA in negative answers: min(SOA TTL, MINIMUM) (RFC 2308 3).
    pub negative_ttl: u32,
    /// Files the zone was read from, for messages.
    pub files: Box<[PathBuf]>,
    /// How many records the zone holds.
    pub record_count: usize,
}

impl Zone {
    /// The node at `name` (lowercase wire format), if it exists.
    pub fn node(&self, name: &[u8]) -> Option<&Node> {
        self.nodes.get(name)
    }

    /// Number of names, empty non-terminals included.
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// The serial number of the zone's SOA.
    pub fn serial(&self) -> u32 {
        let rdata = self.soa.rdatas().next().unwrap_or_default();
        let names = wire_name_len(rdata);
        let names = names + wire_name_len(rdata.get(names..).unwrap_or_default());
        rdata
            .get(names..names + 4)
            .map_or(0, |s| u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
    }

    /// Finds what `qname` (lowercase wire format, at or below the origin) is in this
    /// zone. A DS query at a zone cut is answered from this side of the cut (RFC 4035 3.1.4.1).
    pub fn lookup<'z>(&'z self, qname: &[u8], qtype: u16) -> Lookup<'z> {
        if let Some((key, node)) = self.nodes.get_key_value(qname) {
            if node.flags & flags::OCCLUDED != 0 {
                return self.walk_down(qname, qtype);
            }
            if node.flags & flags::CUT != 0 && qtype != types::DS {
                return Lookup::Delegation(key, node);
            }
            return Lookup::Found(node);
        }
        // RFC 1034 4.3.2 step 3c / RFC 4592 3.3.1: find the closest encloser.
        let closest = suffix_offsets(qname)
            .skip(1)
            .take_while(|&off| qname.len() - off >= self.origin.len())
            .find_map(|off| self.nodes.get_key_value(&qname[off..]));
        let Some((encloser, node)) = closest else {
            return Lookup::NxDomain;
        };
        if node.flags & flags::OCCLUDED != 0 {
            return self.walk_down(qname, qtype);
        }
        if node.flags & flags::CUT != 0 {
            return Lookup::Delegation(encloser, node);
        }
        if node.flags & flags::DNAME != 0 {
            return Lookup::Dname(encloser, node);
        }
        let mut wildcard = [0u8; name::MAX_NAME_BYTES + 2];
        let len = encloser.len() + 2;
        if len > name::MAX_NAME_BYTES {
            return Lookup::NxDomain;
        }
        wildcard[0] = 1;
        wildcard[1] = b'*';
        wildcard[2..len].copy_from_slice(encloser);
        match self.nodes.get(&wildcard[..len]) {
            Some(source) => Lookup::Wildcard(source),
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
            let Some((key, node)) = self.nodes.get_key_value(&qname[off..]) else {
                break;
            };
            let is_qname = off == 0;
            if node.flags & flags::CUT != 0 && !(is_qname && qtype == types::DS) {
                return Lookup::Delegation(key, node);
            }
            if node.flags & flags::DNAME != 0 && !is_qname {
                return Lookup::Dname(key, node);
            }
        }
        if let Some(apex) = self.nodes.get(&*self.origin) {
            if apex.flags & flags::DNAME != 0 && qname.len() > self.origin.len() {
                return Lookup::Dname(&self.origin, apex);
            }
        }
        // Only reached for inconsistent flags; answer as for an exact match.
        self.nodes
            .get(qname)
            .map_or(Lookup::NxDomain, Lookup::Found)
    }
}

/// Builds a [`Zone`] from records and runs the load-time checks (like named-checkzone).
/// Records go straight into the zone's own node map; `finish` checks and flags in place.
pub struct ZoneBuilder {
    /// The apex, lowercase.
    origin: Vec<u8>,
    /// Names and their RRsets so far.
    nodes: NodeMap,
    /// Files seen so far.
    files: Vec<PathBuf>,
    /// Records added (duplicates not counted).
    records: usize,
}

impl ZoneBuilder {
    /// Starts a zone at `origin` (wire format, any case) read from `file` (named in
    /// errors about the zone as a whole, such as a missing SOA).
    pub fn new(origin: &[u8], file: &std::path::Path) -> Self {
        let mut nodes = NodeMap::default();
        let origin = origin.to_ascii_lowercase();
        nodes.insert(origin.clone().into_boxed_slice(), Node::default());
        ZoneBuilder {
            origin,
            nodes,
            files: vec![file.to_path_buf()],
            records: 0,
        }
    }

    /// Adds one record read at `file`:`line`. Identical records are merged (RFC 2181 5).
    pub fn add(
        &mut self,
        owner: &[u8],
        rtype: u16,
        ttl: u32,
        rdata: &[u8],
        file: &std::path::Path,
        line: u32,
    ) -> Result<(), ZoneError> {
        let err = |kind| ZoneError::at(file, line, kind);
        let mut lower = [0u8; name::NAME_BUF_BYTES];
        let owner = name::lowercase_into(owner, &mut lower);
        if !is_subdomain(owner, &self.origin) {
            return Err(err(ZoneErrorKind::OutOfZone {
                owner: to_presentation(owner),
                origin: to_presentation(&self.origin),
            }));
        }
        if rtype == types::SOA && owner != self.origin.as_slice() {
            return Err(err(ZoneErrorKind::SoaNotAtApex(to_presentation(owner))));
        }
        let file_index = match self.files.iter().rposition(|f| f == file) {
            Some(i) => i,
            None => {
                self.files.push(file.to_path_buf());
                self.files.len() - 1
            }
        };
        let file_index = u16::try_from(file_index).unwrap_or(u16::MAX);
        let (node, is_new) = match self.nodes.entry_ref(owner) {
            hashbrown::hash_map::EntryRef::Occupied(o) => (o.into_mut(), false),
            hashbrown::hash_map::EntryRef::Vacant(v) => {
                (v.insert_with_key(owner.into(), Node::default()), true)
            }
        };
        match node.rrsets.iter_mut().find(|r| r.rtype == rtype) {
            Some(set) => {
                if rdatas(&set.data).any(|r| r == rdata) {
                    return Ok(());
                }
                if rtype == types::SOA {
                    return Err(err(ZoneErrorKind::SecondSoa(set.line)));
                }
                set.count = set.count.checked_add(1).ok_or_else(|| {
                    err(ZoneErrorKind::BadRdata {
                        rtype: crate::zonefile::rdata::type_name(rtype),
                        source: crate::zonefile::rdata::RdataError::TooLong,
                    })
                })?;
                push_rdata(&mut set.data, rdata);
            }
            None => {
                let mut data = Vec::with_capacity(rdata.len() + 2);
                push_rdata(&mut data, rdata);
                // Most names hold one RRset: no room for four (Vec's first growth).
                node.rrsets.reserve_exact(1);
                node.rrsets.push(RRset {
                    rtype,
                    count: 1,
                    ttl,
                    line,
                    file: file_index,
                    data,
                });
            }
        }
        if is_new {
            self.add_ancestors(owner);
        }
        self.records += 1;
        Ok(())
    }

    /// Makes the empty non-terminals between `owner` and the apex exist.
    fn add_ancestors(&mut self, owner: &[u8]) {
        for off in suffix_offsets(owner).skip(1) {
            let suffix = &owner[off..];
            if suffix.len() < self.origin.len() || self.nodes.contains_key(suffix) {
                break;
            }
            self.nodes.insert(suffix.into(), Node::default());
        }
    }

    /// Runs the load-time checks and freezes the zone.
    pub fn finish(self) -> Result<Zone, ZoneError> {
        let ZoneBuilder {
            origin,
            mut nodes,
            files,
            records,
        } = self;
        let file_of = |set: &RRset| {
            files
                .get(usize::from(set.file))
                .cloned()
                .unwrap_or_default()
        };
        let apex_name = to_presentation(&origin);
        let apex = nodes.get(origin.as_slice());
        let Some(soa) = apex.and_then(|n| n.rrset(types::SOA)).cloned() else {
            let file = files.first().cloned().unwrap_or_default();
            return Err(ZoneError {
                file,
                line: None,
                kind: ZoneErrorKind::NoSoa(apex_name),
            });
        };
        if apex.and_then(|n| n.rrset(types::NS)).is_none() {
            return Err(ZoneError::at(
                file_of(&soa),
                soa.line,
                ZoneErrorKind::NoApexNs(apex_name),
            ));
        }
        // Zone cuts and DNAMEs: the names they occlude are marked below.
        let mut special: hashbrown::HashSet<Box<[u8]>> = hashbrown::HashSet::default();
        for (owner, node) in nodes.iter_mut() {
            // RFC 1034 3.6.2 / RFC 4035 2.5: a CNAME stands alone, but for DNSSEC data.
            if let Some(cname) = node.rrset(types::CNAME) {
                if cname.count > 1 {
                    return Err(ZoneError::at(
                        file_of(cname),
                        cname.line,
                        ZoneErrorKind::MultipleCnames(to_presentation(owner)),
                    ));
                }
                if node
                    .rrsets
                    .iter()
                    .any(|s| !matches!(s.rtype, types::CNAME | types::RRSIG | types::NSEC))
                {
                    return Err(ZoneError::at(
                        file_of(cname),
                        cname.line,
                        ZoneErrorKind::CnameBesideData(to_presentation(owner)),
                    ));
                }
            }
            if **owner != *origin && node.rrset(types::NS).is_some() {
                node.flags |= flags::CUT;
            }
            if node.rrset(types::DNAME).is_some() {
                node.flags |= flags::DNAME;
            }
            if node.flags != 0 {
                special.insert(owner.clone());
            }
            // Sets that grew record by record give back their spare room.
            for set in &mut node.rrsets {
                if set.count > 1 {
                    set.data.shrink_to_fit();
                }
            }
        }
        if !special.is_empty() {
            for (name, node) in nodes.iter_mut() {
                let below_special = suffix_offsets(name)
                    .skip(1)
                    .take_while(|&off| name.len() - off >= origin.len())
                    .any(|off| special.contains(&name[off..]));
                if below_special {
                    node.flags |= flags::OCCLUDED;
                }
            }
        }
        // Glue: every NS target inside the zone must have an address (like named-checkzone).
        let mut lower = [0u8; name::NAME_BUF_BYTES];
        for (owner, node) in &nodes {
            let Some(ns) = node.rrset(types::NS) else {
                continue;
            };
            for target in ns.rdatas() {
                let target = name::lowercase_into(target, &mut lower);
                if !is_subdomain(target, &origin) {
                    continue;
                }
                let has_address = nodes
                    .get(target)
                    .is_some_and(|n| n.rrset(types::A).is_some() || n.rrset(types::AAAA).is_some());
                if !has_address {
                    return Err(ZoneError::at(
                        file_of(ns),
                        ns.line,
                        ZoneErrorKind::GlueMissing {
                            owner: to_presentation(owner),
                            ns: to_presentation(target),
                        },
                    ));
                }
            }
        }
        let minimum = soa
            .rdatas()
            .next()
            .and_then(|r| r.get(r.len().checked_sub(4)?..))
            .map_or(0, |m| u32::from_be_bytes([m[0], m[1], m[2], m[3]]));
        Ok(Zone {
            origin_labels: name::label_count(&origin),
            origin: origin.into_boxed_slice(),
            nodes,
            negative_ttl: soa.ttl.min(minimum),
            soa,
            files: files.into_boxed_slice(),
            record_count: records,
        })
    }
}

/// Iterates over the RDATA in a sequence of 16-bit length + bytes.
fn rdatas(mut rest: &[u8]) -> impl Iterator<Item = &[u8]> {
    std::iter::from_fn(move || {
        let [hi, lo, tail @ ..] = rest else {
            return None;
        };
        let len = usize::from(u16::from_be_bytes([*hi, *lo]));
        let (one, after) = (tail.get(..len)?, tail.get(len..)?);
        rest = after;
        Some(one)
    })
}

fn push_rdata(data: &mut Vec<u8>, rdata: &[u8]) {
    // RDATA was checked to fit 16 bits by the parser.
    data.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
    data.extend_from_slice(rdata);
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::zonefile::parser::parse_text;
    use std::path::Path;

    const ORIGIN: &[u8] = b"\x07example\x00";
    const HEAD: &str = "$TTL 300\n@ SOA ns hm 1 2 3 4 60\n@ NS ns\nns A 192.0.2.53\n";

    pub(crate) fn build(body: &str) -> Result<Zone, ZoneError> {
        let text = format!("{HEAD}{body}");
        let mut builder = ZoneBuilder::new(ORIGIN, Path::new("t.zone"));
        parse_text(text.as_bytes(), Path::new("t.zone"), ORIGIN, &mut |r| {
            builder.add(r.owner, r.rtype, r.ttl, r.rdata, r.file, r.line)
        })?;
        builder.finish()
    }

    fn wire(text: &str) -> Vec<u8> {
        name::parse_presentation(text.as_bytes(), Some(ORIGIN)).unwrap()
    }

    fn outcome(zone: &Zone, qname: &str, qtype: u16) -> String {
        let q = wire(qname);
        match zone.lookup(&q, qtype) {
            Lookup::Found(n) => format!("found {}", n.rrsets.len()),
            Lookup::Delegation(o, _) => format!("delegation {}", to_presentation(o)),
            Lookup::Dname(o, _) => format!("dname {}", to_presentation(o)),
            Lookup::Wildcard(n) => format!("wildcard {}", n.rrsets.len()),
            Lookup::NxDomain => "nxdomain".into(),
        }
    }

    #[test]
    fn outcomes() {
        let zone = build(
            "www A 192.0.2.1\na.b.c A 192.0.2.2\n*.w A 192.0.2.3\nsub NS ns.sub\nns.sub A 192.0.2.4\nd DNAME other.\n",
        )
        .unwrap();
        assert_eq!(outcome(&zone, "www", 1), "found 1");
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
        let zone = build("www A 192.0.2.1\nwww 60 A 192.0.2.1\nwww 60 A 192.0.2.2\n").unwrap();
        let node = zone.node(&wire("www")).unwrap();
        let a = node.rrset(1).unwrap();
        assert_eq!((a.count, a.ttl), (2, 300));
    }

    #[test]
    fn load_checks() {
        let kind = |body: &str| build(body).unwrap_err();
        let e = kind("www CNAME x\nwww A 192.0.2.1\n");
        assert!(matches!(e.kind, ZoneErrorKind::CnameBesideData(_)));
        assert_eq!(e.line, Some(5));
        assert!(matches!(
            kind("www CNAME x\nwww CNAME y\n").kind,
            ZoneErrorKind::MultipleCnames(_)
        ));
        assert!(matches!(
            kind("www.other. A 192.0.2.1\n").kind,
            ZoneErrorKind::OutOfZone { .. }
        ));
        assert!(matches!(
            kind("sub NS ns.sub\n").kind,
            ZoneErrorKind::GlueMissing { .. }
        ));
        assert!(matches!(
            kind("@ SOA ns hm 2 2 3 4 60\n").kind,
            ZoneErrorKind::SecondSoa(2)
        ));
        assert!(matches!(
            kind("www SOA ns hm 2 2 3 4 60\n").kind,
            ZoneErrorKind::SoaNotAtApex(_)
        ));
        // An identical trailing SOA, as AXFR dumps end with, is accepted.
        assert!(build("@ SOA ns hm 1 2 3 4 60\n").is_ok());
        let mut b = ZoneBuilder::new(ORIGIN, Path::new("t.zone"));
        b.add(&wire("www"), 1, 60, &[1, 2, 3, 4], Path::new("x"), 1)
            .unwrap();
        assert!(matches!(
            b.finish().unwrap_err().kind,
            ZoneErrorKind::NoSoa(_)
        ));
        let mut b = ZoneBuilder::new(ORIGIN, Path::new("t.zone"));
        parse_text(
            b"$TTL 1\n@ SOA ns hm 1 2 3 4 5\n",
            Path::new("x"),
            ORIGIN,
            &mut |r| b.add(r.owner, r.rtype, r.ttl, r.rdata, r.file, r.line),
        )
        .unwrap();
        assert!(matches!(
            b.finish().unwrap_err().kind,
            ZoneErrorKind::NoApexNs(_)
        ));
    }
}
