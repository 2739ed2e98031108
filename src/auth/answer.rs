//! The authoritative answer: RFC 1034 4.3.2 over a [`ZoneSet`], with RFC 2308
//! negative answers, RFC 4592 wildcards, RFC 6672 DNAME and RFC 8482 minimal ANY.
//!
//! [`answer`] is a pipeline, as NSD's `namedb_lookup` and Knot DNS's
//! `KNOTD_IN_STATE_*` are. For each name of a CNAME/DNAME chain, the question name
//! first, [`Answer::write_chain`] picks the zone, asks [`Zone::lookup`] what the
//! name is there, sorts that into an [`Outcome`] for the question's type, and hands
//! it to the outcome's one writer:
//!
//! | outcome | writer | writes |
//! |---|---|---|
//! | [`Outcome::Hit`] | [`Answer::write_hit`] | the RRset asked for |
//! | [`Outcome::Any`] | [`Answer::write_any`] | one RRset (UDP) or all (TCP) |
//! | [`Outcome::Signatures`] | [`Answer::write_signatures`] | the RRSIGs over the name's data |
//! | [`Outcome::Cname`] | [`Answer::write_cname`] | the CNAME; the chain goes on at its target |
//! | [`Outcome::Dname`] | [`Answer::write_dname`] | the DNAME and a CNAME made from it; goes on |
//! | [`Outcome::NoData`] | [`Answer::write_nodata`] | the SOA in authority |
//! | [`Outcome::NxDomain`] | [`Answer::write_nxdomain`] | the SOA in authority, rcode NXDOMAIN |
//! | [`Outcome::Referral`] | [`Answer::write_referral`] | the child's NS in authority |
//!
//! Writers write into the [`ResponseWriter`] at once, and ask for the DNSSEC proofs
//! (NSEC, NSEC3, DS) of what they wrote, as a wildcard expansion does
//! ([`Proofs::for_wildcard`]); the [`Proofs`] are written once the chain ends, after
//! whatever authority records it wrote. Then [`write_additional`] adds the addresses
//! of the NS, MX and SRV targets met. A reply that does not fit is cut back to the
//! question with TC set. Nothing is allocated.

use std::sync::Arc;

use super::node::{Node, RRset};
use super::nsec3::{next_closer, Nsec3Index};
use super::zone::{Denial, Lookup, Zone};
use super::zone_set::ZoneSet;
use crate::exchange::{AnswerFlags, AnswerKind};
use crate::wire::name::{
    is_subdomain, lowercase_into, suffix_offsets, MAX_NAME_BYTES, NAME_BUF_BYTES,
};
use crate::wire::rcode;
use crate::wire::types;
use crate::wire::writer::{wire_name_len, Full, Owner, ResponseWriter, Section};
use crate::wire::QueryView;

/// How many CNAME or DNAME steps are followed before the answer stops (a loop, most likely).
pub(crate) const MAX_CHAIN_STEPS: usize = 12;
/// How many RRsets may ask for additional-section addresses.
const MAX_ADDITIONAL_SOURCES: usize = 8;
/// How many address RRsets the additional section remembers to avoid repeating one.
const MAX_ADDITIONAL_WRITTEN: usize = 32;

/// Answers the question of `query` into `writer` (question already written), from
/// `zone`, which [`ZoneSet::find`] chose in `zones` for `qname` (the question name,
/// lowercased); `lower` is room to lowercase the names the answer goes on to (CNAME
/// targets, additional-section names). The kind reported is what the last name of
/// a CNAME/DNAME chain turned out to be. With DO set and a signed zone, every RRset
/// comes with its RRSIGs and negative answers, wildcard answers and referrals with
/// their NSEC proofs (RFC 4035 3.1).
pub(crate) fn answer<'z>(
    zones: &'z ZoneSet,
    zone: &'z Arc<Zone>,
    query: &QueryView<'_>,
    qname: &[u8],
    lower: &mut [u8; NAME_BUF_BYTES],
    writer: &mut ResponseWriter<'_>,
    over_tcp: bool,
) -> AnswerFlags {
    let mut answer = Answer::new(query, over_tcp);
    let written = answer
        .write_chain(zones, zone, query, qname, lower, writer)
        // The proofs follow whatever authority records the answer wrote.
        .and_then(|()| answer.proofs.write(writer));
    if written.is_err() {
        // RFC 2181 9: "The TC bit should be set in responses only when an RRSet is
        // required as a part of the response, but could not be included in its
        // entirety." What does not fit is not sent; TC tells the client to use TCP.
        answer.flags.tc = true;
        writer.truncate_to_question();
        return answer.flags;
    }
    if write_additional(writer, lower, answer.additional.iter(), answer.dnssec_ok).is_err() {
        answer.flags.tc = true;
    }
    answer.flags
}

/// One answer being written: what the writers of its chain decide and gather.
struct Answer<'z> {
    /// The header bits and kind, as decided so far.
    flags: AnswerFlags,
    /// The question's type, asked again at every name of the chain.
    qtype: u16,
    /// DO was set (RFC 3225): RRSIGs and proofs are wanted from signed zones.
    dnssec_ok: bool,
    /// The query came over TCP: ANY gets every RRset (RFC 8482 4.1).
    over_tcp: bool,
    /// The DNSSEC proofs for the authority section, written once the chain ends.
    proofs: Proofs<'z>,
    /// The RRsets whose targets get addresses in the additional section.
    additional: AdditionalSources<'z>,
}

/// One name of the chain, as it is looked up.
#[derive(Clone, Copy)]
struct Step<'z, 'n> {
    /// The zone the name is in.
    zone: &'z Zone,
    /// How records at the name are written: a pointer to the question, or the name.
    owner: Owner<'n>,
    /// The name as the query or the previous record spelled it (DNAME keeps its case).
    name: &'n [u8],
    /// The name lowercased: what is looked up and proven.
    lookup_name: &'n [u8],
    /// What DNSSEC records this zone adds to the answer.
    dnssec: Dnssec<'z>,
}

/// What DNSSEC records a zone adds to this answer (RFC 4035 3.1): none without DO
/// or from an unsigned zone.
#[derive(Clone, Copy)]
struct Dnssec<'z> {
    /// RRSIGs go with every RRset written.
    signed: bool,
    /// Denial is proven with NSEC records.
    nsec: bool,
    /// Denial is proven with NSEC3 records, from this chain.
    nsec3: Option<&'z Nsec3Index>,
}

impl<'z> Dnssec<'z> {
    #[inline]
    fn of(zone: &'z Zone, dnssec_ok: bool) -> Self {
        Dnssec {
            signed: dnssec_ok && zone.dnssec != Denial::Unsigned,
            nsec: dnssec_ok && zone.dnssec == Denial::Nsec,
            nsec3: if dnssec_ok {
                zone.nsec3.as_deref()
            } else {
                None
            },
        }
    }
}

/// A name that exists in the zone, or the wildcard that answers for it.
#[derive(Clone, Copy)]
struct Found<'z> {
    /// Its name, lowercase: for a wildcard answer the wildcard's (`*.…`).
    name: &'z [u8],
    /// Its RRsets.
    node: &'z Node,
    /// The name does not exist and the wildcard `name` answers for it (RFC 4592).
    wildcard: bool,
}

/// What one name of the chain is, for the question's type: the outcomes of NSD's
/// `namedb_lookup` and Knot DNS's `KNOTD_IN_STATE_*`. Each has one writer.
#[derive(Clone, Copy)]
enum Outcome<'z> {
    /// The RRset of the type asked for is there.
    Hit(Found<'z>, &'z RRset),
    /// ANY, at a name with data.
    Any(Found<'z>),
    /// RRSIG, at a name with signatures over its data (the RRSIG RRset given).
    Signatures(&'z RRset),
    /// A CNAME, the type asked for being another one.
    Cname(Found<'z>, &'z RRset),
    /// The name exists without data of the type asked for.
    NoData(Found<'z>),
    /// The name is at or below a zone cut: its owner and node.
    Referral(&'z [u8], &'z Node),
    /// A DNAME above the name redirects it: its owner and node.
    Dname(&'z [u8], &'z Node),
    /// The name does not exist, and no wildcard answers for it.
    NxDomain,
}

impl<'z> Outcome<'z> {
    /// Sorts what [`Zone::lookup`] found for a question of type `qtype`.
    #[inline]
    fn of(lookup: Lookup<'z>, qtype: u16) -> Self {
        let found = match lookup {
            Lookup::Found(name, node) => Found {
                name,
                node,
                wildcard: false,
            },
            // RFC 4592 3.4: a wildcard answers as if it were the query name.
            Lookup::Wildcard(name, node) => Found {
                name,
                node,
                wildcard: true,
            },
            Lookup::Delegation(cut, node) => return Outcome::Referral(cut, node),
            Lookup::Dname(owner, node) => return Outcome::Dname(owner, node),
            Lookup::NxDomain => return Outcome::NxDomain,
        };
        let node = found.node;
        match qtype {
            types::ANY if !node.rrsets.is_empty() => return Outcome::Any(found),
            types::RRSIG => {
                let sigs = node.rrset(types::RRSIG);
                if let Some(sigs) = sigs.filter(|s| s.entries().any(|e| !signs_denial(e))) {
                    return Outcome::Signatures(sigs);
                }
            }
            _ => {}
        }
        // RFC 1034 4.3.2 step 3a: "If the whole of QNAME is matched, we have found
        // the node."
        if let Some(set) = node.rrset(qtype) {
            return Outcome::Hit(found, set);
        }
        match node.rrset(types::CNAME) {
            Some(cname) if qtype != types::CNAME => Outcome::Cname(found, cname),
            _ => Outcome::NoData(found),
        }
    }
}

/// Whether an RRSIG entry (16-bit length, then the RDATA: type covered first) signs
/// an NSEC or NSEC3 record, a denial record rather than data.
#[inline]
fn signs_denial(entry: &[u8]) -> bool {
    let covered = entry.get(2..4).map(|c| u16::from_be_bytes([c[0], c[1]]));
    matches!(covered, Some(types::NSEC | types::NSEC3))
}

/// Where the chain goes after a name.
enum Next<'a> {
    /// The answer is complete.
    Done,
    /// On to this name (wire format, its case kept): a CNAME target, a name
    /// rewritten by a DNAME.
    Follow(&'a [u8]),
}

/// The name the chain has moved on to: a CNAME's target, read in place from the
/// zone's data, or a name a DNAME rewrote, copied here from the buffer it was
/// built in.
// One on the stack per answer, and only once a chain goes on: boxing the large
// variant would allocate on the query path.
#[allow(clippy::large_enum_variant)]
enum ChainedName<'z> {
    /// A CNAME target in the zone.
    InZone(&'z [u8]),
    /// A rewritten name, wire format, in `bytes[..len]`.
    Rewritten {
        bytes: [u8; NAME_BUF_BYTES],
        len: usize,
    },
}

impl<'z> ChainedName<'z> {
    /// `name` (at most [`NAME_BUF_BYTES`] long, as every name read is), copied.
    #[inline]
    fn rewritten(name: &[u8]) -> ChainedName<'z> {
        let mut bytes = [0; NAME_BUF_BYTES];
        let len = name.len().min(NAME_BUF_BYTES);
        bytes[..len].copy_from_slice(&name[..len]);
        ChainedName::Rewritten { bytes, len }
    }

    #[inline]
    fn name(&self) -> &[u8] {
        match self {
            ChainedName::InZone(name) => name,
            ChainedName::Rewritten { bytes, len } => &bytes[..*len],
        }
    }
}

impl<'z> Answer<'z> {
    #[inline]
    fn new(query: &QueryView<'_>, over_tcp: bool) -> Self {
        Answer {
            flags: AnswerFlags {
                rcode: rcode::NOERROR,
                aa: false,
                tc: false,
                kind: AnswerKind::Answer,
                wildcard: false,
            },
            qtype: query.qtype,
            dnssec_ok: query.edns.is_some_and(|e| e.dnssec_ok),
            over_tcp,
            proofs: Proofs::new(),
            additional: AdditionalSources::new(),
        }
    }

    /// RFC 1034 4.3.2 for the question name and each name a CNAME or DNAME leads
    /// to, up to [`MAX_CHAIN_STEPS`]: look the name up, sort what is there into an
    /// [`Outcome`], write it. `Err` when the reply is full.
    #[inline]
    fn write_chain(
        &mut self,
        zones: &'z ZoneSet,
        zone: &'z Zone,
        query: &QueryView<'_>,
        qname: &[u8],
        lower: &mut [u8; NAME_BUF_BYTES],
        writer: &mut ResponseWriter<'_>,
    ) -> Result<(), Full> {
        // Only when a CNAME or DNAME leads on; a CNAME's target is read in place,
        // so only a DNAME's rewritten name is copied (most answers never zero a
        // name buffer: 256 bytes, a tenth of a simple answer's instructions).
        let mut chained: Option<ChainedName<'z>> = None;
        for at in 0..MAX_CHAIN_STEPS {
            let (zone, owner, name, lookup_name) = if at == 0 {
                (zone, Owner::Question, query.qname, qname)
            } else {
                let Some(name) = chained.as_ref().map(ChainedName::name) else {
                    return Ok(());
                };
                let lookup_name = lowercase_into(name, lower);
                // RFC 1034 4.3.2 step 2: "Search the available zones for the zone
                // which is the nearest ancestor to QNAME." Past a CNAME out of our
                // zones, the answer ends.
                let Some(zone) = zones.find(lookup_name, self.qtype) else {
                    return Ok(());
                };
                (&**zone, Owner::Name(name), name, lookup_name)
            };
            let step = Step {
                zone,
                owner,
                name,
                lookup_name,
                dnssec: Dnssec::of(zone, self.dnssec_ok),
            };
            let lookup = zone.lookup(lookup_name, self.qtype);
            // RFC 1035 4.1.1: "The AA bit corresponds to the name which matches the
            // query name"; a referral is not authoritative.
            if at == 0 && !matches!(lookup, Lookup::Delegation(..)) {
                self.flags.aa = true;
            }
            if let Lookup::Wildcard(wildcard, _) = lookup {
                self.proofs.for_wildcard(&step, wildcard);
                self.flags.wildcard |= at == 0;
            }
            let next = match Outcome::of(lookup, self.qtype) {
                Outcome::Hit(found, set) => self.write_hit(writer, &step, found, set)?,
                Outcome::Any(found) => self.write_any(writer, &step, found)?,
                Outcome::Signatures(sigs) => self.write_signatures(writer, &step, sigs)?,
                Outcome::Cname(found, cname) => self.write_cname(writer, &step, found, cname)?,
                Outcome::NoData(found) => self.write_nodata(writer, &step, found)?,
                Outcome::NxDomain => self.write_nxdomain(writer, &step)?,
                Outcome::Referral(cut, node) => self.write_referral(writer, &step, cut, node)?,
                Outcome::Dname(dname_owner, node) => {
                    // The rewritten name lives here until it becomes the chained name.
                    let mut synthesized = [0u8; MAX_NAME_BYTES + 2];
                    match self.write_dname(writer, &step, dname_owner, node, &mut synthesized)? {
                        Next::Follow(name) => {
                            chained = Some(ChainedName::rewritten(name));
                            continue;
                        }
                        Next::Done => return Ok(()),
                    }
                }
            };
            match next {
                Next::Follow(name) => chained = Some(ChainedName::InZone(name)),
                Next::Done => return Ok(()),
            }
        }
        Ok(())
    }

    /// The RRset asked for (RFC 1034 4.3.2 step 3a: "copy all RRs which match QTYPE
    /// into the answer section and go to step 6"); NS, MX and SRV also ask for
    /// their targets' addresses.
    #[inline]
    fn write_hit(
        &mut self,
        writer: &mut ResponseWriter<'_>,
        step: &Step<'z, '_>,
        found: Found<'z>,
        set: &'z RRset,
    ) -> Result<Next<'z>, Full> {
        write_set(
            writer,
            Section::Answer,
            step.owner,
            found.node,
            set,
            step.dnssec.signed,
        )?;
        if matches!(self.qtype, types::NS | types::MX | types::SRV) {
            self.additional.add(AdditionalSource {
                zone: step.zone,
                rrset: set,
                cut: None,
            });
        }
        Ok(Next::Done)
    }

    /// ANY: RFC 8482 4.1, "A DNS responder can choose to select one or a larger
    /// subset of the available RRsets at the QNAME." Over UDP one RRset is enough;
    /// TCP gets them all.
    fn write_any(
        &mut self,
        writer: &mut ResponseWriter<'_>,
        step: &Step<'z, '_>,
        found: Found<'z>,
    ) -> Result<Next<'z>, Full> {
        let node = found.node;
        let signed = step.dnssec.signed;
        let count = if self.over_tcp { node.rrsets.len() } else { 1 };
        // With DO the signatures go with their RRsets, not again as a set.
        let sets = node
            .rrsets
            .iter()
            .filter(|s| !(signed && s.rtype == types::RRSIG));
        for set in sets.take(count) {
            write_set(writer, Section::Answer, step.owner, node, set, signed)?;
        }
        Ok(Next::Done)
    }

    /// RRSIG asked for: as Knot DNS, the signatures of the name's data, not those of
    /// its NSEC or NSEC3 (denial records, not data).
    fn write_signatures(
        &mut self,
        writer: &mut ResponseWriter<'_>,
        step: &Step<'z, '_>,
        sigs: &'z RRset,
    ) -> Result<Next<'z>, Full> {
        for entry in sigs.entries().filter(|e| !signs_denial(e)) {
            writer.write_rrset(Section::Answer, step.owner, types::RRSIG, sigs.ttl, entry)?;
        }
        Ok(Next::Done)
    }

    /// RFC 1034 4.3.2 step 3a: "If the data at the node is a CNAME, and QTYPE doesn't
    /// match CNAME, copy the CNAME RR into the answer section of the response,
    /// change QNAME to the canonical name in the CNAME RR, and go back to step 1."
    #[inline]
    fn write_cname(
        &mut self,
        writer: &mut ResponseWriter<'_>,
        step: &Step<'z, '_>,
        found: Found<'z>,
        cname: &'z RRset,
    ) -> Result<Next<'z>, Full> {
        write_set(
            writer,
            Section::Answer,
            step.owner,
            found.node,
            cname,
            step.dnssec.signed,
        )?;
        let target = cname.rdatas().next().unwrap_or_default();
        let len = wire_name_len(target).min(MAX_NAME_BYTES);
        Ok(Next::Follow(&target[..len]))
    }

    /// RFC 6672 2.2: the DNAME, then a CNAME from the name to the name with the
    /// DNAME owner suffix replaced by the target; the chain goes on there, built in
    /// `synthesized` (its 16-bit length first, as an RDATA entry). A name grown past
    /// 255 octets ends the answer with YXDOMAIN.
    fn write_dname<'s>(
        &mut self,
        writer: &mut ResponseWriter<'_>,
        step: &Step<'z, '_>,
        dname_owner: &'z [u8],
        node: &'z Node,
        synthesized: &'s mut [u8; MAX_NAME_BYTES + 2],
    ) -> Result<Next<'s>, Full> {
        let Some(dname) = node.rrset(types::DNAME) else {
            return Ok(Next::Done);
        };
        write_set(
            writer,
            Section::Answer,
            Owner::Name(dname_owner),
            node,
            dname,
            step.dnssec.signed,
        )?;
        let name = step.name;
        let target = dname.rdatas().next().unwrap_or_default();
        let prefix = name.len().saturating_sub(dname_owner.len());
        let new_len = prefix + target.len();
        if new_len > MAX_NAME_BYTES {
            self.flags.rcode = rcode::YXDOMAIN;
            return Ok(Next::Done);
        }
        synthesized[..2].copy_from_slice(&(new_len as u16).to_be_bytes());
        synthesized[2..2 + prefix].copy_from_slice(&name[..prefix]);
        synthesized[2 + prefix..2 + new_len].copy_from_slice(target);
        writer.write_rrset(
            Section::Answer,
            step.owner,
            types::CNAME,
            dname.ttl,
            &synthesized[..2 + new_len],
        )?;
        Ok(Next::Follow(&synthesized[2..2 + new_len]))
    }

    /// NODATA: RFC 2308 2.2, "NODATA is indicated by an answer with the RCODE set to
    /// NOERROR and no relevant answers in the answer section. The authority section
    /// will contain an SOA record". Then the proof that the type is not there.
    #[inline]
    fn write_nodata(
        &mut self,
        writer: &mut ResponseWriter<'_>,
        step: &Step<'z, '_>,
        found: Found<'z>,
    ) -> Result<Next<'z>, Full> {
        self.flags.kind = AnswerKind::NoData;
        write_soa(writer, step.zone, step.dnssec.signed)?;
        self.proofs.for_nodata(step, found);
        Ok(Next::Done)
    }

    /// NXDOMAIN: RFC 2308 2.1 and 3, the SOA in authority; then the proof that the
    /// name is not there.
    #[inline]
    fn write_nxdomain(
        &mut self,
        writer: &mut ResponseWriter<'_>,
        step: &Step<'z, '_>,
    ) -> Result<Next<'z>, Full> {
        // RFC 6604 3: "The RCODE in the ultimate DNS response MUST BE set based on
        // the final query cycle leading to that response."
        self.flags.rcode = rcode::NXDOMAIN;
        self.flags.kind = AnswerKind::NxDomain;
        write_soa(writer, step.zone, step.dnssec.signed)?;
        self.proofs.for_nxdomain(step);
        Ok(Next::Done)
    }

    /// RFC 1034 4.3.2 step 3b: "Copy the NS RRs for the subzone into the authority
    /// section of the reply. Put whatever addresses are available into the
    /// additional section"; then the DS of the child or the proof it has none.
    #[inline]
    fn write_referral(
        &mut self,
        writer: &mut ResponseWriter<'_>,
        step: &Step<'z, '_>,
        cut: &'z [u8],
        node: &'z Node,
    ) -> Result<Next<'z>, Full> {
        self.flags.kind = AnswerKind::Referral;
        if let Some(ns) = node.rrset(types::NS) {
            write_set(
                writer,
                Section::Authority,
                Owner::Name(cut),
                node,
                ns,
                false,
            )?;
            self.additional.add(AdditionalSource {
                zone: step.zone,
                rrset: ns,
                cut: Some(cut),
            });
        }
        self.proofs.for_referral(step, cut, node);
        Ok(Next::Done)
    }
}

/// An RRset whose targets get addresses in the additional section.
#[derive(Clone, Copy)]
struct AdditionalSource<'z> {
    /// The zone the targets are looked up in.
    zone: &'z Zone,
    /// The NS, MX or SRV RRset.
    rrset: &'z RRset,
    /// For a referral, the cut: glue below it is required (RFC 9471).
    cut: Option<&'z [u8]>,
}

/// The RRsets met whose targets get addresses, up to [`MAX_ADDITIONAL_SOURCES`].
struct AdditionalSources<'z> {
    /// The sources, in the order met, in `list[..count]`.
    list: [Option<AdditionalSource<'z>>; MAX_ADDITIONAL_SOURCES],
    /// How many there are.
    count: usize,
}

impl<'z> AdditionalSources<'z> {
    #[inline]
    fn new() -> Self {
        AdditionalSources {
            list: [None; MAX_ADDITIONAL_SOURCES],
            count: 0,
        }
    }

    #[inline]
    fn add(&mut self, source: AdditionalSource<'z>) {
        if let Some(slot) = self.list.get_mut(self.count) {
            *slot = Some(source);
            self.count += 1;
        }
    }

    #[inline]
    fn iter(&self) -> impl Iterator<Item = &AdditionalSource<'z>> {
        self.list.iter().take(self.count).flatten()
    }
}

/// How many DNSSEC proofs (NSEC, DS) one answer's authority section may gather.
const MAX_PROOFS: usize = 6;

/// An RRset to add to the authority section once the answer is written: a DNSSEC
/// proof (NSEC of a name, NSEC covering a missing name, DS of a cut).
#[derive(Clone, Copy)]
struct Proof<'z> {
    /// Its owner name.
    owner: &'z [u8],
    /// The node holding it (and its RRSIGs).
    node: &'z Node,
    /// NSEC, NSEC3 or DS.
    rtype: u16,
}

/// The proofs gathered, without duplicates, in the order asked for.
struct Proofs<'z> {
    /// The proofs, in `list[..count]`.
    list: [Option<Proof<'z>>; MAX_PROOFS],
    /// How many there are.
    count: usize,
}

/// What each outcome must prove (RFC 4035 3.1.3, 3.1.4 with NSEC; RFC 5155 7.2 with
/// NSEC3), in the terms of the primitives below.
impl<'z> Proofs<'z> {
    /// NXDOMAIN. RFC 4035 3.1.3.2: "An NSEC RR proving that there is no exact match
    /// for <SNAME, SCLASS>" and "An NSEC RR proving that the zone contains no RRsets
    /// that would match <SNAME, SCLASS> via wildcard name expansion". RFC 5155
    /// 7.2.2: the closest encloser proof, and the NSEC3 covering the wildcard at
    /// the closest encloser.
    #[inline]
    fn for_nxdomain(&mut self, step: &Step<'z, '_>) {
        if step.dnssec.nsec {
            self.nxdomain(step.zone, step.lookup_name);
        }
        if let Some(index) = step.dnssec.nsec3 {
            self.nsec3_closest_encloser(step.zone, index, step.lookup_name, true);
        }
    }

    /// NODATA. RFC 4035 3.1.3.1: "the name server MUST include the NSEC RR for
    /// <SNAME, SCLASS>"; 3.1.3.4: for a wildcard, the NSEC of the wildcard (the
    /// no-closer-match proof came with the expansion). RFC 5155 7.2.3/7.2.4: the
    /// NSEC3 matching the name (or the closest provable encloser proof); 7.2.5: for
    /// a wildcard, the closest encloser proof and the NSEC3 matching the wildcard.
    #[inline]
    fn for_nodata(&mut self, step: &Step<'z, '_>, found: Found<'z>) {
        if step.dnssec.nsec {
            self.of_name(step.zone, found.name, found.node);
        }
        if let Some(index) = step.dnssec.nsec3 {
            if found.wildcard {
                self.nsec3_closest_encloser(step.zone, index, step.lookup_name, false);
            }
            self.nsec3_of_name(step.zone, index, found.name);
        }
    }

    /// A wildcard expansion by `wildcard` (`*.…`), whatever it answers. RFC 4035
    /// 3.1.3.3: "an NSEC RR and associated RRSIG RR(s) proving that the zone does
    /// not contain a closer match for <SNAME, SCLASS>". RFC 5155 7.2.6: "the NSEC3
    /// RR that covers the "next closer" name of the immediate ancestor of the
    /// wildcard MUST be returned."
    #[inline]
    fn for_wildcard(&mut self, step: &Step<'z, '_>, wildcard: &[u8]) {
        if step.dnssec.nsec {
            self.cover(step.zone, step.lookup_name);
        }
        if let Some(index) = step.dnssec.nsec3 {
            let encloser = wildcard.get(2..).unwrap_or_default();
            let at = index.cover(next_closer(step.lookup_name, encloser));
            self.nsec3(step.zone, index, at);
        }
    }

    /// A referral. RFC 4035 3.1.4: "If a DS RRset is present at the delegation
    /// point, the name server MUST return both the DS RRset and its associated
    /// RRSIG RR(s)"; "If no DS RRset is present at the delegation point, the name
    /// server MUST return an NSEC RR that proves that the DS RRset is not
    /// present." RFC 5155 7.2.7: the NSEC3 of the cut, or the closest provable
    /// encloser proof when opt-out left it out.
    #[inline]
    fn for_referral(&mut self, step: &Step<'z, '_>, cut: &'z [u8], node: &'z Node) {
        if step.dnssec.signed && node.rrset(types::DS).is_some() {
            self.add(cut, node, types::DS);
        } else if step.dnssec.nsec {
            self.of_name(step.zone, cut, node);
        } else if let Some(index) = step.dnssec.nsec3 {
            self.nsec3_of_name(step.zone, index, cut);
        }
    }
}

/// The primitives: find a proof record and keep it.
impl<'z> Proofs<'z> {
    #[inline]
    fn new() -> Self {
        Proofs {
            list: [None; MAX_PROOFS],
            count: 0,
        }
    }

    fn add(&mut self, owner: &'z [u8], node: &'z Node, rtype: u16) {
        let same = |p: &Option<Proof<'z>>| {
            p.is_some_and(|p| std::ptr::eq(p.node, node) && p.rtype == rtype)
        };
        if self.list[..self.count].iter().any(same) {
            return;
        }
        if let Some(slot) = self.list.get_mut(self.count) {
            *slot = Some(Proof { owner, node, rtype });
            self.count += 1;
        }
    }

    /// The NSEC covering `name` in `zone` (a name that does not exist).
    fn cover(&mut self, zone: &'z Zone, name: &[u8]) {
        if let Some((owner, node)) = zone.covering_nsec(name) {
            self.add(owner, node, types::NSEC);
        }
    }

    /// The NSEC of `owner` when it has one, else the NSEC covering it (an empty
    /// non-terminal has none of its own).
    fn of_name(&mut self, zone: &'z Zone, owner: &'z [u8], node: &'z Node) {
        if node.rrset(types::NSEC).is_some() {
            self.add(owner, node, types::NSEC);
        } else {
            self.cover(zone, owner);
        }
    }

    /// The NSEC covering `name`, and the one proving no wildcard at its closest
    /// encloser could have answered.
    fn nxdomain(&mut self, zone: &'z Zone, name: &[u8]) {
        self.cover(zone, name);
        if let Some((encloser, _)) = zone.closest_encloser(name) {
            let len = encloser.len() + 2;
            if len <= MAX_NAME_BYTES {
                let mut wildcard = [0u8; NAME_BUF_BYTES];
                wildcard[0] = 1;
                wildcard[1] = b'*';
                wildcard[2..len].copy_from_slice(encloser);
                self.cover(zone, &wildcard[..len]);
            }
        }
    }

    /// The NSEC3 at chain position `at`.
    fn nsec3(&mut self, zone: &'z Zone, index: &'z Nsec3Index, at: u32) {
        if let Some((owner, node)) = index.record(zone, at) {
            self.add(owner, node, types::NSEC3);
        }
    }

    /// The closest encloser proof (RFC 5155 7.2.1) of `name`: the NSEC3 matching its
    /// closest encloser and the one covering the next closer name; with
    /// `wildcard`, also the one covering the wildcard at the closest encloser.
    fn nsec3_closest_encloser(
        &mut self,
        zone: &'z Zone,
        index: &'z Nsec3Index,
        name: &[u8],
        wildcard: bool,
    ) {
        let Some((encloser, _)) = zone.closest_encloser(name) else {
            return;
        };
        let Some(proof) = index.name(encloser) else {
            return;
        };
        if let Some(at) = proof.matching {
            self.nsec3(zone, index, at);
        }
        self.nsec3(zone, index, index.cover(next_closer(name, encloser)));
        if wildcard {
            self.nsec3(zone, index, proof.wildcard);
        }
    }

    /// The NSEC3 of the zone name `name` (its type bitmap proves what it lacks); for
    /// a name left out by opt-out, the closest provable encloser proof (RFC 5155
    /// 7.2.4): the nearest ancestor with an NSEC3, and the NSEC3 covering the name
    /// one label below it (opt-out set).
    fn nsec3_of_name(&mut self, zone: &'z Zone, index: &'z Nsec3Index, name: &'z [u8]) {
        let Some(proof) = index.name(name) else {
            return;
        };
        if let Some(at) = proof.matching {
            self.nsec3(zone, index, at);
            return;
        }
        let mut below_cover = proof.covering;
        for offset in suffix_offsets(name).skip(1) {
            let Some(up) = index.name(&name[offset..]) else {
                return;
            };
            if let Some(at) = up.matching {
                self.nsec3(zone, index, at);
                self.nsec3(zone, index, below_cover);
                return;
            }
            below_cover = up.covering;
        }
    }

    /// Writes the proofs into the authority section, with their RRSIGs.
    fn write(&self, writer: &mut ResponseWriter<'_>) -> Result<(), Full> {
        for proof in self.list[..self.count].iter().flatten() {
            if let Some(set) = proof.node.rrset(proof.rtype) {
                write_set(
                    writer,
                    Section::Authority,
                    Owner::Name(proof.owner),
                    proof.node,
                    set,
                    true,
                )?;
            }
        }
        Ok(())
    }
}

/// Writes a zone RRset under `owner` (the query name, or another name), and with
/// `signed` the RRSIGs of `node` that cover it (RFC 4035 3.1.1).
fn write_set(
    writer: &mut ResponseWriter<'_>,
    section: Section,
    owner: Owner<'_>,
    node: &super::node::Node,
    set: &RRset,
    signed: bool,
) -> Result<(), Full> {
    writer.write_rrset(section, owner, set.rtype, set.ttl, &set.data)?;
    if signed && set.rtype != types::RRSIG {
        write_sigs(writer, section, owner, node, set.rtype, set.ttl)?;
    }
    Ok(())
}

/// The RRSIG records of `node` covering type `covered`, one at a time, at `ttl`.
fn write_sigs(
    writer: &mut ResponseWriter<'_>,
    section: Section,
    owner: Owner<'_>,
    node: &super::node::Node,
    covered: u16,
    ttl: u32,
) -> Result<(), Full> {
    let Some(sigs) = node.rrset(types::RRSIG) else {
        return Ok(());
    };
    let covered = covered.to_be_bytes();
    for entry in sigs.entries() {
        // An entry is the 16-bit length, then the RDATA: type covered first.
        if entry.get(2..4) == Some(&covered[..]) {
            writer.write_rrset(section, owner, types::RRSIG, ttl, entry)?;
        }
    }
    Ok(())
}

/// RFC 2308 3: the zone's SOA in authority, its TTL capped by the SOA MINIMUM (and
/// its RRSIG at the same TTL when `signed`).
fn write_soa(writer: &mut ResponseWriter<'_>, zone: &Zone, signed: bool) -> Result<(), Full> {
    writer.write_rrset(
        Section::Authority,
        Owner::Name(&zone.origin),
        types::SOA,
        zone.negative_ttl,
        &zone.soa.data,
    )?;
    if signed {
        if let Some(apex) = zone.apex() {
            let owner = Owner::Name(&zone.origin);
            write_sigs(
                writer,
                Section::Authority,
                owner,
                apex,
                types::SOA,
                zone.negative_ttl,
            )?;
        }
    }
    Ok(())
}

/// RFC 1034 4.3.2 step 6: A and AAAA for the targets of NS, MX and SRV records that
/// are in the zone. Optional addresses that do not fit are left out; in-domain glue
/// that does not fit makes the reply truncated (RFC 9471 3): `Err` then.
fn write_additional<'z>(
    writer: &mut ResponseWriter<'_>,
    lower: &mut [u8; NAME_BUF_BYTES],
    sources: impl Iterator<Item = &'z AdditionalSource<'z>>,
    dnssec_ok: bool,
) -> Result<(), Full> {
    let mut written: [*const RRset; MAX_ADDITIONAL_WRITTEN] =
        [std::ptr::null(); MAX_ADDITIONAL_WRITTEN];
    let mut written_count = 0usize;
    let mut truncated = false;
    for source in sources {
        for target in source.rrset.additional_targets() {
            let target = &target[..wire_name_len(target)];
            let target_lc = lowercase_into(target, lower);
            if !is_subdomain(target_lc, &source.zone.origin) {
                continue;
            }
            // Addresses below a cut (glue) are given too, as Knot DNS and NSD give them.
            let Some(node) = source.zone.node(target_lc) else {
                continue;
            };
            for rtype in [types::A, types::AAAA] {
                let Some(set) = node.rrset(rtype) else {
                    continue;
                };
                let ptr: *const RRset = set;
                if written[..written_count].contains(&ptr) {
                    continue;
                }
                if writer
                    .write_rrset(
                        Section::Additional,
                        Owner::Name(target),
                        rtype,
                        set.ttl,
                        &set.data,
                    )
                    .is_err()
                {
                    // A smaller RRset further on may still fit: keep going, as Knot DNS does.
                    truncated |= source.cut.is_some_and(|cut| is_subdomain(target_lc, cut));
                    continue;
                }
                if written_count < MAX_ADDITIONAL_WRITTEN {
                    written[written_count] = ptr;
                    written_count += 1;
                }
                // Their RRSIGs when there is room: optional, dropped first (RFC 4035
                // 3.1.1); glue has none.
                if dnssec_ok && source.zone.dnssec != Denial::Unsigned {
                    let _ = write_sigs(
                        writer,
                        Section::Additional,
                        Owner::Name(target),
                        node,
                        rtype,
                        set.ttl,
                    );
                }
            }
        }
    }
    if truncated {
        return Err(Full);
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::path::Path;
    use std::sync::Arc;

    use hickory_proto::op::{Message, ResponseCode};
    use hickory_proto::rr::RecordType;

    use crate::auth::ZoneSet;
    use crate::server::{respond, Request, Response, Scratch, Server, ServerOptions, Transport};
    use crate::wire::name::parse_presentation;
    use crate::wire::query::{encode_query, OutgoingQuery, QueryEdns};
    use crate::zonefile::load_zone_text;

    const ZONE: &str = "$TTL 3600
@ SOA ns hm 1 2 3 4 60
@ NS ns
ns A 192.0.2.1
www A 192.0.2.10
a CNAME b
b CNAME www
loop1 CNAME loop2
loop2 CNAME loop1
*.w A 192.0.2.80
x.e.f A 192.0.2.9
*.f A 192.0.2.8
d DNAME t
long DNAME aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb.z.
$GENERATE 1-8 sub NS ns$.sub
$GENERATE 1-8 ns$.sub AAAA 2001:db8::$
";

    fn zones() -> Server {
        let origin = parse_presentation(b"z.", None).unwrap();
        let zones = ZoneSet::new([Arc::new(
            load_zone_text(&origin, ZONE.as_bytes(), Path::new("z")).unwrap(),
        )]);
        Server::new(zones, ServerOptions::default())
    }

    fn ask(server: &Server, name: &str, qtype: u16, payload: Option<u16>) -> Message {
        let qname = parse_presentation(name.as_bytes(), None).unwrap();
        let mut query = OutgoingQuery::new(&qname, qtype);
        query.edns = payload.map(|udp_payload| QueryEdns {
            udp_payload,
            dnssec_ok: false,
        });
        let mut packet = Vec::new();
        encode_query(&query, &mut packet);
        let mut out = vec![0u8; 65_535];
        let request = Request {
            packet: &packet,
            client: "127.0.0.1:53".parse().unwrap(),
            transport: Transport::Udp,
        };
        let zones = server.zones.load();
        let Response::Reply { len, .. } =
            respond(server, &zones, &request, &mut Scratch::default(), &mut out)
        else {
            panic!("no reply");
        };
        Message::from_vec(&out[..len]).unwrap()
    }

    fn types(records: &[hickory_proto::rr::Record]) -> Vec<RecordType> {
        records.iter().map(|r| r.record_type()).collect()
    }

    #[test]
    fn exact_match_is_authoritative() {
        let m = ask(&zones(), "www.z.", 1, None);
        assert!(m.metadata.authoritative);
        assert_eq!(types(&m.answers), [RecordType::A]);
    }

    #[test]
    fn cname_chain_and_loop() {
        let z = zones();
        let m = ask(&z, "a.z.", 1, None);
        assert_eq!(
            types(&m.answers),
            [RecordType::CNAME, RecordType::CNAME, RecordType::A]
        );
        let m = ask(&z, "loop1.z.", 1, None);
        assert_eq!(
            m.answers.len(),
            super::MAX_CHAIN_STEPS,
            "stops after the step limit"
        );
        assert_eq!(m.metadata.response_code, ResponseCode::NoError);
    }

    #[test]
    fn nxdomain_soa_ttl_is_the_minimum() {
        let m = ask(&zones(), "nope.z.", 1, None);
        assert_eq!(m.metadata.response_code, ResponseCode::NXDomain);
        assert_eq!(m.authorities[0].ttl, 60);
    }

    #[test]
    fn wildcard_and_empty_non_terminal_block() {
        let z = zones();
        assert_eq!(
            ask(&z, "q.w.z.", 1, None).answers[0].name.to_ascii(),
            "q.w.z."
        );
        // e.f is an empty non-terminal: *.f does not cover names below it.
        assert_eq!(
            ask(&z, "q.e.f.z.", 1, None).metadata.response_code,
            ResponseCode::NXDomain
        );
        assert_eq!(ask(&z, "e.f.z.", 1, None).answers.len(), 0);
        assert_eq!(
            ask(&z, "e.f.z.", 1, None).metadata.response_code,
            ResponseCode::NoError
        );
        assert_eq!(ask(&z, "q.f.z.", 1, None).answers.len(), 1);
    }

    #[test]
    fn dname_synthesis_and_yxdomain() {
        let z = zones();
        let m = ask(&z, "x.d.z.", 1, None);
        assert_eq!(
            types(&m.answers)[..2],
            [RecordType::DNAME, RecordType::CNAME]
        );
        assert_eq!(
            m.metadata.response_code,
            ResponseCode::NXDomain,
            "x.t.z does not exist"
        );
        // A name that would grow past 255 bytes: YXDOMAIN (RFC 6672 2.2).
        let name = format!("{0}.{0}.{0}.long.z.", "c".repeat(61));
        let m = ask(&z, &name, 1, None);
        assert_eq!(m.metadata.response_code, ResponseCode::YXDomain);
        assert_eq!(types(&m.answers), [RecordType::DNAME]);
    }

    #[test]
    fn referral_glue_that_does_not_fit_sets_tc() {
        let z = zones();
        let big = ask(&z, "host.sub.z.", 1, Some(1232));
        assert!(!big.metadata.authoritative && !big.metadata.truncation);
        assert_eq!(big.additionals.len(), 8);
        // RFC 9471: with 512 bytes the in-domain glue still fits here...
        let small = ask(&z, "host.sub.z.", 1, None);
        assert!(!small.metadata.truncation);
        assert_eq!(small.additionals.len(), 8);
        // ...but not in a reply with a long question name.
        let name = format!("{0}.{0}.{0}.sub.z.", "a".repeat(63));
        let cut = ask(&z, &name, 1, None);
        assert_eq!(cut.authorities.len(), 8);
        assert!(cut.additionals.len() < 8);
        assert!(
            cut.metadata.truncation,
            "in-domain glue left out must set TC"
        );
    }

    /// What [`super::Outcome::of`] makes of `name` asked with `qtype` in [`ZONE`]
    /// (plus two names with RRSIGs): the outcome's name, and whether a wildcard answered.
    fn outcome(name: &str, qtype: u16) -> (&'static str, bool) {
        use super::Outcome;
        let origin = parse_presentation(b"z.", None).unwrap();
        let text = format!(
            "{ZONE}sig A 192.0.2.7\n\
             sig RRSIG A 8 2 3600 20300101000000 20200101000000 1 z. AAAA\n\
             nsec-only A 192.0.2.7\n\
             nsec-only RRSIG NSEC 8 2 3600 20300101000000 20200101000000 1 z. AAAA\n"
        );
        let zone = load_zone_text(&origin, text.as_bytes(), Path::new("z")).unwrap();
        let qname = parse_presentation(name.as_bytes(), None).unwrap();
        match Outcome::of(zone.lookup(&qname, qtype), qtype) {
            Outcome::Hit(found, _) => ("hit", found.wildcard),
            Outcome::Any(found) => ("any", found.wildcard),
            Outcome::Signatures(_) => ("signatures", false),
            Outcome::Cname(found, _) => ("cname", found.wildcard),
            Outcome::NoData(found) => ("nodata", found.wildcard),
            Outcome::Referral(..) => ("referral", false),
            Outcome::Dname(..) => ("dname", false),
            Outcome::NxDomain => ("nxdomain", false),
        }
    }

    #[test]
    fn each_lookup_sorts_into_one_outcome() {
        use crate::wire::types::{A, ANY, CNAME, MX, NS, RRSIG};
        assert_eq!(outcome("www.z.", A), ("hit", false));
        assert_eq!(outcome("www.z.", MX), ("nodata", false));
        assert_eq!(outcome("a.z.", A), ("cname", false));
        assert_eq!(
            outcome("a.z.", CNAME),
            ("hit", false),
            "CNAME asked: the CNAME"
        );
        assert_eq!(outcome("q.w.z.", A), ("hit", true));
        assert_eq!(outcome("q.w.z.", MX), ("nodata", true));
        assert_eq!(outcome("nope.z.", A), ("nxdomain", false));
        assert_eq!(outcome("host.sub.z.", A), ("referral", false));
        assert_eq!(outcome("sub.z.", NS), ("referral", false));
        assert_eq!(outcome("x.d.z.", A), ("dname", false));
        assert_eq!(outcome("www.z.", ANY), ("any", false));
        assert_eq!(
            outcome("e.f.z.", ANY),
            ("nodata", false),
            "ANY at an empty non-terminal"
        );
        assert_eq!(outcome("sig.z.", RRSIG), ("signatures", false));
        // Signatures of a denial record only are no answer to RRSIG: the RRset itself is.
        assert_eq!(outcome("nsec-only.z.", RRSIG), ("hit", false));
        assert_eq!(outcome("www.z.", RRSIG), ("nodata", false));
    }
}
