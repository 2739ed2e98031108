//! What the zone holds for one name: its RRsets, pre-encoded in wire format, and the
//! flags that let a lookup answer without looking at other names.
//!
//! Most names hold one RRset of short records (an A, an AAAA, a CNAME): the node
//! keeps its first RRset, and an RRset up to [`INLINE_RDATA_BYTES`] of data, in
//! place, so such a name is one allocation (its leaf) and one cache miss to answer.

use smallvec::SmallVec;

use crate::wire::types;

/// RDATA bytes (length prefixes included) an RRset keeps in place.
pub const INLINE_RDATA_BYTES: usize = 24;

/// Index into a zone's files meaning "not from a file" (a record added by an update).
pub const NO_FILE: u16 = u16::MAX;

/// An RRset with its RDATA pre-encoded in wire format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RRset {
    /// Record type.
    pub rtype: u16,
    /// Number of records.
    pub count: u16,
    /// TTL of the set (RFC 2181 5.2: one TTL for all its records).
    pub ttl: u32,
    /// Line in the zone file of the set's first record, for error messages (0: none).
    pub line: u32,
    /// Index into the zone's files of the file that line is in ([`NO_FILE`]: none).
    pub file: u16,
    /// The records' RDATA, each as a 16-bit length and the bytes; in place up to
    /// [`INLINE_RDATA_BYTES`].
    pub data: SmallVec<[u8; INLINE_RDATA_BYTES]>,
}

impl RRset {
    /// A set of one record.
    pub fn new(rtype: u16, ttl: u32, rdata: &[u8], file: u16, line: u32) -> RRset {
        let mut data = SmallVec::new();
        push_rdata(&mut data, rdata);
        RRset {
            rtype,
            count: 1,
            ttl,
            line,
            file,
            data,
        }
    }

    /// Iterates over the RDATA of each record.
    pub fn rdatas(&self) -> impl Iterator<Item = &[u8]> {
        rdatas(&self.data)
    }

    /// Each record as stored: its 16-bit RDATA length, then the RDATA — one record
    /// in the form `ResponseWriter::write_rrset` takes.
    pub fn entries(&self) -> impl Iterator<Item = &[u8]> {
        let mut rest: &[u8] = &self.data;
        std::iter::from_fn(move || {
            let len = usize::from(u16::from_be_bytes([*rest.first()?, *rest.get(1)?]));
            let entry = rest.get(..2 + len)?;
            rest = &rest[2 + len..];
            Some(entry)
        })
    }

    /// Whether the set holds a record with exactly this RDATA.
    pub fn contains(&self, rdata: &[u8]) -> bool {
        self.rdatas().any(|r| r == rdata)
    }

    /// Adds a record (the caller made sure it is not there yet). False when the set
    /// already holds the most records a set can (65,535).
    pub fn push(&mut self, rdata: &[u8]) -> bool {
        let Some(count) = self.count.checked_add(1) else {
            return false;
        };
        self.count = count;
        push_rdata(&mut self.data, rdata);
        true
    }

    /// Removes the record with exactly this RDATA; false when it is not there.
    pub fn remove(&mut self, rdata: &[u8]) -> bool {
        let mut start = 0usize;
        let mut found = None;
        for one in self.rdatas() {
            if one == rdata {
                found = Some(start..start + 2 + one.len());
                break;
            }
            start += 2 + one.len();
        }
        let Some(range) = found else {
            return false;
        };
        self.data.drain(range);
        self.count -= 1;
        true
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

/// Flags kept per name, so a lookup decides from one name alone.
pub mod flags {
    /// The node is a zone cut: NS records below the apex.
    pub const CUT: u8 = 1;
    /// The node is below a zone cut or a DNAME: glue or occluded data.
    pub const OCCLUDED: u8 = 2;
    /// The node has a DNAME record.
    pub const DNAME: u8 = 4;
    /// The flags a name sets by its own records: names below it are occluded.
    pub const OCCLUDING: u8 = CUT | DNAME;
}

/// One name of the zone and its RRsets (none for an empty non-terminal).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Node {
    /// RRsets, one per type; the first in place.
    pub rrsets: SmallVec<[RRset; 1]>,
    /// See [`flags`].
    pub flags: u8,
    /// How many NS records of the zone name this node as their target: while any
    /// does, the node must keep an address (the glue check), and a change that
    /// removes its last one is refused without searching the zone for them.
    pub ns_targeted: u32,
}

impl Node {
    /// The RRset of type `rtype`, if any.
    pub fn rrset(&self, rtype: u16) -> Option<&RRset> {
        self.rrsets.iter().find(|r| r.rtype == rtype)
    }

    /// The TTL a record of `set` (one of this node's) is sent with in a transfer
    /// or written to a file: its set's, except an RRSIG's. RFC 4034 3: "The TTL
    /// value of an RRSIG RR MUST match the TTL value of the RRset it covers" —
    /// the RRSIGs of a name are one set here, but each takes the TTL of the set
    /// of the type it covers (the first two bytes of its RDATA).
    pub fn record_ttl(&self, set: &RRset, rdata: &[u8]) -> u32 {
        if set.rtype != crate::wire::types::RRSIG {
            return set.ttl;
        }
        rdata
            .get(..2)
            .map(|t| u16::from_be_bytes([t[0], t[1]]))
            .and_then(|covered| self.rrset(covered))
            .map_or(set.ttl, |covered| covered.ttl)
    }

    /// The RRset of type `rtype`, for changing.
    pub fn rrset_mut(&mut self, rtype: u16) -> Option<&mut RRset> {
        self.rrsets.iter_mut().find(|r| r.rtype == rtype)
    }

    /// Whether the node has an A or AAAA record.
    pub fn has_address(&self) -> bool {
        self.rrsets
            .iter()
            .any(|r| r.rtype == types::A || r.rtype == types::AAAA)
    }

    /// The flags the node's own records give it (the apex is never a cut).
    pub fn own_flags(&self, is_apex: bool) -> u8 {
        let mut own = 0;
        if !is_apex && self.rrset(types::NS).is_some() {
            own |= flags::CUT;
        }
        if self.rrset(types::DNAME).is_some() {
            own |= flags::DNAME;
        }
        own
    }
}

/// Which TTL an RRset keeps when a record joins it (RFC 2181 5.2: a set has one TTL).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum JoinTtl {
    /// The set's first TTL, as BIND and Knot DNS load a zone file.
    KeepFirst,
    /// The joining record's, as BIND and Knot DNS apply an UPDATE (also when the
    /// record is already there: that is a TTL change).
    TakeNew,
}

/// Why a record could not join a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum JoinError {
    /// A second, different SOA (the line of the first).
    SecondSoa(u32),
    /// The set already holds 65,535 records.
    TooManyRecords,
}

impl Node {
    /// Adds a record to the node, merging an identical one (RFC 2181 5). Returns
    /// whether the node gained a record.
    pub(crate) fn join(
        &mut self,
        rtype: u16,
        ttl: u32,
        rdata: &[u8],
        (file, line): (u16, u32),
        rule: JoinTtl,
    ) -> Result<bool, JoinError> {
        let Some(set) = self.rrset_mut(rtype) else {
            // A second RRset moves them all out of place: room for just that one.
            self.rrsets.reserve_exact(1);
            self.rrsets.push(RRset::new(rtype, ttl, rdata, file, line));
            return Ok(true);
        };
        if set.contains(rdata) {
            if rule == JoinTtl::TakeNew {
                set.ttl = ttl;
            }
            return Ok(false);
        }
        if rtype == types::SOA {
            return Err(JoinError::SecondSoa(set.line));
        }
        if !set.push(rdata) {
            return Err(JoinError::TooManyRecords);
        }
        if rule == JoinTtl::TakeNew {
            set.ttl = ttl;
        }
        Ok(true)
    }
}

/// The cuts and DNAMEs above the name being visited, for a walk in canonical
/// order (where a name's descendants follow it): a name below any of them is
/// occluded.
pub(crate) struct Occluders<N> {
    /// Occluding names, each below the one before it.
    stack: Vec<N>,
}

impl<N: AsRef<[u8]>> Occluders<N> {
    /// An empty stack, for a walk that starts at a name no cut or DNAME is above.
    pub(crate) fn new() -> Self {
        Occluders { stack: Vec::new() }
    }

    /// Visits `name`, the next in canonical order, with its own flags: whether a
    /// cut or DNAME visited before is above it. An occluding name is kept (as
    /// `keep` makes it) for the names after it.
    pub(crate) fn visit(&mut self, name: &[u8], node_flags: u8, keep: impl FnOnce() -> N) -> bool {
        while let Some(top) = self.stack.last() {
            let top = top.as_ref();
            if name != top && crate::wire::name::is_subdomain(name, top) {
                break;
            }
            self.stack.pop();
        }
        let occluded = !self.stack.is_empty();
        if node_flags & flags::OCCLUDING != 0 {
            self.stack.push(keep());
        }
        occluded
    }
}

/// Iterates over the RDATA in a sequence of 16-bit length + bytes.
pub(crate) fn rdatas(mut rest: &[u8]) -> impl Iterator<Item = &[u8]> {
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

fn push_rdata(data: &mut SmallVec<[u8; INLINE_RDATA_BYTES]>, rdata: &[u8]) {
    // `check_record` refuses RDATA over 65,535 bytes before a record gets here; were
    // one to come anyway, it is cut to what its length can say.
    let rdata = &rdata[..rdata.len().min(usize::from(u16::MAX))];
    data.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
    data.extend_from_slice(rdata);
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn rrset_push_remove_contains() {
        let mut set = RRset::new(types::A, 60, &[192, 0, 2, 1], NO_FILE, 0);
        assert!(set.push(&[192, 0, 2, 2]));
        assert!(set.push(&[192, 0, 2, 3]));
        assert!(set.contains(&[192, 0, 2, 2]));
        assert!(set.remove(&[192, 0, 2, 2]));
        assert!(!set.remove(&[192, 0, 2, 2]));
        assert_eq!(set.count, 2);
        assert_eq!(
            set.rdatas().collect::<Vec<_>>(),
            [&[192, 0, 2, 1][..], &[192, 0, 2, 3][..]]
        );
    }
}
