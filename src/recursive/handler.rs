//! The slow path of recursive queries: the router defers a recursive question for
//! a name outside our zones from an allowed client here; the answer is resolved on
//! the async runtime and written as a reply (RA set, TTLs as they stand in the
//! cache, TC when it does not fit the client's UDP size), or SERVFAIL when the
//! question could not be resolved within its budget — or at once, without being
//! resolved, when its client already has its most questions in flight
//! (`limits::ClientLimits`).

use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::cache::{CachedRRset, Rank};
use super::iterator::{Resolution, ResolveError};
use super::limits::ClientLimit;
use super::scrub::TtlRRset;
use super::Resolver;
use crate::auth::{Lookup, RRset, ZoneSet};
use crate::exchange::{
    reply_cookie, reply_limits, AnswerKind, Outcome, OwnedRequest, ReplyFuture, Route, SlowHandler,
    SlowReply,
};
use crate::wire::parse_query;
use crate::wire::writer::{wire_name_len, Owner, ReplyHeader, ResponseWriter, Section};
use crate::wire::{rcode, types};

impl SlowHandler for Resolver {
    fn handle(self: Arc<Self>, request: OwnedRequest) -> ReplyFuture {
        Box::pin(async move {
            let query = parse_query(&request.packet).ok()?;
            let qname = query.qname.to_ascii_lowercase();
            if let Some(zones) = &self.zones {
                self.learn_our_delegation(&zones.load(), &qname, query.qtype);
            }
            let result = match self.limits.admit(request.client.ip()) {
                Ok(in_flight) => {
                    let result = self.resolve(&qname, query.qtype).await;
                    drop(in_flight);
                    result
                }
                Err(limit) => {
                    let index = match limit {
                        ClientLimit::Address(_) => 0,
                        ClientLimit::Prefix(_) => 1,
                    };
                    self.counters.client_limited[index].fetch_add(1, Ordering::Relaxed);
                    Err(ResolveError::ClientLimit(limit))
                }
            };
            if let Err(e) = &result {
                tracing::debug!(client = %request.client, name = %crate::wire::name::to_presentation(&qname), qtype = query.qtype, error = %e, "SERVFAIL");
            }
            let (max_size, opt) = reply_limits(self.udp_max_payload, request.transport, &query);
            let mut out = vec![0u8; max_size];
            let mut writer = ResponseWriter::new(&mut out, max_size, opt);
            if let Some(nsid) = &self.nsid {
                if query.edns.is_some_and(|e| e.nsid) {
                    writer.add_nsid(nsid.as_bytes());
                }
            }
            // The cookie as the server judged it when it deferred the question
            // (a BADCOOKIE never comes here); made again now, for its timestamp.
            let (cookie, cookie_reply) = reply_cookie(
                self.server_cookies.as_ref(),
                &query,
                request.client.ip(),
                crate::wire::cookie::now,
            );
            if let Some(reply) = cookie_reply {
                writer.add_cookie(reply);
            }
            let mut header = ReplyHeader {
                id: query.id,
                opcode: query.opcode,
                rd: query.rd,
                ra: true,
                cd: query.cd,
                ..Default::default()
            };
            let kind = match &result {
                _ if writer.write_question(query.question).is_err() => {
                    header.rcode = rcode::SERVFAIL;
                    AnswerKind::Error
                }
                Ok(resolution) => {
                    header.rcode = resolution.rcode;
                    header.tc = write_resolution(
                        &mut writer,
                        resolution,
                        &qname,
                        query.edns.is_some_and(|e| e.dnssec_ok),
                    );
                    match (resolution.rcode, resolution.answer.is_empty()) {
                        (rcode::NXDOMAIN, _) => AnswerKind::NxDomain,
                        (_, true) => AnswerKind::NoData,
                        _ => AnswerKind::Answer,
                    }
                }
                Err(_) => {
                    header.rcode = rcode::SERVFAIL;
                    AnswerKind::Error
                }
            };
            let len = writer.finish(header);
            out.truncate(len);
            Some(SlowReply {
                message: out,
                outcome: Outcome {
                    route: Route::Recursive,
                    rcode: header.rcode,
                    kind,
                    qtype: query.qtype,
                    zone: None,
                    truncated: header.tc,
                    cookie,
                    wildcard: false,
                },
            })
        })
    }
}

impl Resolver {
    /// When `qname` is below a delegation in one of our zones, caches that
    /// delegation (NS and glue, as our zone has them) so the walk starts there.
    fn learn_our_delegation(&self, zones: &ZoneSet, qname: &[u8], qtype: u16) {
        let Some((ns, glue)) = our_delegation(zones, qname, qtype) else {
            return;
        };
        for g in glue {
            self.cache.insert_rrset(g.rrset, g.ttl, Rank::Glue);
        }
        self.cache.insert_rrset(ns.rrset, ns.ttl, Rank::Referral);
    }
}

/// The delegation one of our zones holds for `qname` (lowercase) / `qtype`, as our
/// referral gives it (RFC 1034 4.3.2 step 3b): the cut's NS RRset, and the A and
/// AAAA RRsets the zone has for its NS names, each with the zone's TTL. `None` when
/// the name is not ours, not below a cut, or its zone has expired (answered
/// SERVFAIL, so nothing to learn).
fn our_delegation(zones: &ZoneSet, qname: &[u8], qtype: u16) -> Option<(TtlRRset, Vec<TtlRRset>)> {
    let zone = zones.find(qname, qtype).filter(|z| !z.expired)?;
    let Lookup::Delegation(cut, node) = zone.lookup(qname, qtype) else {
        return None;
    };
    let ns = node.rrset(types::NS)?;
    let mut glue: Vec<TtlRRset> = Vec::new();
    for target in ns.additional_targets() {
        let target = target[..wire_name_len(target)].to_ascii_lowercase();
        // Only this zone's addresses (as in our referral): a name outside it is
        // not found here, though another of our zones may hold it.
        let Some(addresses) = zone.node(&target) else {
            continue;
        };
        for rtype in [types::A, types::AAAA] {
            let Some(set) = addresses.rrset(rtype) else {
                continue;
            };
            if !glue
                .iter()
                .any(|g| g.rrset.owner.as_ref() == target && g.rrset.rtype == rtype)
            {
                glue.push(cached(&target, set));
            }
        }
    }
    Some((cached(cut, ns), glue))
}

/// A zone's RRset at `owner` (lowercase), as the cache keeps it, with its TTL.
fn cached(owner: &[u8], set: &RRset) -> TtlRRset {
    TtlRRset {
        rrset: CachedRRset {
            owner: owner.into(),
            rtype: set.rtype,
            rdata: set.data.as_slice().into(),
            sigs: Box::default(),
        },
        // As for an upstream reply: no TTL above 2^31 - 1 (RFC 2181 8).
        ttl: set.ttl.min(0x7FFF_FFFF),
    }
}

/// Writes the answer and authority sections (with RRSIGs when `dnssec_ok`);
/// whether something did not fit (TC).
fn write_resolution(
    writer: &mut ResponseWriter<'_>,
    resolution: &Resolution,
    qname: &[u8],
    dnssec_ok: bool,
) -> bool {
    let sections = [
        (Section::Answer, &resolution.answer),
        (Section::Authority, &resolution.authority),
    ];
    for (section, rrsets) in sections {
        for r in rrsets.iter() {
            let owner = if r.rrset.owner.as_ref() == qname {
                Owner::Question
            } else {
                Owner::Name(&r.rrset.owner)
            };
            if r.rrset
                .write(writer, section, owner, r.ttl, dnssec_ok)
                .is_err()
            {
                return true;
            }
        }
    }
    false
}

#[cfg(test)]
mod tests;
