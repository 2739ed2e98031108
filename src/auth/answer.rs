//! The authoritative answer: RFC 1034 4.3.2 over a [`ZoneSet`], with RFC 2308
//! negative answers, RFC 4592 wildcards, RFC 6672 DNAME and RFC 8482 minimal ANY.
//!
//! Records are written straight into the [`ResponseWriter`] as the algorithm reaches
//! them: answer section while following CNAMEs, then authority (SOA or referral NS),
//! then additional addresses. Nothing is allocated.

use super::zone::{Lookup, RRset, Zone};
use super::zone_set::ZoneSet;
use crate::wire::name::{is_subdomain, lowercase_into, MAX_NAME_BYTES, NAME_BUF_BYTES};
use crate::wire::writer::{wire_name_len, Full, Owner, ResponseWriter, Section};
use crate::wire::QueryView;
use crate::zonefile::rdata::types;

/// How many CNAME or DNAME steps are followed before the answer stops (a loop, most likely).
pub const MAX_CHAIN_STEPS: usize = 12;
/// How many RRsets may ask for additional-section addresses.
const MAX_ADDITIONAL_SOURCES: usize = 8;
/// How many address RRsets the additional section remembers to avoid repeating one.
const MAX_ADDITIONAL_WRITTEN: usize = 32;

/// Response codes (RFC 1035 4.1.1, RFC 6891 9).
pub mod rcode {
    /// No error.
    pub const NOERROR: u16 = 0;
    /// Format error.
    pub const FORMERR: u16 = 1;
    /// Server failure.
    pub const SERVFAIL: u16 = 2;
    /// Name does not exist.
    pub const NXDOMAIN: u16 = 3;
    /// Not implemented.
    pub const NOTIMP: u16 = 4;
    /// Refused.
    pub const REFUSED: u16 = 5;
    /// A DNAME substitution made a name too long (RFC 6672 2.2).
    pub const YXDOMAIN: u16 = 6;
    /// Unsupported EDNS version (extended rcode).
    pub const BADVERS: u16 = 16;
}

/// The header bits the answer decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AnswerFlags {
    /// Response code.
    pub rcode: u16,
    /// Authoritative answer.
    pub aa: bool,
    /// Truncated: the client should retry over TCP.
    pub tc: bool,
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

/// Answers the question of `query` from `zones` into `writer` (question already written).
pub fn answer<'z>(
    zones: &'z ZoneSet,
    query: &QueryView<'_>,
    writer: &mut ResponseWriter<'_>,
    over_tcp: bool,
) -> AnswerFlags {
    let mut flags = AnswerFlags {
        rcode: rcode::NOERROR,
        aa: false,
        tc: false,
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
    let qtype = query.qtype;
    let mut chained = [0u8; NAME_BUF_BYTES];
    let mut chained_len = 0usize;
    let mut lower = [0u8; NAME_BUF_BYTES];
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
            let qname = lowercase_into(name, &mut lower);
            let Some(zone) = zones.find(qname, qtype) else {
                // RFC 1034 4.3.2 step 2: not ours. Past a CNAME, the answer just ends.
                if step == 0 {
                    flags.rcode = rcode::REFUSED;
                }
                return Ok(());
            };
            let lookup = zone.lookup(qname, qtype);
            if step == 0 && !matches!(lookup, Lookup::Delegation(..)) {
                flags.aa = true;
            }
            let next: &[u8] = match lookup {
                // RFC 4592 3.4: a wildcard answers as if it were the query name.
                Lookup::Found(node) | Lookup::Wildcard(node) => {
                    if qtype == types::ANY && !node.rrsets.is_empty() {
                        // RFC 8482 4.1: over UDP one RRset is enough; TCP gets them all.
                        let count = if over_tcp { node.rrsets.len() } else { 1 };
                        for set in node.rrsets.iter().take(count) {
                            writer.write_rrset(
                                Section::Answer,
                                owner,
                                set.rtype,
                                set.ttl,
                                &set.data,
                            )?;
                        }
                        return Ok(());
                    }
                    if let Some(set) = node.rrset(qtype) {
                        writer.write_rrset(
                            Section::Answer,
                            owner,
                            set.rtype,
                            set.ttl,
                            &set.data,
                        )?;
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
                            writer.write_rrset(
                                Section::Answer,
                                owner,
                                types::CNAME,
                                cname.ttl,
                                &cname.data,
                            )?;
                            cname.rdatas().next().unwrap_or_default()
                        }
                        _ => {
                            // RFC 2308 2.2: NODATA, the SOA in authority.
                            write_soa(writer, zone)?;
                            return Ok(());
                        }
                    }
                }
                Lookup::Delegation(cut, node) => {
                    // RFC 1034 4.3.2 step 3b: a referral, NS in authority, glue in additional.
                    if let Some(ns) = node.rrset(types::NS) {
                        writer.write_rrset(
                            Section::Authority,
                            Owner::Name(cut),
                            types::NS,
                            ns.ttl,
                            &ns.data,
                        )?;
                        add_source(AdditionalSource {
                            zone,
                            rrset: ns,
                            cut: Some(cut),
                        });
                    }
                    return Ok(());
                }
                Lookup::Dname(dname_owner, node) => {
                    let Some(dname) = node.rrset(types::DNAME) else {
                        return Ok(());
                    };
                    writer.write_rrset(
                        Section::Answer,
                        Owner::Name(dname_owner),
                        types::DNAME,
                        dname.ttl,
                        &dname.data,
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
                    write_soa(writer, zone)?;
                    return Ok(());
                }
            };
            let len = wire_name_len(next).min(MAX_NAME_BYTES);
            chained[..len].copy_from_slice(&next[..len]);
            chained_len = len;
        }
        Ok(())
    })();
    if result.is_err() {
        // RFC 2181 9: what does not fit is not sent; TC tells the client to use TCP.
        flags.tc = true;
        writer.truncate_to_question();
        return flags;
    }
    let sources = sources.iter().take(source_count).flatten();
    if write_additional(writer, sources).is_err() {
        flags.tc = true;
    }
    flags
}

/// RFC 2308 3: the zone's SOA in authority, its TTL capped by the SOA MINIMUM.
fn write_soa(writer: &mut ResponseWriter<'_>, zone: &Zone) -> Result<(), Full> {
    writer.write_rrset(
        Section::Authority,
        Owner::Name(&zone.origin),
        types::SOA,
        zone.negative_ttl,
        &zone.soa.data,
    )
}

/// RFC 1034 4.3.2 step 6: A and AAAA for the targets of NS, MX and SRV records that
/// are in the zone. Optional addresses that do not fit are left out; in-domain glue
/// that does not fit makes the reply truncated (RFC 9471 3): `Err` then.
fn write_additional<'z>(
    writer: &mut ResponseWriter<'_>,
    sources: impl Iterator<Item = &'z AdditionalSource<'z>>,
) -> Result<(), Full> {
    let mut written: [*const RRset; MAX_ADDITIONAL_WRITTEN] =
        [std::ptr::null(); MAX_ADDITIONAL_WRITTEN];
    let mut written_count = 0usize;
    let mut lower = [0u8; NAME_BUF_BYTES];
    let mut truncated = false;
    for source in sources {
        for target in source.rrset.additional_targets() {
            let target = &target[..wire_name_len(target)];
            let target_lc = lowercase_into(target, &mut lower);
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
            }
        }
    }
    if truncated {
        return Err(Full);
    }
    Ok(())
}
