//! The authoritative answer: RFC 1034 4.3.2 over a [`ZoneSet`], with RFC 2308
//! negative answers, RFC 4592 wildcards, RFC 6672 DNAME and RFC 8482 minimal ANY.
//!
//! Records are written straight into the [`ResponseWriter`] as the algorithm reaches
//! them: answer section while following CNAMEs, then authority (SOA or referral NS),
//! then additional addresses. Nothing is allocated.

use std::sync::Arc;

use super::node::RRset;
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

/// How many DNSSEC proofs (NSEC, DS) one answer's authority section may gather.
const MAX_PROOFS: usize = 6;

/// An RRset to add to the authority section once the answer is written: a DNSSEC
/// proof (NSEC of a name, NSEC covering a missing name, DS of a cut).
#[derive(Clone, Copy)]
struct Proof<'z> {
    owner: &'z [u8],
    node: &'z super::node::Node,
    rtype: u16,
}

/// The proofs gathered, without duplicates.
struct Proofs<'z> {
    list: [Option<Proof<'z>>; MAX_PROOFS],
    count: usize,
}

impl<'z> Proofs<'z> {
    fn new() -> Self {
        Proofs {
            list: [None; MAX_PROOFS],
            count: 0,
        }
    }

    fn add(&mut self, owner: &'z [u8], node: &'z super::node::Node, rtype: u16) {
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
    fn of_name(&mut self, zone: &'z Zone, owner: &'z [u8], node: &'z super::node::Node) {
        if node.rrset(types::NSEC).is_some() {
            self.add(owner, node, types::NSEC);
        } else {
            self.cover(zone, owner);
        }
    }

    /// NXDOMAIN (RFC 4035 3.1.3.2): the NSEC covering `name`, and the one proving
    /// no wildcard at its closest encloser could have answered.
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
    let mut flags = AnswerFlags {
        rcode: rcode::NOERROR,
        aa: false,
        tc: false,
        kind: AnswerKind::Answer,
    };
    let mut sources: [Option<AdditionalSource<'z>>; MAX_ADDITIONAL_SOURCES] =
        [None; MAX_ADDITIONAL_SOURCES];
    let mut source_count = 0usize;
    let mut add_source = |source: AdditionalSource<'z>| {
        if let Some(slot) = sources.get_mut(source_count) {
            *slot = Some(source);
            source_count += 1;
        }
    };
    let dnssec_ok = query.edns.is_some_and(|e| e.dnssec_ok);
    let mut proofs = Proofs::new();
    let qtype = query.qtype;
    let mut chained = [0u8; NAME_BUF_BYTES];
    let mut chained_len = 0usize;
    let result: Result<(), Full> = (|| {
        for step in 0..MAX_CHAIN_STEPS {
            let name: &[u8] = if step == 0 {
                query.qname
            } else {
                &chained[..chained_len]
            };
            let owner = if step == 0 {
                Owner::Question
            } else {
                Owner::Name(name)
            };
            let (zone, lookup_name): (&'z Zone, &[u8]) = if step == 0 {
                (zone, qname)
            } else {
                // RFC 1034 4.3.2 step 2: past a CNAME out of our zones, the answer ends.
                let name = lowercase_into(name, lower);
                match zones.find(name, qtype) {
                    Some(zone) => (zone, name),
                    None => return Ok(()),
                }
            };
            let signed = dnssec_ok && zone.dnssec != Denial::Unsigned;
            let nsec = dnssec_ok && zone.dnssec == Denial::Nsec;
            let nsec3 = if dnssec_ok {
                zone.nsec3.as_deref()
            } else {
                None
            };
            let lookup = zone.lookup(lookup_name, qtype);
            if step == 0 && !matches!(lookup, Lookup::Delegation(..)) {
                flags.aa = true;
            }
            let next: &[u8] = match lookup {
                // RFC 4592 3.4: a wildcard answers as if it were the query name.
                Lookup::Found(found, node) | Lookup::Wildcard(found, node) => {
                    let wildcard = matches!(lookup, Lookup::Wildcard(..));
                    if wildcard && nsec {
                        // RFC 4035 3.1.3.3: no closer match exists.
                        proofs.cover(zone, lookup_name);
                    }
                    if let (true, Some(index)) = (wildcard, nsec3) {
                        // RFC 5155 7.2.6: the next closer name is covered.
                        let encloser = found.get(2..).unwrap_or_default();
                        proofs.nsec3(zone, index, index.cover(next_closer(lookup_name, encloser)));
                    }
                    if qtype == types::ANY && !node.rrsets.is_empty() {
                        // RFC 8482 4.1: over UDP one RRset is enough; TCP gets them all.
                        let count = if over_tcp { node.rrsets.len() } else { 1 };
                        // With DO the signatures go with their RRsets, not again as a set.
                        let sets = node
                            .rrsets
                            .iter()
                            .filter(|s| !(signed && s.rtype == types::RRSIG));
                        for set in sets.take(count) {
                            write_set(writer, Section::Answer, owner, node, set, signed)?;
                        }
                        return Ok(());
                    }
                    if qtype == types::RRSIG {
                        // As Knot DNS: the signatures of the name's data, not those of its
                        // NSEC (a denial record, not data).
                        if let Some(sigs) = node.rrset(types::RRSIG) {
                            let mut wrote = false;
                            for entry in sigs.entries() {
                                let covered =
                                    entry.get(2..4).map(|c| u16::from_be_bytes([c[0], c[1]]));
                                if matches!(covered, Some(types::NSEC | types::NSEC3)) {
                                    continue;
                                }
                                writer.write_rrset(
                                    Section::Answer,
                                    owner,
                                    types::RRSIG,
                                    sigs.ttl,
                                    entry,
                                )?;
                                wrote = true;
                            }
                            if wrote {
                                return Ok(());
                            }
                        }
                    }
                    if let Some(set) = node.rrset(qtype) {
                        write_set(writer, Section::Answer, owner, node, set, signed)?;
                        if matches!(qtype, types::NS | types::MX | types::SRV) {
                            add_source(AdditionalSource {
                                zone,
                                rrset: set,
                                cut: None,
                            });
                        }
                        return Ok(());
                    }
                    match node.rrset(types::CNAME) {
                        // RFC 1034 4.3.2 step 3a: change QNAME to the canonical name and go on.
                        Some(cname) if qtype != types::CNAME => {
                            write_set(writer, Section::Answer, owner, node, cname, signed)?;
                            cname.rdatas().next().unwrap_or_default()
                        }
                        _ => {
                            // RFC 2308 2.2: NODATA, the SOA in authority; RFC 4035
                            // 3.1.3.1/3.1.3.4: the NSEC of the name (of the wildcard).
                            flags.kind = AnswerKind::NoData;
                            write_soa(writer, zone, signed)?;
                            if nsec {
                                proofs.of_name(zone, found, node);
                            }
                            if let Some(index) = nsec3 {
                                // RFC 5155 7.2.3-7.2.5: the name's NSEC3 (for a
                                // wildcard NODATA, with the closest encloser proof).
                                if wildcard {
                                    proofs.nsec3_closest_encloser(zone, index, lookup_name, false);
                                }
                                proofs.nsec3_of_name(zone, index, found);
                            }
                            return Ok(());
                        }
                    }
                }
                Lookup::Delegation(cut, node) => {
                    // RFC 1034 4.3.2 step 3b: a referral, NS in authority, glue in additional.
                    flags.kind = AnswerKind::Referral;
                    if let Some(ns) = node.rrset(types::NS) {
                        write_set(
                            writer,
                            Section::Authority,
                            Owner::Name(cut),
                            node,
                            ns,
                            false,
                        )?;
                        add_source(AdditionalSource {
                            zone,
                            rrset: ns,
                            cut: Some(cut),
                        });
                    }
                    // RFC 4035 3.1.4: the DS of a signed child, or the NSEC proving
                    // there is none.
                    if signed && node.rrset(types::DS).is_some() {
                        proofs.add(cut, node, types::DS);
                    } else if nsec {
                        proofs.of_name(zone, cut, node);
                    } else if let Some(index) = nsec3 {
                        proofs.nsec3_of_name(zone, index, cut);
                    }
                    return Ok(());
                }
                Lookup::Dname(dname_owner, node) => {
                    let Some(dname) = node.rrset(types::DNAME) else {
                        return Ok(());
                    };
                    write_set(
                        writer,
                        Section::Answer,
                        Owner::Name(dname_owner),
                        node,
                        dname,
                        signed,
                    )?;
                    // RFC 6672 2.2: replace the DNAME owner suffix of the name with its target.
                    let target = dname.rdatas().next().unwrap_or_default();
                    let prefix = name.len().saturating_sub(dname_owner.len());
                    let new_len = prefix + target.len();
                    if new_len > MAX_NAME_BYTES {
                        flags.rcode = rcode::YXDOMAIN;
                        return Ok(());
                    }
                    let mut synthesized = [0u8; MAX_NAME_BYTES + 2];
                    synthesized[..2].copy_from_slice(&(new_len as u16).to_be_bytes());
                    synthesized[2..2 + prefix].copy_from_slice(&name[..prefix]);
                    synthesized[2 + prefix..2 + new_len].copy_from_slice(target);
                    writer.write_rrset(
                        Section::Answer,
                        owner,
                        types::CNAME,
                        dname.ttl,
                        &synthesized[..2 + new_len],
                    )?;
                    chained[..new_len].copy_from_slice(&synthesized[2..2 + new_len]);
                    chained_len = new_len;
                    continue;
                }
                Lookup::NxDomain => {
                    // RFC 6604: the rcode speaks of the last name in the chain.
                    flags.rcode = rcode::NXDOMAIN;
                    flags.kind = AnswerKind::NxDomain;
                    write_soa(writer, zone, signed)?;
                    if nsec {
                        proofs.nxdomain(zone, lookup_name);
                    }
                    if let Some(index) = nsec3 {
                        proofs.nsec3_closest_encloser(zone, index, lookup_name, true);
                    }
                    return Ok(());
                }
            };
            let len = wire_name_len(next).min(MAX_NAME_BYTES);
            chained[..len].copy_from_slice(&next[..len]);
            chained_len = len;
        }
        Ok(())
    })();
    // The proofs follow whatever authority records the answer wrote.
    let result = result.and_then(|()| proofs.write(writer));
    if result.is_err() {
        // RFC 2181 9: what does not fit is not sent; TC tells the client to use TCP.
        flags.tc = true;
        writer.truncate_to_question();
        return flags;
    }
    let sources = sources.iter().take(source_count).flatten();
    if write_additional(writer, lower, sources, dnssec_ok).is_err() {
        flags.tc = true;
    }
    flags
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
}
