//! The slow path of recursive queries: the router defers a recursive question for
//! a name outside our zones from an allowed client here; the answer is resolved on
//! the async runtime and written as a reply (RA set, TTLs as they stand in the
//! cache, TC when it does not fit the client's UDP size), or SERVFAIL when the
//! question could not be resolved within its budget.

use std::sync::Arc;

use super::cache::Rank;
use super::iterator::Resolution;
use super::scrub::{classify, Classified};
use super::Resolver;
use crate::exchange::{AnswerKind, Outcome, OwnedRequest, Request, Route, SlowReply, Transport};
use crate::server::{
    reply_limits, respond, ReplyFuture, Response, Scratch, Server, SlowHandler, MAX_MESSAGE_BYTES,
};
use crate::wire::message::Message;
use crate::wire::parse_query;
use crate::wire::rcode;
use crate::wire::writer::{Owner, ReplyHeader, ResponseWriter, Section};

impl SlowHandler for Resolver {
    fn handle(self: Arc<Self>, server: Arc<Server>, request: OwnedRequest) -> ReplyFuture {
        Box::pin(async move {
            let query = parse_query(&request.packet).ok()?;
            let qname = query.qname.to_ascii_lowercase();
            self.learn_our_delegation(&server, &request, &qname, query.qtype);
            let result = self.resolve(&qname, query.qtype).await;
            if let Err(e) = &result {
                tracing::debug!(name = %crate::wire::name::to_presentation(&qname), qtype = query.qtype, error = %e, "SERVFAIL");
            }
            let (max_size, opt) = reply_limits(&server, request.transport, &query);
            let mut out = vec![0u8; max_size];
            let mut writer = ResponseWriter::new(&mut out, max_size, opt);
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
                },
            })
        })
    }
}

impl Resolver {
    /// When `qname` is below a delegation in one of our zones, caches that
    /// delegation (NS and glue, as our zone has them) so the walk starts there.
    fn learn_our_delegation(
        &self,
        server: &Server,
        request: &OwnedRequest,
        qname: &[u8],
        qtype: u16,
    ) {
        let zones = server.zones.load();
        let Some(zone) = zones.find(qname, qtype) else {
            return;
        };
        // Our own answer to the question without RD: the referral.
        let mut packet = request.packet.clone();
        if let Some(flags) = packet.get_mut(2) {
            *flags &= !0x01;
        }
        let mut out = vec![0u8; MAX_MESSAGE_BYTES];
        let mut scratch = Box::<Scratch>::default();
        let ours = Request {
            packet: &packet,
            client: request.client,
            transport: Transport::Tcp,
        };
        let Response::Reply { len, .. } = respond(server, &zones, &ours, &mut scratch, &mut out)
        else {
            return;
        };
        let Some(Ok(message)) = out.get(..len).map(Message::parse) else {
            return;
        };
        if let Classified::Referral { ns, glue, .. } =
            classify(&message, &zone.origin, qname, qtype)
        {
            for g in glue {
                self.cache.insert_rrset(g.rrset, g.ttl, Rank::Glue);
            }
            self.cache.insert_rrset(ns.rrset, ns.ttl, Rank::Referral);
        }
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
